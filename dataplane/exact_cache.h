/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * exact_cache.h - a per-worker table of results keyed on exact bytes: what
 * the marking cache (marking_cache.h) and the early scopes' cache
 * (early_cache.h) are built on.  An rte_hash of fixed-size keys (the
 * caller zero-fills them past their bytes, so equal keys are equal
 * memory) with one value slot per key position.  It is emptied when the
 * policy it was filled under changes, and when it is full (a hostile
 * spread of keys: start over rather than stop caching what matters).  No
 * locks: one table per worker, used only by that worker.
 */
#ifndef DP_EXACT_CACHE_H
#define DP_EXACT_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct exact_cache;

struct exact_cache_stats {
	uint64_t hits, misses, uncacheable, resets;
};

/* `entries` keys of key_len bytes, values of value_len bytes; NULL (rte_errno
 * set) on failure. */
struct exact_cache *exact_cache_create(const char *name, unsigned entries, size_t key_len,
				       size_t value_len, int socket_id);
void exact_cache_free(struct exact_cache *c);

/* Empty the table unless it was filled under this (policy, generation). */
void exact_cache_policy(struct exact_cache *c, const void *pol_id, uint64_t generation);
/* The value stored for key, or NULL; counted as a hit or a miss. */
const void *exact_cache_find(struct exact_cache *c, const void *key);
/* The slot for key's value, to be filled by the caller (emptying a full
 * table first), or NULL if there is none. */
void *exact_cache_add(struct exact_cache *c, const void *key);
/* Count a lookup whose key could not be built. */
void exact_cache_uncacheable(struct exact_cache *c);

const struct exact_cache_stats *exact_cache_stats(const struct exact_cache *c);

#endif /* DP_EXACT_CACHE_H */
