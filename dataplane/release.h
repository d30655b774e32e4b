/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * release.h - the per-peer release decision of docs/release.md §5, as pure
 * functions over plain data so they can be tested as a table of cases.
 *
 * The decision is taken in two steps.  Before the late scopes are scanned,
 * the marking, the link and the classes of the early rules say which peers
 * could still receive the message (release_possible); when none can, the
 * message is decided without the late scan.  Otherwise the late scopes are
 * scanned and release_decide() gives each peer its final answer.
 */
#ifndef DP_RELEASE_H
#define DP_RELEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "tg_maps.h"

#define DP_CLASS_OTHER 1u /* class bit 0: no classify rule matched */

/* What the worker knows about a message once it parsed and was classified. */
struct dp_msg {
	int link_idx;       /* link it arrived on */
	uint16_t port_id;   /* port it arrived on */
	uint32_t classes;   /* class set from classify rules (bit 0: other) */
	uint8_t level;      /* enum tg_level, TG_LVL_NONE if unknown */
	uint32_t peer_deny; /* peers a declared `peers:` control excludes, by index */
	uint64_t rel_mask;  /* resolved releasability over hdr.nations */
};

/*
 * Steps 3-5 (clearance, releasability with the marking's controls, echo):
 * what the marking and the
 * link decide, known before any rule is scanned.  `peer_port` is the peer's
 * port id in this dataplane, -1 if its device is absent.
 */
static inline enum tg_reason
release_marking(const struct tg_peer *peer, int peer_port, const struct dp_msg *m)
{
	if (m->level == TG_LVL_NONE || m->level > peer->clearance)
		return TG_R_CLEARANCE;
	if (peer->nation_idx >= TG_MAX_NATIONS ||
	    (m->rel_mask & (UINT64_C(1) << peer->nation_idx)) == 0 ||
	    (peer->index < 32 && ((m->peer_deny >> peer->index) & 1)))
		return TG_R_NOT_RELEASABLE;
	if (peer->link_idx == m->link_idx || peer_port == (int)m->port_id)
		return TG_R_ECHO;
	return TG_R_RELEASED;
}

/*
 * Whether a peer that passed release_marking() can still receive the
 * message once the late scopes are scanned: the early rules gave it a class
 * the peer receives, or the late rules can add one (`late`,
 * tg_late_classes()), or no early rule classified it and the peer receives
 * `other`, which it keeps unless a late rule matches.
 */
static inline bool
release_possible(const struct tg_peer *peer, uint32_t early, uint32_t late)
{
	return (peer->classes & (early | late)) != 0 ||
	       (early == 0 && (peer->classes & DP_CLASS_OTHER) != 0);
}

/*
 * Steps 3-7 for one peer (steps 1-2 are message level and the caller has
 * passed them), with the message's final classes.  Returns TG_R_RELEASED or
 * the first failing reason.
 */
static inline enum tg_reason
release_decide(const struct tg_peer *peer, int peer_port, const struct dp_msg *m)
{
	enum tg_reason r = release_marking(peer, peer_port, m);

	if (r != TG_R_RELEASED)
		return r;
	if ((m->classes & peer->classes) == 0)
		return TG_R_CLASS;
	if (peer_port < 0)
		return TG_R_PEER_DOWN;
	return TG_R_RELEASED;
}

#endif /* DP_RELEASE_H */
