/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * worker.c - the per-lcore fast path: rx burst -> frame parse/reassembly ->
 * the message's decision (decide.c: the event's start tag -> marking -> the
 * early scopes -> which peers could receive it -> (if any) the rest of the
 * document and the late scopes -> per-peer decision -> second check) ->
 * forward, then TX flush and an RCU quiescent report (docs/release.md §5).  The policy pointer is
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
#include "cksum.h"
#include "decide.h"
#include "dp.h"
#include "forward.h"
#include "msg.h"
#include "pkt_parse.h"
#include "reassembly.h"
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

/* Count a decided message's peers: withheld ones by their reason. */
static inline void
count_peers(const struct dp_policy *pol, struct dp_worker *w, const struct dp_msg_ctx *c)
{
	struct dp_peer_cnt *pc = &pol->peer_cnt[w->idx * TG_MAX_PEERS];

	for (unsigned pi = 0; pi < pol->hdr.n_peers; pi++)
		if (!(c->released & (1u << pi)))
			pc[pi].withheld[c->peer_reason[pi]]++;
}

/* Everything from a received frame to its release or its counted drop.
 * Frees (or hands over) `m` on every path.  Not inlined: one call per frame
 * costs nothing measurable, and it keeps the per-frame work one unit for
 * `valgrind --tool=callgrind --toggle-collect=process_frame`. */
static __rte_noinline void
process_frame(struct dp_worker *w, const struct dp_policy *pol, uint16_t port_id,
	      struct rte_mbuf *m, uint64_t tsc, int64_t now_ms)
{
	struct dp_msg_ctx c = {.port_id = port_id, .link_idx = -1, .reason = TG_R_RELEASED,
			       .enc = COT_ENC_XML};
	struct rte_mbuf *xm = NULL; /* the XML conversion, when a peer wants it */
	struct rte_mbuf *sm[DP_SAN_COPIES] = {NULL}; /* the sanitized copies */
	uint16_t ssum[DP_SAN_COPIES] = {0};
	struct dp_decided d;
	uint16_t xsum = 0;
	struct dp_pkt pk;
	const struct tg_link *link;
	const uint8_t *pl;
	uint64_t t3, t4;
	uint64_t now_ns = (uint64_t)now_ms * 1000000ull;
	int32_t payload_sum = -1;
	int rc;

	if (pol == NULL) {
		count_drop(w, TG_R_NO_POLICY);
		rte_pktmbuf_free(m);
		return;
	}
	c.link_idx = pol->link_of_port[port_id];
	if (c.link_idx < 0) {
		count_drop(w, TG_R_NO_LINK);
		rte_pktmbuf_free(m);
		return;
	}
	link = &pol->links[c.link_idx];
	rc = dp_pkt_parse(w, link, &m, tsc, true, &pk);
	if (rc == DP_PKT_TAKEN)
		return;
	if (rc != TG_R_RELEASED) {
		count_drop(w, rc);
		rte_pktmbuf_free(m);
		return;
	}
	w->cnt.messages++;
	{
		uint8_t b3[3];
		const uint8_t *h = pk.payload_len >= 3
					   ? rte_pktmbuf_read(m, pk.payload_off, 3, b3)
					   : NULL;

		c.enc = h ? cot_encoding_of(h, 3) : COT_ENC_XML;
	}
	w->cnt.enc_messages[c.enc]++;
	c.reason = dp_admit(pol, link, c.enc, pk.payload_len);
	if (c.reason != TG_R_RELEASED)
		goto done;

	/* The message in one piece, and its decision (decide.c). */
	pl = rte_pktmbuf_read(m, pk.payload_off, pk.payload_len, w->linbuf);
	dp_decide(w, pol, link, &c, pl ? pl : (const uint8_t *)"", pl ? pk.payload_len : 0,
		  now_ms, &d);
	if (c.reason != TG_R_RELEASED)
		goto done;
	if (d.to_xml) {
		xm = fwd_payload_mbuf(w->xmlbuf, d.xml_len);
		if (xm == NULL) {
			for (unsigned pi = 0; d.to_xml >> pi; pi++)
				if (d.to_xml & (1u << pi))
					c.peer_reason[pi] = TG_R_CONVERT;
			d.send &= ~d.to_xml;
		} else {
			w->cnt.converted++;
			xsum = dp_raw_cksum(w->xmlbuf, d.xml_len);
		}
	}
	/* The sanitized copies: one mbuf each, shared by its peers. */
	for (unsigned g = 0; g < c.n_copies; g++) {
		struct dp_copy *cp = &c.copy[g];

		if (cp->len == 0 || !(cp->peers & d.send))
			continue;
		sm[g] = fwd_payload_mbuf(w->sanbuf[g], cp->len);
		if (sm[g] == NULL) {
			for (unsigned pi = 0; cp->peers >> pi; pi++)
				if ((cp->peers >> pi) & 1)
					c.peer_reason[pi] = TG_R_SANITIZE;
			d.send &= ~cp->peers;
			cp->len = 0;
			continue;
		}
		ssum[g] = dp_raw_cksum(w->sanbuf[g], cp->len);
	}
	t3 = stage_tsc();

	for (unsigned pi = 0; d.send >> pi; pi++) {
		if (!(d.send & (1u << pi)))
			continue;
		if (d.sanitized & (1u << pi)) {
			unsigned g = 0;

			while (g < c.n_copies && !((c.copy[g].peers >> pi) & 1))
				g++;
			c.peer_reason[pi] = (uint8_t)fwd_to_peer(w, pol, pi, sm[g], 0, c.copy[g].len,
								 ssum[g]);
			if (c.peer_reason[pi] == TG_R_RELEASED)
				pol->peer_cnt[w->idx * TG_MAX_PEERS + pi].sanitized++;
		} else if (d.to_xml & (1u << pi)) {
			c.peer_reason[pi] =
				(uint8_t)fwd_to_peer(w, pol, pi, xm, 0, d.xml_len, xsum);
		} else {
			if (payload_sum < 0)
				payload_sum = dp_pkt_payload_sum(m, &pk, pl);
			c.peer_reason[pi] =
				(uint8_t)fwd_to_peer(w, pol, pi, m, pk.payload_off,
						     pk.payload_len, (uint16_t)payload_sum);
		}
		if (c.peer_reason[pi] == TG_R_RELEASED)
			c.released |= 1u << pi;
	}
	t4 = stage_tsc();
	count_peers(pol, w, &c);
	if (dp_cfg.stage_cycles) {
		w->cnt.cycles[0] += d.cycles[0];
		w->cnt.cycles[1] += d.cycles[1];
		w->cnt.cycles[2] += d.cycles[2];
		w->cnt.cycles[3] += t4 - t3;
		w->cnt.cycles[4] += d.cycles[3];
		w->cnt.cycles_msgs++;
	}
done:
	if (c.reason != TG_R_RELEASED) {
		count_drop(w, c.reason);
		w->cnt.enc_reason[c.enc][c.reason]++;
	}
	dp_audit_message(w, pol, &c, now_ns);
	/* Drop our references; the clones queued for TX keep the payloads alive. */
	rte_pktmbuf_free(xm);
	for (unsigned g = 0; g < DP_SAN_COPIES; g++)
		rte_pktmbuf_free(sm[g]);
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
