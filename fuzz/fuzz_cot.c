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

static struct cot_event ev, ev2;
static struct cot_limits lim;

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
	return 0;
}
