/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tg_names.h - the stable names of tg_maps.h's enums, as they appear in
 * counters, JSON, telemetry and the audit log.  Changing one breaks users'
 * dashboards: add, do not rename.
 */
#ifndef TG_NAMES_H
#define TG_NAMES_H

#include "tg_maps.h"

static inline const char *
tg_reason_name(unsigned r)
{
	static const char *const names[TG_R_COUNT] = {
		[TG_R_RELEASED] = "released",
		[TG_R_NOT_TRACK] = "not_track",
		[TG_R_NO_LINK] = "no_link",
		[TG_R_BAD_L2L3] = "bad_l2l3",
		[TG_R_BAD_CHECKSUM] = "bad_checksum",
		[TG_R_FRAG_TIMEOUT] = "frag_timeout",
		[TG_R_FRAG_ERROR] = "frag_error",
		[TG_R_FRAG_TABLE_FULL] = "frag_table_full",
		[TG_R_FRAG_OVERLAP] = "frag_overlap",
		[TG_R_FRAG_BAD_LENGTH] = "frag_bad_length",
		[TG_R_FRAG_UNFINISHED] = "frag_unfinished",
		[TG_R_TOO_BIG] = "too_big",
		[TG_R_NO_POLICY] = "no_policy",
		[TG_R_PARSE] = "parse",
		[TG_R_STALE] = "stale",
		[TG_R_BAD_MARKING] = "bad_marking",
		[TG_R_BLOCKED] = "blocked",
		[TG_R_SCAN_ERROR] = "scan_error",
		[TG_R_CHECK_MISMATCH] = "check_mismatch",
		[TG_R_ENCODING] = "encoding",
		[TG_R_TAK_CONTROL] = "tak_control",
		[TG_R_CLASS] = "class",
		[TG_R_CLEARANCE] = "clearance",
		[TG_R_NOT_RELEASABLE] = "not_releasable",
		[TG_R_ECHO] = "echo",
		[TG_R_PEER_DOWN] = "peer_down",
		[TG_R_TX_FULL] = "tx_full",
		[TG_R_NO_MBUF] = "no_mbuf",
		[TG_R_TX_INVALID] = "tx_invalid",
		[TG_R_CONVERT] = "convert",
		[TG_R_SANITIZE] = "sanitize",
		[TG_R_SANITIZE_CHECK] = "sanitize_check",
	};
	return r < TG_R_COUNT && names[r] ? names[r] : "unknown";
}

/* Encodings, in enum cot_encoding order: policy keys and counter names. */
static inline const char *
tg_encoding_name(unsigned e)
{
	return e == 0 ? "xml" : e == 1 ? "takproto-v1" : "unknown";
}

static inline const char *
tg_level_name(unsigned l)
{
	switch (l) {
	case TG_LVL_UNCLASSIFIED: return "UNCLASSIFIED";
	case TG_LVL_CONFIDENTIAL: return "CONFIDENTIAL";
	case TG_LVL_SECRET: return "SECRET";
	case TG_LVL_TOP_SECRET: return "TOP SECRET";
	default: return "NONE";
	}
}

static inline const char *
tg_scope_name(unsigned s)
{
	static const char *const names[TG_SCOPE_COUNT] = {
		"payload", "type", "how", "uid", "callsign", "remarks", "detail", "marking",
	};
	return s < TG_SCOPE_COUNT ? names[s] : "unknown";
}

#endif /* TG_NAMES_H */
