/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scan_match.h - what one Hyperscan match means (docs/release.md §4), for
 * the dataplane's scans (classify.c) and tools/scan_bench.c alike: the rule
 * is found by id in the scanned scope's id-sorted range, its hit counted,
 * its class taken, or its block stops the scan; an id that is no rule of
 * the scope is a prefilter candidate of the payload scan, noted.
 */
#ifndef DP_SCAN_MATCH_H
#define DP_SCAN_MATCH_H

#include <stdint.h>

#include "classify.h"
#include "rule_find.h"
#include "scan_prefilter.h"
#include "tg_maps.h"

struct scan_ctx {
	const struct tg_rule *rules; /* all rules, sorted by scope, then id */
	uint64_t *hits;              /* per rule */
	uint32_t first, n;           /* the scanned scope's range of rules */
	uint32_t seen;               /* scopes whose candidates the payload scan reported */
	struct dp_class_result *res; /* classes, the block that fired, rule ids */
};

/* A match_event_handler: 1 (stop scanning) once a block rule matched. */
static inline int
scan_on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
	      void *arg)
{
	struct scan_ctx *c = arg;
	const struct tg_rule *r = c->rules + c->first;
	int32_t found = rule_find(r, c->n, id);
	uint32_t lo = (uint32_t)found;

	(void)from;
	(void)to;
	(void)flags;
	if (found < 0) {
		prefilter_note(id, &c->seen);
		return 0;
	}
	c->hits[c->first + lo]++;
	if (c->res->n_ids < DP_MAX_AUDIT_RULES)
		c->res->ids[c->res->n_ids++] = id;
	if (r[lo].action == TG_ACT_CLASSIFY) {
		c->res->classes |= 1u << r[lo].class_idx;
	} else if (r[lo].action == TG_ACT_BLOCK) {
		c->res->block_rule = (int32_t)(c->first + lo);
		return 1; /* blocked for everyone: no need to look further */
	}
	return 0;
}

#endif /* DP_SCAN_MATCH_H */
