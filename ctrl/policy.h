/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * policy.h - tgctl's view of a policy file: load (YAML -> checked structs,
 * policy_parse.c) and compile (rules -> serialized Hyperscan databases,
 * policy_compile.c).  The format is documented in docs/policy.md.
 *
 * Every problem is reported as "file:line:col: error: what" into a
 * struct pol_errors (pol_errors.h).
 */
#ifndef TG_POLICY_H
#define TG_POLICY_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pol_errors.h"
#include "prefix.h"
#include "tg_mapset.h"
#include "tg_maps.h"
#include "tg_xdp.h"

#define POL_MAX_FILE_BYTES (64u << 20)	/* larger policy files are refused */
/* allow_sources / block_sources per link: what the XDP pre-filter holds */
#define POL_MAX_PREFIXES TG_XDP_MAX_PREFIXES
#define POL_MAX_MESSAGE_BYTES 65507	/* largest UDP payload over IPv4 */

struct pol_pos {
	uint32_t line, col;
};

struct pol_xdp {
	char iface[IF_NAMESIZE]; /* `xdp_iface`: the kernel interface the XDP pre-filter runs on */
	uint16_t n_allow, n_block;
	/* host bits zero: the loader refuses them */
	struct ctl_prefix allow[POL_MAX_PREFIXES], block[POL_MAX_PREFIXES];
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

/* set_attribute's attribute a (enum tg_san_attr) as the policy names it. */
const char *pol_san_attr_name(unsigned a);

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

/* The Hyperscan flags of a rule (never HS_FLAG_COMBINATION: combinations
 * are evaluated by the dataplane, lib/comb.h). */
unsigned int pol_hs_flags(const struct tg_rule *r);

/* Whether combination rule i is true when none of its operands matched
 * (`!5`, `1 | !2`): the dataplane then evaluates it at the end of every
 * scan of its scope, whatever the text (lib/comb.h).  True also for an
 * expression it cannot read. */
bool pol_comb_true_without_operands(const struct pol_policy *p, uint32_t i);

void pol_free(struct pol_policy *p);

/* Names of scopes and levels, as written in the policy: bpf/tg_names.h. */

/*
 * A compiled policy seen as the dataplane would read it from the maps, as
 * generation `gen`, without the maps (for dp_policy_build() in tests and
 * harnesses).  The snapshot borrows p's rules and databases: do not
 * tg_snapshot_free() it, and keep p until the snapshot is used.
 */
static inline void
pol_as_snapshot(const struct pol_policy *p, uint64_t gen, struct tg_snapshot *out)
{
	memset(out, 0, sizeof(*out));
	out->generation = gen;
	out->hdr = p->hdr;
	memcpy(out->links, p->links, sizeof(out->links));
	memcpy(out->peers, p->peers, sizeof(out->peers));
	out->rules = p->rules;
	out->hsdb = p->hsdb_blob;
	out->hsdb_len = p->hsdb_len;
}

#endif /* TG_POLICY_H */
