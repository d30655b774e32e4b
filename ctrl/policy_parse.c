/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * policy_parse.c - load a policy file (docs/policy.md) into struct
 * pol_policy and check everything that can be checked without Hyperscan.
 *
 * The file is read into a tree of our own (policy_yaml.c) in which every
 * node keeps its line and column.  The tree is walked against the schema;
 * every problem is collected with its position, and the walk goes on so one
 * run reports as many problems as it can.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "marking.h"
#include "policy.h"
#include "policy_yaml.h"
#include "tg_names.h"

struct rule_tmp {
	struct tg_rule r;
	char *expr;
	struct pol_pos pos; /* of `match` */
	uint32_t node;      /* the rule's mapping */
};

struct pctx {
	const char *file;
	struct pol_errors *errs;
	struct ydoc d;
	struct pol_policy *p;
	struct rule_tmp *rt;
	uint32_t nrt;
	uint32_t peer_node[TG_MAX_PEERS];
	uint32_t link_node[TG_MAX_LINKS];
	uint32_t peer_link[TG_MAX_PEERS];     /* `link` value node, 0 = none */
	uint32_t peer_receives[TG_MAX_PEERS]; /* `receives` node, 0 = none */
	uint32_t peer_sanitize[TG_MAX_PEERS]; /* `sanitize` node, 0 = none */
	bool peer_ok[TG_MAX_PEERS];
	bool rules_bad; /* classes may be missing: skip the receives check */
};

/* ------------------------------------------------------- node access */

static struct ynode *
Y(struct pctx *c, uint32_t i)
{
	return i ? &c->d.v[i] : NULL;
}

static const char *
S(const struct pctx *c, const struct ynode *n)
{
	return c->d.s + n->str;
}

__attribute__((format(printf, 3, 4))) static void
perr(struct pctx *c, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pol_error_vadd(c->errs, c->file, n ? n->line : 1, n ? n->col : 1, fmt, ap);
	va_end(ap);
}

/* A scalar, quoted and shortened for messages, non-printables escaped. */
static const char *
disp(const struct pctx *c, const struct ynode *n, char *buf, size_t size)
{
	const unsigned char *s = (const unsigned char *)S(c, n);
	size_t i, o = 0;

	buf[o++] = '\'';
	for (i = 0; i < n->len && o + 8 < size; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f)
			buf[o++] = (char)s[i];
		else
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", s[i]);
	}
	if (i < n->len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '\'';
	buf[o] = '\0';
	return buf;
}

#define DISP(c, n) disp((c), (n), (char[80]){ 0 }, 80)

/* ---------------------------------------------------------- schema walk */

static const char *
kind_name(const struct ynode *n)
{
	switch (n->kind) {
	case Y_SEQ:
		return "a list";
	case Y_MAP:
		return "a mapping";
	default:
		return "a scalar";
	}
}

static bool
is_null(const struct pctx *c, const struct ynode *n)
{
	const char *s = S(c, n);

	return n->kind == Y_SCALAR && n->plain &&
	       (n->len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
		strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0);
}

static bool
want(struct pctx *c, const struct ynode *n, enum ykind kind, const char *key)
{
	static const char *const names[] = { "", "a string", "a list", "a mapping" };

	if (n->kind == kind && !(kind == Y_SCALAR && is_null(c, n)))
		return true;
	if (n->kind == Y_SCALAR && is_null(c, n))
		perr(c, n, "'%s' must be %s, but it is empty", key, names[kind]);
	else
		perr(c, n, "'%s' must be %s, not %s", key, names[kind], kind_name(n));
	return false;
}

/*
 * Check a mapping's keys against the schema: keys must be strings, known and
 * not repeated.  `what` names the mapping in messages.
 */
static bool
check_keys(struct pctx *c, const struct ynode *m, const char *what,
	   const char *const *allowed, unsigned int nallowed)
{
	uint32_t first_line[32] = { 0 };
	const struct ynode *k;
	unsigned int i;
	bool ok = true;
	char list[256];
	size_t o = 0;

	for (k = Y(c, m->first); k != NULL; k = Y(c, Y(c, k->next)->next)) {
		if (k->kind != Y_SCALAR) {
			perr(c, k, "keys in %s must be strings, not %s", what, kind_name(k));
			ok = false;
			continue;
		}
		for (i = 0; i < nallowed; i++)
			if (strcmp(S(c, k), allowed[i]) == 0)
				break;
		if (i == nallowed) {
			if (o == 0)
				for (i = 0; i < nallowed && o < sizeof(list); i++)
					o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
							      i ? ", " : "", allowed[i]);
			perr(c, k, "unknown key %s in %s (expected: %s)", DISP(c, k), what, list);
			ok = false;
		} else if (first_line[i]) {
			perr(c, k, "duplicate key '%s' in %s (first at line %u)", allowed[i], what,
			     first_line[i]);
			ok = false;
		} else {
			first_line[i] = k->line;
		}
	}
	return ok;
}

static const struct ynode *
get(struct pctx *c, const struct ynode *m, const char *key)
{
	const struct ynode *k;

	for (k = Y(c, m->first); k != NULL; k = Y(c, Y(c, k->next)->next))
		if (k->kind == Y_SCALAR && strcmp(S(c, k), key) == 0)
			return Y(c, k->next);
	return NULL;
}

static const struct ynode *
need(struct pctx *c, const struct ynode *m, const char *key, const char *what)
{
	const struct ynode *v = get(c, m, key);

	if (v == NULL)
		perr(c, m, "%s: missing required key '%s'", what, key);
	return v;
}

static bool
get_uint(struct pctx *c, const struct ynode *n, const char *key, uint64_t min, uint64_t max,
	 uint64_t *out)
{
	const char *s = S(c, n);
	uint64_t v = 0;
	size_t i;

	if (n->kind != Y_SCALAR || !n->plain || n->len == 0 || n->len > 20)
		goto bad;
	for (i = 0; i < n->len; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		if (v > (UINT64_MAX - 9) / 10)
			goto range;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v < min || v > max)
		goto range;
	*out = v;
	return true;
bad:
	if (n->kind != Y_SCALAR)
		perr(c, n, "'%s' must be an integer, not %s", key, kind_name(n));
	else
		perr(c, n, "'%s' must be an integer from %llu to %llu, not %s%s", key,
		     (unsigned long long)min, (unsigned long long)max, DISP(c, n),
		     n->plain ? "" : " (a quoted string)");
	return false;
range:
	perr(c, n, "'%s' is %s, out of range %llu..%llu", key, DISP(c, n),
	     (unsigned long long)min, (unsigned long long)max);
	return false;
}

static bool
opt_uint(struct pctx *c, const struct ynode *m, const char *key, uint64_t min, uint64_t max,
	 uint64_t dflt, uint64_t *out)
{
	const struct ynode *n = get(c, m, key);

	*out = dflt;
	return n == NULL || get_uint(c, n, key, min, max, out);
}

static bool
get_bool(struct pctx *c, const struct ynode *n, const char *key, bool *out)
{
	const char *s = S(c, n);

	if (n->kind == Y_SCALAR && n->plain) {
		if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
			*out = true;
			return true;
		}
		if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
			*out = false;
			return true;
		}
	}
	if (n->kind != Y_SCALAR)
		perr(c, n, "'%s' must be true or false, not %s", key, kind_name(n));
	else
		perr(c, n, "'%s' must be true or false, not %s", key, DISP(c, n));
	return false;
}

/* An encoding's name (docs/policy.md): its TG_ENC_F_* bit, 0 if unknown. */
static unsigned
encoding_bit(const char *s)
{
	for (unsigned e = 0; e < TG_ENC_COUNT; e++)
		if (strcmp(s, tg_encoding_name(e)) == 0)
			return 1u << e;
	return 0;
}

/* A link's `encodings`: a list of distinct known names, at least one. */
static void
get_encodings(struct pctx *c, const struct ynode *n, uint8_t *out)
{
	const struct ynode *e;

	if (!want(c, n, Y_SEQ, "encodings"))
		return;
	if (n->n == 0) {
		perr(c, n, "'encodings' must name at least one encoding (xml, takproto-v1)");
		return;
	}
	*out = 0;
	for (e = Y(c, n->first); e != NULL; e = Y(c, e->next)) {
		unsigned bit;

		if (!want(c, e, Y_SCALAR, "encodings"))
			continue;
		bit = encoding_bit(S(c, e));
		if (bit == 0)
			perr(c, e, "unknown encoding %s (expected xml or takproto-v1)", DISP(c, e));
		else if (*out & bit)
			perr(c, e, "encoding %s listed twice", DISP(c, e));
		*out |= (uint8_t)bit;
	}
}

/* A non-empty string shorter than `size`, copied NUL-terminated. */
static bool
get_str(struct pctx *c, const struct ynode *n, const char *key, char *out, size_t size)
{
	if (!want(c, n, Y_SCALAR, key))
		return false;
	if (n->len == 0) {
		perr(c, n, "'%s' must not be empty", key);
		return false;
	}
	if (n->len >= size) {
		perr(c, n, "'%s' is %u bytes long, the limit is %zu", key, n->len, size - 1);
		return false;
	}
	if (memchr(S(c, n), '\0', n->len) != NULL) {
		perr(c, n, "'%s' holds a NUL character", key);
		return false;
	}
	memcpy(out, S(c, n), n->len + 1);
	return true;
}

/* Names of links, peers, rules, classes, reasons: [A-Za-z0-9_.-]{1,31}. */
static bool
get_name(struct pctx *c, const struct ynode *n, const char *key, char *out)
{
	size_t i;

	if (!get_str(c, n, key, out, TG_NAME_MAX))
		return false;
	for (i = 0; out[i]; i++) {
		char ch = out[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-')) {
			perr(c, n, "'%s' %s may hold only letters, digits, '_', '.' and '-'", key,
			     DISP(c, n));
			return false;
		}
	}
	return true;
}

static bool
is_trigraph(const char *s, size_t len)
{
	return len == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' &&
	       s[2] >= 'A' && s[2] <= 'Z';
}

static bool
get_trigraph(struct pctx *c, const struct ynode *n, const char *key, char out[4])
{
	if (!want(c, n, Y_SCALAR, key))
		return false;
	if (!is_trigraph(S(c, n), n->len)) {
		perr(c, n, "%s %s is not an ISO 3166 trigraph (three upper-case letters)", key,
		     DISP(c, n));
		return false;
	}
	memcpy(out, S(c, n), 4);
	return true;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static bool
get_mac(struct pctx *c, const struct ynode *n, const char *key, uint8_t mac[6])
{
	const char *s = S(c, n);
	int i, h, l;

	if (!want(c, n, Y_SCALAR, key))
		return false;
	if (n->len != 17)
		goto bad;
	for (i = 0; i < 6; i++) {
		h = hexval(s[i * 3]);
		l = hexval(s[i * 3 + 1]);
		if (h < 0 || l < 0 || (i < 5 && s[i * 3 + 2] != ':'))
			goto bad;
		mac[i] = (uint8_t)(h << 4 | l);
	}
	return true;
bad:
	perr(c, n, "'%s': bad MAC address %s (expected six hex bytes like 02:00:00:00:00:01)",
	     key, DISP(c, n));
	return false;
}

/* Returns the family (4 or 6), 0 after an error. */
static int
get_ip(struct pctx *c, const struct ynode *n, const char *key, uint8_t addr[16])
{
	const char *s = S(c, n);

	memset(addr, 0, 16);
	if (!want(c, n, Y_SCALAR, key))
		return 0;
	if (inet_pton(AF_INET, s, addr) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, addr) == 1)
		return 6;
	perr(c, n, "'%s': bad IP address %s", key, DISP(c, n));
	return 0;
}

static bool
get_prefix(struct pctx *c, const struct ynode *n, const char *key, struct ctl_prefix *pf)
{
	memset(pf, 0, sizeof(*pf));
	if (!want(c, n, Y_SCALAR, key))
		return false;
	if (n->len > CTL_PREFIX_TEXT_MAX || ctl_prefix_parse(S(c, n), pf) < 0) {
		perr(c, n, "'%s': bad prefix %s (expected an IPv4 or IPv6 address with an optional /length)",
		     key, DISP(c, n));
		return false;
	}
	if (ctl_prefix_has_host_bits(pf)) {
		perr(c, n, "'%s': prefix %s has bits set past /%u", key, DISP(c, n), pf->len);
		return false;
	}
	return true;
}

#define KEYS(...) (const char *const[]){ __VA_ARGS__ }, \
	sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *)

/* -------------------------------------------------------------- sections */

static void
parse_settings(struct pctx *c, const struct ynode *m)
{
	struct tg_slot_hdr *h = &c->p->hdr;
	const struct ynode *n;
	uint64_t v;
	bool b;

	h->stale_tolerance_s = 30;
	h->max_message_bytes = 8192;
	h->max_field_bytes = TG_FIELD_LIMIT_DEFAULT;
	h->max_remarks_bytes = TG_REMARKS_LIMIT_DEFAULT;
	if (m == NULL || !want(c, m, Y_MAP, "settings"))
		return;
	check_keys(c, m, "settings", KEYS("stale_tolerance_s", "ignore_stale", "max_message_bytes",
					  "max_field_bytes", "max_remarks_bytes"));
	if (opt_uint(c, m, "max_field_bytes", TG_FIELD_LIMIT_MIN, TG_FIELD_LIMIT_MAX,
		     TG_FIELD_LIMIT_DEFAULT, &v))
		h->max_field_bytes = (uint16_t)v;
	if (opt_uint(c, m, "max_remarks_bytes", 0, TG_REMARKS_LIMIT_MAX, TG_REMARKS_LIMIT_DEFAULT,
		     &v))
		h->max_remarks_bytes = (uint16_t)v;
	if (opt_uint(c, m, "stale_tolerance_s", 0, 31536000, 30, &v))
		h->stale_tolerance_s = (uint32_t)v;
	if (opt_uint(c, m, "max_message_bytes", 1, POL_MAX_MESSAGE_BYTES, 8192, &v))
		h->max_message_bytes = (uint32_t)v;
	n = get(c, m, "ignore_stale");
	if (n != NULL && get_bool(c, n, "ignore_stale", &b) && b)
		h->flags |= TG_PF_IGNORE_STALE;
}

static int
nation_index(struct pctx *c, const char *tri)
{
	struct tg_slot_hdr *h = &c->p->hdr;
	uint32_t i;

	for (i = 0; i < h->n_nations; i++)
		if (memcmp(h->nations[i], tri, 4) == 0)
			return (int)i;
	if (h->n_nations >= TG_MAX_NATIONS)
		return -1;
	memcpy(h->nations[h->n_nations], tri, 4);
	return (int)h->n_nations++;
}

static void
parse_header(struct pctx *c, const struct ynode *m, struct tg_peer *pe, const char *what)
{
	const struct ynode *n, *sip, *dip;
	int f1 = 0, f2 = 0;
	uint64_t v;

	if (!want(c, m, Y_MAP, "header"))
		return;
	check_keys(c, m, what, KEYS("src_mac", "dst_mac", "src_ip", "dst_ip", "src_port",
				    "dst_port", "vlan", "ttl", "dscp"));
	if ((n = need(c, m, "src_mac", what)))
		get_mac(c, n, "src_mac", pe->src_mac);
	if ((n = need(c, m, "dst_mac", what)))
		get_mac(c, n, "dst_mac", pe->dst_mac);
	if ((sip = need(c, m, "src_ip", what)))
		f1 = get_ip(c, sip, "src_ip", pe->src_ip);
	if ((dip = need(c, m, "dst_ip", what)))
		f2 = get_ip(c, dip, "dst_ip", pe->dst_ip);
	if (f1 && f2 && f1 != f2)
		perr(c, dip, "src_ip %s is IPv%d but dst_ip %s is IPv%d: both must be the same family",
		     DISP(c, sip), f1, DISP(c, dip), f2);
	pe->ip_version = (uint8_t)(f1 ? f1 : f2);
	if ((n = need(c, m, "src_port", what)) && get_uint(c, n, "src_port", 1, 65535, &v))
		pe->src_port = (uint16_t)v;
	if ((n = need(c, m, "dst_port", what)) && get_uint(c, n, "dst_port", 1, 65535, &v))
		pe->dst_port = (uint16_t)v;
	if ((n = get(c, m, "vlan")) && get_uint(c, n, "vlan", 1, 4094, &v)) {
		pe->has_vlan = 1;
		pe->vlan_tci = (uint16_t)v;
	}
	if (opt_uint(c, m, "ttl", 1, 255, 64, &v))
		pe->ttl = (uint8_t)v;
	if (opt_uint(c, m, "dscp", 0, 63, 0, &v))
		pe->dscp = (uint8_t)v;
}

static void
parse_peers(struct pctx *c, const struct ynode *seq)
{
	struct pol_policy *p = c->p;
	const struct ynode *m, *n;
	uint32_t i = 0, j;
	uint64_t v;
	int idx;

	if (seq == NULL || !want(c, seq, Y_SEQ, "peers"))
		return;
	if (seq->n > TG_MAX_PEERS)
		perr(c, seq, "too many peers: %u, the limit is %u", seq->n, TG_MAX_PEERS);
	for (m = Y(c, seq->first); m != NULL && i < TG_MAX_PEERS; m = Y(c, m->next), i++) {
		struct tg_peer *pe = &p->peers[i];
		char what[64];
		bool ok = true;

		c->peer_node[i] = (uint32_t)(m - c->d.v);
		pe->link_idx = -1;
		pe->mtu = 1500;
		pe->ttl = 64;
		snprintf(what, sizeof(what), "peer %u", i + 1);
		if (!want(c, m, Y_MAP, "peers[]"))
			continue;
		if ((n = get(c, m, "name")) && n->kind == Y_SCALAR && n->len < TG_NAME_MAX)
			snprintf(what, sizeof(what), "peer '%s'", S(c, n));
		check_keys(c, m, what, KEYS("name", "port", "nation", "clearance", "link",
					    "receives", "mtu", "header", "encoding", "sanitize"));
		if ((n = get(c, m, "encoding")) && want(c, n, Y_SCALAR, "encoding")) {
			if (strcmp(S(c, n), "xml") == 0)
				pe->encoding = TG_PEER_ENC_XML;
			else if (strcmp(S(c, n), "as-received") != 0)
				perr(c, n, "unknown encoding %s for a peer (expected as-received or xml)",
				     DISP(c, n));
		}
		if ((n = need(c, m, "name", what)) && get_name(c, n, "name", pe->name)) {
			for (j = 0; j < i; j++)
				if (strcmp(p->peers[j].name, pe->name) == 0)
					perr(c, n, "duplicate peer name '%s' (first at line %u)",
					     pe->name, Y(c, c->peer_node[j])->line);
		} else {
			ok = false;
		}
		if ((n = need(c, m, "port", what)) && get_str(c, n, "port", pe->dev, TG_DEV_MAX)) {
			for (j = 0; j < i; j++)
				if (strcmp(p->peers[j].dev, pe->dev) == 0)
					perr(c, n, "port '%s' is already used by peer '%s' (line %u)",
					     pe->dev, p->peers[j].name, Y(c, c->peer_node[j])->line);
		}
		if ((n = need(c, m, "nation", what)) && get_trigraph(c, n, "nation", pe->nation)) {
			idx = nation_index(c, pe->nation);
			pe->nation_idx = (uint8_t)(idx < 0 ? 0 : idx);
		} else {
			ok = false;
		}
		if ((n = need(c, m, "clearance", what)) && want(c, n, Y_SCALAR, "clearance")) {
			for (j = 0; j <= TG_LVL_TOP_SECRET; j++)
				if (strcmp(S(c, n), tg_level_name(j)) == 0)
					break;
			if (j > TG_LVL_TOP_SECRET)
				perr(c, n, "unknown clearance %s (expected UNCLASSIFIED, CONFIDENTIAL, SECRET or TOP SECRET)",
				     DISP(c, n));
			pe->clearance = (uint8_t)j;
		}
		if ((n = get(c, m, "link")) && want(c, n, Y_SCALAR, "link"))
			c->peer_link[i] = (uint32_t)(n - c->d.v);
		if ((n = get(c, m, "receives")) && want(c, n, Y_SEQ, "receives"))
			c->peer_receives[i] = (uint32_t)(n - c->d.v);
		if ((n = get(c, m, "sanitize")))
			c->peer_sanitize[i] = (uint32_t)(n - c->d.v);
		if (opt_uint(c, m, "mtu", 576, 9216, 1500, &v))
			pe->mtu = (uint16_t)v;
		if ((n = need(c, m, "header", what)))
			parse_header(c, n, pe, what);
		c->peer_ok[i] = ok;
	}
	p->hdr.n_peers = i;
}

static bool
group_name_ok(const char *s, size_t len)
{
	size_t i;
	bool letters = true;

	for (i = 0; i < len; i++) {
		char ch = s[i];
		bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');

		if (!alpha && !(ch >= '0' && ch <= '9') && ch != '_' && ch != '-')
			return false;
		letters = letters && alpha;
	}
	return len > 0 && len < TG_NAME_MAX && !(len == 3 && letters);
}

static void
parse_groups(struct pctx *c, const struct ynode *m)
{
	struct tg_slot_hdr *h = &c->p->hdr;
	const struct ynode *k, *v, *t;
	uint32_t i, j;
	char tri[4];

	if (m == NULL || !want(c, m, Y_MAP, "groups"))
		return;
	if (m->n / 2 > TG_MAX_GROUPS)
		perr(c, m, "too many groups: %u, the limit is %u", m->n / 2, TG_MAX_GROUPS);
	for (k = Y(c, m->first), i = 0; k != NULL && i < TG_MAX_GROUPS; k = Y(c, v->next), i++) {
		struct tg_group *g = &h->groups[h->n_groups];

		v = Y(c, k->next);
		if (k->kind != Y_SCALAR) {
			perr(c, k, "group names must be strings, not %s", kind_name(k));
			continue;
		}
		if (!group_name_ok(S(c, k), k->len)) {
			if (k->len == 3)
				perr(c, k, "group name %s has three letters and would be read as a nation trigraph",
				     DISP(c, k));
			else
				perr(c, k, "bad group name %s (1 to %u letters, digits, '_' or '-')",
				     DISP(c, k), TG_NAME_MAX - 1);
			continue;
		}
		for (j = 0; j < h->n_groups; j++)
			if (strcasecmp(h->groups[j].name, S(c, k)) == 0)
				break;
		if (j < h->n_groups) {
			perr(c, k, "duplicate group name %s (group names are case-insensitive)",
			     DISP(c, k));
			continue;
		}
		memset(g, 0, sizeof(*g));
		memcpy(g->name, S(c, k), k->len + 1);
		h->n_groups++;
		if (!want(c, v, Y_SEQ, g->name))
			continue;
		for (t = Y(c, v->first); t != NULL; t = Y(c, t->next)) {
			if (!get_trigraph(c, t, "group member", tri))
				continue;
			/* Members that no peer has cannot be released to: dropped. */
			for (j = 0; j < h->n_nations; j++)
				if (memcmp(h->nations[j], tri, 4) == 0)
					g->mask |= UINT64_C(1) << j;
		}
	}
}

/* ------------------------------------------------------- controls */

/*
 * A control's name or alias in canonical form (upper case, blank runs one
 * space, no blanks around it): words of A-Z a-z 0-9 _ -, 1..TG_NAME_MAX-1
 * characters.  false (and an error) if it is not one.
 */
static bool
control_name(struct pctx *c, const struct ynode *n, const char *key, char out[TG_NAME_MAX])
{
	const char *s;
	size_t o = 0;
	bool blank = false;

	if (!want(c, n, Y_SCALAR, key))
		return false;
	s = S(c, n);
	for (size_t i = 0; i < n->len; i++) {
		char ch = s[i];

		if (ch == ' ' || ch == '\t') {
			blank = o > 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) {
			perr(c, n, "control %s may hold only letters, digits, '_', '-' and blanks",
			     DISP(c, n));
			return false;
		}
		if (o + (blank ? 2 : 1) >= TG_NAME_MAX) {
			perr(c, n, "control %s is longer than %u characters", DISP(c, n),
			     TG_NAME_MAX - 1);
			return false;
		}
		if (blank)
			out[o++] = ' ';
		blank = false;
		out[o++] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 32) : ch;
	}
	out[o] = '\0';
	if (o == 0) {
		perr(c, n, "'%s' must not be empty", key);
		return false;
	}
	/* What the marking grammar reads as something else (release.md §3). */
	static const char *const reserved[] = {"UNCLASSIFIED", "U", "CONFIDENTIAL", "C",
					       "SECRET", "S", "TOP SECRET", "TS", "REL"};
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(out, reserved[i]) == 0) {
			perr(c, n, "control %s is a word of the marking grammar (a level or REL)",
			     DISP(c, n));
			return false;
		}
	if (strncmp(out, "REL ", 4) == 0) {
		perr(c, n, "control %s would be read as a REL TO list", DISP(c, n));
		return false;
	}
	return true;
}

static enum tg_ctl_builtin
control_builtin(const char *canon)
{
	if (strcmp(canon, "NOFORN") == 0 || strcmp(canon, "NF") == 0)
		return TG_CB_NOFORN;
	if (strcmp(canon, "FOUO") == 0)
		return TG_CB_FOUO;
	return TG_CB_NONE;
}

/* One name of control `ci`: distinct from every name before it. */
static void
add_control_name(struct pctx *c, const struct ynode *n, const char *canon, uint32_t ci)
{
	struct tg_slot_hdr *h = &c->p->hdr;

	for (uint32_t j = 0; j < h->n_control_names; j++)
		if (strcmp(h->control_names[j].name, canon) == 0) {
			perr(c, n, "control name %s is already taken by control %s (names and aliases are "
				   "compared case-insensitively)",
			     DISP(c, n), h->controls[h->control_names[j].control].name);
			return;
		}
	if (h->n_control_names == TG_MAX_CONTROL_NAMES) {
		perr(c, n, "too many control names and aliases: the limit is %u",
		     TG_MAX_CONTROL_NAMES);
		return;
	}
	memcpy(h->control_names[h->n_control_names].name, canon, TG_NAME_MAX);
	h->control_names[h->n_control_names++].control = (uint8_t)ci;
}

/* `effect`: pass | block | {nations: [...]} | {peers: [...]}. */
static void
control_effect(struct pctx *c, const struct ynode *n, struct tg_control *ct)
{
	struct tg_slot_hdr *h = &c->p->hdr;
	const struct ynode *k, *v, *t;

	if (n->kind == Y_SCALAR) {
		if (strcmp(S(c, n), "pass") == 0)
			ct->effect = TG_CE_PASS;
		else if (strcmp(S(c, n), "block") == 0)
			ct->effect = TG_CE_BLOCK;
		else
			perr(c, n, "unknown effect %s (expected pass, block, {nations: [...]} or "
				   "{peers: [...]})",
			     DISP(c, n));
		return;
	}
	if (!want(c, n, Y_MAP, "effect"))
		return;
	if (n->n != 2) {
		perr(c, n, "'effect' names exactly one of nations or peers");
		return;
	}
	k = Y(c, n->first);
	v = Y(c, k->next);
	if (k->kind == Y_SCALAR && strcmp(S(c, k), "nations") == 0) {
		ct->effect = TG_CE_NATIONS;
		if (!want(c, v, Y_SEQ, "nations"))
			return;
		for (t = Y(c, v->first); t != NULL; t = Y(c, t->next)) {
			uint32_t j;

			if (!want(c, t, Y_SCALAR, "nations"))
				continue;
			for (j = 0; j < h->n_groups; j++)
				if (strcasecmp(h->groups[j].name, S(c, t)) == 0)
					break;
			if (j < h->n_groups) {
				ct->nations |= h->groups[j].mask;
				continue;
			}
			if (!is_trigraph(S(c, t), t->len)) {
				perr(c, t, "%s is neither a trigraph nor a group", DISP(c, t));
				continue;
			}
			/* nations no peer has cannot be released to: dropped */
			for (j = 0; j < h->n_nations; j++)
				if (memcmp(h->nations[j], S(c, t), 4) == 0)
					ct->nations |= UINT64_C(1) << j;
		}
	} else if (k->kind == Y_SCALAR && strcmp(S(c, k), "peers") == 0) {
		ct->effect = TG_CE_PEERS;
		if (!want(c, v, Y_SEQ, "peers"))
			return;
		for (t = Y(c, v->first); t != NULL; t = Y(c, t->next)) {
			uint32_t j;

			if (!want(c, t, Y_SCALAR, "peers"))
				continue;
			for (j = 0; j < h->n_peers; j++)
				if (strcmp(c->p->peers[j].name, S(c, t)) == 0)
					break;
			if (j == h->n_peers)
				perr(c, t, "peer %s names no peer", DISP(c, t));
			else
				ct->peers |= 1u << j;
		}
	} else {
		perr(c, k, "unknown effect %s (expected nations or peers)", DISP(c, k));
	}
}

static void
parse_controls(struct pctx *c, const struct ynode *seq)
{
	struct tg_slot_hdr *h = &c->p->hdr;
	const struct ynode *m, *n, *a;

	if (seq == NULL || !want(c, seq, Y_SEQ, "controls"))
		return;
	if (seq->n > TG_MAX_CONTROLS)
		perr(c, seq, "too many controls: %u, the limit is %u", seq->n, TG_MAX_CONTROLS);
	for (m = Y(c, seq->first); m != NULL && h->n_controls < TG_MAX_CONTROLS; m = Y(c, m->next)) {
		struct tg_control *ct = &h->controls[h->n_controls];
		char canon[TG_NAME_MAX];
		uint32_t ci = h->n_controls;

		if (!want(c, m, Y_MAP, "controls[]"))
			continue;
		check_keys(c, m, "control", KEYS("name", "aliases", "effect"));
		if (!(n = need(c, m, "name", "control")) || !control_name(c, n, "name", canon))
			continue;
		memset(ct, 0, sizeof(*ct));
		memcpy(ct->name, canon, TG_NAME_MAX);
		ct->builtin = (uint8_t)control_builtin(canon);
		h->n_controls++;
		add_control_name(c, n, canon, ci);
		if ((a = get(c, m, "aliases")) && want(c, a, Y_SEQ, "aliases")) {
			if (a->n > 8)
				perr(c, a, "too many aliases: %u, the limit is 8", a->n);
			for (n = Y(c, a->first); n != NULL; n = Y(c, n->next)) {
				if (!control_name(c, n, "aliases", canon))
					continue;
				if (control_builtin(canon) != TG_CB_NONE &&
				    control_builtin(canon) != ct->builtin)
					perr(c, n, "alias %s is a built-in control of its own", DISP(c, n));
				add_control_name(c, n, canon, ci);
			}
		}
		if ((n = need(c, m, "effect", "control")))
			control_effect(c, n, ct);
		/* NOFORN's narrowing to USA is a floor every mechanism applies:
		 * an override may only narrow further (release.md §3). */
		if (ct->builtin == TG_CB_NOFORN && n != NULL &&
		    (ct->effect == TG_CE_PASS || ct->effect == TG_CE_NATIONS))
			perr(c, n, "NOFORN always narrows to USA: its effect may only narrow further "
				   "(block or {peers: [...]})");
	}
}

static int
class_index(struct pctx *c, const char *name)
{
	struct tg_slot_hdr *h = &c->p->hdr;
	uint32_t i;

	for (i = 0; i < h->n_classes; i++)
		if (strcmp(h->classes[i], name) == 0)
			return (int)i;
	return -1;
}

static const struct {
	const char *name;
	uint32_t flag;
} rule_flags[] = {
	{ "caseless", TG_RF_CASELESS },	      { "dotall", TG_RF_DOTALL },
	{ "multiline", TG_RF_MULTILINE },     { "single-match", TG_RF_SINGLEMATCH },
	{ "combination", TG_RF_COMBINATION },
};

static void
parse_action(struct pctx *c, const struct ynode *m, struct tg_rule *r, const char *what)
{
	const struct ynode *k, *v;
	char name[TG_NAME_MAX] = {0}; /* copied whole into the published maps */
	int idx;

	if (!want(c, m, Y_MAP, "action"))
		return;
	if (m->n != 2) {
		perr(c, m, "%s: action must have exactly one of 'classify: CLASS' or 'block: REASON'",
		     what);
		return;
	}
	k = Y(c, m->first);
	v = Y(c, k->next);
	if (!check_keys(c, m, "action", KEYS("classify", "block")))
		return;
	if (strcmp(S(c, k), "block") == 0) {
		if (get_name(c, v, "block", r->reason))
			r->action = TG_ACT_BLOCK;
		return;
	}
	if (!get_name(c, v, "classify", name))
		return;
	r->action = TG_ACT_CLASSIFY;
	idx = class_index(c, name);
	if (idx < 0) {
		if (c->p->hdr.n_classes >= TG_MAX_CLASSES) {
			perr(c, v, "too many classes: the limit is %u, counting 'other'",
			     TG_MAX_CLASSES);
			return;
		}
		idx = (int)c->p->hdr.n_classes++;
		memcpy(c->p->hdr.classes[idx], name, sizeof(name));
	}
	r->class_idx = (uint8_t)idx;
}

static bool
parse_rule(struct pctx *c, const struct ynode *m, struct rule_tmp *t, uint32_t i)
{
	struct tg_rule *r = &t->r;
	const struct ynode *n, *f;
	char what[64];
	uint64_t v;
	unsigned int j;
	bool ok = true;
	unsigned int nerr = c->errs->n + c->errs->dropped;

	t->node = (uint32_t)(m - c->d.v);
	if (!want(c, m, Y_MAP, "rules[]"))
		return false;
	r->line = m->line;
	snprintf(what, sizeof(what), "rule %u", i + 1);
	if ((n = get(c, m, "id")) && n->kind == Y_SCALAR && n->len < 16)
		snprintf(what, sizeof(what), "rule %s", S(c, n));
	check_keys(c, m, what, KEYS("id", "name", "scope", "match", "flags", "action"));
	if ((n = need(c, m, "id", what)) && get_uint(c, n, "id", 1, UINT64_C(1) << 31, &v))
		r->id = (uint32_t)v;
	else
		ok = false;
	if (!((n = need(c, m, "name", what)) && get_name(c, n, "name", r->name)))
		ok = false;
	r->scope = TG_SCOPE_PAYLOAD;
	if ((n = get(c, m, "scope")) && want(c, n, Y_SCALAR, "scope")) {
		for (j = 0; j < TG_SCOPE_COUNT; j++)
			if (strcmp(S(c, n), tg_scope_name(j)) == 0)
				break;
		if (j == TG_SCOPE_COUNT) {
			perr(c, n, "unknown scope %s (expected payload, type, how, uid, callsign, remarks, detail or marking)",
			     DISP(c, n));
			ok = false;
		}
		r->scope = (uint8_t)j;
	}
	if ((n = get(c, m, "flags")) && want(c, n, Y_SEQ, "flags")) {
		for (f = Y(c, n->first); f != NULL; f = Y(c, f->next)) {
			if (!want(c, f, Y_SCALAR, "flags[]"))
				continue;
			for (j = 0; j < sizeof(rule_flags) / sizeof(rule_flags[0]); j++)
				if (strcmp(S(c, f), rule_flags[j].name) == 0)
					break;
			if (j == sizeof(rule_flags) / sizeof(rule_flags[0]))
				perr(c, f, "unknown rule flag %s (expected caseless, dotall, multiline, single-match or combination)",
				     DISP(c, f));
			else
				r->flags |= rule_flags[j].flag;
		}
	}
	if ((n = need(c, m, "match", what)) && want(c, n, Y_SCALAR, "match")) {
		if (n->len == 0 || memchr(S(c, n), '\0', n->len) != NULL) {
			perr(c, n, "'match' must be a non-empty expression without NUL characters");
			ok = false;
		} else {
			t->expr = strdup(S(c, n));
			t->pos.line = n->line;
			t->pos.col = n->col;
			if (t->expr == NULL) {
				perr(c, n, "out of memory");
				ok = false;
			}
		}
	} else {
		ok = false;
	}
	if ((n = get(c, m, "action")))
		parse_action(c, n, r, what);
	return ok && c->errs->n + c->errs->dropped == nerr;
}

static int
cmp_id(const void *a, const void *b)
{
	const struct rule_tmp *x = *(const struct rule_tmp *const *)a;
	const struct rule_tmp *y = *(const struct rule_tmp *const *)b;

	if (x->r.id != y->r.id)
		return x->r.id < y->r.id ? -1 : 1;
	return x->r.line < y->r.line ? -1 : x->r.line > y->r.line;
}

static int
cmp_name(const void *a, const void *b)
{
	const struct rule_tmp *x = *(const struct rule_tmp *const *)a;
	const struct rule_tmp *y = *(const struct rule_tmp *const *)b;
	int d = strcmp(x->r.name, y->r.name);

	if (d)
		return d;
	return x->r.line < y->r.line ? -1 : x->r.line > y->r.line;
}

static int
cmp_scope_id(const void *a, const void *b)
{
	const struct rule_tmp *x = a, *y = b;

	if (x->r.scope != y->r.scope)
		return x->r.scope < y->r.scope ? -1 : 1;
	return x->r.id < y->r.id ? -1 : x->r.id > y->r.id;
}

static int
cmp_key_id(const void *key, const void *elt)
{
	uint32_t id = *(const uint32_t *)key;
	const struct rule_tmp *r = *(const struct rule_tmp *const *)elt;

	return id < r->r.id ? -1 : id > r->r.id;
}

/* Operands of a combination must exist and share its scope (one database). */
static void
check_combination(struct pctx *c, struct rule_tmp *t, struct rule_tmp **by_id, uint32_t n)
{
	const char *s = t->expr;
	struct rule_tmp **hit;
	uint64_t id;

	while (*s) {
		if (*s >= '0' && *s <= '9') {
			id = 0;
			while (*s >= '0' && *s <= '9') {
				if (id < (UINT64_C(1) << 32))
					id = id * 10 + (uint64_t)(*s - '0');
				s++;
			}
			uint32_t key = id > UINT32_MAX ? 0 : (uint32_t)id;

			hit = key ? bsearch(&key, by_id, n, sizeof(*by_id), cmp_key_id) : NULL;
			if (hit == NULL) {
				pol_error_add(c->errs, c->file, t->pos.line, t->pos.col,
					      "rule %u: combination names rule id %llu, which does not exist",
					      t->r.id, (unsigned long long)id);
				return;
			}
			if (*hit == t) {
				pol_error_add(c->errs, c->file, t->pos.line, t->pos.col,
					      "rule %u: combination names itself", t->r.id);
				return;
			}
			if ((*hit)->r.scope != t->r.scope) {
				pol_error_add(c->errs, c->file, t->pos.line, t->pos.col,
					      "rule %u: combination operand %u is in scope '%s' but the combination is in scope '%s': operands must share the combination's scope",
					      t->r.id, (*hit)->r.id, tg_scope_name((*hit)->r.scope),
					      tg_scope_name(t->r.scope));
				return;
			}
			continue;
		}
		if (!strchr("&|!() \t", *s)) {
			pol_error_add(c->errs, c->file, t->pos.line, t->pos.col,
				      "rule %u: unexpected '%c' in combination (expected rule ids, &, |, !, parentheses)",
				      t->r.id, *s >= 0x20 && *s < 0x7f ? *s : '?');
			return;
		}
		s++;
	}
}

static void
parse_rules(struct pctx *c, const struct ynode *seq)
{
	struct pol_policy *p = c->p;
	struct rule_tmp **by;
	const struct ynode *m;
	uint32_t i, n, good = 0;
	bool all_ok = true;

	if (seq == NULL)
		return;
	if (!want(c, seq, Y_SEQ, "rules")) {
		c->rules_bad = true;
		return;
	}
	n = seq->n;
	if (n > TG_MAX_RULES) {
		perr(c, seq, "too many rules: %u, the limit is %u", n, TG_MAX_RULES);
		n = TG_MAX_RULES;
	}
	if (n == 0)
		return;
	c->rt = calloc(n, sizeof(*c->rt));
	by = calloc(n, sizeof(*by));
	if (c->rt == NULL || by == NULL) {
		perr(c, seq, "out of memory");
		free(by);
		return;
	}
	for (m = Y(c, seq->first), i = 0; m != NULL && i < n; m = Y(c, m->next), i++)
		if (!parse_rule(c, m, &c->rt[i], i))
			all_ok = false;
	c->nrt = n;
	c->rules_bad = !all_ok;

	/* Duplicates: sort by id, then by name; report the later one. */
	for (i = 0; i < n; i++)
		if (c->rt[i].r.id != 0)
			by[good++] = &c->rt[i];
	qsort(by, good, sizeof(*by), cmp_id);
	for (i = 1; i < good; i++)
		if (by[i]->r.id == by[i - 1]->r.id)
			perr(c, get(c, Y(c, by[i]->node), "id"),
			     "duplicate rule id %u (first at line %u)", by[i]->r.id,
			     by[i - 1]->r.line);
	/* Combinations: look operands up in the id-sorted array. */
	if (all_ok)
		for (i = 0; i < n; i++)
			if (c->rt[i].r.flags & TG_RF_COMBINATION)
				check_combination(c, &c->rt[i], by, good);
	good = 0;
	for (i = 0; i < n; i++)
		if (c->rt[i].r.name[0] != '\0')
			by[good++] = &c->rt[i];
	qsort(by, good, sizeof(*by), cmp_name);
	for (i = 1; i < good; i++)
		if (strcmp(by[i]->r.name, by[i - 1]->r.name) == 0)
			perr(c, get(c, Y(c, by[i]->node), "name"),
			     "duplicate rule name '%s' (first at line %u)", by[i]->r.name,
			     by[i - 1]->r.line);
	free(by);
	p->hdr.n_rules = n;
}

static void
parse_links(struct pctx *c, const struct ynode *seq)
{
	struct pol_policy *p = c->p;
	const struct ynode *m, *n, *e;
	struct tg_marking_err merr;
	uint32_t i = 0, j, k;
	uint64_t v;

	if (seq == NULL || !want(c, seq, Y_SEQ, "links"))
		return;
	if (seq->n > TG_MAX_LINKS)
		perr(c, seq, "too many links: %u, the limit is %u", seq->n, TG_MAX_LINKS);
	for (m = Y(c, seq->first); m != NULL && i < TG_MAX_LINKS; m = Y(c, m->next), i++) {
		struct tg_link *l = &p->links[i];
		struct pol_xdp *x = &p->xdp[i];
		char what[64];

		c->link_node[i] = (uint32_t)(m - c->d.v);
		snprintf(what, sizeof(what), "link %u", i + 1);
		if (!want(c, m, Y_MAP, "links[]"))
			continue;
		if ((n = get(c, m, "name")) && n->kind == Y_SCALAR && n->len < TG_NAME_MAX)
			snprintf(what, sizeof(what), "link '%s'", S(c, n));
		check_keys(c, m, what, KEYS("name", "port", "udp_ports", "default_marking",
					    "allow_sources", "block_sources", "rate", "xdp_iface",
					    "encodings"));
		l->encodings = TG_ENC_F_ALL;
		if ((n = get(c, m, "encodings")))
			get_encodings(c, n, &l->encodings);
		if ((n = need(c, m, "name", what)) && get_name(c, n, "name", l->name))
			for (j = 0; j < i; j++)
				if (strcmp(p->links[j].name, l->name) == 0)
					perr(c, n, "duplicate link name '%s' (first at line %u)",
					     l->name, Y(c, c->link_node[j])->line);
		if ((n = need(c, m, "port", what)) && get_str(c, n, "port", l->dev, TG_DEV_MAX))
			for (j = 0; j < i; j++)
				if (strcmp(p->links[j].dev, l->dev) == 0)
					perr(c, n, "port '%s' is already used by link '%s' (line %u)",
					     l->dev, p->links[j].name, Y(c, c->link_node[j])->line);
		if ((n = need(c, m, "udp_ports", what)) && want(c, n, Y_SEQ, "udp_ports")) {
			if (n->n == 0 || n->n > TG_MAX_LINK_PORTS)
				perr(c, n, "'udp_ports' must list 1 to %u ports, not %u",
				     TG_MAX_LINK_PORTS, n->n);
			for (e = Y(c, n->first); e != NULL && l->n_udp_ports < TG_MAX_LINK_PORTS;
			     e = Y(c, e->next)) {
				if (!get_uint(c, e, "udp_ports", 1, 65535, &v))
					continue;
				for (k = 0; k < l->n_udp_ports; k++)
					if (l->udp_ports[k] == v)
						perr(c, e, "UDP port %llu listed twice",
						     (unsigned long long)v);
				l->udp_ports[l->n_udp_ports++] = (uint16_t)v;
			}
		}
		if ((n = get(c, m, "default_marking")) &&
		    get_str(c, n, "default_marking", l->default_marking_text, TG_MARKING_MAX)) {
			if (tg_marking_parse_ex(l->default_marking_text, n->len, &p->hdr,
						TG_MK_ACCESS | TG_MK_STRICT, &l->default_marking,
						&merr) < 0)
				perr(c, n, "bad default_marking %s: %s (at character %zu)",
				     DISP(c, n), merr.msg, merr.off + 1);
			else if (l->default_marking.blocked ||
				 l->default_marking.peer_mask != ~UINT32_C(0) ||
				 l->default_marking.ctl_nations != ~UINT64_C(0))
				perr(c, n, "default_marking %s: only pass controls may appear in a link default "
					   "(release.md §3: resolution reads its level and list alone)",
				     DISP(c, n));
			else if (l->default_marking.noforn)
				perr(c, n, "default_marking %s: NOFORN has no effect in a link default (docs/release.md §3): write REL TO USA",
				     DISP(c, n));
			else
				l->has_default_marking = 1;
		}
		if ((n = get(c, m, "xdp_iface")))
			get_str(c, n, "xdp_iface", x->iface, sizeof(x->iface));
		static const char *const src_keys[2] = { "allow_sources", "block_sources" };
		for (k = 0; k < 2; k++) {
			struct ctl_prefix *pf = k ? x->block : x->allow;
			uint16_t *cnt = k ? &x->n_block : &x->n_allow;

			if (!(n = get(c, m, src_keys[k])) || !want(c, n, Y_SEQ, src_keys[k]))
				continue;
			if (n->n > POL_MAX_PREFIXES)
				perr(c, n, "too many %s: %u, the limit is %u", src_keys[k], n->n,
				     POL_MAX_PREFIXES);
			for (e = Y(c, n->first); e != NULL && *cnt < POL_MAX_PREFIXES;
			     e = Y(c, e->next))
				if (get_prefix(c, e, src_keys[k], &pf[*cnt]))
					(*cnt)++;
		}
		if ((n = get(c, m, "rate")) && want(c, n, Y_MAP, "rate")) {
			check_keys(c, n, "rate", KEYS("pps", "burst"));
			if ((e = need(c, n, "pps", "rate")) &&
			    get_uint(c, e, "pps", 1, UINT32_MAX, &v)) {
				l->rate_pps = (uint32_t)v;
				if (opt_uint(c, n, "burst", 1, UINT32_MAX, v, &v))
					l->rate_burst = (uint32_t)v;
			}
		}
	}
	p->hdr.n_links = i;
}

/* ------------------------------------------------------- sanitize */

/* An XML name as release.md §2 allows them: a letter or '_', then letters,
 * digits, '_', '-' or '.'; here at most TG_SAN_NAME_MAX - 1 bytes. */
static bool
xml_name_ok(const char *s, size_t len)
{
	if (len == 0 || len >= TG_SAN_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';

		if (!alpha && (i == 0 || !((ch >= '0' && ch <= '9') || ch == '-' || ch == '.')))
			return false;
	}
	return true;
}

static bool
get_xml_name(struct pctx *c, const struct ynode *n, const char *key, const char *s, size_t len,
	     char out[TG_SAN_NAME_MAX])
{
	if (!xml_name_ok(s, len)) {
		perr(c, n, "'%s': %s is not an element or attribute name (a letter or '_', then "
			   "letters, digits, '_', '-' or '.'; at most %u bytes)",
		     key, DISP(c, n), TG_SAN_NAME_MAX - 1);
		return false;
	}
	memcpy(out, s, len);
	out[len] = '\0';
	return true;
}

static const char *const san_attr_name[TG_SA_COUNT] = {
	[TG_SA_ACCESS] = "access", [TG_SA_CAVEAT] = "caveat",
	[TG_SA_RELEASABLE_TO] = "releasableTo", [TG_SA_QOS] = "qos", [TG_SA_OPEX] = "opex",
};

const char *
pol_san_attr_name(unsigned a)
{
	return a < TG_SA_COUNT ? san_attr_name[a] : "?";
}

/* A marking set_attribute writes must parse, and admit the peer: a copy
 * whose marking leaves the peer out fails the second check every time. */
static void
check_set_marking(struct pctx *c, const struct ynode *n, const struct tg_peer *pe, unsigned a,
		  const char *v)
{
	const struct tg_slot_hdr *h = &c->p->hdr;
	struct tg_marking mk;
	struct tg_marking_err err = {0};
	uint64_t mask = 0, nat = UINT64_C(1) << pe->nation_idx;
	int rc;

	if (a == TG_SA_RELEASABLE_TO) {
		if (tg_rel_list_parse(v, strlen(v), h, &mask) < 0) {
			perr(c, n, "set_attribute releasableTo %s is not a list of nations and groups",
			     DISP(c, n));
			return;
		}
		if (!(mask & nat))
			perr(c, n, "set_attribute releasableTo %s leaves out peer '%s' (%s): every "
				   "copy would be withheld",
			     DISP(c, n), pe->name, pe->nation);
		return;
	}
	if (a != TG_SA_ACCESS && a != TG_SA_CAVEAT)
		return;
	rc = tg_marking_parse_ex(v, strlen(v), h, TG_MK_STRICT | (a == TG_SA_ACCESS ? TG_MK_ACCESS : 0),
				 &mk, &err);
	if (rc < 0) {
		perr(c, n, "set_attribute %s %s is not a marking: %s", san_attr_name[a], DISP(c, n),
		     err.msg ? err.msg : "bad");
		return;
	}
	if (mk.blocked || (mk.has_rel && !(mk.rel_mask & nat)) || !(mk.ctl_nations & nat) ||
	    (pe->index < 32 && !((mk.peer_mask >> pe->index) & 1)) ||
	    (mk.noforn && strcmp(pe->nation, "USA") != 0) ||
	    (a == TG_SA_ACCESS && mk.level != TG_LVL_NONE && mk.level > pe->clearance))
		perr(c, n, "set_attribute %s %s does not admit peer '%s': every copy would be "
			   "withheld",
		     san_attr_name[a], DISP(c, n), pe->name);
}

/* One entry of a peer's `sanitize` into *e; false (and an error) if bad. */
static bool
parse_san_entry(struct pctx *c, const struct ynode *m, const struct tg_peer *pe,
		struct tg_sanitize *e)
{
	const struct ynode *n, *x;
	uint32_t errs = c->errs->n;
	bool any = false;

	memset(e, 0, sizeof(*e));
	e->decimals = TG_SAN_NO_COARSEN;
	if (!want(c, m, Y_MAP, "sanitize[]"))
		return false;
	check_keys(c, m, "a sanitize entry",
		   KEYS("classes", "drop_elements", "drop_attributes", "drop_remarks",
			"coarsen_point", "set_attribute"));
	if ((n = get(c, m, "classes")) && want(c, n, Y_SEQ, "classes")) {
		if (n->n == 0)
			perr(c, n, "'classes' is empty: the entry would never apply (leave it out "
				   "to apply to every class)");
		for (x = Y(c, n->first); x != NULL; x = Y(c, x->next)) {
			int idx;

			if (!want(c, x, Y_SCALAR, "classes[]"))
				continue;
			idx = class_index(c, S(c, x));
			if (idx < 0 && !c->rules_bad)
				perr(c, x, "sanitize: class %s is not produced by any classify rule",
				     DISP(c, x));
			else if (idx >= 0)
				e->classes |= UINT32_C(1) << idx;
		}
	}
	if ((n = get(c, m, "drop_elements")) && want(c, n, Y_SEQ, "drop_elements")) {
		if (n->n > TG_SAN_MAX_NAMES)
			perr(c, n, "too many drop_elements: %u, the limit is %u", n->n,
			     TG_SAN_MAX_NAMES);
		for (x = Y(c, n->first); x != NULL && e->n_elems < TG_SAN_MAX_NAMES;
		     x = Y(c, x->next)) {
			char *dst = e->elems[e->n_elems];

			if (!want(c, x, Y_SCALAR, "drop_elements[]") ||
			    !get_xml_name(c, x, "drop_elements", S(c, x), x->len, dst))
				continue;
			if (!strcmp(dst, "event") || !strcmp(dst, "point") || !strcmp(dst, "detail")) {
				perr(c, x, "drop_elements: <%s> is not inside <detail>: only elements "
					   "inside it can be dropped", dst);
				continue;
			}
			for (unsigned k = 0; k < e->n_elems; k++)
				if (!strcmp(e->elems[k], dst))
					perr(c, x, "drop_elements: %s listed twice", dst);
			e->n_elems++;
			any = true;
		}
	}
	if ((n = get(c, m, "drop_attributes")) && want(c, n, Y_SEQ, "drop_attributes")) {
		if (n->n > TG_SAN_MAX_NAMES)
			perr(c, n, "too many drop_attributes: %u, the limit is %u", n->n,
			     TG_SAN_MAX_NAMES);
		for (x = Y(c, n->first); x != NULL && e->n_attrs < TG_SAN_MAX_NAMES;
		     x = Y(c, x->next)) {
			const char *v, *at;

			if (!want(c, x, Y_SCALAR, "drop_attributes[]"))
				continue;
			v = S(c, x);
			at = memchr(v, '@', x->len);
			if (at == NULL) {
				perr(c, x, "drop_attributes: %s is not element@attribute", DISP(c, x));
				continue;
			}
			if (!get_xml_name(c, x, "drop_attributes", v, (size_t)(at - v),
					  e->attrs[e->n_attrs][0]) ||
			    !get_xml_name(c, x, "drop_attributes", at + 1,
					  x->len - (size_t)(at - v) - 1, e->attrs[e->n_attrs][1]))
				continue;
			if (!strcmp(e->attrs[e->n_attrs][0], "event") ||
			    !strcmp(e->attrs[e->n_attrs][0], "point") ||
			    !strcmp(e->attrs[e->n_attrs][0], "detail")) {
				perr(c, x, "drop_attributes: <%s> is not inside <detail> (event "
					   "attributes: set_attribute; the point: coarsen_point)",
				     e->attrs[e->n_attrs][0]);
				continue;
			}
			e->n_attrs++;
			any = true;
		}
	}
	if ((n = get(c, m, "drop_remarks"))) {
		bool b;

		if (get_bool(c, n, "drop_remarks", &b)) {
			e->drop_remarks = b;
			any = any || b;
		}
	}
	if ((n = get(c, m, "coarsen_point")) && want(c, n, Y_MAP, "coarsen_point")) {
		uint64_t v;

		check_keys(c, n, "coarsen_point", KEYS("decimals", "min_ce"));
		if ((x = need(c, n, "decimals", "coarsen_point")) &&
		    get_uint(c, x, "decimals", 0, TG_SAN_DECIMALS_MAX, &v))
			e->decimals = (uint8_t)v;
		if ((x = get(c, n, "min_ce"))) {
			char *end;
			double d = 0;

			if (x->kind == Y_SCALAR && x->plain && x->len > 0)
				d = strtod(S(c, x), &end);
			if (x->kind != Y_SCALAR || !x->plain || x->len == 0 ||
			    *end != '\0' || !(d >= 0 && d <= TG_SAN_MIN_CE_MAX))
				perr(c, x, "'min_ce' must be a number of metres from 0 to 1e7, not %s",
				     DISP(c, x));
			else
				e->min_ce = d;
		}
		any = true;
	}
	if ((n = get(c, m, "set_attribute")) && want(c, n, Y_MAP, "set_attribute")) {
		const struct ynode *k, *v;

		check_keys(c, n, "set_attribute",
			   KEYS("access", "caveat", "releasableTo", "qos", "opex"));
		for (k = Y(c, n->first); k != NULL; k = Y(c, v->next)) {
			unsigned a;

			v = Y(c, k->next);
			for (a = 0; a < TG_SA_COUNT; a++)
				if (k->kind == Y_SCALAR && !strcmp(S(c, k), san_attr_name[a]))
					break;
			if (a == TG_SA_COUNT)
				continue; /* check_keys said so */
			if (!get_str(c, v, san_attr_name[a], e->set[a], TG_SAN_VALUE_MAX))
				continue;
			e->set_mask |= (uint8_t)(1u << a);
			check_set_marking(c, v, pe, a, e->set[a]);
			any = true;
		}
	}
	if (!any && c->errs->n == errs)
		perr(c, m, "a sanitize entry must hold at least one step (drop_elements, "
			   "drop_attributes, drop_remarks: true, coarsen_point, set_attribute)");
	return c->errs->n == errs;
}

/* A peer's `sanitize`: entries into the policy's table (equal entries of
 * different peers are one), the peer's set of them. */
static void
parse_sanitize(struct pctx *c, const struct ynode *n, struct tg_peer *pe)
{
	struct tg_slot_hdr *h = &c->p->hdr;
	const struct ynode *one[1] = {n}, *m;
	const struct ynode *nodes[TG_MAX_SAN];
	unsigned count = 0, idx[TG_MAX_SAN];

	if (n->kind == Y_SEQ) {
		if (n->n == 0)
			perr(c, n, "'sanitize' is an empty list (leave it out for no steps)");
		if (n->n > 4)
			perr(c, n, "too many sanitize entries for peer '%s': %u, the limit is 4",
			     pe->name, n->n);
		m = Y(c, n->first);
	} else if (n->kind == Y_MAP) {
		m = one[0];
	} else {
		perr(c, n, "'sanitize' must be a list of entries or one entry, not %s",
		     kind_name(n));
		return;
	}
	for (; m != NULL && count < 4; m = n->kind == Y_SEQ ? Y(c, m->next) : NULL) {
		struct tg_sanitize e;
		unsigned k;

		if (!parse_san_entry(c, m, pe, &e))
			continue;
		for (k = 0; k < h->n_sanitize; k++)
			if (memcmp(&h->sanitize[k], &e, sizeof(e)) == 0)
				break;
		if (k == h->n_sanitize) {
			if (k == TG_MAX_SAN) {
				perr(c, m, "too many distinct sanitize entries in the policy: the "
					   "limit is %u", TG_MAX_SAN);
				continue;
			}
			h->sanitize[h->n_sanitize++] = e;
		}
		/* Two entries of one peer that may apply together must not set
		 * one attribute to two values. */
		for (unsigned j = 0; j < count; j++) {
			const struct tg_sanitize *o = &h->sanitize[idx[j]];

			for (unsigned a = 0; a < TG_SA_COUNT; a++)
				if ((o->set_mask & e.set_mask & (1u << a)) &&
				    strcmp(o->set[a], e.set[a]) != 0)
					perr(c, m, "peer '%s': this entry sets %s to \"%s\", the entry "
						   "at line %u to \"%s\"",
					     pe->name, san_attr_name[a], e.set[a], nodes[j]->line,
					     o->set[a]);
		}
		pe->sanitize |= (uint16_t)(1u << k);
		nodes[count] = m;
		idx[count++] = k;
	}
}

/* What needs links and classes: a peer's link and receives. */
static void
resolve_peers(struct pctx *c)
{
	struct pol_policy *p = c->p;
	const struct ynode *n, *e;
	uint32_t i, j;
	int idx;

	for (i = 0; i < p->hdr.n_peers; i++) {
		struct tg_peer *pe = &p->peers[i];

		if ((n = Y(c, c->peer_link[i]))) {
			for (j = 0; j < p->hdr.n_links; j++)
				if (strcmp(p->links[j].name, S(c, n)) == 0)
					break;
			if (j == p->hdr.n_links)
				perr(c, n, "peer '%s': link %s names no link", pe->name, DISP(c, n));
			else
				pe->link_idx = (int16_t)j;
		}
		if ((n = Y(c, c->peer_receives[i]))) {
			for (e = Y(c, n->first); e != NULL; e = Y(c, e->next)) {
				if (!want(c, e, Y_SCALAR, "receives[]"))
					continue;
				idx = class_index(c, S(c, e));
				if (idx < 0 && !c->rules_bad)
					perr(c, e, "peer '%s' receives class %s, but no classify rule produces it",
					     pe->name, DISP(c, e));
				else if (idx >= 0) /* -1 with broken rules: already an error */
					pe->classes |= UINT32_C(1) << idx;
			}
		} else if (c->peer_node[i] && Y(c, c->peer_node[i])->kind == Y_MAP) {
			idx = class_index(c, "warning");
			if (idx < 0 && !c->rules_bad)
				perr(c, Y(c, c->peer_node[i]),
				     "peer '%s' receives class 'warning' by default, but no classify rule produces it",
				     pe->name);
			else if (idx >= 0)
				pe->classes |= UINT32_C(1) << idx;
		}
		pe->index = (uint8_t)i; /* what a set marking's peers: control is read by */
		if ((n = Y(c, c->peer_sanitize[i])))
			parse_sanitize(c, n, pe);
		pe->index = 0; /* the dataplane sets it; the published value is 0 */
	}
}

/* Sort rules by scope then id, into the policy's arrays. */
static int
finish_rules(struct pctx *c)
{
	struct pol_policy *p = c->p;
	uint32_t i, n = c->nrt;

	if (n == 0)
		return 0;
	qsort(c->rt, n, sizeof(*c->rt), cmp_scope_id);
	p->rules = calloc(n, sizeof(*p->rules));
	p->exprs = calloc(n, sizeof(*p->exprs));
	p->match_pos = calloc(n, sizeof(*p->match_pos));
	if (p->rules == NULL || p->exprs == NULL || p->match_pos == NULL) {
		pol_error_add(c->errs, c->file, 0, 0, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		p->rules[i] = c->rt[i].r;
		p->exprs[i] = c->rt[i].expr;
		c->rt[i].expr = NULL;
		p->match_pos[i] = c->rt[i].pos;
	}
	return 0;
}

void
pol_free(struct pol_policy *p)
{
	uint32_t i;

	if (p == NULL)
		return;
	if (p->exprs != NULL)
		for (i = 0; i < p->hdr.n_rules; i++)
			free(p->exprs[i]);
	free(p->exprs);
	free(p->rules);
	free(p->match_pos);
	free(p->hsdb_blob);
	free(p);
}

int
pol_load_buffer(const char *name, const char *buf, size_t len, struct pol_policy **out,
		struct pol_errors *errs)
{
	struct pctx c = { .file = name, .errs = errs };
	const struct ynode *root, *n;
	unsigned int first_err = errs->n;
	int64_t r;
	uint64_t v;
	uint32_t i;
	int rc = -1;

	*out = NULL;
	if (len > POL_MAX_FILE_BYTES) {
		pol_error_add(errs, name, 0, 0,
			      "policy is %zu bytes, over the limit of %u bytes (64 MiB)", len,
			      POL_MAX_FILE_BYTES);
		return -1;
	}
	c.p = calloc(1, sizeof(*c.p));
	if (c.p == NULL) {
		pol_error_add(errs, name, 0, 0, "out of memory");
		return -1;
	}
	snprintf(c.p->hdr.source, sizeof(c.p->hdr.source), "%s", name);
	if (EVP_Digest(buf, len, c.p->hdr.digest, NULL, EVP_sha256(), NULL) != 1) {
		pol_error_add(errs, name, 0, 0, "SHA-256 of the policy failed");
		goto out;
	}
	r = ydoc_load(&c.d, name, errs, buf, len);
	if (r < 0)
		goto out;
	if (r == 0) {
		pol_error_add(errs, name, 1, 1, "empty policy: expected a mapping with 'version: 1'");
		goto out;
	}
	root = Y(&c, (uint32_t)r);
	if (!want(&c, root, Y_MAP, "the policy"))
		goto out;
	check_keys(&c, root, "the policy",
		   KEYS("version", "settings", "groups", "controls", "links", "peers", "rules"));
	if ((n = need(&c, root, "version", "the policy")) && get_uint(&c, n, "version", 0, 255, &v) &&
	    v != 1)
		perr(&c, n, "unsupported policy version %llu (this tgctl reads version 1)",
		     (unsigned long long)v);

	/* Class 0 is what no classify rule matched. */
	memcpy(c.p->hdr.classes[0], "other", sizeof("other"));
	c.p->hdr.n_classes = 1;
	/* Order matters: groups need nations (peers), default markings need
	 * groups, receives need classes (rules) and peer links need links. */
	parse_settings(&c, get(&c, root, "settings"));
	parse_peers(&c, get(&c, root, "peers"));
	parse_groups(&c, get(&c, root, "groups"));
	parse_controls(&c, get(&c, root, "controls"));
	parse_rules(&c, get(&c, root, "rules"));
	parse_links(&c, get(&c, root, "links"));
	resolve_peers(&c);
	if (errs->n == first_err && errs->dropped == 0 && finish_rules(&c) == 0)
		rc = 0;
out:
	if (c.rt != NULL)
		for (i = 0; i < c.nrt; i++)
			free(c.rt[i].expr);
	free(c.rt);
	ydoc_free(&c.d);
	if (rc == 0) {
		*out = c.p;
	} else {
		pol_free(c.p);
		pol_errors_sort(errs, first_err);
	}
	return rc;
}

int
pol_load_file(const char *path, struct pol_policy **out, struct pol_errors *errs)
{
	struct stat st;
	size_t cap, len = 0;
	ssize_t got;
	char *buf, *nb;
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pol_error_add(errs, path, 0, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		pol_error_add(errs, path, 0, 0, "cannot stat: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		pol_error_add(errs, path, 0, 0, "is a directory");
		close(fd);
		return -1;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > POL_MAX_FILE_BYTES) {
		pol_error_add(errs, path, 0, 0,
			      "policy is %llu bytes, over the limit of %u bytes (64 MiB)",
			      (unsigned long long)st.st_size, POL_MAX_FILE_BYTES);
		close(fd);
		return -1;
	}
	cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536;
	buf = malloc(cap);
	if (buf == NULL)
		goto nomem;
	for (;;) {
		if (len == cap) {
			if (cap > POL_MAX_FILE_BYTES)
				break;
			nb = realloc(buf, cap * 2);
			if (nb == NULL)
				goto nomem;
			buf = nb;
			cap *= 2;
		}
		got = read(fd, buf + len, cap - len);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			pol_error_add(errs, path, 0, 0, "cannot read: %s", strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	/* A file that grew past the limit while read, or a pipe: same check. */
	rc = pol_load_buffer(path, buf, len, out, errs);
	free(buf);
	return rc;
nomem:
	free(buf);
	close(fd);
	pol_error_add(errs, path, 0, 0, "out of memory");
	return -1;
}
