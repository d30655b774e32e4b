/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pattern_bytes.h - which bytes a match of a Hyperscan expression can
 * contain, as a 256-bit set.
 *
 * Used for the prefiltered field rules (tg_maps.h pf_match_bytes): if the
 * bytes that entity decoding produced in a field are outside this set, no
 * match can contain them, so every match lies in text that the payload scan
 * also saw.  The answer is a superset, never a subset: anything the analysis
 * does not understand (a negated class, '.', \S, back-references, options,
 * a class escape it does not know) adds all 256 bytes.
 */
#ifndef CTL_PATTERN_BYTES_H
#define CTL_PATTERN_BYTES_H

#include <stdbool.h>
#include <stdint.h>

/* OR the bytes a match of `expr` can contain into set[4] (bit b of
 * set[b / 64] for byte b).  `caseless`: HS_FLAG_CASELESS (ASCII letters
 * match either case).  Returns false if it added all 256 bytes for want of
 * understanding the expression (set then holds every byte). */
bool pattern_bytes(const char *expr, bool caseless, uint64_t set[4]);

#endif /* CTL_PATTERN_BYTES_H */
