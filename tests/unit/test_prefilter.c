/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_prefilter.c - the payload-scan prefilter (tg_maps.h TG_HSDB_PF,
 * ctrl/policy_compile.c, dataplane/scan_prefilter.h) changes no verdict.
 *
 * One policy of field-scope rules that may and may not be prefiltered
 * (literals, regexes, anchors, word boundaries, negated classes, monotone and
 * negated combinations, a combination with an anchored operand) is compiled
 * twice: the reference layout (one database per scope, every field scanned)
 * and the prefiltered one (candidates in the payload database, the field's
 * second database scanned only when scan_prefilter.h says so).  Thousands of
 * generated messages, with the trigger words inside the field, outside it,
 * at its edges, straddling its boundary and in decoded (copied) field text,
 * must report exactly the same set of rule ids under both.  Decoded remarks
 * are made as cot_parse makes them: runs of payload text, bytes produced by
 * references (one of them produces a letter) and line ends, and runs joined
 * across removed comments and CDATA delimiters, with the parser's report of
 * which bytes were produced and whether runs were joined.
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

#include "dataplane/scan_match.h"
#include "dataplane/scan_prefilter.h"
#include "policy.h"

static const char POLICY[] =
	"version: 1\n"
	"rules:\n"
	"  - {id: 1, name: pay-lit, match: 'PAYWORD', action: {classify: x}}\n"
	/* remarks: prefiltered */
	"  - {id: 10, name: r-lit, scope: remarks, match: 'SECRET WORD', flags: [caseless], action: {classify: x}}\n"
	"  - {id: 11, name: r-re, scope: remarks, match: 'BLUE\\s+LANTERN', action: {classify: x}}\n"
	"  - {id: 12, name: r-esc, scope: remarks, match: 'a\\\\b', action: {classify: x}}\n"
	"  - {id: 13, name: r-op1, scope: remarks, match: 'ALPHA'}\n"
	"  - {id: 14, name: r-op2, scope: remarks, match: 'OMEGA'}\n"
	"  - {id: 15, name: r-and, scope: remarks, match: '13 & 14', flags: [combination], action: {classify: x}}\n"
	"  - {id: 16, name: r-op3, scope: remarks, match: 'DELTA'}\n"
	"  - {id: 17, name: r-andnot, scope: remarks, match: '(13 | 16) & !14', flags: [combination], action: {classify: x}}\n"
	/* remarks: scanned always */
	"  - {id: 20, name: r-anch, scope: remarks, match: '^ALERT', action: {classify: x}}\n"
	"  - {id: 21, name: r-end, scope: remarks, match: 'END$', action: {classify: x}}\n"
	"  - {id: 22, name: r-wb, scope: remarks, match: '\\bcode\\b', action: {classify: x}}\n"
	"  - {id: 23, name: r-neg, scope: remarks, match: 'X[^<]Y', action: {classify: x}}\n"
	"  - {id: 24, name: r-ex, scope: remarks, match: 'EXERCISE'}\n"
	"  - {id: 25, name: r-exm, scope: remarks, match: '^EXERCISE'}\n"
	"  - {id: 26, name: r-unfl, scope: remarks, match: '24 & !25', flags: [combination], action: {classify: x}}\n"
	"  - {id: 27, name: r-opn, scope: remarks, match: 'NOPE'}\n"
	"  - {id: 28, name: r-not, scope: remarks, match: '!27', flags: [combination], action: {classify: x}}\n"
	"  - {id: 29, name: r-opt, scope: remarks, match: '(?i)inline', action: {classify: x}}\n"
	/* detail: prefiltered and not */
	"  - {id: 40, name: d-lit, scope: detail, match: 'contact', action: {classify: x}}\n"
	"  - {id: 41, name: d-re, scope: detail, match: 'ca[a-z]{2}sign', action: {classify: x}}\n"
	"  - {id: 42, name: d-anch, scope: detail, match: '^<contact', action: {classify: x}}\n"
	"  - {id: 43, name: d-cross, scope: detail, match: 'ail><con', action: {classify: x}}\n";

/* Words that trigger, half-trigger or sit next to the rules above. */
static const char *const WORDS[] = {
	"SECRET WORD", "secret word", "SECRET", "WORD", "BLUE LANTERN", "BLUE\tLANTERN", "BLUE",
	"LANTERN", "a\\b", "ab", "ALPHA", "OMEGA", "DELTA", "ALERT", "END", "code", "codes",
	"xcode", "XZY", "X<Y", "EXERCISE", "NOPE", "inline", "INLINE", "PAYWORD", "contact",
	"callsign", "casesign", "<contact", " ", " ", " ", "-", "\n", "ail>", "<con", "x",
};
#define N_WORDS (sizeof(WORDS) / sizeof(WORDS[0]))

/* Around decoded remarks: words that trigger no prefiltered rule. */
static const char *const SAFE[] = {"x", " ", "-", "ab", "codes", "calm", "\n", "<con"};
#define N_SAFE (sizeof(SAFE) / sizeof(SAFE[0]))

struct layout {
	struct pol_policy *p;
	hs_database_t *db[TG_HSDB_REFS];
	hs_scratch_t *scratch;
	struct comb_table comb;
	struct comb_state *cs; /* NULL: no combinations */
	uint32_t first[TG_SCOPE_COUNT], n[TG_SCOPE_COUNT];
};

struct hits {
	uint64_t ids[2]; /* bit per rule id < 128 */
	uint32_t seen;
};

static void
build(struct layout *l, bool prefilter)
{
	struct pol_errors errs = {0};

	memset(l, 0, sizeof(*l));
	if (pol_load_buffer("prefilter.yaml", POLICY, sizeof(POLICY) - 1, &l->p, &errs) != 0 ||
	    pol_compile_layout(l->p, &errs, prefilter) != 0) {
		pol_errors_print(&errs, stderr);
		fail();
	}
	for (uint32_t i = 0; i < l->p->hdr.n_rules; i++)
		if (l->n[l->p->rules[i].scope]++ == 0)
			l->first[l->p->rules[i].scope] = i;
	for (unsigned d = 0; d < TG_HSDB_REFS; d++) {
		const struct tg_hsdb_ref *r = &l->p->hdr.hsdb[d];

		if (r->len == 0)
			continue;
		assert_int_equal(hs_deserialize_database((const char *)l->p->hsdb_blob + r->off,
							 r->len, &l->db[d]),
				 HS_SUCCESS);
		assert_int_equal(hs_alloc_scratch(l->db[d], &l->scratch), HS_SUCCESS);
	}
	if (l->p->hdr.comb.len) {
		const struct tg_hsdb_ref *r = &l->p->hdr.comb;

		assert_int_equal(comb_table_load(&l->comb,
						 (const uint32_t *)(l->p->hsdb_blob + r->off),
						 r->len / 4, l->p->hdr.n_rules, NULL, 0),
				 0);
		l->cs = comb_state_new(l->p->hdr.n_rules, l->comb.n_combs);
		assert_non_null(l->cs);
	}
}

static void
unbuild(struct layout *l)
{
	for (unsigned d = 0; d < TG_HSDB_REFS; d++)
		hs_free_database(l->db[d]);
	hs_free_scratch(l->scratch);
	comb_state_free(l->cs);
	pol_free(l->p);
}

/* The scans dataplane/classify.c does, for the payload and two fields,
 * with its match handling (scan_match.h); h gets the ids of the rules that
 * matched (operands only are not reported, combinations are). */
static void
classify(const struct layout *l, const char *payload, size_t plen, const char *const *field,
	 const size_t *flen, const struct cot_decoded *dec, struct hits *h)
{
	uint64_t cnt[128] = {0};
	struct dp_class_result res = {.block_rule = -1};
	struct scan_ctx c = {.rules = l->p->rules,
			     .n_rules = l->p->hdr.n_rules,
			     .hits = cnt,
			     .res = &res,
			     .comb = l->cs ? &l->comb : NULL,
			     .cs = l->cs};

	assert_true(l->p->hdr.n_rules <= 128);
	memset(h, 0, sizeof(*h));
	for (unsigned s = 0; s < TG_SCOPE_COUNT; s++) {
		const char *data = s == TG_SCOPE_PAYLOAD ? payload : field[s];
		size_t len = s == TG_SCOPE_PAYLOAD ? plen : flen[s];

		if (data == NULL)
			continue;
		for (unsigned d = s; d < TG_HSDB_REFS; d += TG_SCOPE_COUNT) {
			if (l->db[d] == NULL ||
			    (d != s &&
			     !prefilter_must_scan(c.seen, s, data, len, (const uint8_t *)payload,
						  plen,
						  s == TG_SCOPE_REMARKS ? dec : NULL,
						  l->p->hdr.pf_match_bytes[s])))
				continue;
			scan_begin(&c);
			assert_int_equal(hs_scan(l->db[d], data, (unsigned)len, 0, l->scratch,
						 scan_on_match, &c),
					 HS_SUCCESS);
			assert_int_equal(scan_end(&c, d, len), 0);
		}
	}
	h->seen = c.seen;
	for (uint32_t i = 0; i < l->p->hdr.n_rules; i++) {
		uint32_t id = l->p->rules[i].id;

		assert_true(id < 128);
		if (cnt[i])
			h->ids[id / 64] |= 1ull << (id % 64);
	}
}

static void
test_layout(void **state)
{
	struct layout pf;

	(void)state;
	build(&pf, true);
	/* What tgctl split, as the comments in POLICY say. */
	assert_true(pf.p->hdr.hsdb[TG_SCOPE_REMARKS].len > 0);
	assert_true(pf.p->hdr.hsdb[TG_HSDB_PF(TG_SCOPE_REMARKS)].len > 0);
	assert_true(pf.p->hdr.hsdb[TG_SCOPE_DETAIL].len > 0);
	assert_true(pf.p->hdr.hsdb[TG_HSDB_PF(TG_SCOPE_DETAIL)].len > 0);
	assert_int_equal(pf.p->hdr.hsdb[TG_HSDB_PF(TG_SCOPE_PAYLOAD)].len, 0);
	unbuild(&pf);

	build(&pf, false);
	for (unsigned s = 0; s < TG_SCOPE_COUNT; s++)
		assert_int_equal(pf.p->hdr.hsdb[TG_HSDB_PF(s)].len, 0);
	unbuild(&pf);
}

static size_t
words_from(const char *const *list, size_t n_list, char *dst, size_t cap, unsigned n,
	   uint64_t *rng)
{
	size_t o = 0;

	for (unsigned i = 0; i < n; i++) {
		const char *w;

		*rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
		w = list[(*rng >> 33) % n_list];
		if (o + strlen(w) >= cap)
			break;
		memcpy(dst + o, w, strlen(w));
		o += strlen(w);
	}
	return o;
}

static size_t
words(char *dst, size_t cap, unsigned n, uint64_t *rng)
{
	return words_from(WORDS, N_WORDS, dst, cap, n, rng);
}

/*
 * Decoded remarks are made of constructions: payload text (raw == NULL),
 * references and line ends that produce bytes, and markup that decoding
 * removes.  Some make a trigger only once decoded (a produced space, 'S' or
 * line end, text joined across a comment or CDATA), some make none (a
 * produced '&' or '<' no prefiltered rule can match), some carry a trigger
 * the payload scan sees anyway.
 */
struct tok {
	const char *raw, *decoded; /* raw NULL: payload text, the same decoded */
	bool markup;               /* removed: text on both sides joins */
};
static const struct tok CONS[][4] = {
	{{NULL, "SECRET"}, {"&#32;", " "}, {NULL, "WORD"}},
	{{"&#x53;", "S"}, {NULL, "ECRET WORD"}},
	{{NULL, "SECRET "}, {"<!-- c -->", "", true}, {NULL, "WORD"}},
	{{NULL, "BLUE"}, {"&#10;", "\n"}, {NULL, "LANTERN"}},
	{{NULL, "BLUE"}, {"\r\n", "\n"}, {NULL, "LANTERN"}},
	{{NULL, "BLUE "}, {"<![CDATA[", "", true}, {NULL, "LANTERN"}, {"]]>", "", true}},
	{{NULL, "SECRET"}, {"&amp;", "&"}, {NULL, "WORD"}},
	{{NULL, "BLUE"}, {"&lt;", "<"}, {NULL, "LANTERN"}},
	{{NULL, "BLUE"}, {"&quot;", "\""}, {"&gt;", ">"}, {NULL, "LANTERN"}},
	{{NULL, "SECRET WORD"}, {"&amp;", "&"}},
	{{NULL, "x"}},
	{{NULL, "calm"}, {"<!-- c -->", "", true}},
};
#define N_CONS (sizeof(CONS) / sizeof(CONS[0]))

/* n constructions, raw into the payload at *o, decoded into dec_text; *dec
 * as cot_parse reports it. */
static size_t
decoded_remarks(char *payload, size_t *o, size_t cap, char *dec_text, size_t dcap,
		unsigned n, uint64_t *rng, struct cot_decoded *dec)
{
	size_t d = 0;
	int last = 0; /* 0 nothing, 1 payload text, 2 produced bytes; markup keeps it */
	bool gap = false;

	memset(dec, 0, sizeof(*dec));
	for (unsigned i = 0; i < n && *o + 64 < cap && d + 64 < dcap; i++) {
		*rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
		const struct tok *c = CONS[(*rng >> 33) % N_CONS];

		for (unsigned t = 0; t < 4 && c[t].decoded; t++) {
			const char *raw = c[t].raw ? c[t].raw : c[t].decoded;
			size_t dl = strlen(c[t].decoded);

			memcpy(payload + *o, raw, strlen(raw));
			*o += strlen(raw);
			memcpy(dec_text + d, c[t].decoded, dl);
			d += dl;
			if (c[t].raw == NULL) {
				if (last == 1 && gap)
					dec->joined = true;
				last = 1;
				gap = false;
			} else if (c[t].markup) {
				gap = true;
			} else {
				for (size_t j = 0; j < dl; j++)
					dec->produced[(uint8_t)c[t].decoded[j] >> 6] |=
						1ull << ((uint8_t)c[t].decoded[j] & 63);
				last = 2;
			}
		}
	}
	return d;
}

static void
test_same_verdicts(void **state)
{
	struct layout ref, pf;
	uint64_t rng = 12345;
	unsigned skipped_scans = 0, cases = 20000, matched = 0, decoded_skipped = 0;
	unsigned decoded_cases = 0, decoded_matched = 0, decoded_only = 0;

	(void)state;
	build(&ref, false);
	build(&pf, true);
	for (unsigned k = 0; k < cases; k++) {
		char payload[1024], decoded[512];
		const char *field[TG_SCOPE_COUNT] = {0};
		size_t flen[TG_SCOPE_COUNT] = {0};
		size_t o = 0, r0, r1, d0, d1, dlen = 0;
		struct cot_decoded dec = {0};
		bool is_decoded = k % 5 == 4;
		struct hits a, b;

		/* <event PREFIX><detail DETAIL-PRE><remarks>REMARKS</remarks>DETAIL-POST</detail>SUFFIX;
		 * around decoded remarks only SAFE words, so that a match the
		 * decoding makes is the only one. */
		const char *const *wl = is_decoded ? SAFE : WORDS;
		size_t nwl = is_decoded ? N_SAFE : N_WORDS;

		o += words_from(wl, nwl, payload + o, 100, 1 + k % 4, &rng);
		memcpy(payload + o, "<detail>", 8);
		o += 8;
		d0 = o;
		o += words_from(wl, nwl, payload + o, 100, k % 3, &rng);
		memcpy(payload + o, "<remarks>", 9);
		o += 9;
		r0 = o;
		if (is_decoded)
			dlen = decoded_remarks(payload, &o, o + 400, decoded, sizeof(decoded),
					       1 + k % 3, &rng, &dec);
		else
			o += words(payload + o, 300, 1 + k % 6, &rng);
		r1 = o;
		memcpy(payload + o, "</remarks>", 10);
		o += 10;
		o += words_from(wl, nwl, payload + o, 100, k % 2, &rng);
		d1 = o;
		memcpy(payload + o, "</detail>", 9);
		o += 9;
		o += words_from(wl, nwl, payload + o, 100, k % 3, &rng);

		field[TG_SCOPE_DETAIL] = payload + d0;
		flen[TG_SCOPE_DETAIL] = d1 - d0;
		if (is_decoded) {
			/* decoded: the text the rules see is not in the payload */
			flen[TG_SCOPE_REMARKS] = dlen;
			field[TG_SCOPE_REMARKS] = decoded;
		} else {
			field[TG_SCOPE_REMARKS] = payload + r0;
			flen[TG_SCOPE_REMARKS] = r1 - r0;
		}
		(void)r1;
		classify(&ref, payload, o, field, flen, &dec, &a);
		classify(&pf, payload, o, field, flen, &dec, &b);
		if (a.ids[0] != b.ids[0] || a.ids[1] != b.ids[1]) {
			print_error("case %u: reference %#lx, prefiltered %#lx\npayload: %.*s\n"
				    "remarks: %.*s\n",
				    k, (unsigned long)a.ids[0], (unsigned long)b.ids[0], (int)o,
				    payload, (int)flen[TG_SCOPE_REMARKS], field[TG_SCOPE_REMARKS]);
			fail();
		}
		matched += (a.ids[0] & ~2ull) != 0;
		for (unsigned s = TG_SCOPE_REMARKS; s <= TG_SCOPE_DETAIL; s++) {
			bool skip = !prefilter_must_scan(
				b.seen, s, field[s], flen[s], (const uint8_t *)payload, o,
				s == TG_SCOPE_REMARKS ? &dec : NULL,
				pf.p->hdr.pf_match_bytes[s]);

			skipped_scans += skip;
			if (is_decoded && s == TG_SCOPE_REMARKS)
				decoded_skipped += skip;
		}
		if (is_decoded) {
			decoded_cases++;
			decoded_matched += (a.ids[0] & ~2ull) != 0;
			/* a prefiltered remarks rule (ids 10-17) matched, and the
			 * payload scan saw none of their candidates */
			decoded_only += (a.ids[0] & 0x3fc00ull) && !(b.seen & (1u << TG_SCOPE_REMARKS));
		}
	}
	print_message("%u messages, %u with field-rule matches, %u prefiltered scans skipped; "
		      "decoded remarks: %u, %u with matches (%u only through decoding), "
		      "%u scans skipped\n",
		      cases, matched, skipped_scans, decoded_cases, decoded_matched, decoded_only,
		      decoded_skipped);
	/* The test means something only if each of these happens often. */
	assert_true(matched > cases / 4);
	assert_true(skipped_scans > cases / 10);
	assert_true(decoded_only > decoded_cases / 10);
	assert_true(decoded_skipped > decoded_cases / 10);
	unbuild(&ref);
	unbuild(&pf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_same_verdicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
