/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * worker.c - the per-lcore fast path: rx burst -> frame parse/reassembly ->
 * the event's start tag -> marking -> the early scopes -> which peers could
 * receive it -> (if any) the rest of the document and the late scopes ->
 * per-peer decision -> second check -> forward, then TX flush and an RCU
 * quiescent report (docs/release.md §5).  The policy pointer is
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
#include "cot_write.h"
#include "dp.h"
#include "forward.h"
#include "marking_cache.h"
#include "msg.h"
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

/* A message that did not parse (cot_parse_head or cot_parse_rest): counted
 * by the parser's error. */
static inline void
parse_failed(struct dp_worker *w, struct dp_msg_ctx *c, enum cot_err ce)
{
	w->cnt.parse_err[ce < COT_E_COUNT ? ce : 0]++;
	c->reason = TG_R_PARSE;
	c->parse_err = ce;
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

/*
 * The decision (docs/release.md §5) once the event's start tag was parsed
 * and the early scopes were scanned: the peers the marking and the link
 * admit, of them those that can still receive the message; only if there
 * is one, the rest of the document is parsed and the late scopes scanned;
 * then each of those peers' final answer.  Returns the peers to send to, 0
 * with c->reason set if the rest did not parse or the late scan blocked the
 * message.  Adds the time it parsed and scanned to *parse_cycles and
 * *scan_cycles.
 */
static inline uint32_t
decide(struct dp_worker *w, const struct dp_policy *pol, struct dp_msg_ctx *c,
       const struct tg_marking *mk, const uint8_t *pl, uint32_t len, uint64_t *parse_cycles,
       uint64_t *scan_cycles)
{
	enum cot_err ce;
	struct dp_msg msg = {
		.link_idx = c->link_idx,
		.port_id = c->port_id,
		.classes = c->cr.classes,
		.level = mk->level,
		.peer_deny = ~mk->peer_mask,
		.rel_mask = mk->rel_mask,
	};
	uint32_t possible = 0, send = 0;
	uint64_t ts;
	int rc;

	for (unsigned pi = 0; pi < pol->hdr.n_peers; pi++) {
		enum tg_reason r = release_marking(&pol->peers[pi], pol->peer_port[pi], &msg);

		if (r == TG_R_RELEASED) {
			if (release_possible(&pol->peers[pi], c->cr.classes, pol->late_classes))
				possible |= 1u << pi;
			else
				r = TG_R_CLASS;
		}
		c->peer_reason[pi] = (uint8_t)r;
	}
	if (possible == 0) {
		w->cnt.scan_skipped++; /* withheld before the scan */
		return 0;
	}
	ts = stage_tsc();
	ce = cot_parse_rest(&w->cursor);
	*parse_cycles += stage_tsc() - ts;
	if (ce != COT_OK) {
		parse_failed(w, c, ce);
		return 0;
	}
	ts = stage_tsc();
	rc = dp_classify_late(w, pol, pl, len, c->ev, &c->cr);
	*scan_cycles += stage_tsc() - ts;
	c->scanned = true;
	if (rc != TG_R_RELEASED) {
		c->reason = rc;
		return 0;
	}
	msg.classes = c->cr.classes;
	for (unsigned pi = 0; pi < pol->hdr.n_peers; pi++) {
		if (!(possible & (1u << pi)))
			continue;
		c->peer_reason[pi] = (uint8_t)release_decide(&pol->peers[pi], pol->peer_port[pi],
							     &msg);
		if (c->peer_reason[pi] == TG_R_RELEASED)
			send |= 1u << pi;
	}
	return send;
}

/* The XML a peer with `encoding: xml` gets for a v1 message (release.md
 * §6), built once per message in w->xmlbuf and checked by the second
 * check like the message itself.  NULL with *why set: TG_R_CONVERT
 * (peer level) if it does not fit or no buffer is left, TG_R_CHECK_MISMATCH
 * (message level, c->reason set) if the second check reads another
 * marking in it. */
static struct rte_mbuf *
convert_xml(struct dp_worker *w, const struct dp_policy *pol, struct dp_msg_ctx *c,
	    const struct tg_link *link, uint32_t *len, uint16_t *sum, int *why)
{
	size_t n = cot_write_xml(&w->ev, w->xmlbuf, sizeof(w->xmlbuf));
	struct rte_mbuf *x;

	*why = TG_R_CONVERT;
	if (n == 0)
		return NULL;
	if (dp_cfg.second_check) {
		uint8_t lvl;
		uint64_t rel;
		uint32_t allowed;
		bool ok = sc_derive((const uint8_t *)w->xmlbuf, n, &pol->hdr,
				    link->has_default_marking ? &link->default_marking : NULL,
				    &lvl, &rel, &allowed);
		uint32_t m2 = ok ? sc_peer_mask(pol->peers, pol->hdr.n_peers, lvl, rel, allowed) : 0;

		if (!ok || m2 != c->checks[0]) {
			c->checks[1] = m2;
			c->checks[2] = !ok;
			c->reason = *why = TG_R_CHECK_MISMATCH;
			return NULL;
		}
	}
	x = fwd_payload_mbuf(w->xmlbuf, (uint32_t)n);
	if (x == NULL)
		return NULL;
	w->cnt.converted++;
	*len = (uint32_t)n;
	*sum = dp_raw_cksum(w->xmlbuf, n);
	return x;
}

/* The independent second check, before anything is queued for TX: the two
 * mechanisms must agree on which peers the marking admits.  False (and
 * c->reason set) if they do not. */
static inline bool
second_check(const struct dp_policy *pol, struct dp_msg_ctx *c, const struct tg_link *link,
	     const struct tg_marking *mk, const uint8_t *pl, uint32_t len)
{
	uint8_t lvl2;
	uint64_t rel2;
	uint32_t allowed2;
	bool ok2 = sc_derive(pl, len, &pol->hdr,
			     link->has_default_marking ? &link->default_marking : NULL, &lvl2,
			     &rel2, &allowed2);

	c->checks[0] = sc_peer_mask(pol->peers, pol->hdr.n_peers, mk->level, mk->rel_mask,
				    mk->blocked ? 0 : mk->peer_mask);
	c->checks[1] = ok2 ? sc_peer_mask(pol->peers, pol->hdr.n_peers, lvl2, rel2, allowed2) : 0;
	c->checks[2] = !ok2;
	if (ok2 && c->checks[0] == c->checks[1])
		return true;
	c->reason = TG_R_CHECK_MISMATCH;
	return false;
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
	uint32_t xlen = 0, to_xml = 0;
	uint16_t xsum = 0;
	struct dp_pkt pk;
	struct tg_marking mk;
	const struct tg_link *link;
	const struct cot_event *ev = &w->ev;
	const uint8_t *pl;
	enum cot_err ce;
	uint32_t send;
	uint64_t t0, t1, t2, t3, t4, tscan, tparse = 0;
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
	if (pk.payload_len > pol->hdr.max_message_bytes) {
		c.reason = TG_R_TOO_BIG;
		goto done;
	}
	if (!(link->encodings & (1u << c.enc))) {
		c.reason = TG_R_ENCODING;
		goto done;
	}

	/* Parse the event's start tag, and resolve the marking (the rest of
	 * the document only if some peer can still receive it: decide()). */
	t0 = stage_tsc();
	pl = rte_pktmbuf_read(m, pk.payload_off, pk.payload_len, w->linbuf);
	/* cot_parse_head() clears the event first, also for no bytes: the
	 * audit record of a drop never shows the previous message's uid. */
	ce = cot_parse_head_lim(pl ? pl : (const uint8_t *)"", pl ? pk.payload_len : 0,
				&pol->limits, &w->ev, &w->cursor);
	c.ev = ev;
	if (ce != COT_OK) {
		if (ce == COT_E_TAK_CONTROL)
			c.reason = TG_R_TAK_CONTROL; /* between mesh neighbours: not relayed */
		else
			parse_failed(w, &c, ce);
		goto done;
	}
	if (!(pol->hdr.flags & TG_PF_IGNORE_STALE) &&
	    ev->stale_ms + (int64_t)pol->hdr.stale_tolerance_s * 1000 < now_ms) {
		c.reason = TG_R_STALE;
		goto done;
	}
	if (mk_cache_resolve(w->mk_cache, pol, pol->generation, (unsigned)c.link_idx, ev->access.p,
			     ev->access.len, ev->caveat.p, ev->caveat.len, ev->releasable_to.p,
			     ev->releasable_to.len,
			     link->has_default_marking ? &link->default_marking : NULL, &pol->hdr,
			     &mk) < 0) {
		c.reason = TG_R_BAD_MARKING;
		goto done;
	}
	if (mk.blocked) {
		/* A declared `block` control: nobody, before any rule is
		 * scanned (release.md §3, §5 step 2). */
		c.reason = TG_R_BLOCKED;
		c.block_control = mk.blocked;
		goto done;
	}

	/* The early scopes, then the decision (with the late scan if some
	 * peer can still receive the message). */
	t1 = stage_tsc();
	rc = dp_classify_early(w, pol, ev, &c.cr);
	tscan = stage_tsc() - t1;
	if (rc != TG_R_RELEASED) {
		c.reason = rc;
		goto done;
	}
	send = decide(w, pol, &c, &mk, pl, pk.payload_len, &tparse, &tscan);
	t2 = stage_tsc();
	if (c.reason != TG_R_RELEASED)
		goto done;

	/* Only a release needs the second opinion. */
	if (send != 0 && dp_cfg.second_check &&
	    !second_check(pol, &c, link, &mk, pl, pk.payload_len))
		goto done;
	/* A v1 message for peers that want XML: converted once, checked
	 * again, before anything is sent. */
	if (ev->encoding == COT_ENC_TAKV1)
		for (unsigned pi = 0; send >> pi; pi++)
			if ((send & (1u << pi)) && pol->peers[pi].encoding == TG_PEER_ENC_XML)
				to_xml |= 1u << pi;
	if (to_xml) {
		int why;

		xm = convert_xml(w, pol, &c, link, &xlen, &xsum, &why);
		if (c.reason != TG_R_RELEASED)
			goto done;
		if (xm == NULL)
			for (unsigned pi = 0; to_xml >> pi; pi++)
				if (to_xml & (1u << pi))
					c.peer_reason[pi] = (uint8_t)why;
	}
	t3 = stage_tsc();

	for (unsigned pi = 0; send >> pi; pi++) {
		if (!(send & (1u << pi)))
			continue;
		if (to_xml & (1u << pi)) {
			if (xm != NULL)
				c.peer_reason[pi] =
					(uint8_t)fwd_to_peer(w, pol, pi, xm, 0, xlen, xsum);
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
		w->cnt.cycles[0] += t1 - t0 + tparse;
		w->cnt.cycles[1] += tscan;
		w->cnt.cycles[2] += t2 - t1 - tscan - tparse;
		w->cnt.cycles[3] += t4 - t3;
		w->cnt.cycles[4] += t3 - t2;
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
