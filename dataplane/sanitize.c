/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sanitize.c - a peer's sanitized copy (sanitize.h; docs/release.md §6).
 *
 * The detail is rewritten by a small streaming reader-writer: the parser
 * accepted the content already (cot_parse.c; for v1, the detail text D),
 * so this reads it again only to copy it: start tags, end tags, text,
 * CDATA sections and comments, with a stack of the open elements.  A
 * dropped element is skipped with everything in it; an element's start
 * tag is held open ("pending") until something of its content is written,
 * so that an element left empty is written `<name .../>`.  Text and
 * attribute values are decoded as an XML processor would (line ends,
 * attribute-value normalisation, references) and escaped again, so the
 * copy holds no CDATA section and no comment, and every '<' in it starts a
 * tag.  Anything the reader does not expect makes the copy fail (the
 * peers that wanted it are withheld): it refuses rather than guesses.
 */
#include "sanitize.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cot_write.h"

uint16_t
san_applies(const struct tg_slot_hdr *h, uint16_t peer_entries, uint32_t classes)
{
	uint16_t out = 0;

	for (unsigned k = 0; peer_entries >> k && k < TG_MAX_SAN && k < h->n_sanitize; k++)
		if ((peer_entries >> k & 1) &&
		    (h->sanitize[k].classes == 0 || (h->sanitize[k].classes & classes)))
			out |= (uint16_t)(1u << k);
	return out;
}

void
san_combine(const struct tg_slot_hdr *h, uint16_t entries, struct san_steps *st)
{
	/* Not the name arrays (6 KiB, once per copy): n_elems and n_attrs say
	 * how much of them holds. */
	st->n_elems = st->n_attrs = 0;
	st->drop_remarks = false;
	st->min_ce = 0;
	memset(st->set, 0, sizeof(st->set));
	st->entries = entries;
	st->decimals = TG_SAN_NO_COARSEN;
	for (unsigned k = 0; k < TG_MAX_SAN && k < h->n_sanitize; k++) {
		const struct tg_sanitize *e = &h->sanitize[k];

		if (!(entries >> k & 1))
			continue;
		for (unsigned i = 0; i < e->n_elems && i < TG_SAN_MAX_NAMES; i++)
			st->elems[st->n_elems++] = e->elems[i];
		for (unsigned i = 0; i < e->n_attrs && i < TG_SAN_MAX_NAMES; i++) {
			st->attrs[st->n_attrs][0] = e->attrs[i][0];
			st->attrs[st->n_attrs++][1] = e->attrs[i][1];
		}
		st->drop_remarks = st->drop_remarks || e->drop_remarks;
		if (e->decimals != TG_SAN_NO_COARSEN) {
			if (st->decimals == TG_SAN_NO_COARSEN || e->decimals < st->decimals)
				st->decimals = e->decimals;
			if (e->min_ce > st->min_ce)
				st->min_ce = e->min_ce;
		}
		for (unsigned a = 0; a < TG_SA_COUNT; a++)
			if (e->set_mask >> a & 1)
				st->set[a] = e->set[a]; /* tgctl refuses two values */
	}
}

double
san_round(double x, unsigned decimals)
{
	static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
	double p = p10[decimals <= TG_SAN_DECIMALS_MAX ? decimals : TG_SAN_DECIMALS_MAX];
	double r = floor(fabs(x) * p + 0.5) / p;

	return x < 0 ? -r : r;
}

/* ---- the detail ---- */

struct wr {
	char *p, *e;
	bool over;
};

static void
put(struct wr *o, const char *s, size_t n)
{
	if (n == 0)
		return;
	if (o->over || (size_t)(o->e - o->p) < n) {
		o->over = true;
		return;
	}
	memcpy(o->p, s, n);
	o->p += n;
}

static bool
name_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
name_char(unsigned char c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static bool
blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
listed(const char *const *names, unsigned n, const char *s, size_t len)
{
	for (unsigned i = 0; i < n; i++)
		if (strncmp(names[i], s, len) == 0 && names[i][len] == '\0')
			return true;
	return false;
}

static bool
attr_dropped(const struct san_steps *st, const char *el, size_t el_len, const char *at,
	     size_t at_len)
{
	for (unsigned i = 0; i < st->n_attrs; i++)
		if (strncmp(st->attrs[i][0], el, el_len) == 0 && st->attrs[i][0][el_len] == '\0' &&
		    strncmp(st->attrs[i][1], at, at_len) == 0 && st->attrs[i][1][at_len] == '\0')
			return true;
	return false;
}

/* One code point as UTF-8 at b; its length (0: not an XML character). */
static size_t
utf8(uint32_t cp, char *b)
{
	if (cp == 0 || (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff || cp > 0x10ffff)
		return 0;
	if (cp < 0x80) {
		b[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	b[0] = (char)(0xf0 | cp >> 18);
	b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	b[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The reference at s (n bytes from '&'): its text at b, its length in
 * *used; 0 if it is no reference the parser accepts. */
static size_t
reference(const char *s, size_t n, char *b, size_t *used)
{
	static const struct {
		const char *name;
		char ch;
	} ent[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
	const char *semi = memchr(s, ';', n < 12 ? n : 12);
	size_t len;
	uint32_t cp = 0;

	if (semi == NULL)
		return 0;
	len = (size_t)(semi - s);
	*used = len + 1;
	if (len >= 3 && s[1] == '#') {
		bool hex = s[2] == 'x';
		size_t i = hex ? 3 : 2;

		if (i >= len)
			return 0;
		for (; i < len; i++) {
			unsigned char c = (unsigned char)s[i];
			unsigned d;

			if (c >= '0' && c <= '9')
				d = c - '0';
			else if (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
				d = (unsigned)((c | 0x20) - 'a' + 10);
			else
				return 0;
			cp = cp * (hex ? 16 : 10) + d;
			if (cp > 0x10ffff)
				return 0;
		}
		return utf8(cp, b);
	}
	for (size_t k = 0; k < sizeof(ent) / sizeof(ent[0]); k++)
		if (strlen(ent[k].name) == len - 1 && memcmp(ent[k].name, s + 1, len - 1) == 0) {
			b[0] = ent[k].ch;
			return 1;
		}
	return 0;
}

/* Decoded text (character data or, raw, a CDATA section), escaped:
 * & < > as entities, a CR (only a reference makes one) as &#13;.  Line
 * ends are normalised as XML does (CR LF and CR alone are LF). */
static bool
put_text(struct wr *o, const char *s, size_t n, bool cdata)
{
	for (size_t i = 0; i < n; i++) {
		char b[4];
		size_t k, used, run = i;

		/* a run of bytes written as they are, in one copy */
		while (run < n && s[run] != '&' && s[run] != '<' && s[run] != '>' && s[run] != '\r')
			run++;
		if (run > i) {
			put(o, s + i, run - i);
			i = run - 1;
			continue;
		}
		switch (s[i]) {
		case '&':
			if (cdata) {
				put(o, "&amp;", 5);
				break;
			}
			k = reference(s + i, n - i, b, &used);
			if (k == 0)
				return false;
			i += used - 1;
			if (k == 1 && b[0] == '&')
				put(o, "&amp;", 5);
			else if (k == 1 && b[0] == '<')
				put(o, "&lt;", 4);
			else if (k == 1 && b[0] == '>')
				put(o, "&gt;", 4);
			else if (k == 1 && b[0] == '\r')
				put(o, "&#13;", 5);
			else
				put(o, b, k);
			break;
		case '<':
			if (!cdata)
				return false;
			put(o, "&lt;", 4);
			break;
		case '>':
			put(o, "&gt;", 4);
			break;
		case '\r':
			put(o, "\n", 1);
			if (i + 1 < n && s[i + 1] == '\n')
				i++;
			break;
		default:
			put(o, s + i, 1);
		}
	}
	return true;
}

/* An attribute value, decoded (references; literal blanks to spaces, CR LF
 * as one) and escaped as cot_write escapes values. */
static bool
put_value(struct wr *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char b[4], e[8];
		size_t k, used, en, run = i;

		/* a run of bytes that need no escaping, in one copy */
		while (run < n && s[run] != '&' && s[run] != '<' && s[run] != '>' && s[run] != '"' &&
		       s[run] != '\r' && s[run] != '\n' && s[run] != '\t')
			run++;
		if (run > i) {
			put(o, s + i, run - i);
			i = run - 1;
			continue;
		}
		switch (s[i]) {
		case '&':
			k = reference(s + i, n - i, b, &used);
			if (k == 0)
				return false;
			i += used - 1;
			en = cot_escape_attr(b, k, e, sizeof(e));
			if (en == SIZE_MAX)
				return false;
			put(o, e, en);
			break;
		case '<':
			return false;
		case '\r':
			if (i + 1 < n && s[i + 1] == '\n')
				i++;
			/* fall through */
		case '\n':
		case '\t':
			put(o, " ", 1);
			break;
		default:
			en = cot_escape_attr(s + i, 1, e, sizeof(e));
			put(o, e, en);
		}
	}
	return true;
}

struct open_el {
	const char *name;
	size_t len;
	bool pending; /* start tag written without its '>' yet */
};

/* Something is written inside the innermost open element: close its start
 * tag first. */
static void
content(struct wr *o, struct open_el *stack, unsigned depth)
{
	if (depth > 0 && stack[depth - 1].pending) {
		put(o, ">", 1);
		stack[depth - 1].pending = false;
	}
}

static const char *
find(const char *s, const char *end, const char *what)
{
	size_t wn = strlen(what);

	for (; (size_t)(end - s) >= wn; s++) {
		s = memchr(s, what[0], (size_t)(end - s));
		if (s == NULL || (size_t)(end - s) < wn)
			return NULL;
		if (memcmp(s, what, wn) == 0)
			return s;
	}
	return NULL;
}

size_t
san_detail(const char *d, size_t n, const struct san_steps *st, char *out, size_t cap)
{
	struct wr o = {out, out + cap, false};
	struct open_el stack[SAN_MAX_DEPTH];
	const char *p = d, *end = d + n;
	unsigned depth = 0, skip = 0; /* skip: open elements inside a dropped one */

	while (p < end) {
		const char *q, *name;
		size_t nlen;
		bool close, self;

		if (*p != '<') {
			q = memchr(p, '<', (size_t)(end - p));
			q = q ? q : end;
			if (!skip) {
				content(&o, stack, depth);
				if (!put_text(&o, p, (size_t)(q - p), false))
					return SIZE_MAX;
			}
			p = q;
			continue;
		}
		if ((size_t)(end - p) >= 4 && memcmp(p, "<!--", 4) == 0) {
			q = find(p + 4, end, "-->");
			if (q == NULL)
				return SIZE_MAX;
			p = q + 3;
			continue;
		}
		if ((size_t)(end - p) >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
			q = find(p + 9, end, "]]>");
			if (q == NULL)
				return SIZE_MAX;
			if (!skip) {
				content(&o, stack, depth);
				if (!put_text(&o, p + 9, (size_t)(q - p - 9), true))
					return SIZE_MAX;
			}
			p = q + 3;
			continue;
		}
		close = p + 1 < end && p[1] == '/';
		name = p + 1 + close;
		for (q = name; q < end && name_char((unsigned char)*q); q++)
			;
		nlen = (size_t)(q - name);
		if (nlen == 0 || !name_start((unsigned char)*name))
			return SIZE_MAX; /* <? <! or no name: the parser refuses them */
		p = q;
		if (close) {
			while (p < end && blank((unsigned char)*p))
				p++;
			if (p >= end || *p != '>')
				return SIZE_MAX;
			p++;
			if (skip) {
				skip--;
				continue;
			}
			if (depth == 0 || stack[depth - 1].len != nlen ||
			    memcmp(stack[depth - 1].name, name, nlen) != 0)
				return SIZE_MAX;
			depth--;
			if (stack[depth].pending)
				put(&o, "/>", 2);
			else {
				put(&o, "</", 2);
				put(&o, name, nlen);
				put(&o, ">", 1);
			}
			continue;
		}

		/* A start tag: its attributes are read (and written when kept)
		 * as they come; the tag's end tells whether it is empty. */
		bool keep = !skip && !listed(st->elems, st->n_elems, name, nlen) &&
			    !(st->drop_remarks && nlen == 7 && memcmp(name, "remarks", 7) == 0);

		if (keep) {
			content(&o, stack, depth);
			put(&o, "<", 1);
			put(&o, name, nlen);
		}
		for (;;) {
			const char *an, *v, *ve;
			size_t alen;

			while (p < end && blank((unsigned char)*p))
				p++;
			if (p >= end)
				return SIZE_MAX;
			if (*p == '>' || *p == '/')
				break;
			an = p;
			while (p < end && name_char((unsigned char)*p))
				p++;
			alen = (size_t)(p - an);
			if (alen == 0 || !name_start((unsigned char)*an))
				return SIZE_MAX;
			while (p < end && blank((unsigned char)*p))
				p++;
			if (p >= end || *p != '=')
				return SIZE_MAX;
			p++;
			while (p < end && blank((unsigned char)*p))
				p++;
			if (p >= end || (*p != '"' && *p != '\''))
				return SIZE_MAX;
			v = p + 1;
			ve = memchr(v, *p, (size_t)(end - v));
			if (ve == NULL)
				return SIZE_MAX;
			p = ve + 1;
			if (!keep || attr_dropped(st, name, nlen, an, alen))
				continue;
			put(&o, " ", 1);
			put(&o, an, alen);
			put(&o, "=\"", 2);
			if (!put_value(&o, v, (size_t)(ve - v)))
				return SIZE_MAX;
			put(&o, "\"", 1);
		}
		self = *p == '/';
		if (self) {
			if (p + 1 >= end || p[1] != '>')
				return SIZE_MAX;
			p += 2;
		} else {
			p++;
		}
		if (!keep) {
			if (!self && (skip > 0 || depth < SAN_MAX_DEPTH))
				skip++;
			continue;
		}
		if (self) {
			put(&o, "/>", 2);
			continue;
		}
		if (depth == SAN_MAX_DEPTH)
			return SIZE_MAX;
		stack[depth].name = name;
		stack[depth].len = nlen;
		stack[depth++].pending = true;
	}
	if (depth != 0 || skip != 0 || o.over)
		return SIZE_MAX;
	return (size_t)(o.p - out);
}

/* ---- the copy ---- */

static bool
pb_varint(struct wr *o, uint64_t v)
{
	char b[10];
	size_t n = 0;

	do {
		b[n++] = (char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	put(o, b, n);
	return !o->over;
}

static void
pb_string(struct wr *o, unsigned field, const struct cot_str *s)
{
	if (s == NULL || s->p == NULL || s->len == 0)
		return; /* proto3: empty is absent */
	pb_varint(o, (uint64_t)field << 3 | 2);
	pb_varint(o, s->len);
	put(o, s->p, s->len);
}

static void
pb_double(struct wr *o, unsigned field, double d)
{
	uint64_t u;
	char b[8];

	memcpy(&u, &d, 8);
	for (unsigned i = 0; i < 8; i++)
		b[i] = (char)(u >> (8 * i));
	pb_varint(o, (uint64_t)field << 3 | 1);
	put(o, b, 8);
}

static size_t
varint_len(uint64_t v)
{
	size_t n = 1;

	while (v > 0x7f) {
		v >>= 7;
		n++;
	}
	return n;
}

/* The CotEvent's fields (release.md §6, "Sanitized copies"), in order. */
static void
v1_event(struct wr *o, const struct cot_event *ev, const struct cot_write_over *ov)
{
	pb_string(o, 1, &ev->type);
	pb_string(o, 2, ov->access ? ov->access : &ev->access);
	pb_string(o, 3, ov->qos ? ov->qos : &ev->qos);
	pb_string(o, 4, ov->opex ? ov->opex : &ev->opex);
	pb_string(o, 5, &ev->uid);
	pb_varint(o, 6 << 3);
	pb_varint(o, (uint64_t)ev->time_ms);
	pb_varint(o, 7 << 3);
	pb_varint(o, (uint64_t)ev->start_ms);
	pb_varint(o, 8 << 3);
	pb_varint(o, (uint64_t)ev->stale_ms);
	pb_string(o, 9, &ev->how);
	pb_double(o, 10, ov->lat);
	pb_double(o, 11, ov->lon);
	pb_double(o, 12, ev->hae);
	pb_double(o, 13, ov->ce);
	pb_double(o, 14, ev->le);
	if (ev->flags & COT_F_HAS_DETAIL) {
		size_t dl = ov->detail->len;
		size_t inner = dl ? 1 + varint_len(dl) + dl : 0;

		pb_varint(o, 15 << 3 | 2);
		pb_varint(o, inner);
		pb_string(o, 1, ov->detail);
	}
	pb_string(o, 16, ov->caveat ? ov->caveat : &ev->caveat);
	pb_string(o, 17, ov->releasable_to ? ov->releasable_to : &ev->releasable_to);
}

size_t
san_write(const struct cot_event *ev, const struct san_steps *st, bool v1, char *scratch,
	  size_t scap, char *out, size_t cap)
{
	struct cot_str set[TG_SA_COUNT], detail = {NULL, 0};
	struct cot_write_over ov = {.version = ev->encoding == COT_ENC_XML ? &ev->version : NULL,
				    .lat = ev->lat, .lon = ev->lon, .ce = ev->ce};
	if (ev->flags & COT_F_HAS_DETAIL) {
		size_t n = san_detail(ev->detail.p, ev->detail.len, st, scratch, scap);

		if (n == SIZE_MAX || n > UINT16_MAX)
			return 0;
		detail.p = scratch;
		detail.len = (uint16_t)n;
	}
	ov.detail = &detail;
	if (st->decimals != TG_SAN_NO_COARSEN) {
		ov.lat = san_round(ev->lat, st->decimals);
		ov.lon = san_round(ev->lon, st->decimals);
		ov.ce = ev->ce > st->min_ce ? ev->ce : st->min_ce;
	}
	for (unsigned a = 0; a < TG_SA_COUNT; a++) {
		if (st->set[a] == NULL)
			continue;
		set[a].p = st->set[a];
		set[a].len = (uint16_t)strnlen(st->set[a], TG_SAN_VALUE_MAX);
	}
	ov.access = st->set[TG_SA_ACCESS] ? &set[TG_SA_ACCESS] : NULL;
	ov.caveat = st->set[TG_SA_CAVEAT] ? &set[TG_SA_CAVEAT] : NULL;
	ov.releasable_to = st->set[TG_SA_RELEASABLE_TO] ? &set[TG_SA_RELEASABLE_TO] : NULL;
	ov.qos = st->set[TG_SA_QOS] ? &set[TG_SA_QOS] : NULL;
	ov.opex = st->set[TG_SA_OPEX] ? &set[TG_SA_OPEX] : NULL;
	if (!v1)
		return cot_write_event(ev, &ov, out, cap);

	/* 0xbf 0x01 0xbf, TakMessage.cotEvent (2): the event is written after
	 * room for its length (at most 3 bytes under 2^21), then moved up. */
	{
		struct wr o = {out, out + cap, false};
		struct wr body;
		size_t blen, hl;

		put(&o, "\xbf\x01\xbf\x12", 4);
		if (o.over || cap < 7)
			return 0;
		body = (struct wr){out + 7, out + cap, false};
		v1_event(&body, ev, &ov);
		if (body.over)
			return 0;
		blen = (size_t)(body.p - (out + 7));
		if (blen >= (1u << 21))
			return 0;
		hl = varint_len(blen);
		pb_varint(&o, blen);
		memmove(out + 4 + hl, out + 7, blen);
		return 4 + hl + blen;
	}
}

void
san_describe(const struct tg_sanitize *e, char *out, size_t cap)
{
	static const char *const an[TG_SA_COUNT] = {"access", "caveat", "releasableTo", "qos",
						     "opex"};
	size_t o = 0;
	const char *sep = "";

#define ADD(...)                                                                                   \
	do {                                                                                       \
		if (o < cap)                                                                       \
			o += (size_t)snprintf(out + o, cap - o, __VA_ARGS__);                      \
	} while (0)
	if (cap == 0)
		return;
	out[0] = '\0';
	if (e->n_elems) {
		ADD("drop_elements");
		for (unsigned j = 0; j < e->n_elems && j < TG_SAN_MAX_NAMES; j++)
			ADD("%s%.*s", j ? "," : " ", TG_SAN_NAME_MAX, e->elems[j]);
		sep = "; ";
	}
	if (e->n_attrs) {
		ADD("%sdrop_attributes", sep);
		for (unsigned j = 0; j < e->n_attrs && j < TG_SAN_MAX_NAMES; j++)
			ADD("%s%.*s@%.*s", j ? "," : " ", TG_SAN_NAME_MAX, e->attrs[j][0],
			    TG_SAN_NAME_MAX, e->attrs[j][1]);
		sep = "; ";
	}
	if (e->drop_remarks) {
		ADD("%sdrop_remarks", sep);
		sep = "; ";
	}
	if (e->decimals != TG_SAN_NO_COARSEN) {
		ADD("%scoarsen_point %u decimals, ce at least %g m", sep, e->decimals, e->min_ce);
		sep = "; ";
	}
	for (unsigned a = 0; a < TG_SA_COUNT; a++)
		if ((e->set_mask >> a) & 1) {
			ADD("%sset %s=%.*s", sep, an[a], TG_SAN_VALUE_MAX, e->set[a]);
			sep = "; ";
		}
#undef ADD
	if (o >= cap)
		out[cap - 1] = '\0';
}
