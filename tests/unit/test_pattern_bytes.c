/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_pattern_bytes.c - ctrl/pattern_bytes.c: the byte set of a pattern is
 * what the syntax says (a table), and every byte of every match Hyperscan
 * reports (start of match from HS_FLAG_SOM_LEFTMOST) is in it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <hs/hs.h>

#include "pattern_bytes.h"

static bool
has(const uint64_t set[4], unsigned c)
{
	return set[c >> 6] >> (c & 63) & 1;
}

static unsigned
count(const uint64_t set[4])
{
	unsigned n = 0;

	for (unsigned c = 0; c < 256; c++)
		n += has(set, c);
	return n;
}

/* The set is exactly the bytes of `want` (or all 256 when want is NULL). */
static void
expect(const char *expr, bool caseless, const char *want, size_t want_len)
{
	uint64_t set[4] = {0};
	bool understood = pattern_bytes(expr, caseless, set);

	if (want == NULL) {
		if (understood || count(set) != 256)
			fail_msg("%s: expected every byte", expr);
		return;
	}
	assert_true(understood);
	for (unsigned c = 0; c < 256; c++) {
		bool in = memchr(want, (int)c, want_len) != NULL;

		if (has(set, c) != in)
			fail_msg("%s%s: byte 0x%02x %s", expr, caseless ? " (caseless)" : "", c,
				 in ? "missing" : "unexpected");
	}
}

#define EXPECT(e, ci, w) expect(e, ci, w, sizeof(w) - 1)

static void
test_table(void **state)
{
	(void)state;
	EXPECT("SECRET WORD", false, "SECRTWOD ");
	EXPECT("Ab", true, "AaBb");
	EXPECT("BLUE\\s+LANTERN", false, "BLUEANTR \t\n\v\f\r\x85\xa0");
	EXPECT("a\\\\b", false, "a\\b");
	EXPECT("x\\.y\\-z", false, "x.y-z");
	EXPECT("\\x41\\x{42}\\t", false, "AB\t");
	EXPECT("[a-c]x", false, "abcx");
	EXPECT("[]a]", false, "]a");
	EXPECT("[a\\]b]", false, "a]b");
	EXPECT("[\\d_]", false, "0123456789_");
	EXPECT("[a-]", false, "a-");
	EXPECT("\\d{2,3}", false, "0123456789");
	EXPECT("x{2}", false, "x");
	EXPECT("x{a}", false, "x{a}");
	EXPECT("x{,2}", false, "x{,2}");
	EXPECT("(ab|cd)+?", false, "abcd");
	EXPECT("\\w", false, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_");
	EXPECT("\\h", false, " \t\xa0");
	EXPECT("\\v", false, "\n\v\f\r\x85");
	EXPECT("caf\xc3\xa9", true, "CcAaFf\xc3\xa9");
	/* not understood: every byte */
	expect("a.b", false, NULL, 0);
	expect("[^<]", false, NULL, 0);
	expect("\\S", false, NULL, 0);
	expect("\\D", false, NULL, 0);
	expect("(?i)x", false, NULL, 0);
	expect("(?:x)", false, NULL, 0);
	expect("^x", false, NULL, 0);
	expect("x$", false, NULL, 0);
	expect("\\bx", false, NULL, 0);
	expect("(a)\\1", false, NULL, 0);
	expect("[[:alpha:]]", false, NULL, 0);
	expect("[z-a]", false, NULL, 0);
	expect("[a-\\d]", false, NULL, 0);
	expect("[abc", false, NULL, 0);
	expect("x\\", false, NULL, 0);
	expect("\\x{100}", false, NULL, 0);
	expect("\\Qa.b\\E", false, NULL, 0);
	expect("\\p{L}", false, NULL, 0);
}

struct span_ctx {
	const char *text;
	const uint64_t *set;
	unsigned matches;
};

static int
on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
	 void *arg)
{
	struct span_ctx *c = arg;

	(void)id;
	(void)flags;
	for (unsigned long long i = from; i < to; i++)
		if (!has(c->set, (uint8_t)c->text[i]))
			fail_msg("match [%llu, %llu) holds byte 0x%02x outside the set", from, to,
				 (uint8_t)c->text[i]);
	c->matches++;
	return 0;
}

/* Hyperscan's own matches stay inside the computed set. */
static void
test_matches_inside(void **state)
{
	static const struct {
		const char *expr;
		unsigned flags;
		const char *text;
	} cases[] = {
		{"SECRET WORD", HS_FLAG_CASELESS, "xx sEcReT wOrD yy"},
		{"BLUE\\s+LANTERN", 0, "<a>BLUE \t\n\r LANTERN</a>"},
		{"AMBER\\s+ANVIL\\s+0\\d{4}", HS_FLAG_CASELESS, "amber\x0b anvil 01234!"},
		{"ca[a-z]{2}sign", 0, "<contact callsign='x'/>"},
		{"[\\d_]+x", 0, "ab_12_x"},
		{"(ab|cd)+e", 0, "zzabcdabez"},
		{"\\x41\\x{42}\\t", 0, "..AB\t.."},
		{"caf\xc3\xa9", HS_FLAG_CASELESS, "un CAF\xc3\xa9 noir"},
		{"\\w+@\\w+", 0, "mail: a_1@b2 "},
		{"[]a]+b", 0, "x]a]ab"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hs_database_t *db = NULL;
		hs_scratch_t *scratch = NULL;
		hs_compile_error_t *err = NULL;
		uint64_t set[4] = {0};
		struct span_ctx c = {.text = cases[i].text, .set = set};

		assert_true(pattern_bytes(cases[i].expr, cases[i].flags & HS_FLAG_CASELESS, set));
		if (hs_compile(cases[i].expr, cases[i].flags | HS_FLAG_SOM_LEFTMOST, HS_MODE_BLOCK,
			       NULL, &db, &err) != HS_SUCCESS)
			fail_msg("%s: %s", cases[i].expr, err->message);
		assert_int_equal(hs_alloc_scratch(db, &scratch), HS_SUCCESS);
		assert_int_equal(hs_scan(db, cases[i].text, (unsigned)strlen(cases[i].text), 0,
					 scratch, on_match, &c),
				 HS_SUCCESS);
		if (c.matches == 0)
			fail_msg("%s: no match in its own test text", cases[i].expr);
		hs_free_scratch(scratch);
		hs_free_database(db);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_matches_inside),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
