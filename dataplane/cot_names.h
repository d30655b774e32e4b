/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cot_names.h - the stable names of the CoT parser's errors (enum cot_err),
 * as they appear in cot_err_name(), the parse_err counters (tg_stats,
 * `tgctl stats`, telemetry) and the audit log.  A header of its own so that
 * tgctl, which does not link the parser, prints the same names.  Changing
 * one breaks users' dashboards: add, do not rename.
 */
#ifndef COT_NAMES_H
#define COT_NAMES_H

#include "cot_parse.h"

static inline const char *
cot_err_str(unsigned e)
{
	static const char *const names[COT_E_COUNT] = {
		[COT_OK] = "ok",
		[COT_E_EMPTY] = "empty",
		[COT_E_NOT_XML] = "not_xml",
		[COT_E_MALFORMED] = "malformed",
		[COT_E_DUP_ATTR] = "dup_attr",
		[COT_E_MISSING] = "missing",
		[COT_E_RANGE] = "range",
		[COT_E_DOCTYPE] = "doctype",
		[COT_E_OVERSIZE] = "oversize",
		[COT_E_BAD_TIME] = "bad_time",
		[COT_E_REL_CONFLICT] = "rel_conflict",
		[COT_E_TAK_VERSION] = "tak_version",
		[COT_E_DEPTH] = "depth",
		[COT_E_DUP_ELEM] = "dup_elem",
		[COT_E_BAD_NUMBER] = "bad_number",
		[COT_E_PROTOBUF] = "protobuf",
		[COT_E_WIRE_TYPE] = "wire_type",
		[COT_E_DUP_MARKING] = "dup_marking",
		[COT_E_TAK_CONTROL] = "tak_control",
		[COT_E_FIELD_LIMIT] = "field_limit",
		[COT_E_REMARKS_LIMIT] = "remarks_limit",
	};

	return e < COT_E_COUNT && names[e] ? names[e] : "unknown";
}

/* The name of parse error counter e (tg_stats.parse_err[e]): the dataplane
 * counts a code out of range in counter 0, so that one is "unknown". */
static inline const char *
cot_err_counter_name(unsigned e)
{
	return e == COT_OK ? "unknown" : cot_err_str(e);
}

#endif /* COT_NAMES_H */
