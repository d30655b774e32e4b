/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * decide.h - one message's decision, from its payload bytes to the peers it
 * goes to (docs/release.md §5 and §6): admission, the event's start tag,
 * staleness, the marking, a declared `block` control, the early scopes,
 * which peers could still receive it, the rest of the document and the
 * late scopes, each peer's answer, the second check, and the XML a peer
 * with `encoding: xml` gets.  The worker (worker.c) and `tgctl explain`
 * (ctrl/explain.c) both call it: one implementation of the decision.
 *
 * Nothing here touches an mbuf, a port or the EAL: the worker frames and
 * forwards around it.  Per-worker state (parser, scratch, caches, counters)
 * is the dp_worker's; its caches may be NULL (every answer computed).
 */
#ifndef DP_DECIDE_H
#define DP_DECIDE_H

#include <stdint.h>

#include "msg.h"

struct dp_worker;
struct dp_policy;
struct tg_link;

/*
 * Before anything is parsed: TG_R_TOO_BIG (over max_message_bytes) or
 * TG_R_ENCODING (the link does not accept the encoding the first bytes
 * announce), else TG_R_RELEASED.
 */
int dp_admit(const struct dp_policy *pol, const struct tg_link *link, enum cot_encoding enc,
	     uint32_t len);

/* What dp_decide() hands back besides c. */
struct dp_decided {
	uint32_t send;   /* peers to send to (bit i = peers[i]) */
	uint32_t to_xml; /* of them, those that get w->xmlbuf instead of the payload */
	uint32_t xml_len;
	uint32_t sanitized; /* peers whose sanitize steps applied: those still in
			     * send get their copy (c->copy[], w->sanbuf[]) */
	uint64_t cycles[4]; /* parse, scan, decide, second check (dp_cfg.stage_cycles) */
};

/*
 * Decide an admitted message of `len` bytes at `pl` (not NUL-terminated)
 * that arrived on `link` (c->link_idx, c->port_id, c->enc set), at wall
 * time now_ms.  Sets c->reason (TG_R_RELEASED unless a message-level
 * reason), c->peer_reason[] of every peer, and what explain and the audit
 * show (c->ev, c->mk, c->cr, c->scanned, the second check's view).  When
 * out->send has peers, the caller forwards; a peer whose conversion could
 * not be written is already withheld with TG_R_CONVERT.  Counts what the
 * stages count (parse errors, scan_skipped); the caller counts the
 * message-level reason and each peer's.
 */
void dp_decide(struct dp_worker *w, const struct dp_policy *pol, const struct tg_link *link,
	       struct dp_msg_ctx *c, const uint8_t *pl, uint32_t len, int64_t now_ms,
	       struct dp_decided *out);

#endif /* DP_DECIDE_H */
