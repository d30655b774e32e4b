/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * marking_cache.h - a per-worker cache of marking resolutions.
 *
 * A deployment sees a handful of distinct markings, and resolving one
 * (lib/marking.c) costs more than looking it up.  The cache is keyed on
 * everything tg_marking_resolve() reads: the exact bytes and presence of the
 * three attributes, the arrival link (its default marking) and the policy
 * (its nation and group tables).  A key that does not fit is resolved
 * directly, so the answer is always tg_marking_resolve()'s own.  Built on
 * exact_cache.h: one cache per worker, used only by that worker.
 */
#ifndef DP_MARKING_CACHE_H
#define DP_MARKING_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "exact_cache.h"
#include "tg_maps.h"

struct mk_cache;

/* Attribute bytes a cacheable key may hold, the three together. */
#define MK_CACHE_KEY_BYTES 120

/* `entries` resolutions per cache; NULL (rte_errno set) on failure. */
struct mk_cache *mk_cache_create(const char *name, unsigned entries, int socket_id);
void mk_cache_free(struct mk_cache *c);

/*
 * tg_marking_resolve() for a message that arrived on link `link_idx` of the
 * policy (pol_id, generation), whose default marking is `link_default`.
 * Same arguments, result and return value; a new (pol_id, generation)
 * empties the cache first.  c NULL: resolved without a cache.
 */
int mk_cache_resolve(struct mk_cache *c, const void *pol_id, uint64_t generation,
		     unsigned link_idx, const char *access, size_t access_len,
		     const char *caveat, size_t caveat_len, const char *rel, size_t rel_len,
		     const struct tg_marking *link_default, const struct tg_slot_hdr *hdr,
		     struct tg_marking *out);

const struct exact_cache_stats *mk_cache_stats(const struct mk_cache *c);

#endif /* DP_MARKING_CACHE_H */
