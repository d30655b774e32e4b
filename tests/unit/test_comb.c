/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_comb.c - lib/comb.c: Hyperscan logical combinations evaluated by
 * trackgate must report exactly what Hyperscan's HS_FLAG_COMBINATION does.
 *
 * Tables for the expression compiler, crafted bad programs, truncated and
 * corrupted (fuzzed) table blobs, hand-made scans, and the differential
 * test: seeded random combinations over short literal (and some regex) operands, several
 * per database, each database compiled twice - operands (quiet or not,
 * single-match or not) plus the combinations with HS_FLAG_COMBINATION, and
 * the operands alone, their matches fed to comb_scan_match - and scanned
 * over seeded random texts; the reported combinations must be the same.
 * COMB_SEED in the environment overrides the seed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <hs/hs.h>

#include "comb.h"

static uint64_t rng_state;

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint32_t
rnd(uint32_t n)
{
	return (uint32_t)(rng() % n);
}

static void
seed(uint64_t dflt)
{
	const char *e = getenv("COMB_SEED");

	rng_state = e != NULL ? strtoull(e, NULL, 0) : dflt;
}

/* ids 0..63 are operands 0..63; anything else is unknown */
static int
resolve_small(void *arg, uint64_t id, uint32_t *index)
{
	(void)arg;
	if (id >= 64)
		return -1;
	*index = (uint32_t)id;
	return 0;
}

/* A program as text: operand indices and ! & |. */
static void
prog_str(const uint32_t *prog, uint32_t n, char *out, size_t len)
{
	size_t o = 0;
	uint32_t i;

	out[0] = '\0';
	for (i = 0; i < n && o < len; i++) {
		const char *sep = i ? " " : "";

		if (prog[i] == COMB_NOT)
			o += (size_t)snprintf(out + o, len - o, "%s!", sep);
		else if (prog[i] == COMB_AND)
			o += (size_t)snprintf(out + o, len - o, "%s&", sep);
		else if (prog[i] == COMB_OR)
			o += (size_t)snprintf(out + o, len - o, "%s|", sep);
		else
			o += (size_t)snprintf(out + o, len - o, "%s%u", sep, prog[i]);
	}
}

/* ---- comb_compile ---- */

static void
test_compile_ok(void **state)
{
	static const struct {
		const char *expr, *prog;
	} t[] = {
		{ "1", "1" },
		{ "1 & 2 | 3", "1 2 & 3 |" },
		{ "1 | 2 & 3", "1 2 3 & |" },
		{ "1 & 2 & 3", "1 2 & 3 &" },
		{ "1 | 2 | 3", "1 2 | 3 |" },
		{ "!1 & 2", "1 ! 2 &" },
		{ "!1 | !2 & 3", "1 ! 2 ! 3 & |" },
		{ "!(1 & 2)", "1 2 & !" },
		{ "(1 | 2) & 3", "1 2 | 3 &" },
		{ "1 & (2 | 3)", "1 2 3 | &" },
		{ "!!1", "1 ! !" },
		{ "!(!1)", "1 ! !" },
		{ "((((1))))", "1" },
		{ " \t1\t&  ( 2|3 ) \t", "1 2 3 | &" },
		{ "10&11|!12", "10 11 & 12 ! |" },
		{ "007", "7" },
		{ "1 & !2 | !(3 | 4) & 5", "1 2 ! & 3 4 | ! 5 & |" },
		{ "63", "63" },
	};
	uint32_t prog[COMB_MAX_WORDS], n;
	char err[128], got[512];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (comb_compile(t[i].expr, resolve_small, NULL, prog, COMB_MAX_WORDS, &n, err,
				 sizeof(err)) != 0)
			fail_msg("'%s': %s", t[i].expr, err);
		prog_str(prog, n, got, sizeof(got));
		if (strcmp(got, t[i].prog) != 0)
			fail_msg("'%s': got '%s', expected '%s'", t[i].expr, got, t[i].prog);
		assert_true(comb_prog_valid(prog, n, 64));
	}
}

static void
test_compile_errors(void **state)
{
	static const struct {
		const char *expr, *err;
	} t[] = {
		{ "", "empty expression" },
		{ "  \t ", "empty expression" },
		{ "1 &", "unexpected end of expression at column 4, expected an id, '!' or '('" },
		{ "1 |", "unexpected end of expression at column 4, expected an id, '!' or '('" },
		{ "!", "unexpected end of expression at column 2, expected an id, '!' or '('" },
		{ "(1 & 2", "unexpected end of expression at column 7, expected ')'" },
		{ "((1)", "unexpected end of expression at column 5, expected ')'" },
		{ "1 & 2)", "unexpected ')' at column 6" },
		{ "1 2", "unexpected '2' at column 3" },
		{ "(1) (2)", "unexpected '(' at column 5" },
		{ "1 & x", "unexpected 'x' at column 5, expected an id, '!' or '('" },
		{ "1 && 2", "unexpected '&' at column 4, expected an id, '!' or '('" },
		{ "()", "unexpected ')' at column 2, expected an id, '!' or '('" },
		{ "& 1", "unexpected '&' at column 1, expected an id, '!' or '('" },
		{ "1 !", "unexpected '!' at column 3" },
		{ "1\n", "unexpected byte 0x0a at column 2" },
		{ "1 & 2 garbage", "unexpected 'g' at column 7" },
		{ "-1", "unexpected '-' at column 1, expected an id, '!' or '('" },
		{ "64", "unknown id 64 at column 1" },
		{ "1 & (2 | 99)", "unknown id 99 at column 10" },
		{ "1 & 99999999999999999999999", "id too large at column 5" },
		{ "18446744073709551616", "id too large at column 1" },
		{ "18446744073709551615", "unknown id 18446744073709551615 at column 1" },
	};
	uint32_t prog[COMB_MAX_WORDS], n;
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err[0] = '\0';
		if (comb_compile(t[i].expr, resolve_small, NULL, prog, COMB_MAX_WORDS, &n, err,
				 sizeof(err)) == 0)
			fail_msg("'%s' compiled", t[i].expr);
		if (strcmp(err, t[i].err) != 0)
			fail_msg("'%s': got \"%s\", expected \"%s\"", t[i].expr, err, t[i].err);
		assert_int_equal(n, 0);
	}
}

/* Limits: nesting, evaluation stack, program length, cap. */
static void
test_compile_limits(void **state)
{
	static char e[16384];
	uint32_t prog[COMB_MAX_WORDS], n;
	char err[128];
	int i, k;

	/* 64 nested parentheses (and !) are fine, 65 are not */
	for (k = 64; k <= 65; k++) {
		char *p = e;

		for (i = 0; i < k; i++)
			*p++ = '(';
		*p++ = '1';
		for (i = 0; i < k; i++)
			*p++ = ')';
		*p = '\0';
		if (k == 64) {
			assert_int_equal(comb_compile(e, resolve_small, NULL, prog, COMB_MAX_WORDS, &n,
						      err, sizeof(err)), 0);
			assert_int_equal(n, 1);
		} else {
			assert_int_equal(comb_compile(e, resolve_small, NULL, prog, COMB_MAX_WORDS, &n,
						      err, sizeof(err)), -1);
			assert_string_equal(err, "nesting deeper than 64 at column 65");
		}
		memset(e, '!', (size_t)k);
		strcpy(e + k, "1");
		if (k == 64) {
			assert_int_equal(comb_compile(e, resolve_small, NULL, prog, COMB_MAX_WORDS, &n,
						      err, sizeof(err)), 0);
			assert_int_equal(n, 65);
		} else {
			assert_int_equal(comb_compile(e, resolve_small, NULL, prog, COMB_MAX_WORDS, &n,
						      err, sizeof(err)), -1);
			assert_string_equal(err, "nesting deeper than 64 at column 65");
		}
	}
	/* 1 | (1 | (1 | ...)): k nested parentheses need a stack of k + 1 */
	for (k = 63; k <= 64; k++) {
		char *p = e;

		for (i = 0; i < k; i++)
			p += sprintf(p, "1 | (");
		*p++ = '1';
		for (i = 0; i < k; i++)
			*p++ = ')';
		*p = '\0';
		i = comb_compile(e, resolve_small, NULL, prog, COMB_MAX_WORDS, &n, err, sizeof(err));
		if (k == 63) {
			assert_int_equal(i, 0);
			assert_true(comb_prog_valid(prog, n, 64));
		} else {
			assert_int_equal(i, -1);
			assert_non_null(strstr(err, "evaluation stack deeper than 64"));
		}
	}
	/* a long left-associative chain needs a stack of 2: 512 ids = 1023 words */
	for (k = 512; k <= 513; k++) {
		char *p = e;

		for (i = 0; i < k; i++)
			p += sprintf(p, "%s%d", i ? " & " : "", i % 64);
		i = comb_compile(e, resolve_small, NULL, prog, COMB_MAX_WORDS, &n, err, sizeof(err));
		if (k == 512) {
			assert_int_equal(i, 0);
			assert_int_equal(n, 1023);
			assert_true(comb_prog_valid(prog, n, 64));
		} else {
			assert_int_equal(i, -1);
			assert_string_equal(err, "expression longer than 1024 program words");
		}
	}
	/* the caller's capacity */
	assert_int_equal(comb_compile("1 & 2", resolve_small, NULL, prog, 3, &n, err, sizeof(err)),
			 0);
	assert_int_equal(comb_compile("1 & 2", resolve_small, NULL, prog, 2, &n, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "expression longer than 2 program words");
	/* a tiny error buffer is truncated, not overrun; none at all is fine */
	assert_int_equal(comb_compile(")", resolve_small, NULL, prog, 8, &n, err, 4), -1);
	assert_string_equal(err, "une");
	assert_int_equal(comb_compile(")", resolve_small, NULL, prog, 8, &n, NULL, 0), -1);
}

/* ---- programs ---- */

static void
test_prog_valid(void **state)
{
	static uint32_t p[COMB_MAX_WORDS + 1];
	const uint32_t N = COMB_NOT, A = COMB_AND, O = COMB_OR;
	const struct {
		uint32_t w[6];
		uint32_t n;
		bool ok;
	} t[] = {
		{ { 0 }, 1, true },
		{ { 0 }, 0, false },		 /* empty */
		{ { 4 }, 1, true },		 /* operand 4 < 5 */
		{ { 5 }, 1, false },		 /* operand 5 of 5 */
		{ { 0, 1 }, 2, false },		 /* two values left */
		{ { A }, 1, false },		 /* underflow */
		{ { 0, A }, 2, false },		 /* underflow */
		{ { 0, O }, 2, false },		 /* underflow */
		{ { N }, 1, false },		 /* underflow */
		{ { 0, N, 1, A }, 4, true },
		{ { 0, 1, A, N }, 4, true },
		{ { 0, 1, 2, A, O }, 5, true },
		{ { 0, 1, 2, A, O, O }, 6, false },
		{ { 0, COMB_OP_BASE }, 2, false }, /* reserved words */
		{ { 0, 1, 0xfffffffcu }, 3, false },
		{ { 0, 1, 0xfffffff5u }, 3, false },
		{ { COMB_OP_BASE - 1 }, 1, false },
	};
	size_t i;
	uint32_t k;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (comb_prog_valid(t[i].w, t[i].n, 5) != t[i].ok)
			fail_msg("case %zu: expected %d", i, t[i].ok);
	assert_false(comb_prog_valid(NULL, 1, 5));
	/* 64 operands deep, then 63 ANDs: fine; 65 deep: refused */
	for (k = 0; k < 64; k++)
		p[k] = k % 5;
	for (k = 0; k < 63; k++)
		p[64 + k] = COMB_AND;
	assert_true(comb_prog_valid(p, 127, 5));
	memmove(p + 1, p, 127 * sizeof(*p));
	p[0] = 1;
	p[128] = COMB_OR;
	assert_false(comb_prog_valid(p, 129, 5));
	/* 1024 words fine, 1025 refused */
	p[0] = 0;
	for (k = 1; k < COMB_MAX_WORDS; k++)
		p[k] = COMB_NOT;
	assert_true(comb_prog_valid(p, COMB_MAX_WORDS, 5));
	p[COMB_MAX_WORDS] = COMB_NOT;
	assert_false(comb_prog_valid(p, COMB_MAX_WORDS + 1, 5));
}

/* Truth tables, against a direct evaluation of the expression. */
static void
test_prog_eval(void **state)
{
	uint32_t prog[COMB_MAX_WORDS], n, m;
	uint64_t on[2];
	char err[128];
	int k;

	assert_int_equal(comb_compile("1 & !2 | 3", resolve_small, NULL, prog, COMB_MAX_WORDS,
				      &n, err, sizeof(err)), 0);
	for (m = 0; m < 8; m++) {
		bool a = m & 1, b = m & 2, c = m & 4;

		on[0] = (uint64_t)m << 1;
		assert_int_equal(comb_prog_eval(prog, n, on), (a && !b) || c);
	}
	assert_int_equal(comb_compile("!(1 | 2) & !3 | 1 & 2 & 3", resolve_small, NULL, prog,
				      COMB_MAX_WORDS, &n, err, sizeof(err)), 0);
	for (m = 0; m < 8; m++) {
		bool a = m & 1, b = m & 2, c = m & 4;

		on[0] = (uint64_t)m << 1;
		assert_int_equal(comb_prog_eval(prog, n, on), (!(a || b) && !c) || (a && b && c));
	}
	/* operands in the second word; the full 64-deep stack */
	on[0] = 0;
	on[1] = 0;
	{
		uint32_t p[127];

		for (k = 0; k < 64; k++)
			p[k] = 64 + (uint32_t)k % 2; /* 64, 65, 64, ... */
		for (k = 0; k < 63; k++)
			p[64 + k] = COMB_OR;
		assert_true(comb_prog_valid(p, 127, 66));
		assert_false(comb_prog_eval(p, 127, on));
		on[1] = 2; /* operand 65 */
		assert_true(comb_prog_eval(p, 127, on));
		for (k = 0; k < 63; k++)
			p[64 + k] = COMB_AND;
		assert_false(comb_prog_eval(p, 127, on));
		on[1] = 3;
		assert_true(comb_prog_eval(p, 127, on));
		/* the bottom of the stack matters too */
		p[0] = 0;
		assert_false(comb_prog_eval(p, 127, on));
	}
}

/* ---- tables ---- */

static void
compile_or_die(const char *expr, uint32_t *prog, uint32_t *n)
{
	char err[128];

	if (comb_compile(expr, resolve_small, NULL, prog, COMB_MAX_WORDS, n, err, sizeof(err)))
		fail_msg("'%s': %s", expr, err);
}

/* A small table over 6 operands, in groups 0, 1 and 15. */
static uint32_t *
small_table(size_t *n_words)
{
	static const struct {
		const char *e;
		uint32_t group;
	} c[] = {
		{ "0 & 1", 0 }, { "!2", 0 }, { "0 | !3", 1 }, { "1 & !1 | 4", 1 },
		{ "!(0 | 1) & !2", 15 }, { "5 & 5 & 5", 0 }, { "!0 & !0", 0 },
	};
	struct comb_builder *b = comb_builder_new(6);
	uint32_t prog[COMB_MAX_WORDS], n, *w;
	size_t i;

	assert_non_null(b);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		compile_or_die(c[i].e, prog, &n);
		assert_int_equal(comb_builder_add(b, 100 + (uint32_t)i, c[i].group, prog, n), 0);
	}
	assert_int_equal(comb_builder_set_min_width(b, 15, 2), 0);
	assert_int_equal(comb_builder_set_min_width(b, 16, 2), -1);
	assert_int_equal(comb_builder_finish(b, &w, n_words), 0);
	comb_builder_free(b);
	return w;
}

static void
test_table_layout(void **state)
{
	struct comb_table t;
	size_t nw;
	uint32_t *w = small_table(&nw);
	char err[160];

	assert_int_equal(comb_table_load(&t, w, nw, 6, err, sizeof(err)), 0);
	assert_int_equal(t.n_combs, 7);
	assert_int_equal(w[0], COMB_MAGIC);
	assert_int_equal(w[2], nw);
	/* operand -> combinations */
	assert_true(comb_is_operand(&t, 0));
	assert_int_equal(t.op_start[1] - t.op_start[0], 4); /* combs 0, 2, 4, 6 */
	assert_int_equal(t.op_refs[t.op_start[0] + 3], 6);
	assert_int_equal(t.op_start[2] - t.op_start[1], 3); /* 0, 3, 4 */
	assert_int_equal(t.op_start[6] - t.op_start[5], 1); /* 5, once */
	/* eod lists: !2 and !0&!0 in group 0, 0|!3 in 1, the NOR in 15 */
	assert_int_equal(t.eod_start[1] - t.eod_start[0], 2);
	assert_int_equal(t.eod[t.eod_start[0]], 1);
	assert_int_equal(t.eod[t.eod_start[0] + 1], 6);
	assert_int_equal(t.eod_start[2] - t.eod_start[1], 1);
	assert_int_equal(t.eod[t.eod_start[1]], 2);
	assert_int_equal(t.eod_start[16] - t.eod_start[15], 1);
	assert_int_equal(t.eod[t.eod_start[15]], 4);
	/* the caller's operand count must agree */
	assert_int_equal(comb_table_load(&t, w, nw, 7, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "operands"));
	/* every truncation, and one word too many, are refused */
	{
		uint32_t *x = malloc((nw + 1) * sizeof(*x));
		size_t k;

		for (k = 0; k <= nw + 1; k++) {
			if (k == nw)
				continue;
			memcpy(x, w, (k < nw ? k : nw) * sizeof(*x));
			if (k > nw)
				x[nw] = 0;
			if (comb_table_load(&t, k ? x : NULL, k, 6, err, sizeof(err)) == 0)
				fail_msg("%zu of %zu words loaded", k, nw);
			/* with the header fixed up to the length, too */
			if (k >= COMB_HDR_WORDS) {
				x[2] = (uint32_t)k;
				if (comb_table_load(&t, x, k, 6, err, sizeof(err)) == 0)
					fail_msg("%zu of %zu words, fixed header, loaded", k, nw);
			}
		}
		free(x);
	}
	free(w);
	/* an empty table */
	{
		struct comb_builder *b = comb_builder_new(0);

		assert_int_equal(comb_builder_finish(b, &w, &nw), 0);
		assert_int_equal(nw, COMB_HDR_WORDS + COMB_MAX_GROUPS + 1 + COMB_MAX_GROUPS + 1);
		assert_int_equal(comb_table_load(&t, w, nw, 0, err, sizeof(err)), 0);
		comb_builder_free(b);
		free(w);
	}
	/* the builder refuses bad programs and groups */
	{
		struct comb_builder *b = comb_builder_new(2);
		uint32_t p2[] = { 2 }, p1[] = { 1 }, bad[] = { 0, 1 };

		assert_int_equal(comb_builder_add(b, 1, 0, p2, 1), -1);
		assert_int_equal(comb_builder_add(b, 1, 0, bad, 2), -1);
		assert_int_equal(comb_builder_add(b, 1, COMB_MAX_GROUPS, p1, 1), -1);
		assert_int_equal(comb_builder_add(b, 1, COMB_MAX_GROUPS - 1, p1, 1), 0);
		comb_builder_free(b);
		assert_null(comb_builder_new(COMB_MAX_OPERANDS + 1));
	}
}

static int
rep_count(void *arg, uint32_t rule)
{
	(*(uint32_t *)arg)++;
	return 0;
}

/* The largest table: 16384 operands, 16384 combinations; one more is refused. */
static void
test_table_max(void **state)
{
	struct comb_builder *b = comb_builder_new(COMB_MAX_OPERANDS);
	struct comb_state *s = comb_state_new(COMB_MAX_OPERANDS, COMB_MAX_COMBS);
	struct comb_table t;
	uint32_t c, n = 0, *w, p[3];
	size_t nw;
	char err[160];

	assert_non_null(b);
	assert_non_null(s);
	assert_null(comb_state_new(COMB_MAX_OPERANDS + 1, 1));
	/* combination c: (c) & !(c + 1), every operand in two */
	for (c = 0; c < COMB_MAX_COMBS; c++) {
		p[0] = c;
		p[1] = (c + 1) % COMB_MAX_OPERANDS;
		p[2] = COMB_NOT;
		assert_int_equal(comb_builder_add(b, c, c % COMB_MAX_GROUPS, p, 2), -1);
		p[2] = p[1];
		p[1] = COMB_NOT;
		assert_int_equal(comb_builder_add(b, c, c % COMB_MAX_GROUPS, (uint32_t[]){
			p[0], p[2], COMB_NOT, COMB_AND }, 4), 0);
	}
	assert_int_equal(comb_builder_add(b, c, 0, p, 1), -1);
	assert_int_equal(comb_builder_finish(b, &w, &nw), 0);
	comb_builder_free(b);
	if (comb_table_load(&t, w, nw, COMB_MAX_OPERANDS, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_true(comb_state_fits(s, &t));
	/* every even operand: the odd combinations' second operands never match */
	comb_scan_begin(s);
	for (c = 0; c < COMB_MAX_OPERANDS; c += 2)
		assert_int_equal(comb_scan_match(s, &t, c, c, rep_count, &n), 0);
	assert_int_equal(comb_scan_end(s, &t, 0, COMB_MAX_OPERANDS, rep_count, &n), 0);
	assert_int_equal(n, COMB_MAX_COMBS / 2);
	/* the last operand, then 0: 16383 & !0 at 1, 0 & !1 at 2; 16382 & !16383 never */
	n = 0;
	comb_scan_begin(s);
	comb_scan_match(s, &t, COMB_MAX_OPERANDS - 1, 1, rep_count, &n);
	comb_scan_match(s, &t, 0, 2, rep_count, &n);
	assert_int_equal(n, 1);
	comb_scan_end(s, &t, 0, 3, rep_count, &n);
	assert_int_equal(n, 2);
	free(w);
	comb_state_free(s);
}

/* Corruptions that keep the sizes right must be caught by the consistency checks. */
static void
test_table_crafted(void **state)
{
	struct comb_table t;
	size_t nw;
	uint32_t *w = small_table(&nw), *x = malloc(nw * sizeof(*x));
	uint32_t nc = w[4], n_prog = w[5], nop = w[3], n_refs = w[6];
	uint32_t *combs = x + COMB_HDR_WORDS + COMB_MAX_GROUPS, *progs = combs + 4 * nc;
	uint32_t *op_start = progs + n_prog, *op_refs = op_start + nop + 1;
	uint32_t *eod_start = op_refs + n_refs, *eod = eod_start + COMB_MAX_GROUPS + 1;
	char err[160];

#define FRESH() memcpy(x, w, nw * sizeof(*x))
#define REFUSED(what)                                                                \
	do {                                                                         \
		if (comb_table_load(&t, x, nw, 6, err, sizeof(err)) == 0)            \
			fail_msg("%s: loaded", what);                                \
		print_message("  %-40s -> %s\n", what, err);                         \
	} while (0)

	FRESH();
	assert_int_equal(comb_table_load(&t, x, nw, 6, err, sizeof(err)), 0);
	FRESH(); x[0] ^= 1; REFUSED("magic");
	FRESH(); x[1] = COMB_VERSION + 1; REFUSED("version");
	FRESH(); x[4] = nc - 1; REFUSED("n_combs");
	FRESH(); combs[4 * 1 + 1] = COMB_MAX_GROUPS; REFUSED("group 16");
	FRESH(); combs[4 * 1 + 1] = 1; REFUSED("eod comb moved to another group");
	FRESH(); combs[4 * 0 + 1] = 1; combs[4 * 1 + 1] = 1; REFUSED("group changed");
	FRESH(); combs[4 * 2 + 2] += 1; REFUSED("program offset");
	FRESH(); combs[4 * 0 + 3] += 1; combs[4 * 1 + 2] += 1; combs[4 * 1 + 3] -= 1;
	REFUSED("program lengths shifted");
	FRESH(); progs[0] = 6; REFUSED("operand out of range");
	FRESH(); progs[0] = 2; REFUSED("operand not in its list");
	FRESH(); progs[8] = COMB_AND; REFUSED("0 | !3 -> 0 & !3: eod list wrong");
	FRESH(); progs[2] = COMB_NOT; REFUSED("and -> not (2 left)");
	FRESH(); progs[3] = 3; REFUSED("!2 -> !3: lists disagree");
	FRESH(); op_start[1] += 1; REFUSED("op_start");
	FRESH(); op_refs[0] = 1; REFUSED("op_refs entry");
	FRESH(); { uint32_t s = op_refs[0]; op_refs[0] = op_refs[1]; op_refs[1] = s; }
	REFUSED("op_refs unsorted");
	FRESH(); op_refs[1] = op_refs[0]; REFUSED("op_refs duplicate");
	FRESH(); eod[0] = 5; REFUSED("eod entry");
	FRESH(); eod_start[1] = 0; REFUSED("eod_start");
	FRESH(); eod_start[16] += 1; REFUSED("eod_start end");
	/* the remaining crafted case: a valid but different table loads */
	FRESH(); combs[4 * 3 + 0] = 12345;
	assert_int_equal(comb_table_load(&t, x, nw, 6, err, sizeof(err)), 0);
	FRESH(); progs[2] = COMB_OR; /* 0 & 1 -> 0 | 1: same operands, not eod */
	assert_int_equal(comb_table_load(&t, x, nw, 6, err, sizeof(err)), 0);
	FRESH(); x[COMB_HDR_WORDS + 3] = UINT32_MAX; /* any min width */
	assert_int_equal(comb_table_load(&t, x, nw, 6, err, sizeof(err)), 0);
#undef FRESH
#undef REFUSED
	free(x);
	free(w);
}

static int
rep_any(void *arg, uint32_t rule)
{
	(*(unsigned long *)arg)++;
	return 0;
}

/* Drive a loaded table with random matches: under ASan, a table that loads is safe. */
static void
exercise(const struct comb_table *t, struct comb_state *s)
{
	uint32_t j, g;
	unsigned long m;

	for (g = 0; g < COMB_MAX_GROUPS; g++) {
		unsigned long long to = 0;

		comb_scan_begin(s);
		m = 0;
		for (j = 0; j < 12 && t->n_operands; j++) {
			to += rnd(3);
			if (comb_scan_match(s, t, rnd(t->n_operands), to, rep_any, &m))
				break;
		}
		comb_scan_end(s, t, g, to + rnd(3), rep_any, &m);
		assert_true(m <= t->n_combs);
	}
}

/* Flip words of a valid blob: never a crash, and whatever loads scans safely. */
static void
test_table_fuzz(void **state)
{
	struct comb_table t;
	struct comb_state *s = comb_state_new(64, 64);
	size_t nw, k;
	uint32_t *w = small_table(&nw), *x = malloc(nw * sizeof(*x));
	char err[160];
	int i, loaded = 0, j;

	seed(7);
	for (i = 0; i < 200000; i++) {
		memcpy(x, w, nw * sizeof(*x));
		for (j = 1 + (int)rnd(3); j > 0; j--) {
			k = rnd((uint32_t)nw);
			switch (rnd(6)) {
			case 0: x[k] ^= UINT32_C(1) << rnd(32); break;
			case 1: x[k] += 1; break;
			case 2: x[k] -= 1; break;
			case 3: x[k] = (uint32_t)rng(); break;
			case 4: x[k] = rnd(2) ? 0 : UINT32_MAX; break;
			default: x[k] = x[rnd((uint32_t)nw)]; break;
			}
		}
		if (comb_table_load(&t, x, nw, 6, err, sizeof(err)) == 0) {
			loaded++;
			assert_true(comb_state_fits(s, &t));
			exercise(&t, s);
		} else {
			assert_true(err[0] != '\0');
		}
	}
	print_message("  %d of 200000 mutated blobs still loaded (and scanned)\n", loaded);
	assert_true(loaded > 0 && loaded < 200000);
	free(x);
	free(w);
	comb_state_free(s);
}

/* ---- scans by hand ---- */

struct rec {
	uint32_t rules[64];
	int n;
	int stop_after; /* ask to stop at this report (1-based); 0 never */
};

static int
rec_report(void *arg, uint32_t rule)
{
	struct rec *r = arg;

	r->rules[r->n++] = rule;
	return r->stop_after && r->n == r->stop_after ? 7 : 0;
}

static void
test_scan_small(void **state)
{
	struct comb_table t;
	size_t nw;
	uint32_t *w = small_table(&nw);
	char err[160];
	struct rec r;
	uint64_t mem[512];
	struct comb_state *s;

	assert_int_equal(comb_state_bytes(6, 7) <= sizeof(mem), 1);
	assert_null(comb_state_init((char *)mem + 4, sizeof(mem) - 8, 6, 7));
	assert_null(comb_state_init(mem, comb_state_bytes(6, 7) - 1, 6, 7));
	s = comb_state_init(mem, sizeof(mem), 6, 7);
	assert_non_null(s);
	assert_int_equal(comb_table_load(&t, w, nw, 6, err, sizeof(err)), 0);
	assert_true(comb_state_fits(s, &t));

	/* group 0, nothing matched: !2 (101) and !0&!0 (106) at the end */
	memset(&r, 0, sizeof(r));
	comb_scan_begin(s);
	assert_int_equal(comb_scan_end(s, &t, 0, 10, rec_report, &r), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.rules[0], 101);
	assert_int_equal(r.rules[1], 106);

	/*
	 * 0 at 3: 0 | !3 (102) true at 3, reported lazily when 1 arrives at 5;
	 * 1 and 2 at 5: 0 & 1 (100) true at 5, reported when 0 matches again
	 * at 6; !2 false at 5 and at the end; each once.
	 */
	memset(&r, 0, sizeof(r));
	comb_scan_begin(s);
	assert_int_equal(comb_scan_match(s, &t, 0, 3, rec_report, &r), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(comb_scan_match(s, &t, 1, 5, rec_report, &r), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.rules[0], 102);
	assert_int_equal(comb_scan_match(s, &t, 2, 5, rec_report, &r), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(comb_scan_match(s, &t, 0, 6, rec_report, &r), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.rules[1], 100);
	assert_int_equal(comb_scan_match(s, &t, 1, 9, rec_report, &r), 0);
	assert_int_equal(comb_scan_end(s, &t, 0, 10, rec_report, &r), 0);
	assert_int_equal(comb_scan_end(s, &t, 1, 10, rec_report, &r), 0);
	assert_int_equal(r.n, 2);

	/* !2 true at 2's offset? no: true before, when nothing mattered; 2 first: !2 never */
	memset(&r, 0, sizeof(r));
	comb_scan_begin(s);
	comb_scan_match(s, &t, 2, 1, rec_report, &r);
	comb_scan_end(s, &t, 0, 10, rec_report, &r);
	assert_int_equal(r.n, 1); /* only !0&!0 */
	assert_int_equal(r.rules[0], 106);

	/* A & !B: A before B reports, B before A or with A does not */
	memset(&r, 0, sizeof(r));
	comb_scan_begin(s);
	comb_scan_match(s, &t, 0, 4, rec_report, &r); /* 0 | !3 (102): true at 4 */
	comb_scan_match(s, &t, 3, 4, rec_report, &r);
	comb_scan_end(s, &t, 1, 10, rec_report, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.rules[0], 102);
	memset(&r, 0, sizeof(r));
	comb_scan_begin(s);
	comb_scan_match(s, &t, 3, 4, rec_report, &r); /* 0 | !3 false at 4, at the end */
	comb_scan_end(s, &t, 1, 10, rec_report, &r);
	assert_int_equal(r.n, 0);

	/* stop: the first report asks to stop; nothing more until begin */
	memset(&r, 0, sizeof(r));
	r.stop_after = 1;
	comb_scan_begin(s);
	comb_scan_match(s, &t, 0, 1, rec_report, &r);
	comb_scan_match(s, &t, 1, 1, rec_report, &r);
	comb_scan_match(s, &t, 5, 1, rec_report, &r);
	assert_int_equal(comb_scan_match(s, &t, 4, 2, rec_report, &r), 7);
	assert_int_equal(r.n, 1);
	assert_int_equal(comb_scan_match(s, &t, 2, 3, rec_report, &r), 7);
	assert_int_equal(comb_scan_end(s, &t, 0, 10, rec_report, &r), 7);
	assert_int_equal(r.n, 1);
	/* the next scan starts clean although the last stopped with work pending */
	memset(&r, 0, sizeof(r));
	comb_scan_begin(s);
	comb_scan_match(s, &t, 5, 1, rec_report, &r);
	assert_int_equal(comb_scan_end(s, &t, 3, 10, rec_report, &r), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.rules[0], 105);
	/* group 15's database matches nothing shorter than 2: no eod list below */
	memset(&r, 0, sizeof(r));
	comb_scan_begin(s);
	assert_int_equal(comb_scan_end(s, &t, 15, 1, rec_report, &r), 0);
	assert_int_equal(r.n, 0);
	comb_scan_begin(s);
	assert_int_equal(comb_scan_end(s, &t, 15, 2, rec_report, &r), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.rules[0], 104);
	/* stop from the eod list */
	memset(&r, 0, sizeof(r));
	r.stop_after = 1;
	comb_scan_begin(s);
	assert_int_equal(comb_scan_end(s, &t, 0, 10, rec_report, &r), 7);
	assert_int_equal(r.n, 1);
	free(w);
}

/* ---- the differential test against Hyperscan ---- */

#define DIFF_OPS_MAX 6
#define DIFF_COMBS_MAX 6
#define DIFF_EXPRS 2000
#define DIFF_SHORT 121 /* every text of length 0 to 4 over {a,b,c} */
#define DIFF_TEXTS (DIFF_SHORT + 60)
#define COMB_ID0 1000 /* Hyperscan ids of the combinations */
#define PLAIN_ID 500  /* a plain rule in both databases, in no combination */
#define OP_ID(k) (9 + 7 * (k)) /* Hyperscan id of operand k: 9, 16, 23, ... */

static const char *const LITS[] = { "ab", "ba", "abc", "c", "bb", "a", "cab", "bca", "aa", "cc" };
/* some databases have only these, and a longer plain rule: min width 3 */
static const char *const LONG_LITS[] = { "abc", "cab", "bca", "bbc", "aab" };
/*
 * others regexes, and "b*" with HS_FLAG_ALLOWEMPTY (min width 0, a match at
 * offset 0).  Hyperscan refuses operands that can match out of order
 * (hs_expr_info_t.unordered_matches: `a$`, `a\b`, `\Z`...).
 */
static const char *const REGEXES[] = { "^ab", "^c", "a[bc]", "b+c", "(ab|ca)a", "c", "ab", "b*" };

struct gen {
	char *p;
	char *end;
	uint32_t n_ops;
	uint32_t used; /* operands named */
	bool negative; /* only negated operands */
};

static void
gen_put(struct gen *g, const char *s)
{
	while (*s && g->p < g->end - 1)
		*g->p++ = *s++;
	*g->p = '\0';
}

static void
gen_blank(struct gen *g)
{
	static const char *const b[] = { "", "", "", " ", " ", "  ", "\t" };

	gen_put(g, b[rnd(7)]);
}

/*
 * A random expression.  Hyperscan's parser refuses `!!1` (and a bare id, see
 * below), so a double negation is written `!(!1)`.
 */
static void
gen_expr(struct gen *g, int depth)
{
	char id[16];
	uint32_t k;

	gen_blank(g);
	if (depth == 0 || rnd(100) < 30) {
		k = rnd(g->n_ops);
		g->used |= 1u << k;
		snprintf(id, sizeof(id), "%u", OP_ID(k));
		if (g->negative || rnd(100) < 35) {
			if (rnd(10) == 0) {
				gen_put(g, "!(");
				gen_blank(g);
				gen_put(g, "!");
				gen_put(g, id);
				gen_put(g, ")");
			} else {
				gen_put(g, "!");
				gen_blank(g);
				gen_put(g, id);
			}
		} else {
			gen_put(g, id);
		}
	} else if (!g->negative && rnd(100) < 15) {
		gen_put(g, "!(");
		gen_expr(g, depth - 1);
		gen_put(g, ")");
	} else {
		bool paren = rnd(2);

		if (paren)
			gen_put(g, "(");
		gen_expr(g, depth - 1);
		gen_blank(g);
		gen_put(g, rnd(2) ? "&" : "|");
		gen_expr(g, depth - 1);
		if (paren)
			gen_put(g, ")");
	}
	gen_blank(g);
}

static int
resolve_diff(void *arg, uint64_t id, uint32_t *index)
{
	uint32_t n_ops = *(uint32_t *)arg;

	if (id < 9 || (id - 9) % 7 != 0 || (id - 9) / 7 >= n_ops)
		return -1;
	*index = (uint32_t)(id - 9) / 7;
	return 0;
}

struct hs_ctx {
	uint64_t combs; /* combinations Hyperscan reported (bit j: COMB_ID0 + j) */
};

static int
on_hs_comb(unsigned int id, unsigned long long from, unsigned long long to, unsigned int fl,
	   void *arg)
{
	struct hs_ctx *c = arg;

	if (id >= COMB_ID0 && id < COMB_ID0 + 64)
		c->combs |= UINT64_C(1) << (id - COMB_ID0);
	return 0;
}

struct our_ctx {
	struct comb_state *s;
	const struct comb_table *t;
	uint32_t n_ops;
	uint64_t combs;
	uint64_t on; /* operands matched, for the power counts */
	unsigned long long last;
	int order_bad;
};

static int
our_report(void *arg, uint32_t rule)
{
	struct our_ctx *c = arg;

	if (rule >= COMB_ID0 && rule < COMB_ID0 + 63)
		c->combs |= UINT64_C(1) << (rule - COMB_ID0);
	else
		c->combs |= UINT64_C(1) << 63; /* a decoy: must never happen */
	return 0;
}

static int
on_hs_ops(unsigned int id, unsigned long long from, unsigned long long to, unsigned int fl,
	  void *arg)
{
	struct our_ctx *c = arg;
	uint32_t k = 0;

	if (to < c->last)
		c->order_bad = 1;
	c->last = to;
	if (id == PLAIN_ID)
		k = c->n_ops + 1;
	else if (resolve_diff(&c->n_ops, id, &k) != 0)
		fail_msg("unexpected id %u", id);
	if (!comb_is_operand(c->t, k))
		return 0;
	c->on |= UINT64_C(1) << k;
	return comb_scan_match(c->s, c->t, k, to, our_report, c);
}

static hs_database_t *
hs_compile_or_die(const char *const *exprs, const unsigned int *flags, const unsigned int *ids,
		  unsigned int n)
{
	hs_database_t *db = NULL;
	hs_compile_error_t *ce = NULL;
	unsigned int i;

	if (hs_compile_multi(exprs, flags, ids, n, HS_MODE_BLOCK, NULL, &db, &ce) != HS_SUCCESS) {
		for (i = 0; i < n; i++)
			print_error("  %u: '%s' flags 0x%x\n", ids[i], exprs[i], flags[i]);
		fail_msg("hs_compile_multi: %s (expression %d)", ce->message, ce->expression);
	}
	return db;
}

/* Hyperscan's minWidth of a database: the least min_width of its patterns. */
static uint32_t
hs_min_width(const char *const *exprs, const unsigned int *flags, unsigned int n)
{
	uint32_t w = UINT32_MAX;
	unsigned int i;

	for (i = 0; i < n; i++) {
		hs_expr_info_t *info = NULL;
		hs_compile_error_t *ce = NULL;

		if (flags[i] & HS_FLAG_COMBINATION)
			continue;
		if (hs_expression_info(exprs[i], flags[i] & ~HS_FLAG_QUIET, &info, &ce) !=
		    HS_SUCCESS)
			fail_msg("hs_expression_info '%s': %s", exprs[i], ce->message);
		if (info->min_width < w)
			w = info->min_width;
		free(info);
	}
	return w;
}

static void
test_differential(void **state)
{
	static char texts[DIFF_TEXTS][41];
	static uint32_t tlen[DIFF_TEXTS];
	struct comb_state *s = comb_state_new(DIFF_OPS_MAX + 2, DIFF_COMBS_MAX + 1);
	hs_scratch_t *scratch = NULL;
	unsigned long n_pairs = 0, n_true = 0, n_fail = 0, n_neg = 0, n_dbs = 0, n_exprs = 0;
	unsigned long n_true_order = 0, n_eod = 0, n_short = 0, n_tabs = 0, n_long = 0, n_regex = 0;
	unsigned long n_w0 = 0;
	const char *e;

	seed(20261201);
	e = getenv("COMB_SEED");
	print_message("  seed %s\n", e != NULL ? e : "20261201");
	assert_non_null(s);
	while (n_exprs < DIFF_EXPRS) {
		uint32_t n_ops = 2 + rnd(DIFF_OPS_MAX - 1), n_combs = 1 + rnd(DIFF_COMBS_MAX);
		uint32_t group = (uint32_t)(n_dbs % COMB_MAX_GROUPS), used = 0, k, j, i, minw;
		static char cexpr[DIFF_COMBS_MAX][512], hexpr[DIFF_COMBS_MAX][512];
		const char *hx[DIFF_OPS_MAX + DIFF_COMBS_MAX + 1], *ox[DIFF_OPS_MAX + 1];
		unsigned int hf[DIFF_OPS_MAX + DIFF_COMBS_MAX + 1];
		unsigned int hid[DIFF_OPS_MAX + DIFF_COMBS_MAX + 1];
		unsigned int of[DIFF_OPS_MAX + 1], oid[DIFF_OPS_MAX + 1], nh = 0, no = 0;
		uint32_t kind = rnd(100);
		bool longw = kind < 25, regex = kind >= 75;
		bool reported[DIFF_OPS_MAX], single[DIFF_OPS_MAX];
		uint32_t prog[DIFF_COMBS_MAX][COMB_MAX_WORDS], plen[DIFF_COMBS_MAX];
		struct comb_builder *b;
		struct comb_table t;
		uint32_t *words;
		size_t n_words;
		hs_database_t *hdb, *odb;
		char err[160], *q;
		uint32_t decoy_prog[2];

		/* the combinations (Hyperscan wants an operator in each, and no tabs) */
		for (j = 0; j < n_combs; j++) {
			struct gen g;

			do {
				g = (struct gen){ .p = cexpr[j], .end = cexpr[j] + sizeof(cexpr[j]),
						  .n_ops = n_ops, .negative = rnd(100) < 15 };
				gen_expr(&g, 1 + (int)rnd(4));
			} while (strpbrk(cexpr[j], "!&|") == NULL);
			used |= g.used;
			n_neg += g.negative;
			n_tabs += strchr(cexpr[j], '\t') != NULL;
			strcpy(hexpr[j], cexpr[j]);
			for (q = hexpr[j]; *q; q++)
				if (*q == '\t')
					*q = ' ';
			if (comb_compile(cexpr[j], resolve_diff, &n_ops, prog[j], COMB_MAX_WORDS,
					 &plen[j], err, sizeof(err)) != 0)
				fail_msg("'%s': %s", cexpr[j], err);
		}
		/* the operands: every one named (Hyperscan wants that of quiet ones) */
		for (k = 0; k < n_ops; k++) {
			const char *lit = longw ? LONG_LITS[rnd(5)]
					  : regex ? REGEXES[rnd(sizeof(REGEXES) / sizeof(REGEXES[0]))]
						  : LITS[rnd(sizeof(LITS) / sizeof(LITS[0]))];

			reported[k] = rnd(100) < 30 || !(used & (1u << k));
			single[k] = rnd(100) < 30;
			hx[nh] = lit;
			hid[nh] = OP_ID(k);
			hf[nh] = (reported[k] ? 0 : HS_FLAG_QUIET) |
				 (single[k] ? HS_FLAG_SINGLEMATCH : 0) |
				 (strcmp(lit, "b*") == 0 ? HS_FLAG_ALLOWEMPTY : 0);
			nh++;
			ox[no] = lit;
			oid[no] = OP_ID(k);
			of[no] = hf[nh - 1] & ~HS_FLAG_QUIET;
			no++;
		}
		/* a plain rule, in no combination, in both databases */
		hx[nh] = longw ? "bcab" : "bc";
		hid[nh] = PLAIN_ID;
		hf[nh++] = 0;
		ox[no] = hx[nh - 1];
		oid[no] = PLAIN_ID;
		of[no++] = 0;
		for (j = 0; j < n_combs; j++) {
			hx[nh] = hexpr[j];
			hid[nh] = COMB_ID0 + j;
			hf[nh++] = HS_FLAG_COMBINATION | (rnd(100) < 20 ? HS_FLAG_SINGLEMATCH : 0);
		}
		hdb = hs_compile_or_die(hx, hf, hid, nh);
		odb = hs_compile_or_die(ox, of, oid, no);
		minw = hs_min_width(hx, hf, nh);
		n_long += longw;
		n_regex += regex;
		n_w0 += minw == 0;
		assert_int_equal(hs_alloc_scratch(hdb, &scratch), HS_SUCCESS);
		assert_int_equal(hs_alloc_scratch(odb, &scratch), HS_SUCCESS);

		/* our table: operands 0..n_ops-1, a decoy n_ops, the plain rule n_ops+1 */
		b = comb_builder_new(n_ops + 2);
		assert_non_null(b);
		for (j = 0; j < n_combs; j++)
			assert_int_equal(comb_builder_add(b, COMB_ID0 + j, group, prog[j], plen[j]), 0);
		decoy_prog[0] = n_ops;
		decoy_prog[1] = COMB_NOT;
		assert_int_equal(comb_builder_add(b, 7, (group + 1) % COMB_MAX_GROUPS, decoy_prog,
						  2), 0);
		assert_int_equal(comb_builder_set_min_width(b, group, minw), 0);
		assert_int_equal(comb_builder_finish(b, &words, &n_words), 0);
		comb_builder_free(b);
		if (comb_table_load(&t, words, n_words, n_ops + 2, err, sizeof(err)) != 0)
			fail_msg("load: %s", err);
		assert_true(comb_state_fits(s, &t));
		assert_false(comb_is_operand(&t, n_ops + 1));

		/* the texts: every one of length 0 to 4, then random ones up to 40 */
		for (i = 0; i < DIFF_TEXTS; i++) {
			uint32_t x = i;

			if (i < DIFF_SHORT) {
				for (tlen[i] = 0; x >= (uint32_t[]){ 1, 3, 9, 27, 81 }[tlen[i]];
				     tlen[i]++)
					x -= (uint32_t[]){ 1, 3, 9, 27, 81 }[tlen[i]];
				for (k = 0; k < tlen[i]; k++, x /= 3)
					texts[i][k] = "abc"[x % 3];
			} else {
				tlen[i] = rnd(41);
				for (k = 0; k < tlen[i]; k++)
					texts[i][k] = "abc"[rnd(3)];
			}
		}
		for (i = 0; i < DIFF_TEXTS; i++) {
			struct hs_ctx hc = { 0 };
			struct our_ctx oc = { .s = s, .t = &t, .n_ops = n_ops };

			assert_int_equal(hs_scan(hdb, texts[i], tlen[i], 0, scratch, on_hs_comb, &hc),
					 HS_SUCCESS);
			comb_scan_begin(s);
			assert_int_equal(hs_scan(odb, texts[i], tlen[i], 0, scratch, on_hs_ops, &oc),
					 HS_SUCCESS);
			assert_int_equal(comb_scan_end(s, &t, group, tlen[i], our_report, &oc), 0);
			assert_false(oc.order_bad);
			for (j = 0; j < n_combs; j++) {
				bool h = (hc.combs >> j) & 1, o = (oc.combs >> j) & 1;
				bool fin = comb_prog_eval(prog[j], plen[j], &oc.on);
				bool none = comb_prog_eval(prog[j], plen[j], &(uint64_t){ 0 });
				uint64_t mine = 0;

				for (k = 0; k < plen[j]; k++)
					if (prog[j][k] < COMB_OP_BASE)
						mine |= UINT64_C(1) << prog[j][k];
				n_pairs++;
				n_true += h;
				/* true at some offset, false by the final state */
				n_true_order += h && !fin;
				/* reported at the end, no operand of it matched */
				n_eod += h && !(oc.on & mine);
				/* true with no operand, but the text is too short for the database */
				n_short += none && tlen[i] < minw;
				if (h != o && n_fail++ < 20) {
					print_error("MISMATCH db %lu comb %u '%s' text '%.*s' (min width "
						    "%u): hyperscan %s, comb %s\n", n_dbs,
						    COMB_ID0 + j, hexpr[j], (int)tlen[i], texts[i],
						    minw, h ? "match" : "no match",
						    o ? "match" : "no match");
					for (k = 0; k < n_ops; k++)
						print_error("    operand %u '%s'%s%s\n", OP_ID(k), ox[k],
							    reported[k] ? " reported" : " quiet",
							    single[k] ? " single-match" : "");
				}
			}
			if (oc.combs >> 63)
				fail_msg("a decoy combination of another group was reported");
		}
		n_exprs += n_combs;
		n_dbs++;
		hs_free_database(hdb);
		hs_free_database(odb);
		free(words);
	}
	print_message("  %lu databases (%lu of min width 3, %lu of regexes, %lu of min width 0), %lu combinations (%lu purely "
		      "negative, %lu with tabs) x %d texts = %lu pairs compared; %lu true, of "
		      "which %lu true before the end only, %lu at the end with no operand; %lu "
		      "true with no operand but shorter than the min width; %lu mismatches\n",
		      n_dbs, n_long, n_regex, n_w0, n_exprs, n_neg, n_tabs, DIFF_TEXTS, n_pairs, n_true,
		      n_true_order, n_eod, n_short, n_fail);
	hs_free_scratch(scratch);
	comb_state_free(s);
	/* the test can tell an evaluator that only looks at the end, or ignores the width */
	assert_true(n_true_order > 100);
	assert_true(n_eod > 100);
	assert_true(n_short > 100);
	assert_true(n_true > n_pairs / 10 && n_true < n_pairs - n_pairs / 10);
	if (n_fail != 0)
		fail_msg("%lu of %lu (combination, text) pairs differ from Hyperscan", n_fail, n_pairs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compile_ok),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_compile_limits),
		cmocka_unit_test(test_prog_valid),
		cmocka_unit_test(test_prog_eval),
		cmocka_unit_test(test_table_layout),
		cmocka_unit_test(test_table_max),
		cmocka_unit_test(test_table_crafted),
		cmocka_unit_test(test_table_fuzz),
		cmocka_unit_test(test_scan_small),
		cmocka_unit_test(test_differential),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
