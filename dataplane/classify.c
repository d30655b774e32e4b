/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * classify.c - Hyperscan block-mode scans of one message, in the worker's
 * own scratch (cloned when the policy was installed, never allocated here).
 * A match's Hyperscan id is its rule's index in pol->rules; combinations are
 * evaluated from their operands' matches (scan_match.h, lib/comb.h).
 *
 * The early scopes (TG_EARLY_SCOPES: short fields) are scanned for every
 * message, the late ones only when some peer can still receive it
 * (release.h).  Of the late ones the payload is scanned first; its database
 * also holds the candidates of the field scopes' prefiltered rules
 * (tg_maps.h), so a field's second database runs only when the payload scan
 * says one of its rules may match.
 */
#include "classify.h"

#include <string.h>

#include "dp.h"
#include "early_cache.h"
#include "release.h"
#include "scan_match.h"
#include "scope_text.h"

/* Scan the scopes in `scopes` (a mask), in scope order: the payload first,
 * so its candidates are known when the field scopes' prefiltered databases
 * are considered.  The match handling is scan_match.h's, with c. */
static int
classify_scopes(struct dp_worker *w, const struct dp_policy *pol, uint32_t scopes,
		const uint8_t *payload, uint32_t len, const struct cot_event *ev,
		struct scan_ctx *c)
{
	hs_scratch_t *scratch = pol->scratch[w->idx];

	for (unsigned s = 0; s < TG_SCOPE_COUNT; s++) {
		const char *data;
		size_t dlen;
		hs_error_t rc;

		if (!(scopes & (1u << s)) || (pol->db[s] == NULL && pol->db[TG_HSDB_PF(s)] == NULL))
			continue;
		switch (s) {
		case TG_SCOPE_PAYLOAD: data = (const char *)payload; dlen = len; break;
		case TG_SCOPE_TYPE: data = ev->type.p; dlen = ev->type.len; break;
		case TG_SCOPE_HOW: data = ev->how.p; dlen = ev->how.len; break;
		case TG_SCOPE_UID: data = ev->uid.p; dlen = ev->uid.len; break;
		case TG_SCOPE_CALLSIGN: data = ev->callsign.p; dlen = ev->callsign.len; break;
		case TG_SCOPE_REMARKS: data = ev->remarks.p; dlen = ev->remarks.len; break;
		case TG_SCOPE_DETAIL: data = ev->detail.p; dlen = ev->detail.len; break;
		default:
			dlen = scope_marking_text(w->fieldbuf, sizeof(w->fieldbuf), ev);
			if (dlen == SIZE_MAX)
				return TG_R_BAD_MARKING;
			data = w->fieldbuf;
			break;
		}
		if (data == NULL)
			data = "";
		for (unsigned d = s; d < TG_HSDB_REFS; d += TG_SCOPE_COUNT) {
			if (pol->db[d] == NULL)
				continue;
			if (d != s) {
				if (!prefilter_must_scan(c->seen, s, data, dlen, payload, len,
							 s == TG_SCOPE_REMARKS ? &ev->remarks_dec : NULL,
							 pol->hdr.pf_match_bytes[s])) {
					w->cnt.prefilter_skipped[s]++;
					continue;
				}
				w->cnt.prefilter_scanned[s]++;
			}
			scan_begin(c);
			rc = hs_scan(pol->db[d], data, (unsigned)dlen, 0, scratch, scan_on_match, c);
			if (rc == HS_SCAN_TERMINATED)
				return TG_R_BLOCKED;
			if (rc != HS_SUCCESS)
				return TG_R_SCAN_ERROR;
			if (scan_end(c, d, dlen))
				return TG_R_BLOCKED;
		}
	}
	return TG_R_RELEASED;
}

static inline struct scan_ctx
scan_ctx_of(struct dp_worker *w, const struct dp_policy *pol, struct dp_class_result *res)
{
	return (struct scan_ctx){
		.rules = pol->rules,
		.n_rules = pol->hdr.n_rules,
		.hits = pol->rule_hits + (size_t)w->idx * pol->hdr.n_rules,
		.res = res,
		.comb = pol->comb_words ? &pol->comb : NULL,
		.cs = pol->comb_state[w->idx],
	};
}

int
dp_classify_early(struct dp_worker *w, const struct dp_policy *pol, const struct cot_event *ev,
		  struct dp_class_result *res)
{
	struct scan_ctx c = scan_ctx_of(w, pol, res);
	struct early_verdict v;
	int got = -1, rc;

	res->classes = 0;
	res->block_rule = -1;
	res->n_ids = 0;
	if (w->early_cache != NULL) {
		got = early_cache_get(w->early_cache, pol, ev, &v);
		if (got == 1) { /* what the scans gave for these fields */
			*res = v.res;
			for (unsigned i = 0; i < v.n_hits; i++)
				c.hits[v.hit[i]]++;
			return v.rc;
		}
		if (got == 0) {
			c.rec = v.hit;
			c.rec_cap = EC_MAX_HITS;
		}
	}
	rc = classify_scopes(w, pol, TG_EARLY_SCOPES, NULL, 0, ev, &c);
	if (got == 0 && !c.rec_full && (rc == TG_R_RELEASED || rc == TG_R_BLOCKED)) {
		v.rc = rc;
		v.res = *res;
		v.n_hits = c.n_rec;
		early_cache_put(w->early_cache, &v);
	}
	return rc;
}

int
dp_classify_late(struct dp_worker *w, const struct dp_policy *pol, const uint8_t *payload,
		 uint32_t len, const struct cot_event *ev, struct dp_class_result *res)
{
	struct scan_ctx c = scan_ctx_of(w, pol, res);
	int rc = classify_scopes(w, pol, ((1u << TG_SCOPE_COUNT) - 1) & ~TG_EARLY_SCOPES, payload,
				 len, ev, &c);

	if (rc == TG_R_RELEASED && res->classes == 0)
		res->classes = DP_CLASS_OTHER;
	return rc;
}

int
dp_classify(struct dp_worker *w, const struct dp_policy *pol, const uint8_t *payload,
	    uint32_t len, const struct cot_event *ev, struct dp_class_result *res)
{
	int rc = dp_classify_early(w, pol, ev, res);

	return rc != TG_R_RELEASED ? rc : dp_classify_late(w, pol, payload, len, ev, res);
}
