/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * audit.h - one JSON line per decision that dropped, blocked or released a
 * message.  Workers fill fixed-size records taken from a mempool and enqueue
 * them on an rte_ring; a writer thread formats and writes them.  A worker
 * never waits: no record or a full ring is counted as audit_lost.
 */
#ifndef DP_AUDIT_H
#define DP_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "classify.h"
#include "cot_parse.h"
#include "tg_maps.h"

struct dp_audit_rec {
	uint64_t ts_ns;       /* CLOCK_REALTIME */
	uint64_t generation;  /* policy the decision was made under, 0 = none */
	uint32_t released;    /* peer index bitmask */
	uint8_t link_idx;     /* 0xff: unknown */
	uint8_t reason;       /* message-level reason, or TG_R_RELEASED */
	uint8_t parse_err;    /* enum cot_err when reason == parse */
	uint8_t n_ids;
	uint8_t n_peers;
	uint8_t pad[3];
	uint16_t port_id;
	uint8_t check_failed;        /* the second check could not read the marking */
	uint32_t check_parser;       /* peers the parser's marking admits */
	uint32_t check_independent;  /* peers the second check's marking admits */
	uint32_t ids[DP_MAX_AUDIT_RULES];
	uint8_t peer_reason[TG_MAX_PEERS];
	char uid[96];
	char type[48];
	char marking[160];
};

struct dp_worker;
struct dp_policy;

/* Does the configured level want a record for this outcome? */
bool dp_audit_wants(bool released_any, bool message_level_drop);
/* A zeroed record, or NULL (counted as lost). */
struct dp_audit_rec *dp_audit_get(struct dp_worker *w);
/* Hand a filled record to the writer; never blocks. */
void dp_audit_put(struct dp_worker *w, struct dp_audit_rec *r);
/*
 * Record one decision (if the audit level wants it): the message-level
 * reason or TG_R_RELEASED, the rules that matched, the peers released to and
 * why the others were not, and what the event says of itself.  `ev` is the
 * parsed event or NULL when parsing was not reached; on a parse drop
 * parse_err says why (and ev holds what the parser got to).
 */
void dp_audit_message(struct dp_worker *w, const struct dp_policy *pol, uint16_t port_id,
		      int link_idx, int reason, const struct dp_class_result *cr,
		      uint32_t released, const uint8_t *peer_reason, const struct cot_event *ev,
		      enum cot_err parse_err, uint64_t now_ns, const uint32_t *checks);
/* Remember peer/link names of a generation for the writer (control thread). */
void dp_audit_note_policy(const struct dp_policy *p);

#endif /* DP_AUDIT_H */
