/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pattern_bytes.c - the bytes a match of a Hyperscan expression can contain
 * (pattern_bytes.h).  A walk over the PCRE syntax Hyperscan accepts that
 * understands literals, escapes of single bytes, \d \w \s \h \v, positive
 * character classes and ranges, groups, alternation and quantifiers; for
 * anything else it answers "every byte".
 */
#include "pattern_bytes.h"

#include <string.h>

struct pb {
	const char *s;
	uint64_t set[4];
};

enum item { IT_BYTE, IT_SET, IT_ALL };

static void
add(struct pb *b, unsigned c)
{
	b->set[c >> 6] |= UINT64_C(1) << (c & 63);
}

static void
add_range(struct pb *b, unsigned lo, unsigned hi)
{
	for (unsigned c = lo; c <= hi; c++)
		add(b, c);
}

static void
add_chars(struct pb *b, const char *chars, size_t n)
{
	for (size_t i = 0; i < n; i++)
		add(b, (unsigned char)chars[i]);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The escape at b->s (just past its backslash): one byte (*byte), a set of
 * bytes (added to b->set), or not understood. */
static enum item
escape(struct pb *b, unsigned *byte)
{
	char c = *b->s;

	if (c == '\0')
		return IT_ALL;
	b->s++;
	switch (c) {
	case 'd':
		add_range(b, '0', '9');
		return IT_SET;
	case 'w':
		add_range(b, '0', '9');
		add_range(b, 'A', 'Z');
		add_range(b, 'a', 'z');
		add(b, '_');
		return IT_SET;
	case 's': /* PCRE 8.x: space, \t \n \v \f \r; 0x85 and 0xa0 in case */
		add_chars(b, " \t\n\v\f\r\x85\xa0", 8);
		return IT_SET;
	case 'h':
		add_chars(b, " \t\xa0", 3);
		return IT_SET;
	case 'v': /* vertical space, not the VT character */
		add_chars(b, "\n\v\f\r\x85", 5);
		return IT_SET;
	case 't': *byte = '\t'; return IT_BYTE;
	case 'n': *byte = '\n'; return IT_BYTE;
	case 'r': *byte = '\r'; return IT_BYTE;
	case 'f': *byte = '\f'; return IT_BYTE;
	case 'e': *byte = 0x1b; return IT_BYTE;
	case 'a': *byte = 0x07; return IT_BYTE;
	case 'x': {
		unsigned v = 0;
		int n = 0;

		if (*b->s == '{') {
			const char *q = b->s + 1;

			for (; hexval(*q) >= 0 && n < 8; q++, n++)
				v = v * 16 + (unsigned)hexval(*q);
			if (*q != '}' || n == 0 || v > 0xff)
				return IT_ALL;
			b->s = q + 1;
		} else {
			for (; n < 2 && hexval(*b->s) >= 0; b->s++, n++)
				v = v * 16 + (unsigned)hexval(*b->s);
			if (n == 0)
				return IT_ALL;
		}
		*byte = v;
		return IT_BYTE;
	}
	default:
		/* \D \W \S \b \B \A \z \G \K \Q \E \p \c \0-\9 back-references,
		 * octal, \N, \R, \X ...: not understood. */
		if (is_alnum(c))
			return IT_ALL;
		*byte = (unsigned char)c; /* escaped punctuation, or a non-ASCII byte */
		return IT_BYTE;
	}
}

/* A character class, b->s just past its '['.  False if not understood. */
static bool
char_class(struct pb *b)
{
	bool first = true;

	if (*b->s == '^')
		return false; /* negated: nearly every byte anyway */
	for (;;) {
		unsigned lo, hi;
		char c = *b->s;

		if (c == '\0')
			return false;
		if (c == ']' && !first) {
			b->s++;
			return true;
		}
		first = false;
		if (c == '[' && (b->s[1] == ':' || b->s[1] == '.' || b->s[1] == '='))
			return false; /* POSIX classes, collating elements */
		if (c == '\\') {
			enum item k;

			b->s++;
			k = escape(b, &lo);
			if (k == IT_ALL)
				return false;
			if (k == IT_SET)
				continue;
		} else {
			lo = (unsigned char)c;
			b->s++;
		}
		if (b->s[0] == '-' && b->s[1] != ']' && b->s[1] != '\0') {
			b->s++;
			c = *b->s;
			if (c == '\\') {
				b->s++;
				if (escape(b, &hi) != IT_BYTE)
					return false;
			} else if (c == '[') {
				return false;
			} else {
				hi = (unsigned char)c;
				b->s++;
			}
			if (hi < lo)
				return false;
			add_range(b, lo, hi);
			continue;
		}
		add(b, lo);
	}
}

/* "{n}", "{n,}" or "{n,m}" at s: its length, else 0 ('{' is then a literal). */
static size_t
quantifier_len(const char *s)
{
	const char *q = s + 1;

	if (*q < '0' || *q > '9')
		return 0;
	while (*q >= '0' && *q <= '9')
		q++;
	if (*q == ',')
		for (q++; *q >= '0' && *q <= '9'; q++)
			;
	return *q == '}' ? (size_t)(q - s) + 1 : 0;
}

bool
pattern_bytes(const char *expr, bool caseless, uint64_t set[4])
{
	struct pb b = {.s = expr};
	unsigned byte;
	size_t n;

	while (*b.s) {
		switch (*b.s) {
		case '\\':
			b.s++;
			switch (escape(&b, &byte)) {
			case IT_ALL: goto all;
			case IT_BYTE: add(&b, byte); break;
			case IT_SET: break;
			}
			break;
		case '[':
			b.s++;
			if (!char_class(&b))
				goto all;
			break;
		case '.':
		case '^':
		case '$':
			goto all;
		case '(':
			if (b.s[1] == '?' || b.s[1] == '*')
				goto all; /* options, look-arounds, verbs */
			b.s++;
			break;
		case ')':
		case '|':
		case '?':
		case '*':
		case '+':
			b.s++;
			break;
		case '{':
			n = quantifier_len(b.s);
			if (n == 0)
				add(&b, '{');
			b.s += n ? n : 1;
			break;
		default:
			add(&b, (unsigned char)*b.s);
			b.s++;
			break;
		}
	}
	if (caseless)
		for (unsigned c = 'A'; c <= 'Z'; c++)
			if ((b.set[c >> 6] >> (c & 63) & 1) ||
			    (b.set[(c + 32) >> 6] >> ((c + 32) & 63) & 1)) {
				add(&b, c);
				add(&b, c + 32);
			}
	for (unsigned i = 0; i < 4; i++)
		set[i] |= b.set[i];
	return true;
all:
	memset(set, 0xff, 4 * sizeof(set[0]));
	return false;
}
