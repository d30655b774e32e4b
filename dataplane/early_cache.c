/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * early_cache.c - the early scopes' verdicts, per worker (early_cache.h), in
 * an exact_cache.
 */
#include "early_cache.h"

#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "dp.h"
#include "exact_cache.h"

/* The fields of a key, in this order. */
enum { F_TYPE, F_HOW, F_UID, F_ACCESS, F_CAVEAT, F_REL, F_COUNT };

struct ec_key {
	uint8_t present; /* bit f: field f is in the key and present in the event */
	uint8_t len[F_COUNT];
	uint8_t pad;
	char bytes[EC_KEY_BYTES];
};

struct early_cache {
	struct exact_cache *xc; /* ec_key -> early_verdict */
	struct ec_key last;     /* the key of the last miss */
	bool last_valid;
};

struct early_cache *
early_cache_create(const char *name, unsigned entries, int socket_id)
{
	struct early_cache *c = rte_zmalloc_socket("tg_early_cache", sizeof(*c), 0, socket_id);

	if (c == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	c->xc = exact_cache_create(name, entries, sizeof(struct ec_key),
				   sizeof(struct early_verdict), socket_id);
	if (c->xc == NULL) {
		rte_free(c);
		return NULL;
	}
	return c;
}

void
early_cache_free(struct early_cache *c)
{
	if (c == NULL)
		return;
	exact_cache_free(c->xc);
	rte_free(c);
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
	const struct early_verdict *hit;

	exact_cache_policy(c->xc, pol, pol->generation);
	c->last_valid = false;
	if (!key_build(&c->last, pol, ev)) {
		exact_cache_uncacheable(c->xc);
		return -1;
	}
	hit = exact_cache_find(c->xc, &c->last);
	if (hit != NULL) {
		*v = *hit;
		return 1;
	}
	c->last_valid = true;
	return 0;
}

void
early_cache_put(struct early_cache *c, const struct early_verdict *v)
{
	struct early_verdict *slot;

	if (!c->last_valid)
		return;
	c->last_valid = false;
	slot = exact_cache_add(c->xc, &c->last);
	if (slot != NULL)
		*slot = *v;
}

const struct exact_cache_stats *
early_cache_stats(const struct early_cache *c)
{
	return exact_cache_stats(c->xc);
}
