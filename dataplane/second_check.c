/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * second_check.c - an independent second derivation of releasability from
 * the raw payload bytes (NIST SP 800-53 AC-4(27): redundant mechanisms with
 * independent code).
 *
 * It shares no code with the first mechanism (dataplane/cot_parse.c and
 * lib/marking.c): it does not parse XML.  It finds the raw `<event` start
 * tag, pulls the `access`, `caveat` and `releasableTo`/`releaseableTo`
 * attribute values out of it by searching, decodes entities itself, and
 * evaluates markings by splitting strings (docs/policy.md "Markings").  Only
 * the policy's data (nation and group tables, the link default) is shared.
 * Anything it cannot read makes it answer "cannot tell", which the worker
 * treats as a disagreement: a message is released only when both agree.
 *
 * A TAK Protocol v1 message is walked field by field with this file's own
 * varint reader (not takproto.c's) down to its one CotEvent, whose access,
 * caveat and releaseableTo strings are taken raw (docs/release.md §7).
 */
#include "second_check.h"

#include <string.h>

/* A decoded attribute value: the parser's largest field limit, and room. */
#define SC_VAL_MAX (TG_FIELD_LIMIT_MAX + 16)

struct sc_mark {
	int level;     /* tg_level, or -1 when the string carries none */
	bool has_rel;  /* at least one list */
	uint64_t rel;  /* intersection of the lists */
	bool noforn;
	bool blocked;  /* a declared `block` control */
	uint32_t peers; /* declared `peers:` controls, intersected (~0: none) */
	uint64_t nat;  /* declared `nations:` controls, intersected (~0: none) */
};

static char
up(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool
token_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* The nations a (upper-cased) token names: a nation (three letters), a
 * group (anything else: a group may be called G20), or nothing. */
static uint64_t
token_mask(const char *t, size_t n, const struct tg_slot_hdr *hdr)
{
	if (n == 3 && t[0] >= 'A' && t[0] <= 'Z' && t[1] >= 'A' && t[1] <= 'Z' && t[2] >= 'A' &&
	    t[2] <= 'Z') {
		for (unsigned i = 0; i < hdr->n_nations && i < TG_MAX_NATIONS; i++)
			if (memcmp(hdr->nations[i], t, 3) == 0)
				return UINT64_C(1) << i;
		return 0;
	}
	for (unsigned g = 0; g < hdr->n_groups && g < TG_MAX_GROUPS; g++) {
		const char *name = hdr->groups[g].name;
		size_t k;

		for (k = 0; k < n && name[k] && up(name[k]) == t[k]; k++)
			;
		if (k == n && name[k] == '\0')
			return hdr->groups[g].mask;
	}
	return 0;
}

static void
trim(const char **s, size_t *n)
{
	while (*n && is_blank(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_blank((*s)[*n - 1]))
		(*n)--;
}

/* "A, B, C": comma-separated, no empty names.  false = bad. */
static bool
rel_list(const char *s, size_t n, const struct tg_slot_hdr *hdr, uint64_t *mask)
{
	*mask = 0;
	for (;;) {
		const char *comma = memchr(s, ',', n);
		size_t len = comma ? (size_t)(comma - s) : n;
		const char *t = s;
		size_t tn = len;

		trim(&t, &tn);
		if (tn == 0)
			return false;
		for (size_t i = 0; i < tn; i++)
			if (!token_char(t[i]))
				return false;
		*mask |= token_mask(t, tn, hdr);
		if (comma == NULL)
			return true;
		s = comma + 1;
		n -= len + 1;
	}
}

static int
level_of(const char *s, size_t n)
{
	static const struct {
		const char *w;
		int level;
	} words[] = {
		{"UNCLASSIFIED", TG_LVL_UNCLASSIFIED}, {"U", TG_LVL_UNCLASSIFIED},
		{"CONFIDENTIAL", TG_LVL_CONFIDENTIAL}, {"C", TG_LVL_CONFIDENTIAL},
		{"SECRET", TG_LVL_SECRET},             {"S", TG_LVL_SECRET},
		{"TS", TG_LVL_TOP_SECRET},
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i].w) == n && memcmp(words[i].w, s, n) == 0)
			return words[i].level;
	/* "TOP" blanks "SECRET" */
	if (n > 9 && memcmp(s, "TOP", 3) == 0 && is_blank(s[3]) &&
	    memcmp(s + n - 6, "SECRET", 6) == 0) {
		for (size_t i = 3; i < n - 6; i++)
			if (!is_blank(s[i]))
				return -2;
		return TG_LVL_TOP_SECRET;
	}
	return -2;
}

/* The register's control named (upper-cased) s[0..n), blank runs read as
 * one space, or -1: its own comparison, not lib/marking.c's. */
static int
declared(const char *s, size_t n, const struct tg_slot_hdr *hdr)
{
	for (unsigned i = 0; i < hdr->n_control_names && i < TG_MAX_CONTROL_NAMES; i++) {
		const struct tg_control_name *cn = &hdr->control_names[i];
		size_t j = 0, k = 0;

		while (j < n && k < sizeof(cn->name) && cn->name[k] != '\0') {
			if (is_blank(s[j]) && cn->name[k] == ' ') {
				while (j < n && is_blank(s[j]))
					j++;
				k++;
			} else if (s[j] == cn->name[k]) {
				j++;
				k++;
			} else {
				break;
			}
		}
		if (j == n && k < sizeof(cn->name) && cn->name[k] == '\0' &&
		    cn->control < hdr->n_controls && cn->control < TG_MAX_CONTROLS)
			return cn->control;
	}
	return -1;
}

/* One dissemination control; false = bad. */
static bool
control(const char *s, size_t n, const struct tg_slot_hdr *hdr, struct sc_mark *m)
{
	uint64_t mask;
	int d;

	if (!(n >= 3 && memcmp(s, "REL", 3) == 0 && (n == 3 || is_blank(s[3]))) &&
	    (d = declared(s, n, hdr)) >= 0) {
		const struct tg_control *ct = &hdr->controls[d];

		if (ct->effect == TG_CE_BLOCK)
			m->blocked = true;
		else if (ct->effect == TG_CE_NATIONS)
			m->nat &= ct->nations;
		else if (ct->effect == TG_CE_PEERS)
			m->peers &= ct->peers;
		if (ct->builtin == TG_CB_NOFORN)
			m->noforn = true;
		return true;
	}
	if ((n == 6 && memcmp(s, "NOFORN", 6) == 0) || (n == 2 && memcmp(s, "NF", 2) == 0)) {
		m->noforn = true;
		return true;
	}
	if (n == 4 && memcmp(s, "FOUO", 4) == 0)
		return true;
	if (n < 5 || memcmp(s, "REL", 3) != 0 || !is_blank(s[3]))
		return false;
	s += 3;
	n -= 3;
	trim(&s, &n);
	/* Optional "TO" before the list. */
	if (n > 3 && memcmp(s, "TO", 2) == 0 && is_blank(s[2])) {
		s += 2;
		n -= 2;
		trim(&s, &n);
	}
	if (!rel_list(s, n, hdr, &mask))
		return false;
	m->rel = m->has_rel ? (m->rel & mask) : mask;
	m->has_rel = true;
	return true;
}

/* access (with_level) or caveat: fields split on "//". false = bad. */
static bool
marking(const char *s, size_t n, bool with_level, const struct tg_slot_hdr *hdr,
	struct sc_mark *m)
{
	bool first = true;

	if (with_level) {
		const char *t = s;
		size_t tn = n;

		trim(&t, &tn);
		if (tn == 0)
			return false; /* an empty access */
	} else {
		const char *t = s;
		size_t tn = n;

		trim(&t, &tn);
		if (tn == 0)
			return true; /* an empty caveat says nothing */
	}
	for (;;) {
		const char *sep = NULL;
		size_t len;

		for (size_t i = 0; i + 1 < n; i++)
			if (s[i] == '/' && s[i + 1] == '/') {
				sep = s + i;
				break;
			}
		len = sep ? (size_t)(sep - s) : n;
		{
			const char *f = s;
			size_t fn = len;

			trim(&f, &fn);
			if (fn == 0)
				return false;
			if (first && with_level) {
				m->level = level_of(f, fn);
				if (m->level < 0)
					return false;
			} else if (!control(f, fn, hdr, m)) {
				return false;
			}
		}
		first = false;
		if (sep == NULL)
			return true;
		s = sep + 2;
		n -= len + 2;
	}
}

/* releasableTo: tokens separated by blanks and/or commas; may be empty. */
static bool
relto(const char *s, size_t n, const struct tg_slot_hdr *hdr, uint64_t *mask)
{
	size_t i = 0;

	*mask = 0;
	while (i < n) {
		size_t j;

		if (is_blank(s[i]) || s[i] == ',') {
			i++;
			continue;
		}
		for (j = i; j < n && !is_blank(s[j]) && s[j] != ','; j++)
			if (!token_char(s[j]))
				return false;
		*mask |= token_mask(s + i, j - i, hdr);
		i = j;
	}
	return true;
}

/* ---- raw attribute extraction ---- */

static bool
xml_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Decode an attribute value: entities, and XML's normalisation of literal
 * whitespace to spaces; upper-cased.  -1 if it cannot. */
static int
decode(const uint8_t *v, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t cp;

		if (o + 4 >= SC_VAL_MAX)
			return -1;
		if (v[i] != '&') {
			out[o++] = xml_space(v[i]) ? ' ' : up((char)v[i]);
			continue;
		}
		const uint8_t *semi = memchr(v + i, ';', n - i);
		size_t en;

		if (semi == NULL)
			return -1;
		en = (size_t)(semi - (v + i)) + 1;
		if (en == 5 && memcmp(v + i, "&amp;", 5) == 0)
			cp = '&';
		else if (en == 4 && memcmp(v + i, "&lt;", 4) == 0)
			cp = '<';
		else if (en == 4 && memcmp(v + i, "&gt;", 4) == 0)
			cp = '>';
		else if (en == 6 && memcmp(v + i, "&quot;", 6) == 0)
			cp = '"';
		else if (en == 6 && memcmp(v + i, "&apos;", 6) == 0)
			cp = '\'';
		else if (en > 3 && v[i + 1] == '#') {
			bool hex = v[i + 2] == 'x';
			size_t k = i + (hex ? 3 : 2);

			cp = 0;
			if (k >= i + en - 1)
				return -1;
			for (; k < i + en - 1; k++) {
				uint8_t c = v[k];
				uint32_t d;

				if (c >= '0' && c <= '9')
					d = c - '0';
				else if (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
					d = (uint32_t)((c | 0x20) - 'a' + 10);
				else
					return -1;
				cp = cp * (hex ? 16 : 10) + d;
				if (cp > 0x10ffff)
					return -1;
			}
		} else {
			return -1;
		}
		/* Only ASCII can form a valid marking; anything else is kept as a
		 * byte no token accepts. */
		out[o++] = cp < 0x80 ? up((char)cp) : (char)0x80;
		i += en - 1;
	}
	out[o] = '\0';
	return (int)o;
}

/* The attributes the check reads, found in one pass over the start tag. */
enum { A_ACCESS, A_CAVEAT, A_REL, A_REL_TAK, A_COUNT };

struct sc_attrs {
	const uint8_t *v[A_COUNT];
	size_t n[A_COUNT];
};

static int
attr_index(const uint8_t *name, size_t n)
{
	switch (n) {
	case 6:
		if (memcmp(name, "access", 6) == 0)
			return A_ACCESS;
		if (memcmp(name, "caveat", 6) == 0)
			return A_CAVEAT;
		return -1;
	case 12:
		return memcmp(name, "releasableTo", 12) == 0 ? A_REL : -1;
	case 13:
		return memcmp(name, "releaseableTo", 13) == 0 ? A_REL_TAK : -1;
	default:
		return -1;
	}
}

/*
 * Walk the start tag from just after "<event" up to its closing '>': blanks,
 * a name, blanks, '=', blanks, a quoted value (skipped with memchr, so a '>'
 * inside a value is no end); remember the values the check reads.  false if
 * unreadable, self-closing, or if one of them appears twice.
 */
static bool
attrs_collect(const uint8_t *p, const uint8_t *end, struct sc_attrs *a)
{
	memset(a, 0, sizeof(*a));
	for (;;) {
		const uint8_t *ns, *v, *ve;
		uint8_t q;
		int idx;

		while (p < end && xml_space(*p))
			p++;
		if (p >= end || *p == '/')
			return false; /* truncated, or <event .../> without a point */
		if (*p == '>')
			return true;
		ns = p;
		while (p < end && *p != '=' && *p != '>' && !xml_space(*p))
			p++;
		idx = attr_index(ns, (size_t)(p - ns));
		while (p < end && xml_space(*p))
			p++;
		if (p >= end || *p != '=')
			return false;
		p++;
		while (p < end && xml_space(*p))
			p++;
		if (p >= end || (*p != '"' && *p != '\''))
			return false;
		q = *p++;
		v = p;
		ve = memchr(p, q, (size_t)(end - p));
		if (ve == NULL)
			return false;
		if (idx >= 0) {
			if (a->v[idx] != NULL)
				return false; /* twice */
			a->v[idx] = v;
			a->n[idx] = (size_t)(ve - v);
		}
		p = ve + 1;
	}
}

/* ---- TAK Protocol v1 ---- */

static bool
pb_varint(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;
	unsigned shift = 0;

	for (const uint8_t *p = *pp; p < end && shift < 70; p++, shift += 7) {
		if (shift == 63 && *p > 1)
			return false;
		x |= (uint64_t)(*p & 0x7f) << shift;
		if (*p < 0x80) {
			*v = x;
			*pp = p + 1;
			return true;
		}
	}
	return false;
}

/* One field: its number and wire type; a length-delimited one's bytes in
 * (*val, *vlen), other values skipped.  false if unreadable. */
static bool
pb_field(const uint8_t **pp, const uint8_t *end, uint64_t *num, unsigned *wt,
	 const uint8_t **val, uint64_t *vlen)
{
	uint64_t key, n;

	if (!pb_varint(pp, end, &key) || key > 0xffffffffu || key < 8)
		return false;
	*num = key >> 3;
	*wt = (unsigned)(key & 7);
	*val = NULL;
	*vlen = 0;
	switch (*wt) {
	case 0:
		return pb_varint(pp, end, &n);
	case 1:
	case 5:
		n = *wt == 1 ? 8 : 4;
		if ((uint64_t)(end - *pp) < n)
			return false;
		*pp += n;
		return true;
	case 2:
		if (!pb_varint(pp, end, &n) || n > (uint64_t)(end - *pp))
			return false;
		*val = *pp;
		*vlen = n;
		*pp += n;
		return true;
	default:
		return false;
	}
}

/* The marking strings of a v1 payload (after its 3-byte header): every
 * TakMessage field read, exactly one cotEvent (2), in it access (2), caveat
 * (16) and releaseableTo (17) at most once each as strings, 16 and 17 as
 * varints skipped.  An empty string is absent.  false if unreadable. */
static bool
v1_collect(const uint8_t *p, const uint8_t *end, struct sc_attrs *a)
{
	const uint8_t *ev = NULL, *val;
	uint64_t evn = 0, num, vlen;
	unsigned wt, seen = 0;

	memset(a, 0, sizeof(*a));
	while (p < end) {
		if (!pb_field(&p, end, &num, &wt, &val, &vlen))
			return false;
		if (num == 2) {
			if (wt != 2 || ev != NULL)
				return false;
			ev = val;
			evn = vlen;
		}
	}
	if (ev == NULL)
		return false;
	for (p = ev, end = ev + evn; p < end;) {
		int idx;

		if (!pb_field(&p, end, &num, &wt, &val, &vlen))
			return false;
		if (num == 2)
			idx = A_ACCESS;
		else if (num == 16)
			idx = A_CAVEAT;
		else if (num == 17)
			idx = A_REL;
		else
			continue;
		if (wt == 0 && num != 2)
			continue; /* pre-4.10 submissionTime / creationTime */
		if (wt != 2 || (seen & (1u << idx)))
			return false;
		seen |= 1u << idx;
		if (vlen) {
			a->v[idx] = val;
			a->n[idx] = (size_t)vlen;
		}
	}
	return true;
}

/* A raw (protobuf) value upper-cased, as decode() leaves an XML one; -1 if
 * too long. */
static int
raw_upper(const uint8_t *v, size_t n, char *out)
{
	if (n >= SC_VAL_MAX)
		return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = up((char)v[i]);
	out[n] = '\0';
	return (int)n;
}

bool
sc_derive(const uint8_t *p, size_t len, const struct tg_slot_hdr *hdr,
	  const struct tg_marking *link_default, uint8_t *level, uint64_t *rel,
	  uint32_t *allowed)
{
	const uint8_t *end = p + len, *tag;
	struct sc_attrs at;
	char buf[SC_VAL_MAX];
	struct sc_mark m = {.level = -1, .peers = ~UINT32_C(0), .nat = ~UINT64_C(0)};
	uint64_t usa = 0;
	bool v1 = len >= 3 && p[0] == 0xbf && p[1] == 0x01 && p[2] == 0xbf;
	int (*value)(const uint8_t *, size_t, char *) = v1 ? raw_upper : decode;

	if (v1) {
		if (!v1_collect(p + 3, end, &at))
			return false;
	} else {
		if (len >= 3 && p[0] == 0xbf && p[1] == 0x00 && p[2] == 0xbf)
			p += 3;
		/* The first "<event" followed by whitespace. */
		for (tag = p;; tag++) {
			tag = memchr(tag, '<', (size_t)(end - tag));
			if (tag == NULL || end - tag < 7)
				return false;
			if (memcmp(tag, "<event", 6) == 0 && xml_space(tag[6]))
				break;
		}
		tag += 6;
		if (!attrs_collect(tag, end, &at))
			return false;
	}
	if (at.v[A_ACCESS]) {
		int n = value(at.v[A_ACCESS], at.n[A_ACCESS], buf);

		if (n < 0 || !marking(buf, (size_t)n, true, hdr, &m))
			return false;
	}
	if (at.v[A_CAVEAT]) {
		int n = value(at.v[A_CAVEAT], at.n[A_CAVEAT], buf);

		if (n < 0 || !marking(buf, (size_t)n, false, hdr, &m))
			return false;
	}
	/* TAK's two spellings: the parser refuses a message carrying both with
	 * different values, so the first spelling speaks for both. */
	{
		int r = at.v[A_REL] ? A_REL : A_REL_TAK;

		if (at.v[r]) {
			uint64_t mask;
			int n = value(at.v[r], at.n[r], buf);

			if (n < 0 || !relto(buf, (size_t)n, hdr, &mask))
				return false;
			m.rel = m.has_rel ? (m.rel & mask) : mask;
			m.has_rel = true;
		}
	}

	*level = m.level >= 0 ? (uint8_t)m.level
		 : (link_default ? link_default->level : (uint8_t)TG_LVL_NONE);
	if (m.has_rel)
		*rel = m.rel;
	else
		*rel = link_default && link_default->has_rel ? link_default->rel_mask : 0;
	if (m.noforn) {
		for (unsigned i = 0; i < hdr->n_nations && i < TG_MAX_NATIONS; i++)
			if (memcmp(hdr->nations[i], "USA", 4) == 0)
				usa = UINT64_C(1) << i;
		*rel &= usa;
	}
	*rel &= m.nat;
	*allowed = m.blocked ? 0 : m.peers;
	return true;
}

uint32_t
sc_peer_mask(const struct tg_peer *peers, unsigned n_peers, uint8_t level, uint64_t rel,
	     uint32_t allowed)
{
	uint32_t mask = 0;

	for (unsigned i = 0; i < n_peers; i++)
		if (level != TG_LVL_NONE && level <= peers[i].clearance &&
		    peers[i].nation_idx < TG_MAX_NATIONS &&
		    (rel & (UINT64_C(1) << peers[i].nation_idx)))
			mask |= 1u << i;
	return mask & allowed;
}
