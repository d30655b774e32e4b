/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * comb.c - Hyperscan logical combinations evaluated by trackgate: the
 * expression compiler and table builder (tgctl), the table loader and the
 * per-scan evaluation (dataplane).  Semantics and blob format: comb.h.
 *
 * A program is evaluated on a stack of at most COMB_MAX_DEPTH booleans kept
 * as the bits of one uint64_t (bit 0 is the top).  The scan state holds the
 * bitset of operands matched so far, the combinations waiting to be
 * evaluated at the current end offset and those already reported, each with
 * the list of what it set so that the next scan clears only that.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comb.h"

#define COMB_BIT(k) (UINT64_C(1) << ((k) & 63))
#define COMB_WORDS64(n) (((size_t)(n) + 63) / 64)

static void
comb_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- programs ---- */

bool
comb_prog_valid(const uint32_t *prog, uint32_t n, uint32_t n_operands)
{
	uint32_t i, depth = 0;

	if (prog == NULL || n == 0 || n > COMB_MAX_WORDS)
		return false;
	for (i = 0; i < n; i++) {
		uint32_t w = prog[i];

		if (w < COMB_OP_BASE) {
			if (w >= n_operands || depth == COMB_MAX_DEPTH)
				return false;
			depth++;
		} else if (w == COMB_NOT) {
			if (depth < 1)
				return false;
		} else if (w == COMB_AND || w == COMB_OR) {
			if (depth < 2)
				return false;
			depth--;
		} else {
			return false;
		}
	}
	return depth == 1;
}

bool
comb_prog_eval(const uint32_t *prog, uint32_t n, const uint64_t *on)
{
	uint64_t st = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint32_t w = prog[i];

		if (w < COMB_OP_BASE)
			st = (st << 1) | ((on[w >> 6] >> (w & 63)) & 1);
		else if (w == COMB_NOT)
			st ^= 1;
		else if (w == COMB_AND)
			st = (st >> 1) & (st | ~UINT64_C(1));
		else
			st = (st >> 1) | (st & 1);
	}
	return st & 1;
}

/* ---- the expression compiler ---- */

struct comb_parser {
	const char *s;
	size_t pos;
	int (*resolve)(void *arg, uint64_t id, uint32_t *index);
	void *arg;
	uint32_t *prog;
	uint32_t cap;
	uint32_t n;
	uint32_t depth; /* evaluation stack depth after prog[0..n) */
	uint32_t nest;	/* open '(' and '!' */
	char *err;
	size_t errlen;
};

static void
cp_skip(struct comb_parser *p)
{
	while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t')
		p->pos++;
}

/* "unexpected X at column N[, expected ...]" for the byte at p->pos. */
static int
cp_unexpected(struct comb_parser *p, const char *expected)
{
	unsigned char c = (unsigned char)p->s[p->pos];
	char what[24];

	if (c == '\0')
		snprintf(what, sizeof(what), "end of expression");
	else if (c >= 0x21 && c <= 0x7e)
		snprintf(what, sizeof(what), "'%c'", c);
	else
		snprintf(what, sizeof(what), "byte 0x%02x", c);
	comb_errf(p->err, p->errlen, "unexpected %s at column %zu%s%s", what, p->pos + 1,
		  expected != NULL ? ", expected " : "", expected != NULL ? expected : "");
	return -1;
}

static int
cp_emit(struct comb_parser *p, uint32_t w)
{
	if (p->n >= p->cap || p->n >= COMB_MAX_WORDS) {
		comb_errf(p->err, p->errlen, "expression longer than %u program words",
			  p->cap < COMB_MAX_WORDS ? p->cap : COMB_MAX_WORDS);
		return -1;
	}
	if (w < COMB_OP_BASE) {
		if (p->depth == COMB_MAX_DEPTH) {
			comb_errf(p->err, p->errlen,
				  "expression needs an evaluation stack deeper than %d "
				  "(column %zu)", COMB_MAX_DEPTH, p->pos + 1);
			return -1;
		}
		p->depth++;
	} else if (w != COMB_NOT) {
		p->depth--;
	}
	p->prog[p->n++] = w;
	return 0;
}

static int cp_or(struct comb_parser *p);

static int
cp_nest(struct comb_parser *p)
{
	if (p->nest == COMB_MAX_DEPTH) {
		comb_errf(p->err, p->errlen, "nesting deeper than %d at column %zu",
			  COMB_MAX_DEPTH, p->pos + 1);
		return -1;
	}
	p->nest++;
	return 0;
}

static int
cp_id(struct comb_parser *p)
{
	size_t col = p->pos + 1;
	uint64_t id = 0;
	uint32_t index;

	while (p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
		unsigned int d = (unsigned int)(p->s[p->pos] - '0');

		if (id > (UINT64_MAX - d) / 10) {
			comb_errf(p->err, p->errlen, "id too large at column %zu", col);
			return -1;
		}
		id = id * 10 + d;
		p->pos++;
	}
	if (p->resolve(p->arg, id, &index) != 0) {
		comb_errf(p->err, p->errlen, "unknown id %llu at column %zu",
			  (unsigned long long)id, col);
		return -1;
	}
	if (index >= COMB_OP_BASE) {
		comb_errf(p->err, p->errlen, "id %llu at column %zu: operand index %u too large",
			  (unsigned long long)id, col, index);
		return -1;
	}
	return cp_emit(p, index);
}

/* not := '!' not | '(' or ')' | id */
static int
cp_not(struct comb_parser *p)
{
	char c;

	cp_skip(p);
	c = p->s[p->pos];
	if (c == '!') {
		if (cp_nest(p) != 0)
			return -1;
		p->pos++;
		if (cp_not(p) != 0 || cp_emit(p, COMB_NOT) != 0)
			return -1;
		p->nest--;
		return 0;
	}
	if (c == '(') {
		if (cp_nest(p) != 0)
			return -1;
		p->pos++;
		if (cp_or(p) != 0)
			return -1;
		cp_skip(p);
		if (p->s[p->pos] != ')')
			return cp_unexpected(p, "')'");
		p->pos++;
		p->nest--;
		return 0;
	}
	if (c >= '0' && c <= '9')
		return cp_id(p);
	return cp_unexpected(p, "an id, '!' or '('");
}

/* and := not ('&' not)* */
static int
cp_and(struct comb_parser *p)
{
	if (cp_not(p) != 0)
		return -1;
	for (;;) {
		cp_skip(p);
		if (p->s[p->pos] != '&')
			return 0;
		p->pos++;
		if (cp_not(p) != 0 || cp_emit(p, COMB_AND) != 0)
			return -1;
	}
}

/* or := and ('|' and)* */
static int
cp_or(struct comb_parser *p)
{
	if (cp_and(p) != 0)
		return -1;
	for (;;) {
		cp_skip(p);
		if (p->s[p->pos] != '|')
			return 0;
		p->pos++;
		if (cp_and(p) != 0 || cp_emit(p, COMB_OR) != 0)
			return -1;
	}
}

int
comb_compile(const char *expr, int (*resolve)(void *arg, uint64_t id, uint32_t *index),
	     void *arg, uint32_t *prog, uint32_t cap, uint32_t *n, char *err, size_t errlen)
{
	struct comb_parser p = {
		.s = expr, .resolve = resolve, .arg = arg, .prog = prog, .cap = cap,
		.err = err, .errlen = errlen,
	};

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	*n = 0;
	if (expr == NULL || resolve == NULL || prog == NULL) {
		comb_errf(err, errlen, "bad arguments");
		return -1;
	}
	cp_skip(&p);
	if (p.s[p.pos] == '\0') {
		comb_errf(err, errlen, "empty expression");
		return -1;
	}
	if (cp_or(&p) != 0)
		return -1;
	cp_skip(&p);
	if (p.s[p.pos] != '\0')
		return cp_unexpected(&p, NULL);
	*n = p.n;
	return 0;
}

/* ---- the table builder ---- */

struct comb_builder {
	uint32_t n_operands;
	uint32_t min_width[COMB_MAX_GROUPS];
	uint32_t n_combs, cap_combs;
	struct comb_ent *ents;
	uint32_t *progs;
	size_t n_prog, cap_prog;
	int failed;
};

struct comb_builder *
comb_builder_new(uint32_t n_operands)
{
	struct comb_builder *b;

	if (n_operands > COMB_MAX_OPERANDS)
		return NULL;
	b = calloc(1, sizeof(*b));
	if (b != NULL)
		b->n_operands = n_operands;
	return b;
}

int
comb_builder_add(struct comb_builder *b, uint32_t rule, uint32_t group, const uint32_t *prog,
		 uint32_t n)
{
	if (b == NULL)
		return -1;
	if (b->failed || group >= COMB_MAX_GROUPS || b->n_combs >= COMB_MAX_COMBS ||
	    !comb_prog_valid(prog, n, b->n_operands))
		return -1;
	if (b->n_combs == b->cap_combs) {
		uint32_t cap = b->cap_combs ? 2 * b->cap_combs : 64;
		struct comb_ent *e = realloc(b->ents, cap * sizeof(*e));

		if (e == NULL)
			goto oom;
		b->ents = e;
		b->cap_combs = cap;
	}
	if (b->n_prog + n > b->cap_prog) {
		size_t cap = b->cap_prog ? 2 * b->cap_prog : 1024;
		uint32_t *p;

		while (cap < b->n_prog + n)
			cap *= 2;
		p = realloc(b->progs, cap * sizeof(*p));
		if (p == NULL)
			goto oom;
		b->progs = p;
		b->cap_prog = cap;
	}
	memcpy(b->progs + b->n_prog, prog, n * sizeof(*prog));
	b->ents[b->n_combs] = (struct comb_ent){
		.rule = rule, .group = group, .off = (uint32_t)b->n_prog, .len = n,
	};
	b->n_prog += n;
	b->n_combs++;
	return 0;
oom:
	b->failed = 1;
	return -1;
}

int
comb_builder_set_min_width(struct comb_builder *b, uint32_t group, uint32_t min_width)
{
	if (b == NULL || group >= COMB_MAX_GROUPS)
		return -1;
	b->min_width[group] = min_width;
	return 0;
}

int
comb_builder_finish(struct comb_builder *b, uint32_t **words, size_t *n_words)
{
	static const uint64_t none[COMB_WORDS64(COMB_MAX_OPERANDS)];
	uint32_t *w = NULL, *mark = NULL, *op_start, *op_refs, *eod_start, *eod, *fill = NULL;
	uint32_t c, k, g, n_refs = 0, n_eod = 0, nop;
	size_t total, i;

	*words = NULL;
	*n_words = 0;
	if (b == NULL || b->failed)
		return -1;
	nop = b->n_operands;
	mark = malloc(((size_t)nop + 1) * sizeof(*mark));
	fill = calloc((size_t)nop + 1, sizeof(*fill));
	if (mark == NULL || fill == NULL)
		goto fail;
	/* operand -> number of combinations naming it (each once) */
	for (k = 0; k < nop; k++)
		mark[k] = UINT32_MAX;
	for (c = 0; c < b->n_combs; c++) {
		const struct comb_ent *e = &b->ents[c];

		for (i = 0; i < e->len; i++) {
			k = b->progs[e->off + i];
			if (k < COMB_OP_BASE && mark[k] != c) {
				mark[k] = c;
				fill[k]++;
				n_refs++;
			}
		}
		if (comb_prog_eval(b->progs + e->off, e->len, none))
			n_eod++;
	}
	total = COMB_HDR_WORDS + COMB_MAX_GROUPS + 4 * (size_t)b->n_combs + b->n_prog + nop + 1 +
		n_refs + COMB_MAX_GROUPS + 1 + n_eod;
	if (total > UINT32_MAX)
		goto fail;
	w = calloc(total, sizeof(*w));
	if (w == NULL)
		goto fail;
	w[0] = COMB_MAGIC;
	w[1] = COMB_VERSION;
	w[2] = (uint32_t)total;
	w[3] = nop;
	w[4] = b->n_combs;
	w[5] = (uint32_t)b->n_prog;
	w[6] = n_refs;
	w[7] = n_eod;
	memcpy(w + COMB_HDR_WORDS, b->min_width, sizeof(b->min_width));
	if (b->n_combs > 0)
		memcpy(w + COMB_HDR_WORDS + COMB_MAX_GROUPS, b->ents,
		       (size_t)b->n_combs * sizeof(*b->ents));
	if (b->n_prog > 0)
		memcpy(w + COMB_HDR_WORDS + COMB_MAX_GROUPS + 4 * (size_t)b->n_combs, b->progs,
		       b->n_prog * sizeof(*b->progs));
	op_start = w + COMB_HDR_WORDS + COMB_MAX_GROUPS + 4 * (size_t)b->n_combs + b->n_prog;
	op_refs = op_start + nop + 1;
	eod_start = op_refs + n_refs;
	eod = eod_start + COMB_MAX_GROUPS + 1;
	/* CSR: prefix sums, then fill in increasing combination order */
	op_start[0] = 0;
	for (k = 0; k < nop; k++) {
		op_start[k + 1] = op_start[k] + fill[k];
		fill[k] = op_start[k];
		mark[k] = UINT32_MAX;
	}
	for (c = 0; c < b->n_combs; c++) {
		const struct comb_ent *e = &b->ents[c];

		for (i = 0; i < e->len; i++) {
			k = b->progs[e->off + i];
			if (k < COMB_OP_BASE && mark[k] != c) {
				mark[k] = c;
				op_refs[fill[k]++] = c;
			}
		}
	}
	/* eod lists, group by group */
	n_eod = 0;
	for (g = 0; g < COMB_MAX_GROUPS; g++) {
		eod_start[g] = n_eod;
		for (c = 0; c < b->n_combs; c++) {
			const struct comb_ent *e = &b->ents[c];

			if (e->group == g && comb_prog_eval(b->progs + e->off, e->len, none))
				eod[n_eod++] = c;
		}
	}
	eod_start[COMB_MAX_GROUPS] = n_eod;
	free(mark);
	free(fill);
	*words = w;
	*n_words = total;
	return 0;
fail:
	free(mark);
	free(fill);
	free(w);
	return -1;
}

void
comb_builder_free(struct comb_builder *b)
{
	if (b == NULL)
		return;
	free(b->ents);
	free(b->progs);
	free(b);
}

/* ---- the table loader ---- */

/* Whether the strictly increasing list a[0..n) holds x. */
static bool
comb_list_has(const uint32_t *a, uint32_t n, uint32_t x)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (a[mid] == x)
			return true;
		if (a[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* start[0..n] runs from 0 to `end`, non-decreasing; each list in it strictly increasing, < lim. */
static int
comb_csr_check(const uint32_t *start, uint32_t n, const uint32_t *ent, uint32_t end,
	       uint32_t lim)
{
	uint32_t k, i;

	if (start[0] != 0 || start[n] != end)
		return -1;
	for (k = 0; k < n; k++) {
		if (start[k + 1] < start[k] || start[k + 1] > end)
			return -1;
		for (i = start[k]; i < start[k + 1]; i++)
			if (ent[i] >= lim || (i > start[k] && ent[i] <= ent[i - 1]))
				return -1;
	}
	return 0;
}

int
comb_table_load(struct comb_table *t, const uint32_t *words, size_t n_words,
		uint32_t n_operands, char *err, size_t errlen)
{
	static const uint64_t none[COMB_WORDS64(COMB_MAX_OPERANDS)];
	uint64_t seen[COMB_WORDS64(COMB_MAX_OPERANDS)];
	uint32_t nop, nc, n_prog, n_refs, n_eod, c, g, i, refs = 0, eods = 0, next_off = 0;
	const uint32_t *progs, *op_start, *op_refs, *eod_start, *eod;
	const struct comb_ent *combs;
	uint64_t total;

	memset(t, 0, sizeof(*t));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (words == NULL || n_words < COMB_HDR_WORDS) {
		comb_errf(err, errlen, "table: %zu words, shorter than its header", n_words);
		return -1;
	}
	if (words[0] != COMB_MAGIC || words[1] != COMB_VERSION) {
		comb_errf(err, errlen, "table: bad magic 0x%08x or version %u", words[0],
			  words[1]);
		return -1;
	}
	nop = words[3];
	nc = words[4];
	n_prog = words[5];
	n_refs = words[6];
	n_eod = words[7];
	if (words[2] != n_words) {
		comb_errf(err, errlen, "table: header says %u words, got %zu", words[2], n_words);
		return -1;
	}
	if (nop != n_operands || nop > COMB_MAX_OPERANDS) {
		comb_errf(err, errlen, "table: %u operands, expected %u (at most %u)", nop,
			  n_operands, COMB_MAX_OPERANDS);
		return -1;
	}
	if (nc > COMB_MAX_COMBS) {
		comb_errf(err, errlen, "table: %u combinations, at most %u", nc, COMB_MAX_COMBS);
		return -1;
	}
	total = (uint64_t)COMB_HDR_WORDS + COMB_MAX_GROUPS + 4 * (uint64_t)nc + n_prog + nop + 1 +
		n_refs + COMB_MAX_GROUPS + 1 + n_eod;
	if (total != n_words) {
		comb_errf(err, errlen, "table: sections add up to %llu words, got %zu",
			  (unsigned long long)total, n_words);
		return -1;
	}
	combs = (const struct comb_ent *)(words + COMB_HDR_WORDS + COMB_MAX_GROUPS);
	progs = words + COMB_HDR_WORDS + COMB_MAX_GROUPS + 4 * (size_t)nc;
	op_start = progs + n_prog;
	op_refs = op_start + nop + 1;
	eod_start = op_refs + n_refs;
	eod = eod_start + COMB_MAX_GROUPS + 1;

	if (comb_csr_check(op_start, nop, op_refs, n_refs, nc) != 0) {
		comb_errf(err, errlen, "table: bad operand -> combination lists");
		return -1;
	}
	if (comb_csr_check(eod_start, COMB_MAX_GROUPS, eod, n_eod, nc) != 0) {
		comb_errf(err, errlen, "table: bad end-of-data lists");
		return -1;
	}
	memset(seen, 0, sizeof(seen));
	for (c = 0; c < nc; c++) {
		const struct comb_ent *e = &combs[c];
		const uint32_t *prog;

		if (e->group >= COMB_MAX_GROUPS || e->off != next_off || e->len > n_prog - e->off ||
		    !comb_prog_valid(progs + e->off, e->len, nop)) {
			comb_errf(err, errlen, "table: combination %u (rule %u) is bad", c, e->rule);
			return -1;
		}
		next_off += e->len;
		prog = progs + e->off;
		/* every operand it names lists it; count the distinct ones */
		for (i = 0; i < e->len; i++) {
			uint32_t k = prog[i];

			if (k >= COMB_OP_BASE || (seen[k >> 6] & COMB_BIT(k)))
				continue;
			seen[k >> 6] |= COMB_BIT(k);
			refs++;
			if (!comb_list_has(op_refs + op_start[k], op_start[k + 1] - op_start[k], c)) {
				comb_errf(err, errlen,
					  "table: operand %u does not list combination %u", k, c);
				return -1;
			}
		}
		for (i = 0; i < e->len; i++)
			if (prog[i] < COMB_OP_BASE)
				seen[prog[i] >> 6] = 0;
		/* in its group's eod list iff true with no operand */
		if (comb_prog_eval(prog, e->len, none)) {
			eods++;
			if (!comb_list_has(eod + eod_start[e->group],
					   eod_start[e->group + 1] - eod_start[e->group], c)) {
				comb_errf(err, errlen,
					  "table: combination %u missing from its end-of-data list",
					  c);
				return -1;
			}
		}
	}
	if (next_off != n_prog || refs != n_refs || eods != n_eod) {
		comb_errf(err, errlen, "table: %u program words, %u operand references, %u "
			  "end-of-data entries do not match the combinations' %u, %u, %u",
			  n_prog, n_refs, n_eod, next_off, refs, eods);
		return -1;
	}
	/* every eod entry is of its group (all are in some list: counts agree) */
	for (g = 0; g < COMB_MAX_GROUPS; g++)
		for (i = eod_start[g]; i < eod_start[g + 1]; i++)
			if (combs[eod[i]].group != g) {
				comb_errf(err, errlen, "table: end-of-data list %u holds "
					  "combination %u of group %u", g, eod[i],
					  combs[eod[i]].group);
				return -1;
			}
	t->n_operands = nop;
	t->n_combs = nc;
	t->min_width = words + COMB_HDR_WORDS;
	t->combs = combs;
	t->progs = progs;
	t->op_start = op_start;
	t->op_refs = op_refs;
	t->eod_start = eod_start;
	t->eod = eod;
	return 0;
}

/* ---- the scan ---- */

struct comb_state {
	uint32_t max_operands;
	uint32_t max_combs;
	unsigned long long last_to; /* end offset of the last match */
	int stopped;		    /* report's nonzero value, until the next begin */
	uint32_t n_touched;
	uint32_t n_pending;
	uint32_t n_reported;
	uint64_t *on;	    /* operands matched this scan */
	uint64_t *pend;	    /* combinations in pending[] */
	uint64_t *rep;	    /* combinations reported this scan */
	uint32_t *touched;  /* the operands set in on[] */
	uint32_t *pending;  /* combinations to evaluate once last_to is complete */
	uint32_t *reported; /* the combinations set in rep[] */
	void *alloc;	    /* what comb_state_new allocated, else NULL */
};

#define COMB_ALIGN8(x) (((x) + 7) & ~(size_t)7)

size_t
comb_state_bytes(uint32_t max_operands, uint32_t max_combs)
{
	return COMB_ALIGN8(sizeof(struct comb_state)) +
	       8 * (COMB_WORDS64(max_operands) + 2 * COMB_WORDS64(max_combs)) +
	       COMB_ALIGN8(4 * (size_t)max_operands) + 2 * COMB_ALIGN8(4 * (size_t)max_combs);
}

struct comb_state *
comb_state_init(void *mem, size_t bytes, uint32_t max_operands, uint32_t max_combs)
{
	struct comb_state *s = mem;
	char *p = mem;

	if (mem == NULL || ((uintptr_t)mem & 7) != 0 || max_operands > COMB_MAX_OPERANDS ||
	    max_combs > COMB_MAX_COMBS || bytes < comb_state_bytes(max_operands, max_combs))
		return NULL;
	memset(mem, 0, comb_state_bytes(max_operands, max_combs));
	s->max_operands = max_operands;
	s->max_combs = max_combs;
	p += COMB_ALIGN8(sizeof(*s));
	s->on = (uint64_t *)p;
	p += 8 * COMB_WORDS64(max_operands);
	s->pend = (uint64_t *)p;
	p += 8 * COMB_WORDS64(max_combs);
	s->rep = (uint64_t *)p;
	p += 8 * COMB_WORDS64(max_combs);
	s->touched = (uint32_t *)p;
	p += COMB_ALIGN8(4 * (size_t)max_operands);
	s->pending = (uint32_t *)p;
	p += COMB_ALIGN8(4 * (size_t)max_combs);
	s->reported = (uint32_t *)p;
	return s;
}

struct comb_state *
comb_state_new(uint32_t max_operands, uint32_t max_combs)
{
	size_t bytes;
	void *mem;
	struct comb_state *s;

	if (max_operands > COMB_MAX_OPERANDS || max_combs > COMB_MAX_COMBS)
		return NULL;
	bytes = comb_state_bytes(max_operands, max_combs);
	mem = malloc(bytes);
	if (mem == NULL)
		return NULL;
	s = comb_state_init(mem, bytes, max_operands, max_combs);
	if (s == NULL) {
		free(mem);
		return NULL;
	}
	s->alloc = mem;
	return s;
}

void
comb_state_free(struct comb_state *s)
{
	if (s != NULL)
		free(s->alloc);
}

bool
comb_state_fits(const struct comb_state *s, const struct comb_table *t)
{
	return t->n_operands <= s->max_operands && t->n_combs <= s->max_combs;
}

void
comb_scan_begin(struct comb_state *s)
{
	uint32_t i;

	for (i = 0; i < s->n_touched; i++)
		s->on[s->touched[i] >> 6] = 0;
	for (i = 0; i < s->n_pending; i++)
		s->pend[s->pending[i] >> 6] = 0;
	for (i = 0; i < s->n_reported; i++)
		s->rep[s->reported[i] >> 6] = 0;
	s->n_touched = 0;
	s->n_pending = 0;
	s->n_reported = 0;
	s->last_to = 0;
	s->stopped = 0;
}

/* Report combination c if it is true now.  Returns report's value. */
static inline int
comb_try(struct comb_state *s, const struct comb_table *t, uint32_t c,
	 int (*report)(void *arg, uint32_t rule), void *arg)
{
	const struct comb_ent *e = &t->combs[c];

	if (!comb_prog_eval(t->progs + e->off, e->len, s->on))
		return 0;
	s->rep[c >> 6] |= COMB_BIT(c);
	s->reported[s->n_reported++] = c;
	return report(arg, e->rule);
}

/* Evaluate the combinations pending at last_to. */
static int
comb_flush(struct comb_state *s, const struct comb_table *t,
	   int (*report)(void *arg, uint32_t rule), void *arg)
{
	uint32_t i, n = s->n_pending;
	int rc = 0;

	for (i = 0; i < n; i++) {
		uint32_t c = s->pending[i];

		s->pend[c >> 6] &= ~COMB_BIT(c);
		if (rc == 0)
			rc = comb_try(s, t, c, report, arg);
	}
	s->n_pending = 0;
	s->stopped = rc;
	return rc;
}

int
comb_scan_match(struct comb_state *s, const struct comb_table *t, uint32_t operand,
		unsigned long long to, int (*report)(void *arg, uint32_t rule), void *arg)
{
	uint64_t *w, bit;
	uint32_t i, end;

	if (s->stopped)
		return s->stopped;
	if (to != s->last_to) {
		if (s->n_pending != 0 && comb_flush(s, t, report, arg) != 0)
			return s->stopped;
		s->last_to = to;
	}
	w = &s->on[operand >> 6];
	bit = COMB_BIT(operand);
	if (*w & bit)
		return 0;
	*w |= bit;
	s->touched[s->n_touched++] = operand;
	end = t->op_start[operand + 1];
	for (i = t->op_start[operand]; i < end; i++) {
		uint32_t c = t->op_refs[i];
		uint64_t m = COMB_BIT(c);

		if ((s->pend[c >> 6] | s->rep[c >> 6]) & m)
			continue;
		s->pend[c >> 6] |= m;
		s->pending[s->n_pending++] = c;
	}
	return 0;
}

int
comb_scan_end(struct comb_state *s, const struct comb_table *t, uint32_t group,
	      unsigned long long length, int (*report)(void *arg, uint32_t rule), void *arg)
{
	uint32_t i;
	int rc;

	if (s->stopped)
		return s->stopped;
	if (s->n_pending != 0 && comb_flush(s, t, report, arg) != 0)
		return s->stopped;
	if (group >= COMB_MAX_GROUPS || length < t->min_width[group])
		return 0;
	for (i = t->eod_start[group]; i < t->eod_start[group + 1]; i++) {
		uint32_t c = t->eod[i];

		if (s->rep[c >> 6] & COMB_BIT(c))
			continue;
		rc = comb_try(s, t, c, report, arg);
		if (rc != 0) {
			s->stopped = rc;
			return rc;
		}
	}
	return 0;
}
