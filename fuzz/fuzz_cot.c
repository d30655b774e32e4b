/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_cot.c - the CoT parser alone (dataplane/cot_parse.c).
 *
 * cot_parse() on the input; on COT_OK every returned string is read byte by
 * byte (it must lie inside the payload or the event's decode buffer) and the
 * documented bounds of docs/release.md §2 are checked.  On an error, err_off
 * must lie inside the payload, and uid and type must be this input's or
 * absent (the error contract of cot_parse.h, which the audit log relies on).
 *
 * release.md §1: a payload is a CoT event or the same preceded by the TAK v0
 * header 0xbf 0x00 0xbf.  So every input not starting with 0xbf is parsed a
 * second time with the header in front: same result, same fields.
 *
 * The operator's limits (policy settings max_field_bytes, max_remarks_bytes)
 * are picked by the input's length from four pairs, the defaults among them;
 * the bounds checked are those limits, and what parses under them parses
 * under the hard maxima too, with the same fields.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "cot_parse.h"
#include "fuzz_common.h"
#include "sanitize.h"
#include "sanitize_check.h"
#include "second_check.h"

static struct cot_event ev, ev2;
static struct cot_limits lim;

/*
 * Sanitized copies (release.md §6, §7) of every event that parses: under a
 * step set the input's length picks, the copy is written (unless it would
 * be over a datagram), holds no dropped name as a tag, parses again, and
 * the second check (sanitize_check.c, its own reader) confirms it whenever
 * it can read the original's marking.  Writer and checker are two
 * implementations of one spec: any disagreement is a bug in one of them.
 */
static enum cot_err parse(const uint8_t *p, size_t n, const struct cot_limits *l,
			  struct cot_event *e);
static int str_eq(const struct cot_str *a, const struct cot_str *b);
static struct tg_slot_hdr shdr;
static struct tg_peer speers[3];
static uint8_t sscratch[SCS_SCRATCH];
static char sdetail[65536], scopy[65536];

static void
sanitize_setup(void)
{
	static const char *const drop[] = {"__sensor", "link", "contact", "a", "takv"};
	struct tg_sanitize *e;

	if (shdr.n_sanitize)
		return;
	strcpy(shdr.nations[0], "USA");
	strcpy(shdr.nations[1], "KOR");
	strcpy(shdr.nations[2], "JPN");
	shdr.n_nations = 3;
	shdr.n_peers = 3;
	for (unsigned i = 0; i < 3; i++) {
		speers[i].nation_idx = (uint8_t)i;
		speers[i].clearance = TG_LVL_TOP_SECRET;
		speers[i].index = (uint8_t)i;
	}
	e = &shdr.sanitize[0];
	e->decimals = TG_SAN_NO_COARSEN;
	for (unsigned i = 0; i < 5; i++)
		strcpy(e->elems[e->n_elems++], drop[i]);
	strcpy(e->attrs[0][0], "b");
	strcpy(e->attrs[0][1], "c");
	strcpy(e->attrs[1][0], "track");
	strcpy(e->attrs[1][1], "speed");
	e->n_attrs = 2;
	e->drop_remarks = 1;
	e = &shdr.sanitize[1];
	e->decimals = 2;
	e->min_ce = 100;
	shdr.n_sanitize = 2;
}

static bool
has_tag(const char *s, size_t n, const char *name)
{
	size_t k = strlen(name);

	for (const char *p = s; (p = memchr(p, '<', (size_t)(s + n - p))) != NULL; p++)
		if ((size_t)(s + n - p) > k + 1 && memcmp(p + 1, name, k) == 0 &&
		    strchr(" \t\r\n/>", p[1 + k]) && p[1 + k])
			return true;
	return false;
}

static void
sanitize_property(const uint8_t *data, size_t size)
{
	static const struct cot_limits hard = {COT_FIELD_LIMIT_MAX, COT_REMARKS_LIMIT_MAX};
	uint16_t entries = (uint16_t)(1 + size % 3);
	struct san_steps st;
	size_t n;
	uint8_t lvl;
	uint64_t rel;
	uint32_t allowed;
	bool v1 = ev.encoding == COT_ENC_TAKV1;

	sanitize_setup();
	san_combine(&shdr, entries, &st);
	n = san_write(&ev, &st, v1, sdetail, sizeof(sdetail), scopy, 65507);
	if (n == 0) {
		/* escaping may grow text fourfold: only then may it not fit */
		FUZZ_CHECK(size > 65507 / 5);
		return;
	}
	if (!v1) {
		for (unsigned i = 0; i < st.n_elems; i++)
			FUZZ_CHECK(!has_tag(scopy, n, st.elems[i]));
		FUZZ_CHECK(!(st.drop_remarks && has_tag(scopy, n, "remarks")));
	}
	FUZZ_CHECK(parse((const uint8_t *)scopy, n, &hard, &ev2) == COT_OK);
	FUZZ_CHECK(str_eq(&ev.uid, &ev2.uid) && str_eq(&ev.type, &ev2.type));
	if (!sc_derive(data, size, &shdr, NULL, &lvl, &rel, &allowed))
		return; /* a marking the second check cannot read: never released */
	{
		enum scs_result r = sc_check_copy(data, size, (const uint8_t *)scopy, n, &shdr,
						  speers, NULL, entries, 0, ~0u, sscratch);

		if (r != SCS_OK)
			fprintf(stderr, "sanitize_check: %s\n", scs_name(r));
		FUZZ_CHECK(r == SCS_OK);
	}
}

/* cot_parse() under `lim` */
static enum cot_err
parse(const uint8_t *p, size_t n, const struct cot_limits *l, struct cot_event *e)
{
	struct cot_cursor cur;
	enum cot_err err = cot_parse_head_lim(p, n, l, e, &cur);

	return err != COT_OK ? err : cot_parse_rest(&cur);
}

static void
check_str(const struct cot_str *s, const uint8_t *p, size_t n, size_t max, int required)
{
	const char *cp = (const char *)p;

	if (s->p == NULL) {
		FUZZ_CHECK(s->len == 0);
		FUZZ_CHECK(!required);
		return;
	}
	FUZZ_CHECK(!required || s->len > 0);
	FUZZ_CHECK(s->len <= max);
	/* inside the payload, or inside the used part of the decode buffer */
	if (s->p >= cp && s->p <= cp + n) {
		FUZZ_CHECK((size_t)(s->p - cp) + s->len <= n);
	} else {
		FUZZ_CHECK(s->p >= ev.buf && s->p <= ev.buf + COT_DECODE_BUF);
		FUZZ_CHECK((size_t)(s->p - ev.buf) + s->len <= ev.buf_used);
	}
	fuzz_touch(s->p, s->len);
}

static int
str_eq(const struct cot_str *a, const struct cot_str *b)
{
	return (a->p == NULL) == (b->p == NULL) && a->len == b->len &&
	       (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

/* The same input behind a TAK v0 header parses the same. */
static void
check_tak_equivalence(const uint8_t *data, size_t size, enum cot_err e)
{
	uint8_t *t;
	enum cot_err e2;

	if (size == 0 || data[0] == 0xbf || size + 3 > COT_MAX_MSG)
		return;
	t = malloc(size + 3);
	if (t == NULL)
		abort();
	t[0] = 0xbf;
	t[1] = 0x00;
	t[2] = 0xbf;
	memcpy(t + 3, data, size);
	e2 = parse(t, size + 3, &lim, &ev2);
	if (e2 != e) {
		fprintf(stderr, "cot_parse: %s without the TAK v0 header, %s with it\n",
			cot_err_name(e), cot_err_name(e2));
		abort();
	}
	if (e == COT_OK) {
		FUZZ_CHECK(ev2.flags == (ev.flags | COT_F_TAK_HDR));
		FUZZ_CHECK(str_eq(&ev.uid, &ev2.uid) && str_eq(&ev.type, &ev2.type) &&
			   str_eq(&ev.how, &ev2.how) && str_eq(&ev.access, &ev2.access) &&
			   str_eq(&ev.caveat, &ev2.caveat) &&
			   str_eq(&ev.releasable_to, &ev2.releasable_to) &&
			   str_eq(&ev.callsign, &ev2.callsign) && str_eq(&ev.remarks, &ev2.remarks) &&
			   str_eq(&ev.detail, &ev2.detail));
		FUZZ_CHECK(ev.time_ms == ev2.time_ms && ev.start_ms == ev2.start_ms &&
			   ev.stale_ms == ev2.stale_ms);
		FUZZ_CHECK(memcmp(&ev.lat, &ev2.lat, sizeof(double)) == 0 &&
			   memcmp(&ev.lon, &ev2.lon, sizeof(double)) == 0);
	} else {
		FUZZ_CHECK(ev2.err_off == ev.err_off + 3);
	}
	free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum cot_err e;

	/* TAK Protocol v1 has its own target and properties (fuzz_takproto.c) */
	if (cot_encoding_of(data, size) == COT_ENC_TAKV1)
		return 0;
	{
		static const struct cot_limits pick[] = {
			{COT_MAX_FIELD, COT_MAX_REMARKS},
			{COT_FIELD_LIMIT_MIN, 0},
			{COT_FIELD_LIMIT_MAX, COT_REMARKS_LIMIT_MAX},
			{300, 100},
		};

		lim = pick[size & 3];
	}
	e = parse(data, size, &lim, &ev);
	check_tak_equivalence(data, size, e);
	if (e == COT_OK && (lim.field < COT_FIELD_LIMIT_MAX || lim.remarks < COT_REMARKS_LIMIT_MAX)) {
		/* raising a limit never refuses what a lower one accepts */
		static const struct cot_limits hard = {COT_FIELD_LIMIT_MAX, COT_REMARKS_LIMIT_MAX};

		FUZZ_CHECK(parse(data, size, &hard, &ev2) == COT_OK);
		FUZZ_CHECK(str_eq(&ev.uid, &ev2.uid) && str_eq(&ev.remarks, &ev2.remarks) &&
			   str_eq(&ev.callsign, &ev2.callsign) && str_eq(&ev.access, &ev2.access));
	}

	FUZZ_CHECK((unsigned)e < COT_E_COUNT);
	FUZZ_CHECK(cot_err_name(e) != NULL);
	if (e != COT_OK) {
		/* cot_parse.h: err_off is set, and uid/type are this input's or
		 * absent; a value left from the previous input would point into
		 * its freed copy, outside this one and outside the buffer */
		FUZZ_CHECK(size > COT_MAX_MSG ? ev.err_off == COT_MAX_MSG : ev.err_off <= size);
		check_str(&ev.uid, data, size, lim.field, 0);
		check_str(&ev.type, data, size, lim.field, 0);
		return 0;
	}
	FUZZ_CHECK(size <= COT_MAX_MSG);
	FUZZ_CHECK(ev.buf_used <= COT_DECODE_BUF);

	check_str(&ev.version, data, size, lim.field, 1);
	check_str(&ev.uid, data, size, lim.field, 1);
	check_str(&ev.type, data, size, lim.field, 1);
	check_str(&ev.how, data, size, lim.field, 1);
	check_str(&ev.access, data, size, lim.field, 0);
	check_str(&ev.qos, data, size, lim.field, 0);
	check_str(&ev.opex, data, size, lim.field, 0);
	check_str(&ev.caveat, data, size, lim.field, 0);
	check_str(&ev.releasable_to, data, size, lim.field, 0);
	check_str(&ev.callsign, data, size, lim.field, 0);
	check_str(&ev.remarks, data, size, lim.remarks, 0);
	/* the raw <detail> bytes are never decoded: always inside the payload */
	if (ev.detail.p != NULL)
		FUZZ_CHECK(ev.detail.p >= (const char *)data &&
			   ev.detail.p + ev.detail.len <= (const char *)data + size);
	check_str(&ev.detail, data, size, COT_MAX_MSG, 0);

	FUZZ_CHECK(ev.n_links <= COT_MAX_LINKS);
	for (unsigned i = 0; i < ev.n_links; i++) {
		check_str(&ev.link[i].uid, data, size, lim.field, 0);
		check_str(&ev.link[i].relation, data, size, lim.field, 0);
		check_str(&ev.link[i].type, data, size, lim.field, 0);
	}

	/* flags agree with the strings they announce */
	FUZZ_CHECK(!!(ev.flags & COT_F_HAS_ACCESS) == (ev.access.p != NULL));
	FUZZ_CHECK(!!(ev.flags & COT_F_HAS_CAVEAT) == (ev.caveat.p != NULL));
	FUZZ_CHECK(!!(ev.flags & COT_F_HAS_REL) == (ev.releasable_to.p != NULL));
	FUZZ_CHECK(!(ev.flags & COT_F_HAS_CALLSIGN) || ev.callsign.p != NULL);

	/* ranges (release.md §2) */
	FUZZ_CHECK(isfinite(ev.lat) && isfinite(ev.lon) && isfinite(ev.hae) && isfinite(ev.ce) &&
		   isfinite(ev.le));
	FUZZ_CHECK(ev.lat >= -90.0 && ev.lat <= 90.0);
	FUZZ_CHECK(ev.lon >= -180.0 && ev.lon <= 180.0);
	FUZZ_CHECK(ev.ce >= 0.0 && ev.le >= 0.0);
	if (ev.flags & COT_F_HAS_TRACK) {
		FUZZ_CHECK(isfinite(ev.course) && isfinite(ev.speed) && isfinite(ev.slope));
		FUZZ_CHECK(ev.course >= 0.0 && ev.course <= 360.0 && ev.speed >= 0.0);
	} else {
		FUZZ_CHECK(!(ev.flags & (COT_F_HAS_COURSE | COT_F_HAS_SPEED | COT_F_HAS_SLOPE)));
	}
	/* an attribute absent reads as 0 (cot_parse.h) */
	FUZZ_CHECK((ev.flags & COT_F_HAS_COURSE) || ev.course == 0.0);
	FUZZ_CHECK((ev.flags & COT_F_HAS_SPEED) || ev.speed == 0.0);
	FUZZ_CHECK((ev.flags & COT_F_HAS_SLOPE) || ev.slope == 0.0);
	if (ev.flags & COT_F_TAK_HDR)
		FUZZ_CHECK(size >= 3 && data[0] == 0xbf && data[1] == 0x00 && data[2] == 0xbf);
	sanitize_property(data, size);
	return 0;
}
