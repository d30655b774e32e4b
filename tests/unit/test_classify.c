/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_classify.c - dp_classify() (dataplane/classify.c) on hand-made events,
 * with a policy compiled by tgctl's own code (pol_load_buffer, pol_compile)
 * and built into the dataplane's runtime policy by dp_policy_build() from a
 * tg_snapshot, as policy_swap.c does with a published one.  A real EAL
 * (--no-huge --no-pci, its own --file-prefix).
 *
 * The policy has one classify rule per scope, each with its own class and a
 * trigger word found nowhere else, so an event with one scope's word must
 * come out with exactly that class and rule id: a scope that is not scanned,
 * or scanned over the wrong field, fails.  Then: the prefiltered remarks and
 * detail rules (a candidate in the payload, and a word made only by entity
 * decoding, which the payload scan cannot see), block rules (which rule, that
 * the scan stops there), no match ("other"), the cap on audited rule ids,
 * per-rule hit counters, a marking too long to scan, and the early scopes'
 * cache (which must give what the scans give).
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <rte_eal.h>
#include <rte_malloc.h>

#include "classify.h"
#include "cot_parse.h"
#include "dp.h"
#include "early_cache.h"
/* dp_policy_build(): policy_swap.h, or dp.h before that header existed */
#if __has_include("policy_swap.h")
#include "policy_swap.h"
#endif
#include "policy.h"
#include "tg_mapset.h"
#include "tg_names.h"

/* One rule per scope, class c_<scope>; words that appear in no other field. */
static const char POLICY[] =
	"version: 1\n"
	"rules:\n"
	"  - {id: 10, name: r-payload, scope: payload, match: 'PAYWORD', action: {classify: c_payload}}\n"
	"  - {id: 20, name: r-type, scope: type, match: '-TYPWORD$', action: {classify: c_type}}\n"
	"  - {id: 30, name: r-how, scope: how, match: '^h-HOWWORD', action: {classify: c_how}}\n"
	"  - {id: 40, name: r-uid, scope: uid, match: 'UIDWORD', action: {classify: c_uid}}\n"
	"  - {id: 50, name: r-callsign, scope: callsign, match: 'CALLWORD', action: {classify: c_callsign}}\n"
	"  - {id: 60, name: r-remarks, scope: remarks, match: 'REMWORD', action: {classify: c_remarks}}\n"
	"  - {id: 61, name: r-remarks-anch, scope: remarks, match: '^ALERT', action: {classify: c_remarks}}\n"
	"  - {id: 70, name: r-detail, scope: detail, match: 'DETWORD', action: {classify: c_detail}}\n"
	"  - {id: 80, name: r-marking, scope: marking, match: 'MARKWORD', action: {classify: c_marking}}\n"
	"  - {id: 90, name: b-payload, scope: payload, match: 'BLUE LANTERN', action: {block: dirty-word}}\n"
	"  - {id: 91, name: b-remarks, scope: remarks, match: 'RED\\s+LANTERN', action: {block: dirty-word}}\n"
	"  - {id: 92, name: b-marking, scope: marking, match: '\\bNOFORN\\b', action: {block: noforn}}\n";

enum { N_SCOPES = TG_SCOPE_COUNT };

/* Per scope: its rule id, and the event that carries its word (and only it). */
static const uint32_t scope_rule[N_SCOPES] = {10, 20, 30, 40, 50, 60, 70, 80};
static const char *const scope_class[N_SCOPES] = {
	"c_payload", "c_type", "c_how", "c_uid", "c_callsign", "c_remarks", "c_detail", "c_marking",
};

static struct dp_policy *pol;
static struct dp_worker *w;
static char prefix[64];

/* ---- events ---- */

struct parts {
	const char *uid, *type, *how, *access, *callsign, *remarks, *extra_detail, *comment;
};

static const struct parts plain = {
	.uid = "TRK-1", .type = "a-h-A-W-M-S-S", .how = "m-r", .access = "SECRET//REL TO USA, KOR",
	.callsign = "HAWK", .remarks = "nothing to see", .extra_detail = "", .comment = "",
};

static char payload[8192];
static size_t payload_len;
static struct cot_event ev;

/* Parse the event made of `p` into ev (payload kept in `payload`). */
static void
make_event(const struct parts *p)
{
	int n = snprintf(payload, sizeof(payload),
			 "<event version=\"2.0\" uid=\"%s\" type=\"%s\" how=\"%s\" "
			 "time=\"2024-05-01T12:00:00.000Z\" start=\"2024-05-01T12:00:00.000Z\" "
			 "stale=\"2024-05-01T12:00:30.000Z\" access=\"%s\">%s"
			 "<point lat=\"38.9\" lon=\"127.0\" hae=\"25000.0\" ce=\"500.0\" le=\"800.0\"/>"
			 "<detail><contact callsign=\"%s\"/><remarks>%s</remarks>%s</detail>"
			 "</event>",
			 p->uid, p->type, p->how, p->access, p->comment, p->callsign, p->remarks,
			 p->extra_detail);
	enum cot_err e;

	assert_true(n > 0 && (size_t)n < sizeof(payload));
	payload_len = (size_t)n;
	e = cot_parse((const uint8_t *)payload, payload_len, &ev);
	if (e != COT_OK)
		fail_msg("event does not parse (%s at %u): %s", cot_err_name(e), ev.err_off, payload);
}

/* The event with scope s's word in scope s's field. */
static void
make_scope_event(unsigned s)
{
	struct parts p = plain;

	switch (s) {
	case TG_SCOPE_PAYLOAD: p.comment = "<!-- PAYWORD -->"; break;
	case TG_SCOPE_TYPE: p.type = "a-h-A-TYPWORD"; break;
	case TG_SCOPE_HOW: p.how = "h-HOWWORD"; break;
	case TG_SCOPE_UID: p.uid = "TRK-UIDWORD-1"; break;
	case TG_SCOPE_CALLSIGN: p.callsign = "CALLWORD"; break;
	case TG_SCOPE_REMARKS: p.remarks = "a REMWORD here"; break;
	case TG_SCOPE_DETAIL: p.extra_detail = "<x k=\"DETWORD\"/>"; break;
	case TG_SCOPE_MARKING: p.access = "SECRET//REL TO USA, KOR//MARKWORD"; break;
	default: fail();
	}
	make_event(&p);
}

/* ---- the policy ---- */

static int
class_idx(const char *name)
{
	for (unsigned i = 0; i < pol->hdr.n_classes; i++)
		if (strcmp(pol->hdr.classes[i], name) == 0)
			return (int)i;
	return -1;
}

static uint32_t
class_bit(const char *name)
{
	int i = class_idx(name);

	assert_true(i > 0);
	return 1u << i;
}

static int32_t
rule_index(uint32_t id)
{
	for (uint32_t i = 0; i < pol->hdr.n_rules; i++)
		if (pol->rules[i].id == id)
			return (int32_t)i;
	return -1;
}

static uint64_t
hits(uint32_t id)
{
	return pol->rule_hits[(size_t)w->idx * pol->hdr.n_rules + (uint32_t)rule_index(id)];
}

static int
classify(struct dp_class_result *r)
{
	memset(r, 0x5a, sizeof(*r)); /* whatever was there before */
	return dp_classify(w, pol, (const uint8_t *)payload, (uint32_t)payload_len, &ev, r);
}

static int
setup(void **state)
{
	char *eal[] = {"test_classify", "--no-huge", "-m", "128", "--no-pci", "--no-telemetry",
		       "--no-shconf", "--log-level", "error", "--file-prefix", prefix, NULL};
	struct pol_policy *pp = NULL;
	struct pol_errors errs = {0};
	struct tg_snapshot snap;
	char err[512];

	(void)state;
	snprintf(prefix, sizeof(prefix), "tgclassify-%d", (int)getpid());
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])) - 1, eal) < 0)
		return -1;
	if (pol_load_buffer("classify.yaml", POLICY, sizeof(POLICY) - 1, &pp, &errs) < 0 ||
	    pol_compile(pp, &errs) < 0) {
		pol_errors_print(&errs, stderr);
		return -1;
	}
	/* the remarks and detail words are prefiltered (release.md §4): the
	 * test below goes through both databases of those scopes */
	if (pp->n_prefiltered[TG_SCOPE_REMARKS] == 0 || pp->n_prefiltered[TG_SCOPE_DETAIL] == 0) {
		fprintf(stderr, "test_classify: nothing prefiltered\n");
		return -1;
	}
	dp_n_workers = 1;
	pol_as_snapshot(pp, 1, &snap);
	pol = dp_policy_build(&snap, err, sizeof(err));
	pol_free(pp);
	if (pol == NULL) {
		fprintf(stderr, "test_classify: %s\n", err);
		return -1;
	}
	w = rte_zmalloc("test_worker", sizeof(*w), RTE_CACHE_LINE_SIZE);
	if (w == NULL)
		return -1;
	w->idx = 0;
	return 0;
}

static int
teardown(void **state)
{
	char dir[PATH_MAX];

	(void)state;
	dp_policy_free(pol);
	rte_free(w);
	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(dir);
	return 0;
}

/* ---- tests ---- */

static void
test_policy_built(void **state)
{
	(void)state;
	/* "other" is class 0, then one class per scope */
	assert_int_equal(class_idx("other"), 0);
	for (unsigned s = 0; s < N_SCOPES; s++) {
		assert_true(class_idx(scope_class[s]) > 0);
		assert_true(rule_index(scope_rule[s]) >= 0);
		assert_int_equal(pol->rules[rule_index(scope_rule[s])].scope, s);
		/* each scope has a database to scan */
		assert_true(pol->db[s] != NULL || pol->db[TG_HSDB_PF(s)] != NULL);
	}
	assert_non_null(pol->scratch[0]);
}

/* Nothing matches: "other", no block, no ids. */
static void
test_no_match(void **state)
{
	struct dp_class_result r;

	(void)state;
	make_event(&plain);
	assert_int_equal(classify(&r), TG_R_RELEASED);
	assert_int_equal(r.classes, 1u);
	assert_int_equal(r.block_rule, -1);
	assert_int_equal(r.n_ids, 0);
}

/* Each scope on its own: its class, its rule, its hit counter, nothing else. */
static void
test_each_scope(void **state)
{
	(void)state;
	for (unsigned s = 0; s < N_SCOPES; s++) {
		struct dp_class_result r;
		uint64_t before[N_SCOPES];
		int rc;

		for (unsigned t = 0; t < N_SCOPES; t++)
			before[t] = hits(scope_rule[t]);
		make_scope_event(s);
		rc = classify(&r);
		if (rc != TG_R_RELEASED || r.classes != class_bit(scope_class[s]) || r.n_ids != 1 ||
		    r.ids[0] != scope_rule[s] || r.block_rule != -1)
			fail_msg("scope %s: %s, classes 0x%x (want 0x%x), %u ids, first %u, "
				 "block %d",
				 tg_scope_name(s), tg_reason_name((unsigned)rc), r.classes,
				 class_bit(scope_class[s]), r.n_ids, r.n_ids ? r.ids[0] : 0,
				 r.block_rule);
		for (unsigned t = 0; t < N_SCOPES; t++)
			assert_int_equal(hits(scope_rule[t]) - before[t], t == s);
	}
}

/* Every scope's word at once: every class; the first four rule ids in scan
 * order (the early scopes type, how, uid, marking first, then the payload
 * and the late fields), and all counted. */
static void
test_all_scopes(void **state)
{
	struct parts p = {
		.uid = "TRK-UIDWORD-1", .type = "a-h-A-TYPWORD", .how = "h-HOWWORD",
		.access = "SECRET//REL TO USA, KOR//MARKWORD", .callsign = "CALLWORD",
		.remarks = "a REMWORD here", .extra_detail = "<x k=\"DETWORD\"/>",
		.comment = "<!-- PAYWORD -->",
	};
	struct dp_class_result r;
	uint32_t want = 0;
	uint64_t before[N_SCOPES];

	(void)state;
	for (unsigned s = 0; s < N_SCOPES; s++) {
		want |= class_bit(scope_class[s]);
		before[s] = hits(scope_rule[s]);
	}
	make_event(&p);
	assert_int_equal(classify(&r), TG_R_RELEASED);
	assert_int_equal(r.classes, want);
	assert_int_equal(r.block_rule, -1);
	assert_int_equal(r.n_ids, DP_MAX_AUDIT_RULES);
	{
		static const unsigned early[DP_MAX_AUDIT_RULES] = {
			TG_SCOPE_TYPE, TG_SCOPE_HOW, TG_SCOPE_UID, TG_SCOPE_MARKING,
		};

		for (unsigned i = 0; i < DP_MAX_AUDIT_RULES; i++)
			assert_int_equal(r.ids[i], scope_rule[early[i]]);
	}
	for (unsigned s = 0; s < N_SCOPES; s++)
		assert_int_equal(hits(scope_rule[s]) - before[s], 1);
}

/* A word in one field is not matched by another field's rule. */
static void
test_wrong_field(void **state)
{
	struct parts p = plain;
	struct dp_class_result r;

	(void)state;
	/* the type's word in the uid, the uid's in the callsign, ... (the
	 * payload rule sees them all, so its word is left out) */
	p.uid = "TRK-1-TYPWORD";
	p.type = "a-h-A-CALLWORD";
	p.callsign = "MARKWORD";
	p.access = "SECRET//REL TO USA, KOR";
	p.how = "m-r";
	p.extra_detail = "<x k=\"UIDWORD\"/><y>h-HOWWORD</y>";
	make_event(&p);
	assert_int_equal(classify(&r), TG_R_RELEASED);
	/* detail sees none of its own word; remarks none: only "other" */
	assert_int_equal(r.classes, 1u);
	assert_int_equal(r.n_ids, 0);
}

/* Prefiltered remarks: a word the payload shows (a candidate), a word made
 * only by decoding character references (no candidate: the scan must still
 * happen), a word split by a comment and joined; the always-scanned remarks
 * rule at the start of the decoded text. */
static void
test_remarks_prefilter(void **state)
{
	static const char *const remarks[] = {
		"a REMWORD here",
		"a REM&#87;ORD here",
		"a R&#x45;MWORD here",
		"a REM<!-- x -->WORD here",
		"a REM<![CDATA[WORD]]> here",
		"&#65;LERT now",
	};
	static const uint32_t want_id[] = {60, 60, 60, 60, 60, 61};

	(void)state;
	for (unsigned i = 0; i < sizeof(remarks) / sizeof(remarks[0]); i++) {
		struct parts p = plain;
		struct dp_class_result r;

		p.remarks = remarks[i];
		make_event(&p);
		if (classify(&r) != TG_R_RELEASED || r.classes != class_bit("c_remarks") ||
		    r.n_ids != 1 || r.ids[0] != want_id[i])
			fail_msg("remarks '%s' (decoded '%.*s'): classes 0x%x, %u ids, first %u",
				 remarks[i], ev.remarks.len, ev.remarks.p, r.classes, r.n_ids,
				 r.n_ids ? r.ids[0] : 0);
	}
}

/* Blocks: which rule, from any scope; the scan stops at the block (a word
 * of a later scope is not reported; the early scopes come first); a decoded
 * block word in remarks. */
static void
test_block(void **state)
{
	struct parts p = plain;
	struct dp_class_result r;

	(void)state;
	p.comment = "<!-- BLUE LANTERN -->";
	p.remarks = "REMWORD";
	p.callsign = "CALLWORD";
	make_event(&p);
	assert_int_equal(classify(&r), TG_R_BLOCKED);
	assert_int_equal(r.block_rule, rule_index(90));
	assert_int_equal(r.n_ids, 1);
	assert_int_equal(r.ids[0], 90);
	assert_int_equal(r.classes & class_bit("c_callsign"), 0);

	p = plain;
	p.remarks = "RED&#x20;&#x20;LANTERN";
	make_event(&p);
	assert_int_equal(classify(&r), TG_R_BLOCKED);
	assert_int_equal(r.block_rule, rule_index(91));
	assert_int_equal(r.ids[r.n_ids - 1], 91);

	p = plain;
	p.callsign = "CALLWORD";
	p.access = "SECRET//NOFORN";
	make_event(&p);
	assert_int_equal(classify(&r), TG_R_BLOCKED);
	assert_int_equal(r.block_rule, rule_index(92));
	assert_int_equal(r.n_ids, 1); /* marking is early: callsign never scanned */
	assert_int_equal(r.ids[0], 92);
	assert_int_equal(r.classes, 0);
}

/* The marking scope's text (access, caveat, releasableTo) that does not fit
 * the worker's buffer: bad_marking, not a scan of part of it. */
static void
test_marking_too_long(void **state)
{
	static char big[sizeof(w->fieldbuf) + 16];
	struct dp_class_result r;

	(void)state;
	make_event(&plain);
	memset(big, 'S', sizeof(big));
	ev.access.p = big;
	ev.access.len = (uint16_t)sizeof(big);
	assert_int_equal(classify(&r), TG_R_BAD_MARKING);
	/* the longest that fits (two '\n' separators and a spare byte) is
	 * scanned, its end included */
	ev.access.len = (uint16_t)(sizeof(w->fieldbuf) - 3 - ev.caveat.len - ev.releasable_to.len);
	memcpy(big + ev.access.len - 8, "MARKWORD", 8);
	assert_int_equal(classify(&r), TG_R_RELEASED);
	assert_int_equal(r.classes, class_bit("c_marking"));
}

/* The early scopes' cache (early_cache.h) gives what the scans give: for
 * each event, the early verdict without the cache, with it on a miss and
 * with it on a hit are equal, and so are the hit counters each advances.
 * The events differ in one early field at a time (type, how, uid, the
 * marking, a block in the marking), so a key that left a field out would
 * replay one event's verdict for another. */
struct early_run {
	int rc;
	struct dp_class_result r;
	uint64_t delta[64];
};

static void
early_once(struct early_run *o)
{
	uint64_t before[64];
	uint32_t n = pol->hdr.n_rules;
	const uint64_t *h = pol->rule_hits + (size_t)w->idx * n;

	assert_true(n <= 64);
	memcpy(before, h, n * sizeof(*h));
	memset(&o->r, 0, sizeof(o->r));
	o->rc = dp_classify_early(w, pol, &ev, &o->r);
	for (uint32_t i = 0; i < n; i++)
		o->delta[i] = h[i] - before[i];
}

static void
same_run(const struct early_run *a, const struct early_run *b, const char *what, unsigned k)
{
	uint32_t n = pol->hdr.n_rules;

	if (a->rc != b->rc || a->r.classes != b->r.classes || a->r.block_rule != b->r.block_rule ||
	    a->r.n_ids != b->r.n_ids ||
	    memcmp(a->r.ids, b->r.ids, a->r.n_ids * sizeof(a->r.ids[0])) != 0 ||
	    memcmp(a->delta, b->delta, n * sizeof(a->delta[0])) != 0)
		fail_msg("event %u, %s: rc %d/%d classes 0x%x/0x%x block %d/%d ids %u/%u", k, what,
			 a->rc, b->rc, a->r.classes, b->r.classes, a->r.block_rule, b->r.block_rule,
			 a->r.n_ids, b->r.n_ids);
}

static void
test_early_cache(void **state)
{
	struct parts ps[12];
	unsigned n = 0;
	struct early_cache *ec = early_cache_create("tg_ec_test", 64, SOCKET_ID_ANY);
	const struct exact_cache_stats *st;

	(void)state;
	assert_non_null(ec);
	ps[n++] = plain;
	for (unsigned s = 0; s < N_SCOPES; s++) {
		make_scope_event(s); /* only to check it parses */
		ps[n] = plain;
		switch (s) {
		case TG_SCOPE_TYPE: ps[n++].type = "a-h-A-TYPWORD"; break;
		case TG_SCOPE_HOW: ps[n++].how = "h-HOWWORD"; break;
		case TG_SCOPE_UID: ps[n++].uid = "TRK-UIDWORD-1"; break;
		case TG_SCOPE_MARKING: ps[n++].access = "SECRET//REL TO USA, KOR//MARKWORD"; break;
		default: break;
		}
	}
	ps[n] = plain;
	ps[n++].access = "SECRET//NOFORN"; /* blocked by rule 92 */
	ps[n] = plain;
	ps[n].uid = "TRK-UIDWORD-2";
	ps[n++].type = "a-h-A-TYPWORD";
	for (unsigned k = 0; k < n; k++) {
		struct early_run off, miss, hit;

		make_event(&ps[k]);
		w->early_cache = NULL;
		early_once(&off);
		w->early_cache = ec;
		early_once(&miss);
		early_once(&hit);
		w->early_cache = NULL;
		same_run(&off, &miss, "a miss", k);
		same_run(&off, &hit, "a hit", k);
	}
	st = early_cache_stats(ec);
	assert_int_equal(st->misses, n);
	assert_int_equal(st->hits, n);
	/* a field too long for a key: scanned, never cached */
	{
		static char longuid[200]; /* over EC_KEY_BYTES, under the parser's 256 */
		struct parts p = plain;
		struct early_run off, on;

		memset(longuid, 'U', sizeof(longuid) - 1);
		p.uid = longuid;
		make_event(&p);
		early_once(&off);
		w->early_cache = ec;
		early_once(&on);
		w->early_cache = NULL;
		same_run(&off, &on, "uncacheable", 99);
		assert_int_equal(st->uncacheable, 1);
	}
	early_cache_free(ec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_built),
		cmocka_unit_test(test_no_match),
		cmocka_unit_test(test_each_scope),
		cmocka_unit_test(test_all_scopes),
		cmocka_unit_test(test_wrong_field),
		cmocka_unit_test(test_remarks_prefilter),
		cmocka_unit_test(test_block),
		cmocka_unit_test(test_marking_too_long),
		cmocka_unit_test(test_early_cache),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
