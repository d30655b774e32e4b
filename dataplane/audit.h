/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * audit.h - one JSON line per decision that dropped, blocked or released a
 * message.  Workers fill fixed-size records taken from a mempool and enqueue
 * them on an rte_ring; a writer thread formats and writes them.  A worker
 * never waits: no record or a full ring is counted as audit_lost, and so is
 * every record the writer could not write whole (a full disk, an I/O error,
 * a log that could not be reopened): dp_audit_lost() adds those.
 *
 * The writer writes whole lines only: a record is formatted into a buffer
 * first, and if the file takes only part of a write, the partial line is
 * cut off again (ftruncate), so the log never ends mid-record.  SIGHUP asks
 * it to reopen the log between two records (logrotate).
 */
#ifndef DP_AUDIT_H
#define DP_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "classify.h"
#include "cot_parse.h"
#include "sanitize.h"
#include "tg_maps.h"

/* The event's strings an audit record keeps, each cut to a fixed size
 * (at a UTF-8 character boundary); the record says when one was cut. */
enum dp_audit_str {
	DP_AS_UID,
	DP_AS_TYPE,
	DP_AS_ACCESS,
	DP_AS_CAVEAT,
	DP_AS_REL,       /* releasableTo (or TAK's releaseableTo) */
	DP_AS_COUNT
};
#define DP_AUDIT_UID_MAX 128
#define DP_AUDIT_TYPE_MAX 64
#define DP_AUDIT_ACCESS_MAX TG_MARKING_MAX
#define DP_AUDIT_CAVEAT_MAX 64
#define DP_AUDIT_REL_MAX TG_MARKING_MAX
_Static_assert(DP_AUDIT_UID_MAX <= UINT8_MAX && DP_AUDIT_TYPE_MAX <= UINT8_MAX &&
		       DP_AUDIT_ACCESS_MAX <= UINT8_MAX && DP_AUDIT_CAVEAT_MAX <= UINT8_MAX &&
		       DP_AUDIT_REL_MAX <= UINT8_MAX,
	       "dp_audit_strlen.len holds a kept length");

enum dp_audit_kind {
	DP_AUDIT_DECISION = 0, /* one message's decision */
	DP_AUDIT_SUMMARY,      /* `count` packets dropped for `reason` since `since_ns` */
};

struct dp_audit_strlen {
	uint16_t wire;  /* length on the wire (decoded); 0 when absent */
	uint8_t len;    /* bytes kept in the record */
	uint8_t present;
};

struct dp_audit_rec {
	uint64_t ts_ns;       /* CLOCK_REALTIME */
	uint64_t generation;  /* policy the decision was made under, 0 = none */
	uint64_t count;       /* DP_AUDIT_SUMMARY: packets */
	uint64_t since_ns;    /* DP_AUDIT_SUMMARY: start of the interval */
	uint32_t released;    /* peer index bitmask */
	uint32_t check_parser;       /* peers the parser's marking admits */
	uint32_t check_independent;  /* peers the second check's marking admits */
	uint16_t port_id;
	uint16_t err_off;     /* parse drops: where the parser stopped */
	uint8_t kind;         /* enum dp_audit_kind */
	uint8_t link_idx;     /* 0xff: unknown */
	uint8_t reason;       /* message-level reason, or TG_R_RELEASED */
	uint8_t parse_err;    /* enum cot_err when reason == parse */
	uint8_t n_ids;
	uint8_t n_peers;
	uint8_t check_failed;        /* the second check could not read the marking */
	uint8_t scanned;      /* the late scopes were scanned (release.md §5) */
	uint8_t encoding;     /* enum cot_encoding */
	char control[TG_NAME_MAX]; /* blocked by this declared control ("" : not) */
	uint8_t n_copies;     /* sanitized copies (release.md §6) */
	struct dp_audit_copy {
		uint32_t peers;
		uint16_t entries;
		uint8_t v1, fail; /* fail: enum scs_result */
		uint32_t len;     /* 0: not sent (see peer_reason) */
		uint8_t sha256[32];
	} copy[DP_SAN_COPIES];
	uint32_t ids[DP_MAX_AUDIT_RULES];
	uint8_t peer_reason[TG_MAX_PEERS];
	struct dp_audit_strlen str[DP_AS_COUNT];
	/* Not cleared when a record is taken: str[] says how much is valid. */
	char uid[DP_AUDIT_UID_MAX];
	char type[DP_AUDIT_TYPE_MAX];
	char access[DP_AUDIT_ACCESS_MAX];
	char caveat[DP_AUDIT_CAVEAT_MAX];
	char releasable_to[DP_AUDIT_REL_MAX];
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
 * Record one message's outcome (if the audit level wants it), from what the
 * worker found out (msg.h): the message-level reason or TG_R_RELEASED, the
 * rules that matched, whether the late scopes were scanned, the peers
 * released to and why the others were not, the second check's view when it
 * disagreed, and what the event says of itself.
 */
struct dp_msg_ctx;
void dp_audit_message(struct dp_worker *w, const struct dp_policy *pol,
		      const struct dp_msg_ctx *c, uint64_t now_ns);
/* The same record, filled into r (zeroed by the caller), whatever the
 * audit level: what dp_audit_message() enqueues, and what `tgctl explain`
 * prints. */
void dp_audit_fill(struct dp_audit_rec *r, const struct dp_policy *pol,
		   const struct dp_msg_ctx *c, uint64_t now_ns);
/* A decision record as the log's JSON object (names of the generation
 * dp_audit_note_policy() was told about). */
json_t *dp_audit_json(const struct dp_audit_rec *r);
/* Remember peer/link names of a generation for the writer (control thread). */
void dp_audit_note_policy(const struct dp_policy *p);
/*
 * A summary record (control thread): `count` packets dropped for `reason`
 * (TG_R_NO_POLICY) between since_ns and now_ns, written as one line.  Not
 * through the workers' ring: it never makes a worker wait.  Returns 0, or
 * -1 when no audit log is written (or the record was counted as lost).
 */
int dp_audit_summary(int reason, uint64_t count, uint64_t since_ns, uint64_t now_ns);
/*
 * Wait (at most timeout_ms) until every record enqueued before the call is
 * written or counted as lost, and written records are in the file.  For the
 * final counters, once the workers stopped; never from a worker.
 */
void dp_audit_sync(unsigned timeout_ms);
/* Records the writer could not write, and summaries that found no room:
 * the part of audit_lost that no worker counts. */
uint64_t dp_audit_lost(void);
/* Ask the writer to reopen the log (async-signal-safe: sets a flag). */
void dp_audit_request_reopen(void);

/* Open the log, create the ring and pool, start the writer thread (nothing
 * without --audit or with --audit-level off).  0 or -1 (logged). */
int dp_audit_start(void);
/* Drain what is queued, stop the writer, close the log. */
void dp_audit_stop(void);

#endif /* DP_AUDIT_H */
