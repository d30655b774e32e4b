/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scan_bench - the scan-only limit: how fast the published policy's Hyperscan
 * databases can classify the messages of a pcap when nothing else is done.
 *
 *   scan_bench --bpffs DIR --pcap FILE [--link NAME] [--seconds S] [--json]
 *
 * Reads the ACTIVE policy published by `tgctl load` into DIR (tg_snapshot_read;
 * the very serialized databases trackgate deserializes), extracts the UDP
 * payloads the named link would accept from the pcap (Ethernet, one 802.1Q
 * tag, IPv4/IPv6, fragments reassembled, UDP to the link's ports, at most
 * max_message_bytes), parses them with the dataplane's cot_parse and resolves
 * the marking as the worker does, and keeps those that reach classification.
 * Then it scans them in a loop exactly as dataplane/classify.c does (the
 * payload, then each field scope's databases, the prefiltered ones only when
 * scan_prefilter.h says so; match -> rule by binary search; a block stops
 * the scans of that message) for --seconds, and reports messages/s and
 * TSC cycles per message.  Parsing happens once, up front, and is timed
 * separately (parse_cycles_per_msg) for reference.
 *
 * It is a bench tool: it trusts its pcap to be tg-gen output and it does no
 * more validation than needed not to crash.  tools/bench runs it.
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

#include "dataplane/cot_parse.h"
#include "dataplane/scan_match.h"
#include "dataplane/scan_prefilter.h"
#include "dataplane/scope_text.h"
#include "marking.h"
#include "tg_mapset.h"
#include "tg_clock.h"
#include "pcap_udp.h"
#include "tg_names.h"

struct msg {
	const char *data[TG_SCOPE_COUNT];
	uint32_t len[TG_SCOPE_COUNT];
	struct cot_decoded remarks_dec; /* cot_event's, for prefilter_must_scan() */
};

static struct msg *msgs;
static size_t n_msgs, cap_msgs;
static uint64_t n_frames, n_bytes, n_udp, n_too_big, n_parse_fail, n_bad_marking;
static uint64_t parse_cycles;
static struct tg_snapshot snap;
static const struct tg_link *blink;
static struct cot_event ev;

static char *
dup_bytes(const void *p, size_t n)
{
	char *d = malloc(n ? n : 1);

	if (!d) {
		perror("scan_bench: malloc");
		exit(3);
	}
	if (n)
		memcpy(d, p, n);
	return d;
}

/* One UDP payload the link accepted: parse, resolve, keep what the worker
 * would hand to dp_classify. */
static void
on_message(const uint8_t *pl, size_t len)
{
	struct tg_marking mk;
	uint64_t t0;
	enum cot_err ce;
	struct msg *m;
	char mbuf[3 * TG_FIELD_LIMIT_MAX + 3];
	size_t ml;
	int mrc;

	n_udp++;
	if (len > snap.hdr.max_message_bytes) {
		n_too_big++;
		return;
	}
	t0 = __rdtsc();
	ce = cot_parse(pl, len, &ev);
	mrc = ce == COT_OK ? tg_marking_resolve(ev.access.p, ev.access.len, ev.caveat.p,
						ev.caveat.len, ev.releasable_to.p,
						ev.releasable_to.len,
						blink->has_default_marking ? &blink->default_marking
									   : NULL,
						&snap.hdr, &mk)
			   : -1;
	parse_cycles += __rdtsc() - t0;
	if (ce != COT_OK) {
		n_parse_fail++;
		return;
	}
	if (mrc < 0) {
		n_bad_marking++;
		return;
	}
	if (n_msgs == cap_msgs) {
		cap_msgs = cap_msgs ? cap_msgs * 2 : 4096;
		msgs = realloc(msgs, cap_msgs * sizeof(*msgs));
		if (!msgs) {
			perror("scan_bench: realloc");
			exit(3);
		}
	}
	m = &msgs[n_msgs++];
	memset(m, 0, sizeof(*m));
	const struct cot_str *f[TG_SCOPE_COUNT] = {
		[TG_SCOPE_TYPE] = &ev.type,         [TG_SCOPE_HOW] = &ev.how,
		[TG_SCOPE_UID] = &ev.uid,           [TG_SCOPE_CALLSIGN] = &ev.callsign,
		[TG_SCOPE_REMARKS] = &ev.remarks,   [TG_SCOPE_DETAIL] = &ev.detail,
	};
	m->remarks_dec = ev.remarks_dec;
	m->data[TG_SCOPE_PAYLOAD] = dup_bytes(pl, len);
	m->len[TG_SCOPE_PAYLOAD] = (uint32_t)len;
	for (unsigned s = TG_SCOPE_TYPE; s < TG_SCOPE_MARKING; s++) {
		uintptr_t fp = (uintptr_t)f[s]->p, pp = (uintptr_t)pl;

		/* A byte range of the payload stays one (the prefilter tells them
		 * apart from decoded text, as in the worker). */
		if (f[s]->p && fp >= pp && fp + f[s]->len <= pp + len)
			m->data[s] = m->data[TG_SCOPE_PAYLOAD] + (fp - pp);
		else
			m->data[s] = dup_bytes(f[s]->p ? f[s]->p : "", f[s]->len);
		m->len[s] = f[s]->len;
	}
	ml = scope_marking_text(mbuf, sizeof(mbuf), &ev);
	if (ml == SIZE_MAX) { /* the worker drops it as bad_marking before any scan */
		n_msgs--;
		n_bad_marking++;
		return;
	}
	m->data[TG_SCOPE_MARKING] = dup_bytes(mbuf, ml);
	m->len[TG_SCOPE_MARKING] = (uint32_t)ml;
}

/* pcap_udp's callback */
static void
on_payload(void *arg, const uint8_t *pl, size_t len)
{
	(void)arg;
	on_message(pl, len);
}


/* ---- the scan loop: dataplane/classify.c without the DPDK around it ---- */

/* struct scan_ctx, scan_on_match(), scan_begin/end(): dataplane/scan_match.h, as classify.c */

static void
usage(FILE *f)
{
	fputs("usage: scan_bench --bpffs DIR --pcap FILE [--link NAME] [--seconds S] [--json]\n", f);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"bpffs", required_argument, NULL, 'b'}, {"pcap", required_argument, NULL, 'p'},
		{"link", required_argument, NULL, 'l'},  {"seconds", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},        {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *bpffs = NULL, *pcap_file = NULL, *link_name = "kor-us";
	double seconds = 5;
	int json = 0, c;
	char err[512], perr[PCAP_ERRBUF_SIZE];
	struct tg_mapset ms;
	hs_database_t *db[TG_HSDB_REFS] = {0};
	hs_scratch_t *scratch = NULL;
	uint32_t scope_n[TG_SCOPE_COUNT] = {0};
	unsigned n_db = 0;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'b': bpffs = optarg; break;
		case 'p': pcap_file = optarg; break;
		case 'l': link_name = optarg; break;
		case 's': seconds = atof(optarg); break;
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!bpffs || !pcap_file || seconds <= 0) {
		usage(stderr);
		return 2;
	}

	if (tg_mapset_open(&ms, bpffs, err, sizeof(err)) < 0) {
		fprintf(stderr, "scan_bench: %s\n", err);
		return 3;
	}
	if (tg_snapshot_read(&ms, 0, &snap, err, sizeof(err)) != 1) {
		fprintf(stderr, "scan_bench: no policy published in %s %s\n", bpffs, err);
		return 4;
	}
	for (unsigned i = 0; i < snap.hdr.n_links; i++)
		if (strcmp(snap.links[i].name, link_name) == 0)
			blink = &snap.links[i];
	if (!blink) {
		fprintf(stderr, "scan_bench: the policy has no link %s\n", link_name);
		return 2;
	}
	for (uint32_t i = 0; i < snap.hdr.n_rules; i++) { /* sorted by scope, id */
		unsigned sc = snap.rules[i].scope;

		if (sc < TG_SCOPE_COUNT)
			scope_n[sc]++;
	}
	for (unsigned sc = 0; sc < TG_HSDB_REFS; sc++) {
		const struct tg_hsdb_ref *ref = &snap.hdr.hsdb[sc];

		if (ref->len == 0)
			continue;
		if (hs_deserialize_database((const char *)snap.hsdb + ref->off, ref->len,
					    &db[sc]) != HS_SUCCESS ||
		    hs_alloc_scratch(db[sc], &scratch) != HS_SUCCESS) {
			fprintf(stderr, "scan_bench: cannot load the database of scope %u\n", sc);
			return 3;
		}
		n_db++;
	}
	/* The combinations, evaluated as the dataplane does (lib/comb.h). */
	struct comb_table comb;
	struct comb_state *cs = NULL;

	if (snap.hdr.comb.len) {
		char cerr[160];

		if (comb_table_load(&comb, (const uint32_t *)(snap.hsdb + snap.hdr.comb.off),
				    snap.hdr.comb.len / 4, snap.hdr.n_rules, cerr, sizeof(cerr)) < 0 ||
		    (cs = comb_state_new(snap.hdr.n_rules, comb.n_combs)) == NULL) {
			fprintf(stderr, "scan_bench: cannot load the combinations: %s\n", cerr);
			return 3;
		}
	}

	struct pcap_udp pu = {.ports = blink->udp_ports,
			      .n_ports = blink->n_udp_ports,
			      .on_payload = on_payload};

	if (pcap_udp_read(pcap_file, &pu, &n_frames, &n_bytes, perr) < 0) {
		fprintf(stderr, "scan_bench: %s\n", perr);
		return 3;
	}
	if (n_msgs == 0) {
		fprintf(stderr, "scan_bench: no message of link %s reaches classification\n",
			link_name);
		return 4;
	}

	uint64_t *hits = calloc(snap.hdr.n_rules + 1, sizeof(uint64_t));
	uint64_t passes = 0, scanned = 0, blocked = 0, scan_errors = 0;
	uint64_t scope_cyc[TG_SCOPE_COUNT] = {0}, scope_scans[TG_HSDB_REFS] = {0};
	uint64_t t_start = tg_monotonic_ns(), t_end = t_start + (uint64_t)(seconds * 1e9), t_now;
	uint64_t c_start = __rdtsc(), c_total;
	struct timespec cpu0, cpu1;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);

	do {
		for (size_t i = 0; i < n_msgs; i++) {
			struct dp_class_result res = {.block_rule = -1};
			struct scan_ctx sctx = {.rules = snap.rules,
						.n_rules = snap.hdr.n_rules,
						.hits = hits,
						.res = &res,
						.comb = cs ? &comb : NULL,
						.cs = cs};

			bool stop = false; /* blocked, or a scan error */

			for (unsigned s = 0; s < TG_SCOPE_COUNT && !stop; s++) {
				const struct msg *m = &msgs[i];

				for (unsigned d = s; d < TG_HSDB_REFS; d += TG_SCOPE_COUNT) {
					hs_error_t rc;
					uint64_t ts;

					if (!db[d] ||
					    (d != s &&
					     !prefilter_must_scan(
						     sctx.seen, s, m->data[s], m->len[s],
						     (const uint8_t *)m->data[0], m->len[0],
						     s == TG_SCOPE_REMARKS ? &m->remarks_dec : NULL,
						     snap.hdr.pf_match_bytes[s])))
						continue;
					ts = __rdtsc();
					scan_begin(&sctx);
					rc = hs_scan(db[d], m->data[s], m->len[s], 0, scratch, scan_on_match,
						     &sctx);
					if (rc == HS_SUCCESS && scan_end(&sctx, d, m->len[s]))
						rc = HS_SCAN_TERMINATED;
					scope_cyc[s] += __rdtsc() - ts;
					scope_scans[d]++;
					if (rc != HS_SUCCESS) {
						scan_errors += rc != HS_SCAN_TERMINATED;
						stop = true;
						break;
					}
				}
			}
			blocked += res.block_rule >= 0;
		}
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
	double parse_cyc = (double)parse_cycles / (double)(n_msgs + n_parse_fail + n_bad_marking);
	/* On a shared machine the TSC also counts time this thread was not
	 * running: cpu_share says how much of the wall time it had. */
	double cpu_s = (double)(cpu1.tv_sec - cpu0.tv_sec) + (double)(cpu1.tv_nsec - cpu0.tv_nsec) / 1e9;
	double share = cpu_s / secs;

	if (json) {
		printf("{\"frames\":%" PRIu64 ",\"frame_bytes\":%" PRIu64 ",\"udp_messages\":%" PRIu64
		       ",\"too_big\":%" PRIu64 ",\"parse_fail\":%" PRIu64 ",\"bad_marking\":%" PRIu64
		       ",\"scanned_per_pass\":%zu,\"databases\":%u,\"rules\":%u,\"passes\":%" PRIu64
		       ",\"blocked_per_pass\":%" PRIu64 ",\"scan_errors\":%" PRIu64
		       ",\"seconds\":%.3f,\"tsc_hz\":%.0f,\"msgs_per_s\":%.0f,"
		       "\"cycles_per_msg\":%.1f,\"frames_per_s\":%.0f,\"cycles_per_frame\":%.1f,"
		       "\"parse_cycles_per_msg\":%.1f,\"cpu_seconds\":%.3f,\"cpu_share\":%.3f",
		       n_frames, n_bytes, n_udp, n_too_big, n_parse_fail, n_bad_marking, n_msgs, n_db,
		       snap.hdr.n_rules, passes, blocked / passes, scan_errors, secs, tsc_hz,
		       msg_rate, cyc_msg, frame_rate, cyc_frame, parse_cyc, cpu_s, share);
		/* per scope: cycles per scanned message, rules, database bytes */
		printf(",\"scopes\":{");
		for (unsigned s = 0, first = 1; s < TG_SCOPE_COUNT; s++) {
			if (!db[s] && !db[TG_HSDB_PF(s)])
				continue;
			printf("%s\"%s\":{\"rules\":%u,\"db_bytes\":%u,\"cycles_per_msg\":%.1f,"
			       "\"prefiltered_db_bytes\":%u,\"prefiltered_scan_share\":%.4f}",
			       first ? "" : ",", tg_scope_name(s), scope_n[s], snap.hdr.hsdb[s].len,
			       (double)scope_cyc[s] / (double)scanned,
			       snap.hdr.hsdb[TG_HSDB_PF(s)].len,
			       (double)scope_scans[TG_HSDB_PF(s)] / (double)scanned);
			first = 0;
		}
		printf("}}\n");
	} else {
		printf("pcap: %" PRIu64 " frames, %" PRIu64 " UDP messages on link %s, %zu reach "
		       "classification (%" PRIu64 " parse errors, %" PRIu64 " bad markings, %" PRIu64
		       " too big)\n",
		       n_frames, n_udp, link_name, n_msgs, n_parse_fail, n_bad_marking, n_too_big);
		printf("policy: %u rules in %u databases; %" PRIu64 " of %zu messages blocked per "
		       "pass\n",
		       snap.hdr.n_rules, n_db, blocked / passes, n_msgs);
		printf("scan only: %.0f messages/s, %.1f cycles/message (%.2f GHz TSC, %.1f s)\n",
		       msg_rate, cyc_msg, tsc_hz / 1e9, secs);
		printf("  as frames of this pcap: %.0f frames/s, %.1f cycles/frame\n", frame_rate,
		       cyc_frame);
		printf("  parse+marking (once, for reference): %.1f cycles/message\n", parse_cyc);
		for (unsigned s = 0; s < TG_SCOPE_COUNT; s++) {
			if (!db[s] && !db[TG_HSDB_PF(s)])
				continue;
			printf("  scope %-8s %5u rules, database %8u B: %8.1f cycles/message",
			       tg_scope_name(s), scope_n[s], snap.hdr.hsdb[s].len,
			       (double)scope_cyc[s] / (double)scanned);
			if (db[TG_HSDB_PF(s)])
				printf(" (prefiltered %u B, scanned for %.1f %% of messages)",
				       snap.hdr.hsdb[TG_HSDB_PF(s)].len,
				       100.0 * (double)scope_scans[TG_HSDB_PF(s)] / (double)scanned);
			printf("\n");
		}
		printf("  this thread ran %.0f %% of the wall time (per CPU-second: %.0f "
		       "messages/s)\n", 100 * share, msg_rate / share);
	}
	for (unsigned s = 0; s < TG_HSDB_REFS; s++)
		if (db[s])
			hs_free_database(db[s]);
	hs_free_scratch(scratch);
	tg_snapshot_free(&snap);
	tg_mapset_close(&ms);
	return scan_errors ? 1 : 0;
}
