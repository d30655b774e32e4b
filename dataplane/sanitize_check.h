/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sanitize_check.h - the second check of a sanitized copy (docs/release.md
 * §7, "Sanitized copies"): the copy and the original payload read again
 * with this file's own code, none of sanitize.c's or the parser's, and the
 * four properties confirmed.  Part of the second mechanism, like
 * second_check.c (whose sc_derive() reads the copy's marking).
 */
#ifndef DP_SANITIZE_CHECK_H
#define DP_SANITIZE_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tg_maps.h"

/* Which property a copy failed (0: none). */
enum scs_result {
	SCS_OK = 0,
	SCS_MARKING,    /* (a) its marking leaves out a peer of the copy, or widens */
	SCS_CANONICAL,  /* (b) a CDATA section, comment, PI or DOCTYPE; typed v1 detail */
	SCS_DROPPED,    /* (b) a dropped element or attribute name is in it */
	SCS_POINT,      /* (c) lat, lon or ce not what coarsen_point allows */
	SCS_CHANGED,    /* (d) something no step names differs from the original */
	SCS_UNREADABLE, /* the copy or the original cannot be read */
	SCS_COUNT
};
const char *scs_name(unsigned r);

/* Scratch for one check: two normalised detail texts. */
#define SCS_SCRATCH (2 * 70000)

/*
 * Check `copy` (clen bytes, XML or TAK v1 by its first bytes) against the
 * original payload `orig` (olen) under the published entries `entries`
 * combined: the copy goes to the peers `copy_peers`; the first mechanism's
 * marking admits `admitted` (peers, bit i = peers[i]).  scratch has
 * SCS_SCRATCH bytes.
 */
enum scs_result sc_check_copy(const uint8_t *orig, size_t olen, const uint8_t *copy, size_t clen,
			      const struct tg_slot_hdr *hdr, const struct tg_peer *peers,
			      const struct tg_marking *link_default, uint16_t entries,
			      uint32_t copy_peers, uint32_t admitted, uint8_t *scratch);

#endif /* DP_SANITIZE_CHECK_H */
