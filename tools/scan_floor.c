/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scan_floor - the scan floor of issue 13: one Hyperscan pass over every
 * message payload with one database of every pattern of the policy.
 *
 *   scan_floor --policy FILE --pcap FILE [--link NAME] [--seconds S]
 *              [--classified] [--json]
 *
 * Loads the policy file as tgctl does (ctrl/'s pol_load_file, the tg_policy
 * library tgctl and the unit tests link), takes every rule that is not a
 * combination, in every scope and including operand-only rules, and compiles
 * their expressions with their own flags (caseless, dotall, multiline,
 * singlematch; never HS_FLAG_QUIET: every match reaches the callback) into
 * ONE block-mode database for this host.  Then it extracts the UDP payloads
 * the named link accepts from the pcap (Ethernet, one 802.1Q tag,
 * IPv4/IPv6, fragments reassembled, UDP to the link's ports, at most
 * max_message_bytes: the same extraction as tools/scan_bench.c, copied) and
 * scans each whole payload once per pass, in a loop, for --seconds.
 *
 * With --classified only the payloads that parse (cot_parse) and whose
 * marking resolves are scanned: the messages tools/scan_bench scans.
 * Without it every payload is: "one Hyperscan pass over every payload".
 *
 * It reports messages/s, the pcap's frames/s as if one scan per message
 * were the only cost of consuming it, and TSC cycles per message, like
 * scan_bench (--json: one object; tools/bench reads it).  A bench tool: it
 * trusts its pcap to be tg-gen output.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include <hs/hs.h>

#include "ctrl/policy.h"
#include "dataplane/cot_parse.h"
#include "marking.h"
#include "tg_clock.h"

struct msg {
	uint8_t *data;
	uint32_t len;
};

/* ---- UDP payloads of one link from a pcap (as tools/scan_bench.c) ---- */

struct frag_buf {
	int used, v6;
	uint8_t key[40];
	uint32_t have, total; /* bytes received; total known once the last came */
	uint8_t data[65536];
};

#define MAX_PENDING 64

static struct frag_buf *pending[MAX_PENDING];
static struct msg *msgs;
static size_t n_msgs, cap_msgs;
static uint64_t n_frames, n_bytes, n_udp, n_too_big, n_parse_fail, n_bad_marking, msg_bytes;
static const struct pol_policy *pol;
static const struct tg_link *blink;
static bool classified;
static struct cot_event ev;

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		perror("scan_floor: malloc");
		exit(3);
	}
	return p;
}

static void
on_message(const uint8_t *pl, size_t len)
{
	struct msg *m;

	n_udp++;
	if (len > pol->hdr.max_message_bytes) {
		n_too_big++;
		return;
	}
	if (classified) {
		struct tg_marking mk;

		if (cot_parse(pl, len, &ev) != COT_OK) {
			n_parse_fail++;
			return;
		}
		if (tg_marking_resolve(ev.access.p, ev.access.len, ev.caveat.p, ev.caveat.len,
				       ev.releasable_to.p, ev.releasable_to.len,
				       blink->has_default_marking ? &blink->default_marking : NULL,
				       &pol->hdr, &mk) < 0) {
			n_bad_marking++;
			return;
		}
	}
	if (n_msgs == cap_msgs) {
		cap_msgs = cap_msgs ? cap_msgs * 2 : 4096;
		msgs = realloc(msgs, cap_msgs * sizeof(*msgs));
		if (!msgs) {
			perror("scan_floor: realloc");
			exit(3);
		}
	}
	m = &msgs[n_msgs++];
	m->data = xmalloc(len);
	memcpy(m->data, pl, len);
	m->len = (uint32_t)len;
	msg_bytes += len;
}

static bool
link_port(uint16_t dport)
{
	for (unsigned i = 0; i < blink->n_udp_ports; i++)
		if (blink->udp_ports[i] == dport)
			return true;
	return false;
}

static void
on_l4(const uint8_t *p, size_t len)
{
	uint16_t ulen, dport;

	if (len < 8)
		return;
	dport = (uint16_t)(p[2] << 8 | p[3]);
	ulen = (uint16_t)(p[4] << 8 | p[5]);
	if (ulen < 8 || ulen > len || !link_port(dport))
		return;
	on_message(p + 8, ulen - 8u);
}

/* A fragment at byte `off` of the IP payload; `more` = MF flag. */
static void
on_fragment(int v6, const uint8_t *key, size_t klen, uint32_t off, int more, const uint8_t *p,
	    size_t len)
{
	struct frag_buf *fb = NULL;
	int free_slot = -1;

	for (int i = 0; i < MAX_PENDING; i++) {
		if (pending[i] && pending[i]->used && pending[i]->v6 == v6 &&
		    memcmp(pending[i]->key, key, klen) == 0) {
			fb = pending[i];
			break;
		}
		if (free_slot < 0 && (!pending[i] || !pending[i]->used))
			free_slot = i;
	}
	if (!fb) {
		if (free_slot < 0) /* table full: forget the oldest-looking one */
			free_slot = 0;
		if (!pending[free_slot] && !(pending[free_slot] = calloc(1, sizeof(struct frag_buf)))) {
			perror("scan_floor: calloc");
			exit(3);
		}
		fb = pending[free_slot];
		fb->used = 1;
		fb->v6 = v6;
		memcpy(fb->key, key, klen);
		fb->have = fb->total = 0;
	}
	if (off + len > sizeof(fb->data)) {
		fb->used = 0;
		return;
	}
	memcpy(fb->data + off, p, len);
	fb->have += (uint32_t)len;
	if (!more)
		fb->total = off + (uint32_t)len;
	if (fb->total && fb->have >= fb->total) {
		fb->used = 0;
		on_l4(fb->data, fb->total);
	}
}

static void
on_frame(const uint8_t *p, size_t len)
{
	uint16_t et;
	size_t o = 14;

	if (len < 14)
		return;
	et = (uint16_t)(p[12] << 8 | p[13]);
	if (et == 0x8100) {
		if (len < 18)
			return;
		et = (uint16_t)(p[16] << 8 | p[17]);
		o = 18;
	}
	if (et == 0x0800) {
		const uint8_t *ip = p + o;
		size_t ihl, tot;
		uint16_t fo;

		if (len < o + 20)
			return;
		ihl = (size_t)(ip[0] & 0xf) * 4;
		tot = (size_t)(ip[2] << 8 | ip[3]);
		if (ip[9] != 17 || ihl < 20 || tot < ihl || o + tot > len)
			return;
		fo = (uint16_t)(ip[6] << 8 | ip[7]);
		if (fo & 0x3fff) {
			uint8_t key[12];

			memcpy(key, ip + 12, 8);
			memcpy(key + 8, ip + 4, 2);
			key[10] = key[11] = 0;
			on_fragment(0, key, sizeof(key), (uint32_t)(fo & 0x1fff) * 8, !!(fo & 0x2000),
				    ip + ihl, tot - ihl);
		} else {
			on_l4(ip + ihl, tot - ihl);
		}
	} else if (et == 0x86dd) {
		const uint8_t *ip = p + o;
		size_t plen;

		if (len < o + 40)
			return;
		plen = (size_t)(ip[4] << 8 | ip[5]);
		if (o + 40 + plen > len)
			return;
		if (ip[6] == 17) {
			on_l4(ip + 40, plen);
		} else if (ip[6] == 44 && plen >= 8 && ip[40] == 17) {
			const uint8_t *fh = ip + 40;
			uint16_t fo = (uint16_t)(fh[2] << 8 | fh[3]);
			uint8_t key[36];

			memcpy(key, ip + 8, 32);
			memcpy(key + 32, fh + 4, 4);
			on_fragment(1, key, sizeof(key), (uint32_t)(fo & 0xfff8), fo & 1, fh + 8,
				    plen - 8);
		}
	}
}

/* ---- the floor ---- */

/* The rule's own Hyperscan flags, as ctrl/policy_compile.c maps them, minus
 * COMBINATION (never compiled here) and QUIET (operands report too). */
static unsigned int
floor_flags(const struct tg_rule *r)
{
	unsigned int f = 0;

	if (r->flags & TG_RF_CASELESS)
		f |= HS_FLAG_CASELESS;
	if (r->flags & TG_RF_DOTALL)
		f |= HS_FLAG_DOTALL;
	if (r->flags & TG_RF_MULTILINE)
		f |= HS_FLAG_MULTILINE;
	if (r->flags & TG_RF_SINGLEMATCH)
		f |= HS_FLAG_SINGLEMATCH;
	return f;
}

static int
on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
	 void *ctx)
{
	(void)id;
	(void)from;
	(void)to;
	(void)flags;
	++*(uint64_t *)ctx;
	return 0;
}

static void
usage(FILE *f)
{
	fputs("usage: scan_floor --policy FILE --pcap FILE [--link NAME] [--seconds S] "
	      "[--classified] [--json]\n",
	      f);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"policy", required_argument, NULL, 'P'}, {"pcap", required_argument, NULL, 'p'},
		{"link", required_argument, NULL, 'l'},   {"seconds", required_argument, NULL, 's'},
		{"classified", no_argument, NULL, 'c'},   {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	const char *policy_file = NULL, *pcap_file = NULL, *link_name = "kor-us";
	double seconds = 5;
	int json = 0, c;
	char perr[PCAP_ERRBUF_SIZE];
	struct pol_policy *p = NULL;
	struct pol_errors *errs;
	hs_database_t *db = NULL;
	hs_scratch_t *scratch = NULL;
	hs_compile_error_t *cerr = NULL;
	size_t db_bytes = 0;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'P': policy_file = optarg; break;
		case 'p': pcap_file = optarg; break;
		case 'l': link_name = optarg; break;
		case 's': seconds = atof(optarg); break;
		case 'c': classified = true; break;
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!policy_file || !pcap_file || seconds <= 0) {
		usage(stderr);
		return 2;
	}

	errs = calloc(1, sizeof(*errs));
	if (!errs) {
		perror("scan_floor: calloc");
		return 3;
	}
	if (pol_load_file(policy_file, &p, errs) < 0) {
		pol_errors_print(errs, stderr);
		return 4;
	}
	free(errs);
	pol = p;
	for (unsigned i = 0; i < p->hdr.n_links; i++)
		if (strcmp(p->links[i].name, link_name) == 0)
			blink = &p->links[i];
	if (!blink) {
		fprintf(stderr, "scan_floor: the policy has no link %s\n", link_name);
		return 2;
	}

	/* Every rule but the combinations, each with its own flags. */
	uint32_t n_rules = p->hdr.n_rules, n_pat = 0, n_comb = 0, n_operands = 0;
	const char **exprs = xmalloc(n_rules * sizeof(*exprs));
	unsigned int *flags = xmalloc(n_rules * sizeof(*flags));
	unsigned int *ids = xmalloc(n_rules * sizeof(*ids));

	for (uint32_t i = 0; i < n_rules; i++) {
		const struct tg_rule *r = &p->rules[i];

		if (r->flags & TG_RF_COMBINATION) {
			n_comb++;
			continue;
		}
		n_operands += r->action == TG_ACT_NONE;
		exprs[n_pat] = p->exprs[i];
		flags[n_pat] = floor_flags(r);
		ids[n_pat] = i;
		n_pat++;
	}
	if (n_pat == 0) {
		fprintf(stderr, "scan_floor: the policy has no rule that is not a combination\n");
		return 4;
	}
	uint64_t t_c = tg_monotonic_ns();

	if (hs_compile_multi(exprs, flags, ids, n_pat, HS_MODE_BLOCK, NULL, &db, &cerr) !=
	    HS_SUCCESS) {
		fprintf(stderr, "scan_floor: Hyperscan rejects the database: %s (expression %d)\n",
			cerr ? cerr->message : "?", cerr ? cerr->expression : -1);
		hs_free_compile_error(cerr);
		return 3;
	}
	double compile_s = (double)(tg_monotonic_ns() - t_c) / 1e9;

	if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS || hs_database_size(db, &db_bytes) !=
								   HS_SUCCESS) {
		fprintf(stderr, "scan_floor: cannot allocate Hyperscan scratch\n");
		return 3;
	}

	pcap_t *pd = pcap_open_offline(pcap_file, perr);
	struct pcap_pkthdr *ph;
	const u_char *pkt;

	if (!pd) {
		fprintf(stderr, "scan_floor: %s\n", perr);
		return 3;
	}
	while (pcap_next_ex(pd, &ph, &pkt) == 1) {
		n_frames++;
		n_bytes += ph->len;
		on_frame(pkt, ph->caplen);
	}
	pcap_close(pd);
	if (n_msgs == 0) {
		fprintf(stderr, "scan_floor: no message of link %s to scan\n", link_name);
		return 4;
	}

	uint64_t passes = 0, scanned = 0, matches = 0, scan_errors = 0;
	uint64_t t_start = tg_monotonic_ns(), t_end = t_start + (uint64_t)(seconds * 1e9), t_now;
	uint64_t c_start = __rdtsc(), c_total;
	struct timespec cpu0, cpu1;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
	do {
		for (size_t i = 0; i < n_msgs; i++)
			scan_errors += hs_scan(db, (const char *)msgs[i].data, msgs[i].len, 0,
					       scratch, on_match, &matches) != HS_SUCCESS;
		scanned += n_msgs;
		passes++;
		t_now = tg_monotonic_ns();
	} while (t_now < t_end);
	c_total = __rdtsc() - c_start;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);

	double secs = (double)(t_now - t_start) / 1e9;
	double tsc_hz = (double)c_total / secs;
	double msg_rate = (double)scanned / secs;
	double frame_rate = (double)(passes * n_frames) / secs;
	double cyc_msg = (double)c_total / (double)scanned;
	double cyc_frame = (double)c_total / (double)(passes * n_frames);
	double cpu_s = (double)(cpu1.tv_sec - cpu0.tv_sec) +
		       (double)(cpu1.tv_nsec - cpu0.tv_nsec) / 1e9;
	double share = cpu_s / secs;

	if (json) {
		printf("{\"mode\":\"%s\",\"frames\":%" PRIu64 ",\"frame_bytes\":%" PRIu64
		       ",\"udp_messages\":%" PRIu64 ",\"too_big\":%" PRIu64 ",\"parse_fail\":%" PRIu64
		       ",\"bad_marking\":%" PRIu64 ",\"scanned_per_pass\":%zu,"
		       "\"payload_bytes_per_msg\":%.1f,\"rules\":%u,\"patterns\":%u,"
		       "\"operands\":%u,\"combinations_excluded\":%u,\"db_bytes\":%zu,"
		       "\"compile_seconds\":%.3f,\"passes\":%" PRIu64 ",\"matches_per_pass\":%" PRIu64
		       ",\"scan_errors\":%" PRIu64 ",\"seconds\":%.3f,\"tsc_hz\":%.0f,"
		       "\"msgs_per_s\":%.0f,\"cycles_per_msg\":%.1f,\"frames_per_s\":%.0f,"
		       "\"cycles_per_frame\":%.1f,\"cpu_seconds\":%.3f,\"cpu_share\":%.3f}\n",
		       classified ? "classified" : "all", n_frames, n_bytes, n_udp, n_too_big,
		       n_parse_fail, n_bad_marking, n_msgs, (double)msg_bytes / (double)n_msgs,
		       n_rules, n_pat, n_operands, n_comb, db_bytes, compile_s, passes,
		       matches / passes, scan_errors, secs, tsc_hz, msg_rate, cyc_msg, frame_rate,
		       cyc_frame, cpu_s, share);
	} else {
		printf("pcap: %" PRIu64 " frames, %" PRIu64 " UDP messages on link %s, %zu "
		       "scanned (%s; %" PRIu64 " too big, %" PRIu64 " parse errors, %" PRIu64
		       " bad markings), %.0f B per message\n",
		       n_frames, n_udp, link_name, n_msgs,
		       classified ? "those that reach classification" : "every payload",
		       n_too_big, n_parse_fail, n_bad_marking, (double)msg_bytes / (double)n_msgs);
		printf("database: %u of %u rules (%u operand-only; %u combinations left out), "
		       "%zu B, compiled in %.2f s\n",
		       n_pat, n_rules, n_operands, n_comb, db_bytes, compile_s);
		printf("scan floor: %.0f messages/s, %.1f cycles/message (%.2f GHz TSC, %.1f s), "
		       "%" PRIu64 " matches per pass\n",
		       msg_rate, cyc_msg, tsc_hz / 1e9, secs, matches / passes);
		printf("  as frames of this pcap: %.0f frames/s, %.1f cycles/frame\n", frame_rate,
		       cyc_frame);
		printf("  this thread ran %.0f %% of the wall time (per CPU-second: %.0f "
		       "messages/s)\n",
		       100 * share, msg_rate / share);
	}
	for (size_t i = 0; i < n_msgs; i++)
		free(msgs[i].data);
	free(msgs);
	for (int i = 0; i < MAX_PENDING; i++)
		free(pending[i]);
	free(exprs);
	free(flags);
	free(ids);
	hs_free_scratch(scratch);
	hs_free_database(db);
	pol_free(p);
	return scan_errors ? 1 : 0;
}
