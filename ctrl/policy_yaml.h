/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * policy_yaml.h - a policy file's YAML as a tree of our own (policy_yaml.c),
 * for the loader (policy_parse.c) to walk against the schema.
 *
 * A flat node array and one string arena, so that every node keeps its line
 * and column and the whole tree is two allocations.
 */
#ifndef TG_POLICY_YAML_H
#define TG_POLICY_YAML_H

#include <stddef.h>
#include <stdint.h>

#include "pol_errors.h"

#define Y_MAX_NODES (4u << 20) /* ~20x what TG_MAX_RULES rules need */
#define Y_MAX_DEPTH 32         /* the schema nests 5 deep */

enum ykind { Y_SCALAR = 1, Y_SEQ, Y_MAP };

struct ynode {
	uint8_t kind;
	uint8_t plain; /* unquoted scalar: may be a number, bool or null */
	uint32_t line, col; /* 1-based */
	uint32_t str, len;  /* scalar text: offset in ydoc.s, NUL-terminated */
	uint32_t first, last, next; /* children, siblings; 0 = none */
	uint32_t n;         /* number of children */
};

struct ydoc {
	struct ynode *v; /* v[0] is unused so that index 0 means "none" */
	uint32_t n, cap;
	char *s;
	size_t slen, scap;
};

/*
 * Check that buf is UTF-8 text and build its tree into *d (zeroed by the
 * caller; ydoc_free() it in every case).  Anchors, aliases, tags and a second
 * document are refused where they appear.  Returns the root node, 0 for an
 * empty document, -1 with the problem in errs (at file:line:col).
 */
int64_t ydoc_load(struct ydoc *d, const char *file, struct pol_errors *errs, const char *buf,
		  size_t len);

void ydoc_free(struct ydoc *d);

#endif /* TG_POLICY_YAML_H */
