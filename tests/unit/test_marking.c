/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_marking.c - lib/marking.c: the marking grammar of docs/release.md §3
 * and the resolution the dataplane relies on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "marking.h"

/* Nations USA=bit0 KOR=bit1 JPN=bit2 GBR=bit3; groups FVEY, KJU-US. */
#define USA (UINT64_C(1) << 0)
#define KOR (UINT64_C(1) << 1)
#define JPN (UINT64_C(1) << 2)
#define GBR (UINT64_C(1) << 3)

static struct tg_slot_hdr hdr;

static int
setup(void **state)
{
	memset(&hdr, 0, sizeof(hdr));
	memcpy(hdr.nations[0], "USA", 4);
	memcpy(hdr.nations[1], "KOR", 4);
	memcpy(hdr.nations[2], "JPN", 4);
	memcpy(hdr.nations[3], "GBR", 4);
	hdr.n_nations = 4;
	strcpy(hdr.groups[0].name, "FVEY");
	hdr.groups[0].mask = USA | GBR;
	strcpy(hdr.groups[1].name, "KJU-US");
	hdr.groups[1].mask = USA | KOR | JPN;
	hdr.n_groups = 2;
	return 0;
}

static int
acc(const char *s, struct tg_marking *m)
{
	return tg_marking_parse(s, strlen(s), &hdr, m);
}

static void
test_levels(void **state)
{
	static const struct {
		const char *s;
		int level;
	} ok[] = {
		{ "UNCLASSIFIED", TG_LVL_UNCLASSIFIED }, { "U", TG_LVL_UNCLASSIFIED },
		{ "unclassified", TG_LVL_UNCLASSIFIED }, { "CONFIDENTIAL", TG_LVL_CONFIDENTIAL },
		{ "c", TG_LVL_CONFIDENTIAL },		  { "SECRET", TG_LVL_SECRET },
		{ "S", TG_LVL_SECRET },			  { " Secret ", TG_LVL_SECRET },
		{ "TOP SECRET", TG_LVL_TOP_SECRET },	  { "top  \tsecret", TG_LVL_TOP_SECRET },
		{ "TS", TG_LVL_TOP_SECRET },
	};
	struct tg_marking m;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(acc(ok[i].s, &m), 0);
		assert_int_equal(m.level, ok[i].level);
		assert_int_equal(m.has_rel, 0);
		assert_int_equal(m.noforn, 0);
	}
}

static void
test_bad(void **state)
{
	static const char *const bad[] = {
		"", "   ", "SECRETS", "TOPSECRET", "TOP", "SECRET//", "//SECRET",
		"SECRET////NOFORN", "SECRET//TOP SECRET", "SECRET//S", "SECRET//ORCON",
		"SECRET//REL TO", "SECRET//REL TO ", "SECRET//REL", "SECRET//REL TO USA,",
		"SECRET//REL TO ,USA", "SECRET//REL TO USA,,KOR", "SECRET//REL TO USA KOR",
		"SECRET//REL TO US.A", "SECRET//REL TO USA;KOR", "SECRET/REL TO USA",
		"REL TO USA", "NOFORN", "SECRET NOFORN", "SECRET//REL TO USA/KOR",
		"S//REL TO USA, K\xc3\x96R",
	};
	struct tg_marking m;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (acc(bad[i], &m) != -1)
			fail_msg("accepted bad marking \"%s\"", bad[i]);
	}
}

static void
test_controls(void **state)
{
	struct tg_marking m;

	assert_int_equal(acc("SECRET//REL TO USA, KOR", &m), 0);
	assert_int_equal(m.level, TG_LVL_SECRET);
	assert_int_equal(m.has_rel, 1);
	assert_true(m.rel_mask == (USA | KOR));

	assert_int_equal(acc("s // rel to usa ,kor , jpn // fouo", &m), 0);
	assert_true(m.rel_mask == (USA | KOR | JPN));
	assert_int_equal(m.noforn, 0);

	assert_int_equal(acc("TS//REL USA, GBR", &m), 0);
	assert_true(m.rel_mask == (USA | GBR));

	/* groups, case-insensitive; unknown trigraph ignored */
	assert_int_equal(acc("SECRET//REL TO fvey, FRA", &m), 0);
	assert_true(m.rel_mask == (USA | GBR));
	assert_int_equal(acc("SECRET//REL TO kju-us", &m), 0);
	assert_true(m.rel_mask == (USA | KOR | JPN));
	/* unknown group ignored (lenient) ... */
	assert_int_equal(acc("SECRET//REL TO USA, NATO", &m), 0);
	assert_true(m.rel_mask == USA);
	/* ... but an error in strict mode, with where and why */
	struct tg_marking_err err;
	const char *s = "SECRET//REL TO USA, NATO";
	assert_int_equal(tg_marking_parse_ex(s, strlen(s), &hdr, TG_MK_ACCESS | TG_MK_STRICT,
					     &m, &err), -1);
	assert_int_equal(err.off, 20);
	assert_non_null(strstr(err.msg, "neither a trigraph nor a known group"));
	/* strict: an unknown trigraph is still a trigraph */
	s = "SECRET//REL TO USA, FRA";
	assert_int_equal(tg_marking_parse_ex(s, strlen(s), &hdr, TG_MK_ACCESS | TG_MK_STRICT,
					     &m, &err), 0);

	/* two REL TO narrow each other */
	assert_int_equal(acc("SECRET//REL TO USA, KOR//REL TO KOR, JPN", &m), 0);
	assert_true(m.rel_mask == KOR);

	assert_int_equal(acc("SECRET//NOFORN", &m), 0);
	assert_int_equal(m.noforn, 1);
	assert_int_equal(m.has_rel, 0);
	assert_int_equal(acc("SECRET//nf", &m), 0);
	assert_int_equal(m.noforn, 1);

	/* the length bounds the parse: no NUL needed */
	assert_int_equal(tg_marking_parse("SECRET//GARBAGE", 6, &hdr, &m), 0);
	assert_int_equal(m.level, TG_LVL_SECRET);
}

static void
test_caveat(void **state)
{
	struct tg_marking m;

	assert_int_equal(tg_caveat_parse("", 0, &hdr, &m), 0);
	assert_int_equal(m.level, TG_LVL_NONE);
	assert_int_equal(m.has_rel, 0);
	assert_int_equal(tg_caveat_parse("NOFORN", 6, &hdr, &m), 0);
	assert_int_equal(m.noforn, 1);
	assert_int_equal(tg_caveat_parse("REL TO USA, KOR", 15, &hdr, &m), 0);
	assert_true(m.rel_mask == (USA | KOR));
	assert_int_equal(tg_caveat_parse("NOFORN//REL TO KOR", 18, &hdr, &m), 0);
	assert_int_equal(m.noforn, 1);
	assert_int_equal(tg_caveat_parse("SECRET", 6, &hdr, &m), -1);
	assert_int_equal(tg_caveat_parse("NOFORN//", 8, &hdr, &m), -1);
	assert_int_equal(tg_caveat_parse("XYZ", 3, &hdr, &m), -1);
}

static void
test_rel_list(void **state)
{
	uint64_t mask;

	assert_int_equal(tg_rel_list_parse("USA KOR", 7, &hdr, &mask), 0);
	assert_true(mask == (USA | KOR));
	assert_int_equal(tg_rel_list_parse(" usa,, jpn ,FVEY ", 17, &hdr, &mask), 0);
	assert_true(mask == (USA | JPN | GBR));
	assert_int_equal(tg_rel_list_parse("", 0, &hdr, &mask), 0);
	assert_true(mask == 0);
	assert_int_equal(tg_rel_list_parse("FRA NATO", 8, &hdr, &mask), 0);
	assert_true(mask == 0);
	assert_int_equal(tg_rel_list_parse("USA;KOR", 7, &hdr, &mask), -1);
	assert_int_equal(tg_rel_list_parse("USA K.R", 7, &hdr, &mask), -1);
	assert_int_equal(tg_rel_list_parse("USA\n", 4, &hdr, &mask), -1);
}

static int
res(const char *a, const char *c, const char *r, const struct tg_marking *d,
    struct tg_marking *out)
{
	return tg_marking_resolve(a, a ? strlen(a) : 0, c, c ? strlen(c) : 0, r,
				  r ? strlen(r) : 0, d, &hdr, out);
}

static void
test_resolve(void **state)
{
	struct tg_marking d, m;

	assert_int_equal(acc("SECRET//REL TO USA, KOR", &d), 0);

	/* nothing on the message: the link default */
	assert_int_equal(res(NULL, NULL, NULL, &d, &m), 0);
	assert_int_equal(m.level, TG_LVL_SECRET);
	assert_true(m.rel_mask == (USA | KOR));
	assert_int_equal(m.has_rel, 1);

	/* no default either: level none, nobody */
	assert_int_equal(res(NULL, NULL, NULL, NULL, &m), 0);
	assert_int_equal(m.level, TG_LVL_NONE);
	assert_true(m.rel_mask == 0);
	assert_int_equal(m.has_rel, 0);

	/* access level wins, access without a list + default list */
	assert_int_equal(res("CONFIDENTIAL", NULL, NULL, &d, &m), 0);
	assert_int_equal(m.level, TG_LVL_CONFIDENTIAL);
	assert_true(m.rel_mask == (USA | KOR));

	/* any list on the message replaces the default */
	assert_int_equal(res(NULL, NULL, "JPN", &d, &m), 0);
	assert_int_equal(m.level, TG_LVL_SECRET);
	assert_true(m.rel_mask == JPN);

	/* the lists the message carries intersect */
	assert_int_equal(res("S//REL TO USA, KOR, JPN", "REL TO KOR, JPN, GBR", "FVEY KOR", &d,
			     &m), 0);
	assert_true(m.rel_mask == KOR);

	/* an empty releasableTo is a list: nobody */
	assert_int_equal(res(NULL, NULL, "", &d, &m), 0);
	assert_true(m.rel_mask == 0);
	assert_int_equal(m.has_rel, 1);

	/* NOFORN narrows to USA, from access or caveat */
	assert_int_equal(res("S//NOFORN", NULL, NULL, &d, &m), 0);
	assert_true(m.rel_mask == USA);
	assert_int_equal(m.noforn, 1);
	assert_int_equal(res("S", "NF", "KOR", &d, &m), 0);
	assert_true(m.rel_mask == 0);
	assert_int_equal(res("TS//REL TO USA, GBR", "NOFORN", NULL, NULL, &m), 0);
	assert_true(m.rel_mask == USA);

	/* with no US peer NOFORN releases to nobody */
	struct tg_slot_hdr h2 = hdr;
	memcpy(h2.nations[0], "CAN", 4);
	assert_int_equal(tg_nation_usa_bit(&h2), 0);
	assert_int_equal(tg_marking_resolve("S//REL TO CAN//NF", 17, NULL, 0, NULL, 0, NULL, &h2,
					    &m), 0);
	assert_true(m.rel_mask == 0);

	/* any bad source is a bad marking */
	assert_int_equal(res("", NULL, NULL, &d, &m), -1);
	assert_int_equal(res("SECRET//TS", NULL, NULL, &d, &m), -1);
	assert_int_equal(res("S", "SECRET", NULL, &d, &m), -1);
	assert_int_equal(res("S", NULL, "USA<KOR", &d, &m), -1);
}

/* access and caveat (NULL: absent) resolved with no link default */
static int
resolve2(const char *acc, const char *cav, struct tg_marking *m)
{
	return tg_marking_resolve(acc, acc ? strlen(acc) : 0, cav, cav ? strlen(cav) : 0, NULL, 0,
				  NULL, &hdr, m);
}

/* The operator's register (release.md §3): declared controls by name and
 * alias, each effect, the NOFORN floor, and undeclared ones still bad. */
static void
test_declared_controls(void **state)
{
	static const struct {
		const char *name;
		uint8_t effect, builtin;
		uint32_t peers;
		uint64_t nations;
	} ctl[] = {
		{"PROPIN", TG_CE_PASS, TG_CB_NONE, 0, 0},
		{"ORCON", TG_CE_PEERS, TG_CB_NONE, 1u << 2, 0},
		{"LIMDIS", TG_CE_NATIONS, TG_CB_NONE, 0, USA | KOR},
		{"EXERCISE", TG_CE_BLOCK, TG_CB_NONE, 0, 0},
		{"NOFORN", TG_CE_PEERS, TG_CB_NOFORN, 1u << 0, 0},
	};
	static const struct {
		const char *name;
		uint8_t control;
	} names[] = {{"PROPIN", 0}, {"PROPRIETARY", 0}, {"PROP INFO", 0}, {"ORCON", 1},
		     {"LIMDIS", 2}, {"EXERCISE", 3}, {"NOFORN", 4}, {"NF", 4}, {"NOFORN-US", 4}};
	struct tg_marking m;

	(void)state;
	for (unsigned i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++) {
		strcpy(hdr.controls[i].name, ctl[i].name);
		hdr.controls[i].effect = ctl[i].effect;
		hdr.controls[i].builtin = ctl[i].builtin;
		hdr.controls[i].peers = ctl[i].peers;
		hdr.controls[i].nations = ctl[i].nations;
	}
	hdr.n_controls = sizeof(ctl) / sizeof(ctl[0]);
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		strcpy(hdr.control_names[i].name, names[i].name);
		hdr.control_names[i].control = names[i].control;
	}
	hdr.n_control_names = sizeof(names) / sizeof(names[0]);

#define RESOLVE(acc, cav) resolve2(acc, cav, &m)
	/* pass: recorded, nothing else; by name, alias, any case, blank runs */
	assert_int_equal(RESOLVE("SECRET//REL TO USA, KOR, JPN//propin", NULL), 0);
	assert_int_equal(m.rel_mask, USA | KOR | JPN);
	assert_int_equal(m.controls, 1u << 0);
	assert_int_equal(m.peer_mask, ~0u);
	assert_int_equal(m.blocked, 0);
	assert_int_equal(RESOLVE("S//REL TO USA//Prop  \tInfo", "PROPRIETARY"), 0);
	assert_int_equal(m.controls, 1u << 0);
	/* peers */
	assert_int_equal(RESOLVE("S//REL TO USA, JPN", "ORCON"), 0);
	assert_int_equal(m.peer_mask, 1u << 2);
	assert_int_equal(m.rel_mask, USA | JPN);
	/* nations: intersected with the lists */
	assert_int_equal(RESOLVE("S//REL TO USA, JPN//LIMDIS", NULL), 0);
	assert_int_equal(m.rel_mask, USA);
	/* block, in access or caveat */
	assert_int_equal(RESOLVE("S//REL TO USA", "EXERCISE"), 0);
	assert_int_equal(m.blocked, 4);
	/* NOFORN declared with peers: the USA floor stays, and the peers apply */
	assert_int_equal(RESOLVE("S//REL TO USA, KOR//NOFORN-US", NULL), 0);
	assert_true(m.noforn);
	assert_int_equal(m.rel_mask, USA);
	assert_int_equal(m.peer_mask, 1u << 0);
	/* several: intersected */
	assert_int_equal(RESOLVE("S//REL TO USA, KOR, JPN//ORCON//LIMDIS", NULL), 0);
	assert_int_equal(m.peer_mask, 1u << 2);
	assert_int_equal(m.rel_mask, USA | KOR);
	/* undeclared: bad, as before; REL still a list */
	assert_int_equal(RESOLVE("S//IMCON", NULL), -1);
	assert_int_equal(RESOLVE("S//PROPIN X", NULL), -1);
	assert_int_equal(RESOLVE("S//REL TO USA", NULL), 0);
	assert_int_equal(m.controls, 0);
#undef RESOLVE
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_levels, setup),
		cmocka_unit_test_setup(test_bad, setup),
		cmocka_unit_test_setup(test_controls, setup),
		cmocka_unit_test_setup(test_caveat, setup),
		cmocka_unit_test_setup(test_rel_list, setup),
		cmocka_unit_test_setup(test_resolve, setup),
		cmocka_unit_test_setup(test_declared_controls, setup),
	};

	return cmocka_run_group_tests_name("marking", tests, NULL, NULL);
}
