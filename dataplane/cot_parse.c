/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cot_parse.c - the Cursor-on-Target event parser of the fast path.
 *
 * One forward pass over the payload, no allocation, no recursion, no libc
 * locale: names, numbers, dateTimes and entity references are all parsed
 * here by hand.  Every loop advances the cursor, so the work is O(n); the
 * only super-linear piece is the duplicate-attribute check, bounded by
 * COT_MAX_ATTRS per element.
 *
 * The accepted language is a strict subset of well-formed XML 1.0 so that the
 * parser never accepts what libxml2 rejects (a fuzz target checks exactly
 * that).  Beyond XML's own rules it also rejects, on purpose:
 *   - non-ASCII and ':' in element and attribute names (no namespaces),
 *     and any `xmlns` attribute;
 *   - processing instructions other than the XML declaration, and an XML
 *     declaration with a version other than 1.0 or an encoding other than
 *     UTF-8;
 *   - element children of <remarks>, and children of <event> other than
 *     <point> and <detail> (the rules would not see them);
 *   - a second <point>, <detail>, <track>, <contact> or <remarks> where the
 *     release rules read only one (COT_E_DUP_ELEM): matching one and
 *     ignoring the other would let a sender hide text from the rules.
 * Fail closed: whatever cannot be read unambiguously is an error.
 */
#include "cot_parse.h"
#include "cot_names.h"
#include "cot_write.h"
#include "takproto.h"

#include <stdbool.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#define COT_SSE2 1
#endif

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

enum elem_kind {
	EK_OTHER = 0,
	EK_EVENT,
	EK_POINT,
	EK_DETAIL,
	EK_TRACK,
	EK_LINK,
	EK_CONTACT,
	EK_REMARKS,
};

/* A string being decoded: zero-copy while it is one contiguous raw run of the
 * payload, copied to the event's buffer as soon as it is not. */
struct sbuild {
	const uint8_t *raw;
	char *dst;
	const uint8_t *adj; /* once copied: end of the last raw piece, NULL after
			     * decoded bytes */
	uint64_t *produced; /* bytes sb_put() added, if the string keeps them */
	uint16_t len;
	uint16_t cap; /* room in dst */
	uint16_t max; /* field bound */
	uint8_t over; /* enum cot_err of a string over max */
	uint8_t copied;
	uint8_t joined; /* raw pieces met that are not adjacent in the payload */
};

struct parser {
	const uint8_t *base;
	const uint8_t *s;
	const uint8_t *e;
	const uint8_t *err_at;
	struct cot_event *ev;
	struct cot_str rel_a, rel_b; /* releasableTo, releaseableTo */
	uint32_t seen;               /* EK_* singletons seen, bit per kind */
	const uint8_t *detail_start;
	struct sbuild remarks;
	uint32_t day_key; /* last valid (y, m, d) of parse_datetime, 0: none */
	int64_t day_num;  /* its days_from_civil() */
	uint16_t lim_field;   /* struct cot_limits */
	uint16_t lim_remarks;
	bool frag;        /* parsing a v1 event's detail text: the content of
			   * <detail>, ended by the end of the bytes */
	uint8_t tak_named; /* COT_TAK_* typed names seen as direct children of
			    * <detail> while `frag` */
};

static enum cot_err
fail(struct parser *px, const uint8_t *at, enum cot_err err)
{
	if (px->err_at == NULL)
		px->err_at = at;
	return err;
}

#define TRY(x)                                                                                     \
	do {                                                                                       \
		enum cot_err err_ = (x);                                                           \
		if (err_ != COT_OK)                                                                \
			return err_;                                                               \
	} while (0)

/* Character classes of the ASCII range; bytes >= 0x80 are in none. */
#define CC_WS 0x01     /* XML whitespace */
#define CC_NSTART 0x02 /* first character of a name (ASCII subset) */
#define CC_NAME 0x04   /* later character of a name */
#define CC_ATTR 0x08   /* attribute value character needing no attention */
#define CC_TEXT 0x10   /* character data needing no attention */
#define CC_CMT 0x20    /* comment/CDATA character needing no attention (but '-') */
static const uint8_t cclass[256] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x31, 0x31, 0x00, 0x00, 0x21, 0x00, 0x00, /* 0x00 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 0x10 */
	0x39, 0x38, 0x30, 0x38, 0x38, 0x38, 0x20, 0x30, 0x38, 0x38, 0x38, 0x38, 0x38, 0x1c, 0x3c, 0x38, /* 0x20 */
	0x3c, 0x3c, 0x3c, 0x3c, 0x3c, 0x3c, 0x3c, 0x3c, 0x3c, 0x3c, 0x38, 0x38, 0x20, 0x38, 0x38, 0x38, /* 0x30 */
	0x38, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, /* 0x40 */
	0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x38, 0x38, 0x28, 0x38, 0x3e, /* 0x50 */
	0x38, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, /* 0x60 */
	0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x38, 0x38, 0x38, 0x38, 0x38, /* 0x70 */
};

static inline int
is_ws(uint8_t c)
{
	return cclass[c] & CC_WS;
}

static inline int
is_alpha(uint8_t c)
{
	return (uint8_t)((c | 0x20) - 'a') < 26;
}

static inline int
is_digit(uint8_t c)
{
	return (uint8_t)(c - '0') < 10;
}

static inline int
is_name_start(uint8_t c)
{
	return cclass[c] & CC_NSTART;
}

/*
 * Run skippers: the first byte at or after s that is not of the class the
 * scalar loops step over, or e.  The vector loops stop at a superset of those
 * bytes (every control character and every byte >= 0x80 among them); the
 * callers' slow paths then look at the byte exactly as before.  They never
 * read at or past e.
 */
#ifdef COT_SSE2
/* Bytes < 0x20 or >= 0x80 (a signed compare catches both). */
#define V_LOW(x) _mm_cmplt_epi8((x), _mm_set1_epi8(0x20))
#define V_EQ(x, c) _mm_cmpeq_epi8((x), _mm_set1_epi8((char)(c)))
#endif

/* Character data: stops at '<', '&', ']', controls but \t \n, non-ASCII. */
static inline const uint8_t *
skip_text(const uint8_t *s, const uint8_t *e)
{
#ifdef COT_SSE2
	while (e - s >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
		__m128i m = _mm_or_si128(_mm_or_si128(V_LOW(x), V_EQ(x, '<')),
					 _mm_or_si128(V_EQ(x, '&'), V_EQ(x, ']')));
		unsigned bits = (unsigned)_mm_movemask_epi8(m);

		if (bits != 0) {
			s += __builtin_ctz(bits);
			if (!(cclass[*s] & CC_TEXT))
				return s;
			s++; /* \t or \n */
			continue;
		}
		s += 16;
	}
#endif
	while (s < e && (cclass[*s] & CC_TEXT))
		s++;
	return s;
}

/* Attribute value: stops at either quote, '<', '&', controls, non-ASCII. */
static inline const uint8_t *
skip_attr(const uint8_t *s, const uint8_t *e, uint8_t quote)
{
#ifdef COT_SSE2
	while (e - s >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
		__m128i m = _mm_or_si128(_mm_or_si128(V_LOW(x), V_EQ(x, quote)),
					 _mm_or_si128(V_EQ(x, '&'), V_EQ(x, '<')));
		unsigned bits = (unsigned)_mm_movemask_epi8(m);

		if (bits != 0)
			return s + __builtin_ctz(bits);
		s += 16;
	}
#else
	(void)quote;
#endif
	while (s < e && (cclass[*s] & CC_ATTR))
		s++;
	return s;
}

/* Comment: stops at '-', controls but \t \n, non-ASCII. */
static inline const uint8_t *
skip_cmt(const uint8_t *s, const uint8_t *e)
{
#ifdef COT_SSE2
	while (e - s >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
		__m128i m = _mm_or_si128(V_LOW(x), V_EQ(x, '-'));
		unsigned bits = (unsigned)_mm_movemask_epi8(m);

		if (bits != 0) {
			s += __builtin_ctz(bits);
			if (!(cclass[*s] & CC_CMT))
				return s;
			s++; /* \t, \n or \r */
			continue;
		}
		s += 16;
	}
#endif
	while (s < e && (cclass[*s] & CC_CMT))
		s++;
	return s;
}

/* CDATA: stops at ']', controls but \t \n, non-ASCII. */
static inline const uint8_t *
skip_cdata(const uint8_t *s, const uint8_t *e)
{
#ifdef COT_SSE2
	while (e - s >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
		__m128i m = _mm_or_si128(V_LOW(x), V_EQ(x, ']'));
		unsigned bits = (unsigned)_mm_movemask_epi8(m);

		if (bits != 0)
			return s + __builtin_ctz(bits);
		s += 16;
	}
#endif
	while (s < e && *s >= 0x20 && *s < 0x80 && *s != ']')
		s++;
	return s;
}

/*
 * Byte-string equality of n bytes without a libc call: gcc calls memcmp for
 * most lengths that are not a power of two.  Two overlapping loads of the
 * largest fitting width per step; with a constant n and a literal b it folds
 * to a few compares against immediates.
 */
static inline uint64_t
ld64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t
ld32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline uint16_t
ld16(const void *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static inline int
bytes_eq(const void *a_, const void *b_, size_t n)
{
	const uint8_t *a = a_, *b = b_;

	if (n >= 8) {
		size_t i = 0;

		for (; i + 8 < n; i += 8)
			if (ld64(a + i) != ld64(b + i))
				return 0;
		return ld64(a + n - 8) == ld64(b + n - 8);
	}
	if (n >= 4)
		return ((ld32(a) ^ ld32(b)) | (ld32(a + n - 4) ^ ld32(b + n - 4))) == 0;
	if (n >= 2)
		return ((ld16(a) ^ ld16(b)) | (ld16(a + n - 2) ^ ld16(b + n - 2))) == 0;
	return n == 0 || a[0] == b[0];
}

/* Skip XML whitespace; returns whether there was any. */
static inline int
skip_ws(struct parser *px)
{
	const uint8_t *s = px->s, *e = px->e;

	if (s >= e || !is_ws(*s))
		return 0;
	do
		s++;
	while (s < e && is_ws(*s));
	px->s = s;
	return 1;
}

static inline int
starts_with(const struct parser *px, const char *lit, size_t n)
{
	return (size_t)(px->e - px->s) >= n && bytes_eq(px->s, lit, n);
}

/*
 * Length of the well-formed UTF-8 sequence at s that encodes an XML Char, or
 * 0.  Rejects overlongs, surrogates, U+FFFE/U+FFFF and anything past U+10FFFF.
 */
static inline size_t
utf8_char_len(const uint8_t *s, const uint8_t *e)
{
	uint8_t c = s[0];
	size_t avail = (size_t)(e - s);

	if (c < 0xc2)
		return 0;
	if (c < 0xe0) {
		if (avail < 2 || (s[1] & 0xc0) != 0x80)
			return 0;
		return 2;
	}
	if (c < 0xf0) {
		uint8_t lo = 0x80, hi = 0xbf;

		if (avail < 3)
			return 0;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		if (s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xef && s[1] == 0xbf && (s[2] == 0xbe || s[2] == 0xbf))
			return 0;
		return 3;
	}
	if (c < 0xf5) {
		uint8_t lo = 0x80, hi = 0xbf;

		if (avail < 4)
			return 0;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		return 4;
	}
	return 0;
}

static inline int
is_xml_char(uint32_t cp)
{
	return cp == 0x9 || cp == 0xa || cp == 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
	       (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

static size_t
utf8_encode(uint32_t cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* --- string building ---------------------------------------------------- */

static void
sb_init(struct sbuild *sb, struct cot_event *ev, const uint8_t *at, uint16_t max,
	enum cot_err over)
{
	sb->raw = at;
	sb->dst = ev->buf + ev->buf_used;
	sb->cap = (uint16_t)(COT_DECODE_BUF - ev->buf_used);
	sb->max = max;
	sb->over = (uint8_t)over;
	sb->len = 0;
	sb->copied = 0;
	sb->adj = NULL;
	sb->produced = NULL;
	sb->joined = 0;
}

/* A scalar (number, time) decodes into caller storage, not the event buffer. */
static void
sb_init_local(struct sbuild *sb, char *dst, uint16_t cap, const uint8_t *at)
{
	sb->raw = at;
	sb->dst = dst;
	sb->cap = cap;
	sb->max = cap;
	sb->over = COT_E_OVERSIZE;
	sb->len = 0;
	sb->copied = 0;
	sb->adj = NULL;
	sb->produced = NULL;
	sb->joined = 0;
}

static enum cot_err
sb_to_copy(struct parser *px, struct sbuild *sb, size_t extra)
{
	if ((size_t)sb->len + extra > sb->cap)
		return fail(px, px->s, COT_E_OVERSIZE);
	if (!sb->copied) {
		memcpy(sb->dst, sb->raw, sb->len);
		sb->copied = 1;
	}
	return COT_OK;
}

static enum cot_err
sb_raw_slow(struct parser *px, struct sbuild *sb, const uint8_t *p, size_t n)
{
	/* Raw bytes right after raw bytes they do not follow in the payload:
	 * markup between them was removed (sb_raw's fast path took every
	 * adjacent piece of a string not yet copied). */
	if (sb->copied ? sb->adj != NULL && sb->adj != p : sb->len != 0)
		sb->joined = 1;
	TRY(sb_to_copy(px, sb, n));
	memcpy(sb->dst + sb->len, p, n);
	sb->len = (uint16_t)(sb->len + n);
	sb->adj = p + n;
	return COT_OK;
}

/* Append payload bytes [p, p+n). */
static inline enum cot_err
sb_raw(struct parser *px, struct sbuild *sb, const uint8_t *p, size_t n)
{
	if (sb == NULL || n == 0)
		return COT_OK;
	if (unlikely((size_t)sb->len + n > sb->max))
		return fail(px, p, (enum cot_err)sb->over);
	if (likely(!sb->copied)) {
		if (sb->len == 0)
			sb->raw = p;
		if (likely(sb->raw + sb->len == p)) {
			sb->len = (uint16_t)(sb->len + n);
			return COT_OK;
		}
	}
	return sb_raw_slow(px, sb, p, n);
}

/* Append decoded bytes that are not in the payload as such. */
static enum cot_err
sb_put(struct parser *px, struct sbuild *sb, const char *p, size_t n)
{
	if (sb == NULL)
		return COT_OK;
	if ((size_t)sb->len + n > sb->max)
		return fail(px, px->s, (enum cot_err)sb->over);
	TRY(sb_to_copy(px, sb, n));
	memcpy(sb->dst + sb->len, p, n);
	sb->len = (uint16_t)(sb->len + n);
	sb->adj = NULL;
	if (sb->produced != NULL)
		for (size_t i = 0; i < n; i++)
			sb->produced[(uint8_t)p[i] >> 6] |= UINT64_C(1) << ((uint8_t)p[i] & 63);
	return COT_OK;
}

/* Finish a string decoded with sb_init(): claim its bytes of the buffer. */
static void
sb_commit(struct cot_event *ev, const struct sbuild *sb, struct cot_str *out)
{
	out->len = sb->len;
	if (sb->copied) {
		out->p = sb->dst;
		ev->buf_used = (uint16_t)(ev->buf_used + sb->len);
	} else {
		out->p = (const char *)sb->raw;
	}
}

/* --- lexical pieces ------------------------------------------------------ */

/* A reference at px->s ('&'): decode it to UTF-8 in out, set *n. */
static enum cot_err
parse_ref(struct parser *px, char out[4], size_t *n)
{
	const uint8_t *s = px->s + 1, *e = px->e, *at = px->s;

	if (s < e && *s == '#') {
		uint32_t cp = 0;
		int hex = 0, digits = 0;

		s++;
		if (s < e && *s == 'x') {
			hex = 1;
			s++;
		}
		for (; s < e && *s != ';'; s++, digits++) {
			uint8_t c = *s;
			uint32_t d;

			if (is_digit(c))
				d = (uint32_t)(c - '0');
			else if (hex && (uint8_t)((c | 0x20) - 'a') < 6)
				d = (uint32_t)((c | 0x20) - 'a' + 10);
			else
				return fail(px, s, COT_E_MALFORMED);
			cp = cp * (hex ? 16u : 10u) + d;
			if (cp > 0x10ffff)
				cp = 0x110000; /* saturate: stays invalid, cannot wrap */
		}
		if (s >= e || digits == 0 || !is_xml_char(cp))
			return fail(px, at, COT_E_MALFORMED);
		*n = utf8_encode(cp, out);
		px->s = s + 1;
		return COT_OK;
	}

	static const struct {
		char name[5];
		uint8_t len;
		char ch;
	} named[] = {
		{"amp", 3, '&'}, {"lt", 2, '<'}, {"gt", 2, '>'}, {"quot", 4, '"'}, {"apos", 4, '\''},
	};
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		size_t l = named[i].len;

		if ((size_t)(e - s) > l && memcmp(s, named[i].name, l) == 0 && s[l] == ';') {
			out[0] = named[i].ch;
			*n = 1;
			px->s = s + l + 1;
			return COT_OK;
		}
	}
	return fail(px, at, COT_E_MALFORMED);
}

/* An ASCII name at px->s; ':' and non-ASCII are outside the accepted subset.
 * *key is a cheap summary (length, first and last byte) to pre-filter
 * duplicate attribute names before memcmp. */
static enum cot_err
parse_name(struct parser *px, const uint8_t **name, uint16_t *len, uint32_t *key)
{
	const uint8_t *s = px->s, *e = px->e;
	size_t n;

	if (s >= e || !is_name_start(*s))
		return fail(px, s, COT_E_MALFORMED);
	s++;
	while (s < e && (cclass[*s] & CC_NAME))
		s++;
	n = (size_t)(s - px->s);
	if (n > COT_MAX_NAME)
		return fail(px, px->s, COT_E_OVERSIZE);
	*name = px->s;
	*len = (uint16_t)n;
	if (key != NULL)
		*key = (uint32_t)n << 16 | (uint32_t)px->s[0] << 8 | s[-1];
	px->s = s;
	return COT_OK;
}

/* Attribute value after its opening quote; leaves px->s past the closing one.
 * Applies XML attribute-value normalisation (literal whitespace -> space). */
static enum cot_err
scan_attr_value(struct parser *px, uint8_t quote, struct sbuild *sb)
{
	const uint8_t *s = px->s, *e = px->e, *run = s;

	for (;;) {
		uint8_t c;

		s = skip_attr(s, e, quote);
		if (s >= e)
			break;
		c = *s;
		if (c == quote)
			break;
		if (c >= 0x20 && c < 0x80) {
			if (c == '<')
				return fail(px, s, COT_E_MALFORMED);
			if (c == '&') {
				char u[4];
				size_t n;

				TRY(sb_raw(px, sb, run, (size_t)(s - run)));
				px->s = s;
				TRY(parse_ref(px, u, &n));
				TRY(sb_put(px, sb, u, n));
				s = run = px->s;
				continue;
			}
			s++;
		} else if (c >= 0x80) {
			size_t n = utf8_char_len(s, e);

			if (n == 0)
				return fail(px, s, COT_E_MALFORMED);
			s += n;
		} else if (c == '\t' || c == '\n' || c == '\r') {
			TRY(sb_raw(px, sb, run, (size_t)(s - run)));
			px->s = s;
			TRY(sb_put(px, sb, " ", 1));
			s++;
			if (c == '\r' && s < e && *s == '\n')
				s++; /* end-of-line handling first: CR LF is one space */
			run = s;
		} else {
			return fail(px, s, COT_E_MALFORMED);
		}
	}
	if (s >= e)
		return fail(px, s, COT_E_MALFORMED);
	TRY(sb_raw(px, sb, run, (size_t)(s - run)));
	px->s = s + 1;
	return COT_OK;
}

/* Character data up to the next '<' (or the end: the caller then fails). */
static enum cot_err
scan_text(struct parser *px, struct sbuild *sb)
{
	const uint8_t *s = px->s, *e = px->e, *run = s;

	for (;;) {
		uint8_t c;

		s = skip_text(s, e);
		if (s >= e)
			break;
		c = *s;
		if (c == '<')
			break;
		if (c == '&') {
			char u[4];
			size_t n;

			TRY(sb_raw(px, sb, run, (size_t)(s - run)));
			px->s = s;
			TRY(parse_ref(px, u, &n));
			TRY(sb_put(px, sb, u, n));
			s = run = px->s;
		} else if (c == ']') {
			const uint8_t *q = s;

			while (q < e && *q == ']')
				q++;
			if (q - s >= 2 && q < e && *q == '>')
				return fail(px, q - 2, COT_E_MALFORMED); /* "]]>" */
			s = q;
		} else if (c >= 0x80) {
			size_t n = utf8_char_len(s, e);

			if (n == 0)
				return fail(px, s, COT_E_MALFORMED);
			s += n;
		} else if (c == '\t' || c == '\n') {
			s++;
		} else if (c == '\r') {
			TRY(sb_raw(px, sb, run, (size_t)(s - run)));
			px->s = s;
			TRY(sb_put(px, sb, "\n", 1));
			s++;
			if (s < e && *s == '\n')
				s++;
			run = s;
		} else {
			return fail(px, s, COT_E_MALFORMED);
		}
	}
	TRY(sb_raw(px, sb, run, (size_t)(s - run)));
	px->s = s;
	return COT_OK;
}

/* CDATA section content; px->s just past "<![CDATA[". */
static enum cot_err
scan_cdata(struct parser *px, struct sbuild *sb)
{
	const uint8_t *s = px->s, *e = px->e, *run = s, *at = s - 9;

	while (s < e) {
		uint8_t c;

		s = skip_cdata(s, e);
		if (s >= e)
			break;
		c = *s;
		if (c >= 0x20 && c < 0x80) {
			if (c == ']' && e - s >= 3 && s[1] == ']' && s[2] == '>') {
				TRY(sb_raw(px, sb, run, (size_t)(s - run)));
				px->s = s + 3;
				return COT_OK;
			}
			s++;
		} else if (c >= 0x80) {
			size_t n = utf8_char_len(s, e);

			if (n == 0)
				return fail(px, s, COT_E_MALFORMED);
			s += n;
		} else if (c == '\t' || c == '\n') {
			s++;
		} else if (c == '\r') {
			TRY(sb_raw(px, sb, run, (size_t)(s - run)));
			px->s = s;
			TRY(sb_put(px, sb, "\n", 1));
			s++;
			if (s < e && *s == '\n')
				s++;
			run = s;
		} else {
			return fail(px, s, COT_E_MALFORMED);
		}
	}
	return fail(px, at, COT_E_MALFORMED);
}

/* Comment; px->s just past "<!--".  "--" may only end it. */
static enum cot_err
scan_comment(struct parser *px)
{
	const uint8_t *s = px->s, *e = px->e, *at = s - 4;

	for (;;) {
		uint8_t c;

		s = skip_cmt(s, e);
		if (s >= e)
			break;
		c = *s;

		if (c >= 0x20 && c < 0x80) {
			if (c == '-' && e - s >= 2 && s[1] == '-') {
				if (e - s >= 3 && s[2] == '>') {
					px->s = s + 3;
					return COT_OK;
				}
				return fail(px, s, COT_E_MALFORMED);
			}
			s++;
		} else if (c >= 0x80) {
			size_t n = utf8_char_len(s, e);

			if (n == 0)
				return fail(px, s, COT_E_MALFORMED);
			s += n;
		} else if (c == '\t' || c == '\n' || c == '\r') {
			s++;
		} else {
			return fail(px, s, COT_E_MALFORMED);
		}
	}
	return fail(px, at, COT_E_MALFORMED);
}

/* --- scalars -------------------------------------------------------------- */

static const double pow10_exact[] = {
	1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/*
 * xs:double lexical form without whitespace: [+-]? (d+ (. d*)? | . d+) ([eE][+-]?d+)?
 * Correctly rounded when the significand fits 2^53 and the decimal exponent
 * is within +-22 (every coordinate in practice: Clinger's fast path);
 * otherwise within about an ulp.  INF/-INF/NaN are numbers but not
 * finite: COT_E_RANGE.
 */
static enum cot_err
parse_double(struct parser *px, const uint8_t *at, const char *p, size_t n, double *out)
{
	const char *e = p + n;
	uint64_t mant = 0;
	int nsig = 0, neg = 0, digits = 0;
	int64_t e10 = 0;
	double d;

	if ((n == 3 && (bytes_eq(p, "INF", 3) || bytes_eq(p, "NaN", 3))) ||
	    (n == 4 && (bytes_eq(p, "-INF", 4) || bytes_eq(p, "+INF", 4))))
		return fail(px, at, COT_E_RANGE);
	if (p < e && (*p == '+' || *p == '-')) {
		neg = *p == '-';
		p++;
	}
	if (likely(n <= 19)) {
		/* At most 19 digits: the significand cannot overflow and no digit is
		 * dropped, so the per-digit bookkeeping below is not needed. */
		const char *d0;

		for (d0 = p; p < e && is_digit((uint8_t)*p); p++)
			mant = mant * 10 + (uint64_t)(*p - '0');
		digits = (int)(p - d0);
		if (p < e && *p == '.') {
			for (d0 = ++p; p < e && is_digit((uint8_t)*p); p++)
				mant = mant * 10 + (uint64_t)(*p - '0');
			digits += (int)(p - d0);
			e10 = -(int64_t)(p - d0);
		}
		goto exponent;
	}
	for (; p < e && is_digit((uint8_t)*p); p++, digits++) {
		if (nsig < 19) {
			mant = mant * 10 + (uint64_t)(*p - '0');
			if (mant != 0)
				nsig++;
		} else {
			e10++;
		}
	}
	if (p < e && *p == '.') {
		for (p++; p < e && is_digit((uint8_t)*p); p++, digits++) {
			if (nsig < 19) {
				mant = mant * 10 + (uint64_t)(*p - '0');
				if (mant != 0)
					nsig++;
				e10--;
			}
		}
	}
exponent:
	if (digits == 0)
		return fail(px, at, COT_E_BAD_NUMBER);
	if (p < e && (*p == 'e' || *p == 'E')) {
		int eneg = 0, edigits = 0;
		int64_t x = 0;

		p++;
		if (p < e && (*p == '+' || *p == '-')) {
			eneg = *p == '-';
			p++;
		}
		for (; p < e && is_digit((uint8_t)*p); p++, edigits++)
			if (x < 100000)
				x = x * 10 + (*p - '0');
		if (edigits == 0)
			return fail(px, at, COT_E_BAD_NUMBER);
		e10 += eneg ? -x : x;
	}
	if (p != e)
		return fail(px, at, COT_E_BAD_NUMBER);

	if (mant == 0) {
		d = 0.0;
	} else if (mant <= (1ull << 53) && e10 >= -22 && e10 <= 22) {
		d = (double)mant;
		d = e10 < 0 ? d / pow10_exact[-e10] : d * pow10_exact[e10];
	} else {
		/* Rare (17+ digits or a big exponent): extended precision keeps the
		 * accumulated rounding of the scaling steps below one double ulp
		 * almost always; the result is not guaranteed correctly rounded. */
		long double x = (long double)mant;

		if (e10 > 400)
			e10 = 400;
		if (e10 < -400)
			e10 = -400;
		while (e10 > 22) {
			x *= 1e22L;
			e10 -= 22;
		}
		while (e10 < -22) {
			x /= 1e22L;
			e10 += 22;
		}
		x = e10 < 0 ? x / (long double)pow10_exact[-e10] : x * (long double)pow10_exact[e10];
		d = (double)x;
	}
	*out = neg ? -d : d;
	return COT_OK;
}

static inline int
is_finite(double d)
{
	return d == d && d - d == 0.0;
}

static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int
digits_at(const char *p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!is_digit((uint8_t)p[i]))
			return 0;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 1;
}

/*
 * xs:dateTime with a mandatory zone: YYYY-MM-DDThh:mm:ss[.f+](Z|(+|-)hh:mm).
 * A time without a zone is ambiguous, and ambiguity fails closed.  Fractions
 * beyond milliseconds are truncated.
 */
static enum cot_err
parse_datetime(struct parser *px, const uint8_t *at, const char *p, size_t n, int64_t *out)
{
	static const uint8_t mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *e = p + n, *q;
	int y, mo, d, h, mi, sec, ms = 0, off = 0;

	int64_t days;

	if (n < 20)
		return fail(px, at, COT_E_BAD_TIME);
#ifdef COT_SSE2
	{
		/* "YYYY-MM-DDThh:mm" in one go: XOR with the template leaves 0..9 in
		 * a digit's place (and >= 10 for anything else) and 0 in a
		 * separator's place when it is the right one. */
		const __m128i tpl = _mm_setr_epi8('0', '0', '0', '0', '-', '0', '0', '-', '0', '0',
						  'T', '0', '0', ':', '0', '0');
		const __m128i lim = _mm_setr_epi8(9, 9, 9, 9, 0, 9, 9, 0, 9, 9, 0, 9, 9, 0, 9, 9);
		__m128i v = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)p), tpl);

		if (_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(v, lim), lim)) != 0xffff ||
		    p[16] != ':' || !is_digit((uint8_t)p[17]) || !is_digit((uint8_t)p[18]))
			return fail(px, at, COT_E_BAD_TIME);
		y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
		mo = (p[5] - '0') * 10 + (p[6] - '0');
		d = (p[8] - '0') * 10 + (p[9] - '0');
		h = (p[11] - '0') * 10 + (p[12] - '0');
		mi = (p[14] - '0') * 10 + (p[15] - '0');
		sec = (p[17] - '0') * 10 + (p[18] - '0');
	}
#else
	if (!digits_at(p, 4, &y) || p[4] != '-' || !digits_at(p + 5, 2, &mo) || p[7] != '-' ||
	    !digits_at(p + 8, 2, &d) || p[10] != 'T' || !digits_at(p + 11, 2, &h) ||
	    p[13] != ':' || !digits_at(p + 14, 2, &mi) || p[16] != ':' ||
	    !digits_at(p + 17, 2, &sec))
		return fail(px, at, COT_E_BAD_TIME);
#endif
	/* d <= 31 here keeps the day key below one-to-one: with a larger d its
	 * bits would run into the month's, and 2024-05-33 would take the
	 * cached day of 2024-05-01 unchecked. */
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59)
		return fail(px, at, COT_E_BAD_TIME);
	/* time, start and stale of one event are nearly always on one day. */
	if ((uint32_t)(y << 9 | mo << 5 | d) == px->day_key) {
		days = px->day_num;
	} else {
		if (d > mdays[mo - 1] + (mo == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))))
			return fail(px, at, COT_E_BAD_TIME);
		days = days_from_civil(y, (unsigned)mo, (unsigned)d);
		px->day_key = (uint32_t)(y << 9 | mo << 5 | d);
		px->day_num = days;
	}
	q = p + 19;
	if (q < e && *q == '.') {
		int nd = 0;

		for (q++; q < e && is_digit((uint8_t)*q); q++, nd++)
			if (nd < 3)
				ms = ms * 10 + (*q - '0');
		if (nd == 0)
			return fail(px, at, COT_E_BAD_TIME);
		for (; nd < 3; nd++)
			ms *= 10;
	}
	if (q < e && *q == 'Z') {
		q++;
	} else if (q < e && (*q == '+' || *q == '-')) {
		int oh, om;

		if (e - q < 6 || !digits_at(q + 1, 2, &oh) || q[3] != ':' ||
		    !digits_at(q + 4, 2, &om) || om > 59 || oh > 14 || (oh == 14 && om != 0))
			return fail(px, at, COT_E_BAD_TIME);
		off = (oh * 60 + om) * (*q == '-' ? -1 : 1);
		q += 6;
	} else {
		return fail(px, at, COT_E_BAD_TIME);
	}
	if (q != e)
		return fail(px, at, COT_E_BAD_TIME);
	*out = ((days * 86400 + h * 3600 + mi * 60 + sec -
		 (int64_t)off * 60) *
		1000) +
	       ms;
	return COT_OK;
}

/* --- attributes ------------------------------------------------------------ */

enum attr_type { AT_STR, AT_TIME, AT_NUM };

/* A string attribute (AT_STR) is kept: bounded by the field limit. */
struct attr_def {
	const char *name;
	uint8_t len;
	uint8_t type;
};

#define A(n, t) {n, sizeof(n) - 1, t}
static const struct attr_def event_attrs[] = {
	A("version", AT_STR), A("uid", AT_STR),    A("type", AT_STR),
	A("how", AT_STR),     A("time", AT_TIME),  A("start", AT_TIME),
	A("stale", AT_TIME),  A("access", AT_STR), A("qos", AT_STR),
	A("opex", AT_STR),    A("caveat", AT_STR), A("releasableTo", AT_STR),
	A("releaseableTo", AT_STR),
};
#define EV_REQUIRED 0x7fu /* version uid type how time start stale */
static const struct attr_def point_attrs[] = {
	A("lat", AT_NUM), A("lon", AT_NUM), A("hae", AT_NUM),
	A("ce", AT_NUM),  A("le", AT_NUM),
};
#define PT_REQUIRED 0x1fu
static const struct attr_def track_attrs[] = {
	A("course", AT_NUM),
	A("speed", AT_NUM),
	A("slope", AT_NUM),
};
/* No attribute of <track> or <link> is required: nothing trackgate decides
 * reads them, and real TAK senders omit some (docs/release.md §2).  Those
 * present are checked and kept. */
static const struct attr_def link_attrs[] = {
	A("uid", AT_STR),
	A("relation", AT_STR),
	A("type", AT_STR),
};
static const struct attr_def contact_attrs[] = {
	A("callsign", AT_STR),
};
#undef A

/* Every string that can be decoded into cot_event.buf by one event: ten
 * <event> string attributes, uid/relation/type of each <link>, the
 * callsign and the remarks.  They all fit, so no event within the bounds
 * of docs/release.md §2 fails for want of room (sb_to_copy still checks). */
_Static_assert((10 + 3 * COT_MAX_LINKS + 1) * COT_FIELD_LIMIT_MAX + COT_REMARKS_LIMIT_MAX <=
		       COT_DECODE_BUF && COT_DECODE_BUF <= UINT16_MAX,
	       "COT_DECODE_BUF must hold every decoded string of one event");

/* The known attribute of element kind k called name, as an index into its
 * attr_def table, or -1.  A switch on the length, then fixed-size compares. */
static inline int
attr_index(enum elem_kind k, const uint8_t *name, uint16_t len)
{
#define IS(lit) bytes_eq(name, lit, sizeof(lit) - 1)
	switch (k) {
	case EK_EVENT:
		switch (len) {
		case 3:
			if (IS("uid"))
				return 1;
			if (IS("how"))
				return 3;
			if (IS("qos"))
				return 8;
			break;
		case 4:
			if (IS("type"))
				return 2;
			if (IS("time"))
				return 4;
			if (IS("opex"))
				return 9;
			break;
		case 5:
			if (IS("start"))
				return 5;
			if (IS("stale"))
				return 6;
			break;
		case 6:
			if (IS("access"))
				return 7;
			if (IS("caveat"))
				return 10;
			break;
		case 7:
			if (IS("version"))
				return 0;
			break;
		case 12:
			if (IS("releasableTo"))
				return 11;
			break;
		case 13:
			if (IS("releaseableTo"))
				return 12;
			break;
		}
		break;
	case EK_POINT:
		if (len == 3) {
			if (IS("lat"))
				return 0;
			if (IS("lon"))
				return 1;
			if (IS("hae"))
				return 2;
		} else if (len == 2) {
			if (IS("ce"))
				return 3;
			if (IS("le"))
				return 4;
		}
		break;
	case EK_TRACK:
		if (len == 6 && IS("course"))
			return 0;
		if (len == 5) {
			if (IS("speed"))
				return 1;
			if (IS("slope"))
				return 2;
		}
		break;
	case EK_LINK:
		if (len == 3 && IS("uid"))
			return 0;
		if (len == 8 && IS("relation"))
			return 1;
		if (len == 4 && IS("type"))
			return 2;
		break;
	case EK_CONTACT:
		if (len == 8 && IS("callsign"))
			return 0;
		break;
	default:
		break;
	}
	return -1;
#undef IS
}

static const struct attr_def *
attr_defs(enum elem_kind k)
{
	switch (k) {
	case EK_EVENT:
		return event_attrs;
	case EK_POINT:
		return point_attrs;
	case EK_TRACK:
		return track_attrs;
	case EK_LINK:
		return link_attrs;
	default:
		return contact_attrs;
	}
}

/* Where known string attribute idx of element kind k goes. */
static struct cot_str *
attr_str(struct parser *px, enum elem_kind k, int idx)
{
	struct cot_event *ev = px->ev;

	switch (k) {
	case EK_EVENT:
		switch (idx) {
		case 0:
			return &ev->version;
		case 1:
			return &ev->uid;
		case 2:
			return &ev->type;
		case 3:
			return &ev->how;
		case 7:
			return &ev->access;
		case 8:
			return &ev->qos;
		case 9:
			return &ev->opex;
		case 10:
			return &ev->caveat;
		case 11:
			return &px->rel_a;
		default:
			return &px->rel_b;
		}
	case EK_LINK:
		return idx == 0 ? &ev->link[ev->n_links].uid
		       : idx == 1 ? &ev->link[ev->n_links].relation
				  : &ev->link[ev->n_links].type;
	default:
		return &ev->callsign;
	}
}

/* Where known dateTime (k == EK_EVENT) or number attribute idx goes. */
static int64_t *
attr_ms(struct parser *px, int idx)
{
	struct cot_event *ev = px->ev;

	return idx == 4 ? &ev->time_ms : idx == 5 ? &ev->start_ms : &ev->stale_ms;
}

static double *
attr_num(struct parser *px, enum elem_kind k, int idx)
{
	struct cot_event *ev = px->ev;

	if (k == EK_POINT)
		return idx == 0 ? &ev->lat
		       : idx == 1 ? &ev->lon
		       : idx == 2 ? &ev->hae
		       : idx == 3 ? &ev->ce
				  : &ev->le;
	return idx == 0 ? &ev->course : idx == 1 ? &ev->speed : &ev->slope;
}

/*
 * Attributes of a start tag, px->s just past the element name, up to and
 * including '>' or "/>".  Known attributes are decoded into their place;
 * *seen gets bit i for known attribute i.  A repeated known attribute shows
 * in *seen; unknown names can only repeat each other, so only they are kept
 * for the duplicate check.
 */
static enum cot_err
parse_attrs(struct parser *px, enum elem_kind k, uint32_t *seen, int *empty)
{
	const struct attr_def *defs = attr_defs(k);
	const uint8_t *names[COT_MAX_ATTRS];
	uint32_t keys[COT_MAX_ATTRS];
	int nattr = 0, nunk = 0;
	uint32_t got = 0;

	for (;;) {
		int had_ws = skip_ws(px);
		const uint8_t *name, *at;
		uint16_t len;
		uint32_t key;
		uint8_t quote;
		int idx;

		if (unlikely(px->s >= px->e))
			return fail(px, px->s, COT_E_MALFORMED);
		if (*px->s == '>') {
			px->s++;
			*empty = 0;
			*seen = got;
			return COT_OK;
		}
		if (*px->s == '/') {
			if (px->e - px->s >= 2 && px->s[1] == '>') {
				px->s += 2;
				*empty = 1;
				*seen = got;
				return COT_OK;
			}
			return fail(px, px->s, COT_E_MALFORMED);
		}
		if (unlikely(!had_ws))
			return fail(px, px->s, COT_E_MALFORMED);
		at = px->s;
		TRY(parse_name(px, &name, &len, &key));
		if (unlikely(len == 5 && bytes_eq(name, "xmlns", 5)))
			return fail(px, at, COT_E_MALFORMED);
		idx = attr_index(k, name, len);
		if (idx >= 0) {
			if (unlikely(got & (1u << idx)))
				return fail(px, at, COT_E_DUP_ATTR);
		} else {
			for (int i = 0; i < nunk; i++)
				if (keys[i] == key && bytes_eq(names[i], name, len))
					return fail(px, at, COT_E_DUP_ATTR);
		}
		if (unlikely(nattr == COT_MAX_ATTRS))
			return fail(px, at, COT_E_OVERSIZE);
		nattr++;
		if (idx < 0) {
			names[nunk] = name;
			keys[nunk] = key;
			nunk++;
		}

		skip_ws(px);
		if (unlikely(px->s >= px->e || *px->s != '='))
			return fail(px, px->s, COT_E_MALFORMED);
		px->s++;
		skip_ws(px);
		if (unlikely(px->s >= px->e || (*px->s != '"' && *px->s != '\'')))
			return fail(px, px->s, COT_E_MALFORMED);
		quote = *px->s++;

		/* Fast path: a value with nothing to decode or check byte by byte
		 * is the run up to the closing quote, taken as it is. */
		{
			const uint8_t *v0 = px->s, *q = skip_attr(v0, px->e, quote);

			if (likely(q < px->e && *q == quote)) {
				size_t n = (size_t)(q - v0);

				px->s = q + 1;
				if (idx < 0)
					continue;
				got |= 1u << idx;
				if (defs[idx].type == AT_STR) {
					struct cot_str *out = attr_str(px, k, idx);

					if (unlikely(n > px->lim_field))
						return fail(px, v0, COT_E_FIELD_LIMIT);
					out->p = (const char *)v0;
					out->len = (uint16_t)n;
				} else {
					if (unlikely(n > COT_MAX_SCALAR))
						return fail(px, v0, COT_E_OVERSIZE);
					if (defs[idx].type == AT_TIME)
						TRY(parse_datetime(px, at, (const char *)v0, n,
								   attr_ms(px, idx)));
					else
						TRY(parse_double(px, at, (const char *)v0, n,
								 attr_num(px, k, idx)));
				}
				continue;
			}
		}

		if (idx < 0) {
			TRY(scan_attr_value(px, quote, NULL));
			continue;
		}
		got |= 1u << idx;
		if (defs[idx].type == AT_STR) {
			struct sbuild sb;

			sb_init(&sb, px->ev, px->s, px->lim_field, COT_E_FIELD_LIMIT);
			TRY(scan_attr_value(px, quote, &sb));
			sb_commit(px->ev, &sb, attr_str(px, k, idx));
		} else {
			char tmp[COT_MAX_SCALAR];
			struct sbuild sb;
			const char *v;

			sb_init_local(&sb, tmp, sizeof(tmp), px->s);
			TRY(scan_attr_value(px, quote, &sb));
			v = sb.copied ? tmp : (const char *)sb.raw;
			if (defs[idx].type == AT_TIME)
				TRY(parse_datetime(px, at, v, sb.len, attr_ms(px, idx)));
			else
				TRY(parse_double(px, at, v, sb.len, attr_num(px, k, idx)));
		}
	}
}

/* --- elements ---------------------------------------------------------------- */

static enum elem_kind
child_kind(enum elem_kind parent, const uint8_t *name, uint16_t len)
{
#define IS(lit) (len == sizeof(lit) - 1 && bytes_eq(name, lit, sizeof(lit) - 1))
	if (parent == EK_EVENT) {
		if (IS("point"))
			return EK_POINT;
		if (IS("detail"))
			return EK_DETAIL;
	} else if (parent == EK_DETAIL) {
		if (IS("track"))
			return EK_TRACK;
		if (IS("link"))
			return EK_LINK;
		if (IS("contact"))
			return EK_CONTACT;
		if (IS("remarks"))
			return EK_REMARKS;
	}
	return EK_OTHER;
#undef IS
}

static enum cot_err
check_event(struct parser *px, const uint8_t *at, uint32_t seen)
{
	struct cot_event *ev = px->ev;

	if ((seen & EV_REQUIRED) != EV_REQUIRED || ev->version.len == 0 || ev->uid.len == 0 ||
	    ev->type.len == 0 || ev->how.len == 0)
		return fail(px, at, COT_E_MISSING);
	if (seen & (1u << 7))
		ev->flags |= COT_F_HAS_ACCESS;
	if (seen & (1u << 8))
		ev->flags |= COT_F_HAS_QOS;
	if (seen & (1u << 9))
		ev->flags |= COT_F_HAS_OPEX;
	if (seen & (1u << 10))
		ev->flags |= COT_F_HAS_CAVEAT;
	if (px->rel_a.p != NULL && px->rel_b.p != NULL) {
		if (px->rel_a.len != px->rel_b.len ||
		    memcmp(px->rel_a.p, px->rel_b.p, px->rel_a.len) != 0)
			return fail(px, at, COT_E_REL_CONFLICT);
		ev->flags |= COT_F_REL_BOTH;
	}
	if (px->rel_a.p != NULL || px->rel_b.p != NULL) {
		ev->releasable_to = px->rel_a.p != NULL ? px->rel_a : px->rel_b;
		ev->flags |= COT_F_HAS_REL;
	}
	return COT_OK;
}

/* A start tag has been parsed (attributes decoded): check and record it. */
static enum cot_err
open_element(struct parser *px, enum elem_kind k, const uint8_t *at, uint32_t seen)
{
	struct cot_event *ev = px->ev;

	switch (k) {
	case EK_EVENT:
		return check_event(px, at, seen);
	case EK_POINT:
		if ((seen & PT_REQUIRED) != PT_REQUIRED)
			return fail(px, at, COT_E_MISSING);
		if (!is_finite(ev->lat) || !is_finite(ev->lon) || !is_finite(ev->hae) ||
		    !is_finite(ev->ce) || !is_finite(ev->le) || ev->lat < -90.0 || ev->lat > 90.0 ||
		    ev->lon < -180.0 || ev->lon > 180.0 || ev->ce < 0.0 || ev->le < 0.0)
			return fail(px, at, COT_E_RANGE);
		return COT_OK;
	case EK_TRACK:
		if (seen & 1u) {
			if (!is_finite(ev->course) || ev->course < 0.0 || ev->course > 360.0)
				return fail(px, at, COT_E_RANGE);
			ev->flags |= COT_F_HAS_COURSE;
		}
		if (seen & 2u) {
			if (!is_finite(ev->speed) || ev->speed < 0.0)
				return fail(px, at, COT_E_RANGE);
			ev->flags |= COT_F_HAS_SPEED;
		}
		if (seen & 4u) {
			if (!is_finite(ev->slope))
				return fail(px, at, COT_E_RANGE);
			ev->flags |= COT_F_HAS_SLOPE;
		}
		ev->has_track = 1;
		ev->flags |= COT_F_HAS_TRACK;
		return COT_OK;
	case EK_LINK:
		(void)seen;
		ev->n_links++;
		return COT_OK;
	case EK_CONTACT:
		ev->flags |= COT_F_HAS_CONTACT;
		if (seen & 1u)
			ev->flags |= COT_F_HAS_CALLSIGN;
		return COT_OK;
	case EK_DETAIL:
		ev->flags |= COT_F_HAS_DETAIL;
		return COT_OK;
	case EK_REMARKS:
		ev->flags |= COT_F_HAS_REMARKS;
		return COT_OK;
	default:
		return COT_OK;
	}
}

/* The COT_TAK_* bit of a typed v1 detail element's name, else 0. */
static uint8_t
typed_name(const uint8_t *name, uint16_t len)
{
#define IS(lit) (len == sizeof(lit) - 1 && bytes_eq(name, lit, sizeof(lit) - 1))
	if (IS("contact"))
		return COT_TAK_CONTACT;
	if (IS("__group"))
		return COT_TAK_GROUP;
	if (IS("precisionlocation"))
		return COT_TAK_PRECISIONLOCATION;
	if (IS("status"))
		return COT_TAK_STATUS;
	if (IS("takv"))
		return COT_TAK_TAKV;
	if (IS("track"))
		return COT_TAK_TRACK;
	return 0;
#undef IS
}

struct frame {
	const uint8_t *name;
	uint16_t len;
	uint8_t kind;
};

/* The element at px->s ('<' then a name start), up to its end tag.  Iterative:
 * the stack is bounded by COT_MAX_DEPTH.  With `head`, it returns once the
 * root's start tag is parsed and checked; with `in_root`, it goes on from
 * there (the root is <event>, which its start tag checked). */
static enum cot_err
parse_tree(struct parser *px, bool head, bool in_root)
{
	struct cot_event *ev = px->ev;
	struct frame stk[COT_MAX_DEPTH];
	int depth = 0;

	if (in_root) {
		stk[0].name = (const uint8_t *)"event";
		stk[0].len = 5;
		stk[0].kind = EK_EVENT;
		depth = 1;
	}
	if (px->frag) { /* inside <detail>, which the bytes never close */
		stk[1].name = (const uint8_t *)"detail";
		stk[1].len = 6;
		stk[1].kind = EK_DETAIL;
		depth = 2;
	}

	do {
		const uint8_t *at = px->s;
		enum elem_kind parent = depth ? (enum elem_kind)stk[depth - 1].kind : EK_OTHER;

		if (px->s >= px->e) {
			if (px->frag && depth == 2)
				return COT_OK;
			return fail(px, px->s, COT_E_MALFORMED);
		}
		if (*px->s != '<') {
			TRY(scan_text(px, parent == EK_REMARKS ? &px->remarks : NULL));
			continue;
		}
		if (px->e - px->s < 2)
			return fail(px, at, COT_E_MALFORMED);
		if (px->s[1] == '/') {
			struct frame *top = &stk[depth - 1];
			const uint8_t *name;
			uint16_t len;

			if (px->frag && depth == 2)
				return fail(px, at, COT_E_MALFORMED); /* would close <detail> */
			px->s += 2;
			TRY(parse_name(px, &name, &len, NULL));
			if (len != top->len || !bytes_eq(name, top->name, len))
				return fail(px, at, COT_E_MALFORMED);
			skip_ws(px);
			if (px->s >= px->e || *px->s != '>')
				return fail(px, px->s, COT_E_MALFORMED);
			px->s++;
			if (top->kind == EK_DETAIL) {
				ev->detail.p = (const char *)px->detail_start;
				ev->detail.len = (uint16_t)(at - px->detail_start);
			} else if (top->kind == EK_REMARKS) {
				sb_commit(ev, &px->remarks, &ev->remarks);
				ev->remarks_dec.joined = px->remarks.joined;
			} else if (top->kind == EK_EVENT && !(px->seen & (1u << EK_POINT))) {
				return fail(px, at, COT_E_MISSING);
			}
			depth--;
			continue;
		}
		if (px->s[1] == '!') {
			if (starts_with(px, "<!--", 4)) {
				px->s += 4;
				TRY(scan_comment(px));
			} else if (starts_with(px, "<![CDATA[", 9)) {
				px->s += 9;
				TRY(scan_cdata(px, parent == EK_REMARKS ? &px->remarks : NULL));
			} else if (starts_with(px, "<!DOCTYPE", 9) || starts_with(px, "<!ENTITY", 8)) {
				return fail(px, at, COT_E_DOCTYPE);
			} else {
				return fail(px, at, COT_E_MALFORMED);
			}
			continue;
		}

		/* A start tag. */
		{
			const uint8_t *name;
			uint16_t len;
			uint32_t seen;
			int empty;
			enum elem_kind k;

			if (depth == COT_MAX_DEPTH)
				return fail(px, at, COT_E_DEPTH);
			if (parent == EK_REMARKS)
				return fail(px, at, COT_E_MALFORMED);
			px->s++;
			TRY(parse_name(px, &name, &len, NULL));
			if (depth == 0) {
				if (len != 5 || !bytes_eq(name, "event", 5))
					return fail(px, at, COT_E_MISSING);
				k = EK_EVENT;
			} else {
				k = child_kind(parent, name, len);
				if (k == EK_OTHER && parent == EK_EVENT)
					return fail(px, at, COT_E_MALFORMED);
				if (px->frag && parent == EK_DETAIL)
					px->tak_named |= typed_name(name, len);
			}
			if (k != EK_OTHER && k != EK_LINK) {
				if (px->seen & (1u << k))
					return fail(px, at, COT_E_DUP_ELEM);
				px->seen |= 1u << k;
			}
			if (k == EK_LINK && ev->n_links == COT_MAX_LINKS)
				return fail(px, at, COT_E_OVERSIZE);
			TRY(parse_attrs(px, k, &seen, &empty));
			TRY(open_element(px, k, at, seen));
			if (empty) {
				if (k == EK_DETAIL)
					ev->detail.p = (const char *)px->s;
				else if (k == EK_REMARKS)
					ev->remarks.p = (const char *)px->s;
				else if (k == EK_EVENT)
					return fail(px, at, COT_E_MISSING); /* no <point> */
				continue;
			}
			if (k == EK_DETAIL)
				px->detail_start = px->s;
			else if (k == EK_REMARKS) {
				sb_init(&px->remarks, ev, px->s, px->lim_remarks,
					COT_E_REMARKS_LIMIT);
				px->remarks.produced = ev->remarks_dec.produced;
			}
			stk[depth].name = name;
			stk[depth].len = len;
			stk[depth].kind = (uint8_t)k;
			depth++;
			if (head) /* the root's start tag: as far as the head goes */
				return COT_OK;
		}
	} while (depth > 0);
	return COT_OK;
}

/* Comments and whitespace between markup outside the root element. */
static enum cot_err
skip_misc(struct parser *px)
{
	for (;;) {
		skip_ws(px);
		if (!starts_with(px, "<!--", 4))
			return COT_OK;
		px->s += 4;
		TRY(scan_comment(px));
	}
}

static int
ascii_ieq(const uint8_t *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((a[i] | 0x20) != (b[i] | 0x20))
			return 0;
	return 1;
}

/* One pseudo-attribute of the XML declaration: S name Eq quoted-value. */
static enum cot_err
decl_attr(struct parser *px, const char *name, const uint8_t **val, size_t *vlen)
{
	size_t n = strlen(name);
	const uint8_t *v;
	uint8_t q;

	if (!starts_with(px, name, n))
		return fail(px, px->s, COT_E_MALFORMED);
	px->s += n;
	skip_ws(px);
	if (px->s >= px->e || *px->s != '=')
		return fail(px, px->s, COT_E_MALFORMED);
	px->s++;
	skip_ws(px);
	if (px->s >= px->e || (*px->s != '"' && *px->s != '\''))
		return fail(px, px->s, COT_E_MALFORMED);
	q = *px->s++;
	v = px->s;
	while (px->s < px->e && *px->s != q) {
		uint8_t c = *px->s;

		if (!is_alpha(c) && !is_digit(c) && c != '.' && c != '_' && c != '-')
			return fail(px, px->s, COT_E_MALFORMED);
		px->s++;
	}
	if (px->s >= px->e)
		return fail(px, px->s, COT_E_MALFORMED);
	*val = v;
	*vlen = (size_t)(px->s - v);
	px->s++;
	return COT_OK;
}

/* <?xml version="1.0" [encoding="UTF-8"] [standalone="yes|no"] ?>, px->s at "<?xml ". */
static enum cot_err
parse_xml_decl(struct parser *px)
{
	const uint8_t *v, *at = px->s;
	size_t n;
	int ws;

	px->s += 5;
	skip_ws(px);
	TRY(decl_attr(px, "version", &v, &n));
	if (n != 3 || memcmp(v, "1.0", 3) != 0)
		return fail(px, at, COT_E_MALFORMED);
	ws = skip_ws(px);
	if (ws && starts_with(px, "encoding", 8)) {
		TRY(decl_attr(px, "encoding", &v, &n));
		if (n != 5 || !ascii_ieq(v, "utf-8", 5))
			return fail(px, at, COT_E_MALFORMED);
		ws = skip_ws(px);
	}
	if (ws && starts_with(px, "standalone", 10)) {
		TRY(decl_attr(px, "standalone", &v, &n));
		if (!(n == 3 && memcmp(v, "yes", 3) == 0) && !(n == 2 && memcmp(v, "no", 2) == 0))
			return fail(px, at, COT_E_MALFORMED);
		skip_ws(px);
	}
	if (!starts_with(px, "?>", 2))
		return fail(px, px->s, COT_E_MALFORMED);
	px->s += 2;
	return COT_OK;
}

/* Up to and including the root's start tag. */
static enum cot_err
parse_document_head(struct parser *px)
{
	struct cot_event *ev = px->ev;
	const uint8_t *at;

	if (px->e - px->s >= 1 && px->s[0] == 0xbf) {
		if (px->e - px->s >= 3 && px->s[2] == 0xbf) {
			if (px->s[1] == 0x00) {
				px->s += 3;
				ev->flags |= COT_F_TAK_HDR;
			} else {
				/* 0xbf 0x01 0xbf went to takproto.c */
				return fail(px, px->s, COT_E_TAK_VERSION);
			}
		} else {
			return fail(px, px->s, COT_E_TAK_VERSION);
		}
	}
	if (starts_with(px, "\xef\xbb\xbf", 3))
		px->s += 3;
	if (starts_with(px, "<?xml", 5) && px->e - px->s > 5 && is_ws(px->s[5])) {
		/* The declaration every TAK sender writes, as one compare. */
		static const char common[] =
			"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>";

		if (starts_with(px, common, sizeof(common) - 1))
			px->s += sizeof(common) - 1;
		else
			TRY(parse_xml_decl(px));
		ev->flags |= COT_F_XML_DECL;
	}
	skip_ws(px);
	if (px->s >= px->e && !(ev->flags & COT_F_XML_DECL))
		return fail(px, px->s, COT_E_EMPTY);
	TRY(skip_misc(px));
	if (px->s >= px->e)
		return fail(px, px->s, COT_E_MALFORMED); /* no root element */
	at = px->s;
	if (*px->s != '<')
		return fail(px, at, (ev->flags & COT_F_XML_DECL) ? COT_E_MALFORMED : COT_E_NOT_XML);
	if (starts_with(px, "<!DOCTYPE", 9) || starts_with(px, "<!ENTITY", 8))
		return fail(px, at, COT_E_DOCTYPE);
	if (px->e - px->s < 2 || !is_name_start(px->s[1]))
		return fail(px, at, COT_E_MALFORMED);
	return parse_tree(px, true, false);
}

/* The rest: the root's content and end tag, and what may follow it. */
static enum cot_err
parse_document_rest(struct parser *px)
{
	TRY(parse_tree(px, false, true));
	TRY(skip_misc(px));
	if (px->s < px->e) {
		if (starts_with(px, "<!DOCTYPE", 9) || starts_with(px, "<!ENTITY", 8))
			return fail(px, px->s, COT_E_DOCTYPE);
		return fail(px, px->s, COT_E_MALFORMED);
	}
	return COT_OK;
}

/*
 * The rest of a v1 event (docs/release.md §2): its detail text D, read as
 * the content of <detail>.  xmlDetail is read where it lies in the payload;
 * then the typed elements it does not name are written after a copy of it
 * and read the same way, so a typed contact and one in xmlDetail are one
 * contact, and the rules' `detail` scope sees D.
 */
static enum cot_err
parse_tak_rest(struct parser *px)
{
	struct cot_event *ev = px->ev;
	const struct cot_tak *t = &ev->tak;
	const uint8_t *xd = (const uint8_t *)t->xml_detail.p;
	size_t xn = t->xml_detail.len, tn;
	enum cot_err err;

	if (!(ev->flags & COT_F_HAS_DETAIL))
		return COT_OK;
	px->frag = true;
	if (xd != NULL) {
		px->s = xd;
		px->e = xd + xn;
		TRY(parse_tree(px, false, true));
	}
	if (!(t->present & COT_TAK_TYPED & ~px->tak_named)) {
		/* D is xmlDetail, a byte range of the payload (or empty). */
		ev->detail.p = xd != NULL ? (const char *)xd : (const char *)px->base;
		ev->detail.len = (uint16_t)xn;
		return COT_OK;
	}
	if (xn)
		memcpy(ev->tak_detail, xd, xn);
	tn = cot_write_typed(t, px->tak_named, ev->tak_detail + xn);
	/* D is a cot_str (at most 65,535 bytes), and so is the rules'
	 * `detail` scope: escaping can make it longer than the message. */
	if (xn + tn > COT_MAX_MSG) {
		px->err_at = px->base + t->detail_off;
		return COT_E_OVERSIZE;
	}
	px->s = (const uint8_t *)ev->tak_detail + xn;
	px->e = px->s + tn;
	err = parse_tree(px, false, true);
	if (err != COT_OK) {
		/* An error in bytes that are not the payload's: point at the
		 * Detail message that carried them. */
		px->err_at = px->base + t->detail_off;
		return err;
	}
	ev->detail.p = ev->tak_detail;
	ev->detail.len = (uint16_t)(xn + tn);
	return COT_OK;
}

_Static_assert(sizeof(struct parser) <= sizeof(struct cot_cursor), "cot_cursor too small");
_Static_assert(_Alignof(struct parser) <= _Alignof(struct cot_cursor), "cot_cursor alignment");

static enum cot_err
finish(struct parser *px, enum cot_err err)
{
	if (err != COT_OK)
		px->ev->err_off = (uint16_t)((px->err_at != NULL ? px->err_at : px->s) - px->base);
	return err;
}

enum cot_err
cot_parse_head(const uint8_t *p, size_t len, struct cot_event *ev, struct cot_cursor *cur)
{
	return cot_parse_head_lim(p, len, NULL, ev, cur);
}

enum cot_err
cot_parse_head_lim(const uint8_t *p, size_t len, const struct cot_limits *lim,
		   struct cot_event *ev, struct cot_cursor *cur)
{
	struct parser *px = (struct parser *)(void *)cur;

	/* Clearing first is what the error contract of cot_parse.h rests on:
	 * a string is only ever set once its value is complete, so on an error
	 * every string is this event's or absent, never the previous one's. */
	memset(ev, 0, offsetof(struct cot_event, buf));
	memset(px, 0, sizeof(*px));
	px->ev = ev;
	/* Within the hard bounds whatever the caller says: the decode buffer
	 * is sized for them (COT_DECODE_BUF). */
	px->lim_field = lim ? lim->field : COT_MAX_FIELD;
	px->lim_remarks = lim ? lim->remarks : COT_MAX_REMARKS;
	if (px->lim_field > COT_FIELD_LIMIT_MAX)
		px->lim_field = COT_FIELD_LIMIT_MAX;
	if (px->lim_remarks > COT_REMARKS_LIMIT_MAX)
		px->lim_remarks = COT_REMARKS_LIMIT_MAX;
	if (len == 0 || p == NULL)
		return COT_E_EMPTY;
	if (len > COT_MAX_MSG) {
		ev->err_off = COT_MAX_MSG;
		return COT_E_OVERSIZE;
	}
	px->base = px->s = p;
	px->e = p + len;
	if (cot_encoding_of(p, len) == COT_ENC_TAKV1)
		return tak_decode(p, len, px->lim_field, ev);
	return finish(px, parse_document_head(px));
}

enum cot_err
cot_parse_rest(struct cot_cursor *cur)
{
	struct parser *px = (struct parser *)(void *)cur;

	if (px->ev->encoding == COT_ENC_TAKV1)
		return finish(px, parse_tak_rest(px));
	return finish(px, parse_document_rest(px));
}

enum cot_err
cot_parse(const uint8_t *p, size_t len, struct cot_event *ev)
{
	struct cot_cursor cur;
	enum cot_err err = cot_parse_head(p, len, ev, &cur);

	return err != COT_OK ? err : cot_parse_rest(&cur);
}

const char *
cot_err_name(enum cot_err e)
{
	return cot_err_str(e); /* the table is in cot_names.h, shared with tgctl */
}
