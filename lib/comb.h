/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * comb.h - Hyperscan logical combinations (HS_FLAG_COMBINATION) evaluated by
 * trackgate itself (docs/release.md §4 "combination").
 *
 * tgctl compiles a combination's operands as plain patterns and the
 * combination's expression into a postfix program (comb_compile), collects
 * the programs in a table (comb_builder_*) and publishes the table as a flat
 * array of uint32_t.  The dataplane loads it without copying
 * (comb_table_load, which validates everything) and, during each scan, feeds
 * every match of an operand to comb_scan_match and the end of the data to
 * comb_scan_end; they report each combination that becomes true, at most
 * once per scan.
 *
 * Semantics, those of Hyperscan in block mode: a combination is evaluated at
 * every end offset where one of its operands matches, each operand counting
 * as true iff it has matched at or before that offset, after every match at
 * that offset has been recorded; it matches if it is true at any such
 * offset.  A combination that is true when no operand has matched (`!1`,
 * `1 | !2`) is also evaluated once at the end of the data - but not when
 * the data is shorter than its group's min_width.  hs_scan() returns before
 * looking at anything when the data is shorter than the database's minimum
 * match width, so even `!1` is not reported for an empty text: the test
 * sets min_width as Hyperscan has it to prove the rest equal.  tgctl
 * publishes 0 on purpose (docs/policy.md): a rule's verdict must not
 * depend on the lengths of unrelated rules.  Only the first
 * match of an operand changes the state, so only the combinations naming an
 * operand that matched for the first time are evaluated, lazily: when a
 * match with another end offset arrives, and at the end of the scan.
 *
 * Pure C11: no DPDK, no Hyperscan.  The scan path (comb_scan_*) allocates
 * nothing and is bounded by the table's sizes.
 */
#ifndef TG_COMB_H
#define TG_COMB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Postfix program words: an operand index (< COMB_OP_BASE), or an operator. */
#define COMB_OP_BASE 0xfffffff0u
#define COMB_NOT 0xfffffffdu
#define COMB_AND 0xfffffffeu
#define COMB_OR 0xffffffffu
#define COMB_MAX_DEPTH 64   /* evaluation stack; deeper programs are refused */
#define COMB_MAX_WORDS 1024 /* per combination */

#define COMB_MAX_GROUPS 16       /* groups (Hyperscan databases) of a table */
#define COMB_MAX_OPERANDS 16384u /* = TG_MAX_RULES */
#define COMB_MAX_COMBS 16384u    /* combinations in a table */

/*
 * Parse the expression text `expr` into a postfix program.  Grammar: `!`
 * (highest precedence), `&`, `|` (lowest, both left-associative),
 * parentheses, decimal ids, blanks (space, tab) anywhere between tokens.
 * Each id is mapped to an operand index by resolve(arg, id, &index), which
 * returns 0, or -1 if the id is unknown (an error).  The program is written
 * to prog[0..*n), at most cap (and COMB_MAX_WORDS) words.  Parentheses and
 * `!` nest at most COMB_MAX_DEPTH deep, and the program needs an evaluation
 * stack at most COMB_MAX_DEPTH deep.  Returns 0, or -1 with a message in
 * err (if errlen > 0), e.g. "unexpected ')' at column 7" (columns count
 * bytes from 1).
 *
 * Where this grammar and Hyperscan's parser differ (every expression both
 * accept means the same, tests/unit/test_comb.c): Hyperscan also refuses
 * tabs, `!!1` (write `!(!1)`), an expression without an operator (`1`,
 * `(1)`) and ids of more than 9 digits; it accepts operators out of place
 * (`1 2 &`, `& 1 2`), which this refuses.
 */
int comb_compile(const char *expr, int (*resolve)(void *arg, uint64_t id, uint32_t *index),
		 void *arg, uint32_t *prog, uint32_t cap, uint32_t *n, char *err, size_t errlen);

/*
 * Whether prog[0..n) is well formed: 1 <= n <= COMB_MAX_WORDS, every word an
 * operand < n_operands or COMB_NOT/AND/OR, no stack underflow, stack depth
 * never above COMB_MAX_DEPTH, exactly one value left at the end.
 */
bool comb_prog_valid(const uint32_t *prog, uint32_t n, uint32_t n_operands);

/*
 * The value of a valid program when operand k is true iff bit k of the
 * bitset `on` (on[k / 64] >> (k % 64)) is set.
 */
bool comb_prog_eval(const uint32_t *prog, uint32_t n, const uint64_t *on);

/*
 * A table of combinations, serialized as a flat array of uint32_t in host
 * order (all offsets and counts in words / entries):
 *
 *   hdr[0]  COMB_MAGIC
 *   hdr[1]  COMB_VERSION
 *   hdr[2]  n_words        the length of the whole blob
 *   hdr[3]  n_operands     operand indices are < n_operands
 *   hdr[4]  n_combs
 *   hdr[5]  n_prog         words of all programs
 *   hdr[6]  n_op_refs      entries of the operand -> combination lists
 *   hdr[7]  n_eod          entries of the groups' eod lists
 *   min_width COMB_MAX_GROUPS  per group: the minimum match width of its
 *                          database; the eod list is not evaluated for data
 *                          shorter than that (as hs_scan() skips it)
 *   combs    n_combs x 4   { rule, group, prog offset (into progs), prog length }
 *   progs    n_prog        the programs, back to back
 *   op_start n_operands+1  combinations naming operand k: op_refs[op_start[k]..op_start[k+1])
 *   op_refs  n_op_refs     combination indices, strictly increasing per operand
 *   eod_start COMB_MAX_GROUPS+1  eod list of group g: eod[eod_start[g]..eod_start[g+1])
 *   eod      n_eod         combination indices, strictly increasing per group
 *
 *   n_words = COMB_HDR_WORDS + COMB_MAX_GROUPS + 4 n_combs + n_prog + n_operands + 1
 *             + n_op_refs + COMB_MAX_GROUPS + 1 + n_eod
 *
 * op_refs lists, for each operand, exactly the combinations whose program
 * names it (once each); a group's eod list holds exactly the combinations
 * of that group that are true with no operand true.  comb_table_load
 * checks all of it.
 */
#define COMB_MAGIC 0x424d4354u /* "TCMB" as little-endian bytes */
#define COMB_VERSION 2u
#define COMB_HDR_WORDS 8u

struct comb_ent {
	uint32_t rule;	/* the combination rule itself, opaque here */
	uint32_t group; /* < COMB_MAX_GROUPS */
	uint32_t off;	/* its program: progs[off..off+len) */
	uint32_t len;
};

/* A loaded table: pointers into the blob given to comb_table_load. */
struct comb_table {
	uint32_t n_operands;
	uint32_t n_combs;
	const uint32_t *min_width; /* COMB_MAX_GROUPS */
	const struct comb_ent *combs;
	const uint32_t *progs;
	const uint32_t *op_start; /* n_operands + 1 */
	const uint32_t *op_refs;
	const uint32_t *eod_start; /* COMB_MAX_GROUPS + 1 */
	const uint32_t *eod;
};

/* tgctl side: build a table (allocates). */
struct comb_builder;

/* A builder for a table over n_operands operands (<= COMB_MAX_OPERANDS); NULL on error. */
struct comb_builder *comb_builder_new(uint32_t n_operands);

/*
 * Add a combination: its rule (opaque), group (< COMB_MAX_GROUPS) and a
 * program valid for the builder's n_operands (copied).  Combinations are
 * numbered in the order added.  Returns 0, or -1 (bad argument, more than
 * COMB_MAX_COMBS combinations, out of memory).
 */
int comb_builder_add(struct comb_builder *b, uint32_t rule, uint32_t group, const uint32_t *prog,
		     uint32_t n);

/*
 * The minimum match width of group's database (0 by default): what
 * Hyperscan computes as the database's minWidth, i.e. the smallest
 * hs_expression_info() min_width of its patterns, with their flags
 * (combinations excluded).  Returns 0, or -1 if group is out of range.
 */
int comb_builder_set_min_width(struct comb_builder *b, uint32_t group, uint32_t min_width);

/*
 * The serialized table: *words is malloc'd (the caller frees it), *n_words
 * its length.  Returns 0, or -1 (out of memory, now or in an earlier add).
 */
int comb_builder_finish(struct comb_builder *b, uint32_t **words, size_t *n_words);

void comb_builder_free(struct comb_builder *b);

/*
 * Dataplane side: validate a serialized table (header, sizes, offsets,
 * every program valid, groups < COMB_MAX_GROUPS, every index in range, the
 * operand lists and eod lists exactly as described above, n_operands equal
 * to the caller's) and point t into words (no copy: words must outlive t).
 * Returns 0, or -1 with a message in err (if errlen > 0).
 */
int comb_table_load(struct comb_table *t, const uint32_t *words, size_t n_words,
		    uint32_t n_operands, char *err, size_t errlen);

/* Whether operand k (< t->n_operands) is named by any combination. */
static inline bool
comb_is_operand(const struct comb_table *t, uint32_t k)
{
	return t->op_start[k + 1] != t->op_start[k];
}

/*
 * Per-scan evaluation state, one per worker.  It is sized for at most
 * max_operands operands and max_combs combinations and may be used with any
 * table that fits (comb_state_fits), e.g. sized for COMB_MAX_OPERANDS and
 * COMB_MAX_COMBS once, across policy swaps.  The memory is either the
 * caller's (comb_state_bytes bytes, 8-byte aligned, given to
 * comb_state_init) or malloc'd by comb_state_new.
 */
struct comb_state;

size_t comb_state_bytes(uint32_t max_operands, uint32_t max_combs);
/* NULL if mem is NULL or misaligned, bytes too small, or a maximum too large. */
struct comb_state *comb_state_init(void *mem, size_t bytes, uint32_t max_operands,
				   uint32_t max_combs);
struct comb_state *comb_state_new(uint32_t max_operands, uint32_t max_combs);
void comb_state_free(struct comb_state *s); /* only for comb_state_new's */
bool comb_state_fits(const struct comb_state *s, const struct comb_table *t);

/*
 * Start a scan (of one database): clears only what the last scan set.
 * Call it before every scan, also after a scan stopped early.
 */
void comb_scan_begin(struct comb_state *s);

/*
 * An operand (< t->n_operands) matched, ending at `to`; matches must come in
 * non-decreasing `to` order, as Hyperscan reports them in block mode for
 * patterns without hs_expr_info_t.unordered_matches (Hyperscan refuses
 * operands with it: `a$`, `a\b`, `a\Z`; so must tgctl).
 * When `to` differs from the previous match's, first evaluates the
 * combinations pending from the previous offset, calling report(arg, rule)
 * for each that became true (at most once per combination per scan).
 * Returns 0, or report's nonzero value if it asked to stop (then the caller
 * stops the scan; nothing more is reported until comb_scan_begin).
 */
int comb_scan_match(struct comb_state *s, const struct comb_table *t, uint32_t operand,
		    unsigned long long to, int (*report)(void *arg, uint32_t rule), void *arg);

/*
 * The end of the data (`length` bytes) of a scan of database `group`:
 * evaluates the pending combinations, then, unless length is below the
 * group's min_width, that group's eod list (combinations true with no
 * operand matched) with the final operand state, reporting as above.
 * Returns 0, or report's nonzero value if it asked to stop.
 */
int comb_scan_end(struct comb_state *s, const struct comb_table *t, uint32_t group,
		  unsigned long long length, int (*report)(void *arg, uint32_t rule), void *arg);

#endif /* TG_COMB_H */
