/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * early_cache.c - the early scopes' verdicts, per worker (early_cache.h).
 */
#include "early_cache.h"

#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "dp.h"

/* The fields of a key, in this order; F_n_present marks a present one. */
enum { F_TYPE, F_HOW, F_UID, F_ACCESS, F_CAVEAT, F_REL, F_COUNT };

struct ec_key {
	uint8_t present; /* bit f: field f is in the key and present in the event */
	uint8_t len[F_COUNT];
	uint8_t pad;
	char bytes[EC_KEY_BYTES];
};

struct early_cache {
	struct rte_hash *h;
	const void *pol_id;
	uint64_t generation;
	struct early_cache_stats st;
	struct ec_key last;     /* the key of the last miss */
	bool last_valid;
	struct early_verdict *values; /* by rte_hash key position */
};

struct early_cache *
early_cache_create(const char *name, unsigned entries, int socket_id)
{
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = entries,
		.key_len = sizeof(struct ec_key),
		.hash_func = rte_hash_crc,
		.socket_id = socket_id,
	};
	struct early_cache *c = rte_zmalloc_socket("tg_early_cache", sizeof(*c), 0, socket_id);

	if (c == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	c->h = rte_hash_create(&hp);
	if (c->h == NULL)
		goto fail;
	c->values = rte_zmalloc_socket("tg_early_values",
				       sizeof(*c->values) * ((size_t)rte_hash_max_key_id(c->h) + 1),
				       0, socket_id);
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
early_cache_free(struct early_cache *c)
{
	if (c == NULL)
		return;
	rte_hash_free(c->h);
	rte_free(c->values);
	rte_free(c);
}

static void
reset(struct early_cache *c)
{
	rte_hash_reset(c->h);
	c->st.resets++;
}

/* The key of ev: the early fields the policy has rules for (a scope
 * without a database cannot change the verdict).  False if it does not fit. */
static bool
key_build(struct ec_key *k, const struct dp_policy *pol, const struct cot_event *ev)
{
	const struct cot_str *f[F_COUNT] = {&ev->type, &ev->how, &ev->uid, &ev->access,
					    &ev->caveat, &ev->releasable_to};
	static const uint8_t scope[F_COUNT] = {TG_SCOPE_TYPE, TG_SCOPE_HOW, TG_SCOPE_UID,
					       TG_SCOPE_MARKING, TG_SCOPE_MARKING,
					       TG_SCOPE_MARKING};
	size_t n = 0;

	memset(k, 0, sizeof(*k));
	for (unsigned i = 0; i < F_COUNT; i++) {
		if (pol->db[scope[i]] == NULL || f[i]->p == NULL)
			continue;
		if (f[i]->len > EC_KEY_BYTES - n)
			return false;
		k->present |= (uint8_t)(1u << i);
		k->len[i] = (uint8_t)f[i]->len; /* <= EC_KEY_BYTES < 256 */
		memcpy(k->bytes + n, f[i]->p, f[i]->len);
		n += f[i]->len;
	}
	return true;
}

int
early_cache_get(struct early_cache *c, const struct dp_policy *pol, const struct cot_event *ev,
		struct early_verdict *v)
{
	int32_t pos;

	if (c->pol_id != pol || c->generation != pol->generation) {
		reset(c);
		c->pol_id = pol;
		c->generation = pol->generation;
	}
	c->last_valid = false;
	if (!key_build(&c->last, pol, ev)) {
		c->st.uncacheable++;
		return -1;
	}
	pos = rte_hash_lookup(c->h, &c->last);
	if (pos >= 0) {
		c->st.hits++;
		*v = c->values[pos];
		return 1;
	}
	c->st.misses++;
	c->last_valid = true;
	return 0;
}

void
early_cache_put(struct early_cache *c, const struct early_verdict *v)
{
	int32_t pos;

	if (!c->last_valid)
		return;
	c->last_valid = false;
	pos = rte_hash_add_key(c->h, &c->last);
	if (pos == -ENOSPC) {
		/* Full (a hostile spread of values): start over rather than stop
		 * caching the ones that matter. */
		reset(c);
		pos = rte_hash_add_key(c->h, &c->last);
	}
	if (pos >= 0)
		c->values[pos] = *v;
}

const struct early_cache_stats *
early_cache_stats(const struct early_cache *c)
{
	return &c->st;
}
