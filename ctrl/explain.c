/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * explain.c - `tgctl explain`: why was (or wasn't) this released?
 *
 * The compiled policy is built into the dataplane's own runtime form
 * (dp_policy_build_core) and each message goes through the dataplane's own
 * decision (dp_decide, dataplane/decide.c): parser, marking resolution,
 * controls, scans, per-peer steps, second check, XML conversion.  Nothing
 * of the decision is written again here; this file only feeds it and
 * prints what it found.  The printed record is the audit log's
 * (dp_audit_fill/dp_audit_json) with what the log leaves out added: every
 * rule that matched, the marking as resolved, the second check's reading.
 *
 * --xml FILE: one UDP payload per file, of either encoding (the first
 * bytes decide, as on the wire).  --pcap FILE: each frame goes through the
 * dataplane's frame parser and IP reassembly (pkt_parse.c, reassembly.c)
 * on mbufs of an EAL started in this process (no hugepages, no devices,
 * nothing shared), as if the frames arrived back to back on the link.
 *
 * What explain cannot know: whether a peer's device is up and its TX
 * queue has room (it assumes so), and whether the dataplane runs with
 * --no-second-check (it assumes not).
 */
#include "explain.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <pcap/pcap.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include "dataplane/audit.h"
#include "dataplane/cot_names.h"
#include "dataplane/decide.h"
#include "dataplane/dp.h"
#include "dataplane/pkt_parse.h"
#include "dataplane/policy_swap.h"
#include "dataplane/reassembly.h"
#include "dataplane/second_check.h"
#include "tg_names.h"

#define EXPLAIN_POOL_MBUFS 8191

struct explain {
	const struct explain_opts *o;
	struct dp_policy *pol;
	struct dp_worker *w;
	int link;          /* index of the arrival link */
	uint16_t port_id;  /* its port id (dp_policy_bind_offline) */
	uint64_t *hits;    /* rule_hits before the message */
	unsigned n_msgs, n_released, n_withheld, n_dropped;
	unsigned n_frames, n_frame_drops, n_fragments;
};

/* ---- printing ---- */

static json_t *
nation_list(const struct dp_policy *pol, uint64_t mask)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < pol->hdr.n_nations && i < TG_MAX_NATIONS; i++)
		if (mask & (UINT64_C(1) << i))
			json_array_append_new(a, json_stringn(pol->hdr.nations[i],
							      strnlen(pol->hdr.nations[i], 4)));
	return a;
}

static json_t *
peer_list(const struct dp_policy *pol, uint32_t mask)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < pol->hdr.n_peers; i++)
		if (mask & (1u << i))
			json_array_append_new(a, json_stringn(pol->peers[i].name,
							      strnlen(pol->peers[i].name,
								      TG_NAME_MAX)));
	return a;
}

static json_t *
marking_json(const struct dp_policy *pol, const struct dp_msg_ctx *c)
{
	const struct tg_marking *mk = &c->mk;
	json_t *ctl;

	if (!c->mk_ok)
		return json_null();
	ctl = json_array();
	for (unsigned i = 0; i < pol->hdr.n_controls && i < TG_MAX_CONTROLS; i++)
		if (mk->controls & (UINT64_C(1) << i))
			json_array_append_new(ctl, json_stringn(pol->hdr.controls[i].name,
								strnlen(pol->hdr.controls[i].name,
									TG_NAME_MAX)));
	return json_pack("{s:s, s:o, s:b, s:b, s:o, s:o}", "level", tg_level_name(mk->level),
			 "releasable_to", nation_list(pol, mk->rel_mask), "rel_to_list",
			 mk->has_rel != 0, "noforn", mk->noforn != 0, "controls", ctl,
			 "control_peers",
			 mk->peer_mask == UINT32_MAX ? json_null()
						     : peer_list(pol, mk->peer_mask));
}

static const char *
action_name(unsigned a)
{
	return a == TG_ACT_CLASSIFY ? "classify" : a == TG_ACT_BLOCK ? "block" : "operand";
}

/* Every rule the message's scans matched, with its number of matches
 * (the audit record keeps the first DP_MAX_AUDIT_RULES ids). */
static json_t *
rules_json(const struct explain *x)
{
	const struct dp_policy *pol = x->pol;
	json_t *a = json_array();

	for (uint32_t i = 0; i < pol->hdr.n_rules; i++) {
		const struct tg_rule *r = &pol->rules[i];
		uint64_t n = pol->rule_hits[i] - x->hits[i];
		json_t *o;

		if (n == 0)
			continue;
		o = json_pack("{s:I, s:s%, s:s, s:s, s:I}", "id", (json_int_t)r->id, "name",
			      r->name, strnlen(r->name, TG_NAME_MAX), "scope",
			      tg_scope_name(r->scope), "action", action_name(r->action), "hits",
			      (json_int_t)n);
		if (r->action == TG_ACT_CLASSIFY && r->class_idx < pol->hdr.n_classes)
			json_object_set_new(o, "class",
					    json_stringn(pol->hdr.classes[r->class_idx],
							 strnlen(pol->hdr.classes[r->class_idx],
								 TG_NAME_MAX)));
		if (r->action == TG_ACT_BLOCK)
			json_object_set_new(o, "block_reason",
					    json_stringn(r->reason, strnlen(r->reason, TG_NAME_MAX)));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *
classes_json(const struct dp_policy *pol, uint32_t classes)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < pol->hdr.n_classes && i < 32; i++)
		if (classes & (1u << i))
			json_array_append_new(a, json_stringn(pol->hdr.classes[i],
							      strnlen(pol->hdr.classes[i],
								      TG_NAME_MAX)));
	return a;
}

/* The second check's reading: the dataplane's own when it ran (a
 * release), else read here for the explanation only. */
static json_t *
second_json(const struct explain *x, const struct dp_msg_ctx *c, const uint8_t *pl,
	    uint32_t len)
{
	const struct dp_policy *pol = x->pol;
	const struct tg_link *link = &pol->links[x->link];
	bool ran = c->sc_ran, ok = c->sc_ok;
	uint8_t level = c->sc_level;
	uint64_t rel = c->sc_rel;
	uint32_t allowed = c->sc_allowed, peers, first;

	/* Nothing to read: the message was not admitted or its start tag did
	 * not parse (or it is a TakControl). */
	if (c->ev == NULL ||
	    (!c->mk_ok && c->reason != TG_R_BAD_MARKING && c->reason != TG_R_STALE))
		return json_null();
	if (!ran)
		ok = sc_derive(pl, len, &pol->hdr,
			       link->has_default_marking ? &link->default_marking : NULL, &level,
			       &rel, &allowed);
	peers = ok ? sc_peer_mask(pol->peers, pol->hdr.n_peers, level, rel, allowed) : 0;
	first = c->mk_ok ? sc_peer_mask(pol->peers, pol->hdr.n_peers, c->mk.level,
					c->mk.rel_mask, c->mk.blocked ? 0 : c->mk.peer_mask)
			 : 0;
	if (!ok)
		return json_pack("{s:b, s:b}", "run_by_dataplane", ran, "readable", 0);
	return json_pack("{s:b, s:b, s:s, s:o, s:o, s:o}", "run_by_dataplane", ran, "readable", 1,
			 "level", tg_level_name(level), "releasable_to", nation_list(pol, rel),
			 "peers", peer_list(pol, peers), "agrees",
			 c->mk_ok ? json_boolean(first == peers) : json_null());
}

static json_t *
peers_json(const struct dp_policy *pol, const struct dp_msg_ctx *c, const struct dp_decided *d)
{
	json_t *o = json_object();

	if (c->reason != TG_R_RELEASED)
		return o;
	for (unsigned i = 0; i < pol->hdr.n_peers; i++) {
		bool rel = (c->released >> i) & 1;
		json_t *p = json_pack("{s:s, s:s}", "decision", rel ? "released" : "withheld",
				      "reason", tg_reason_name(c->peer_reason[i]));

		if (rel)
			json_object_set_new(p, "as",
					    json_string((d->sanitized >> i) & 1 ? "sanitized"
							: (d->to_xml >> i) & 1 ? "xml"
										 : "received"));
		json_object_set_new(o, pol->peers[i].name, p);
	}
	return o;
}

static void
print_strs(const char *label, json_t *a)
{
	size_t i;
	json_t *v;

	printf("%s", label);
	if (json_array_size(a) == 0)
		printf(" none");
	json_array_foreach(a, i, v) printf("%s%s", i ? ", " : " ", json_string_value(v));
}

/* The record in words (the JSON has the same facts). */
static void
print_text(const struct explain *x, json_t *o)
{
	json_t *mk = json_object_get(o, "marking"), *sc = json_object_get(o, "second_check");
	json_t *rules = json_object_get(o, "rules_all"), *peers = json_object_get(o, "peers");
	const char *decision = json_string_value(json_object_get(o, "decision"));
	json_t *v;
	const char *k;
	size_t i;

	printf("message %" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(o, "message")));
	if (json_object_get(o, "frame"))
		printf("  frame %" JSON_INTEGER_FORMAT,
		       json_integer_value(json_object_get(o, "frame")));
	if (json_object_get(o, "file"))
		printf("  %s", json_string_value(json_object_get(o, "file")));
	printf("  link %s  %" JSON_INTEGER_FORMAT " B  %s\n",
	       json_string_value(json_object_get(o, "link")),
	       json_integer_value(json_object_get(o, "bytes")),
	       json_string_value(json_object_get(o, "encoding")));
	printf("  uid %s  type %s\n", json_string_value(json_object_get(o, "uid")),
	       json_string_value(json_object_get(o, "type")));
	if (strcmp(decision, "dropped") == 0) {
		printf("  decision  dropped for every peer: %s",
		       json_string_value(json_object_get(o, "reason")));
		if (json_object_get(o, "parse_err"))
			printf(" (%s at byte %" JSON_INTEGER_FORMAT ")",
			       json_string_value(json_object_get(o, "parse_err")),
			       json_integer_value(json_object_get(o, "err_off")));
		if (json_object_get(o, "control"))
			printf(" (control %s)", json_string_value(json_object_get(o, "control")));
		if (json_object_get(o, "block_rule")) {
			json_t *b = json_object_get(o, "block_rule");

			printf(" (rule %" JSON_INTEGER_FORMAT " %s: %s)",
			       json_integer_value(json_object_get(b, "id")),
			       json_string_value(json_object_get(b, "name")),
			       json_string_value(json_object_get(b, "reason")));
		}
		printf("\n");
	} else {
		printf("  decision  %s; late scopes %s\n", decision,
		       json_is_true(json_object_get(o, "scanned"))
			       ? "scanned"
			       : "not scanned (no peer could receive it)");
	}
	if (json_is_object(mk)) {
		printf("  marking   %s, releasable to",
		       json_string_value(json_object_get(mk, "level")));
		print_strs("", json_object_get(mk, "releasable_to"));
		printf(" (%s)",
		       json_is_true(json_object_get(mk, "rel_to_list")) ? "REL TO list"
									: "no REL TO list");
		if (json_is_true(json_object_get(mk, "noforn")))
			printf(", NOFORN");
		print_strs("; controls", json_object_get(mk, "controls"));
		if (json_is_array(json_object_get(mk, "control_peers")))
			print_strs("; controls allow only",
				   json_object_get(mk, "control_peers"));
		printf("\n");
	} else if (json_object_get(o, "reason") &&
		   strcmp(json_string_value(json_object_get(o, "reason")), "bad_marking") == 0) {
		printf("  marking   not understood: no peer can be shown to be entitled to it\n");
	}
	if (json_array_size(rules) == 0)
		printf("  rules     none matched\n");
	json_array_foreach(rules, i, v) {
		printf("  %s %" JSON_INTEGER_FORMAT " %s (%s, %s", i ? "         " : "rules    ",
		       json_integer_value(json_object_get(v, "id")),
		       json_string_value(json_object_get(v, "name")),
		       json_string_value(json_object_get(v, "scope")),
		       json_string_value(json_object_get(v, "action")));
		if (json_object_get(v, "class"))
			printf(" -> %s", json_string_value(json_object_get(v, "class")));
		if (json_object_get(v, "block_reason"))
			printf(": %s", json_string_value(json_object_get(v, "block_reason")));
		printf(") x%" JSON_INTEGER_FORMAT "\n",
		       json_integer_value(json_object_get(v, "hits")));
	}
	print_strs("  classes  ", json_object_get(o, "classes"));
	printf("\n");
	if (json_is_object(sc)) {
		if (!json_is_true(json_object_get(sc, "readable")))
			printf("  second    cannot read the marking");
		else {
			printf("  second    %s, releasable to",
			       json_string_value(json_object_get(sc, "level")));
			print_strs("", json_object_get(sc, "releasable_to"));
			print_strs("; admits", json_object_get(sc, "peers"));
			if (json_is_boolean(json_object_get(sc, "agrees")))
				printf("; %s", json_is_true(json_object_get(sc, "agrees"))
						       ? "agrees"
						       : "DISAGREES");
		}
		printf("%s\n", json_is_true(json_object_get(sc, "run_by_dataplane"))
				       ? ""
				       : " (not run by the dataplane: nothing to release)");
	}
	json_array_foreach(json_object_get(o, "sanitized"), i, v) {
		json_t *s;
		size_t j;

		print_strs("  copy     ", json_object_get(v, "peers"));
		json_array_foreach(json_object_get(v, "steps"), j, s)
			printf("%s%s", j ? "; " : ": ", json_string_value(s));
		if (json_object_get(v, "sha256"))
			printf("; %" JSON_INTEGER_FORMAT " B %s, sha256 %.16s...\n",
			       json_integer_value(json_object_get(v, "bytes")),
			       json_string_value(json_object_get(v, "encoding")),
			       json_string_value(json_object_get(v, "sha256")));
		else
			printf("; NOT SENT: the second check found %s\n",
			       json_string_value(json_object_get(v, "check")));
	}
	json_object_foreach(peers, k, v) {
		const char *as = json_string_value(json_object_get(v, "as"));

		printf("  %-9s %s", k, json_string_value(json_object_get(v, "decision")));
		if (as)
			printf(" (%s)\n", strcmp(as, "xml") == 0	 ? "converted to XML"
					   : strcmp(as, "sanitized") == 0 ? "sanitized copy"
									  : "as received");
		else
			printf("  %s\n", json_string_value(json_object_get(v, "reason")));
	}
	(void)x;
}

static void
emit(const struct explain *x, json_t *o)
{
	if (x->o->json) {
		char *s = json_dumps(o, JSON_COMPACT);

		if (s != NULL)
			puts(s);
		free(s);
	} else {
		print_text(x, o);
	}
	json_decref(o);
}

/* ---- one message ---- */

static void
explain_message(struct explain *x, long frame, const char *file, const uint8_t *pl, uint32_t len,
		int64_t now_ms)
{
	struct dp_policy *pol = x->pol;
	const struct tg_link *link = &pol->links[x->link];
	struct dp_msg_ctx c = {.port_id = x->port_id, .link_idx = x->link,
			       .reason = TG_R_RELEASED, .enc = COT_ENC_XML};
	struct dp_decided d = {0};
	struct dp_audit_rec *rec = calloc(1, sizeof(*rec));
	json_t *o;

	if (rec == NULL)
		return;
	memcpy(x->hits, pol->rule_hits, sizeof(uint64_t) * pol->hdr.n_rules);
	/* What process_frame() does with a message (worker.c), but sending. */
	c.enc = len >= 3 ? cot_encoding_of(pl, 3) : COT_ENC_XML;
	c.reason = dp_admit(pol, link, c.enc, len);
	if (c.reason == TG_R_RELEASED)
		dp_decide(x->w, pol, link, &c, pl, len, now_ms, &d);
	if (c.reason == TG_R_RELEASED)
		c.released = d.send;

	x->n_msgs++;
	if (c.reason != TG_R_RELEASED)
		x->n_dropped++;
	else if (c.released)
		x->n_released++;
	else
		x->n_withheld++;

	dp_audit_fill(rec, pol, &c, (uint64_t)now_ms * 1000000u);
	o = dp_audit_json(rec);
	free(rec);
	json_object_set_new(o, "message", json_integer(x->n_msgs));
	if (frame > 0)
		json_object_set_new(o, "frame", json_integer(frame));
	if (file != NULL)
		json_object_set_new(o, "file", json_string(file));
	json_object_set_new(o, "bytes", json_integer(len));
	json_object_set_new(o, "marking", marking_json(pol, &c));
	json_object_set_new(o, "classes", classes_json(pol, c.cr.classes));
	json_object_set_new(o, "rules_all", rules_json(x));
	json_object_set_new(o, "second_check", second_json(x, &c, pl, len));
	json_object_set_new(o, "peers", peers_json(pol, &c, &d));
	if (d.to_xml)
		json_object_set_new(o, "xml_bytes", json_integer(d.xml_len));
	if (c.reason == TG_R_BLOCKED && c.block_control == 0 && c.cr.block_rule >= 0 &&
	    (uint32_t)c.cr.block_rule < pol->hdr.n_rules) {
		const struct tg_rule *r = &pol->rules[c.cr.block_rule];

		json_object_set_new(o, "block_rule",
				    json_pack("{s:I, s:s%, s:s%}", "id", (json_int_t)r->id, "name",
					      r->name, strnlen(r->name, TG_NAME_MAX), "reason",
					      r->reason, strnlen(r->reason, TG_NAME_MAX)));
	}
	emit(x, o);
}

/* ---- --xml ---- */

static int
read_file(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "tgctl: explain: %s: %s\n", path, strerror(errno));
		return 3;
	}
	n = fread(buf, 1, cap, f);
	if (ferror(f)) {
		fprintf(stderr, "tgctl: explain: %s: %s\n", path, strerror(errno));
		if (f != stdin)
			fclose(f);
		return 3;
	}
	if (n == cap && fgetc(f) != EOF) {
		fprintf(stderr,
			"tgctl: explain: %s: more than %u bytes: no UDP payload is that large\n",
			path, DP_UDP_PAYLOAD_MAX);
		if (f != stdin)
			fclose(f);
		return 2;
	}
	if (f != stdin)
		fclose(f);
	*len = n;
	return 0;
}

static int
explain_files(struct explain *x)
{
	static uint8_t buf[DP_UDP_PAYLOAD_MAX];

	for (unsigned i = 0; i < x->o->n_xml; i++) {
		size_t len;
		int rc = read_file(x->o->xml[i], buf, sizeof(buf), &len);

		if (rc != 0)
			return rc;
		explain_message(x, 0, x->o->xml[i], buf, (uint32_t)len, x->o->now_ms);
	}
	return 0;
}

/* ---- --pcap ---- */

static int
eal_start(void)
{
	char prefix[64];
	char *argv[] = {
		"tgctl-explain", "--no-huge", "--no-pci", "-m", "128", "--no-shconf",
		"--file-prefix", prefix, "--no-telemetry", "-l", "0",
		"--log-level=lib.*:error", "--log-level=user1:error", NULL,
	};

	/* Nothing shared with, or visible to, a trackgate on this host. */
	snprintf(prefix, sizeof(prefix), "tgctl-explain-%ld", (long)getpid());

	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0) {
		fprintf(stderr, "tgctl: explain: cannot start DPDK's EAL for --pcap: %s\n",
			rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

/* A frame into mbufs of the pool, chained when it does not fit one. */
static struct rte_mbuf *
frame_mbuf(struct rte_mempool *mp, const uint8_t *b, uint32_t len)
{
	struct rte_mbuf *head = NULL;
	uint32_t off = 0;

	do {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		uint32_t n;

		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		n = RTE_MIN(len - off, (uint32_t)rte_pktmbuf_tailroom(m));
		memcpy(rte_pktmbuf_append(m, (uint16_t)n), b + off, n);
		off += n;
		if (head == NULL)
			head = m;
		else if (rte_pktmbuf_chain(head, m) != 0) {
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(head);
			return NULL;
		}
	} while (off < len);
	return head;
}

static void
frame_note(struct explain *x, long frame, const char *what, const char *reason)
{
	if (x->o->json) {
		json_t *o = json_pack("{s:I, s:s}", "frame", (json_int_t)frame, what, reason);

		emit(x, o);
	} else {
		printf("frame %ld: %s: %s\n", frame, what, reason);
	}
}

/* Reassembly drops counted while a fragment was offered (by datagram). */
static void
note_reasm_drops(struct explain *x, long frame, const uint64_t *before)
{
	for (unsigned r = 0; r < TG_R_COUNT; r++) {
		uint64_t n = x->w->cnt.reason[r] - before[r];

		for (; n > 0; n--)
			frame_note(x, frame, "datagram_dropped", tg_reason_name(r));
	}
}

static int
explain_pcap(struct explain *x)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct rte_mempool *mp;
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t before[TG_R_COUNT];
	long frame = 0;
	pcap_t *pc;
	int rc;

	pc = pcap_open_offline(x->o->pcap, errbuf);
	if (pc == NULL) {
		fprintf(stderr, "tgctl: explain: %s: %s\n", x->o->pcap, errbuf);
		return 3;
	}
	if (pcap_datalink(pc) != DLT_EN10MB) {
		fprintf(stderr, "tgctl: explain: %s: not an Ethernet capture (link type %d)\n",
			x->o->pcap, pcap_datalink(pc));
		pcap_close(pc);
		return 2;
	}
	if (eal_start() < 0) {
		pcap_close(pc);
		return 3;
	}
	mp = rte_pktmbuf_pool_create("tgx_frames", EXPLAIN_POOL_MBUFS, 0, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (mp == NULL ||
	    dp_reasm_create(x->w, dp_cfg.frag_max_flows,
			    rte_get_tsc_hz() / 1000 * dp_cfg.frag_timeout_ms, SOCKET_ID_ANY) < 0) {
		fprintf(stderr, "tgctl: explain: cannot set up frames and reassembly\n");
		pcap_close(pc);
		rte_mempool_free(mp);
		rte_eal_cleanup();
		return 3;
	}
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		int64_t now_ms = x->o->now_pcap ? (int64_t)h->ts.tv_sec * 1000 + h->ts.tv_usec / 1000
						: x->o->now_ms;
		struct rte_mbuf *m = frame_mbuf(mp, data, h->caplen);
		struct dp_pkt pk;
		const uint8_t *pl;
		int r;

		frame++;
		x->n_frames++;
		if (m == NULL) {
			frame_note(x, frame, "frame_dropped", "no_mbuf");
			continue;
		}
		memcpy(before, x->w->cnt.reason, sizeof(before));
		r = dp_pkt_parse(x->w, &x->pol->links[x->link], &m, rte_rdtsc(), true, &pk);
		if (r == DP_PKT_TAKEN) {
			x->n_fragments++;
			frame_note(x, frame, "fragment", "held for reassembly");
			note_reasm_drops(x, frame, before);
			continue;
		}
		if (r != TG_R_RELEASED) {
			x->n_frame_drops++;
			frame_note(x, frame, "frame_dropped", tg_reason_name((unsigned)r));
			rte_pktmbuf_free(m);
			continue;
		}
		pl = rte_pktmbuf_read(m, pk.payload_off, pk.payload_len, x->w->linbuf);
		explain_message(x, frame, NULL, pl ? pl : (const uint8_t *)"",
				pl ? pk.payload_len : 0, now_ms);
		rte_pktmbuf_free(m);
	}
	if (rc == -1)
		fprintf(stderr, "tgctl: explain: %s: %s\n", x->o->pcap, pcap_geterr(pc));
	memcpy(before, x->w->cnt.reason, sizeof(before));
	dp_reasm_destroy(x->w); /* datagrams still waiting: frag_unfinished */
	note_reasm_drops(x, frame, before);
	pcap_close(pc);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return rc == -1 ? 3 : 0;
}

/* ---- set-up ---- */

int
explain_run(const struct pol_policy *p, const struct explain_opts *o)
{
	struct explain x = {.o = o, .link = -1};
	struct tg_snapshot *snap = calloc(1, sizeof(*snap));
	char err[512];
	int rc = 3;

	if (o->link != NULL) {
		for (unsigned i = 0; i < p->hdr.n_links; i++)
			if (strncmp(p->links[i].name, o->link, TG_NAME_MAX) == 0)
				x.link = (int)i;
		if (x.link < 0) {
			fprintf(stderr, "tgctl: explain: the policy has no link '%s'\n", o->link);
			free(snap);
			return 2;
		}
	} else if (p->hdr.n_links == 1) {
		x.link = 0;
	} else {
		fprintf(stderr, "tgctl: explain: the policy has %u links: say which one the "
				"messages arrived on with --link NAME\n",
			p->hdr.n_links);
		free(snap);
		return 2;
	}
	if (snap == NULL)
		goto out;

	/* The dataplane's runtime policy, one worker, every device present. */
	dp_n_workers = 1;
	dp_cfg.audit_level = DP_AUDIT_ALL;
	pol_as_snapshot(p, 1, snap);
	x.pol = dp_policy_build_core(snap, err, sizeof(err));
	if (x.pol == NULL) {
		fprintf(stderr, "tgctl: explain: %s\n", err);
		goto out;
	}
	dp_policy_bind_offline(x.pol);
	for (unsigned pid = 0; pid < RTE_DIM(x.pol->link_of_port); pid++)
		if (x.pol->link_of_port[pid] == x.link)
			x.port_id = (uint16_t)pid;
	dp_audit_note_policy(x.pol);
	x.w = aligned_alloc(RTE_CACHE_LINE_SIZE,
			    RTE_ALIGN_CEIL(sizeof(struct dp_worker), RTE_CACHE_LINE_SIZE));
	x.hits = calloc(x.pol->hdr.n_rules ? x.pol->hdr.n_rules : 1, sizeof(uint64_t));
	if (x.w == NULL || x.hits == NULL) {
		fprintf(stderr, "tgctl: explain: out of memory\n");
		goto out;
	}
	memset(x.w, 0, sizeof(*x.w)); /* idx 0; no caches: every answer computed */

	rc = o->pcap ? explain_pcap(&x) : explain_files(&x);
	if (rc == 0 && !o->json) {
		printf("%u message%s: %u released to some peer, %u withheld from every peer, "
		       "%u dropped",
		       x.n_msgs, x.n_msgs == 1 ? "" : "s", x.n_released, x.n_withheld,
		       x.n_dropped);
		if (o->pcap)
			printf("; %u frames, %u dropped before a message, %u fragments",
			       x.n_frames, x.n_frame_drops, x.n_fragments);
		printf("\n");
	}
out:
	free(x.hits);
	free(x.w);
	dp_policy_free(x.pol);
	free(snap);
	return rc;
}
