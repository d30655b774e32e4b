/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * marking_cache.c - per-worker marking resolutions in an rte_hash
 * (marking_cache.h says what is cached and why that is exact).
 */
#include "marking_cache.h"

#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "marking.h"

/* Which attributes are present: absent and empty differ (an empty access is bad). */
#define MKK_ACCESS 0x1u
#define MKK_CAVEAT 0x2u
#define MKK_REL 0x4u

/* Fixed-size key, zero-filled past the bytes: lengths make it unambiguous. */
struct mk_key {
	uint8_t link;
	uint8_t present;
	uint8_t access_len, caveat_len, rel_len;
	uint8_t pad[3];
	char bytes[MK_CACHE_KEY_BYTES];
};

struct mk_value {
	int rc;
	struct tg_marking mk;
};

struct mk_cache {
	struct rte_hash *h;
	const void *pol_id;
	uint64_t generation;
	struct mk_cache_stats st;
	struct mk_value *values; /* by rte_hash key position, 0..rte_hash_max_key_id() */
};

struct mk_cache *
mk_cache_create(const char *name, unsigned entries, int socket_id)
{
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = entries,
		.key_len = sizeof(struct mk_key),
		.hash_func = rte_hash_crc,
		.socket_id = socket_id,
	};
	struct mk_cache *c = rte_zmalloc_socket("tg_mk_cache", sizeof(*c), 0, socket_id);

	if (c == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	c->h = rte_hash_create(&hp);
	if (c->h == NULL)
		goto fail;
	c->values = rte_zmalloc_socket("tg_mk_values",
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
mk_cache_free(struct mk_cache *c)
{
	if (c == NULL)
		return;
	rte_hash_free(c->h);
	rte_free(c->values);
	rte_free(c);
}

static void
reset(struct mk_cache *c)
{
	rte_hash_reset(c->h);
	c->st.resets++;
}

/* Build the key; false if the attributes do not fit in it. */
static bool
key_build(struct mk_key *k, unsigned link_idx, const char *a, size_t al, const char *cv,
	  size_t cl, const char *r, size_t rl)
{
	if (a == NULL)
		al = 0;
	if (cv == NULL)
		cl = 0;
	if (r == NULL)
		rl = 0;
	if (al + cl + rl > MK_CACHE_KEY_BYTES || link_idx > UINT8_MAX)
		return false;
	memset(k, 0, sizeof(*k));
	k->link = (uint8_t)link_idx;
	k->present = (a ? MKK_ACCESS : 0) | (cv ? MKK_CAVEAT : 0) | (r ? MKK_REL : 0);
	k->access_len = (uint8_t)al;
	k->caveat_len = (uint8_t)cl;
	k->rel_len = (uint8_t)rl;
	if (al)
		memcpy(k->bytes, a, al);
	if (cl)
		memcpy(k->bytes + al, cv, cl);
	if (rl)
		memcpy(k->bytes + al + cl, r, rl);
	return true;
}

int
mk_cache_resolve(struct mk_cache *c, const void *pol_id, uint64_t generation,
		 unsigned link_idx, const char *access, size_t access_len,
		 const char *caveat, size_t caveat_len, const char *rel, size_t rel_len,
		 const struct tg_marking *link_default, const struct tg_slot_hdr *hdr,
		 struct tg_marking *out)
{
	struct mk_key k;
	int32_t pos;
	int rc;

	if (c->pol_id != pol_id || c->generation != generation) {
		reset(c);
		c->pol_id = pol_id;
		c->generation = generation;
	}
	if (!key_build(&k, link_idx, access, access_len, caveat, caveat_len, rel, rel_len)) {
		c->st.uncacheable++;
		return tg_marking_resolve(access, access_len, caveat, caveat_len, rel, rel_len,
					  link_default, hdr, out);
	}
	pos = rte_hash_lookup(c->h, &k);
	if (pos >= 0) {
		c->st.hits++;
		*out = c->values[pos].mk;
		return c->values[pos].rc;
	}
	c->st.misses++;
	rc = tg_marking_resolve(access, access_len, caveat, caveat_len, rel, rel_len,
				link_default, hdr, out);
	pos = rte_hash_add_key(c->h, &k);
	if (pos == -ENOSPC) {
		/* Full (a hostile spread of markings): start over rather than
		 * stop caching the markings that matter. */
		reset(c);
		pos = rte_hash_add_key(c->h, &k);
	}
	if (pos >= 0) {
		c->values[pos].rc = rc;
		c->values[pos].mk = *out;
	}
	return rc;
}

const struct mk_cache_stats *
mk_cache_stats(const struct mk_cache *c)
{
	return &c->st;
}
