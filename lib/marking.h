/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * marking.h - security markings (docs/release.md §3), resolved against the
 * nation and group tables of a published policy header.
 *
 * Shared by tgctl (validating link default markings) and the dataplane hot
 * path: every function here is allocation-free, locale-free, reentrant and
 * bounded by the input length.  Grammar details: docs/policy.md "Markings".
 */
#ifndef TG_MARKING_H
#define TG_MARKING_H

#include <stddef.h>
#include <stdint.h>

#include "tg_maps.h"

/* Flags for tg_marking_parse_ex(). */
#define TG_MK_ACCESS 0x1u /* a full marking: LEVEL first (else controls only) */
#define TG_MK_STRICT 0x2u /* a list token that is neither a 3-letter trigraph
			   * nor a known group is an error (policy checking);
			   * without it such tokens are ignored (release.md) */

/* Why a marking is bad: a static string and the byte offset of the fault. */
struct tg_marking_err {
	const char *msg;
	size_t off;
};

/*
 * Parse a marking string.  With TG_MK_ACCESS: `LEVEL[//CONTROL...]` (the
 * CoT `access` attribute, a link's default_marking); without it: zero or
 * more `//`-separated controls (the CoT `caveat` attribute).  Several REL TO
 * controls intersect.  Returns 0, or -1 if the marking is bad (err, if not
 * NULL, then says why).  out->level is TG_LVL_NONE when no level is present.
 */
int tg_marking_parse_ex(const char *s, size_t len, const struct tg_slot_hdr *hdr,
			unsigned int flags, struct tg_marking *out,
			struct tg_marking_err *err);

/* The `access` attribute: tg_marking_parse_ex(.., TG_MK_ACCESS, .., NULL). */
int tg_marking_parse(const char *s, size_t len, const struct tg_slot_hdr *hdr,
		     struct tg_marking *out);

/* The `caveat` attribute: controls only. */
int tg_caveat_parse(const char *s, size_t len, const struct tg_slot_hdr *hdr,
		    struct tg_marking *out);

/*
 * A `releasableTo` list: trigraphs and group names separated by blanks
 * and/or commas.  *mask is the union of the nations named (tokens naming no
 * known nation or group are ignored).  An empty list is valid (mask 0).
 * Returns 0, or -1 if a token holds a character other than [A-Za-z0-9_-].
 */
int tg_rel_list_parse(const char *s, size_t len, const struct tg_slot_hdr *hdr,
		      uint64_t *mask);

/* Bit of nation `USA` in hdr->nations, 0 if no peer is American. */
uint64_t tg_nation_usa_bit(const struct tg_slot_hdr *hdr);

/*
 * The one call the dataplane makes per message: resolve level, releasability
 * and NOFORN from the three optional message sources (NULL pointer = the
 * attribute is absent; a present but empty `access` is bad) and the arrival
 * link's default marking (NULL if the link has none), exactly as
 * docs/release.md §3 "Resolution" says:
 *   level  = access level, else the default's level, else TG_LVL_NONE;
 *   rel    = intersection of every list the message carries (REL TO in
 *            access, REL TO in caveat, releasableTo); if it carries none, the
 *            default's REL TO list; else the empty set;
 *   NOFORN (access or caveat) narrows rel to USA.
 * On success out->has_rel is 1 iff some list applied.  Returns 0, or -1 if
 * any source is bad (the message is then dropped as bad_marking).
 */
int tg_marking_resolve(const char *access, size_t access_len,
		       const char *caveat, size_t caveat_len,
		       const char *rel, size_t rel_len,
		       const struct tg_marking *link_default,
		       const struct tg_slot_hdr *hdr, struct tg_marking *out);

#endif /* TG_MARKING_H */
