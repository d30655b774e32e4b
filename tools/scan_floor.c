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
#include "pcap_udp.h"
#include "tg_clock.h"

struct msg {
	uint8_t *data;
	uint32_t len;
};

/* ---- UDP payloads of one link from a pcap (as tools/scan_bench.c) ---- */

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

/* pcap_udp's callback */
static void
on_payload(void *arg, const uint8_t *pl, size_t len)
{
	(void)arg;
	on_message(pl, len);
}


/* ---- the floor ---- */

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
		flags[n_pat] = pol_hs_flags(r);
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

	struct pcap_udp pu = {.ports = blink->udp_ports,
			      .n_ports = blink->n_udp_ports,
			      .on_payload = on_payload};

	if (pcap_udp_read(pcap_file, &pu, &n_frames, &n_bytes, perr) < 0) {
		fprintf(stderr, "scan_floor: %s\n", perr);
		return 3;
	}
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
	free(exprs);
	free(flags);
	free(ids);
	hs_free_scratch(scratch);
	hs_free_database(db);
	pol_free(p);
	return scan_errors ? 1 : 0;
}
