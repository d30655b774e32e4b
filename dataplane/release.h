/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * release.h - the per-peer release decision of docs/release.md §5, as a pure
 * function over plain data so it can be tested as a table of cases.
 */
#ifndef DP_RELEASE_H
#define DP_RELEASE_H

#include <stdint.h>

#include "tg_maps.h"

/* What the worker knows about a message once it parsed and was classified. */
struct dp_msg {
	int link_idx;       /* link it arrived on */
	uint16_t port_id;   /* port it arrived on */
	uint32_t classes;   /* class set from classify rules (bit 0: other) */
	uint8_t level;      /* enum tg_level, TG_LVL_NONE if unknown */
	uint64_t rel_mask;  /* resolved releasability over hdr.nations */
};

/*
 * Steps 3-6 of the decision for one peer (steps 1-2 are message level and
 * the caller has passed them).  `peer_port` is the peer's port id in this
 * dataplane, -1 if its device is absent.  Returns TG_R_RELEASED or the first
 * failing reason.
 */
static inline enum tg_reason
release_decide(const struct tg_peer *peer, int peer_port, const struct dp_msg *m)
{
	if ((m->classes & peer->classes) == 0)
		return TG_R_CLASS;
	if (m->level == TG_LVL_NONE || m->level > peer->clearance)
		return TG_R_CLEARANCE;
	if (peer->nation_idx >= TG_MAX_NATIONS ||
	    (m->rel_mask & (UINT64_C(1) << peer->nation_idx)) == 0)
		return TG_R_NOT_RELEASABLE;
	if (peer->link_idx == m->link_idx || peer_port == (int)m->port_id)
		return TG_R_ECHO;
	if (peer_port < 0)
		return TG_R_PEER_DOWN;
	return TG_R_RELEASED;
}

#endif /* DP_RELEASE_H */
