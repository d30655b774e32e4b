/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_marking.c - security markings (lib/marking.c) against a fixed policy
 * header: nations KOR, JPN, USA, GBR; groups FVEY (USA, GBR once nations no
 * peer has are dropped) and TRILAT (KOR, JPN, USA).
 *
 * Input: one control byte, then up to three slices separated by 0xff bytes:
 *   access 0xff caveat 0xff releasableTo
 * control bit 0/1/2: access/caveat/releasableTo present (else NULL);
 * bits 3..5: which link default marking (or none) applies.
 * Each slice is copied to an exact-size heap buffer so over-reads are caught.
 *
 * Invariants:
 *   - tg_marking_resolve()'s rel_mask only has bits of known nations;
 *   - NOFORN => rel_mask within the USA bit;
 *   - deterministic: the same call twice gives the same result;
 *   - resolve fails iff one of the individual parses fails, and its rel_mask
 *     is within every list the message carries (lists only narrow);
 *   - case-insensitive: upper- and lower-casing the inputs changes nothing;
 *   - parse_ex errors carry a message and an offset inside the string.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "marking.h"

#define N_KOR 0
#define N_JPN 1
#define N_USA 2
#define N_GBR 3
#define KNOWN_MASK 0xfull
#define BIT(i) (UINT64_C(1) << (i))

static struct tg_slot_hdr hdr;

static const char *const defaults_text[] = {
	"SECRET//REL TO USA, KOR",
	"SECRET//REL TO USA, JPN",
	"TOP SECRET//REL TO FVEY",
	"UNCLASSIFIED",
	"C//REL TO TRILAT//FOUO",
	"S//REL TO USA",
	"TS",
};
#define N_DEFAULTS (sizeof(defaults_text) / sizeof(defaults_text[0]))
static struct tg_marking defaults[N_DEFAULTS];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memset(&hdr, 0, sizeof(hdr));
	memcpy(hdr.nations[N_KOR], "KOR", 4);
	memcpy(hdr.nations[N_JPN], "JPN", 4);
	memcpy(hdr.nations[N_USA], "USA", 4);
	memcpy(hdr.nations[N_GBR], "GBR", 4);
	hdr.n_nations = 4;
	strcpy(hdr.groups[0].name, "FVEY");
	hdr.groups[0].mask = BIT(N_USA) | BIT(N_GBR);
	strcpy(hdr.groups[1].name, "TRILAT");
	hdr.groups[1].mask = BIT(N_KOR) | BIT(N_JPN) | BIT(N_USA);
	hdr.n_groups = 2;
	for (size_t i = 0; i < N_DEFAULTS; i++) {
		struct tg_marking_err err;

		if (tg_marking_parse_ex(defaults_text[i], strlen(defaults_text[i]), &hdr,
					TG_MK_ACCESS | TG_MK_STRICT, &defaults[i], &err) < 0) {
			fprintf(stderr, "default %s: %s\n", defaults_text[i], err.msg);
			abort();
		}
		FUZZ_CHECK((defaults[i].rel_mask & ~KNOWN_MASK) == 0);
	}
	FUZZ_CHECK(tg_nation_usa_bit(&hdr) == BIT(N_USA));
	return 0;
}

struct res {
	int rc;
	struct tg_marking m;
};

static int
same(const struct res *a, const struct res *b)
{
	if (a->rc != b->rc)
		return 0;
	if (a->rc < 0)
		return 1; /* out is unspecified on failure */
	return a->m.level == b->m.level && a->m.has_rel == b->m.has_rel &&
	       a->m.noforn == b->m.noforn && a->m.rel_mask == b->m.rel_mask;
}

static struct res
resolve(const char *acc, size_t an, const char *cav, size_t cn, const char *rel, size_t rn,
	const struct tg_marking *dflt)
{
	struct res r;

	memset(&r, 0, sizeof(r));
	r.rc = tg_marking_resolve(acc, an, cav, cn, rel, rn, dflt, &hdr, &r.m);
	FUZZ_CHECK(r.rc == 0 || r.rc == -1);
	return r;
}

static void
fold(char *s, size_t n, int upper)
{
	for (size_t i = 0; i < n; i++) {
		if (upper && s[i] >= 'a' && s[i] <= 'z')
			s[i] = (char)(s[i] - 'a' + 'A');
		else if (!upper && s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
	}
}

static void
check_parse_ex(const char *s, size_t n, unsigned flags)
{
	struct tg_marking m;
	struct tg_marking_err err = { NULL, (size_t)-1 };
	int rc = tg_marking_parse_ex(s, n, &hdr, flags, &m, &err);

	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc < 0) {
		FUZZ_CHECK(err.msg != NULL);
		FUZZ_CHECK(err.off <= n);
		fuzz_touch(err.msg, strlen(err.msg));
	} else {
		FUZZ_CHECK((m.rel_mask & ~KNOWN_MASK) == 0);
		FUZZ_CHECK(m.has_rel || m.rel_mask == 0);
		FUZZ_CHECK(m.level <= TG_LVL_TOP_SECRET || m.level == TG_LVL_NONE);
		FUZZ_CHECK(!(flags & TG_MK_ACCESS) || m.level != TG_LVL_NONE);
		FUZZ_CHECK((flags & TG_MK_ACCESS) || m.level == TG_LVL_NONE);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *slice[3] = { NULL, NULL, NULL };
	size_t len[3] = { 0, 0, 0 };
	char *s[3] = { NULL, NULL, NULL };
	uint8_t ctl;
	const struct tg_marking *dflt;
	struct tg_marking a, c;
	uint64_t rl = 0;
	int ra = 0, rc = 0, rr = 0;
	struct res r1, r2, ru, rlo;
	const uint8_t *p, *e;

	if (size < 1)
		return 0;
	ctl = data[0];
	p = data + 1;
	e = data + size;
	for (int i = 0; i < 3; i++) {
		const uint8_t *q = p;

		while (q < e && *q != 0xff)
			q++;
		slice[i] = p;
		len[i] = (size_t)(q - p);
		p = q < e ? q + 1 : e;
	}
	for (int i = 0; i < 3; i++)
		if (ctl & (1u << i))
			s[i] = (char *)fuzz_dup(slice[i], len[i]);
	{
		unsigned di = (ctl >> 3) & 7u;

		dflt = di < N_DEFAULTS ? &defaults[di] : NULL;
	}

	/* every parser on its own, on every slice */
	for (int i = 0; i < 3; i++) {
		char *d = (char *)fuzz_dup(slice[i], len[i]);
		struct tg_marking m;
		uint64_t mask = 0;

		check_parse_ex(d, len[i], TG_MK_ACCESS);
		check_parse_ex(d, len[i], 0);
		check_parse_ex(d, len[i], TG_MK_ACCESS | TG_MK_STRICT);
		check_parse_ex(d, len[i], TG_MK_STRICT);
		if (tg_rel_list_parse(d, len[i], &hdr, &mask) == 0)
			FUZZ_CHECK((mask & ~KNOWN_MASK) == 0);
		(void)tg_marking_parse(d, len[i], &hdr, &m);
		(void)tg_caveat_parse(d, len[i], &hdr, &m);
		free(d);
	}

	if (s[0])
		ra = tg_marking_parse(s[0], len[0], &hdr, &a);
	if (s[1])
		rc = tg_caveat_parse(s[1], len[1], &hdr, &c);
	if (s[2])
		rr = tg_rel_list_parse(s[2], len[2], &hdr, &rl);

	r1 = resolve(s[0], len[0], s[1], len[1], s[2], len[2], dflt);
	r2 = resolve(s[0], len[0], s[1], len[1], s[2], len[2], dflt);
	FUZZ_CHECK(same(&r1, &r2)); /* deterministic */

	/* fails iff a source is bad */
	FUZZ_CHECK((r1.rc < 0) == (ra < 0 || rc < 0 || rr < 0));
	if (r1.rc == 0) {
		FUZZ_CHECK((r1.m.rel_mask & ~KNOWN_MASK) == 0);
		if (r1.m.noforn)
			FUZZ_CHECK((r1.m.rel_mask & ~BIT(N_USA)) == 0);
		FUZZ_CHECK(r1.m.noforn == ((s[0] && a.noforn) || (s[1] && c.noforn)));
		/* lists only narrow */
		if (s[0] && a.has_rel)
			FUZZ_CHECK((r1.m.rel_mask & ~a.rel_mask) == 0);
		if (s[1] && c.has_rel)
			FUZZ_CHECK((r1.m.rel_mask & ~c.rel_mask) == 0);
		if (s[2])
			FUZZ_CHECK((r1.m.rel_mask & ~rl) == 0);
		/* level: the message's, else the default's, else none */
		if (s[0])
			FUZZ_CHECK(r1.m.level == a.level);
		else
			FUZZ_CHECK(r1.m.level == (dflt ? dflt->level : TG_LVL_NONE));
		/* no list in the message: the default's list, else nothing */
		if (!(s[0] && a.has_rel) && !(s[1] && c.has_rel) && !s[2]) {
			uint64_t want = dflt && dflt->has_rel ? dflt->rel_mask : 0;

			if (r1.m.noforn)
				want &= BIT(N_USA);
			FUZZ_CHECK(r1.m.rel_mask == want);
		} else {
			FUZZ_CHECK(r1.m.has_rel);
		}
	}

	/* case-insensitive */
	for (int i = 0; i < 3; i++)
		if (s[i])
			fold(s[i], len[i], 1);
	ru = resolve(s[0], len[0], s[1], len[1], s[2], len[2], dflt);
	FUZZ_CHECK(same(&r1, &ru));
	for (int i = 0; i < 3; i++)
		if (s[i])
			fold(s[i], len[i], 0);
	rlo = resolve(s[0], len[0], s[1], len[1], s[2], len[2], dflt);
	FUZZ_CHECK(same(&r1, &rlo));

	for (int i = 0; i < 3; i++)
		free(s[i]);
	return 0;
}
