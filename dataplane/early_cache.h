/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * early_cache.h - a per-worker cache of the early scopes' verdicts.
 *
 * The early scopes (type, how, uid, marking: docs/release.md §5) are short
 * fields scanned for every message, one Hyperscan scan each, and a
 * deployment sends few distinct combinations of them.  The cache is keyed
 * on the exact bytes (and presence) of every early field that the policy
 * has rules for, and on the policy (pointer and generation); its value is
 * what the scans gave: the result (classes, the block, the audited rule
 * ids) and the rules whose hit counters the scans advanced, which a hit
 * advances again.  A key that does not fit, or a verdict with more hits
 * than an entry holds, is not cached: the scans run, so the answer is
 * always the scans' own.  Built on exact_cache.h, like the marking cache:
 * one cache per worker, used only by that worker.
 */
#ifndef DP_EARLY_CACHE_H
#define DP_EARLY_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "classify.h"
#include "cot_parse.h"
#include "exact_cache.h"

struct early_cache;
struct dp_policy;

/* Field bytes a cacheable key may hold, all fields together. */
#define EC_KEY_BYTES 120
/* Rule hits a cached verdict may replay. */
#define EC_MAX_HITS 8

/* A verdict as the scans left it. */
struct early_verdict {
	int rc;                          /* dp_classify_early()'s return */
	struct dp_class_result res;
	uint8_t n_hits;
	uint16_t hit[EC_MAX_HITS];       /* rule indices, one per counted hit */
};

/* `entries` verdicts per cache; NULL (rte_errno set) on failure. */
struct early_cache *early_cache_create(const char *name, unsigned entries, int socket_id);
void early_cache_free(struct early_cache *c);

/*
 * Look up the verdict of event ev under policy pol: 1 found (in *v), 0 not
 * found (then early_cache_put() stores the verdict of this same event), -1
 * the key does not fit (do not store).  A new policy empties the cache
 * first.
 */
int early_cache_get(struct early_cache *c, const struct dp_policy *pol,
		    const struct cot_event *ev, struct early_verdict *v);
/* Store the verdict of the event the last early_cache_get() missed. */
void early_cache_put(struct early_cache *c, const struct early_verdict *v);

const struct exact_cache_stats *early_cache_stats(const struct early_cache *c);

#endif /* DP_EARLY_CACHE_H */
