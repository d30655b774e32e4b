/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * exact_cache.c - exact-key result tables on rte_hash (exact_cache.h).
 */
#include "exact_cache.h"

#include <errno.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

struct exact_cache {
	struct rte_hash *h;
	const void *pol_id;
	uint64_t generation;
	size_t value_len;
	struct exact_cache_stats st;
	uint8_t *values; /* by rte_hash key position */
};

struct exact_cache *
exact_cache_create(const char *name, unsigned entries, size_t key_len, size_t value_len,
		   int socket_id)
{
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = entries,
		.key_len = (uint32_t)key_len,
		.hash_func = rte_hash_crc,
		.socket_id = socket_id,
	};
	struct exact_cache *c = rte_zmalloc_socket("tg_exact_cache", sizeof(*c), 0, socket_id);

	if (c == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	c->value_len = (value_len + 7) & ~(size_t)7;
	c->h = rte_hash_create(&hp);
	if (c->h == NULL)
		goto fail;
	c->values = rte_zmalloc_socket("tg_exact_values",
				       c->value_len * ((size_t)rte_hash_max_key_id(c->h) + 1), 0,
				       socket_id);
	if (c->values == NULL) {
		rte_errno = ENOMEM;
		goto fail;
	}
	return c;
fail:
	rte_hash_free(c->h);
	rte_free(c);
	return NULL;
}

void
exact_cache_free(struct exact_cache *c)
{
	if (c == NULL)
		return;
	rte_hash_free(c->h);
	rte_free(c->values);
	rte_free(c);
}

static void
reset(struct exact_cache *c)
{
	rte_hash_reset(c->h);
	c->st.resets++;
}

void
exact_cache_policy(struct exact_cache *c, const void *pol_id, uint64_t generation)
{
	if (c->pol_id == pol_id && c->generation == generation)
		return;
	reset(c);
	c->pol_id = pol_id;
	c->generation = generation;
}

const void *
exact_cache_find(struct exact_cache *c, const void *key)
{
	int32_t pos = rte_hash_lookup(c->h, key);

	if (pos < 0) {
		c->st.misses++;
		return NULL;
	}
	c->st.hits++;
	return c->values + (size_t)pos * c->value_len;
}

void *
exact_cache_add(struct exact_cache *c, const void *key)
{
	int32_t pos = rte_hash_add_key(c->h, key);

	if (pos == -ENOSPC) {
		reset(c);
		pos = rte_hash_add_key(c->h, key);
	}
	return pos >= 0 ? c->values + (size_t)pos * c->value_len : NULL;
}

void
exact_cache_uncacheable(struct exact_cache *c)
{
	c->st.uncacheable++;
}

const struct exact_cache_stats *
exact_cache_stats(const struct exact_cache *c)
{
	return &c->st;
}
