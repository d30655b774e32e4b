/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_second_check.c - the independent re-derivation of releasability
 * (dataplane/second_check.c), as a table of CoT events, each also run
 * through the first mechanism (cot_parse + tg_marking_resolve): the two must
 * agree where the spec is clear, and the second must refuse or differ where
 * a message tries to show it a different marking than the parser sees.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cot_parse.h"
#include "marking.h"
#include "second_check.h"

static struct tg_slot_hdr hdr;
static struct tg_marking link_default;

#define USA (UINT64_C(1) << 0)
#define KOR (UINT64_C(1) << 1)
#define JPN (UINT64_C(1) << 2)

static int
setup(void **state)
{
	(void)state;
	memset(&hdr, 0, sizeof(hdr));
	strcpy(hdr.nations[0], "USA");
	strcpy(hdr.nations[1], "KOR");
	strcpy(hdr.nations[2], "JPN");
	hdr.n_nations = 3;
	strcpy(hdr.groups[0].name, "TRILAT");
	hdr.groups[0].mask = USA | KOR | JPN;
	strcpy(hdr.groups[1].name, "FVEY");
	hdr.groups[1].mask = USA;
	/* three characters, not three letters: a group, not a nation
	 * (release.md §3; the second check once took it for a nation) */
	strcpy(hdr.groups[2].name, "G20");
	hdr.groups[2].mask = KOR | JPN;
	hdr.n_groups = 3;
	/* the register (release.md §3): both mechanisms read it, each its way */
	static const struct {
		const char *name;
		uint8_t effect, builtin;
		uint32_t peers;
		uint64_t nations;
	} ctl[] = {{"PROPIN", TG_CE_PASS, TG_CB_NONE, 0, 0},
		   {"ORCON", TG_CE_PEERS, TG_CB_NONE, 0x4, 0},
		   {"LIMDIS", TG_CE_NATIONS, TG_CB_NONE, 0, USA | KOR},
		   {"EXERCISE", TG_CE_BLOCK, TG_CB_NONE, 0, 0}};
	static const struct {
		const char *name;
		uint8_t control;
	} names[] = {{"PROPIN", 0}, {"PROP INFO", 0}, {"ORCON", 1}, {"LIMDIS", 2}, {"EXERCISE", 3}};
	for (unsigned i = 0; i < 4; i++) {
		strcpy(hdr.controls[i].name, ctl[i].name);
		hdr.controls[i].effect = ctl[i].effect;
		hdr.controls[i].builtin = ctl[i].builtin;
		hdr.controls[i].peers = ctl[i].peers;
		hdr.controls[i].nations = ctl[i].nations;
	}
	hdr.n_controls = 4;
	for (unsigned i = 0; i < 5; i++) {
		strcpy(hdr.control_names[i].name, names[i].name);
		hdr.control_names[i].control = names[i].control;
	}
	hdr.n_control_names = 5;
	link_default = (struct tg_marking){.level = TG_LVL_SECRET, .has_rel = 1,
					   .rel_mask = USA | KOR};
	return 0;
}

static char doc[4096];

static const char *
event(const char *attrs)
{
	snprintf(doc, sizeof(doc),
		 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		 "<event version=\"2.0\" uid=\"u1\" type=\"a-h-A-W-M-S-S\" how=\"m-g\" "
		 "time=\"2026-01-01T00:00:00Z\" start=\"2026-01-01T00:00:00Z\" "
		 "stale=\"2026-01-01T00:01:00Z\" %s>"
		 "<point lat=\"37.5\" lon=\"127.0\" hae=\"0\" ce=\"10\" le=\"10\"/></event>",
		 attrs);
	return doc;
}

/* The first mechanism: parser and marking library. -1 = bad marking. */
static uint32_t first_allowed; /* the peers its controls allow (0: blocked) */

static int
first(const char *d, uint8_t *level, uint64_t *rel)
{
	static struct cot_event ev;
	struct tg_marking mk;

	if (cot_parse((const uint8_t *)d, strlen(d), &ev) != COT_OK)
		return -2;
	if (tg_marking_resolve(ev.access.p, ev.access.len, ev.caveat.p, ev.caveat.len,
			       ev.releasable_to.p, ev.releasable_to.len, &link_default, &hdr,
			       &mk) < 0)
		return -1;
	*level = mk.level;
	first_allowed = mk.blocked ? 0 : mk.peer_mask;
	*rel = mk.rel_mask;
	return 0;
}

struct agree_case {
	const char *attrs;
	int ok;           /* 1: readable; 0: bad marking (both refuse) */
	uint8_t level;
	uint64_t rel;
	uint32_t allowed; /* the peers the controls allow; 0 here means ~0 */
};

static const struct agree_case agree[] = {
	{"access=\"SECRET//REL TO USA, KOR\"", 1, TG_LVL_SECRET, USA | KOR},
	{"access='SECRET//REL TO USA, JPN'", 1, TG_LVL_SECRET, USA | JPN},
	{"access=\"secret // rel to usa, kor, jpn\"", 1, TG_LVL_SECRET, USA | KOR | JPN},
	{"access=\"S//REL USA, KOR, JPN\"", 1, TG_LVL_SECRET, USA | KOR | JPN},
	{"access=\"TOP SECRET//REL TO USA\"", 1, TG_LVL_TOP_SECRET, USA},
	{"access=\"TS//NF\"", 1, TG_LVL_TOP_SECRET, USA}, /* NOFORN narrows the default */
	{"access=\"SECRET//NOFORN\"", 1, TG_LVL_SECRET, USA},
	{"access=\"UNCLASSIFIED\"", 1, TG_LVL_UNCLASSIFIED, USA | KOR},
	{"access=\"CONFIDENTIAL//REL TO USA, KOR, JPN//FOUO\"", 1, TG_LVL_CONFIDENTIAL,
	 USA | KOR | JPN},
	{"", 1, TG_LVL_SECRET, USA | KOR},  /* unmarked: the link default */
	{"releasableTo=\"USA KOR\"", 1, TG_LVL_SECRET, USA | KOR},
	{"releaseableTo=\"USA,JPN\"", 1, TG_LVL_SECRET, USA | JPN},
	{"releasableTo=\"TRILAT\"", 1, TG_LVL_SECRET, USA | KOR | JPN},
	{"releasableTo=\"\"", 1, TG_LVL_SECRET, 0},
	{"access=\"SECRET//REL TO USA, KOR, JPN\" releasableTo=\"KJU\"", 1, TG_LVL_SECRET, 0},
	{"access=\"SECRET\" caveat=\"REL TO USA, JPN\"", 1, TG_LVL_SECRET, USA | JPN},
	{"access=\"SECRET//REL TO USA, KOR\" caveat=\"NOFORN\"", 1, TG_LVL_SECRET, USA},
	{"access=\"SECRET//REL TO USA,&#x20;KOR\"", 1, TG_LVL_SECRET, USA | KOR},
	{"access=\"SECRET//REL TO USA, KOR\" releasableTo=\"USA JPN\"", 1, TG_LVL_SECRET, USA},
	{"access=\"S//REL TO G20\"", 1, TG_LVL_SECRET, KOR | JPN},
	{"access=\"S\" releasableTo=\"g20, USA\"", 1, TG_LVL_SECRET, USA | KOR | JPN},
	/* bad markings: both refuse */
	{"access=\"\"", 0, 0, 0},
	{"access=\"SECRET//\"", 0, 0, 0},
	{"access=\"SECRET//REL TO USA,\"", 0, 0, 0},
	{"access=\"SECRET//NODIS\"", 0, 0, 0}, /* undeclared */
	{"access=\"SECRET//SECRET\"", 0, 0, 0},
	{"access=\"BOGUS//REL TO USA\"", 0, 0, 0},
	{"access=\"SECRET//REL TO US;A\"", 0, 0, 0},
	{"releasableTo=\"USA;KOR\"", 0, 0, 0},
	/* declared controls */
	{"access=\"S//REL TO USA, KOR//propin\"", 1, TG_LVL_SECRET, USA | KOR},
	{"access=\"S//REL TO USA, KOR\" caveat=\"Prop &#9; Info\"", 1, TG_LVL_SECRET, USA | KOR},
	{"access=\"S//REL TO USA, KOR, JPN//ORCON\"", 1, TG_LVL_SECRET, USA | KOR | JPN, 0x4},
	{"access=\"S//REL TO USA, JPN//LIMDIS\"", 1, TG_LVL_SECRET, USA},
	{"access=\"S//REL TO USA\" caveat=\"ORCON//EXERCISE\"", 1, TG_LVL_SECRET, USA, 0xffffffff},
	{"access=\"S//IMCON\"", 0, 0, 0},
	{"access=\"S//PROPIN INFO\"", 0, 0, 0},
};

static void
test_agrees_with_parser(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(agree) / sizeof(agree[0]); i++) {
		const struct agree_case *c = &agree[i];
		const char *d = event(c->attrs);
		uint8_t l1 = 0, l2 = 0;
		uint64_t r1 = 0, r2 = 0;
		uint32_t a2 = 0;
		int f = first(d, &l1, &r1);
		bool s = sc_derive((const uint8_t *)d, strlen(d), &hdr, &link_default, &l2, &r2, &a2);

		print_message("case %zu: %s\n", i, c->attrs);
		assert_int_not_equal(f, -2); /* the event itself parses */
		assert_int_equal(f == 0, c->ok);
		assert_int_equal(s, c->ok);
		if (c->ok) {
			assert_int_equal(l1, c->level);
			assert_int_equal(l2, c->level);
			assert_true(r1 == c->rel);
			assert_true(r2 == c->rel);
			assert_int_equal(a2, first_allowed);
			if (c->allowed == 0xffffffff)
				assert_int_equal(a2, 0); /* blocked */
			else
				assert_int_equal(a2, c->allowed ? c->allowed : ~0u);
		}
	}
}

/* A message that shows a raw-bytes reader another marking than the parser
 * sees must not be released: the second check differs or refuses. */
static void
test_disagrees_when_smuggled(void **state)
{
	uint8_t l1 = 0, l2 = 0;
	uint64_t r1 = 0, r2 = 0;
	uint32_t a2 = 0;
	const char *d;

	(void)state;
	/* An <event tag inside a comment before the real one. */
	snprintf(doc, sizeof(doc),
		 "<!-- <event access=\"TOP SECRET//REL TO USA\" > -->"
		 "<event version=\"2.0\" uid=\"u1\" type=\"a-h-A-W-M-S-S\" how=\"m-g\" "
		 "time=\"2026-01-01T00:00:00Z\" start=\"2026-01-01T00:00:00Z\" "
		 "stale=\"2026-01-01T00:01:00Z\" access=\"SECRET//REL TO USA, KOR\">"
		 "<point lat=\"37.5\" lon=\"127.0\" hae=\"0\" ce=\"10\" le=\"10\"/></event>");
	assert_int_equal(first(doc, &l1, &r1), 0);
	assert_true(sc_derive((const uint8_t *)doc, strlen(doc), &hdr, &link_default, &l2, &r2, &a2));
	assert_true(l1 != l2 || r1 != r2);
	assert_true(sc_peer_mask(NULL, 0, l1, r1, ~0u) == 0); /* no peers: empty masks */

	/* Garbage where the start tag should end: refuse. */
	d = "<event access=\"SECRET//REL TO USA, KOR";
	assert_false(sc_derive((const uint8_t *)d, strlen(d), &hdr, &link_default, &l2, &r2, &a2));
	/* No event at all. */
	d = "<notanevent access=\"SECRET\"/>";
	assert_false(sc_derive((const uint8_t *)d, strlen(d), &hdr, &link_default, &l2, &r2, &a2));
}

static void
test_peer_mask(void **state)
{
	struct tg_peer peers[3] = {0};

	(void)state;
	peers[0].nation_idx = 1; /* KOR */
	peers[0].clearance = TG_LVL_SECRET;
	peers[1].nation_idx = 2; /* JPN */
	peers[1].clearance = TG_LVL_CONFIDENTIAL;
	peers[2].nation_idx = 0; /* USA */
	peers[2].clearance = TG_LVL_TOP_SECRET;
	assert_int_equal(sc_peer_mask(peers, 3, TG_LVL_SECRET, USA | KOR | JPN, ~0u), 0x5);
	assert_int_equal(sc_peer_mask(peers, 3, TG_LVL_CONFIDENTIAL, USA | JPN, ~0u), 0x6);
	assert_int_equal(sc_peer_mask(peers, 3, TG_LVL_NONE, USA | KOR | JPN, ~0u), 0);
	assert_int_equal(sc_peer_mask(peers, 3, TG_LVL_UNCLASSIFIED, 0, ~0u), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agrees_with_parser),
		cmocka_unit_test(test_disagrees_when_smuggled),
		cmocka_unit_test(test_peer_mask),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
