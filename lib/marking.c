/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * marking.c - parse and resolve security markings (docs/release.md §3).
 *
 * Runs on the dataplane hot path: no allocation, no locale (hand-rolled
 * ASCII case folding), one pass over the input, table lookups bounded by
 * TG_MAX_NATIONS and TG_MAX_GROUPS.  Anything not understood is bad: a guard
 * fails closed.
 */
#include <string.h>

#include "marking.h"

static inline int
mk_blank(char c)
{
	return c == ' ' || c == '\t';
}

static inline char
mk_upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

static inline int
mk_alpha(char c)
{
	c = mk_upper(c);
	return c >= 'A' && c <= 'Z';
}

static inline int
mk_tokchar(char c)
{
	return mk_alpha(c) || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int
mk_fail(struct tg_marking_err *err, const char *base, const char *at, const char *msg)
{
	if (err != NULL) {
		err->msg = msg;
		err->off = (size_t)(at - base);
	}
	return -1;
}

/* Case-insensitive compare of s[0..n) with the upper-case word w. */
static int
mk_word_eq(const char *s, size_t n, const char *w)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (w[i] == '\0' || mk_upper(s[i]) != w[i])
			return 0;
	return w[n] == '\0';
}

uint64_t
tg_nation_usa_bit(const struct tg_slot_hdr *hdr)
{
	uint32_t i;

	for (i = 0; i < hdr->n_nations && i < TG_MAX_NATIONS; i++)
		if (memcmp(hdr->nations[i], "USA", 4) == 0)
			return UINT64_C(1) << i;
	return 0;
}

/*
 * Resolve one list token (already checked for its character set) to nation
 * bits.  Returns 0, or -1 for an unknown token in strict mode.
 */
static int
mk_token(const char *t, size_t n, const struct tg_slot_hdr *hdr, int strict, uint64_t *mask)
{
	uint32_t i;

	if (n == 3 && mk_alpha(t[0]) && mk_alpha(t[1]) && mk_alpha(t[2])) {
		char tri[4] = { mk_upper(t[0]), mk_upper(t[1]), mk_upper(t[2]), 0 };

		for (i = 0; i < hdr->n_nations && i < TG_MAX_NATIONS; i++)
			if (memcmp(hdr->nations[i], tri, 4) == 0) {
				*mask |= UINT64_C(1) << i;
				break;
			}
		/* A trigraph no peer has can only widen: ignore it. */
		return 0;
	}
	for (i = 0; i < hdr->n_groups && i < TG_MAX_GROUPS; i++) {
		const char *g = hdr->groups[i].name;
		size_t k;

		/* bounded by TG_NAME_MAX: the header comes from a shared map */
		for (k = 0; k < n && k < TG_NAME_MAX && g[k] != '\0'; k++)
			if (mk_upper(g[k]) != mk_upper(t[k]))
				break;
		if (k == n && n < TG_NAME_MAX && g[k] == '\0') {
			*mask |= hdr->groups[i].mask;
			return 0;
		}
	}
	return strict ? -1 : 0;
}

/*
 * A list of tokens in [s, e).  With commas_only (REL TO) tokens are separated
 * by commas with optional blanks around them and none may be empty; otherwise
 * (releasableTo) any run of blanks and commas separates.
 */
static int
mk_list(const char *base, const char *s, const char *e, const struct tg_slot_hdr *hdr,
	int strict, int commas_only, uint64_t *mask, struct tg_marking_err *err)
{
	static const char bad_char[] = "a list token may hold only letters, digits, '_' and '-'";
	const char *p = s, *t, *te;

	*mask = 0;
	for (;;) {
		if (commas_only) {
			while (p < e && mk_blank(*p))
				p++;
		} else {
			while (p < e && (mk_blank(*p) || *p == ','))
				p++;
			if (p == e)
				return 0;
		}
		t = p;
		while (p < e && mk_tokchar(*p))
			p++;
		te = p;
		if (commas_only)
			while (p < e && mk_blank(*p))
				p++;
		if (p < e && *p != ',' && !(!commas_only && mk_blank(*p)))
			return mk_fail(err, base, p, bad_char);
		if (te == t)
			return mk_fail(err, base, t, "empty name in a REL TO list");
		if (mk_token(t, (size_t)(te - t), hdr, strict, mask) < 0)
			return mk_fail(err, base, t, "list token is neither a trigraph nor a known group");
		if (p == e)
			return 0;
		if (commas_only)
			p++; /* the comma; a trailing one leaves an empty name */
	}
}

/* Level word in [s, e) (already trimmed), or -1. */
static int
mk_level(const char *s, const char *e)
{
	size_t n = (size_t)(e - s);
	const char *p;

	if (mk_word_eq(s, n, "U") || mk_word_eq(s, n, "UNCLASSIFIED"))
		return TG_LVL_UNCLASSIFIED;
	if (mk_word_eq(s, n, "C") || mk_word_eq(s, n, "CONFIDENTIAL"))
		return TG_LVL_CONFIDENTIAL;
	if (mk_word_eq(s, n, "S") || mk_word_eq(s, n, "SECRET"))
		return TG_LVL_SECRET;
	if (mk_word_eq(s, n, "TS"))
		return TG_LVL_TOP_SECRET;
	/* TOP<blanks>SECRET */
	if (n > 3 && mk_word_eq(s, 3, "TOP") && mk_blank(s[3])) {
		p = s + 3;
		while (p < e && mk_blank(*p))
			p++;
		if (mk_word_eq(p, (size_t)(e - p), "SECRET"))
			return TG_LVL_TOP_SECRET;
	}
	return -1;
}

/* The declared control whose name or alias [s, e) is (case-insensitive,
 * blank runs as one space), or -1. */
static int
mk_lookup_control(const char *s, const char *e, const struct tg_slot_hdr *hdr)
{
	uint32_t n = hdr->n_control_names < TG_MAX_CONTROL_NAMES ? hdr->n_control_names
								 : TG_MAX_CONTROL_NAMES;

	for (uint32_t i = 0; i < n; i++) {
		const char *nm = hdr->control_names[i].name, *p = s;
		size_t k = 0;

		while (p < e && k < TG_NAME_MAX && nm[k]) {
			if (mk_blank(*p)) {
				if (nm[k] != ' ')
					break;
				while (p < e && mk_blank(*p))
					p++;
				k++;
				continue;
			}
			if (mk_upper(*p) != nm[k])
				break;
			p++;
			k++;
		}
		if (p == e && k < TG_NAME_MAX && nm[k] == '\0' &&
		    hdr->control_names[i].control < hdr->n_controls &&
		    hdr->control_names[i].control < TG_MAX_CONTROLS)
			return hdr->control_names[i].control;
	}
	return -1;
}

/* Record declared control i and apply its effect (release.md §3): none
 * widens a release. */
static void
mk_apply_control(unsigned i, const struct tg_slot_hdr *hdr, struct tg_marking *out)
{
	const struct tg_control *ct = &hdr->controls[i];

	out->controls |= UINT64_C(1) << i;
	switch (ct->effect) {
	case TG_CE_BLOCK:
		if (!out->blocked)
			out->blocked = (uint8_t)(i + 1);
		break;
	case TG_CE_NATIONS:
		out->ctl_nations &= ct->nations;
		break;
	case TG_CE_PEERS:
		out->peer_mask &= ct->peers;
		break;
	default:
		break;
	}
	if (ct->builtin == TG_CB_NOFORN)
		out->noforn = 1; /* the floor, whatever the effect */
}

/* One control in [s, e) (trimmed, non-empty). */
static int
mk_control(const char *base, const char *s, const char *e, const struct tg_slot_hdr *hdr,
	   int strict, struct tg_marking *out, struct tg_marking_err *err)
{
	size_t n = (size_t)(e - s);
	const char *p;
	uint64_t mask;

	if (n >= 3 && mk_word_eq(s, 3, "REL") && (n == 3 || mk_blank(s[3]))) {
		p = s + 3;
		while (p < e && mk_blank(*p))
			p++;
		if (e - p >= 2 && mk_word_eq(p, 2, "TO") && (e - p == 2 || mk_blank(p[2]))) {
			p += 2;
			while (p < e && mk_blank(*p))
				p++;
		}
		if (p == e)
			return mk_fail(err, base, p, "REL TO with no nations");
		if (mk_list(base, p, e, hdr, strict, 1, &mask, err) < 0)
			return -1;
		/* Several REL TO controls: each narrows. */
		out->rel_mask = out->has_rel ? (out->rel_mask & mask) : mask;
		out->has_rel = 1;
		return 0;
	}
	{
		int i = mk_lookup_control(s, e, hdr);

		if (i >= 0) {
			mk_apply_control((unsigned)i, hdr, out);
			return 0;
		}
	}
	if (mk_word_eq(s, n, "NOFORN") || mk_word_eq(s, n, "NF")) {
		out->noforn = 1;
		return 0;
	}
	if (mk_word_eq(s, n, "FOUO"))
		return 0;
	if (mk_level(s, e) >= 0)
		return mk_fail(err, base, s, "a second classification level");
	return mk_fail(err, base, s,
		       "unknown control (not REL TO, NOFORN, NF, FOUO or one the policy declares "
		       "in controls:)");
}

int
tg_marking_parse_ex(const char *s, size_t len, const struct tg_slot_hdr *hdr,
		    unsigned int flags, struct tg_marking *out, struct tg_marking_err *err)
{
	const char *p = s, *e = s + len;
	int strict = (flags & TG_MK_STRICT) != 0;
	int first = 1;

	memset(out, 0, sizeof(*out));
	out->level = TG_LVL_NONE;
	out->peer_mask = ~UINT32_C(0);
	out->ctl_nations = ~UINT64_C(0);

	/* Only blanks: no controls (caveat) or an empty marking (access). */
	while (p < e && mk_blank(*p))
		p++;
	if (p == e) {
		if (flags & TG_MK_ACCESS)
			return mk_fail(err, s, p, "empty marking");
		return 0;
	}
	p = s;
	for (;;) {
		const char *seg = p, *se, *ts, *te;
		int lvl;

		/* A segment ends at "//" or the end. */
		while (p < e && !(*p == '/' && p + 1 < e && p[1] == '/'))
			p++;
		se = p;
		ts = seg;
		te = se;
		while (ts < te && mk_blank(*ts))
			ts++;
		while (te > ts && mk_blank(te[-1]))
			te--;
		if (ts == te)
			return mk_fail(err, s, ts, "empty field between '//' separators");
		if (first && (flags & TG_MK_ACCESS)) {
			lvl = mk_level(ts, te);
			if (lvl < 0)
				return mk_fail(err, s, ts, "unknown classification level");
			out->level = (uint8_t)lvl;
		} else if (mk_control(s, ts, te, hdr, strict, out, err) < 0) {
			return -1;
		}
		first = 0;
		if (p == e)
			return 0;
		p += 2;
	}
}

int
tg_marking_parse(const char *s, size_t len, const struct tg_slot_hdr *hdr,
		 struct tg_marking *out)
{
	return tg_marking_parse_ex(s, len, hdr, TG_MK_ACCESS, out, NULL);
}

int
tg_caveat_parse(const char *s, size_t len, const struct tg_slot_hdr *hdr,
		struct tg_marking *out)
{
	return tg_marking_parse_ex(s, len, hdr, 0, out, NULL);
}

int
tg_rel_list_parse(const char *s, size_t len, const struct tg_slot_hdr *hdr, uint64_t *mask)
{
	return mk_list(s, s, s + len, hdr, 0, 0, mask, NULL);
}

int
tg_marking_resolve(const char *access, size_t access_len,
		   const char *caveat, size_t caveat_len,
		   const char *rel, size_t rel_len,
		   const struct tg_marking *link_default,
		   const struct tg_slot_hdr *hdr, struct tg_marking *out)
{
	struct tg_marking a, c;
	uint64_t r = 0, rmask = 0;
	int has_list = 0;

	memset(out, 0, sizeof(*out));
	out->level = TG_LVL_NONE;
	memset(&a, 0, sizeof(a));
	a.level = TG_LVL_NONE;
	a.peer_mask = ~UINT32_C(0);
	a.ctl_nations = ~UINT64_C(0);
	memset(&c, 0, sizeof(c));
	c.peer_mask = ~UINT32_C(0);
	c.ctl_nations = ~UINT64_C(0);

	if (access != NULL && tg_marking_parse(access, access_len, hdr, &a) < 0)
		return -1;
	if (caveat != NULL && tg_caveat_parse(caveat, caveat_len, hdr, &c) < 0)
		return -1;
	if (rel != NULL && tg_rel_list_parse(rel, rel_len, hdr, &r) < 0)
		return -1;

	if (a.level != TG_LVL_NONE)
		out->level = a.level;
	else if (link_default != NULL)
		out->level = link_default->level;

	rmask = ~UINT64_C(0);
	if (a.has_rel) {
		rmask &= a.rel_mask;
		has_list = 1;
	}
	if (c.has_rel) {
		rmask &= c.rel_mask;
		has_list = 1;
	}
	if (rel != NULL) {
		rmask &= r;
		has_list = 1;
	}
	if (!has_list) {
		if (link_default != NULL && link_default->has_rel) {
			rmask = link_default->rel_mask;
			has_list = 1;
		} else {
			rmask = 0;
		}
	}
	out->noforn = a.noforn | c.noforn;
	if (out->noforn)
		rmask &= tg_nation_usa_bit(hdr);
	/* Declared controls (release.md §3): only the message's own act. */
	rmask &= a.ctl_nations & c.ctl_nations;
	out->ctl_nations = a.ctl_nations & c.ctl_nations;
	out->peer_mask = a.peer_mask & c.peer_mask;
	out->controls = a.controls | c.controls;
	out->blocked = a.blocked ? a.blocked : c.blocked;
	out->has_rel = (uint8_t)has_list;
	out->rel_mask = rmask;
	return 0;
}
