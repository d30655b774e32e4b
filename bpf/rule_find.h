/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rule_find.h - find a rule by id: binary search in one scope's id-sorted
 * range of the published rules.  Shared by the dataplane's match callback,
 * tools/scan_bench (so the scan-only limit measures the same work) and
 * tgctl's compiler (combination operands).
 */
#ifndef DP_RULE_FIND_H
#define DP_RULE_FIND_H

#include <stdint.h>

#include "tg_maps.h"

/* Index in r[0..n) of the rule with `id`, or -1. */
static inline int32_t
rule_find(const struct tg_rule *r, uint32_t n, uint32_t id)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (r[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && r[lo].id == id ? (int32_t)lo : -1;
}

#endif /* DP_RULE_FIND_H */
