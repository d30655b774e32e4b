/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tgctl - trackgate's control plane.
 *
 *   tgctl check FILE                 validate and compile, publish nothing
 *   tgctl load FILE [--bpffs DIR] [--wait-ms N | --no-wait]
 *                                    validate, compile, publish atomically,
 *                                    wait for the dataplane to install it
 *   tgctl show [--bpffs DIR] [--json]
 *   tgctl stats [--bpffs DIR] [--json]
 *   tgctl rollback [--bpffs DIR] [--wait-ms N | --no-wait]
 *   tgctl explain FILE (--xml MSG... | --pcap PCAP) [--link NAME] [--now T] [--json]
 *                                    the dataplane's decision on each message
 *                                    (explain.c), no dataplane needed
 *
 * This file owns the command line and output formats; policy.h parses and
 * compiles, publish.c writes the maps.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hs/hs.h>
#include <jansson.h>

#include "dataplane/cot_names.h"
#include "explain.h"
#include "policy.h"
#include "publish.h"
#include "tg_mapset.h"
#include "tg_names.h"
#include "xdp_publish.h"

enum {
	EXIT_OK = 0,
	EXIT_POLICY = 1,  /* the policy is invalid or does not compile */
	EXIT_USAGE = 2,   /* wrong command line */
	EXIT_SYSTEM = 3,  /* bpffs, maps, memory: the environment failed */
	EXIT_NOTHING = 4, /* nothing published yet / nothing to roll back to */
	EXIT_NO_ACK = 5,  /* published, but no dataplane installed it in time */
	EXIT_REFUSED = 6, /* published, but the dataplane refused it */
};

#define WAIT_MS_DEFAULT 3000u
#define WAIT_MS_MAX 3600000u

static const char usage_text[] =
	"usage: tgctl <command> [options]\n"
	"\n"
	"commands:\n"
	"  check FILE       validate and compile FILE; publish nothing\n"
	"  load FILE        validate, compile and publish FILE atomically\n"
	"  show             print the active policy\n"
	"  stats            print the dataplane's counters\n"
	"  rollback         make the previous policy active again\n"
	"  explain FILE     the decision the dataplane would take on each message\n"
	"                   given with --xml or --pcap, under policy FILE\n"
	"\n"
	"options:\n"
	"  --bpffs DIR      pinned map directory (default " TG_DEFAULT_BPFFS ")\n"
	"  --json           machine-readable output (show, stats; explain: one JSON\n"
	"                   object per line)\n"
	"  --xml MSG        explain: a file holding one UDP payload, XML or TAK\n"
	"                   Protocol v1 (\"-\": stdin); may be repeated\n"
	"  --pcap PCAP      explain: every frame of an Ethernet capture\n"
	"  --link NAME      explain: the link the messages arrive on (needed when the\n"
	"                   policy has more than one)\n"
	"  --now T          explain: the time staleness is judged at: seconds since\n"
	"                   1970, YYYY-MM-DDTHH:MM:SS[.fff]Z, or \"pcap\" (each\n"
	"                   frame's capture time); default: now\n"
	"  --wait-ms N      load, rollback: wait up to N ms for the running trackgate\n"
	"                   to install the new generation (default 3000)\n"
	"  --no-wait        load, rollback: publish only (no trackgate running yet)\n"
	"  -q, --quiet      print only errors\n"
	"  -h, --help       this text\n"
	"\n"
	"exit codes: 0 ok, 1 invalid policy, 2 usage, 3 system error, 4 nothing published,\n"
	"            5 published but no trackgate installed it in time,\n"
	"            6 published but trackgate refused it (it keeps its policy in force)\n";

struct opts {
	const char *cmd;
	const char *file;
	const char *bpffs;
	int json;
	int quiet;
	int no_wait;      /* load, rollback: do not wait for the acknowledgement */
	unsigned wait_ms; /* load, rollback: how long to wait for it */
	struct explain_opts ex; /* explain */
	bool now_given;
};

static void
fmt_time(uint64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;

	if (ns == 0) {
		snprintf(buf, len, "never");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
fmt_digest(const uint8_t d[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/* Parse + validate + compile; prints errors; returns EXIT_*. */
static int
load_policy(const char *file, struct pol_policy **out)
{
	struct pol_errors *errs = calloc(1, sizeof(*errs));
	int rc = EXIT_OK;

	if (errs == NULL) {
		fprintf(stderr, "tgctl: out of memory\n");
		return EXIT_SYSTEM;
	}
	*out = NULL;
	if (pol_load_file(file, out, errs) < 0 || pol_compile(*out, errs) < 0) {
		pol_errors_print(errs, stderr);
		pol_free(*out);
		*out = NULL;
		rc = EXIT_POLICY;
	}
	free(errs);
	return rc;
}

/* Which field-scope rules wait for a payload candidate (release.md §4). */
static void
print_prefilter(const struct pol_policy *p)
{
	uint32_t n[TG_SCOPE_COUNT] = {0};

	for (uint32_t i = 0; i < p->hdr.n_rules; i++)
		n[p->rules[i].scope]++;
	for (unsigned s = 0; s < TG_SCOPE_COUNT; s++) {
		unsigned nb = 0;

		if (!(POL_PREFILTER_SCOPES & (1u << s)) || n[s] == 0)
			continue;
		printf("  %s: %u of %u rules prefiltered by the payload scan, %u scanned on every message\n",
		       tg_scope_name(s), p->n_prefiltered[s], n[s], n[s] - p->n_prefiltered[s]);
		if (p->n_prefiltered[s] == 0 || s == TG_SCOPE_DETAIL)
			continue; /* detail is never decoded */
		for (unsigned w = 0; w < 4; w++)
			nb += (unsigned)__builtin_popcountll(p->hdr.pf_match_bytes[s][w]);
		if (nb == 256)
			printf("  %s: a prefiltered rule can match any byte: decoded %s text is scanned "
			       "whatever it holds (release.md section 4)\n",
			       tg_scope_name(s), tg_scope_name(s));
		else
			printf("  %s: prefiltered rules match %u of 256 byte values: decoded text "
			       "whose references produced none of them needs no field scan\n",
			       tg_scope_name(s), nb);
	}
}

/* Combinations that need no match to be true: evaluated at the end of
 * every scan of their scope (docs/policy.md), so they cost on every message. */
static void
print_negative_combinations(const struct pol_policy *p)
{
	for (uint32_t i = 0; i < p->hdr.n_rules; i++)
		if ((p->rules[i].flags & TG_RF_COMBINATION) && pol_comb_true_without_operands(p, i))
			printf("  rule %u (%s, scope %s): combination true when none of its operands "
			       "matches: evaluated at the end of every %s scan, on every message\n",
			       p->rules[i].id, p->rules[i].name, tg_scope_name(p->rules[i].scope),
			       tg_scope_name(p->rules[i].scope));
}

/* Rule ids a scan reported (up to 256; more counts as "many"). */
struct id_set {
	unsigned n;
	unsigned id[256];
};

static int
collect_ids(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
	    void *ctx)
{
	struct id_set *s = ctx;

	(void)from;
	(void)to;
	(void)flags;
	for (unsigned i = 0; i < s->n && i < 256; i++)
		if (s->id[i] == id)
			return 0;
	if (s->n < 256)
		s->id[s->n] = id;
	s->n++;
	return 0;
}

/* The `marking` scope's rules that match text t (both of its databases). */
static void
marking_scan(const struct pol_policy *p, const char *t, struct id_set *out)
{
	const struct tg_hsdb_ref *refs[2] = {&p->hdr.hsdb[TG_SCOPE_MARKING],
					     &p->hdr.hsdb[TG_HSDB_PF(TG_SCOPE_MARKING)]};

	out->n = 0;
	for (int d = 0; d < 2; d++) {
		hs_database_t *db = NULL;
		hs_scratch_t *scratch = NULL;

		if (refs[d]->len == 0 || (uint64_t)refs[d]->off + refs[d]->len > p->hsdb_len ||
		    hs_deserialize_database((const char *)p->hsdb_blob + refs[d]->off, refs[d]->len,
					    &db) != HS_SUCCESS)
			continue;
		if (hs_alloc_scratch(db, &scratch) == HS_SUCCESS)
			hs_scan(db, t, (unsigned)strlen(t), 0, scratch, collect_ids, out);
		hs_free_scratch(scratch);
		hs_free_database(db);
	}
}

/* Whether some `marking` rule matches because a marking carries control
 * `name`: a rule the scope's text of access "U//NAME" or of a caveat "NAME"
 * gives and the same text without the name does not. */
static bool
marking_rule_matches(const struct pol_policy *p, const char *name)
{
	static const char *const fmt[2][2] = {{"U//%s\n\n", "U\n\n"}, {"\n%s\n", "\n\n"}};

	for (int k = 0; k < 2; k++) {
		char with[TG_NAME_MAX + 8];
		struct id_set a, b;

		snprintf(with, sizeof(with), fmt[k][0], name);
		marking_scan(p, with, &a);
		marking_scan(p, fmt[k][1], &b);
		if (a.n > 256)
			return true;
		for (unsigned i = 0; i < a.n; i++) {
			unsigned j;

			for (j = 0; j < b.n && j < 256; j++)
				if (b.id[j] == a.id[i])
					break;
			if (j == b.n || j == 256)
				return true;
		}
	}
	return false;
}

/* The register of controls (release.md §3): what each declared one does,
 * and warnings (stderr, exit 0) where a declaration is likely a mistake. */
static void
print_controls(const char *file, const struct pol_policy *p)
{
	static const char *const effect[] = {"pass", "block", "nations", "peers"};

	if (p->hdr.n_controls == 0)
		return;
	printf("  controls: %u declared, %u names\n", p->hdr.n_controls, p->hdr.n_control_names);
	for (unsigned i = 0; i < p->hdr.n_controls; i++) {
		const struct tg_control *ct = &p->hdr.controls[i];
		bool used = ct->effect != TG_CE_PASS;

		printf("  control %s: %s", ct->name, effect[ct->effect < 4 ? ct->effect : 0]);
		if (ct->builtin == TG_CB_NOFORN)
			printf(" (and NOFORN's narrowing to USA)");
		printf("\n");
		for (unsigned j = 0; !used && j < p->hdr.n_control_names; j++)
			if (p->hdr.control_names[j].control == i)
				used = marking_rule_matches(p, p->hdr.control_names[j].name);
		if (!used)
			fprintf(stderr, "%s: warning: control %s is pass and no marking rule matches it: "
					"messages carrying it are released as if it were absent\n",
				file, ct->name);
		if (ct->effect == TG_CE_NATIONS && ct->nations == 0)
			fprintf(stderr, "%s: warning: control %s allows no nation any peer has: it "
					"withholds from everyone (write effect: block)\n",
				file, ct->name);
	}
}

/* The encodings each link accepts and each peer gets (release.md §1, §6). */
static void
print_encodings(const struct tg_link *links, unsigned n_links, const struct tg_peer *peers,
		unsigned n_peers)
{
	for (unsigned i = 0; i < n_links; i++) {
		printf("  link %s accepts", links[i].name);
		for (unsigned e = 0; e < TG_ENC_COUNT; e++)
			if (links[i].encodings & (1u << e))
				printf(" %s", tg_encoding_name(e));
		printf("\n");
	}
	for (unsigned i = 0; i < n_peers; i++)
		if (peers[i].encoding == TG_PEER_ENC_XML)
			printf("  peer %s gets XML: takproto-v1 messages converted "
			       "(docs/release.md §6)\n", peers[i].name);
}

/* Each peer's sanitize entries (docs/policy.md `sanitize`, release.md §6):
 * which steps apply to which classes.  Used by check and show. */
static void
print_sanitize(const struct tg_slot_hdr *h, const struct tg_peer *peers, unsigned n_peers)
{
	for (unsigned i = 0; i < n_peers; i++) {
		for (unsigned k = 0; k < h->n_sanitize && k < TG_MAX_SAN; k++) {
			const struct tg_sanitize *e = &h->sanitize[k];
			const char *sep = "";

			if (!(peers[i].sanitize & (1u << k)))
				continue;
			printf("  peer %s sanitizes", peers[i].name);
			if (e->classes == 0) {
				printf(" every release:");
			} else {
				printf(" releases of class");
				for (unsigned c = 0; c < h->n_classes && c < TG_MAX_CLASSES; c++)
					if (e->classes & (1u << c))
						printf("%s %s", sep, h->classes[c]), sep = ",";
				printf(":");
			}
			sep = " ";
			if (e->n_elems) {
				printf("%sdrop_elements", sep);
				for (unsigned j = 0; j < e->n_elems; j++)
					printf("%s%s", j ? "," : " ", e->elems[j]);
				sep = "; ";
			}
			if (e->n_attrs) {
				printf("%sdrop_attributes", sep);
				for (unsigned j = 0; j < e->n_attrs; j++)
					printf("%s%s@%s", j ? "," : " ", e->attrs[j][0], e->attrs[j][1]);
				sep = "; ";
			}
			if (e->drop_remarks)
				printf("%sdrop_remarks", sep), sep = "; ";
			if (e->decimals != TG_SAN_NO_COARSEN)
				printf("%scoarsen_point %u decimals, ce at least %g m", sep, e->decimals,
				       e->min_ce), sep = "; ";
			for (unsigned a = 0; a < TG_SA_COUNT; a++)
				if (e->set_mask & (1u << a))
					printf("%sset %s=\"%s\"", sep, pol_san_attr_name(a), e->set[a]),
						sep = "; ";
			printf("\n");
		}
	}
}

/* Which peers can be decided before the late scan (release.md §5). */
static void
print_decide_first(const struct pol_policy *p)
{
	uint32_t late = tg_late_classes(p->rules, p->hdr.n_rules);
	char names[512];
	size_t n = 0;

	names[0] = '\0';
	for (unsigned c = 0; c < p->hdr.n_classes && n < sizeof(names); c++)
		if (late & (1u << c))
			n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", n ? ", " : "",
					      p->hdr.classes[c]);
	printf("  decided before the late scan (payload, callsign, remarks, detail): a message "
	       "no peer can receive after its marking and the early scopes (type, how, uid, "
	       "marking); the late rules can add the classes {%s}\n", names);
	for (unsigned i = 0; i < p->hdr.n_peers; i++) {
		const struct tg_peer *pe = &p->peers[i];
		const char *when;

		if (pe->classes & late)
			when = "needs the late scan whenever its clearance, nation and link admit "
			       "the message (it receives a class a late rule can add)";
		else if (pe->classes & 1u)
			when = "needs the late scan only when its clearance, nation and link admit "
			       "the message and no early rule classified it (it receives 'other')";
		else
			when = "never needs the late scan: only early rules give it its classes";
		printf("  peer %s: %s\n", pe->name, when);
	}
}

static int
cmd_check(const struct opts *o)
{
	struct pol_policy *p;
	int rc = load_policy(o->file, &p);

	if (rc != EXIT_OK)
		return rc;
	if (!o->quiet) {
		printf("%s: ok: %u links, %u peers, %u rules, %zu bytes of compiled rules\n",
		       o->file, p->hdr.n_links, p->hdr.n_peers, p->hdr.n_rules, p->hsdb_len);
		print_prefilter(p);
		print_negative_combinations(p);
		print_decide_first(p);
		print_encodings(p->links, p->hdr.n_links, p->peers, p->hdr.n_peers);
		print_sanitize(&p->hdr, p->peers, p->hdr.n_peers);
		print_controls(o->file, p);
	}
	pol_free(p);
	return EXIT_OK;
}

static int
open_maps(const struct opts *o, struct tg_mapset *ms)
{
	char err[512];

	if (tg_mapset_open(ms, o->bpffs, err, sizeof(err)) < 0) {
		fprintf(stderr, "tgctl: %s\n", err);
		return EXIT_SYSTEM;
	}
	return EXIT_OK;
}

/* After a publish of `gen` (lock released): did the running dataplane
 * install it?  docs/tgctl.md, "Acknowledgement". */
static int
wait_installed(const struct opts *o, const struct tg_mapset *ms, uint64_t gen)
{
	char msg[1024];

	if (o->no_wait)
		return EXIT_OK;
	switch (ctl_wait_ack(ms, gen, o->wait_ms, msg, sizeof(msg))) {
	case CTL_ACK_INSTALLED:
		if (!o->quiet)
			printf("%s\n", msg);
		return EXIT_OK;
	case CTL_ACK_REFUSED:
		fprintf(stderr, "tgctl: %s\n", msg);
		return EXIT_REFUSED;
	case CTL_ACK_NONE:
	default:
		fprintf(stderr, "tgctl: %s\n", msg);
		return EXIT_NO_ACK;
	}
}

/* The XDP pre-filter's view of the policy's links: source prefixes, rate.
 * NULL when out of memory. */
static struct xdp_link_cfg *
xdp_config(const struct pol_policy *p)
{
	struct xdp_link_cfg *cfg = calloc(TG_MAX_LINKS, sizeof(*cfg));

	if (cfg == NULL)
		return NULL;
	for (unsigned i = 0; i < p->hdr.n_links; i++) {
		const struct tg_link *l = &p->links[i];
		const struct pol_xdp *x = &p->xdp[i];
		struct xdp_link_cfg *c = &cfg[i];

		snprintf(c->name, sizeof(c->name), "%s", l->name);
		snprintf(c->iface, sizeof(c->iface), "%s", x->iface);
		memcpy(c->udp_ports, l->udp_ports, sizeof(c->udp_ports));
		c->n_udp_ports = l->n_udp_ports;
		c->rate_pps = l->rate_pps;
		c->rate_burst = l->rate_burst;
		c->n_allow = x->n_allow;
		c->n_block = x->n_block;
		/* one prefix type on both sides (ctrl/prefix.h), and as many */
		_Static_assert(sizeof(c->allow) == sizeof(x->allow), "prefix lists");
		memcpy(c->allow, x->allow, sizeof(c->allow));
		memcpy(c->block, x->block, sizeof(c->block));
	}
	return cfg;
}

/* Everything a load needs that can be known before anything is created in
 * the bpffs: a load that fails leaves it as it was.  EXIT_* */
static int
load_check(const struct opts *o, const struct pol_policy *p, const struct xdp_link_cfg *cfg)
{
	char err[512];

	if (ctl_publish_check(p, err, sizeof(err)) < 0) {
		fprintf(stderr, "tgctl: %s: %s\n", o->file, err);
		return EXIT_POLICY;
	}
	if (ctl_xdp_check(o->bpffs, cfg, p->hdr.n_links, err, sizeof(err)) < 0) {
		fprintf(stderr, "tgctl: %s\n", err);
		return EXIT_SYSTEM;
	}
	return EXIT_OK;
}

static int
cmd_load(const struct opts *o)
{
	struct xdp_link_cfg *cfg = NULL;
	struct pol_policy *p;
	struct tg_mapset ms;
	char err[512];
	uint64_t gen;
	int rc;

	/* Validation and compilation finish before anything is written: a broken
	 * policy never replaces a working one. */
	rc = load_policy(o->file, &p);
	if (rc != EXIT_OK)
		return rc;
	cfg = xdp_config(p);
	if (cfg == NULL) {
		fprintf(stderr, "tgctl: out of memory\n");
		pol_free(p);
		return EXIT_SYSTEM;
	}
	rc = load_check(o, p, cfg);
	if (rc == EXIT_OK)
		rc = open_maps(o, &ms);
	if (rc != EXIT_OK) {
		free(cfg);
		pol_free(p);
		return rc;
	}
	if (tg_mapset_lock(&ms, true) < 0) {
		fprintf(stderr, "tgctl: cannot lock %s: %s\n", o->bpffs, strerror(errno));
		rc = EXIT_SYSTEM;
		goto out;
	}
	/* The pre-filter's tables first: if they cannot be written, nothing of
	 * the new policy is in force.  Then the fast path's, flipped last. */
	if (ctl_xdp_publish(o->bpffs, cfg, p->hdr.n_links, err, sizeof(err)) < 0) {
		tg_mapset_unlock(&ms);
		fprintf(stderr, "tgctl: %s: XDP pre-filter maps: %s\n", o->file, err);
		rc = EXIT_SYSTEM;
		goto out;
	}
	gen = ctl_publish(&ms, p, err, sizeof(err));
	tg_mapset_unlock(&ms);
	if (gen == 0) {
		fprintf(stderr, "tgctl: %s: %s\n", o->file, err);
		rc = EXIT_POLICY;
		goto out;
	}
	if (!o->quiet) {
		printf("%s: published as generation %" PRIu64 " (%u rules, %u peers) in %s\n",
		       o->file, gen, p->hdr.n_rules, p->hdr.n_peers, o->bpffs);
		fflush(stdout);
	}
	rc = wait_installed(o, &ms, gen);
out:
	tg_mapset_close(&ms);
	free(cfg);
	pol_free(p);
	return rc;
}

static json_t *
slot_json(const struct tg_snapshot *s, bool active)
{
	char digest[65], when[64];
	json_t *peers = json_array(), *links = json_array();

	fmt_digest(s->hdr.digest, digest);
	fmt_time(s->hdr.published_ns, when, sizeof(when));
	for (unsigned i = 0; i < s->hdr.n_links; i++) {
		const struct tg_link *l = &s->links[i];

		json_array_append_new(links, json_pack("{s:s, s:s, s:s}", "name", l->name, "port",
						       l->dev, "default_marking",
						       l->has_default_marking ? l->default_marking_text : ""));
	}
	for (unsigned i = 0; i < s->hdr.n_peers; i++) {
		const struct tg_peer *p = &s->peers[i];
		json_t *classes = json_array();

		for (unsigned c = 0; c < s->hdr.n_classes; c++)
			if (p->classes & (1u << c))
				json_array_append_new(classes, json_string(s->hdr.classes[c]));
		json_array_append_new(peers,
				      json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", p->name, "port",
						p->dev, "nation", p->nation, "clearance",
						tg_level_name(p->clearance), "receives", classes));
	}
	return json_pack("{s:b, s:I, s:s, s:s, s:s, s:i, s:o, s:o}", "active", active,
			 "generation", (json_int_t)s->generation, "digest", digest, "published",
			 when, "source", s->hdr.source, "rules", (int)s->hdr.n_rules, "links",
			 links, "peers", peers);
}

static void
print_slot(const struct tg_snapshot *s)
{
	char digest[65], when[64];

	fmt_digest(s->hdr.digest, digest);
	fmt_time(s->hdr.published_ns, when, sizeof(when));
	printf("generation  %" PRIu64 "\n", s->generation);
	printf("digest      sha256:%s\n", digest);
	printf("source      %s\n", s->hdr.source);
	printf("published   %s\n", when);
	printf("rules       %u\n", s->hdr.n_rules);
	printf("links       %u\n", s->hdr.n_links);
	for (unsigned i = 0; i < s->hdr.n_links; i++)
		printf("  %-12s port %-16s default %s encodings%s%s\n", s->links[i].name,
		       s->links[i].dev,
		       s->links[i].has_default_marking ? s->links[i].default_marking_text : "(none)",
		       (s->links[i].encodings & TG_ENC_F_XML) ? " xml" : "",
		       (s->links[i].encodings & TG_ENC_F_TAKV1) ? " takproto-v1" : "");
	printf("peers       %u\n", s->hdr.n_peers);
	for (unsigned i = 0; i < s->hdr.n_peers; i++) {
		const struct tg_peer *p = &s->peers[i];

		printf("  %-12s port %-16s nation %s clearance %-12s receives", p->name, p->dev,
		       p->nation, tg_level_name(p->clearance));
		for (unsigned c = 0; c < s->hdr.n_classes; c++)
			if (p->classes & (1u << c))
				printf(" %s", s->hdr.classes[c]);
		printf("%s\n", p->encoding == TG_PEER_ENC_XML ? " encoding xml" : "");
	}
	print_sanitize(&s->hdr, s->peers, s->hdr.n_peers);
}

static int
cmd_show(const struct opts *o)
{
	struct tg_mapset ms;
	struct tg_ctl_view v;
	struct tg_snapshot cur, prev;
	char err[512];
	int rc = open_maps(o, &ms), have_prev;

	if (rc != EXIT_OK)
		return rc;
	if (!tg_ctl_read(&ms, &v)) {
		struct tg_ack a;

		fprintf(stderr, "tgctl: no policy has been published in %s\n", o->bpffs);
		/* The directory was replaced under a running dataplane, which keeps
		 * the policy it had (docs/tgctl.md): say so. */
		if (tg_ack_read(&ms, &a) && a.state == TG_ACK_RUNNING && a.foreign_gen != 0)
			fprintf(stderr,
				"tgctl: trackgate pid %" PRIu64 " enforces the policy it read "
				"from maps since removed or replaced (generation %" PRIu64
				" there, sha256:%02x%02x%02x%02x%02x%02x%02x%02x) until one is "
				"loaded here\n",
				a.pid, a.foreign_gen, a.digest[0], a.digest[1], a.digest[2],
				a.digest[3], a.digest[4], a.digest[5], a.digest[6], a.digest[7]);
		tg_mapset_close(&ms);
		return EXIT_NOTHING;
	}
	if (tg_snapshot_read_slot(&ms, v.active_slot, &cur, err, sizeof(err)) != 1) {
		fprintf(stderr, "tgctl: %s\n", err);
		tg_mapset_close(&ms);
		return EXIT_SYSTEM;
	}
	have_prev = tg_snapshot_read_slot(&ms, v.active_slot ^ 1, &prev, err, sizeof(err)) == 1;
	if (o->json) {
		json_t *root = json_pack("{s:o}", "active", slot_json(&cur, true));

		if (have_prev)
			json_object_set_new(root, "previous", slot_json(&prev, false));
		json_dumpf(root, stdout, JSON_INDENT(2));
		printf("\n");
		json_decref(root);
	} else {
		print_slot(&cur);
		if (have_prev) {
			char digest[65];

			fmt_digest(prev.hdr.digest, digest);
			printf("previous    generation %" PRIu64 " sha256:%.16s (tgctl rollback)\n",
			       prev.generation, digest);
		}
	}
	tg_snapshot_free(&cur);
	if (have_prev)
		tg_snapshot_free(&prev);
	tg_mapset_close(&ms);
	return EXIT_OK;
}

static int
cmd_rollback(const struct opts *o)
{
	struct tg_mapset ms;
	char err[512];
	uint64_t gen;
	int rc = open_maps(o, &ms);

	if (rc != EXIT_OK)
		return rc;
	if (tg_mapset_lock(&ms, true) < 0) {
		fprintf(stderr, "tgctl: cannot lock %s\n", o->bpffs);
		tg_mapset_close(&ms);
		return EXIT_SYSTEM;
	}
	gen = ctl_rollback(&ms, err, sizeof(err));
	tg_mapset_unlock(&ms);
	if (gen == 0) {
		fprintf(stderr, "tgctl: %s\n", err);
		rc = EXIT_NOTHING;
	} else {
		if (!o->quiet) {
			printf("rolled back: previous policy active as generation %" PRIu64 "\n",
			       gen);
			fflush(stdout);
		}
		rc = wait_installed(o, &ms, gen);
	}
	tg_mapset_close(&ms);
	return rc;
}

static json_t *
reasons_json(const uint64_t *r, unsigned first, unsigned last)
{
	json_t *o = json_object();

	for (unsigned i = first; i <= last; i++)
		json_object_set_new(o, tg_reason_name(i), json_integer((json_int_t)r[i]));
	return o;
}

static int
rule_hit_json(uint32_t rule_id, uint64_t hits, void *arg)
{
	char k[16];

	snprintf(k, sizeof(k), "%u", rule_id);
	return json_object_set_new(arg, k, json_integer((json_int_t)hits)) < 0 ? 1 : 0;
}

/* {"rule id": hits, ...}; NULL with err set. */
static json_t *
rule_hits_json(const struct tg_mapset *ms, char *err, size_t errlen)
{
	json_t *o = json_object();
	int rc = o != NULL ? tg_rule_hits_each(ms, rule_hit_json, o, err, errlen) : 1;

	if (rc == 0)
		return o;
	if (rc > 0)
		snprintf(err, errlen, "out of memory");
	json_decref(o);
	return NULL;
}

static int
cmd_stats(const struct opts *o)
{
	struct tg_mapset ms;
	struct tg_stats *st = malloc(sizeof(*st));
	int rc = open_maps(o, &ms);
	char when[64];

	if (st == NULL)
		rc = EXIT_SYSTEM;
	if (rc != EXIT_OK) {
		free(st);
		return rc;
	}
	if (!tg_stats_read(&ms, st)) {
		fprintf(stderr, "tgctl: counters kept changing while being read\n");
		free(st);
		tg_mapset_close(&ms);
		return EXIT_SYSTEM;
	}
	fmt_time(st->updated_ns, when, sizeof(when));
	/* The pre-filter's counters exist once a policy was loaded here. */
	uint64_t xdp[XDP_V_COUNT];
	char xerr[256];
	bool have_xdp = ctl_xdp_read_verdicts(o->bpffs, xdp, xerr, sizeof(xerr)) == 0;

	if (o->json) {
		json_t *peers = json_array(), *ports = json_array();
		json_t *root, *hits = rule_hits_json(&ms, xerr, sizeof(xerr));

		if (hits == NULL) {
			fprintf(stderr, "tgctl: %s\n", xerr);
			json_decref(peers);
			json_decref(ports);
			free(st);
			tg_mapset_close(&ms);
			return EXIT_SYSTEM;
		}

		for (unsigned i = 0; i < st->n_peers && i < TG_MAX_PEERS; i++)
			json_array_append_new(
				peers, json_pack("{s:s, s:I, s:I, s:I, s:o}", "name", st->peer[i].name,
						 "released", (json_int_t)st->peer[i].released, "bytes",
						 (json_int_t)st->peer[i].bytes, "sanitized",
						 (json_int_t)st->peer[i].sanitized, "withheld",
						 reasons_json(st->peer[i].withheld, TG_R_PEER_FIRST,
							      TG_R_COUNT - 1)));
		for (unsigned i = 0; i < st->n_ports && i < TG_STATS_MAX_PORTS; i++)
			json_array_append_new(
				ports, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "port",
						 st->port[i].dev, "ipackets",
						 (json_int_t)st->port[i].ipackets, "opackets",
						 (json_int_t)st->port[i].opackets, "imissed",
						 (json_int_t)st->port[i].imissed, "ierrors",
						 (json_int_t)st->port[i].ierrors, "oerrors",
						 (json_int_t)st->port[i].oerrors));
		root = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o}",
				 "updated", when, "pid", (json_int_t)st->pid, "generation",
				 (json_int_t)st->generation, "rx_packets",
				 (json_int_t)st->rx_packets, "messages", (json_int_t)st->messages,
				 "released", (json_int_t)st->released, "audit_lost",
				 (json_int_t)st->audit_lost, "dropped",
				 reasons_json(st->reason, TG_R_MSG_FIRST, TG_R_MSG_LAST),
				 "peers", peers, "ports", ports, "rule_hits", hits);
		json_t *perr = json_object();

		/* dropped.parse by the parser's error: they add up to it */
		for (unsigned e = 0; e < COT_E_COUNT; e++)
			json_object_set_new(perr, cot_err_counter_name(e),
					    json_integer((json_int_t)st->parse_err[e]));
		json_object_set_new(root, "parse_err", perr);
		json_object_set_new(root, "scan_skipped", json_integer((json_int_t)st->scan_skipped));
		json_t *enc = json_object();

		/* messages and their message-level drops, by encoding */
		for (unsigned e = 0; e < TG_ENC_COUNT; e++)
			json_object_set_new(
				enc, tg_encoding_name(e),
				json_pack("{s:I, s:o}", "messages", (json_int_t)st->enc_messages[e],
					  "dropped",
					  reasons_json(st->enc_reason[e], TG_R_MSG_FIRST,
						       TG_R_MSG_LAST)));
		json_object_set_new(root, "encodings", enc);
		json_object_set_new(root, "converted", json_integer((json_int_t)st->converted));
		json_t *pf = json_object();

		for (unsigned s = 0; s < TG_SCOPE_COUNT; s++)
			if (st->prefilter_scanned[s] || st->prefilter_skipped[s])
				json_object_set_new(
					pf, tg_scope_name(s),
					json_pack("{s:I, s:I}", "scanned",
						  (json_int_t)st->prefilter_scanned[s], "skipped",
						  (json_int_t)st->prefilter_skipped[s]));
		json_object_set_new(root, "prefilter", pf);
		if (have_xdp) {
			json_t *x = json_object();

			for (unsigned v = 0; v < XDP_V_COUNT; v++)
				json_object_set_new(x, ctl_xdp_verdict_name(v),
						    json_integer((json_int_t)xdp[v]));
			json_object_set_new(root, "xdp", x);
		}
		json_dumpf(root, stdout, JSON_INDENT(2));
		printf("\n");
		json_decref(root);
	} else {
		printf("dataplane pid %" PRIu64 ", policy generation %" PRIu64 ", updated %s\n",
		       st->pid, st->generation, when);
		printf("rx packets %" PRIu64 "  messages %" PRIu64 "  released %" PRIu64
		       "  audit lost %" PRIu64 "\n",
		       st->rx_packets, st->messages, st->released, st->audit_lost);
		printf("decided before the late scan (no peer could receive them) %" PRIu64 "\n",
		       st->scan_skipped);
		printf("\ndropped (per message)\n");
		for (unsigned r = TG_R_MSG_FIRST; r <= TG_R_MSG_LAST; r++) {
			if (!st->reason[r])
				continue;
			printf("  %-16s %12" PRIu64 "\n", tg_reason_name(r), st->reason[r]);
			for (unsigned e = 0; r == TG_R_PARSE && e < COT_E_COUNT; e++)
				if (st->parse_err[e])
					printf("    %-14s %12" PRIu64 "\n",
					       cot_err_counter_name(e), st->parse_err[e]);
		}
		printf("\n%-12s %12s  dropped (per message)\n", "encoding", "messages");
		for (unsigned e = 0; e < TG_ENC_COUNT; e++) {
			printf("%-12s %12" PRIu64 " ", tg_encoding_name(e), st->enc_messages[e]);
			for (unsigned r = TG_R_MSG_FIRST; r <= TG_R_MSG_LAST; r++)
				if (st->enc_reason[e][r])
					printf(" %s=%" PRIu64, tg_reason_name(r), st->enc_reason[e][r]);
			printf("\n");
		}
		if (st->converted)
			printf("converted to XML for peers with encoding: xml %" PRIu64 "\n",
			       st->converted);
		printf("\n%-12s %12s %14s  withheld\n", "peer", "released", "bytes");
		for (unsigned i = 0; i < st->n_peers && i < TG_MAX_PEERS; i++) {
			printf("%-12s %12" PRIu64 " %14" PRIu64 " ", st->peer[i].name,
			       st->peer[i].released, st->peer[i].bytes);
			if (st->peer[i].sanitized)
				printf(" sanitized=%" PRIu64, st->peer[i].sanitized);
			for (unsigned r = TG_R_PEER_FIRST; r < TG_R_COUNT; r++)
				if (st->peer[i].withheld[r])
					printf(" %s=%" PRIu64, tg_reason_name(r),
					       st->peer[i].withheld[r]);
			printf("\n");
		}
		for (unsigned s = 0, first = 1; s < TG_SCOPE_COUNT; s++) {
			uint64_t a = st->prefilter_scanned[s], b = st->prefilter_skipped[s];

			if (!a && !b)
				continue;
			if (first)
				printf("\nprefiltered field rules (docs/release.md §4)\n");
			first = 0;
			printf("  %-16s scanned %12" PRIu64 "  skipped %12" PRIu64 " (%.1f %%)\n",
			       tg_scope_name(s), a, b, 100.0 * (double)b / (double)(a + b));
		}
		if (have_xdp) {
			uint64_t any = 0;

			for (unsigned v = 0; v < XDP_V_COUNT; v++)
				any |= xdp[v];
			printf("\nXDP pre-filter verdicts%s\n",
			       any ? "" : ": none (no link has an xdp_iface in use)");
			for (unsigned v = 0; v < XDP_V_COUNT; v++)
				if (xdp[v])
					printf("  %-16s %12" PRIu64 "\n", ctl_xdp_verdict_name(v),
					       xdp[v]);
		}
		printf("\n%-16s %12s %12s %10s %10s\n", "port", "rx", "tx", "missed", "errors");
		for (unsigned i = 0; i < st->n_ports && i < TG_STATS_MAX_PORTS; i++)
			printf("%-16s %12" PRIu64 " %12" PRIu64 " %10" PRIu64 " %10" PRIu64 "\n",
			       st->port[i].dev, st->port[i].ipackets, st->port[i].opackets,
			       st->port[i].imissed, st->port[i].ierrors + st->port[i].oerrors);
	}
	free(st);
	tg_mapset_close(&ms);
	return EXIT_OK;
}

/* --now: "pcap", seconds since 1970 (a fraction allowed), or an RFC 3339
 * UTC time. */
static int
parse_now(const char *v, struct explain_opts *ex)
{
	struct tm tm = {0};
	const char *end;
	char *e;
	double sec;

	if (strcmp(v, "pcap") == 0) {
		ex->now_pcap = true;
		return 0;
	}
	ex->now_pcap = false;
	errno = 0;
	sec = strtod(v, &e);
	if (v[0] >= '0' && v[0] <= '9' && *e == '\0' && errno == 0 && sec < 1e11) {
		ex->now_ms = (int64_t)(sec * 1000.0);
		return 0;
	}
	end = strptime(v, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL)
		return -1;
	sec = 0;
	if (*end == '.') {
		sec = strtod(end, &e);
		end = e;
	}
	if (strcmp(end, "Z") != 0)
		return -1;
	ex->now_ms = (int64_t)timegm(&tm) * 1000 + (int64_t)(sec * 1000.0);
	return 0;
}

static int
cmd_explain(struct opts *o)
{
	struct pol_policy *p;
	int rc = load_policy(o->file, &p);

	if (rc != EXIT_OK)
		return rc;
	if (!o->now_given) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		o->ex.now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
	o->ex.json = o->json != 0;
	rc = explain_run(p, &o->ex);
	pol_free(p);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"bpffs", required_argument, NULL, 'b'},
		{"json", no_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"wait-ms", required_argument, NULL, 'W'},
		{"no-wait", no_argument, NULL, 'N'},
		{"xml", required_argument, NULL, 'X'},
		{"pcap", required_argument, NULL, 'P'},
		{"link", required_argument, NULL, 'L'},
		{"now", required_argument, NULL, 'T'},
		{NULL, 0, NULL, 0},
	};
	struct opts o = {.bpffs = TG_DEFAULT_BPFFS, .wait_ms = WAIT_MS_DEFAULT};
	const char *words[2] = {NULL, NULL}; /* the command, and its FILE */
	unsigned n_words = 0;
	bool wait_given = false;
	int c;

	/* Options may stand anywhere: getopt permutes the words to the end. */
	while ((c = getopt_long(argc, argv, "b:jqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o.bpffs = optarg;
			break;
		case 'j':
			o.json = 1;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'W': {
			char *end;
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' || errno != 0 ||
			    v == 0 || v > WAIT_MS_MAX) {
				fprintf(stderr,
					"tgctl: --wait-ms '%s': not a number of milliseconds "
					"1..%u\n",
					optarg, WAIT_MS_MAX);
				fputs(usage_text, stderr);
				return EXIT_USAGE;
			}
			o.wait_ms = (unsigned)v;
			wait_given = true;
			break;
		}
		case 'N':
			o.no_wait = 1;
			break;
		case 'X':
			if (o.ex.n_xml == EXPLAIN_MAX_FILES) {
				fprintf(stderr, "tgctl: at most %u --xml files\n",
					EXPLAIN_MAX_FILES);
				return EXIT_USAGE;
			}
			o.ex.xml[o.ex.n_xml++] = optarg;
			break;
		case 'P':
			if (o.ex.pcap != NULL) {
				fprintf(stderr, "tgctl: --pcap given twice\n");
				return EXIT_USAGE;
			}
			o.ex.pcap = optarg;
			break;
		case 'L':
			o.ex.link = optarg;
			break;
		case 'T':
			if (parse_now(optarg, &o.ex) < 0) {
				fprintf(stderr,
					"tgctl: --now '%s': not seconds since 1970, "
					"YYYY-MM-DDTHH:MM:SS[.fff]Z or \"pcap\"\n",
					optarg);
				fputs(usage_text, stderr);
				return EXIT_USAGE;
			}
			o.now_given = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	for (; optind < argc; optind++) {
		if (n_words == 2) {
			fprintf(stderr, "tgctl: unexpected argument '%s'\n", argv[optind]);
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
		words[n_words++] = argv[optind];
	}
	o.cmd = words[0];
	o.file = words[1];
	if (o.cmd == NULL) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (o.no_wait && wait_given) {
		fprintf(stderr, "tgctl: --wait-ms and --no-wait exclude each other\n");
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	bool takes_file = strcmp(o.cmd, "check") == 0 || strcmp(o.cmd, "load") == 0 ||
			  strcmp(o.cmd, "explain") == 0;
	bool explain = strcmp(o.cmd, "explain") == 0;

	if (!explain && (o.ex.n_xml || o.ex.pcap || o.ex.link || o.now_given)) {
		fprintf(stderr, "tgctl: --xml, --pcap, --link and --now are for explain\n");
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (explain && (o.ex.n_xml == 0) == (o.ex.pcap == NULL)) {
		fprintf(stderr, "tgctl: explain needs messages: --xml MSG (repeatable) or "
				"--pcap PCAP, not both\n");
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (explain && o.ex.now_pcap && o.ex.pcap == NULL) {
		fprintf(stderr, "tgctl: --now pcap needs --pcap\n");
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}

	if (takes_file && o.file == NULL) {
		fprintf(stderr, "tgctl: %s needs a policy FILE\n", o.cmd);
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (!takes_file && o.file != NULL) {
		fprintf(stderr, "tgctl: unexpected argument '%s'\n", o.file);
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(o.cmd, "check") == 0)
		return cmd_check(&o);
	if (strcmp(o.cmd, "load") == 0)
		return cmd_load(&o);
	if (strcmp(o.cmd, "show") == 0)
		return cmd_show(&o);
	if (strcmp(o.cmd, "stats") == 0)
		return cmd_stats(&o);
	if (strcmp(o.cmd, "rollback") == 0)
		return cmd_rollback(&o);
	if (explain)
		return cmd_explain(&o);
	fprintf(stderr, "tgctl: unknown command '%s'\n", o.cmd);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}
