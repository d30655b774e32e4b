/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_packet.c - the real worker path under hostile traffic.
 *
 * The harness sets the dataplane up as main.c does, on net_ring ports: two
 * link ports (the demo policy's kor-us and jpn-us) and three peer ports, two
 * workers, each worker polling one RX queue of every port (ports.c assigns
 * them), the demo policy compiled from policy/demo.yaml and built into the
 * workers' runtime policy by policy_swap.c's dp_policy_build().  Then, per
 * input, it puts frames on the link ports' RX rings and runs
 * dp_worker_iterate(), the worker loop's own body: RX burst, frame parse,
 * reassembly (reassembly.c, with its death-row handling), CoT parse,
 * marking, Hyperscan, second check, decision, forward and TX.  Whatever
 * demo.yaml says, link kor-us accepts both encodings (CoT XML and TAK
 * Protocol v1), jpn-us XML only, and peer usa has `encoding: xml`: a v1
 * message on kor-us runs the v1 decoder (head), the rest step, the second
 * check over protobuf, the XML conversion (convert_xml, its own second
 * check, fwd_payload_mbuf) and the as-received forward to jpn in one pass
 * (docs/release.md §1, §6).
 *
 * Input: a sequence of operations, each starting with an opcode byte:
 *   0 FRAME  pq len_hi len_lo first <len bytes>
 *            one frame for link port pq&1, queue (pq>>1)&1; len masked to
 *            15 bits; unless pq&4, an IPv4 UDP frame's checksum is zeroed
 *            ("none", RFC 768) so mutated payloads reach the parser; the
 *            first segment holds `first` bytes (0: all), the rest follows in
 *            SEG-byte segments.
 *   1 TRAIN  pq flags count fs_hi fs_lo nf last_hi last_lo id_hi id_lo
 *            ulen_hi ulen_lo plen_hi plen_lo first <plen bytes>
 *            `count` datagrams (1..64), ids id, id+1, ...: UDP to port 6969
 *            (with plen 0, as much of early_warning below as fits: short
 *            inputs whose mutations all go to the fragments' layout)
 *            of nf (2..32) fragments, nf-1 of fs*8 bytes and a last one of
 *            `last` (1..65535), carrying the plen bytes padded with spaces
 *            (see the TF_* flags: IPv6, checksum, which fragments, order,
 *            duplicates, overlaps, both links).  Offsets are written in the
 *            headers' 13 bits, lengths in 16: the last fragment may end
 *            past the 65,535 bytes an IP datagram can hold, as an attacker's
 *            would.  The
 *            UDP length field is ulen, or when 0 the datagram's length in
 *            16 bits; each fragment's first segment holds `first` bytes.
 *   2 POLL   n       n+1 passes of both workers
 *   3 TICK   n_hi n_lo   the TSC moves on by n (fragments time out after
 *            FRAG_CYCLES)
 * Built as fuzz_reassembly (-DFUZZ_REASSEMBLY), opcode 0 is a TRAIN too:
 * every input is fragment trains, polls and time, so that mutations go to
 * the layout of fragments, on the same worker path.
 * At the end every ring is drained by further passes, stale fragments
 * expire, and the reassembly tables are destroyed as at exit (counted).
 *
 * Checked after every pass, as a guard must hold them whatever arrives:
 * every frame sent to a peer is a sane mbuf chain whose IP (and UDP)
 * lengths describe exactly the bytes on the wire, within 65,535, and
 * whose payload, for a peer with `encoding: xml`, does not start with the
 * TAK v1 header; no worker counter runs ahead of the frames that worker
 * received, messages by encoding add up to the messages, and no more v1
 * messages were converted than arrived; the death row is empty between
 * calls.  After every input, every mempool is back where it
 * was.  Every RX segment is an external buffer of exactly its bytes,
 * malloc()ed, so a read past a segment is an ASan report.
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
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "dp.h"
#include "early_cache.h"
#include "fuzz_common.h"
#include "policy.h"
#include "policy_swap.h"
#include "ports.h"
#include "reassembly.h"
#include "tg_mapset.h"
#include "tg_names.h"
#include "worker.h"

#ifndef TG_DEMO_POLICY
#error "TG_DEMO_POLICY: the path of policy/demo.yaml"
#endif

#define N_WORKERS 2
#define N_QUEUES N_WORKERS
#define N_LINKS 2
#define N_PEERS 3
#define RING_SIZE 1024
#define SEG 2048
#define MAX_FRAME 0x7fff
#define FRAG_CYCLES 64       /* reassembly timeout, in the harness's TSC */
#define FRAG_FLOWS 64        /* per worker: small, so the table fills */
#define MAX_TRAIN 64
#define MAX_TRAIN_FRAGS 32
/* the longest train: MAX_TRAIN_FRAGS - 1 pieces of 65,528 bytes (fs's most)
 * and a last one of 65,535 (last's most) */
#define MAX_DGRAM ((MAX_TRAIN_FRAGS - 1) * 65528 + 65535)
#define NOW_MS 1700000000000ll

enum {
	TF_V6 = 1 << 0,        /* IPv6 with a fragment header, else IPv4 */
	TF_BAD_CKSUM = 1 << 1, /* the UDP checksum does not match */
	TF_NO_LAST = 1 << 2,   /* leave the last fragment out (held until timeout) */
	TF_FIRST_ONLY = 1 << 3, /* only the first fragment (a duplicate of one held) */
	TF_REVERSE = 1 << 4,   /* fragments last to first */
	TF_DUP = 1 << 5,       /* fragment 1 twice */
	TF_OVERLAP = 1 << 6,   /* fragment 1 starts 8 bytes early */
	TF_SPREAD = 1 << 7,    /* datagrams alternate between the two links */
};

struct rings {
	struct rte_ring *rx[N_QUEUES], *tx[N_QUEUES];
};

static struct rings link_rings[N_LINKS], peer_rings[N_PEERS];
static struct dp_policy *pol;
static unsigned pool_base[5];
static uint64_t tsc;
static uint64_t delivered[N_WORKERS]; /* frames put on each worker's queues */
static struct dp_counters base_cnt[N_WORKERS];

/* FUZZ_PACKET_STATS=1: what the inputs reached, printed at exit. */
static struct {
	uint64_t inputs, frames, sent, reason[TG_R_COUNT], messages, released;
	uint64_t enc_messages[COT_ENC_COUNT], converted;
} st;

static void
stats_print(void)
{
	fprintf(stderr, "fuzz_packet: inputs %llu frames %llu messages %llu sent to peers %llu\n",
		(unsigned long long)st.inputs, (unsigned long long)st.frames,
		(unsigned long long)st.messages, (unsigned long long)st.sent);
	fprintf(stderr, "fuzz_packet:   messages xml %llu takproto-v1 %llu, converted to XML %llu\n",
		(unsigned long long)st.enc_messages[COT_ENC_XML],
		(unsigned long long)st.enc_messages[COT_ENC_TAKV1],
		(unsigned long long)st.converted);
	for (unsigned i = 1; i < TG_R_COUNT; i++)
		if (st.reason[i])
			fprintf(stderr, "fuzz_packet:   %-16s %llu\n", tg_reason_name(i),
				(unsigned long long)st.reason[i]);
}

/* ---- frames as external buffers of exactly their bytes ---- */

static void
ext_free(void *addr, void *opaque)
{
	free(addr);
	free(opaque);
}

static struct rte_mbuf *
seg_new(const uint8_t *p, size_t n)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp_pool_rx);
	struct rte_mbuf_ext_shared_info *sh;
	uint8_t *buf;

	if (m == NULL)
		return NULL;
	buf = malloc(n ? n : 1);
	sh = calloc(1, sizeof(*sh));
	if (buf == NULL || sh == NULL)
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

static struct rte_mbuf *
frame_new(const uint8_t *p, size_t n, size_t first)
{
	struct rte_mbuf *head, *tail, *m;
	size_t off, k;

	if (first == 0 || first > n)
		first = n < SEG ? n : SEG;
	head = seg_new(p, first);
	if (head == NULL)
		return NULL;
	tail = head;
	for (off = first; off < n; off += k) {
		k = n - off < SEG ? n - off : SEG;
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

/* What one input may put on the wire: a bound on the time one takes. */
#define INPUT_BYTES_MAX (8u << 20)
static size_t input_bytes;

/* Put a frame on link `li`'s RX queue q (worker q polls it). */
static void
deliver(unsigned li, unsigned q, const uint8_t *p, size_t n, size_t first)
{
	struct rte_mbuf *m;

	if (input_bytes + n > INPUT_BYTES_MAX)
		return;
	input_bytes += n;
	m = frame_new(p, n, first);
	if (m == NULL)
		return;
	if (rte_ring_enqueue(link_rings[li].rx[q], m) != 0) {
		rte_pktmbuf_free(m); /* a full NIC ring drops too */
		return;
	}
	delivered[q]++;
	st.frames++;
}

/* ---- what leaves for a peer ---- */

static bool
is_v1(const uint8_t *u)
{
	return u[0] == 0xbf && u[1] == 0x01 && u[2] == 0xbf;
}

/* A frame for a peer; `xml`: the peer has `encoding: xml`, so a payload
 * (an unfragmented datagram's, or a first fragment's) never starts with the
 * TAK v1 header. */
/* A peer with sanitize steps (the demo's kor and jpn: drop __sensor, takv,
 * _flow-tags_): no whole datagram it is sent holds one of those names as a
 * tag (release.md §6).  XML copies only, and not fragments (not
 * reassembled here): the unit test, fuzz_cot's property and
 * integration/sanitize cover the rest. */
static void
check_no_dropped(struct rte_mbuf *m, uint32_t off)
{
	static const char *const names[] = {"__sensor", "takv", "_flow-tags_"};
	static uint8_t buf[65536];
	uint32_t n = m->pkt_len - off;
	const uint8_t *pl = rte_pktmbuf_read(m, off, n, buf);

	FUZZ_CHECK(pl != NULL);
	if (n >= 3 && is_v1(pl))
		return; /* raw protobuf strings may hold '<': the second check reads v1 */
	for (const uint8_t *q = pl; (q = memchr(q, '<', (size_t)(pl + n - q))) != NULL; q++)
		for (unsigned i = 0; i < 3; i++) {
			size_t k = strlen(names[i]);

			if ((size_t)(pl + n - q) > k + 1 && memcmp(q + 1, names[i], k) == 0)
				FUZZ_CHECK(strchr(" \t\r\n/>", q[1 + k]) == NULL || q[1 + k] == 0);
		}
}

static void
check_sent(struct rte_mbuf *m, bool xml, bool sanitized)
{
	const char *why = NULL;
	uint8_t hdr[96]; /* Ethernet, VLAN, IPv6, fragment header, UDP, 3 bytes */
	const uint8_t *p;
	uint32_t l2 = 14, segsum = 0;
	uint16_t etype;

	FUZZ_CHECK(rte_mbuf_check(m, 1, &why) == 0);
	for (const struct rte_mbuf *s = m; s; s = s->next)
		segsum += s->data_len;
	FUZZ_CHECK(segsum == m->pkt_len);
	p = rte_pktmbuf_read(m, 0, RTE_MIN(m->pkt_len, (uint32_t)sizeof(hdr)), hdr);
	FUZZ_CHECK(p != NULL && m->pkt_len >= 14);
	etype = (uint16_t)(p[12] << 8 | p[13]);
	if (etype == RTE_ETHER_TYPE_VLAN) {
		etype = (uint16_t)(p[16] << 8 | p[17]);
		l2 = 18;
	}
	if (etype == RTE_ETHER_TYPE_IPV4) {
		const struct rte_ipv4_hdr *ip = (const void *)(p + l2);
		uint32_t tot = rte_be_to_cpu_16(ip->total_length);

		FUZZ_CHECK(m->pkt_len >= l2 + 20);
		FUZZ_CHECK(l2 + tot == m->pkt_len);
		if (!rte_ipv4_frag_pkt_is_fragmented(ip)) {
			const struct rte_udp_hdr *u = (const void *)(p + l2 + 20);

			FUZZ_CHECK(tot >= 28 && rte_be_to_cpu_16(u->dgram_len) + 20u == tot);
			if (sanitized)
				check_no_dropped(m, l2 + 28);
		}
		if ((rte_be_to_cpu_16(ip->fragment_offset) & RTE_IPV4_HDR_OFFSET_MASK) == 0 &&
		    m->pkt_len >= l2 + 28 + 3)
			FUZZ_CHECK(!xml || !is_v1(p + l2 + 28));
	} else {
		const struct rte_ipv6_hdr *ip6 = (const void *)(p + l2);

		FUZZ_CHECK(etype == RTE_ETHER_TYPE_IPV6 && m->pkt_len >= l2 + 40);
		FUZZ_CHECK(l2 + 40 + rte_be_to_cpu_16(ip6->payload_len) == m->pkt_len);
		if (ip6->proto == IPPROTO_UDP) {
			FUZZ_CHECK(m->pkt_len >= l2 + 48);
			const struct rte_udp_hdr *u = (const void *)(p + l2 + 40);

			FUZZ_CHECK(rte_be_to_cpu_16(u->dgram_len) ==
				   rte_be_to_cpu_16(ip6->payload_len));
			if (sanitized)
				check_no_dropped(m, l2 + 48);
			if (m->pkt_len >= l2 + 48 + 3)
				FUZZ_CHECK(!xml || !is_v1(p + l2 + 48));
		} else if (ip6->proto == IPPROTO_FRAGMENT && m->pkt_len >= l2 + 56 + 3 &&
			   (p[l2 + 42] << 8 | (p[l2 + 43] & 0xf8)) == 0) {
			FUZZ_CHECK(!xml || !is_v1(p + l2 + 56));
		}
	}
	st.sent++;
	rte_pktmbuf_free(m);
}

static void
drain_peers(void)
{
	void *m;

	for (unsigned i = 0; i < N_PEERS; i++)
		for (unsigned q = 0; q < N_QUEUES; q++)
			while (rte_ring_dequeue(peer_rings[i].tx[q], &m) == 0)
				check_sent(m, pol->peers[i].encoding == TG_PEER_ENC_XML,
					   pol->peers[i].sanitize != 0);
	/* what a link port was sent back (nothing, in the demo policy) */
	for (unsigned i = 0; i < N_LINKS; i++)
		for (unsigned q = 0; q < N_QUEUES; q++)
			while (rte_ring_dequeue(link_rings[i].tx[q], &m) == 0)
				check_sent(m, false, false);
}

/* No counter of a worker runs ahead of what it received: a counter that
 * does was written by something else (the death-row overflow of issue 11
 * turned counters into pointers). */
static void
check_counters(void)
{
	for (unsigned wi = 0; wi < N_WORKERS; wi++) {
		const struct dp_counters *c = &dp_workers[wi]->cnt, *b = &base_cnt[wi];
		uint64_t rx = c->rx_packets - b->rx_packets;

		FUZZ_CHECK(dp_workers[wi]->death_row.cnt == 0);
		FUZZ_CHECK(rx <= delivered[wi]);
		FUZZ_CHECK(c->messages - b->messages <= rx);
		FUZZ_CHECK(c->enc_messages[COT_ENC_XML] - b->enc_messages[COT_ENC_XML] +
				   c->enc_messages[COT_ENC_TAKV1] - b->enc_messages[COT_ENC_TAKV1] ==
			   c->messages - b->messages);
		FUZZ_CHECK(c->converted - b->converted <=
			   c->enc_messages[COT_ENC_TAKV1] - b->enc_messages[COT_ENC_TAKV1]);
		for (unsigned r = 0; r < TG_R_COUNT; r++)
			FUZZ_CHECK(c->reason[r] - b->reason[r] <= rx);
	}
}

static void
pass(void)
{
	for (unsigned wi = 0; wi < N_WORKERS; wi++)
		dp_worker_iterate(dp_workers[wi], pol, tsc, NOW_MS + (int64_t)tsc);
	tsc++;
	drain_peers();
	check_counters();
}

static bool
rings_empty(void)
{
	for (unsigned i = 0; i < N_LINKS; i++)
		for (unsigned q = 0; q < N_QUEUES; q++)
			if (rte_ring_count(link_rings[i].rx[q]))
				return false;
	return true;
}

/* ---- datagrams and their fragments ---- */

static uint16_t
csum_add(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint8_t dgram[MAX_DGRAM];

/* A message the demo policy releases to every peer (as in
 * tests/integration/test_udp_checksum.sh). */
static const char early_warning[] =
	"<event version=\"2.0\" uid=\"FUZZ-1\" type=\"a-h-A-W-M-S-S\" how=\"m-r\" "
	"time=\"2024-05-01T12:00:00.000Z\" start=\"2024-05-01T12:00:00.000Z\" "
	"stale=\"2024-05-01T12:00:30.000Z\" access=\"S//REL TO USA, KOR, JPN\">"
	"<point lat=\"38.9\" lon=\"127.0\" hae=\"25000.0\" ce=\"500.0\" le=\"800.0\"/>"
	"<detail><track course=\"135.5\" speed=\"1700.0\"/><remarks>fuzz</remarks></detail>"
	"</event>";
static uint8_t frame[65536 + 128];

/* One datagram of `ulen` UDP bytes (header included) as nf fragments, all
 * but the last of fs bytes, put on link li queue q. */
static void
train_one(unsigned li, unsigned q, unsigned flags, uint32_t ulen, uint32_t fs, uint32_t nf,
	  uint32_t id, size_t first)
{
	static const uint8_t src4[4] = {10, 1, 0, 1}, dst4[4] = {10, 1, 0, 2};
	static const uint8_t src6[16] = {0xfd, 0, 0, 0x10, [15] = 1};
	static const uint8_t dst6[16] = {0xfd, 0, 0, 0x20, [15] = 1};
	bool v6 = flags & TF_V6;
	uint32_t order[MAX_TRAIN_FRAGS + 1], n = 0;

	for (uint32_t i = 0; i < nf; i++)
		order[n++] = flags & TF_REVERSE ? nf - 1 - i : i;
	if (flags & TF_FIRST_ONLY) {
		order[0] = 0;
		n = 1;
	} else if (flags & TF_NO_LAST) {
		n = 0;
		for (uint32_t i = 0; i < nf; i++)
			if ((flags & TF_REVERSE ? nf - 1 - i : i) != nf - 1)
				order[n++] = flags & TF_REVERSE ? nf - 1 - i : i;
	}
	if (flags & TF_DUP)
		order[n++] = 1;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t fi = order[k];
		uint32_t off = fi * fs, len = fi == nf - 1 ? ulen - off : fs;
		bool more = fi != nf - 1;
		uint8_t *f = frame;
		size_t hl;

		if ((flags & TF_OVERLAP) && fi == 1)
			off -= 8;
		memset(f, 0, 14);
		f[0] = 2;
		f[6] = 2;
		f[11] = 1;
		if (!v6) {
			f[12] = 0x08;
			f += 14;
			memset(f, 0, 20);
			f[0] = 0x45;
			f[2] = (uint8_t)((20 + len) >> 8);
			f[3] = (uint8_t)(20 + len);
			f[4] = (uint8_t)(id >> 8);
			f[5] = (uint8_t)id;
			f[6] = (uint8_t)((more ? 0x20 : 0) | ((off / 8) >> 8 & 0x1f));
			f[7] = (uint8_t)(off / 8);
			f[8] = 64;
			f[9] = IPPROTO_UDP;
			memcpy(f + 12, src4, 4);
			memcpy(f + 16, dst4, 4);
			hl = 14 + 20;
		} else {
			f[12] = 0x86;
			f[13] = 0xdd;
			f += 14;
			memset(f, 0, 48);
			f[0] = 0x60;
			f[4] = (uint8_t)((8 + len) >> 8);
			f[5] = (uint8_t)(8 + len);
			f[6] = IPPROTO_FRAGMENT;
			f[7] = 64;
			memcpy(f + 8, src6, 16);
			memcpy(f + 24, dst6, 16);
			f[40] = IPPROTO_UDP;
			f[42] = (uint8_t)((off / 8) >> 5);
			f[43] = (uint8_t)((off / 8) << 3 | (more ? 1 : 0));
			f[44] = (uint8_t)(id >> 24);
			f[45] = (uint8_t)(id >> 16);
			f[46] = (uint8_t)(id >> 8);
			f[47] = (uint8_t)id;
			hl = 14 + 48;
		}
		memcpy(frame + hl, dgram + off, len);
		deliver(li, q, frame, hl + len, first);
	}
}

/* TRAIN: see the top of the file.  Returns the bytes it consumed. */
static size_t
op_train(const uint8_t *p, size_t left)
{
	unsigned pq, flags, count;
	uint32_t fs, nf, last, tl, id, ulen_field, plen, ulen, l16;
	const uint8_t *payload;
	size_t first, consumed;
	uint16_t ck;

	if (left < 15)
		return left;
	pq = p[0];
	flags = p[1];
	count = (p[2] % MAX_TRAIN) + 1;
	fs = ((uint32_t)(p[3] << 8 | p[4]) & 0x1fff) * 8;
	if (fs < 8)
		fs = 8;
	nf = RTE_MAX(p[5] % (MAX_TRAIN_FRAGS + 1), 2u);
	last = RTE_MAX((uint32_t)(p[6] << 8 | p[7]), 1u);
	id = (uint32_t)(p[8] << 8 | p[9]);
	ulen_field = (uint32_t)(p[10] << 8 | p[11]);
	plen = (uint32_t)(p[12] << 8 | p[13]);
	first = p[14];
	p += 15;
	left -= 15;
	if (plen > left)
		plen = (uint32_t)left;
	payload = p;
	consumed = 15 + plen;
	ulen = (nf - 1) * fs + last;
	if (plen == 0) { /* as much of the warning as the layout holds */
		payload = (const uint8_t *)early_warning;
		plen = RTE_MIN((uint32_t)sizeof(early_warning) - 1, ulen - 8);
	}
	if (ulen < 8 + plen) { /* the payload decides: fragments of fs */
		ulen = 8 + plen;
		nf = RTE_MAX((ulen + fs - 1) / fs, 2u);
		if (nf > MAX_TRAIN_FRAGS || (nf - 1) * fs >= ulen)
			return consumed;
	}
	tl = ulen - 8;
	/* The UDP datagram: ports 40000 -> 6969, its length as a sender
	 * writing 16 bits would (or as the input says), the payload. */
	l16 = ulen_field ? ulen_field : (ulen & 0xffff);
	dgram[0] = 0x9c;
	dgram[1] = 0x40;
	dgram[2] = 0x1b;
	dgram[3] = 0x39;
	dgram[4] = (uint8_t)(l16 >> 8);
	dgram[5] = (uint8_t)l16;
	dgram[6] = dgram[7] = 0;
	memcpy(dgram + 8, payload, plen);
	memset(dgram + 8 + plen, ' ', tl - plen);
	/* IPv4: no checksum (0).  IPv6: the checksum a receiver computes over
	 * what the (16-bit) IP payload length says is the datagram. */
	if (flags & TF_V6) {
		uint8_t ph[40] = {0xfd, 0, 0, 0x10, [15] = 1, 0xfd, 0, 0, 0x20, [31] = 1};
		uint32_t vis = ulen & 0xffff;

		ph[34] = (uint8_t)(vis >> 8);
		ph[35] = (uint8_t)vis;
		ph[39] = IPPROTO_UDP;
		ck = (uint16_t)~csum_add(csum_add(0, ph, 40), dgram, RTE_MIN(vis, ulen));
		if (ck == 0)
			ck = 0xffff;
		if (flags & TF_BAD_CKSUM)
			ck ^= 0x0100;
		dgram[6] = (uint8_t)(ck >> 8);
		dgram[7] = (uint8_t)ck;
	} else if (flags & TF_BAD_CKSUM) {
		dgram[7] = 1;
	}
	for (unsigned i = 0; i < count; i++) {
		unsigned li = (pq & 1) ^ ((flags & TF_SPREAD) ? (i & 1) : 0);

		train_one(li, (pq >> 1) & 1, flags, ulen, fs, nf, (id + i) & 0xffff, first);
	}
	return consumed;
}

/* An IPv4 UDP frame with its checksum zeroed in buf; any other as it is. */
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
		return p;
	memcpy(buf, p, n);
	buf[off + ihl + 6] = 0;
	buf[off + ihl + 7] = 0;
	return buf;
}

/* ---- set-up, as main.c does it ---- */

static void
eal_exit(void)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(dir);
}

static void
ring_port(const char *name, struct rings *r)
{
	char rn[RTE_RING_NAMESIZE];

	for (unsigned q = 0; q < N_QUEUES; q++) {
		snprintf(rn, sizeof(rn), "%s_rx%u", name, q);
		r->rx[q] = rte_ring_create(rn, RING_SIZE, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(rn, sizeof(rn), "%s_tx%u", name, q);
		r->tx[q] = rte_ring_create(rn, RING_SIZE * 4, SOCKET_ID_ANY,
					   RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (r->rx[q] == NULL || r->tx[q] == NULL)
			abort();
	}
	if (rte_eth_from_rings(name, r->rx, N_QUEUES, r->tx, N_QUEUES, SOCKET_ID_ANY) < 0)
		abort();
}

static void
setup(void)
{
	/* the ring PMD names its ports net_ring_<name> */
	static const char *link_dev[N_LINKS] = {"kor", "jpn"};
	static const char *peer_dev[N_PEERS] = {"peer0", "peer1", "peer2"};
	char prefix[64];
	char *argv[] = {
		"fuzz_packet", "-l", "0", "--no-huge", "--no-pci", "-m", "512", "--no-shconf",
		"--file-prefix", prefix, "--log-level=1", "--no-telemetry", NULL,
	};
	struct pol_policy *pp = NULL;
	struct pol_errors errs = {0};
	struct tg_snapshot snap;
	char err[512];

	snprintf(prefix, sizeof(prefix), "fuzzpkt-%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0)
		abort();
	atexit(eal_exit);
	for (unsigned i = 0; i < N_LINKS; i++)
		ring_port(link_dev[i], &link_rings[i]);
	for (unsigned i = 0; i < N_PEERS; i++)
		ring_port(peer_dev[i], &peer_rings[i]);

	/* main.c's order: workers, ports and pools, queues, tables */
	dp_cfg.nb_rxd = dp_cfg.nb_txd = 64;
	dp_cfg.frag_max_flows = FRAG_FLOWS;
	dp_cfg.audit_level = DP_AUDIT_OFF;
	dp_tx_drain_cycles = UINT64_MAX; /* flush per burst, as with an idle clock */
	for (unsigned i = 0; i < N_WORKERS; i++) {
		dp_workers[i] = rte_zmalloc("fuzz_worker", sizeof(struct dp_worker),
					    RTE_CACHE_LINE_SIZE);
		if (dp_workers[i] == NULL)
			abort();
		dp_workers[i]->idx = i;
		snprintf(err, sizeof(err), "fz_mkc_%u", i);
		dp_workers[i]->mk_cache = mk_cache_create(err, DP_MK_CACHE_ENTRIES, SOCKET_ID_ANY);
		if (dp_workers[i]->mk_cache == NULL)
			abort();
		snprintf(err, sizeof(err), "fz_ec_%u", i);
		dp_workers[i]->early_cache = early_cache_create(err, DP_EARLY_CACHE_ENTRIES,
								SOCKET_ID_ANY);
		if (dp_workers[i]->early_cache == NULL)
			abort();
	}
	dp_n_workers = N_WORKERS;
	if (dp_ports_init(N_WORKERS) < 0)
		abort();
	dp_ports_assign_rxq();

	/* The demo policy, on these ports, with the largest message a policy
	 * may allow. */
	if (pol_load_file(TG_DEMO_POLICY, &pp, &errs) < 0 || pol_compile(pp, &errs) < 0) {
		pol_errors_print(&errs, stderr);
		abort();
	}
	FUZZ_CHECK(pp->hdr.n_links == N_LINKS && pp->hdr.n_peers == N_PEERS);
	/* the encodings (see the top): set here, not left to demo.yaml */
	pp->links[0].encodings = TG_ENC_F_ALL;
	pp->links[1].encodings = TG_ENC_F_XML;
	pp->peers[0].encoding = TG_PEER_ENC_AS_RECEIVED;
	pp->peers[1].encoding = TG_PEER_ENC_AS_RECEIVED;
	pp->peers[2].encoding = TG_PEER_ENC_XML;
	for (unsigned i = 0; i < N_LINKS; i++)
		snprintf(pp->links[i].dev, TG_DEV_MAX, "net_ring_%s", link_dev[i]);
	for (unsigned i = 0; i < N_PEERS; i++)
		snprintf(pp->peers[i].dev, TG_DEV_MAX, "net_ring_%s", peer_dev[i]);
	pp->hdr.max_message_bytes = 65507;
	pol_as_snapshot(pp, 1, &snap);
	pol = dp_policy_build(&snap, err, sizeof(err));
	if (pol == NULL) {
		fprintf(stderr, "fuzz_packet: %s\n", err);
		abort();
	}
	pol_free(pp);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* What the EAL, the pools and the policy allocate lives as long as
	 * the process. */
	__lsan_disable();
	setup();
	__lsan_enable();
	pool_base[0] = rte_mempool_in_use_count(dp_pool_rx);
	pool_base[1] = rte_mempool_in_use_count(dp_pool_hdr);
	pool_base[2] = rte_mempool_in_use_count(dp_pool_indirect);
	pool_base[3] = dp_pool_linear ? rte_mempool_in_use_count(dp_pool_linear) : 0;
	pool_base[4] = rte_mempool_in_use_count(dp_pool_copy);
	if (getenv("FUZZ_PACKET_STATS") != NULL)
		atexit(stats_print);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *e = data + size;
	static uint8_t fixed[MAX_FRAME + 1];

	for (unsigned wi = 0; wi < N_WORKERS; wi++) {
		FUZZ_CHECK(dp_reasm_create(dp_workers[wi], FRAG_FLOWS, FRAG_CYCLES,
					   SOCKET_ID_ANY) == 0);
		base_cnt[wi] = dp_workers[wi]->cnt;
		delivered[wi] = 0;
	}
	st.inputs++;
	input_bytes = 0;
	while (p < e) {
		unsigned op = *p++ % 4;
#ifdef FUZZ_REASSEMBLY
		if (op == 0)
			op = 1; /* fuzz_reassembly: trains only */
#endif
		size_t left = (size_t)(e - p), n;

		switch (op) {
		case 0: /* FRAME */
			if (left < 4) {
				p = e;
				break;
			}
			n = ((size_t)p[1] << 8 | p[2]) & MAX_FRAME;
			if (n > left - 4)
				n = left - 4;
			deliver(p[0] & 1, (p[0] >> 1) & 1,
				p[0] & 4 ? p + 4 : checksum_none(p + 4, n, fixed), n, p[3]);
			p += 4 + n;
			break;
		case 1: /* TRAIN */
			p += op_train(p, left);
			break;
		case 2: /* POLL */
			n = left ? (size_t)*p++ + 1 : 1;
			while (n--)
				pass();
			break;
		case 3: /* TICK */
			if (left >= 2)
				tsc += (uint64_t)(p[0] << 8 | p[1]);
			p += left >= 2 ? 2 : left;
			break;
		}
	}
	/* the rest of the traffic, then what the worker and main.c do last */
	for (unsigned i = 0; i < 4 * RING_SIZE / DP_BURST && !rings_empty(); i++)
		pass();
	FUZZ_CHECK(rings_empty());
	for (unsigned wi = 0; wi < N_WORKERS; wi++) {
		dp_reasm_expire(dp_workers[wi], tsc);
		dp_reasm_destroy(dp_workers[wi]);
	}
	check_counters();
	for (unsigned wi = 0; wi < N_WORKERS; wi++) {
		const struct dp_counters *c = &dp_workers[wi]->cnt;

		st.messages += c->messages - base_cnt[wi].messages;
		for (unsigned e = 0; e < COT_ENC_COUNT; e++)
			st.enc_messages[e] += c->enc_messages[e] - base_cnt[wi].enc_messages[e];
		st.converted += c->converted - base_cnt[wi].converted;
		for (unsigned r = 0; r < TG_R_COUNT; r++)
			st.reason[r] += c->reason[r] - base_cnt[wi].reason[r];
	}
	FUZZ_CHECK(rte_mempool_in_use_count(dp_pool_rx) == pool_base[0]);
	FUZZ_CHECK(rte_mempool_in_use_count(dp_pool_hdr) == pool_base[1]);
	FUZZ_CHECK(rte_mempool_in_use_count(dp_pool_indirect) == pool_base[2]);
	FUZZ_CHECK(!dp_pool_linear || rte_mempool_in_use_count(dp_pool_linear) == pool_base[3]);
	FUZZ_CHECK(rte_mempool_in_use_count(dp_pool_copy) == pool_base[4]);
	return 0;
}
