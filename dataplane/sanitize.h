/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sanitize.h - a peer's sanitized copy of a message (docs/release.md §6,
 * "Sanitized copies"; docs/policy.md `sanitize`): the steps of the entries
 * that apply combined, the detail rewritten in its canonical form, and the
 * whole copy written from the decoded event, as CoT XML or as TAK Protocol
 * v1.  Bounded and allocation-free; pure C (no DPDK), so unit tests and
 * fuzzers drive it directly.  The second check confirms each copy with its
 * own code (sanitize_check.c) before it leaves.
 */
#ifndef DP_SANITIZE_H
#define DP_SANITIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cot_parse.h"
#include "tg_maps.h"

#define DP_SAN_COPIES 4 /* distinct sanitized copies of one message */
#define SAN_MAX_NAMES (TG_MAX_SAN * TG_SAN_MAX_NAMES)
#define SAN_MAX_DEPTH 32 /* the parser allows 16 */

/* The combined steps of one copy (release.md §6: names united, the
 * smallest decimals, the largest min_ce). */
struct san_steps {
	uint16_t entries; /* the tg_sanitize entries combined */
	uint16_t n_elems, n_attrs;
	bool drop_remarks;
	uint8_t decimals; /* TG_SAN_NO_COARSEN: no coarsen_point */
	double min_ce;
	const char *set[TG_SA_COUNT]; /* NULL: not set */
	const char *elems[SAN_MAX_NAMES];
	const char *attrs[SAN_MAX_NAMES][2]; /* element, attribute */
};

/* Of a peer's entries (tg_peer.sanitize), those that apply to a message of
 * `classes` (its final classes). */
uint16_t san_applies(const struct tg_slot_hdr *h, uint16_t peer_entries, uint32_t classes);

/* The steps of `entries` combined. */
void san_combine(const struct tg_slot_hdr *h, uint16_t entries, struct san_steps *st);

/* x rounded to `decimals` decimals, halves away from zero:
 * floor(|x| * 10^d + 0.5) / 10^d with x's sign. */
double san_round(double x, unsigned decimals);

/*
 * D': the detail content `d` (n bytes: between <detail> and </detail>, or a
 * v1 event's detail text) with the steps applied, in canonical form, at
 * out.  Its length, or SIZE_MAX if it does not fit in cap, or if `d` is not
 * content the parser would have accepted (never, for a parsed event: the
 * writer refuses rather than guesses).
 */
size_t san_detail(const char *d, size_t n, const struct san_steps *st, char *out, size_t cap);

/*
 * The copy of the parsed event `ev` (head and rest) under `st`: CoT XML, or
 * TAK Protocol v1 when v1 is true, at out (cap bytes).  scratch (scap
 * bytes) holds D' on the way.  Its length, or 0 if it does not fit.
 */
size_t san_write(const struct cot_event *ev, const struct san_steps *st, bool v1, char *scratch,
		 size_t scap, char *out, size_t cap);

/* One entry's steps in words ("drop_elements __sensor,link; coarsen_point
 * 2 decimals, ce at least 1000 m; ..."), NUL-terminated at out (cut at
 * cap); for the audit log and tgctl explain. */
void san_describe(const struct tg_sanitize *e, char *out, size_t cap);

#endif /* DP_SANITIZE_H */
