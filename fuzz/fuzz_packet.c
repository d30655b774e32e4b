/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_packet.c - the dataplane's path from a raw frame to a decision:
 * Ethernet/VLAN/IPv4/IPv6/UDP and IP reassembly (dataplane/pkt_parse.c, with
 * DPDK's rte_ip_frag), then, on a message, the CoT parser and the marking
 * resolution, as dataplane/worker.c process_frame() does.
 *
 * Input: a sequence of frames, each
 *     len_hi len_lo seg  <len bytes>
 * len is masked to 14 bits (the last frame may be shorter than announced);
 * unless len's top bit is set, an IPv4 UDP frame's checksum is zeroed
 * ("none", RFC 768) before parsing, so that mutated payloads still get past
 * pkt_parse.c's checksum check to the parser behind it (with the bit set,
 * the checksum is left as it is and verified);
 * seg = 0 puts the frame in one mbuf, else the first segment holds `seg`
 * bytes and the rest follows in segments of FRAG_SEG bytes.  Frame i
 * arrives at "TSC" i; the reassembly table times a datagram out after
 * MAX_CYCLES, so timeouts are reachable too.
 *
 * Every segment is an mbuf with an external buffer of exactly its bytes,
 * malloc()ed: a read past the end of a segment is an ASan report, and a
 * leaked mbuf is both a mempool count mismatch (checked after every input:
 * the pool must be back to where it was) and an LSan report.
 *
 * The EAL is initialised once (no hugepages, no PCI, in-memory); the
 * reassembly table is created per input and destroyed at its end so that no
 * state carries over from one input to the next.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>

#include <sanitizer/lsan_interface.h>

#include <rte_eal.h>
#include <rte_ip_frag.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "cot_parse.h"
#include "dp.h"
#include "fuzz_common.h"
#include "marking.h"
#include "pkt_parse.h"

#define POOL_SIZE 16383
#define FRAG_SEG 1024
#define MAX_FRAME 0x3fff
#define MAX_CYCLES 16
#define FRAG_BUCKETS 4
#define FRAG_BUCKET_ENTRIES 4
#define FRAG_MAX_FLOWS 16
#define MAX_MESSAGE_BYTES 65507 /* the most a policy allows */

static struct rte_mempool *pool;
static struct dp_worker *w;
static struct tg_link demo_link;
static struct tg_slot_hdr hdr;
static unsigned pool_base; /* in use before any input */

/* FUZZ_PACKET_STATS=1: what the inputs reached, printed at exit (to check
 * that a corpus gets through reassembly and into the CoT parser). */
static struct {
	uint64_t frames, held, reassembled, messages, cot_ok, marking_ok;
	uint64_t reason[TG_R_COUNT];
} st;

static void
stats_print(void)
{
	fprintf(stderr,
		"fuzz_packet: frames %llu held %llu messages %llu (reassembled %llu) cot_ok %llu "
		"marking_ok %llu\n",
		(unsigned long long)st.frames, (unsigned long long)st.held,
		(unsigned long long)st.messages, (unsigned long long)st.reassembled,
		(unsigned long long)st.cot_ok, (unsigned long long)st.marking_ok);
	for (unsigned i = 1; i < TG_R_COUNT; i++)
		if (st.reason[i])
			fprintf(stderr, "fuzz_packet:   reason %u: %llu\n", i,
				(unsigned long long)st.reason[i]);
}

static void
ext_free(void *addr, void *opaque)
{
	free(addr);
	free(opaque);
}

static struct rte_mbuf *
seg_new(const uint8_t *p, size_t n)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_mbuf_ext_shared_info *sh;
	uint8_t *buf;

	if (m == NULL)
		return NULL;
	buf = malloc(n);
	sh = calloc(1, sizeof(*sh));
	if ((buf == NULL && n) || sh == NULL)
		abort();
	if (n)
		memcpy(buf, p, n);
	sh->free_cb = ext_free;
	sh->fcb_opaque = sh;
	rte_mbuf_ext_refcnt_set(sh, 1);
	rte_pktmbuf_attach_extbuf(m, buf, RTE_BAD_IOVA, (uint16_t)n, sh);
	m->data_len = (uint16_t)n;
	m->pkt_len = (uint32_t)n;
	return m;
}

/* The frame as a chain: first segment `first` bytes (0: all), then FRAG_SEG. */
static struct rte_mbuf *
frame_new(const uint8_t *p, size_t n, size_t first)
{
	struct rte_mbuf *head, *tail, *m;
	size_t off, k;

	if (first == 0 || first > n)
		first = n;
	head = seg_new(p, first);
	if (head == NULL)
		return NULL;
	tail = head;
	for (off = first; off < n; off += k) {
		k = n - off < FRAG_SEG ? n - off : FRAG_SEG;
		m = seg_new(p + off, k);
		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		tail->next = m;
		tail = m;
		head->nb_segs++;
		head->pkt_len += (uint32_t)k;
	}
	return head;
}

static void
free_death_row(void)
{
	FUZZ_CHECK(w->death_row.cnt <= RTE_IP_FRAG_DEATH_ROW_MBUF_LEN);
	rte_ip_frag_free_death_row(&w->death_row, 0);
	FUZZ_CHECK(w->death_row.cnt == 0);
}

/* --no-shconf leaves only an empty runtime directory behind: remove it. */
static void
eal_exit(void)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(dir);
}

static void
eal_init(void)
{
	char prefix[64];
	char *argv[] = {
		"fuzz_packet", "-l", "0", "--no-huge", "--no-pci", "-m", "256", "--no-shconf",
		"--file-prefix", prefix, "--log-level=1", "--no-telemetry", NULL,
	};
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;

	snprintf(prefix, sizeof(prefix), "fuzzpkt-%d", (int)getpid());
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "fuzz_packet: rte_eal_init failed\n");
		abort();
	}
	atexit(eal_exit);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct tg_marking_err err;
	const char *dm = "SECRET//REL TO USA, KOR";

	(void)argc;
	(void)argv;
	/* What the EAL and the pool allocate lives as long as the process. */
	__lsan_disable();
	eal_init();
	pool = rte_pktmbuf_pool_create("fuzz_pkt", POOL_SIZE, 0, 0, 0, SOCKET_ID_ANY);
	w = rte_zmalloc("fuzz_worker", sizeof(*w), RTE_CACHE_LINE_SIZE);
	__lsan_enable();
	if (pool == NULL || w == NULL) {
		fprintf(stderr, "fuzz_packet: cannot create the mbuf pool or the worker\n");
		abort();
	}
	pool_base = rte_mempool_in_use_count(pool);
	if (getenv("FUZZ_PACKET_STATS") != NULL)
		atexit(stats_print);

	/* policy/demo.yaml's kor-us link, over the nations of the demo peers */
	memcpy(hdr.nations[0], "KOR", 4);
	memcpy(hdr.nations[1], "JPN", 4);
	memcpy(hdr.nations[2], "USA", 4);
	memcpy(hdr.nations[3], "GBR", 4);
	hdr.n_nations = 4;
	strcpy(hdr.groups[0].name, "FVEY");
	hdr.groups[0].mask = 0xc;
	strcpy(hdr.groups[1].name, "TRILAT");
	hdr.groups[1].mask = 0x7;
	hdr.n_groups = 2;
	hdr.max_message_bytes = MAX_MESSAGE_BYTES;
	strcpy(demo_link.name, "kor-us");
	strcpy(demo_link.dev, "net_pcap0");
	demo_link.udp_ports[0] = 6969;
	demo_link.udp_ports[1] = 4242;
	demo_link.n_udp_ports = 2;
	demo_link.has_default_marking = 1;
	strcpy(demo_link.default_marking_text, dm);
	if (tg_marking_parse_ex(dm, strlen(dm), &hdr, TG_MK_ACCESS | TG_MK_STRICT,
				&demo_link.default_marking, &err) < 0)
		abort();
	return 0;
}

/* An IPv4 UDP frame (whole or a first fragment) with its UDP checksum
 * zeroed in buf; any other frame as it is. */
static const uint8_t *
checksum_none(const uint8_t *p, size_t n, uint8_t *buf)
{
	size_t off = 14, ihl;
	unsigned etype;

	if (n < 14)
		return p;
	etype = (unsigned)p[12] << 8 | p[13];
	if (etype == 0x8100) {
		if (n < 18)
			return p;
		etype = (unsigned)p[16] << 8 | p[17];
		off = 18;
	}
	if (etype != 0x0800 || n < off + 20 || (p[off] >> 4) != 4 || p[off + 9] != 17)
		return p;
	ihl = (size_t)(p[off] & 0x0f) * 4;
	if (ihl < 20 || n < off + ihl + 8 || (p[off + 6] & 0x1f) != 0 || p[off + 7] != 0)
		return p; /* not a first fragment: no UDP header here */
	memcpy(buf, p, n);
	buf[off + ihl + 6] = 0;
	buf[off + ihl + 7] = 0;
	return buf;
}

/* After a message: what worker.c process_frame() does up to classification. */
static void
message(struct rte_mbuf *m, const struct dp_pkt *pk)
{
	const uint8_t *pl;
	struct tg_marking mk;
	enum cot_err ce;
	const struct cot_event *ev = &w->ev;

	FUZZ_CHECK(pk->ipv == 4 || pk->ipv == 6);
	FUZZ_CHECK(pk->l3_off < pk->payload_off);
	FUZZ_CHECK((uint64_t)pk->payload_off + pk->payload_len <= m->pkt_len);
	if (pk->payload_len > hdr.max_message_bytes)
		return; /* too_big */
	pl = rte_pktmbuf_read(m, pk->payload_off, pk->payload_len, w->linbuf);
	FUZZ_CHECK(pl != NULL || pk->payload_len == 0);
	if (pl == NULL)
		return;
	fuzz_touch(pl, pk->payload_len);
	ce = cot_parse(pl, pk->payload_len, &w->ev);
	FUZZ_CHECK((unsigned)ce < COT_E_COUNT);
	if (ce != COT_OK)
		return;
	st.cot_ok++;
	if (tg_marking_resolve(ev->access.p, ev->access.len, ev->caveat.p, ev->caveat.len,
			       ev->releasable_to.p, ev->releasable_to.len,
			       demo_link.has_default_marking ? &demo_link.default_marking : NULL, &hdr,
			       &mk) < 0)
		return; /* bad_marking */
	st.marking_ok++;
	FUZZ_CHECK((mk.rel_mask & ~UINT64_C(0xf)) == 0);
	if (mk.noforn)
		FUZZ_CHECK((mk.rel_mask & ~UINT64_C(0x4)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *e = data + size;
	uint64_t tsc = 0;
	unsigned burst = 0;

	w->frag_tbl = rte_ip_frag_table_create(FRAG_BUCKETS, FRAG_BUCKET_ENTRIES, FRAG_MAX_FLOWS,
					       MAX_CYCLES, SOCKET_ID_ANY);
	FUZZ_CHECK(w->frag_tbl != NULL);
	memset(&w->death_row, 0, sizeof(w->death_row));

	while (e - p >= 3) {
		size_t n = (((size_t)p[0] << 8) | p[1]) & MAX_FRAME;
		bool verify = (p[0] & 0x80) != 0;
		size_t first = p[2];
		static uint8_t fixed[MAX_FRAME + 1];
		struct rte_mbuf *m, *m0;
		struct dp_pkt pk;
		int rc;

		p += 3;
		if (n > (size_t)(e - p))
			n = (size_t)(e - p);
		m = frame_new(verify ? p : checksum_none(p, n, fixed), n, first);
		p += n;
		if (m == NULL)
			break; /* pool exhausted: the input ends here */
		memset(&pk, 0, sizeof(pk));
		m0 = m;
		st.frames++;
		rc = dp_pkt_parse(w, &demo_link, &m, ++tsc, true, &pk);
		if (rc == TG_R_RELEASED) {
			st.messages++;
			if (m != m0 || m->nb_segs > 1 + n / FRAG_SEG + (first != 0))
				st.reassembled++;
			message(m, &pk);
			rte_pktmbuf_free(m);
		} else if (rc != DP_PKT_HELD) {
			FUZZ_CHECK(rc > 0 && rc < TG_R_COUNT);
			st.reason[rc]++;
			rte_pktmbuf_free(m);
		} else {
			st.held++;
		}
		/* worker.c empties the death row once per RX burst */
		if (++burst == DP_BURST) {
			free_death_row();
			burst = 0;
		}
	}
	free_death_row();
	/* time everything left out, as worker.c does from time to time */
	rte_ip_frag_table_del_expired_entries(w->frag_tbl, &w->death_row, tsc + MAX_CYCLES + 1);
	free_death_row();
	rte_ip_frag_table_destroy(w->frag_tbl);
	w->frag_tbl = NULL;
	if (rte_mempool_in_use_count(pool) != pool_base) {
		fprintf(stderr, "fuzz_packet: mbuf leak: %u in use, %u before the input\n",
			rte_mempool_in_use_count(pool), pool_base);
		abort();
	}
	return 0;
}
