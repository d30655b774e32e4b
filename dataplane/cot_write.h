/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cot_write.h - CoT XML written from a decoded TAK Protocol v1 event: the
 * typed detail elements that become part of its detail text, and the whole
 * event for a peer with `encoding: xml` (docs/release.md §2 and §6 give the
 * exact bytes; the oracle writes the same bytes with its own code).
 */
#ifndef COT_WRITE_H
#define COT_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "cot_parse.h"

/*
 * The typed detail elements of `t` that are on the wire and not in `skip`
 * (COT_TAK_* bits: a direct child of xmlDetail with the same name), in
 * detail order, as empty XML elements at `out`, which has room for
 * COT_TAK_TYPED_MAX bytes.  Returns the number of bytes written.
 */
size_t cot_write_typed(const struct cot_tak *t, unsigned skip, char *out);

/*
 * The CoT XML document of a parsed v1 event `ev` (head and rest), its
 * detail being ev->detail, at `out` of `cap` bytes.  Returns its length, or
 * 0 if it does not fit.
 */
size_t cot_write_xml(const struct cot_event *ev, char *out, size_t cap);

/*
 * The same document with some of the event's values replaced (a sanitized
 * copy, release.md §6): each non-NULL string instead of the event's, the
 * point's lat, lon and ce, the detail text (written as is: the caller made
 * it canonical) and the `version` (NULL: "2.0", as for a v1 event).
 */
struct cot_write_over {
	const struct cot_str *version, *detail;
	const struct cot_str *access, *caveat, *releasable_to, *qos, *opex;
	double lat, lon, ce;
};
size_t cot_write_event(const struct cot_event *ev, const struct cot_write_over *ov, char *out,
		       size_t cap);

/* An attribute value escaped as the writers escape them (& < > " and tab,
 * LF, CR as character references) at out; its length, SIZE_MAX if over cap. */
size_t cot_escape_attr(const char *s, size_t n, char *out, size_t cap);

#endif /* COT_WRITE_H */
