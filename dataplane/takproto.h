/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * takproto.h - the bounded, allocation-free decoder of TAK Protocol Version
 * 1 (protobuf) messages on the fast path (docs/release.md §2).  It is the
 * head step of a v1 message: cot_parse_head() calls it for a payload that
 * starts with 0xbf 0x01 0xbf, and cot_parse_rest() reads the detail it
 * leaves in ev->tak.
 */
#ifndef TAKPROTO_H
#define TAKPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "cot_parse.h"

/*
 * Decode `len` bytes at `p` (the whole payload, mesh header included) into
 * `ev`, which the caller has cleared.  Every field of every known message is
 * read and checked; xmlDetail is only located (ev->tak), the rest step reads
 * it.  Returns COT_OK, an error (ev->err_off: where in `p` it was found), or
 * COT_E_TAK_CONTROL for a TakControl without an event.  On an error, ev->uid
 * and ev->type are absent or this payload's last complete value, as
 * cot_parse.h promises.
 */
enum cot_err tak_decode(const uint8_t *p, size_t len, uint16_t field_limit,
			struct cot_event *ev);

#endif /* TAKPROTO_H */
