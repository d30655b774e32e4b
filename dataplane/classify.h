/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * classify.h - run a message through the policy's Hyperscan databases.
 */
#ifndef DP_CLASSIFY_H
#define DP_CLASSIFY_H

#include <stdint.h>

#include "cot_parse.h"

#define DP_MAX_AUDIT_RULES 4

struct dp_class_result {
	uint32_t classes;     /* class set; bit 0 ("other") when no classify rule matched */
	int32_t block_rule;   /* index into pol->rules of the block that fired, or -1 */
	uint8_t n_ids;
	uint32_t ids[DP_MAX_AUDIT_RULES]; /* rule ids that matched, for the audit log */
};

struct dp_worker;
struct dp_policy;

/*
 * Each returns TG_R_RELEASED (go on), TG_R_BLOCKED (a block rule matched:
 * the scan stopped there), TG_R_SCAN_ERROR or TG_R_BAD_MARKING (marking
 * too long to scan whole).
 *
 * dp_classify_early: the early scopes (TG_EARLY_SCOPES); res is reset and
 * holds the early classes (0 if none: `other` is not set yet).
 * dp_classify_late: the payload once, then each late field scope's
 * always-scanned database and, when scan_prefilter.h says so, its
 * prefiltered one (a bounded number of scans whatever the number of
 * rules); adds to res, and sets `other` if no class at all.
 * dp_classify: both, as when every peer could receive the message.
 */
int dp_classify_early(struct dp_worker *w, const struct dp_policy *pol,
		      const struct cot_event *ev, struct dp_class_result *res);
int dp_classify_late(struct dp_worker *w, const struct dp_policy *pol, const uint8_t *payload,
		     uint32_t len, const struct cot_event *ev, struct dp_class_result *res);
int dp_classify(struct dp_worker *w, const struct dp_policy *pol, const uint8_t *payload,
		uint32_t len, const struct cot_event *ev, struct dp_class_result *res);

#endif /* DP_CLASSIFY_H */
