/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * marking_cache.c - per-worker marking resolutions in an exact_cache
 * (marking_cache.h says what is cached and why that is exact).
 */
#include "marking_cache.h"

#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "exact_cache.h"
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
	struct exact_cache *xc; /* mk_key -> mk_value */
};

struct mk_cache *
mk_cache_create(const char *name, unsigned entries, int socket_id)
{
	struct mk_cache *c = rte_zmalloc_socket("tg_mk_cache", sizeof(*c), 0, socket_id);

	if (c == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	c->xc = exact_cache_create(name, entries, sizeof(struct mk_key), sizeof(struct mk_value),
				   socket_id);
	if (c->xc == NULL) {
		rte_free(c);
		return NULL;
	}
	return c;
}

void
mk_cache_free(struct mk_cache *c)
{
	if (c == NULL)
		return;
	exact_cache_free(c->xc);
	rte_free(c);
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
	const struct mk_value *hit;
	struct mk_value *v;
	struct mk_key k;
	int rc;

	if (c == NULL) /* no cache (tgctl explain): every answer computed */
		return tg_marking_resolve(access, access_len, caveat, caveat_len, rel, rel_len,
					  link_default, hdr, out);
	exact_cache_policy(c->xc, pol_id, generation);
	if (!key_build(&k, link_idx, access, access_len, caveat, caveat_len, rel, rel_len)) {
		exact_cache_uncacheable(c->xc);
		return tg_marking_resolve(access, access_len, caveat, caveat_len, rel, rel_len,
					  link_default, hdr, out);
	}
	hit = exact_cache_find(c->xc, &k);
	if (hit != NULL) {
		*out = hit->mk;
		return hit->rc;
	}
	rc = tg_marking_resolve(access, access_len, caveat, caveat_len, rel, rel_len,
				link_default, hdr, out);
	v = exact_cache_add(c->xc, &k);
	if (v != NULL) {
		v->rc = rc;
		v->mk = *out;
	}
	return rc;
}

const struct exact_cache_stats *
mk_cache_stats(const struct mk_cache *c)
{
	return exact_cache_stats(c->xc);
}
