/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * policy_compile.c - compile a loaded policy's rules with Hyperscan: block
 * mode, one database per scope that has rules, each serialized into one blob
 * at 8-byte aligned offsets (for hs_deserialize_database_at in the reader).
 *
 * The databases are built for the host tgctl runs on; the dataplane runs on
 * the same host and checks them with hs_serialized_database_info on load.
 */
#include <stdlib.h>
#include <string.h>

#include <hs.h>

#include "policy.h"
#include "tg_names.h"

static unsigned int
hs_flags_of(const struct tg_rule *r)
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
	if (r->flags & TG_RF_COMBINATION)
		f |= HS_FLAG_COMBINATION;
	/* An operand only: Hyperscan must not report it to the callback. */
	if (r->action == TG_ACT_NONE)
		f |= HS_FLAG_QUIET;
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
find_other_bad(struct pol_policy *p, struct pol_errors *errs, uint32_t from, uint32_t n,
	       uint32_t bad)
{
	hs_expr_info_t *info;
	hs_compile_error_t *ce;
	uint32_t i;

	for (i = from; i < from + n; i++) {
		if (i == bad || (p->rules[i].flags & TG_RF_COMBINATION))
			continue;
		info = NULL;
		ce = NULL;
		if (hs_expression_info(p->exprs[i], hs_flags_of(&p->rules[i]) & ~HS_FLAG_QUIET,
				       &info, &ce) != HS_SUCCESS) {
			rule_error(p, errs, i, ce ? ce->message : "unknown error");
			hs_free_compile_error(ce);
		}
		free(info);
	}
}

/* Compile rules [from, from+n), all of one scope; *db on success. */
static int
compile_scope(struct pol_policy *p, struct pol_errors *errs, uint32_t from, uint32_t n,
	      hs_database_t **db)
{
	const char **exprs = calloc(n, sizeof(*exprs));
	unsigned int *flags = calloc(n, sizeof(*flags));
	unsigned int *ids = calloc(n, sizeof(*ids));
	hs_compile_error_t *ce = NULL;
	unsigned int scope = p->rules[from].scope;
	uint32_t i;
	int rc = -1;

	*db = NULL;
	if (exprs == NULL || flags == NULL || ids == NULL) {
		pol_error_add(errs, p->hdr.source, 0, 0, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		exprs[i] = p->exprs[from + i];
		flags[i] = hs_flags_of(&p->rules[from + i]);
		ids[i] = p->rules[from + i].id;
	}
	if (hs_compile_multi(exprs, flags, ids, n, HS_MODE_BLOCK, NULL, db, &ce) == HS_SUCCESS) {
		rc = 0;
		goto out;
	}
	*db = NULL;
	if (ce != NULL && ce->expression >= 0 && (uint32_t)ce->expression < n) {
		rule_error(p, errs, from + (uint32_t)ce->expression, ce->message);
		find_other_bad(p, errs, from, n, from + (uint32_t)ce->expression);
	} else {
		pol_error_add(errs, p->hdr.source, p->match_pos[from].line, p->match_pos[from].col,
			      "Hyperscan cannot compile the %u rules of scope '%s': %s", n,
			      tg_scope_name(scope), ce ? ce->message : "unknown error");
	}
out:
	hs_free_compile_error(ce);
	free(exprs);
	free(flags);
	free(ids);
	return rc;
}

int
pol_compile(struct pol_policy *p, struct pol_errors *errs)
{
	hs_database_t *db[TG_SCOPE_COUNT] = { NULL };
	char *ser[TG_SCOPE_COUNT] = { NULL };
	size_t ser_len[TG_SCOPE_COUNT] = { 0 };
	uint32_t i, from, s;
	size_t total = 0, off;
	int rc = -1;
	hs_error_t e;
	unsigned int first_err = errs->n;

	free(p->hsdb_blob);
	p->hsdb_blob = NULL;
	p->hsdb_len = 0;
	memset(p->hdr.hsdb, 0, sizeof(p->hdr.hsdb));

	/* Rules are sorted by scope: each scope is one contiguous run. */
	for (from = 0; from < p->hdr.n_rules; from = i) {
		s = p->rules[from].scope;
		for (i = from; i < p->hdr.n_rules && p->rules[i].scope == s; i++)
			;
		compile_scope(p, errs, from, i - from, &db[s]);
	}
	for (s = 0; s < TG_SCOPE_COUNT; s++) {
		if (db[s] == NULL)
			continue;
		e = hs_serialize_database(db[s], &ser[s], &ser_len[s]);
		if (e != HS_SUCCESS) {
			pol_error_add(errs, p->hdr.source, 0, 0,
				      "cannot serialize the '%s' database: Hyperscan error %d",
				      tg_scope_name(s), e);
			goto out;
		}
		total = (total + 7) & ~(size_t)7;
		total += ser_len[s];
	}
	for (from = 0; from < p->hdr.n_rules; from = i) {
		s = p->rules[from].scope;
		for (i = from; i < p->hdr.n_rules && p->rules[i].scope == s; i++)
			;
		if (db[s] == NULL)
			goto out; /* its errors are already reported */
	}
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
	for (s = 0; s < TG_SCOPE_COUNT; s++) {
		if (ser[s] == NULL)
			continue;
		off = (off + 7) & ~(size_t)7;
		memcpy(p->hsdb_blob + off, ser[s], ser_len[s]);
		p->hdr.hsdb[s].off = (uint32_t)off;
		p->hdr.hsdb[s].len = (uint32_t)ser_len[s];
		off += ser_len[s];
	}
	p->hsdb_len = total;
	rc = 0;
out:
	for (s = 0; s < TG_SCOPE_COUNT; s++) {
		hs_free_database(db[s]);
		free(ser[s]);
	}
	if (rc < 0) {
		free(p->hsdb_blob);
		p->hsdb_blob = NULL;
		p->hsdb_len = 0;
		memset(p->hdr.hsdb, 0, sizeof(p->hdr.hsdb));
		pol_errors_sort(errs, first_err);
	}
	return rc;
}
