/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * second_check.h - the independent re-derivation of a message's
 * classification level and releasability from its raw bytes (see
 * second_check.c for what "independent" means here).
 */
#ifndef DP_SECOND_CHECK_H
#define DP_SECOND_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tg_maps.h"

/*
 * Level and releasability (over hdr->nations) of the CoT payload at p,
 * resolved with the arrival link's default marking (NULL: none), and the
 * peers its declared controls allow (*allowed: bit i = peers[i]; ~0 when
 * no control restricts them, 0 when one blocks the message).  false when
 * it cannot tell: the caller must then not release.
 */
bool sc_derive(const uint8_t *p, size_t len, const struct tg_slot_hdr *hdr,
	       const struct tg_marking *link_default, uint8_t *level, uint64_t *rel,
	       uint32_t *allowed);

/* Peers (bit i = peers[i]) whose clearance and nation a level and
 * releasability admit, among `allowed`: decision steps 4 and 5 only. */
uint32_t sc_peer_mask(const struct tg_peer *peers, unsigned n_peers, uint8_t level,
		      uint64_t rel, uint32_t allowed);

#endif /* DP_SECOND_CHECK_H */
