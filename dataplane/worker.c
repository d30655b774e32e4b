/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * worker.c - the per-lcore fast path: rx burst -> frame parse/reassembly ->
 * CoT parse -> marking -> Hyperscan classification -> per-peer decision ->
 * forward, then TX flush and an RCU quiescent report.  The policy pointer is
 * loaded once per iteration, so every message of a burst is decided under
 * one whole policy, and a retired policy is freed only after every worker
 * has passed the quiescent point that follows its last use.
 */
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include "audit.h"
#include "classify.h"
#include "dp.h"
#include "forward.h"
#include "marking_cache.h"
#include "pkt_parse.h"
#include "reassembly.h"
#include "release.h"
#include "second_check.h"
#include "worker.h"

#define PREFETCH_OFFSET 3

static inline void
count_drop(struct dp_worker *w, int reason)
{
	w->cnt.reason[reason]++;
}

static inline uint64_t
stage_tsc(void)
{
	return dp_cfg.stage_cycles ? rte_rdtsc() : 0;
}

/* Everything from a received frame to its release or its counted drop.
 * Frees (or hands over) `m` on every path.  Not inlined: one call per frame
 * costs nothing measurable, and it keeps the per-frame work one unit for
 * `valgrind --tool=callgrind --toggle-collect=process_frame`. */
static __rte_noinline void
process_frame(struct dp_worker *w, const struct dp_policy *pol, uint16_t port_id,
	      struct rte_mbuf *m, uint64_t tsc, int64_t now_ms)
{
	struct dp_pkt pk;
	struct dp_class_result cr;
	struct tg_marking mk;
	const struct tg_link *link;
	const struct cot_event *ev = &w->ev;
	const uint8_t *pl;
	enum cot_err ce;
	uint8_t peer_reason[TG_MAX_PEERS];
	uint32_t released = 0;
	uint64_t t0, t1, t2, t3, tfwd = 0;
	uint64_t now_ns = (uint64_t)now_ms * 1000000ull;
	int li, rc;

	if (pol == NULL) {
		count_drop(w, TG_R_NO_POLICY);
		rte_pktmbuf_free(m);
		return;
	}
	li = pol->link_of_port[port_id];
	if (li < 0) {
		count_drop(w, TG_R_NO_LINK);
		rte_pktmbuf_free(m);
		return;
	}
	link = &pol->links[li];
	rc = dp_pkt_parse(w, link, &m, tsc, true, &pk);
	if (rc == DP_PKT_TAKEN)
		return;
	if (rc != TG_R_RELEASED) {
		count_drop(w, rc);
		rte_pktmbuf_free(m);
		return;
	}
	w->cnt.messages++;
	if (pk.payload_len > pol->hdr.max_message_bytes) {
		count_drop(w, TG_R_TOO_BIG);
		dp_audit_message(w, pol, port_id, li, TG_R_TOO_BIG, NULL, 0, NULL, NULL, COT_OK, now_ns,
				 NULL);
		rte_pktmbuf_free(m);
		return;
	}

	t0 = stage_tsc();
	pl = rte_pktmbuf_read(m, pk.payload_off, pk.payload_len, w->linbuf);
	/* cot_parse() clears the event first, also for no bytes: the audit
	 * record of a drop never shows the previous message's uid. */
	ce = cot_parse(pl ? pl : (const uint8_t *)"", pl ? pk.payload_len : 0, &w->ev);
	if (ce != COT_OK) {
		w->cnt.parse_err[ce < COT_E_COUNT ? ce : 0]++;
		rc = TG_R_PARSE;
		goto drop_message;
	}
	if (!(pol->hdr.flags & TG_PF_IGNORE_STALE) &&
	    ev->stale_ms + (int64_t)pol->hdr.stale_tolerance_s * 1000 < now_ms) {
		rc = TG_R_STALE;
		goto drop_message;
	}
	if (mk_cache_resolve(w->mk_cache, pol, pol->generation, (unsigned)li, ev->access.p,
			     ev->access.len, ev->caveat.p, ev->caveat.len, ev->releasable_to.p,
			     ev->releasable_to.len,
			     link->has_default_marking ? &link->default_marking : NULL, &pol->hdr,
			     &mk) < 0) {
		rc = TG_R_BAD_MARKING;
		goto drop_message;
	}
	t1 = stage_tsc();
	rc = dp_classify(w, pol, pl, pk.payload_len, ev, &cr);
	t2 = stage_tsc();
	if (rc != TG_R_RELEASED) {
		count_drop(w, rc);
		dp_audit_message(w, pol, port_id, li, rc, &cr, 0, NULL, ev, COT_OK, now_ns, NULL);
		rte_pktmbuf_free(m);
		return;
	}

	/* The independent second check, before anything is queued for TX: the
	 * two mechanisms must agree on which peers the marking admits. */
	if (dp_cfg.second_check) {
		uint8_t lvl2;
		uint64_t rel2;
		bool ok2 = sc_derive(pl, pk.payload_len, &pol->hdr,
				     link->has_default_marking ? &link->default_marking : NULL,
				     &lvl2, &rel2);
		uint32_t checks[3] = {
			sc_peer_mask(pol->peers, pol->hdr.n_peers, mk.level, mk.rel_mask),
			ok2 ? sc_peer_mask(pol->peers, pol->hdr.n_peers, lvl2, rel2) : 0,
			!ok2,
		};
		uint64_t tc = stage_tsc();

		w->cnt.cycles[4] += tc - t2;
		t2 = tc;
		if (!ok2 || checks[0] != checks[1]) {
			count_drop(w, TG_R_CHECK_MISMATCH);
			dp_audit_message(w, pol, port_id, li, TG_R_CHECK_MISMATCH, &cr, 0, NULL,
					 ev, COT_OK, now_ns, checks);
			rte_pktmbuf_free(m);
			return;
		}
	}

	struct dp_msg msg = {
		.link_idx = li,
		.port_id = port_id,
		.classes = cr.classes,
		.level = mk.level,
		.rel_mask = mk.rel_mask,
	};
	int32_t payload_sum = -1;

	for (unsigned pi = 0; pi < pol->hdr.n_peers; pi++) {
		enum tg_reason r = release_decide(&pol->peers[pi], pol->peer_port[pi], &msg);

		if (r == TG_R_RELEASED) {
			uint64_t f0 = stage_tsc();

			if (payload_sum < 0)
				payload_sum = dp_pkt_payload_sum(m, &pk, pl);
			r = fwd_to_peer(w, pol, pi, m, pk.payload_off, pk.payload_len,
					(uint16_t)payload_sum);
			tfwd += stage_tsc() - f0;
		}
		peer_reason[pi] = (uint8_t)r;
		if (r == TG_R_RELEASED)
			released |= 1u << pi;
		else
			pol->peer_cnt[w->idx * TG_MAX_PEERS + pi].withheld[r]++;
	}
	t3 = stage_tsc();
	if (dp_cfg.stage_cycles) {
		w->cnt.cycles[0] += t1 - t0;
		w->cnt.cycles[1] += t2 - t1;
		w->cnt.cycles[2] += t3 - t2 - tfwd;
		w->cnt.cycles[3] += tfwd;
		w->cnt.cycles_msgs++;
	}
	dp_audit_message(w, pol, port_id, li, TG_R_RELEASED, &cr, released, peer_reason, ev, COT_OK,
			 now_ns, NULL);
	/* Drop our reference; the clones queued for TX keep the payload alive. */
	rte_pktmbuf_free(m);
	return;

drop_message:
	count_drop(w, rc);
	dp_audit_message(w, pol, port_id, li, rc, NULL, 0, NULL, ev, rc == TG_R_PARSE ? ce : COT_OK,
			 now_ns, NULL);
	rte_pktmbuf_free(m);
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
dp_worker_iterate(struct dp_worker *w, const struct dp_policy *pol, uint64_t tsc, int64_t now_ms)
{
	struct rte_mbuf *pkts[DP_BURST];

	for (unsigned q = 0; q < w->n_rxq; q++) {
		uint16_t port_id = w->rxq[q].port_id;
		uint16_t n = rte_eth_rx_burst(port_id, w->rxq[q].queue_id, pkts, DP_BURST);

		if (n == 0)
			continue;
		w->rx_tsc = rte_rdtsc();
		w->last_rx_tsc = tsc;
		w->cnt.rx_packets += n;
		for (uint16_t i = 0; i < n && i < PREFETCH_OFFSET; i++)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
		for (uint16_t i = 0; i < n; i++) {
			if (i + PREFETCH_OFFSET < n)
				rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_OFFSET], void *));
			process_frame(w, pol, port_id, pkts[i], tsc, now_ms);
			/* A backlog burst would hold every release until its
			 * last message is decided: past the drain budget, send
			 * each as it is decided (l3fwd's drain timer, per
			 * message instead of per poll). */
			if (w->tx_pending && rte_rdtsc() - w->tx_oldest_tsc >= dp_tx_drain_cycles)
				fwd_flush_all(w, pol);
		}
		/* Send what this burst released before polling the next
		 * queue: latency is one burst, not one pass over all queues. */
		if (w->tx_pending)
			fwd_flush_all(w, pol);
	}
	/* Datagrams whose fragments stopped coming.  (Everything else the
	 * reassembly table lets go is accounted for as it happens.) */
	if ((++w->iter & 1023) == 0)
		dp_reasm_expire(w, tsc);
}

int
dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;

	rte_rcu_qsbr_thread_register(dp_qsbr, w->idx);
	rte_rcu_qsbr_thread_online(dp_qsbr, w->idx);

	while (!__atomic_load_n(&dp_quit, __ATOMIC_RELAXED)) {
		/* One policy for the whole pass: every message of it is
		 * decided under one whole policy. */
		const struct dp_policy *pol = __atomic_load_n(&dp_active, __ATOMIC_ACQUIRE);

		dp_worker_iterate(w, pol, rte_rdtsc(), wall_ms());
		rte_rcu_qsbr_quiescent(dp_qsbr, w->idx);
	}

	rte_rcu_qsbr_thread_offline(dp_qsbr, w->idx);
	rte_rcu_qsbr_thread_unregister(dp_qsbr, w->idx);
	return 0;
}
