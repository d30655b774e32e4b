/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sanitize_check.c - the second check of a sanitized copy (sanitize_check.h,
 * docs/release.md §7).
 *
 * Independent of the first mechanism: no line of sanitize.c, cot_write.c,
 * cot_parse.c or takproto.c.  The steps are read from the published table
 * (tg_slot_hdr.sanitize) by this file; the copy's marking is derived by
 * second_check.c.  Both payloads are read into one record each ("view"):
 * the event's attributes, the point, and the detail as a normalised token
 * text (start tags with their decoded attributes, end tags, merged decoded
 * text; comments gone), the original's with what the steps name removed
 * while it is read.  Then (a)..(d) are plain comparisons of the two views.
 * A payload this reader cannot read is a failure: the copy is withheld.
 */
#include "sanitize_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "second_check.h"

const char *
scs_name(unsigned r)
{
	static const char *const names[SCS_COUNT] = {
		[SCS_OK] = "ok",		 [SCS_MARKING] = "marking",
		[SCS_CANONICAL] = "canonical",	 [SCS_DROPPED] = "dropped_name",
		[SCS_POINT] = "point",		 [SCS_CHANGED] = "changed",
		[SCS_UNREADABLE] = "unreadable",
	};
	return r < SCS_COUNT ? names[r] : "unknown";
}

/* ---- the steps, read from the table ---- */

struct steps {
	const char *el[TG_MAX_SAN * TG_SAN_MAX_NAMES];
	const char *at[TG_MAX_SAN * TG_SAN_MAX_NAMES][2];
	unsigned n_el, n_at;
	int decimals; /* -1: no coarsen_point */
	double min_ce;
	const char *set[TG_SA_COUNT];
};

static void
steps_of(const struct tg_slot_hdr *h, uint16_t entries, struct steps *s)
{
	/* not the name arrays: n_el and n_at say how much of them holds */
	s->n_el = s->n_at = 0;
	s->min_ce = 0;
	memset(s->set, 0, sizeof(s->set));
	s->decimals = -1;
	for (unsigned k = 0; k < TG_MAX_SAN && k < h->n_sanitize; k++) {
		const struct tg_sanitize *e = &h->sanitize[k];

		if (!((entries >> k) & 1))
			continue;
		for (unsigned i = 0; i < e->n_elems && i < TG_SAN_MAX_NAMES; i++)
			s->el[s->n_el++] = e->elems[i];
		if (e->drop_remarks)
			s->el[s->n_el++] = "remarks";
		for (unsigned i = 0; i < e->n_attrs && i < TG_SAN_MAX_NAMES; i++) {
			s->at[s->n_at][0] = e->attrs[i][0];
			s->at[s->n_at++][1] = e->attrs[i][1];
		}
		if (e->decimals <= TG_SAN_DECIMALS_MAX) {
			if (s->decimals < 0 || e->decimals < s->decimals)
				s->decimals = e->decimals;
			s->min_ce = fmax(s->min_ce, e->min_ce);
		}
		for (unsigned a = 0; a < TG_SA_COUNT; a++)
			if ((e->set_mask >> a) & 1)
				s->set[a] = e->set[a];
	}
}

static bool
eq_name(const char *z, const uint8_t *s, size_t n)
{
	return strlen(z) == n && memcmp(z, s, n) == 0;
}

/* ---- a growing buffer ---- */

struct buf {
	uint8_t *p;
	size_t n, cap;
	bool over;
};

static void
add(struct buf *b, const void *s, size_t n)
{
	if (b->over || b->cap - b->n < n) {
		b->over = true;
		return;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void
add1(struct buf *b, uint8_t c)
{
	add(b, &c, 1);
}

/* ---- XML text: references, line ends ---- */

static bool
sp(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
nm(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.' || c == ':';
}

static size_t
put_cp(uint32_t cp, uint8_t *o)
{
	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (uint8_t)(0xc0 | (cp >> 6));
		o[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (uint8_t)(0xe0 | (cp >> 12));
		o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (uint8_t)(0xf0 | (cp >> 18));
	o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* The length of the run at s (n bytes) before the first byte decoding
 * changes: '&', CR, and for an attribute value LF and tab (memchr: the
 * common case is a long run). */
static size_t
special(const uint8_t *s, size_t n, bool attr)
{
	static const uint8_t text[] = {'&', '\r'}, value[] = {'&', '\r', '\n', '\t'};
	const uint8_t *set = attr ? value : text;
	size_t end = n;

	if (n < 64) { /* short values: a call per byte class costs more */
		for (size_t i = 0; i < n; i++)
			if (s[i] == '&' || s[i] == '\r' || (attr && (s[i] == '\n' || s[i] == '\t')))
				return i;
		return n;
	}
	for (unsigned k = 0; k < (attr ? 4u : 2u); k++) {
		const uint8_t *q = memchr(s, set[k], end);

		if (q != NULL)
			end = (size_t)(q - s);
	}
	return end;
}

/* Decode s[0..n) into b: references always, and as an attribute value
 * (attr) literal blanks as spaces, or as text literal line ends as LF.
 * false if a reference is unreadable. */
static bool
decode_into(struct buf *b, const uint8_t *s, size_t n, bool attr)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		size_t run = i;

		/* a run of bytes that stay as they are, in one copy */
		run = i + special(s + i, n - i, attr);
		if (run > i) {
			add(b, s + i, run - i);
			i = run - 1;
			continue;
		}
		if (c == '\r') {
			if (i + 1 < n && s[i + 1] == '\n')
				i++;
			add1(b, attr ? ' ' : '\n');
		} else if (attr && (c == '\n' || c == '\t')) {
			add1(b, ' ');
		} else if (c != '&') {
			add1(b, c);
		} else {
			const uint8_t *semi = memchr(s + i, ';', n - i);
			size_t en;
			uint32_t cp = 0;
			uint8_t u[4];

			if (semi == NULL)
				return false;
			en = (size_t)(semi - (s + i));
			if (en == 4 && !memcmp(s + i, "&amp", 4))
				cp = '&';
			else if (en == 3 && !memcmp(s + i, "&lt", 3))
				cp = '<';
			else if (en == 3 && !memcmp(s + i, "&gt", 3))
				cp = '>';
			else if (en == 5 && !memcmp(s + i, "&quot", 5))
				cp = '"';
			else if (en == 5 && !memcmp(s + i, "&apos", 5))
				cp = '\'';
			else if (en >= 3 && s[i + 1] == '#') {
				bool hex = s[i + 2] == 'x';
				size_t k = i + (hex ? 3 : 2);

				if (k >= i + en)
					return false;
				for (; k < i + en; k++) {
					uint8_t d = s[k];

					if (d >= '0' && d <= '9')
						cp = cp * (hex ? 16 : 10) + (d - '0');
					else if (hex && (d | 0x20) >= 'a' && (d | 0x20) <= 'f')
						cp = cp * 16 + (uint32_t)((d | 0x20) - 'a' + 10);
					else
						return false;
					if (cp > 0x10ffff)
						return false;
				}
				if (cp == 0)
					return false;
			} else {
				return false;
			}
			add(b, u, put_cp(cp, u));
			i += en;
		}
	}
	return true;
}

/* ---- the normalised detail ----
 * 0x01 name 0x00 { 0x02 attr 0x00 value 0x00 } 0x03   a start tag
 * 0x04                                                 an end tag
 * 0x05 text...                                         text (merged runs)
 */
enum { T_START = 1, T_ATTR, T_STARTEND, T_END, T_TEXT };

struct norm {
	struct buf b;
	bool in_text;
};

static void
n_text(struct norm *n, const uint8_t *s, size_t len, bool decode, bool *ok)
{
	if (len == 0)
		return;
	if (!n->in_text)
		add1(&n->b, T_TEXT);
	n->in_text = true;
	if (decode)
		*ok = *ok && decode_into(&n->b, s, len, false);
	else /* a CDATA section: line ends only */
		for (size_t i = 0; i < len; i++) {
			if (s[i] == '\r') {
				if (i + 1 < len && s[i + 1] == '\n')
					i++;
				add1(&n->b, '\n');
			} else {
				add1(&n->b, s[i]);
			}
		}
}

static void
n_tok(struct norm *n, uint8_t t)
{
	n->in_text = false;
	add1(&n->b, t);
}

static const uint8_t *
memfind(const uint8_t *s, const uint8_t *end, const char *w)
{
	size_t wn = strlen(w);

	while ((size_t)(end - s) >= wn) {
		const uint8_t *q = memchr(s, w[0], (size_t)(end - s));

		if (q == NULL || (size_t)(end - q) < wn)
			return NULL;
		if (memcmp(q, w, wn) == 0)
			return q;
		s = q + 1;
	}
	return NULL;
}

/* One attribute of a start tag at *pp (blanks first): its name and raw
 * value, *pp left after it.  1: an attribute; 0: the tag's end ('>' or
 * '/') is next; -1: unreadable. */
static int
next_attr(const uint8_t **pp, const uint8_t *end, const uint8_t **name, size_t *nlen,
	  const uint8_t **val, size_t *vlen)
{
	const uint8_t *p = *pp, *ve;

	while (p < end && sp(*p))
		p++;
	*pp = p;
	if (p >= end)
		return -1;
	if (*p == '>' || *p == '/')
		return 0;
	*name = p;
	while (p < end && nm(*p))
		p++;
	*nlen = (size_t)(p - *name);
	while (p < end && sp(*p))
		p++;
	if (*nlen == 0 || p >= end || *p != '=')
		return -1;
	p++;
	while (p < end && sp(*p))
		p++;
	if (p >= end || (*p != '"' && *p != '\''))
		return -1;
	*val = p + 1;
	ve = memchr(*val, *p, (size_t)(end - *val));
	if (ve == NULL)
		return -1;
	*vlen = (size_t)(ve - *val);
	*pp = ve + 1;
	return 1;
}

/* XML detail content d[0..len) into n; with st, what it names is removed
 * (an element named, with its content; an attribute named).  false if it
 * cannot be read. */
static bool
norm_xml(struct norm *n, const uint8_t *d, size_t len, const struct steps *st)
{
	const uint8_t *p = d, *end = d + len;
	unsigned depth = 0, skip = 0;
	const uint8_t *stack_name[64];
	size_t stack_len[64];
	bool ok = true;

	while (p < end && ok) {
		if (*p != '<') {
			const uint8_t *q = memchr(p, '<', (size_t)(end - p));

			q = q ? q : end;
			if (!skip)
				n_text(n, p, (size_t)(q - p), true, &ok);
			p = q;
		} else if (end - p >= 4 && !memcmp(p, "<!--", 4)) {
			const uint8_t *q = memfind(p + 4, end, "-->");

			if (q == NULL)
				return false;
			p = q + 3;
		} else if (end - p >= 9 && !memcmp(p, "<![CDATA[", 9)) {
			const uint8_t *q = memfind(p + 9, end, "]]>");

			if (q == NULL)
				return false;
			if (!skip)
				n_text(n, p + 9, (size_t)(q - p - 9), false, &ok);
			p = q + 3;
		} else if (end - p >= 2 && p[1] == '/') {
			const uint8_t *nm0 = p + 2, *q = nm0;

			while (q < end && nm(*q))
				q++;
			if (q == nm0)
				return false;
			while (q < end && sp(*q))
				q++;
			if (q >= end || *q != '>')
				return false;
			p = q + 1;
			if (skip) {
				skip--;
				continue;
			}
			if (depth == 0 || stack_len[depth - 1] != (size_t)(q - nm0) ||
			    memcmp(stack_name[depth - 1], nm0, stack_len[depth - 1]) != 0) {
				/* blanks before '>' were skipped: compare the name only */
				size_t l = 0;

				while (nm0 + l < end && nm(nm0[l]))
					l++;
				if (depth == 0 || stack_len[depth - 1] != l ||
				    memcmp(stack_name[depth - 1], nm0, l) != 0)
					return false;
			}
			depth--;
			n_tok(n, T_END);
		} else {
			const uint8_t *nm0 = p + 1, *q = nm0;
			size_t nl;
			bool drop = skip > 0, self;

			while (q < end && nm(*q))
				q++;
			nl = (size_t)(q - nm0);
			if (nl == 0)
				return false; /* <? <! */
			for (unsigned i = 0; st && !drop && i < st->n_el; i++)
				drop = eq_name(st->el[i], nm0, nl);
			if (!drop) {
				n_tok(n, T_START);
				add(&n->b, nm0, nl);
				add1(&n->b, 0);
			}
			p = q;
			for (;;) {
				const uint8_t *an, *v;
				size_t al, vl;
				bool keep = !drop;
				int r = next_attr(&p, end, &an, &al, &v, &vl);

				if (r < 0)
					return false;
				if (r == 0)
					break;
				for (unsigned i = 0; st && keep && i < st->n_at; i++)
					keep = !(eq_name(st->at[i][0], nm0, nl) &&
						 eq_name(st->at[i][1], an, al));
				if (!keep)
					continue;
				add1(&n->b, T_ATTR);
				add(&n->b, an, al);
				add1(&n->b, 0);
				if (!decode_into(&n->b, v, vl, true))
					return false;
				add1(&n->b, 0);
			}
			self = *p == '/';
			if (self && (p + 1 >= end || p[1] != '>'))
				return false;
			p += self ? 2 : 1;
			if (drop) {
				if (!self)
					skip++;
				continue;
			}
			add1(&n->b, T_STARTEND);
			n->in_text = false;
			if (self) {
				n_tok(n, T_END);
				continue;
			}
			if (depth == 64)
				return false;
			stack_name[depth] = nm0;
			stack_len[depth++] = nl;
		}
	}
	return ok && depth == 0 && skip == 0 && !n->b.over;
}

/* ---- protobuf ---- */

static bool
pb_var(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;

	for (unsigned sh = 0; *pp < end && sh < 64; sh += 7) {
		uint8_t c = *(*pp)++;

		x |= (uint64_t)(c & 0x7f) << sh;
		if (c < 0x80) {
			*v = x;
			return true;
		}
	}
	return false;
}

struct pbf {
	uint64_t num;
	unsigned wt;
	uint64_t v;          /* varint, fixed64 */
	const uint8_t *s;    /* length-delimited */
	size_t n;
};

static bool
pb_next(const uint8_t **pp, const uint8_t *end, struct pbf *f)
{
	uint64_t key;

	if (!pb_var(pp, end, &key) || key < 8)
		return false;
	f->num = key >> 3;
	f->wt = (unsigned)(key & 7);
	f->s = NULL;
	f->n = 0;
	switch (f->wt) {
	case 0:
		return pb_var(pp, end, &f->v);
	case 1:
		if (end - *pp < 8)
			return false;
		f->v = 0;
		for (unsigned i = 0; i < 8; i++)
			f->v |= (uint64_t)(*pp)[i] << (8 * i);
		*pp += 8;
		return true;
	case 2: {
		uint64_t l;

		if (!pb_var(pp, end, &l) || l > (uint64_t)(end - *pp))
			return false;
		f->s = *pp;
		f->n = (size_t)l;
		*pp += l;
		return true;
	}
	case 5:
		if (end - *pp < 4)
			return false;
		*pp += 4;
		return true;
	default:
		return false;
	}
}

static double
as_double(uint64_t u)
{
	double d;

	memcpy(&d, &u, 8);
	return d;
}

/* ---- one payload's view ---- */

enum { E_VERSION, E_UID, E_TYPE, E_HOW, E_ACCESS, E_CAVEAT, E_REL, E_QOS, E_OPEX, E_TIME,
       E_START, E_STALE, E_N };
enum { P_LAT, P_LON, P_HAE, P_CE, P_LE, P_N };

struct view {
	struct buf val;            /* decoded strings */
	size_t off[E_N], len[E_N]; /* into val; len SIZE_MAX: absent */
	int64_t t[3];              /* time, start, stale: ms */
	double pt[P_N];
	const uint8_t *pt_txt[2];  /* lat, lon as written (XML), for the decimals */
	size_t pt_len[2];
	bool has_detail;
	bool v1;
};

static int
e_index(const uint8_t *s, size_t n)
{
	static const struct {
		const char *name;
		uint8_t len, idx;
	} names[] = {{"version", 7, E_VERSION}, {"uid", 3, E_UID},	  {"type", 4, E_TYPE},
		     {"how", 3, E_HOW},		{"access", 6, E_ACCESS}, {"caveat", 6, E_CAVEAT},
		     {"releasableTo", 12, E_REL}, {"qos", 3, E_QOS},	  {"opex", 4, E_OPEX},
		     {"time", 4, E_TIME},	{"start", 5, E_START},	  {"stale", 5, E_STALE},
		     {"releaseableTo", 13, E_REL}};

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].len == n && memcmp(names[i].name, s, n) == 0)
			return names[i].idx;
	return -1;
}

/* An ISO 8601 time (release.md §2) as ms since the epoch; false if not one. */
static bool
iso_ms(const uint8_t *s, size_t n, int64_t *ms)
{
	int v[6] = {0};
	static const uint8_t w[6] = {4, 2, 2, 2, 2, 2};
	static const char sepc[6] = {'-', '-', 'T', ':', ':', 0};
	size_t i = 0;
	int64_t frac = 0, off = 0;

	for (unsigned f = 0; f < 6; f++) {
		for (unsigned k = 0; k < w[f]; k++, i++) {
			if (i >= n || s[i] < '0' || s[i] > '9')
				return false;
			v[f] = v[f] * 10 + (s[i] - '0');
		}
		if (sepc[f]) {
			if (i >= n || s[i] != (uint8_t)sepc[f])
				return false;
			i++;
		}
	}
	if (i < n && s[i] == '.') {
		unsigned k = 0;

		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, k++)
			if (k < 3)
				frac = frac * 10 + (s[i] - '0');
		if (k == 0)
			return false;
		for (; k < 3; k++)
			frac *= 10;
	}
	if (i < n && s[i] == 'Z') {
		i++;
	} else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
		int hh = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
		int mm = (s[i + 4] - '0') * 10 + (s[i + 5] - '0');

		off = (int64_t)(hh * 60 + mm) * 60000 * (s[i] == '+' ? 1 : -1);
		i += 6;
	} else {
		return false;
	}
	if (i != n)
		return false;
	{
		/* days_from_civil (H. Hinnant) */
		int64_t y = v[0] - (v[1] <= 2);
		int64_t era = (y >= 0 ? y : y - 399) / 400;
		int64_t yoe = y - era * 400;
		int64_t doy = (153 * (v[1] + (v[1] > 2 ? -3 : 9)) + 2) / 5 + v[2] - 1;
		int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
		int64_t days = era * 146097 + doe - 719468;

		*ms = ((days * 24 + v[3]) * 60 + v[4]) * 60000 + (int64_t)v[5] * 1000 + frac - off;
	}
	return true;
}

static bool
set_str(struct view *w, int idx, const uint8_t *s, size_t n, bool decode)
{
	size_t at = w->val.n;

	if (idx < 0)
		return true;
	if (w->len[idx] != SIZE_MAX) {
		/* releasableTo and releaseableTo both: the parser refused
		 * different values; equal ones are one */
		return idx == E_REL;
	}
	if (decode ? !decode_into(&w->val, s, n, true) : (add(&w->val, s, n), w->val.over))
		return false;
	w->off[idx] = at;
	w->len[idx] = w->val.n - at;
	return true;
}

/* The attributes of a start tag, from just after its name to its '>'
 * (*pp left after it): each one a known event attribute goes to the view
 * (decoded), point attributes to pt. */
static bool
xml_attrs(const uint8_t **pp, const uint8_t *end, struct view *w, bool point)
{
	const uint8_t *p = *pp;

	for (;;) {
		const uint8_t *an, *v;
		size_t al, vl;
		int r = next_attr(&p, end, &an, &al, &v, &vl);

		if (r < 0)
			return false;
		if (r == 0)
			break;
		if (point) {
			static const char *const pn[P_N] = {"lat", "lon", "hae", "ce", "le"};
			uint8_t tmp[80];
			struct buf b = {tmp, 0, sizeof(tmp) - 1, false};

			for (unsigned k = 0; k < P_N; k++) {
				char *e;

				if (!eq_name(pn[k], an, al))
					continue;
				if (!decode_into(&b, v, vl, true) || b.over || b.n == 0)
					return false;
				tmp[b.n] = 0;
				w->pt[k] = strtod((const char *)tmp, &e);
				if (*e != '\0')
					return false;
				if (k <= P_LON) {
					w->pt_txt[k] = v;
					w->pt_len[k] = vl;
				}
			}
		} else if (!set_str(w, e_index(an, al), v, vl, true)) {
			return false;
		}
	}
	*pp = p;
	return true;
}

/* Skip what may stand between elements of <event>: blanks, text (CDATA
 * sections too), comments.  Stops at the next tag. */
static const uint8_t *
skip_misc(const uint8_t *p, const uint8_t *end)
{
	while (p < end) {
		if (*p != '<') {
			p++;
		} else if (end - p >= 4 && !memcmp(p, "<!--", 4)) {
			const uint8_t *q = memfind(p + 4, end, "-->");

			if (q == NULL)
				return end;
			p = q + 3;
		} else if (end - p >= 9 && !memcmp(p, "<![CDATA[", 9)) {
			const uint8_t *q = memfind(p + 9, end, "]]>");

			if (q == NULL)
				return end;
			p = q + 3;
		} else {
			return p;
		}
	}
	return p;
}

/* The last end tag `</name` [blanks] `>` in [p, end): its '<' (and its
 * end in *after), NULL if none. */
static const uint8_t *
last_end_tag(const uint8_t *p, const uint8_t *end, const char *tag, const uint8_t **after)
{
	const uint8_t *found = NULL;

	for (const uint8_t *r = p; (r = memfind(r, end, tag)) != NULL; r++) {
		const uint8_t *q = r + strlen(tag);

		while (q < end && sp(*q))
			q++;
		if (q < end && *q == '>') {
			found = r;
			*after = q + 1;
		}
	}
	return found;
}

/* An XML payload: its event attributes, point, and detail (normalised
 * into n, with st's removals when st). */
static bool
view_xml(const uint8_t *p, size_t len, struct view *w, struct norm *n, const struct steps *st)
{
	const uint8_t *end = p + len, *q;
	bool seen_point = false;

	if (len >= 3 && p[0] == 0xbf && p[1] == 0x00 && p[2] == 0xbf)
		p += 3;
	if (end - p >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		p += 3; /* a byte order mark */
	/* The prolog: blanks, the XML declaration, comments; then the root.
	 * (An "<event" inside a comment is no root.) */
	for (;;) {
		while (p < end && sp(*p))
			p++;
		if (end - p >= 5 && !memcmp(p, "<?xml", 5)) {
			q = memfind(p, end, "?>");
			if (q == NULL)
				return false;
			p = q + 2;
		} else if (end - p >= 4 && !memcmp(p, "<!--", 4)) {
			q = memfind(p + 4, end, "-->");
			if (q == NULL)
				return false;
			p = q + 3;
		} else {
			break;
		}
	}
	if (end - p < 7 || memcmp(p, "<event", 6) != 0 || !sp(p[6]))
		return false;
	p += 6;
	if (!xml_attrs(&p, end, w, false) || p >= end || *p != '>')
		return false;
	p++;
	for (;;) {
		p = skip_misc(p, end);
		if (p >= end)
			return false;
		if (end - p >= 8 && !memcmp(p, "</event", 7))
			break;
		if (end - p >= 7 && !memcmp(p, "<point", 6) && (sp(p[6]) || p[6] == '/')) {
			if (seen_point)
				return false;
			seen_point = true;
			p += 6;
			if (!xml_attrs(&p, end, w, true))
				return false;
			if (end - p >= 2 && p[0] == '/' && p[1] == '>') {
				p += 2;
			} else if (*p == '>') {
				const uint8_t *after;

				/* <point> holds nothing the parser keeps: to its end tag */
				q = memfind(p, end, "</point");
				if (q == NULL)
					return false;
				after = q + 7;
				while (after < end && sp(*after))
					after++;
				if (after >= end || *after != '>')
					return false;
				p = after + 1;
			} else {
				return false;
			}
		} else if (end - p >= 8 && !memcmp(p, "<detail", 7) &&
			   (sp(p[7]) || p[7] == '>' || p[7] == '/')) {
			const uint8_t *c0;
			struct view dummy;

			if (w->has_detail)
				return false;
			w->has_detail = true;
			p += 7;
			memset(&dummy, 0, sizeof(dummy));
			{
				uint8_t junk[8];

				dummy.val = (struct buf){junk, 0, sizeof(junk), false};
				for (unsigned k = 0; k < E_N; k++)
					dummy.len[k] = SIZE_MAX;
				if (!xml_attrs(&p, end, &dummy, false))
					return false;
			}
			if (end - p >= 2 && p[0] == '/' && p[1] == '>') {
				p += 2;
				continue;
			}
			c0 = ++p;
			/* the matching </detail>: the last one in the payload */
			{
				const uint8_t *after = NULL;

				q = last_end_tag(c0, end, "</detail", &after);
				if (q == NULL || !norm_xml(n, c0, (size_t)(q - c0), st))
					return false;
				p = after;
			}
		} else {
			return false;
		}
	}
	if (!seen_point)
		return false;
	for (unsigned k = 0; k < 3; k++) {
		int idx = E_TIME + (int)k;

		if (w->len[idx] == SIZE_MAX ||
		    !iso_ms(w->val.p + w->off[idx], w->len[idx], &w->t[k]))
			return false;
	}
	return true;
}

static void
typed_attr(struct norm *n, const char *name, const uint8_t *v, size_t len)
{
	add1(&n->b, T_ATTR);
	add(&n->b, name, strlen(name));
	add1(&n->b, 0);
	add(&n->b, v, len);
	add1(&n->b, 0);
}

/* A number as the writers write one: %.15g, or %.17g when that does not
 * read back. */
static void
typed_num(struct norm *n, const char *name, double d)
{
	char b[40];
	int k = snprintf(b, sizeof(b), "%.15g", d);

	if (strtod(b, NULL) != d)
		k = snprintf(b, sizeof(b), "%.17g", d);
	typed_attr(n, name, (const uint8_t *)b, (size_t)k);
}

/* A typed detail message (release.md §2: written after xmlDetail, unless
 * xmlDetail has a direct child of its name) as an empty element. */
static bool
typed_elem(struct norm *n, unsigned field, const uint8_t *s, size_t len, const struct steps *st)
{
	static const char *const el[8] = {NULL, NULL, "contact", "__group", "precisionlocation",
					  "status", "takv", "track"};
	static const char *const at[8][4] = {
		[2] = {"endpoint", "callsign"}, [3] = {"name", "role"},
		[4] = {"geopointsrc", "altsrc"}, [5] = {"battery"},
		[6] = {"device", "platform", "os", "version"}, [7] = {"speed", "course"},
	};
	const uint8_t *p = s, *end = s + len;
	struct {
		bool set;
		struct pbf f;
	} got[5] = {0};
	struct pbf f;

	for (unsigned i = 0; st && i < st->n_el; i++)
		if (!strcmp(st->el[i], el[field]))
			return true;
	while (p < end) {
		if (!pb_next(&p, end, &f))
			return false;
		if (f.num >= 1 && f.num <= 4 && at[field][f.num - 1]) {
			got[f.num].set = true;
			got[f.num].f = f;
		}
	}
	n_tok(n, T_START);
	add(&n->b, el[field], strlen(el[field]));
	add1(&n->b, 0);
	/* In field order; status and track write their numbers always (0
	 * when absent, as proto3 reads them), strings only when not empty. */
	for (unsigned k = 1; k <= 4; k++) {
		const char *an = at[field][k - 1];
		bool dropped = false;

		if (an == NULL || (!got[k].set && field != 5 && field != 7))
			continue;
		for (unsigned i = 0; st && i < st->n_at; i++)
			dropped = dropped || (!strcmp(st->at[i][0], el[field]) &&
					      !strcmp(st->at[i][1], an));
		if (dropped)
			continue;
		if (field == 5) { /* battery */
			char b[24];
			int m = snprintf(b, sizeof(b), "%u", (unsigned)got[k].f.v);

			typed_attr(n, an, (const uint8_t *)b, (size_t)m);
		} else if (field == 7) {
			typed_num(n, an, as_double(got[k].f.v));
		} else if (got[k].f.n > 0) {
			typed_attr(n, an, got[k].f.s, got[k].f.n);
		}
	}
	add1(&n->b, T_STARTEND);
	n_tok(n, T_END);
	return true;
}

/* Does the (already normalised, without removals) xmlDetail have a direct
 * child named `name`?  Read from the normalised text: depth counted. */
static bool
xml_has_child(const uint8_t *s, size_t len, const char *name)
{
	unsigned depth = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == T_START) {
			if (depth == 0 && i + 1 + strlen(name) < len &&
			    !memcmp(s + i + 1, name, strlen(name)) && s[i + 1 + strlen(name)] == 0)
				return true;
			depth++;
			while (i < len && s[i] != T_STARTEND)
				i++;
		} else if (s[i] == T_END) {
			depth--;
		} else if (s[i] == T_TEXT) {
			while (i + 1 < len && s[i + 1] > T_TEXT)
				i++;
		}
	}
	return false;
}

/* A v1 payload (after its header): the CotEvent's fields, and the detail
 * (xmlDetail, then the typed messages) normalised into n. */
static bool
view_v1(const uint8_t *p, size_t len, struct view *w, struct norm *n, const struct steps *st,
	bool copy)
{
	const uint8_t *end = p + len, *ev = NULL, *q;
	struct pbf f;
	size_t evn = 0;
	bool have[4] = {0};

	w->v1 = true;
	p += 3;
	while (p < end) {
		if (!pb_next(&p, end, &f))
			return false;
		if (f.num == 2) {
			if (f.wt != 2 || ev)
				return false;
			ev = f.s;
			evn = f.n;
		} else if (copy) {
			return false; /* a copy holds the event only */
		}
	}
	if (ev == NULL)
		return false;
	for (q = ev, end = ev + evn; q < end;) {
		static const int sidx[18] = {[1] = E_TYPE + 1, [2] = E_ACCESS + 1,
					     [3] = E_QOS + 1,  [4] = E_OPEX + 1,
					     [5] = E_UID + 1,  [9] = E_HOW + 1,
					     [16] = E_CAVEAT + 1, [17] = E_REL + 1};

		if (!pb_next(&q, end, &f))
			return false;
		if (f.num < 18 && sidx[f.num] && f.wt == 2) {
			if (f.n && !set_str(w, sidx[f.num] - 1, f.s, f.n, false))
				return false;
		} else if (f.num >= 6 && f.num <= 8 && f.wt == 0) {
			w->t[f.num - 6] = (int64_t)f.v;
			have[f.num - 6] = true;
		} else if (f.num >= 10 && f.num <= 14 && f.wt == 1) {
			w->pt[f.num - 10] = as_double(f.v);
		} else if (f.num == 15 && f.wt == 2) {
			const uint8_t *d = f.s, *de = f.s + f.n;
			struct pbf g;
			const uint8_t *xml = NULL;
			size_t xn = 0;
			size_t start;

			w->has_detail = true;
			/* xmlDetail first (its position in D), then the typed */
			for (const uint8_t *r = d; r < de;) {
				if (!pb_next(&r, de, &g))
					return false;
				if (g.num == 1 && g.wt == 2) {
					xml = g.s;
					xn = g.n;
				} else if (copy && g.num >= 2 && g.num <= 7) {
					return false; /* typed detail: not canonical */
				}
			}
			start = n->b.n;
			if (xml && !norm_xml(n, xml, xn, NULL))
				return false;
			if (!copy) {
				/* The names xmlDetail has as direct children (read
				 * before removals), then the removals: normalise
				 * again with the steps. */
				bool shadow[8] = {0};
				static const char *const el[8] = {NULL, NULL, "contact", "__group",
								  "precisionlocation", "status",
								  "takv", "track"};

				for (unsigned k = 2; k < 8; k++)
					shadow[k] = xml_has_child(n->b.p + start, n->b.n - start, el[k]);
				n->b.n = start;
				n->in_text = false;
				if (xml && !norm_xml(n, xml, xn, st))
					return false;
				/* in the order D has them: contact, group,
				 * precisionlocation, status, takv, track */
				for (unsigned k = 2; k < 8; k++)
					for (const uint8_t *r = d; r < de;) {
						if (!pb_next(&r, de, &g))
							return false;
						if (g.num == k && g.wt == 2 && !shadow[k] &&
						    !typed_elem(n, k, g.s, g.n, st))
							return false;
					}
			}
		}
	}
	return have[0] && have[1] && have[2] && w->len[E_UID] != SIZE_MAX;
}

static bool
view_of(const uint8_t *p, size_t len, struct view *w, struct norm *n, const struct steps *st,
	bool copy, uint8_t *valbuf, size_t valcap)
{
	memset(w, 0, sizeof(*w));
	w->val = (struct buf){valbuf, 0, valcap, false};
	for (unsigned k = 0; k < E_N; k++)
		w->len[k] = SIZE_MAX;
	if (len >= 3 && p[0] == 0xbf && p[1] == 0x01 && p[2] == 0xbf)
		return view_v1(p, len, w, n, st, copy);
	return view_xml(p, len, w, n, st);
}

/* ---- the properties ---- */

/* (b): canonical, and no dropped name as a tag or attribute. */
static enum scs_result
check_names(const uint8_t *x, size_t n, const struct steps *st)
{
	const uint8_t *end = x + n;

	if (memfind(x, end, "<!") || memfind(x, end, "<?"))
		return SCS_CANONICAL;
	for (const uint8_t *p = x; (p = memchr(p, '<', (size_t)(end - p))) != NULL; p++) {
		const uint8_t *q = p + 1;
		size_t l;

		if (q < end && *q == '/')
			continue;
		while (q < end && nm(*q))
			q++;
		l = (size_t)(q - p - 1);
		for (unsigned i = 0; i < st->n_el; i++)
			if (eq_name(st->el[i], p + 1, l))
				return SCS_DROPPED;
		for (unsigned i = 0; i < st->n_at; i++) {
			const uint8_t *a = q;

			if (!eq_name(st->at[i][0], p + 1, l))
				continue;
			/* the tag's attributes, name by name: a value may hold
			 * ` name=` as text */
			for (;;) {
				const uint8_t *an, *v;
				size_t al, vl;
				int r = next_attr(&a, end, &an, &al, &v, &vl);

				if (r < 0)
					return SCS_CANONICAL;
				if (r == 0)
					break;
				if (eq_name(st->at[i][1], an, al))
					return SCS_DROPPED;
			}
		}
	}
	return SCS_OK;
}

static bool
same_str(const struct view *a, const struct view *b, int k)
{
	if (a->len[k] == SIZE_MAX || b->len[k] == SIZE_MAX)
		return a->len[k] == b->len[k];
	return a->len[k] == b->len[k] && !memcmp(a->val.p + a->off[k], b->val.p + b->off[k],
						 a->len[k]);
}

/* The same number to double precision: equal, or within two units in the
 * last place.  The parser reads a number of more than 17 digits to a
 * double of its own (release.md §2 allows 64 bytes), and the copy writes
 * that double exactly; strtod here may round the long original the other
 * way in the last place. */
static bool
same_num(double a, double b)
{
	return a == b || fabs(a - b) <= fabs(b) * 0x1p-51;
}

/* The decimals of a number as written ("35.12": 2); 99 if unreadable. */
static unsigned
decimals_of(const uint8_t *s, size_t n)
{
	const uint8_t *dot = memchr(s, '.', n);

	if (memchr(s, 'e', n) || memchr(s, 'E', n))
		return 99;
	return dot ? (unsigned)(n - (size_t)(dot - s) - 1) : 0;
}

enum scs_result
sc_check_copy(const uint8_t *orig, size_t olen, const uint8_t *copy, size_t clen,
	      const struct tg_slot_hdr *hdr, const struct tg_peer *peers,
	      const struct tg_marking *link_default, uint16_t entries, uint32_t copy_peers,
	      uint32_t admitted, uint8_t *scratch)
{
	static const uint8_t decl[] = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>";
	struct steps st;
	struct view vo, vc;
	struct norm no = {{scratch, 0, SCS_SCRATCH / 2 - 4096, false}, false};
	struct norm nc = {{scratch + SCS_SCRATCH / 2, 0, SCS_SCRATCH / 2 - 4096, false}, false};
	uint8_t lvl;
	uint64_t rel;
	uint32_t allowed, m2;
	bool copy_v1 = clen >= 3 && copy[0] == 0xbf && copy[1] == 0x01 && copy[2] == 0xbf;

	steps_of(hdr, entries, &st);

	/* (a) the copy's marking, by the second check's own reading */
	if (!sc_derive(copy, clen, hdr, link_default, &lvl, &rel, &allowed))
		return SCS_MARKING;
	m2 = sc_peer_mask(peers, hdr->n_peers, lvl, rel, allowed);
	if ((m2 & copy_peers) != copy_peers || (m2 & ~admitted) != 0)
		return SCS_MARKING;

	/* (b) canonical, no dropped name */
	if (!copy_v1) {
		if (clen < sizeof(decl) - 1 || memcmp(copy, decl, sizeof(decl) - 1) != 0)
			return SCS_CANONICAL;
		enum scs_result r = check_names(copy + sizeof(decl) - 1, clen - (sizeof(decl) - 1),
						&st);

		if (r != SCS_OK)
			return r;
	}
	if (!view_of(orig, olen, &vo, &no, &st, false, scratch + SCS_SCRATCH / 2 - 4096, 4096) ||
	    !view_of(copy, clen, &vc, &nc, NULL, true, scratch + SCS_SCRATCH - 4096, 4096))
		return SCS_UNREADABLE;
	if (copy_v1) {
		/* the xmlDetail, the only place markup can be: read raw */
		const uint8_t *p = copy + 3, *end = copy + clen;
		struct pbf f, g, h;

		while (p < end && pb_next(&p, end, &f))
			for (const uint8_t *q = f.s; f.num == 2 && q && q < f.s + f.n;) {
				if (!pb_next(&q, f.s + f.n, &g))
					return SCS_UNREADABLE;
				for (const uint8_t *r = g.s; g.num == 15 && r && r < g.s + g.n;) {
					enum scs_result res;

					if (!pb_next(&r, g.s + g.n, &h))
						return SCS_UNREADABLE;
					if (h.num == 1 && h.wt == 2 &&
					    (res = check_names(h.s, h.n, &st)) != SCS_OK)
						return res;
				}
			}
	}

	/* (c) the point */
	if (st.decimals >= 0) {
		double p10 = pow(10.0, st.decimals), half = 0.5 / p10;

		for (unsigned k = P_LAT; k <= P_LON; k++) {
			double d = fabs(vc.pt[k] - vo.pt[k]);

			if (!(d <= half * (1 + 1e-9) + 1e-12))
				return SCS_POINT;
			if (!vc.v1 && decimals_of(vc.pt_txt[k], vc.pt_len[k]) > (unsigned)st.decimals)
				return SCS_POINT;
			if (vc.v1 && fabs(vc.pt[k] * p10 - nearbyint(vc.pt[k] * p10)) > 1e-6)
				return SCS_POINT;
		}
		if (!((vc.pt[P_CE] >= vo.pt[P_CE] || same_num(vc.pt[P_CE], vo.pt[P_CE])) &&
		      vc.pt[P_CE] >= st.min_ce))
			return SCS_POINT;
	} else if (!same_num(vc.pt[P_LAT], vo.pt[P_LAT]) || !same_num(vc.pt[P_LON], vo.pt[P_LON]) ||
		   !same_num(vc.pt[P_CE], vo.pt[P_CE])) {
		return SCS_POINT;
	}

	/* (d) everything else */
	if (!same_num(vc.pt[P_HAE], vo.pt[P_HAE]) || !same_num(vc.pt[P_LE], vo.pt[P_LE]))
		return SCS_CHANGED;
	for (unsigned k = 0; k < 3; k++)
		if (vc.t[k] != vo.t[k])
			return SCS_CHANGED;
	for (int k = E_UID; k <= E_HOW; k++)
		if (!same_str(&vo, &vc, k))
			return SCS_CHANGED;
	if (!vo.v1 && !vc.v1 && !same_str(&vo, &vc, E_VERSION))
		return SCS_CHANGED;
	{
		static const int sa[TG_SA_COUNT] = {[TG_SA_ACCESS] = E_ACCESS,
						    [TG_SA_CAVEAT] = E_CAVEAT,
						    [TG_SA_RELEASABLE_TO] = E_REL,
						    [TG_SA_QOS] = E_QOS, [TG_SA_OPEX] = E_OPEX};

		for (unsigned a = 0; a < TG_SA_COUNT; a++) {
			int k = sa[a];

			if (st.set[a] == NULL) {
				if (!same_str(&vo, &vc, k))
					return SCS_CHANGED;
			} else if (vc.len[k] != strlen(st.set[a]) ||
				   memcmp(vc.val.p + vc.off[k], st.set[a], vc.len[k]) != 0) {
				return SCS_CHANGED;
			}
		}
	}
	if (vo.has_detail != vc.has_detail)
		return SCS_CHANGED;
	if (no.b.over || nc.b.over)
		return SCS_UNREADABLE;
	if (no.b.n != nc.b.n || memcmp(no.b.p, nc.b.p, no.b.n) != 0)
		return SCS_CHANGED;
	return SCS_OK;
}
