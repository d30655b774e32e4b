/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scan_prefilter.h - when a field scope's prefiltered rules must be scanned
 * (tg_maps.h, TG_HSDB_PF; docs/release.md §4).  Shared by the dataplane and
 * tools/scan_bench, so the scan-only limit does the same scans.
 */
#ifndef DP_SCAN_PREFILTER_H
#define DP_SCAN_PREFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cot_parse.h"
#include "tg_maps.h"

/* In a payload-scan callback: record a candidate; true if `id` was one. */
static inline bool
prefilter_note(uint32_t id, uint32_t *seen)
{
	if (id < TG_CAND_ID_BASE)
		return false;
	*seen |= 1u << TG_CAND_SCOPE(id);
	return true;
}

/*
 * Whether the prefiltered database of scope `s` must scan the field text
 * (p, len) (docs/release.md §4), given how it was decoded (`dec`, NULL if
 * not known):
 *   - the payload scan saw one of its candidates: yes;
 *   - the text is a byte range of the payload: no, the payload scan saw
 *     every byte of it;
 *   - the text was decoded: a match inside one run of payload bytes would
 *     have shown as a candidate, so only a match that contains a byte the
 *     decoding produced, or that spans two runs joined across removed
 *     markup, can be missing.  Yes if text was joined, or if a produced
 *     byte is one a prefiltered rule's match can contain (`match_bytes`,
 *     tg_slot_hdr.pf_match_bytes[s]); yes if `dec` is NULL.
 * An empty field cannot match.
 */
static inline bool
prefilter_must_scan(uint32_t seen, unsigned s, const char *p, size_t len, const uint8_t *payload,
		    size_t payload_len, const struct cot_decoded *dec, const uint64_t *match_bytes)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)payload;

	if (len == 0)
		return false;
	if (seen & (1u << s))
		return true;
	if (a >= b && a + len <= b + payload_len)
		return false;
	if (dec == NULL || dec->joined)
		return true;
	return ((dec->produced[0] & match_bytes[0]) | (dec->produced[1] & match_bytes[1]) |
		(dec->produced[2] & match_bytes[2]) | (dec->produced[3] & match_bytes[3])) != 0;
}

#endif /* DP_SCAN_PREFILTER_H */
