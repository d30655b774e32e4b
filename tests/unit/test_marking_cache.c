/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_marking_cache.c - dataplane/marking_cache.c answers exactly what
 * tg_marking_resolve() answers: on a miss, on a hit, across links with
 * different default markings, across policy generations, for keys too long
 * to cache, and when the table fills up.  Runs a real EAL (--no-huge) since
 * the cache is an rte_hash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <rte_eal.h>
#include <rte_memory.h>

#include "marking.h"
#include "marking_cache.h"

#define USA (UINT64_C(1) << 0)
#define KOR (UINT64_C(1) << 1)
#define JPN (UINT64_C(1) << 2)
#define GBR (UINT64_C(1) << 3)

static struct tg_slot_hdr hdr, hdr2;
static struct tg_marking def_kor, def_jpn;

static void
hdr_init(struct tg_slot_hdr *h, const char *const nations[4])
{
	memset(h, 0, sizeof(*h));
	for (unsigned i = 0; i < 4; i++)
		memcpy(h->nations[i], nations[i], 4);
	h->n_nations = 4;
	strcpy(h->groups[0].name, "FVEY");
	h->groups[0].mask = USA | GBR;
	strcpy(h->groups[1].name, "KJU-US");
	h->groups[1].mask = USA | KOR | JPN;
	h->n_groups = 2;
}

/* One message's three attributes; NULL = absent. */
struct attrs {
	const char *access, *caveat, *rel;
};

static const struct attrs corpus[] = {
	{NULL, NULL, NULL},
	{"", NULL, NULL}, /* present but empty: bad, unlike absent */
	{"UNCLASSIFIED", NULL, NULL},
	{"SECRET", NULL, NULL},
	{"SECRET//REL TO USA, KOR", NULL, NULL},
	{"SECRET//REL TO USA, JPN", NULL, NULL},
	{"SECRET//REL TO USA, KOR, JPN", NULL, NULL},
	{"SECRET//NOFORN", NULL, NULL},
	{"SECRET//REL TO USA, FVEY", NULL, NULL},
	{"SECRET", "REL TO USA, KOR", NULL},
	{"SECRET", "NOFORN", NULL},
	{"SECRET", NULL, "USA KOR"},
	{"SECRET", NULL, "USA,JPN"},
	{"SECRET", NULL, ""},
	{NULL, NULL, "USA KOR"},
	{NULL, "REL TO USA, JPN", NULL},
	{"SECRET//REL TO USA, KOR", "REL TO USA, JPN", "KJU-US"},
	{"TOP SECRET//REL TO USA, KOR", NULL, "USA KOR JPN"},
	{"SECRETS", NULL, NULL},       /* bad level */
	{"SECRET//REL TO", NULL, NULL}, /* bad list */
	{"SECRET", NULL, "USA;KOR"},    /* bad token */
	/* the same bytes split differently between the attributes */
	{"SECRET//REL TO USA", ", KOR", NULL},
	{"SECRET//REL TO USA, KOR", "", NULL},
	{"SECRET//REL TO USA, KOR", NULL, ""},
};
#define N_CORPUS (sizeof(corpus) / sizeof(corpus[0]))

static size_t
slen(const char *s)
{
	return s ? strlen(s) : 0;
}

static int
direct(const struct attrs *a, const struct tg_marking *def, const struct tg_slot_hdr *h,
       struct tg_marking *out)
{
	return tg_marking_resolve(a->access, slen(a->access), a->caveat, slen(a->caveat), a->rel,
				  slen(a->rel), def, h, out);
}

static int
cached(struct mk_cache *c, const void *pol, uint64_t gen, unsigned link,
       const struct attrs *a, const struct tg_marking *def, const struct tg_slot_hdr *h,
       struct tg_marking *out)
{
	return mk_cache_resolve(c, pol, gen, link, a->access, slen(a->access), a->caveat,
				slen(a->caveat), a->rel, slen(a->rel), def, h, out);
}

/* The cache's answer equals the direct one: return value and every field. */
static void
check_same(struct mk_cache *c, const void *pol, uint64_t gen, unsigned link,
	   const struct attrs *a, const struct tg_marking *def, const struct tg_slot_hdr *h)
{
	struct tg_marking want, got;
	int rc_want = direct(a, def, h, &want);
	int rc_got = cached(c, pol, gen, link, a, def, h, &got);

	assert_int_equal(rc_got, rc_want);
	if (rc_want == 0) {
		assert_int_equal(got.level, want.level);
		assert_int_equal(got.has_rel, want.has_rel);
		assert_int_equal(got.noforn, want.noforn);
		assert_true(got.rel_mask == want.rel_mask);
	}
}

static int
setup(void **state)
{
	static const char *const n1[4] = {"USA", "KOR", "JPN", "GBR"};
	static const char *const n2[4] = {"KOR", "USA", "GBR", "JPN"};

	(void)state;
	hdr_init(&hdr, n1);
	hdr_init(&hdr2, n2);
	assert_int_equal(tg_marking_parse("SECRET//REL TO USA, KOR", 23, &hdr, &def_kor), 0);
	assert_int_equal(tg_marking_parse("CONFIDENTIAL//REL TO USA, JPN", 29, &hdr, &def_jpn), 0);
	return 0;
}

/* Every corpus entry on a miss and then on a hit, on links with and
 * without default markings. */
static void
test_hit_equals_miss(void **state)
{
	struct mk_cache *c = mk_cache_create("t_mkc_hit", 256, SOCKET_ID_ANY);
	const struct tg_marking *defs[3] = {NULL, &def_kor, &def_jpn};

	(void)state;
	assert_non_null(c);
	for (int round = 0; round < 3; round++)
		for (unsigned link = 0; link < 3; link++)
			for (size_t i = 0; i < N_CORPUS; i++)
				check_same(c, &hdr, 1, link, &corpus[i], defs[link], &hdr);
	assert_int_equal(mk_cache_stats(c)->misses, 3 * N_CORPUS);
	assert_int_equal(mk_cache_stats(c)->hits, 2 * 3 * N_CORPUS);
	mk_cache_free(c);
}

/* The link is part of the key: the same attributes on a link with another
 * default marking get that link's answer, not the first link's. */
static void
test_link_in_key(void **state)
{
	struct mk_cache *c = mk_cache_create("t_mkc_link", 64, SOCKET_ID_ANY);
	const struct attrs none = {NULL, NULL, NULL};
	struct tg_marking a, b;

	(void)state;
	assert_int_equal(cached(c, &hdr, 1, 0, &none, &def_kor, &hdr, &a), 0);
	assert_int_equal(cached(c, &hdr, 1, 1, &none, &def_jpn, &hdr, &b), 0);
	assert_true(a.rel_mask == (USA | KOR));
	assert_true(b.rel_mask == (USA | JPN));
	assert_int_equal(a.level, TG_LVL_SECRET);
	assert_int_equal(b.level, TG_LVL_CONFIDENTIAL);
	mk_cache_free(c);
}

/* A new policy (other nation order: other bits) empties the cache, whether
 * it has a new generation, a new address, or both. */
static void
test_new_policy(void **state)
{
	struct mk_cache *c = mk_cache_create("t_mkc_gen", 64, SOCKET_ID_ANY);
	const struct attrs a = {"SECRET//REL TO USA, JPN", NULL, NULL};
	struct tg_marking m;
	int other_pol;

	(void)state;
	assert_int_equal(cached(c, &hdr, 1, 0, &a, NULL, &hdr, &m), 0);
	assert_true(m.rel_mask == (USA | JPN));
	/* same address, new generation: hdr2 has USA at bit 1, JPN at bit 3 */
	assert_int_equal(cached(c, &hdr, 2, 0, &a, NULL, &hdr2, &m), 0);
	assert_true(m.rel_mask == (UINT64_C(1) << 1 | UINT64_C(1) << 3));
	check_same(c, &hdr, 2, 0, &a, NULL, &hdr2);
	/* new address, same generation number */
	assert_int_equal(cached(c, &other_pol, 2, 0, &a, NULL, &hdr, &m), 0);
	assert_true(m.rel_mask == (USA | JPN));
	assert_true(mk_cache_stats(c)->resets >= 3);
	mk_cache_free(c);
}

/* Attributes too long for a key are resolved directly, and still right. */
static void
test_uncacheable(void **state)
{
	struct mk_cache *c = mk_cache_create("t_mkc_long", 64, SOCKET_ID_ANY);
	char rel[MK_CACHE_KEY_BYTES + 40];
	struct attrs a = {"SECRET", NULL, rel};
	size_t n = 0;

	(void)state;
	while (n + 4 < sizeof(rel) - 1) {
		memcpy(rel + n, n % 8 ? "KOR " : "USA ", 4);
		n += 4;
	}
	rel[n] = '\0';
	for (int i = 0; i < 3; i++)
		check_same(c, &hdr, 1, 0, &a, NULL, &hdr);
	assert_int_equal(mk_cache_stats(c)->uncacheable, 3);
	assert_int_equal(mk_cache_stats(c)->hits, 0);
	mk_cache_free(c);
}

/* A hostile spread of distinct markings fills the table: it starts over,
 * and every answer stays right. */
static void
test_full_table(void **state)
{
	struct mk_cache *c = mk_cache_create("t_mkc_full", 64, SOCKET_ID_ANY);
	char buf[64];

	(void)state;
	for (unsigned i = 0; i < 2000; i++) {
		struct attrs a = {buf, NULL, i % 3 ? "USA KOR" : NULL};

		snprintf(buf, sizeof(buf), "SECRET//REL TO USA, %s%*s", i & 1 ? "KOR" : "JPN",
			 (int)(i % 40), "");
		check_same(c, &hdr, 1, i % 4, &a, i & 2 ? &def_kor : NULL, &hdr);
		check_same(c, &hdr, 1, i % 4, &a, i & 2 ? &def_kor : NULL, &hdr);
	}
	assert_true(mk_cache_stats(c)->resets > 1);
	assert_true(mk_cache_stats(c)->hits > 0);
	mk_cache_free(c);
}

int
main(int argc, char **argv)
{
	char prefix[64];
	char *eal[] = {argv[0], "--no-huge", "-m", "64", "--no-pci", "--no-telemetry",
		       "--log-level", "error", "--file-prefix", prefix, NULL};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_equals_miss),
		cmocka_unit_test(test_link_in_key),
		cmocka_unit_test(test_new_policy),
		cmocka_unit_test(test_uncacheable),
		cmocka_unit_test(test_full_table),
	};
	int rc;

	(void)argc;
	snprintf(prefix, sizeof(prefix), "t_mkc_%d", (int)getpid());
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])) - 1, eal) < 0) {
		fprintf(stderr, "test_marking_cache: cannot initialise the EAL\n");
		return 1;
	}
	rc = cmocka_run_group_tests(tests, setup, NULL);
	rte_eal_cleanup();
	return rc;
}
