/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * policy.h - tgctl's view of a policy file: load (YAML -> checked structs,
 * policy_parse.c) and compile (rules -> serialized Hyperscan databases,
 * policy_compile.c).  The format is documented in docs/policy.md.
 *
 * Every problem is reported as "file:line:col: error: what", and all of
 * them (up to POL_MAX_ERRORS) are collected rather than just the first.
 */
#ifndef TG_POLICY_H
#define TG_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tg_maps.h"

#define POL_MAX_ERRORS 64
#define POL_MAX_FILE_BYTES (64u << 20)	/* larger policy files are refused */
#define POL_MAX_PREFIXES 64		/* allow_sources / block_sources per link */
#define POL_MAX_MESSAGE_BYTES 65507	/* largest UDP payload over IPv4 */

struct pol_error {
	char file[256];
	unsigned int line, col; /* 1-based; line 0 = the file as a whole */
	char msg[512];
};

struct pol_errors {
	unsigned int n;
	unsigned int dropped; /* errors beyond POL_MAX_ERRORS, not stored */
	struct pol_error e[POL_MAX_ERRORS];
};

struct pol_prefix {
	uint8_t family; /* 4 or 6 */
	uint8_t len;
	uint8_t addr[16]; /* network order, host bits zero */
};

struct pol_pos {
	uint32_t line, col;
};

struct pol_xdp {
	char iface[16]; /* `xdp_iface`: the kernel interface the XDP pre-filter runs on */
	uint16_t n_allow, n_block;
	struct pol_prefix allow[POL_MAX_PREFIXES], block[POL_MAX_PREFIXES];
};

struct pol_policy {
	/* counts, nations, classes ("other" is 0), groups, settings, digest,
	 * source; seq/generation/published_ns zero; hsdb[] set by pol_compile */
	struct tg_slot_hdr hdr;
	struct tg_link links[TG_MAX_LINKS];
	struct tg_peer peers[TG_MAX_PEERS];
	struct tg_rule *rules;      /* hdr.n_rules, sorted by scope, then id */
	char **exprs;               /* per rule: the Hyperscan expression */
	struct pol_pos *match_pos;  /* per rule: where its `match` is */
	struct pol_xdp xdp[TG_MAX_LINKS]; /* per link: allow/block sources */
	uint32_t n_prefiltered[TG_SCOPE_COUNT]; /* after pol_compile: rules of each
						 * scope scanned only after a candidate */
	uint8_t *hsdb_blob;         /* after pol_compile: serialized databases */
	size_t hsdb_len;            /* at 8-byte aligned offsets, see hdr.hsdb */
};

/* Parse and check a policy file.  0 ok (*out to pol_free), -1 with errs. */
int pol_load_file(const char *path, struct pol_policy **out, struct pol_errors *errs);

/* The same from memory; `name` is used in errors and hdr.source. */
int pol_load_buffer(const char *name, const char *buf, size_t len,
		    struct pol_policy **out, struct pol_errors *errs);

/*
 * Compile the rules: Hyperscan block mode, the databases of tg_maps.h
 * (TG_HSDB_REFS: per scope, the long field scopes' context-free rules
 * prefiltered by candidates in the payload database), serialized into
 * p->hsdb_blob (offsets in p->hdr.hsdb).  Rules that Hyperscan rejects are
 * reported at their `match` with Hyperscan's message.  0 ok, -1 with errs.
 */
int pol_compile(struct pol_policy *p, struct pol_errors *errs);

/* Field scopes whose rules may be prefiltered: the long texts that are byte
 * ranges of the payload.  The short attribute scopes cost one cheap scan. */
#define POL_PREFILTER_SCOPES ((1u << TG_SCOPE_REMARKS) | (1u << TG_SCOPE_DETAIL))

/* The same with the prefilter on or off (off: one database per scope, the
 * reference layout tests compare the prefiltered one with). */
int pol_compile_layout(struct pol_policy *p, struct pol_errors *errs, bool prefilter);

void pol_free(struct pol_policy *p);

/* One "file:line:col: error: msg" line per error. */
void pol_errors_print(const struct pol_errors *errs, FILE *f);

/* Append an error (printf format); used by the loader and by tgctl. */
void pol_error_add(struct pol_errors *errs, const char *file, unsigned int line,
		   unsigned int col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Order errors[from..] by line and column (stable). */
void pol_errors_sort(struct pol_errors *errs, unsigned int from);

/* Names of scopes and levels, as written in the policy: bpf/tg_names.h. */

#endif /* TG_POLICY_H */
