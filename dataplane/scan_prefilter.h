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
 * (p, len): the payload scan saw one of its candidates, or the text is not
 * a byte range of the payload (entities were decoded into the event), so
 * the payload scan proves nothing about it.  An empty field cannot match.
 */
static inline bool
prefilter_must_scan(uint32_t seen, unsigned s, const char *p, size_t len, const uint8_t *payload,
		    size_t payload_len)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)payload;

	if (len == 0)
		return false;
	if (seen & (1u << s))
		return true;
	return !(a >= b && a + len <= b + payload_len);
}

#endif /* DP_SCAN_PREFILTER_H */
