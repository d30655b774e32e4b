/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scope_text.h - the text the `marking` rule scope is matched against
 * (docs/release.md §4): access, caveat and releasableTo joined by '\n', absent
 * ones empty.  Shared by the dataplane and tools/scan_bench.
 */
#ifndef DP_SCOPE_TEXT_H
#define DP_SCOPE_TEXT_H

#include <stdint.h>
#include <string.h>

#include "cot_parse.h"

/* Bytes written to dst, or SIZE_MAX if they do not fit in cap. */
static inline size_t
scope_marking_text(char *dst, size_t cap, const struct cot_event *ev)
{
	const struct cot_str *f[3] = {&ev->access, &ev->caveat, &ev->releasable_to};
	size_t n = 0;

	for (int i = 0; i < 3; i++) {
		if (n + f[i]->len + 1 > cap)
			return SIZE_MAX;
		if (f[i]->len)
			memcpy(dst + n, f[i]->p, f[i]->len);
		n += f[i]->len;
		if (i < 2)
			dst[n++] = '\n';
	}
	return n;
}

#endif /* DP_SCOPE_TEXT_H */
