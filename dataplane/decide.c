/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * decide.c - one message's decision (decide.h; docs/release.md §5, §6).
 * The worker's per-message work without the frames: worker.c parses the
 * frame, calls dp_decide() and forwards; `tgctl explain` calls the same
 * function on a message from a file.
 */
#include "decide.h"

#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>
#include <rte_cycles.h>

#include "classify.h"
#include "cot_write.h"
#include "dp.h"
#include "marking_cache.h"
#include "release.h"
#include "sanitize.h"
#include "sanitize_check.h"
#include "second_check.h"

static inline uint64_t
stage_tsc(void)
{
	return dp_cfg.stage_cycles ? rte_rdtsc() : 0;
}

/* A message that did not parse (cot_parse_head or cot_parse_rest): counted
 * by the parser's error. */
static inline void
parse_failed(struct dp_worker *w, struct dp_msg_ctx *c, enum cot_err ce)
{
	w->cnt.parse_err[ce < COT_E_COUNT ? ce : 0]++;
	c->reason = TG_R_PARSE;
	c->parse_err = ce;
}

int
dp_admit(const struct dp_policy *pol, const struct tg_link *link, enum cot_encoding enc,
	 uint32_t len)
{
	if (len > pol->hdr.max_message_bytes)
		return TG_R_TOO_BIG;
	if (!(link->encodings & (1u << enc)))
		return TG_R_ENCODING;
	return TG_R_RELEASED;
}

/*
 * The peers the marking and the link admit, of them those that can still
 * receive the message; only if there is one, the rest of the document is
 * parsed and the late scopes scanned; then each of those peers' final
 * answer.  Returns the peers to send to, 0 with c->reason set if the rest
 * did not parse or the late scan blocked the message.  Adds the time it
 * parsed and scanned to *parse_cycles and *scan_cycles.
 */
static inline uint32_t
decide_peers(struct dp_worker *w, const struct dp_policy *pol, struct dp_msg_ctx *c,
	     const uint8_t *pl, uint32_t len, uint64_t *parse_cycles, uint64_t *scan_cycles)
{
	const struct tg_marking *mk = &c->mk;
	enum cot_err ce;
	struct dp_msg msg = {
		.link_idx = c->link_idx,
		.port_id = c->port_id,
		.classes = c->cr.classes,
		.level = mk->level,
		.peer_deny = ~mk->peer_mask,
		.rel_mask = mk->rel_mask,
	};
	uint32_t possible = 0, send = 0;
	uint64_t ts;
	int rc;

	for (unsigned pi = 0; pi < pol->hdr.n_peers; pi++) {
		enum tg_reason r = release_marking(&pol->peers[pi], pol->peer_port[pi], &msg);

		if (r == TG_R_RELEASED) {
			if (release_possible(&pol->peers[pi], c->cr.classes, pol->late_classes))
				possible |= 1u << pi;
			else
				r = TG_R_CLASS;
		}
		c->peer_reason[pi] = (uint8_t)r;
	}
	if (possible == 0) {
		w->cnt.scan_skipped++; /* withheld before the scan */
		return 0;
	}
	ts = stage_tsc();
	ce = cot_parse_rest(&w->cursor);
	*parse_cycles += stage_tsc() - ts;
	if (ce != COT_OK) {
		parse_failed(w, c, ce);
		return 0;
	}
	ts = stage_tsc();
	rc = dp_classify_late(w, pol, pl, len, c->ev, &c->cr);
	*scan_cycles += stage_tsc() - ts;
	c->scanned = true;
	if (rc != TG_R_RELEASED) {
		c->reason = rc;
		return 0;
	}
	msg.classes = c->cr.classes;
	for (unsigned pi = 0; pi < pol->hdr.n_peers; pi++) {
		if (!(possible & (1u << pi)))
			continue;
		c->peer_reason[pi] = (uint8_t)release_decide(&pol->peers[pi], pol->peer_port[pi],
							     &msg);
		if (c->peer_reason[pi] == TG_R_RELEASED)
			send |= 1u << pi;
	}
	return send;
}

/* The second check's reading of the bytes at p: into c->sc_* and the
 * peers it admits (0 when it cannot read the marking). */
static uint32_t
sc_read(const struct dp_policy *pol, const struct tg_link *link, struct dp_msg_ctx *c,
	const uint8_t *p, size_t len)
{
	c->sc_ran = true;
	c->sc_ok = sc_derive(p, len, &pol->hdr,
			     link->has_default_marking ? &link->default_marking : NULL,
			     &c->sc_level, &c->sc_rel, &c->sc_allowed);
	return c->sc_ok ? sc_peer_mask(pol->peers, pol->hdr.n_peers, c->sc_level, c->sc_rel,
				       c->sc_allowed)
			: 0;
}

/* The independent second check, before anything is queued for TX: the two
 * mechanisms must agree on which peers the marking admits.  False (and
 * c->reason set) if they do not. */
static inline bool
second_check(const struct dp_policy *pol, struct dp_msg_ctx *c, const struct tg_link *link,
	     const uint8_t *pl, uint32_t len)
{
	const struct tg_marking *mk = &c->mk;

	c->checks[0] = sc_peer_mask(pol->peers, pol->hdr.n_peers, mk->level, mk->rel_mask,
				    mk->blocked ? 0 : mk->peer_mask);
	c->checks[1] = sc_read(pol, link, c, pl, len);
	c->checks[2] = !c->sc_ok;
	if (c->sc_ok && c->checks[0] == c->checks[1])
		return true;
	c->reason = TG_R_CHECK_MISMATCH;
	return false;
}

/* The XML a peer with `encoding: xml` gets for a v1 message (release.md
 * §6), written once per message into w->xmlbuf and read again by the
 * second check like the message itself.  Its length, or 0: TG_R_CONVERT
 * for those peers if it does not fit, or c->reason TG_R_CHECK_MISMATCH
 * (message level) if the second check reads another marking in it. */
static uint32_t
convert_xml(struct dp_worker *w, const struct dp_policy *pol, struct dp_msg_ctx *c,
	    const struct tg_link *link)
{
	size_t n = cot_write_xml(&w->ev, w->xmlbuf, sizeof(w->xmlbuf));

	if (n == 0)
		return 0;
	if (dp_cfg.second_check) {
		bool ok;
		uint8_t lvl;
		uint64_t rel;
		uint32_t allowed, m2;

		ok = sc_derive((const uint8_t *)w->xmlbuf, n, &pol->hdr,
			       link->has_default_marking ? &link->default_marking : NULL, &lvl,
			       &rel, &allowed);
		m2 = ok ? sc_peer_mask(pol->peers, pol->hdr.n_peers, lvl, rel, allowed) : 0;
		if (!ok || m2 != c->checks[0]) {
			c->checks[1] = m2;
			c->checks[2] = !ok;
			c->reason = TG_R_CHECK_MISMATCH;
			return 0;
		}
	}
	return (uint32_t)n;
}

/* SHA-256 of a copy, for its audit record (all zero if OpenSSL cannot
 * give one). */
static EVP_MD *sha256_md; /* fetched once: an implicit fetch per call costs */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void
sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static void
digest(const void *p, size_t n, uint8_t out[32])
{
	unsigned len = 0;

	pthread_once(&sha256_once, sha256_fetch);
	if (EVP_Digest(p, n, out, &len, sha256_md ? sha256_md : EVP_sha256(), NULL) != 1 ||
	    len != 32)
		memset(out, 0, 32);
}

/*
 * The sanitized copies (release.md §6) for the peers in *send whose
 * entries apply to the message's final classes: one per distinct (entries,
 * encoding), written into w->sanbuf[], then confirmed by the second check
 * (sanitize_check.c).  Peers whose copy could not be written or was not
 * confirmed leave *send with TG_R_SANITIZE or TG_R_SANITIZE_CHECK; the
 * others' copy is in c->copy[].  Returns the peers that get a copy (they do
 * not get the payload nor the plain XML conversion).
 */
static uint32_t
sanitize_copies(struct dp_worker *w, const struct dp_policy *pol, struct dp_msg_ctx *c,
		const struct tg_link *link, const uint8_t *pl, uint32_t len, uint32_t *send)
{
	uint32_t sanitized = 0;

	c->n_copies = 0;
	for (unsigned pi = 0; *send >> pi; pi++) {
		const struct tg_peer *pe = &pol->peers[pi];
		uint16_t e;
		uint8_t v1;
		unsigned g;

		if (!((*send >> pi) & 1) || pe->sanitize == 0)
			continue;
		e = san_applies(&pol->hdr, pe->sanitize, c->cr.classes);
		if (e == 0)
			continue;
		v1 = w->ev.encoding == COT_ENC_TAKV1 && pe->encoding != TG_PEER_ENC_XML;
		for (g = 0; g < c->n_copies; g++)
			if (c->copy[g].entries == e && c->copy[g].v1 == v1)
				break;
		sanitized |= 1u << pi;
		if (g == DP_SAN_COPIES) { /* more distinct step sets than buffers */
			c->peer_reason[pi] = TG_R_SANITIZE;
			*send &= ~(1u << pi);
			continue;
		}
		if (g == c->n_copies) {
			memset(&c->copy[g], 0, sizeof(c->copy[g]));
			c->copy[g].entries = e;
			c->copy[g].v1 = v1;
			c->n_copies++;
		}
		c->copy[g].peers |= 1u << pi;
	}
	for (unsigned g = 0; g < c->n_copies; g++) {
		struct dp_copy *cp = &c->copy[g];
		struct san_steps st;
		size_t n;
		int why = 0;

		san_combine(&pol->hdr, cp->entries, &st);
		n = san_write(&w->ev, &st, cp->v1, w->san_detail, sizeof(w->san_detail),
			      w->sanbuf[g], sizeof(w->sanbuf[g]));
		if (n == 0)
			why = TG_R_SANITIZE;
		else if (dp_cfg.second_check) {
			cp->fail = (uint8_t)sc_check_copy(
				pl, len, (const uint8_t *)w->sanbuf[g], n, &pol->hdr, pol->peers,
				link->has_default_marking ? &link->default_marking : NULL,
				cp->entries, cp->peers, c->checks[0], w->scs_scratch);
			if (cp->fail != SCS_OK)
				why = TG_R_SANITIZE_CHECK;
		}
		if (why) {
			for (unsigned pi = 0; cp->peers >> pi; pi++)
				if ((cp->peers >> pi) & 1)
					c->peer_reason[pi] = (uint8_t)why;
			*send &= ~cp->peers;
			continue;
		}
		cp->len = (uint32_t)n;
		digest(w->sanbuf[g], n, cp->sha256);
	}
	return sanitized;
}

void
dp_decide(struct dp_worker *w, const struct dp_policy *pol, const struct tg_link *link,
	  struct dp_msg_ctx *c, const uint8_t *pl, uint32_t len, int64_t now_ms,
	  struct dp_decided *out)
{
	const struct cot_event *ev = &w->ev;
	uint64_t t0, t1, t2, t3, tscan, tparse = 0;
	enum cot_err ce;
	uint32_t send;
	int rc;

	out->send = out->to_xml = out->xml_len = out->sanitized = 0;
	c->reason = TG_R_RELEASED;
	c->n_copies = 0;

	/* The event's start tag, and the marking (the rest of the document
	 * only if some peer can still receive it: decide_peers()).
	 * cot_parse_head() clears the event first, also for no bytes: the
	 * audit record of a drop never shows the previous message's uid. */
	t0 = stage_tsc();
	ce = cot_parse_head_lim(pl, len, &pol->limits, &w->ev, &w->cursor);
	c->ev = ev;
	if (ce != COT_OK) {
		if (ce == COT_E_TAK_CONTROL)
			c->reason = TG_R_TAK_CONTROL; /* between mesh neighbours: not relayed */
		else
			parse_failed(w, c, ce);
		return;
	}
	if (!(pol->hdr.flags & TG_PF_IGNORE_STALE) &&
	    ev->stale_ms + (int64_t)pol->hdr.stale_tolerance_s * 1000 < now_ms) {
		c->reason = TG_R_STALE;
		return;
	}
	if (mk_cache_resolve(w->mk_cache, pol, pol->generation, (unsigned)c->link_idx,
			     ev->access.p, ev->access.len, ev->caveat.p, ev->caveat.len,
			     ev->releasable_to.p, ev->releasable_to.len,
			     link->has_default_marking ? &link->default_marking : NULL, &pol->hdr,
			     &c->mk) < 0) {
		c->reason = TG_R_BAD_MARKING;
		return;
	}
	c->mk_ok = true;
	if (c->mk.blocked) {
		/* A declared `block` control: nobody, before any rule is
		 * scanned (release.md §3, §5 step 2). */
		c->reason = TG_R_BLOCKED;
		c->block_control = c->mk.blocked;
		return;
	}

	/* The early scopes, then each peer (with the late scan if some peer
	 * can still receive the message). */
	t1 = stage_tsc();
	rc = dp_classify_early(w, pol, ev, &c->cr);
	tscan = stage_tsc() - t1;
	if (rc != TG_R_RELEASED) {
		c->reason = rc;
		return;
	}
	send = decide_peers(w, pol, c, pl, len, &tparse, &tscan);
	t2 = stage_tsc();
	if (c->reason != TG_R_RELEASED)
		return;

	/* Only a release needs the second opinion. */
	if (send != 0 && dp_cfg.second_check && !second_check(pol, c, link, pl, len))
		return;
	/* Peers with sanitize steps that apply get their copy (written and
	 * checked here); then a v1 message for the other peers that want XML:
	 * converted once, checked again, before anything is sent. */
	if (send != 0 && pol->hdr.n_sanitize != 0)
		out->sanitized = sanitize_copies(w, pol, c, link, pl, len, &send);
	if (ev->encoding == COT_ENC_TAKV1)
		for (unsigned pi = 0; send >> pi; pi++)
			if ((send & (1u << pi)) && !((out->sanitized >> pi) & 1) &&
			    pol->peers[pi].encoding == TG_PEER_ENC_XML)
				out->to_xml |= 1u << pi;
	if (out->to_xml) {
		out->xml_len = convert_xml(w, pol, c, link);
		if (c->reason != TG_R_RELEASED) {
			out->to_xml = 0;
			return;
		}
		if (out->xml_len == 0) {
			for (unsigned pi = 0; out->to_xml >> pi; pi++)
				if (out->to_xml & (1u << pi))
					c->peer_reason[pi] = TG_R_CONVERT;
			send &= ~out->to_xml;
			out->to_xml = 0;
		}
	}
	t3 = stage_tsc();
	out->send = send;
	out->cycles[0] = t1 - t0 + tparse;
	out->cycles[1] = tscan;
	out->cycles[2] = t2 - t1 - tscan - tparse;
	out->cycles[3] = t3 - t2;
}
