/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stats.c - counters out of the dataplane.  Workers count per lcore without
 * atomics; the control thread sums them, adds the totals of retired policies
 * (per-peer counters are kept by peer name, rule hits by rule id, so they
 * survive policy swaps), writes the stats map for `tgctl stats`, and keeps a
 * copy that the /trackgate/stats telemetry command returns.
 *
 * It also watches for the dataplane running without a policy (nothing is
 * released): it says so at start and every NOPOL_EVERY_S while it lasts, and
 * writes what was dropped meanwhile to the audit log as counted summary
 * records, one per interval, not one per frame.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_telemetry.h>

#include "audit.h"
#include "tg_clock.h"
#include "cot_names.h"
#include "dp.h"
#include "early_cache.h"
#include "stats.h"
#include "tg_mapset.h"
#include "tg_names.h"

_Static_assert(COT_E_COUNT <= TG_PARSE_ERR_MAX, "tg_stats.parse_err has no room for every cot_err");
_Static_assert(COT_ENC_COUNT == TG_ENC_COUNT, "tg_stats.enc_* has one slot per cot_encoding");

#define NOPOL_EVERY_S 10      /* no policy: a log line and an audit summary this often */
#define FINAL_AUDIT_SYNC_MS 2000

/* Totals of retired policies, by peer name. */
static struct {
	unsigned n;
	char name[TG_MAX_PEERS][TG_NAME_MAX];
	struct dp_peer_cnt cnt[TG_MAX_PEERS];
} retired;

static pthread_mutex_t last_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tg_stats last;         /* the latest published, for telemetry */
static uint64_t last_cycles[6];      /* stage cycles, then messages measured */
static uint64_t started_ns;

void
dp_stats_init(void)
{
	started_ns = tg_realtime_ns();
}

static int
retired_slot(const char *name)
{
	for (unsigned i = 0; i < retired.n; i++)
		if (strncmp(retired.name[i], name, TG_NAME_MAX) == 0)
			return (int)i;
	if (retired.n == TG_MAX_PEERS)
		return -1;
	snprintf(retired.name[retired.n], TG_NAME_MAX, "%s", name);
	return (int)retired.n++;
}

static void
peer_sum(const struct dp_policy *p, unsigned pi, struct dp_peer_cnt *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned w = 0; w < dp_n_workers; w++) {
		const struct dp_peer_cnt *c = &p->peer_cnt[w * TG_MAX_PEERS + pi];

		out->released += c->released;
		out->bytes += c->bytes;
		out->sanitized += c->sanitized;
		for (unsigned r = 0; r < TG_R_COUNT; r++)
			out->withheld[r] += c->withheld[r];
	}
}

static void
cnt_add(struct dp_peer_cnt *dst, const struct dp_peer_cnt *src)
{
	dst->released += src->released;
	dst->bytes += src->bytes;
	dst->sanitized += src->sanitized;
	for (unsigned r = 0; r < TG_R_COUNT; r++)
		dst->withheld[r] += src->withheld[r];
}

/* Push rule hit deltas since the last push to the rule hits map. */
static void
push_rule_hits(struct tg_mapset *ms, struct dp_policy *p)
{
	for (uint32_t i = 0; i < p->hdr.n_rules; i++) {
		uint64_t sum = 0;

		for (unsigned w = 0; w < dp_n_workers; w++)
			sum += p->rule_hits[(size_t)w * p->hdr.n_rules + i];
		if (sum != p->rule_hits_reported[i] && ms != NULL &&
		    tg_rule_hits_add(ms, p->rules[i].id, sum - p->rule_hits_reported[i]) == 0)
			p->rule_hits_reported[i] = sum;
	}
}

void
dp_stats_retire_policy(struct tg_mapset *ms, struct dp_policy *p)
{
	for (unsigned pi = 0; pi < p->hdr.n_peers; pi++) {
		struct dp_peer_cnt c;
		int slot = retired_slot(p->peers[pi].name);

		peer_sum(p, pi, &c);
		if (slot >= 0)
			cnt_add(&retired.cnt[slot], &c);
	}
	push_rule_hits(ms, p);
}

static void
stats_collect(struct tg_stats *st)
{
	const struct dp_policy *p = __atomic_load_n(&dp_active, __ATOMIC_ACQUIRE);
	struct dp_peer_cnt cur[TG_MAX_PEERS];
	uint64_t cyc[6] = {0};

	memset(st, 0, sizeof(*st));
	st->updated_ns = tg_realtime_ns();
	st->started_ns = started_ns;
	st->pid = (uint64_t)getpid();
	st->generation = p ? p->generation : 0;
	for (unsigned w = 0; w < dp_n_workers; w++) {
		const struct dp_counters *c = &dp_workers[w]->cnt;

		st->rx_packets += c->rx_packets;
		st->messages += c->messages;
		st->audit_lost += c->audit_lost;
		for (unsigned r = 0; r < TG_R_COUNT; r++)
			st->reason[r] += c->reason[r];
		for (unsigned e = 0; e < COT_E_COUNT; e++)
			st->parse_err[e] += c->parse_err[e];
		for (unsigned s = 0; s < TG_SCOPE_COUNT; s++) {
			st->prefilter_scanned[s] += c->prefilter_scanned[s];
			st->prefilter_skipped[s] += c->prefilter_skipped[s];
		}
		st->scan_skipped += c->scan_skipped;
		for (unsigned e = 0; e < COT_ENC_COUNT; e++) {
			st->enc_messages[e] += c->enc_messages[e];
			for (unsigned r = 0; r < TG_R_COUNT; r++)
				st->enc_reason[e][r] += c->enc_reason[e][r];
		}
		st->converted += c->converted;
		for (unsigned i = 0; i < 5; i++)
			cyc[i] += c->cycles[i];
		cyc[5] += c->cycles_msgs;
	}
	/* Records the audit writer could not write: it is not a worker. */
	st->audit_lost += dp_audit_lost();

	/* Peers: retired totals by name, plus the running policy's. */
	unsigned n = retired.n;

	for (unsigned i = 0; i < n; i++) {
		snprintf(st->peer[i].name, TG_NAME_MAX, "%s", retired.name[i]);
		st->peer[i].released = retired.cnt[i].released;
		st->peer[i].sanitized = retired.cnt[i].sanitized;
		st->peer[i].bytes = retired.cnt[i].bytes;
		memcpy(st->peer[i].withheld, retired.cnt[i].withheld, sizeof(st->peer[i].withheld));
	}
	for (unsigned pi = 0; p && pi < p->hdr.n_peers; pi++) {
		unsigned j;

		peer_sum(p, pi, &cur[pi]);
		for (j = 0; j < n; j++)
			if (strncmp(st->peer[j].name, p->peers[pi].name, TG_NAME_MAX) == 0)
				break;
		if (j == n) {
			if (n == TG_MAX_PEERS)
				continue;
			snprintf(st->peer[n].name, TG_NAME_MAX, "%s", p->peers[pi].name);
			n++;
		}
		st->peer[j].released += cur[pi].released;
		st->peer[j].bytes += cur[pi].bytes;
		st->peer[j].sanitized += cur[pi].sanitized;
		for (unsigned r = 0; r < TG_R_COUNT; r++)
			st->peer[j].withheld[r] += cur[pi].withheld[r];
	}
	st->n_peers = n;
	/* The total is the peers' sum, not a counter of its own: a second
	 * counter read at another moment could disagree with them. */
	for (unsigned i = 0; i < n; i++)
		st->released += st->peer[i].released;

	for (unsigned i = 0; i < dp_n_ports && i < TG_STATS_MAX_PORTS; i++) {
		struct rte_eth_stats es;

		snprintf(st->port[i].dev, TG_DEV_MAX, "%s", dp_ports[i].dev);
		if (rte_eth_stats_get(dp_ports[i].port_id, &es) == 0) {
			st->port[i].ipackets = es.ipackets;
			st->port[i].opackets = es.opackets;
			st->port[i].ibytes = es.ibytes;
			st->port[i].obytes = es.obytes;
			st->port[i].imissed = es.imissed;
			st->port[i].ierrors = es.ierrors;
			st->port[i].oerrors = es.oerrors;
		}
	}
	st->n_ports = dp_n_ports < TG_STATS_MAX_PORTS ? dp_n_ports : TG_STATS_MAX_PORTS;
	pthread_mutex_lock(&last_lock);
	memcpy(last_cycles, cyc, sizeof(cyc));
	pthread_mutex_unlock(&last_lock);
}

/* Running without a policy (the control thread's view at each publish). */
static struct {
	bool on;               /* no policy at the last look */
	bool seen;             /* looked at least once */
	uint64_t since_ns;     /* CLOCK_REALTIME: when this stretch began */
	uint64_t at_start;     /* no_policy drops when it began */
	uint64_t summarised;   /* no_policy drops already in audit summaries */
	uint64_t summary_ns;   /* CLOCK_REALTIME: where the next summary starts */
	uint64_t summary_mono; /* CLOCK_MONOTONIC of the last summary */
	uint64_t log_mono;     /* CLOCK_MONOTONIC of the last log line */
} nopol;

static void
no_policy_summary(uint64_t dropped, uint64_t now_ns, uint64_t mono)
{
	if (dropped > nopol.summarised)
		dp_audit_summary(TG_R_NO_POLICY, dropped - nopol.summarised, nopol.summary_ns,
				 now_ns);
	nopol.summarised = dropped;
	nopol.summary_ns = now_ns;
	nopol.summary_mono = mono;
}

/*
 * `dropped`: reason[TG_R_NO_POLICY] now.  Workers count those drops without
 * a record each (a frame without a policy is not even a message); here they
 * become one summary line per NOPOL_EVERY_S, written also when the stretch
 * ends and at exit, so the summaries add up to dropped.no_policy.
 */
static void
no_policy_watch(const struct dp_policy *p, uint64_t dropped, bool final)
{
	uint64_t now = tg_realtime_ns(), mono = tg_monotonic_ns();
	char when[32];

	if (!nopol.seen) {
		nopol.seen = true;
		nopol.summary_ns = started_ns;
		nopol.summary_mono = mono;
	}
	if (p == NULL && !nopol.on) {
		nopol.on = true;
		nopol.since_ns = nopol.summarised == 0 ? started_ns : now;
		nopol.at_start = nopol.summarised;
		nopol.log_mono = mono;
		RTE_LOG(WARNING, USER1,
			"no policy loaded in %s: nothing is released until one is (tgctl load); "
			"every packet is dropped as no_policy\n",
			dp_cfg.bpffs);
	} else if (p == NULL && mono - nopol.log_mono >= NOPOL_EVERY_S * TG_NS_PER_S) {
		tg_format_utc(nopol.since_ns, false, when, sizeof(when));
		RTE_LOG(WARNING, USER1,
			"no policy loaded: %" PRIu64 " packets dropped since %s (no_policy)\n",
			dropped - nopol.at_start, when);
		nopol.log_mono = mono;
	} else if (p != NULL && nopol.on) {
		nopol.on = false;
		RTE_LOG(NOTICE, USER1,
			"policy generation %" PRIu64 " in force after %" PRIu64 " s without a policy: "
			"%" PRIu64 " packets dropped meanwhile (no_policy)\n",
			p->generation, (now - nopol.since_ns) / TG_NS_PER_S, dropped - nopol.at_start);
		no_policy_summary(dropped, now, mono);
		return;
	}
	/* A worker still in a burst it began without a policy may count a few
	 * after the swap: those are summarised too. */
	if (dropped > nopol.summarised &&
	    (final || mono - nopol.summary_mono >= NOPOL_EVERY_S * TG_NS_PER_S))
		no_policy_summary(dropped, now, mono);
}

void
dp_stats_publish(struct tg_mapset *ms)
{
	static struct tg_stats st; /* only the control thread (or main at exit) */
	struct dp_policy *p = __atomic_load_n(&dp_active, __ATOMIC_ACQUIRE);
	bool final = __atomic_load_n(&dp_quit, __ATOMIC_RELAXED);

	stats_collect(&st);
	no_policy_watch(p, st.reason[TG_R_NO_POLICY], final);
	if (final) {
		/* Stopping: what the audit writer still has to write is written
		 * (or counted as lost) before the last counters are published. */
		dp_audit_sync(FINAL_AUDIT_SYNC_MS);
		stats_collect(&st);
	}
	if (p)
		push_rule_hits(ms, p);
	tg_stats_write(ms, &st);
	pthread_mutex_lock(&last_lock);
	memcpy(&last, &st, sizeof(last));
	pthread_mutex_unlock(&last_lock);
}

/* A cache's counters summed over the workers (read once they are done);
 * `which` picks the worker's cache, NULL when it has none. */
static void
cache_print(FILE *f, const char *what,
	    const struct exact_cache_stats *(*which)(const struct dp_worker *w))
{
	struct exact_cache_stats t = {0};

	for (unsigned i = 0; i < dp_n_workers; i++) {
		const struct exact_cache_stats *st = dp_workers[i] ? which(dp_workers[i]) : NULL;

		if (st == NULL)
			continue;
		t.hits += st->hits;
		t.misses += st->misses;
		t.uncacheable += st->uncacheable;
		t.resets += st->resets;
	}
	if (t.hits + t.misses + t.uncacheable)
		fprintf(f, "  %s: hits %" PRIu64 " misses %" PRIu64 " uncacheable %" PRIu64
			   " resets %" PRIu64 "\n",
			what, t.hits, t.misses, t.uncacheable, t.resets);
}

static const struct exact_cache_stats *
mk_stats_of(const struct dp_worker *w)
{
	return w->mk_cache ? mk_cache_stats(w->mk_cache) : NULL;
}

static const struct exact_cache_stats *
early_stats_of(const struct dp_worker *w)
{
	return w->early_cache ? early_cache_stats(w->early_cache) : NULL;
}

void
dp_stats_print(FILE *f)
{
	pthread_mutex_lock(&last_lock);
	fprintf(f, "trackgate: policy generation %" PRIu64 ", rx %" PRIu64 " packets, %" PRIu64
		   " messages, %" PRIu64 " releases\n",
		last.generation, last.rx_packets, last.messages, last.released);
	for (unsigned r = TG_R_MSG_FIRST; r <= TG_R_MSG_LAST; r++) {
		if (!last.reason[r])
			continue;
		fprintf(f, "  dropped %-16s %" PRIu64 "\n", tg_reason_name(r), last.reason[r]);
		for (unsigned e = 0; r == TG_R_PARSE && e < COT_E_COUNT; e++)
			if (last.parse_err[e])
				fprintf(f, "    parse_err %-14s %" PRIu64 "\n",
					cot_err_counter_name(e), last.parse_err[e]);
	}
	for (unsigned i = 0; i < last.n_peers; i++) {
		fprintf(f, "  peer %-12s released %-8" PRIu64 " bytes %-10" PRIu64,
			last.peer[i].name, last.peer[i].released, last.peer[i].bytes);
		if (last.peer[i].sanitized)
			fprintf(f, " sanitized %" PRIu64, last.peer[i].sanitized);
		for (unsigned r = TG_R_PEER_FIRST; r < TG_R_COUNT; r++)
			if (last.peer[i].withheld[r])
				fprintf(f, " %s=%" PRIu64, tg_reason_name(r),
					last.peer[i].withheld[r]);
		fprintf(f, "\n");
	}
	if (last.audit_lost)
		fprintf(f, "  audit records lost %" PRIu64 "\n", last.audit_lost);
	fprintf(f, "  decided before the late scan %" PRIu64 "\n", last.scan_skipped);
	for (unsigned e = 0; e < COT_ENC_COUNT; e++) {
		fprintf(f, "  encoding %-12s messages %" PRIu64, tg_encoding_name(e),
			last.enc_messages[e]);
		for (unsigned r = TG_R_MSG_FIRST; r <= TG_R_MSG_LAST; r++)
			if (last.enc_reason[e][r])
				fprintf(f, " %s=%" PRIu64, tg_reason_name(r), last.enc_reason[e][r]);
		fprintf(f, "\n");
	}
	if (last.converted)
		fprintf(f, "  converted to XML %" PRIu64 "\n", last.converted);
	for (unsigned s = 0; s < TG_SCOPE_COUNT; s++)
		if (last.prefilter_scanned[s] || last.prefilter_skipped[s])
			fprintf(f, "  prefiltered %-8s scanned %" PRIu64 " skipped %" PRIu64 "\n",
				tg_scope_name(s), last.prefilter_scanned[s],
				last.prefilter_skipped[s]);
	if (last_cycles[5])
		fprintf(f, "  cycles/message: parse %.0f scan %.0f check %.0f decide %.0f forward %.0f\n",
			(double)last_cycles[0] / last_cycles[5],
			(double)last_cycles[1] / last_cycles[5],
			(double)last_cycles[4] / last_cycles[5],
			(double)last_cycles[2] / last_cycles[5],
			(double)last_cycles[3] / last_cycles[5]);
	pthread_mutex_unlock(&last_lock);
	cache_print(f, "marking cache", mk_stats_of);
	cache_print(f, "early-scope cache", early_stats_of);
}

static int
telemetry_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rte_tel_data *dropped = rte_tel_data_alloc();
	struct rte_tel_data *peers = rte_tel_data_alloc();
	struct rte_tel_data *cycles = rte_tel_data_alloc();
	struct rte_tel_data *pf = rte_tel_data_alloc();
	struct rte_tel_data *perr = rte_tel_data_alloc();

	(void)cmd;
	(void)params;
	if (!dropped || !peers || !cycles || !pf || !perr) {
		rte_tel_data_free(dropped);
		rte_tel_data_free(peers);
		rte_tel_data_free(cycles);
		rte_tel_data_free(pf);
		rte_tel_data_free(perr);
		return -ENOMEM;
	}
	pthread_mutex_lock(&last_lock);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "generation", last.generation);
	rte_tel_data_add_dict_u64(d, "rx_packets", last.rx_packets);
	rte_tel_data_add_dict_u64(d, "messages", last.messages);
	rte_tel_data_add_dict_u64(d, "released", last.released);
	rte_tel_data_add_dict_u64(d, "audit_lost", last.audit_lost);
	rte_tel_data_start_dict(dropped);
	for (unsigned r = TG_R_MSG_FIRST; r <= TG_R_MSG_LAST; r++)
		rte_tel_data_add_dict_u64(dropped, tg_reason_name(r), last.reason[r]);
	rte_tel_data_add_dict_container(d, "dropped", dropped, 0);
	/* dropped.parse by the parser's error: they add up to it */
	rte_tel_data_start_dict(perr);
	for (unsigned e = 0; e < COT_E_COUNT; e++)
		rte_tel_data_add_dict_u64(perr, cot_err_counter_name(e), last.parse_err[e]);
	rte_tel_data_add_dict_container(d, "parse_err", perr, 0);
	rte_tel_data_start_dict(peers);
	for (unsigned i = 0; i < last.n_peers; i++)
		rte_tel_data_add_dict_u64(peers, last.peer[i].name, last.peer[i].released);
	rte_tel_data_add_dict_container(d, "released_by_peer", peers, 0);
	rte_tel_data_add_dict_u64(d, "scan_skipped", last.scan_skipped);
	rte_tel_data_add_dict_u64(d, "converted", last.converted);
	/* messages_xml, dropped_xml, messages_takproto_v1, ...: flat, as the
	 * prefilter counters, since a telemetry dict nests one level (and
	 * telemetry names allow no '-'). */
	for (unsigned e = 0; e < COT_ENC_COUNT; e++) {
		static const char *const key[COT_ENC_COUNT] = {"xml", "takproto_v1"};
		char k[RTE_TEL_MAX_STRING_LEN];
		uint64_t dropped = 0;

		for (unsigned r = TG_R_MSG_FIRST; r <= TG_R_MSG_LAST; r++)
			dropped += last.enc_reason[e][r];
		snprintf(k, sizeof(k), "messages_%s", key[e]);
		rte_tel_data_add_dict_u64(d, k, last.enc_messages[e]);
		snprintf(k, sizeof(k), "dropped_%s", key[e]);
		rte_tel_data_add_dict_u64(d, k, dropped);
	}
	rte_tel_data_start_dict(cycles);
	rte_tel_data_add_dict_u64(cycles, "messages", last_cycles[5]);
	rte_tel_data_add_dict_u64(cycles, "check", last_cycles[4]);
	rte_tel_data_add_dict_u64(cycles, "parse", last_cycles[0]);
	rte_tel_data_add_dict_u64(cycles, "scan", last_cycles[1]);
	rte_tel_data_add_dict_u64(cycles, "decide", last_cycles[2]);
	rte_tel_data_add_dict_u64(cycles, "forward", last_cycles[3]);
	rte_tel_data_add_dict_container(d, "stage_cycles", cycles, 0);
	/* "remarks_scanned", "remarks_skipped", ...: flat, as telemetry dicts
	 * nest only one level below a container */
	rte_tel_data_start_dict(pf);
	for (unsigned s = 0; s < TG_SCOPE_COUNT; s++) {
		char k[40];

		if (!last.prefilter_scanned[s] && !last.prefilter_skipped[s])
			continue;
		snprintf(k, sizeof(k), "%s_scanned", tg_scope_name(s));
		rte_tel_data_add_dict_u64(pf, k, last.prefilter_scanned[s]);
		snprintf(k, sizeof(k), "%s_skipped", tg_scope_name(s));
		rte_tel_data_add_dict_u64(pf, k, last.prefilter_skipped[s]);
	}
	rte_tel_data_add_dict_container(d, "prefilter", pf, 0);
	pthread_mutex_unlock(&last_lock);
	return 0;
}

/* Latency since the last "reset": a baseline is kept, never the workers'
 * histograms touched (they belong to the workers). */
static uint64_t lat_base[DP_LAT_BUCKETS];
static pthread_mutex_t lat_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t
lat_percentile(const uint64_t *h, uint64_t total, double q)
{
	uint64_t want = (uint64_t)(q * (double)total), seen = 0;

	for (unsigned b = 0; b < DP_LAT_BUCKETS; b++) {
		seen += h[b];
		if (seen > want)
			return (uint64_t)(b + 1) * DP_LAT_BUCKET_NS; /* bucket's upper edge */
	}
	return (uint64_t)DP_LAT_BUCKETS * DP_LAT_BUCKET_NS;
}

/*
 * The histogram itself, for a whole CDF (tools/bench --chart): "histogram",
 * bucket index -> count, nonzero buckets only.  A telemetry dict holds at
 * most RTE_TEL_MAX_DICT_ENTRIES, so when more buckets are in use they are
 * merged 2, 4, ... at a time, each group under its last index (an upper
 * edge, like the percentiles).
 */
static void
lat_histogram(struct rte_tel_data *d, const uint64_t *h)
{
	struct rte_tel_data *hd = rte_tel_data_alloc();
	unsigned group = 1, used;

	if (hd == NULL)
		return;
	for (;;) {
		used = 0;
		for (unsigned b = 0; b < DP_LAT_BUCKETS; b += group) {
			uint64_t n = 0;

			for (unsigned k = b; k < b + group && k < DP_LAT_BUCKETS; k++)
				n += h[k];
			used += n != 0;
		}
		if (used <= RTE_TEL_MAX_DICT_ENTRIES - 1 || group >= DP_LAT_BUCKETS)
			break;
		group *= 2;
	}
	rte_tel_data_start_dict(hd);
	for (unsigned b = 0; b < DP_LAT_BUCKETS; b += group) {
		uint64_t n = 0;
		char k[16];

		for (unsigned j = b; j < b + group && j < DP_LAT_BUCKETS; j++)
			n += h[j];
		if (n == 0)
			continue;
		snprintf(k, sizeof(k), "%u", b + group - 1);
		rte_tel_data_add_dict_u64(hd, k, n);
	}
	if (rte_tel_data_add_dict_container(d, "histogram", hd, 0) != 0)
		rte_tel_data_free(hd);
}

static int
telemetry_latency(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static uint64_t h[DP_LAT_BUCKETS];
	uint64_t total = 0;

	(void)cmd;
	pthread_mutex_lock(&lat_lock);
	for (unsigned b = 0; b < DP_LAT_BUCKETS; b++) {
		uint64_t v = 0;

		for (unsigned w = 0; w < dp_n_workers; w++)
			v += dp_workers[w]->lat.bucket[b];
		h[b] = v - lat_base[b];
		if (params && strcmp(params, "reset") == 0)
			lat_base[b] = v;
		total += h[b];
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "count", total);
	rte_tel_data_add_dict_u64(d, "bucket_ns", DP_LAT_BUCKET_NS);
	rte_tel_data_add_dict_u64(d, "p50_ns", total ? lat_percentile(h, total, 0.50) : 0);
	rte_tel_data_add_dict_u64(d, "p99_ns", total ? lat_percentile(h, total, 0.99) : 0);
	rte_tel_data_add_dict_u64(d, "p999_ns", total ? lat_percentile(h, total, 0.999) : 0);
	rte_tel_data_add_dict_u64(d, "over_max", h[DP_LAT_BUCKETS - 1]);
	lat_histogram(d, h);
	pthread_mutex_unlock(&lat_lock);
	return 0;
}

int
dp_telemetry_init(void)
{
	if (rte_telemetry_register_cmd("/trackgate/latency", telemetry_latency,
				       "hub transit latency RX->TX since the last call with "
				       "parameter 'reset': count, p50_ns, p99_ns, p999_ns") < 0)
		return -1;
	return rte_telemetry_register_cmd("/trackgate/stats", telemetry_stats,
					  "trackgate counters: messages, drops by reason, "
					  "parse errors, releases by peer, stage cycles");
}
