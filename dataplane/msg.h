/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * msg.h - one message on its way through the worker (worker.c): what each
 * stage found out about it.  The audit record is built from it
 * (audit.c, dp_audit_message).
 */
#ifndef DP_MSG_H
#define DP_MSG_H

#include <stdbool.h>
#include <stdint.h>

#include "classify.h"
#include "cot_parse.h"
#include "sanitize.h"
#include "tg_maps.h"

struct dp_msg_ctx {
	uint16_t port_id;
	int link_idx;               /* -1: not known */
	int reason;                 /* message level; TG_R_RELEASED while it goes on, and
				     * at the end if peer_reason[] holds each peer's */
	enum cot_err parse_err;     /* why, when reason is TG_R_PARSE */
	enum cot_encoding enc;      /* what the payload's first bytes announce */
	const struct cot_event *ev; /* NULL until the parser ran */
	bool scanned;               /* the late scopes were scanned (release.md §5) */
	uint8_t block_control;      /* blocked by a declared control: 1 + its index */
	bool mk_ok;                 /* mk holds the resolved marking */
	struct tg_marking mk;       /* the marking as resolved (lib/marking.h) */
	struct dp_class_result cr;  /* what the scans found (none: zeroed) */
	uint32_t released;          /* peers sent to */
	uint32_t checks[3];         /* check_mismatch: peers the parser / the second
				     * check admit, unreadable */
	uint8_t peer_reason[TG_MAX_PEERS];
	/* The second check's own reading (decide.c), when it ran: the
	 * message's level, releasability over hdr.nations and the peers its
	 * controls allow; sc_ok false: it could not read the marking. */
	bool sc_ran, sc_ok;
	uint8_t sc_level;
	uint64_t sc_rel;
	uint32_t sc_allowed;
	/* Sanitized copies (release.md §6), written in dp_worker.sanbuf[]:
	 * the peers each goes to, the entries combined, whether it is TAK v1,
	 * its length (0: not written), what its second check found (enum
	 * scs_result) and its SHA-256. */
	uint8_t n_copies;
	struct dp_copy {
		uint32_t peers;
		uint16_t entries;
		uint8_t v1, fail;
		uint32_t len;
		uint8_t sha256[32];
	} copy[DP_SAN_COPIES];
};

#endif /* DP_MSG_H */
