/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * policy_compile.c - compile a loaded policy's rules with Hyperscan: block
 * mode, the databases of tg_maps.h (per scope, with the long field scopes'
 * context-free rules prefiltered by candidates in the payload database),
 * each serialized into one blob at 8-byte aligned offsets.
 *
 * The databases are built for the host tgctl runs on; the dataplane runs on
 * the same host and checks them with hs_serialized_database_info on load.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <hs.h>

#include "comb.h"
#include "pattern_bytes.h"
#include "policy.h"
#include "rule_find.h"
#include "tg_names.h"

unsigned int
pol_hs_flags(const struct tg_rule *r)
{
	unsigned int f = 0;

	if (r->flags & TG_RF_CASELESS)
		f |= HS_FLAG_CASELESS;
	if (r->flags & TG_RF_DOTALL)
		f |= HS_FLAG_DOTALL;
	if (r->flags & TG_RF_MULTILINE)
		f |= HS_FLAG_MULTILINE;
	if (r->flags & TG_RF_SINGLEMATCH)
		f |= HS_FLAG_SINGLEMATCH;
	/* Combinations are evaluated by the dataplane (lib/comb.h): they are
	 * never compiled, and their operands are reported like any rule. */
	return f;
}

static void
rule_error(struct pol_policy *p, struct pol_errors *errs, uint32_t i, const char *msg)
{
	pol_error_add(errs, p->hdr.source, p->match_pos[i].line, p->match_pos[i].col,
		      "rule %u (%s): Hyperscan rejects the expression: %s", p->rules[i].id,
		      p->rules[i].name, msg);
}

/*
 * After a multi-compile failed on rule `bad`, look for the other bad rules
 * one by one so that one run reports them all.  Combinations cannot be
 * checked alone: they are only reported when they are the first failure.
 */
static void
find_other_bad(struct pol_policy *p, struct pol_errors *errs, const uint32_t *rix, uint32_t n,
	       uint32_t bad)
{
	hs_expr_info_t *info;
	hs_compile_error_t *ce;

	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = rix[k];

		if (i == bad || (p->rules[i].flags & TG_RF_COMBINATION))
			continue;
		info = NULL;
		ce = NULL;
		if (hs_expression_info(p->exprs[i], pol_hs_flags(&p->rules[i]), &info, &ce) !=
		    HS_SUCCESS) {
			rule_error(p, errs, i, ce ? ce->message : "unknown error");
			hs_free_compile_error(ce);
		}
		free(info);
	}
}

/*
 * Compile rules rix[0..n) (one scope's, or a subset closed under
 * combinations) plus, as candidates of the payload scan, cix[0..ncand) with
 * ids TG_CAND_ID(scope, k).  *db on success.  With `report`, a failure is
 * reported at the offending rule(s).
 */
static int
compile_set(struct pol_policy *p, struct pol_errors *errs, bool report, const uint32_t *rix,
	    uint32_t n, const uint32_t *cix, uint32_t ncand, hs_database_t **db)
{
	uint32_t total = n + ncand;
	const char **exprs = calloc(total ? total : 1, sizeof(*exprs));
	unsigned int *flags = calloc(total ? total : 1, sizeof(*flags));
	unsigned int *ids = calloc(total ? total : 1, sizeof(*ids));
	hs_compile_error_t *ce = NULL;
	uint32_t i;
	int rc = -1;

	*db = NULL;
	if (exprs == NULL || flags == NULL || ids == NULL) {
		pol_error_add(errs, p->hdr.source, 0, 0, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		exprs[i] = p->exprs[rix[i]];
		flags[i] = pol_hs_flags(&p->rules[rix[i]]);
		ids[i] = rix[i]; /* the rule's index: rules[id] in the dataplane */
	}
	for (i = 0; i < ncand; i++) {
		const struct tg_rule *r = &p->rules[cix[i]];

		exprs[n + i] = p->exprs[cix[i]];
		/* Reported at most once: only "seen somewhere" matters. */
		flags[n + i] = pol_hs_flags(r) | HS_FLAG_SINGLEMATCH;
		ids[n + i] = TG_CAND_ID(r->scope, i);
	}
	if (hs_compile_multi(exprs, flags, ids, total, HS_MODE_BLOCK, NULL, db, &ce) ==
	    HS_SUCCESS) {
		rc = 0;
		goto out;
	}
	*db = NULL;
	if (!report)
		goto out;
	if (ce != NULL && ce->expression >= 0 && (uint32_t)ce->expression < n) {
		rule_error(p, errs, rix[ce->expression], ce->message);
		find_other_bad(p, errs, rix, n, rix[ce->expression]);
	} else {
		uint32_t at = n ? rix[0] : 0;

		pol_error_add(errs, p->hdr.source, p->match_pos[at].line, p->match_pos[at].col,
			      "Hyperscan cannot compile the %u rules of scope '%s': %s", n,
			      tg_scope_name(p->rules[at].scope), ce ? ce->message : "unknown error");
	}
out:
	hs_free_compile_error(ce);
	free(exprs);
	free(flags);
	free(ids);
	return rc;
}

/* ---- the payload-scan prefilter (tg_maps.h, TG_HSDB_PF) ---- */

/*
 * Whether a match of `e` on a text implies a match on every text containing
 * it: no anchors, no word-boundary or other assertions, no inline options or
 * verbs, no \Q...\E quoting to reason about.  Conservative: false for
 * anything it does not understand (a character class with '^' included).
 */
static bool
expr_context_free(const char *e)
{
	for (; *e; e++) {
		if (*e == '^' || *e == '$')
			return false;
		if (*e == '(' && (e[1] == '?' || e[1] == '*'))
			return false;
		if (*e == '\\') {
			if (e[1] == '\0' || strchr("bBAzZGKQE", e[1]))
				return false;
			e++; /* an escaped character: not an operator */
		}
	}
	return true;
}

/* Every operand id as operand 0: only the value with no operand true is
 * wanted (comb_prog_eval over an all-false set). */
static int
resolve_any(void *arg, uint64_t id, uint32_t *index)
{
	(void)arg;
	(void)id;
	*index = 0;
	return 0;
}

/* A combination's value with every operand false, by lib/comb.c's own
 * reading of it; an expression it cannot read counts as true (never
 * prefiltered; build_combinations() reports it). */
static bool
combination_true_without_operands(const char *e)
{
	uint32_t prog[COMB_MAX_WORDS], n;
	const uint64_t none[1] = {0};

	if (comb_compile(e, resolve_any, NULL, prog, COMB_MAX_WORDS, &n, NULL, 0) < 0)
		return true;
	return comb_prog_eval(prog, n, none);
}

bool
pol_comb_true_without_operands(const struct pol_policy *p, uint32_t i)
{
	return combination_true_without_operands(p->exprs[i]);
}

/* The next rule id in combination text at q, or NULL after the last. */
static const char *
next_operand(const char *q, uint32_t *id)
{
	uint64_t v = 0;

	while (*q && (*q < '0' || *q > '9'))
		q++;
	if (*q == '\0')
		return NULL;
	for (; *q >= '0' && *q <= '9'; q++)
		if (v < UINT32_MAX)
			v = v * 10 + (uint64_t)(*q - '0');
	*id = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	return q;
}

static bool
set_true(bool *b)
{
	bool was = *b;

	*b = true;
	return !was;
}

/*
 * Split the rules [from, to) of one field scope: always[] for those scanned
 * on every message, the rest prefiltered.  A combination and its operands
 * stay on one side (one database), so an operand that cannot be prefiltered
 * keeps every combination naming it, and their other operands, on the
 * always side: repeated until nothing changes.
 */
static void
split_scope(const struct pol_policy *p, uint32_t from, uint32_t to, bool *always)
{
	const struct tg_rule *r = p->rules + from;
	uint32_t n = to - from, id;
	bool changed = true;
	const char *q;
	int32_t k;

	for (uint32_t i = 0; i < n; i++)
		always[i] = (r[i].flags & TG_RF_COMBINATION)
				    ? combination_true_without_operands(p->exprs[from + i])
				    : !expr_context_free(p->exprs[from + i]);
	while (changed) {
		changed = false;
		for (uint32_t i = 0; i < n; i++) {
			const char *e = p->exprs[from + i];
			bool any = always[i];

			if (!(r[i].flags & TG_RF_COMBINATION))
				continue;
			for (q = e; !any && (q = next_operand(q, &id)) != NULL;) {
				k = rule_find(r, n, id);
				any = k < 0 || always[k]; /* k < 0: cannot happen after pol_load */
			}
			if (!any)
				continue;
			changed |= set_true(&always[i]);
			for (q = e; (q = next_operand(q, &id)) != NULL;)
				if ((k = rule_find(r, n, id)) >= 0)
					changed |= set_true(&always[k]);
		}
	}
}

/*
 * Build the databases: with `prefilter`, the split described in tg_maps.h;
 * without, one database per scope.  group[i]: the database whose scan
 * evaluates combination i (its operands are in it).  0 ok, -1 (errors
 * reported if `report`).
 */
static int
compile_all(struct pol_policy *p, struct pol_errors *errs, bool prefilter, bool report,
	    hs_database_t **db, uint8_t *group)
{
	uint32_t nr = p->hdr.n_rules;
	uint32_t *rix = calloc(nr ? nr : 1, sizeof(*rix));
	uint32_t *cand = calloc(nr ? nr : 1, sizeof(*cand));
	bool *always = calloc(nr ? nr : 1, sizeof(*always));
	uint32_t ncand = 0, pay_from = 0, pay_n = 0, from, i, k, na, nf;
	int rc = 0;

	if (rix == NULL || cand == NULL || always == NULL) {
		pol_error_add(errs, p->hdr.source, 0, 0, "out of memory");
		rc = -1;
		goto out;
	}
	/* Every byte, unless a split scope below says which (tg_maps.h). */
	memset(p->hdr.pf_match_bytes, 0xff, sizeof(p->hdr.pf_match_bytes));
	/* Rules are sorted by scope: each scope is one contiguous run. */
	for (from = 0; from < nr; from = i) {
		unsigned s = p->rules[from].scope;

		for (i = from; i < nr && p->rules[i].scope == s; i++)
			;
		if (s == TG_SCOPE_PAYLOAD) { /* compiled last, with the candidates */
			pay_from = from;
			pay_n = i - from;
			continue;
		}
		if (prefilter && (POL_PREFILTER_SCOPES & (1u << s))) {
			split_scope(p, from, i, always + from);
			/* The bytes their matches can contain (tg_maps.h). */
			memset(p->hdr.pf_match_bytes[s], 0, sizeof(p->hdr.pf_match_bytes[s]));
			for (k = from; k < i; k++)
				if (!always[k] && !(p->rules[k].flags & TG_RF_COMBINATION))
					pattern_bytes(p->exprs[k], p->rules[k].flags & TG_RF_CASELESS,
						      p->hdr.pf_match_bytes[s]);
		} else
			for (k = from; k < i; k++)
				always[k] = true;
		na = nf = 0;
		for (k = from; k < i; k++) {
			group[k] = (uint8_t)(always[k] ? s : TG_HSDB_PF(s));
			if (always[k] && !(p->rules[k].flags & TG_RF_COMBINATION))
				rix[na++] = k;
		}
		if (na && compile_set(p, errs, report, rix, na, NULL, 0, &db[s]) < 0)
			rc = -1;
		for (k = from; k < i; k++)
			if (!always[k] && !(p->rules[k].flags & TG_RF_COMBINATION)) {
				rix[nf++] = k;
				cand[ncand++] = k;
			}
		if (nf && compile_set(p, errs, report, rix, nf, NULL, 0, &db[TG_HSDB_PF(s)]) < 0)
			rc = -1;
		p->n_prefiltered[s] = 0; /* combinations included */
		for (k = from; k < i; k++)
			p->n_prefiltered[s] += !always[k];
	}
	na = 0;
	for (k = pay_from; k < pay_from + pay_n; k++) {
		group[k] = TG_SCOPE_PAYLOAD;
		if (!(p->rules[k].flags & TG_RF_COMBINATION))
			rix[na++] = k;
	}
	if ((na || ncand) &&
	    compile_set(p, errs, report, rix, na, cand, ncand, &db[TG_SCOPE_PAYLOAD]) < 0)
		rc = -1;
out:
	free(rix);
	free(cand);
	free(always);
	return rc;
}

/* ---- combinations, evaluated by the dataplane (lib/comb.h) ---- */

struct resolve_ctx {
	const struct tg_rule *r; /* the combination's scope: its operands are there */
	uint32_t from, n;
};

static int
resolve_operand(void *arg, uint64_t id, uint32_t *index)
{
	const struct resolve_ctx *c = arg;
	int32_t k = id > UINT32_MAX ? -1 : rule_find(c->r + c->from, c->n, (uint32_t)id);

	if (k < 0)
		return -1;
	*index = c->from + (uint32_t)k;
	return 0;
}

/* An operand must report its matches in the order of their end offsets
 * (lib/comb.h): Hyperscan refuses in combinations the patterns that can
 * report them out of order (`a$`, `a\b`, ...), and so does tgctl. */
static bool
operand_ordered(struct pol_policy *p, struct pol_errors *errs, uint32_t comb, uint32_t k)
{
	hs_expr_info_t *info = NULL;
	hs_compile_error_t *ce = NULL;
	bool ok = true;

	if (hs_expression_info(p->exprs[k], pol_hs_flags(&p->rules[k]), &info, &ce) != HS_SUCCESS) {
		hs_free_compile_error(ce);
		return true; /* its own compile error is reported with the databases */
	}
	if (info->unordered_matches) {
		pol_error_add(errs, p->hdr.source, p->match_pos[comb].line, p->match_pos[comb].col,
			      "rule %u (%s): combination operand %u can match out of order (an "
			      "anchor or assertion at its end, e.g. '$' or '\\b'): combinations "
			      "cannot use it",
			      p->rules[comb].id, p->rules[comb].name, p->rules[k].id);
		ok = false;
	}
	free(info);
	return ok;
}

/*
 * The combinations' table: each combination's program over operand rule
 * indices, in the group (database) group[] says.  *words NULL when the
 * policy has none.  0 ok, -1 (reported at the rule).
 */
static int
build_combinations(struct pol_policy *p, struct pol_errors *errs, const uint8_t *group,
		   uint32_t **words, size_t *n_words)
{
	uint32_t nr = p->hdr.n_rules, from = 0, n_comb = 0;
	uint32_t *prog = malloc(COMB_MAX_WORDS * sizeof(*prog));
	struct comb_builder *b = comb_builder_new(nr);
	int rc = 0;

	*words = NULL;
	*n_words = 0;
	if (prog == NULL || b == NULL) {
		pol_error_add(errs, p->hdr.source, 0, 0, "out of memory");
		rc = -1;
		goto out;
	}
	for (uint32_t i = 0; i < nr; i++) {
		struct resolve_ctx rc_ = {.r = p->rules};
		char err[160];
		uint32_t n;

		if (i == 0 || p->rules[i].scope != p->rules[i - 1].scope)
			from = i;
		if (!(p->rules[i].flags & TG_RF_COMBINATION))
			continue;
		rc_.from = from;
		for (rc_.n = 0; from + rc_.n < nr && p->rules[from + rc_.n].scope == p->rules[i].scope;
		     rc_.n++)
			;
		if (comb_compile(p->exprs[i], resolve_operand, &rc_, prog, COMB_MAX_WORDS, &n, err,
				 sizeof(err)) < 0) {
			pol_error_add(errs, p->hdr.source, p->match_pos[i].line, p->match_pos[i].col,
				      "rule %u (%s): bad combination: %s", p->rules[i].id,
				      p->rules[i].name, err);
			rc = -1;
			continue;
		}
		for (uint32_t w = 0; w < n; w++)
			if (prog[w] < COMB_OP_BASE && !operand_ordered(p, errs, i, prog[w]))
				rc = -1;
		if (rc == 0 && comb_builder_add(b, i, group[i], prog, n) < 0) {
			pol_error_add(errs, p->hdr.source, p->match_pos[i].line, p->match_pos[i].col,
				      "rule %u (%s): cannot add the combination", p->rules[i].id,
				      p->rules[i].name);
			rc = -1;
		}
		n_comb++;
	}
	if (rc == 0 && n_comb > 0 && comb_builder_finish(b, words, n_words) < 0) {
		pol_error_add(errs, p->hdr.source, 0, 0, "cannot build the combinations' table");
		rc = -1;
	}
out:
	comb_builder_free(b);
	free(prog);
	return rc;
}

int
pol_compile(struct pol_policy *p, struct pol_errors *errs)
{
	return pol_compile_layout(p, errs, true);
}

int
pol_compile_layout(struct pol_policy *p, struct pol_errors *errs, bool prefilter)
{
	hs_database_t *db[TG_HSDB_REFS] = { NULL };
	char *ser[TG_HSDB_REFS] = { NULL };
	size_t ser_len[TG_HSDB_REFS] = { 0 };
	uint8_t *group = calloc(p->hdr.n_rules ? p->hdr.n_rules : 1, 1);
	uint32_t *comb = NULL;
	size_t comb_words = 0;
	uint32_t s;
	size_t total = 0, off;
	int rc = -1;
	hs_error_t e;
	unsigned int first_err = errs->n;

	free(p->hsdb_blob);
	p->hsdb_blob = NULL;
	p->hsdb_len = 0;
	memset(p->hdr.hsdb, 0, sizeof(p->hdr.hsdb));
	memset(&p->hdr.comb, 0, sizeof(p->hdr.comb));
	memset(p->n_prefiltered, 0, sizeof(p->n_prefiltered));
	if (group == NULL) {
		pol_error_add(errs, p->hdr.source, 0, 0, "out of memory");
		goto out;
	}

	/* The prefiltered layout first; if Hyperscan refuses any of its
	 * databases, the plain one, which reports every bad rule. */
	if (!prefilter || compile_all(p, errs, true, false, db, group) < 0) {
		for (s = 0; s < TG_HSDB_REFS; s++) {
			hs_free_database(db[s]);
			db[s] = NULL;
		}
		memset(p->n_prefiltered, 0, sizeof(p->n_prefiltered));
		if (compile_all(p, errs, false, true, db, group) < 0)
			goto out;
	}
	if (build_combinations(p, errs, group, &comb, &comb_words) < 0)
		goto out;
	for (s = 0; s < TG_HSDB_REFS; s++) {
		if (db[s] == NULL)
			continue;
		e = hs_serialize_database(db[s], &ser[s], &ser_len[s]);
		if (e != HS_SUCCESS) {
			pol_error_add(errs, p->hdr.source, 0, 0,
				      "cannot serialize the '%s' database: Hyperscan error %d",
				      tg_scope_name(s % TG_SCOPE_COUNT), e);
			goto out;
		}
		total = (total + 7) & ~(size_t)7;
		total += ser_len[s];
	}
	total = (total + 7) & ~(size_t)7;
	total += comb_words * sizeof(*comb);
	if (total > TG_HSDB_SLOT_BYTES) {
		pol_error_add(errs, p->hdr.source, 0, 0,
			      "compiled rules take %zu bytes of Hyperscan databases, more than the %u bytes (%u MiB) a slot holds",
			      total, TG_HSDB_SLOT_BYTES, TG_HSDB_SLOT_BYTES >> 20);
		goto out;
	}
	if (total > 0) {
		p->hsdb_blob = calloc(1, total);
		if (p->hsdb_blob == NULL) {
			pol_error_add(errs, p->hdr.source, 0, 0, "out of memory");
			goto out;
		}
	}
	off = 0;
	for (s = 0; s < TG_HSDB_REFS; s++) {
		if (ser[s] == NULL)
			continue;
		off = (off + 7) & ~(size_t)7;
		memcpy(p->hsdb_blob + off, ser[s], ser_len[s]);
		p->hdr.hsdb[s].off = (uint32_t)off;
		p->hdr.hsdb[s].len = (uint32_t)ser_len[s];
		off += ser_len[s];
	}
	if (comb_words) {
		off = (off + 7) & ~(size_t)7;
		memcpy(p->hsdb_blob + off, comb, comb_words * sizeof(*comb));
		p->hdr.comb.off = (uint32_t)off;
		p->hdr.comb.len = (uint32_t)(comb_words * sizeof(*comb));
	}
	p->hsdb_len = total;
	rc = 0;
out:
	for (s = 0; s < TG_HSDB_REFS; s++) {
		hs_free_database(db[s]);
		free(ser[s]);
	}
	free(comb);
	free(group);
	if (rc < 0) {
		free(p->hsdb_blob);
		p->hsdb_blob = NULL;
		p->hsdb_len = 0;
		memset(p->hdr.hsdb, 0, sizeof(p->hdr.hsdb));
		memset(&p->hdr.comb, 0, sizeof(p->hdr.comb));
		pol_errors_sort(errs, first_err);
	}
	return rc;
}
