/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * explain.h - `tgctl explain`: the dataplane's own decision code
 * (dataplane/decide.c) run on messages from files, against a compiled
 * policy, with no running dataplane (docs/tgctl.md).
 */
#ifndef TG_EXPLAIN_H
#define TG_EXPLAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

#define EXPLAIN_MAX_FILES 64

struct explain_opts {
	const char *xml[EXPLAIN_MAX_FILES]; /* --xml FILE ("-": stdin), in order */
	unsigned n_xml;
	const char *pcap;  /* --pcap FILE */
	const char *link;  /* --link NAME: the arrival link (needed with several) */
	bool now_pcap;     /* --now pcap: each frame's capture time */
	int64_t now_ms;    /* --now T, else the wall clock (set by the caller) */
	bool json;
};

/*
 * Explain each message; prints to stdout.  Returns 0, 2 for a usage error
 * found late (an unknown --link, a file that is no message), 3 when a file
 * cannot be read or the runtime cannot be set up.
 */
int explain_run(const struct pol_policy *p, const struct explain_opts *o);

#endif /* TG_EXPLAIN_H */
