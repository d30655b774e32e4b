/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scan_match.h - what one Hyperscan match means (docs/release.md §4), for
 * the dataplane's scans (classify.c) and tools/scan_bench.c alike.  A
 * match's id is its rule's index (tg_maps.h): the rule's hit is counted,
 * its class taken, or its block stops the scan.  A rule that is an operand
 * of combinations also goes to the combinations' evaluation (lib/comb.h),
 * which reports the combinations that become true the same way.  An id at
 * or above TG_CAND_ID_BASE is a prefilter candidate of the payload scan,
 * noted.
 */
#ifndef DP_SCAN_MATCH_H
#define DP_SCAN_MATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "classify.h"
#include "comb.h"
#include "scan_prefilter.h"
#include "tg_maps.h"

struct scan_ctx {
	const struct tg_rule *rules; /* all rules, sorted by scope, then id */
	uint32_t n_rules;
	uint64_t *hits;              /* per rule */
	uint32_t seen;               /* scopes whose candidates the payload scan reported */
	struct dp_class_result *res; /* classes, the block that fired, rule ids */
	const struct comb_table *comb; /* NULL: the policy has no combinations */
	struct comb_state *cs;         /* this worker's evaluation state */
	uint16_t *rec;                 /* non-NULL: record each counted hit's rule here, */
	uint8_t rec_cap, n_rec;        /* at most rec_cap of them; */
	bool rec_full;                 /* true if there were more */
};

/* Rule i matched: 1 (stop scanning) if it is a block. */
static inline int
scan_rule_matched(struct scan_ctx *c, uint32_t i)
{
	const struct tg_rule *r = &c->rules[i];

	c->hits[i]++;
	if (c->rec != NULL) {
		if (c->n_rec < c->rec_cap)
			c->rec[c->n_rec++] = (uint16_t)i; /* i < TG_MAX_RULES */
		else
			c->rec_full = true;
	}
	if (c->res->n_ids < DP_MAX_AUDIT_RULES)
		c->res->ids[c->res->n_ids++] = r->id;
	if (r->action == TG_ACT_CLASSIFY) {
		c->res->classes |= 1u << r->class_idx;
	} else if (r->action == TG_ACT_BLOCK) {
		c->res->block_rule = (int32_t)i;
		return 1; /* blocked for everyone: no need to look further */
	}
	return 0;
}

/* comb_scan_*'s report: a combination became true. */
static inline int
scan_on_combination(void *arg, uint32_t rule)
{
	return scan_rule_matched(arg, rule);
}

/* A match_event_handler: 1 (stop scanning) once a block rule matched. */
static inline int
scan_on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
	      void *arg)
{
	struct scan_ctx *c = arg;

	(void)from;
	(void)flags;
	if (id >= c->n_rules) {
		prefilter_note(id, &c->seen);
		return 0;
	}
	if (c->comb != NULL && comb_is_operand(c->comb, id) &&
	    comb_scan_match(c->cs, c->comb, id, to, scan_on_combination, c) != 0)
		return 1;
	if (c->rules[id].action == TG_ACT_NONE)
		return 0; /* an operand only */
	return scan_rule_matched(c, id);
}

/* Before each scan of a database. */
static inline void
scan_begin(struct scan_ctx *c)
{
	if (c->comb != NULL)
		comb_scan_begin(c->cs);
}

/* After a scan of database `db` over `len` bytes ended (not stopped): the
 * combinations still to evaluate.  1 if one of them is a block. */
static inline int
scan_end(struct scan_ctx *c, unsigned db, size_t len)
{
	return c->comb != NULL &&
	       comb_scan_end(c->cs, c->comb, db, len, scan_on_combination, c) != 0;
}

#endif /* DP_SCAN_MATCH_H */
