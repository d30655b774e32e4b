/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_takproto.c - TAK Protocol Version 1 in the fast path: the decoder
 * (dataplane/takproto.c) against docs/release.md §2 rule by rule, with the
 * exact parse error of each refusal; the rest step (the detail text D);
 * the independent second check's reading of v1 (second_check.c); and the
 * XML conversion (cot_write.c), checked by parsing what it writes with the
 * XML parser and comparing every field, on thousands of generated events.
 *
 * Messages are built here with a protobuf writer of the test's own.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cot_names.h"
#include "cot_parse.h"
#include "cot_write.h"
#include "second_check.h"

/* ---- a protobuf writer ---- */

struct pbuf {
	uint8_t b[70000];
	size_t n;
};

static void
pv(struct pbuf *b, uint64_t v)
{
	do {
		uint8_t c = v & 0x7f;

		v >>= 7;
		if (v)
			c |= 0x80;
		b->b[b->n++] = c;
	} while (v);
}

static void
raw(struct pbuf *b, const void *p, size_t n)
{
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void
key(struct pbuf *b, unsigned f, unsigned wt)
{
	pv(b, ((uint64_t)f << 3) | wt);
}

static void
fbytes(struct pbuf *b, unsigned f, const void *p, size_t n)
{
	key(b, f, 2);
	pv(b, n);
	raw(b, p, n);
}

static void
fstr(struct pbuf *b, unsigned f, const char *s)
{
	fbytes(b, f, s, strlen(s));
}

static void
fvar(struct pbuf *b, unsigned f, uint64_t v)
{
	key(b, f, 0);
	pv(b, v);
}

static void
fdbl(struct pbuf *b, unsigned f, double d)
{
	key(b, f, 1);
	raw(b, &d, 8);
}

static void
fmsg(struct pbuf *b, unsigned f, const struct pbuf *m)
{
	fbytes(b, f, m->b, m->n);
}

#define T0 UINT64_C(1714564800000) /* 2024-05-01T12:00:00Z */

/* The event fields every valid test event has. */
static void
base_event(struct pbuf *e)
{
	e->n = 0;
	fstr(e, 1, "a-h-A-W-M-S-S");
	fstr(e, 5, "MW-TRK-0001");
	fvar(e, 6, T0);
	fvar(e, 7, T0);
	fvar(e, 8, T0 + 30000);
	fstr(e, 9, "m-r");
	fdbl(e, 10, 38.8976763);
	fdbl(e, 11, 127.0365181);
	fdbl(e, 12, 25000.0);
	fdbl(e, 13, 500.0);
	fdbl(e, 14, 800.0);
}

/* bf 01 bf + TakMessage{cotEvent = e} + extra TakMessage bytes */
static void
wrap(struct pbuf *m, const struct pbuf *e, const struct pbuf *extra)
{
	m->n = 0;
	raw(m, "\xbf\x01\xbf", 3);
	fmsg(m, 2, e);
	if (extra)
		raw(m, extra->b, extra->n);
}

static struct cot_event ev, ev2;
static struct pbuf E, M, D, S;

static enum cot_err
parse(const struct pbuf *m)
{
	/* An exact-size copy, so that ASan sees a read past the end. */
	uint8_t *c = malloc(m->n);
	enum cot_err e;

	memcpy(c, m->b, m->n);
	e = cot_parse(c, m->n, &ev);
	if (e == COT_OK) {
		/* the strings must not point into the copy after it is freed:
		 * keep M's bytes instead for the caller's checks */
		e = cot_parse(m->b, m->n, &ev);
	}
	free(c);
	return e;
}

static void
expect(enum cot_err want, const struct pbuf *m, int line)
{
	enum cot_err got = parse(m);

	if (got != want)
		fail_msg("line %d: got %s, want %s (err_off %u)", line, cot_err_name(got),
			 cot_err_name(want), ev.err_off);
	if (got != COT_OK)
		assert_true(ev.err_off <= m->n);
}
#define EXPECT(want, m) expect(want, m, __LINE__)

static bool
str_is(const struct cot_str *s, const char *v)
{
	return s->p != NULL && s->len == strlen(v) && memcmp(s->p, v, s->len) == 0;
}

/* ---- the header and the wire ---- */

static void
test_valid_minimal(void **state)
{
	(void)state;
	base_event(&E);
	wrap(&M, &E, NULL);
	EXPECT(COT_OK, &M);
	assert_int_equal(ev.encoding, COT_ENC_TAKV1);
	assert_true(str_is(&ev.uid, "MW-TRK-0001"));
	assert_true(str_is(&ev.type, "a-h-A-W-M-S-S"));
	assert_true(str_is(&ev.how, "m-r"));
	assert_true(str_is(&ev.version, "2.0"));
	assert_int_equal(ev.time_ms, (int64_t)T0);
	assert_int_equal(ev.stale_ms, (int64_t)T0 + 30000);
	assert_true(ev.lat == 38.8976763 && ev.lon == 127.0365181 && ev.hae == 25000.0);
	assert_null(ev.access.p);
	assert_false(ev.flags & (COT_F_HAS_ACCESS | COT_F_HAS_REL | COT_F_HAS_DETAIL));
	assert_null(ev.detail.p);
	/* hae absent is 0, not an error */
	E.n = 0;
	fstr(&E, 1, "t");
	fstr(&E, 5, "u");
	fstr(&E, 9, "h");
	wrap(&M, &E, NULL);
	EXPECT(COT_OK, &M);
	assert_true(ev.hae == 0.0 && ev.lat == 0.0 && ev.stale_ms == 0);
}

static void
test_headers(void **state)
{
	(void)state;
	M.n = 0;
	raw(&M, "\xbf\x01\xbf", 3);
	EXPECT(COT_E_MISSING, &M); /* an empty TakMessage */
	M.n = 0;
	raw(&M, "\xbf\x02\xbf", 3);
	base_event(&E);
	fmsg(&M, 2, &E);
	EXPECT(COT_E_TAK_VERSION, &M);
	M.n = 0;
	raw(&M, "\xbf\x81\x00\xbf", 4); /* version 1, over-long */
	fmsg(&M, 2, &E);
	EXPECT(COT_E_TAK_VERSION, &M);
	/* TAK streaming framing (0xbf + length) over UDP */
	M.n = 0;
	raw(&M, "\xbf", 1);
	pv(&M, E.n + 2);
	fmsg(&M, 2, &E);
	EXPECT(COT_E_TAK_VERSION, &M);
	/* XML behind the v1 header, and XML that starts with 0xbf */
	M.n = 0;
	raw(&M, "\xbf\x01\xbf<event/>", 11);
	EXPECT(COT_E_PROTOBUF, &M);
	M.n = 0;
	raw(&M, "\xbf<event/>", 9);
	EXPECT(COT_E_TAK_VERSION, &M);
}

static void
test_wire_faults(void **state)
{
	struct pbuf x;

	(void)state;
	base_event(&E);

	/* a truncated varint at the very end */
	wrap(&M, &E, NULL);
	raw(&M, "\x18\x80", 2); /* submissionTime = <continues> */
	EXPECT(COT_E_PROTOBUF, &M);
	/* a key cut short */
	wrap(&M, &E, NULL);
	raw(&M, "\x80", 1);
	EXPECT(COT_E_PROTOBUF, &M);
	/* 11 bytes of varint; a 10th byte of 2 (past 64 bits); 10 bytes ok */
	wrap(&M, &E, NULL);
	raw(&M, "\x18\xff\xff\xff\xff\xff\xff\xff\xff\xff\x80\x00", 12);
	EXPECT(COT_E_PROTOBUF, &M);
	wrap(&M, &E, NULL);
	raw(&M, "\x18\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 11);
	EXPECT(COT_E_PROTOBUF, &M);
	wrap(&M, &E, NULL);
	raw(&M, "\x18\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);
	EXPECT(COT_OK, &M);
	/* over-long but valid varints are read by value */
	wrap(&M, &E, NULL);
	raw(&M, "\x98\x00\x81\x80\x00", 5); /* key 0x18 over-long, value 1 */
	EXPECT(COT_OK, &M);
	/* a length past the end */
	M.n = 0;
	raw(&M, "\xbf\x01\xbf", 3);
	key(&M, 2, 2);
	pv(&M, E.n + 1);
	raw(&M, E.b, E.n);
	EXPECT(COT_E_PROTOBUF, &M);
	/* a nested length past its parent, inside the datagram */
	x = E;
	fstr(&x, 15, ""); /* placeholder, replaced below */
	x.n -= 2;
	key(&x, 15, 2);
	pv(&x, 10); /* detail claims 10 bytes, the event ends first */
	wrap(&M, &x, NULL);
	raw(&M, "\x18\x01\x18\x01\x18\x01\x18\x01\x18\x01", 10);
	EXPECT(COT_E_PROTOBUF, &M);
	/* groups, also in unknown fields; wire types 6 and 7; field 0 */
	for (unsigned wt = 3; wt <= 7; wt++) {
		if (wt == 5)
			continue;
		x = E;
		key(&x, 99, wt);
		wrap(&M, &x, NULL);
		EXPECT(COT_E_PROTOBUF, &M);
	}
	x = E;
	raw(&x, "\x02\x00", 2); /* field 0, LEN */
	wrap(&M, &x, NULL);
	EXPECT(COT_E_PROTOBUF, &M);
	/* a key of 2^32 or more */
	x = E;
	pv(&x, UINT64_C(1) << 32 | 2);
	pv(&x, 0);
	wrap(&M, &x, NULL);
	EXPECT(COT_E_PROTOBUF, &M);
	/* unknown fields of every usable wire type are skipped */
	x = E;
	fvar(&x, 99, 7);
	fdbl(&x, 98, 1.0);
	key(&x, 97, 5);
	raw(&x, "\x01\x02\x03\x04", 4);
	fstr(&x, 96, "\xff not even UTF-8");
	wrap(&M, &x, NULL);
	EXPECT(COT_OK, &M);
	/* deep nesting through groups never gets read */
	x = E;
	for (int i = 0; i < 1000; i++)
		key(&x, 50, 3);
	wrap(&M, &x, NULL);
	EXPECT(COT_E_PROTOBUF, &M);
}

static void
test_wire_types(void **state)
{
	struct pbuf x, t;

	(void)state;
	base_event(&E);
	/* a string as a varint, a double as a varint, a message as a varint */
	x = E;
	fvar(&x, 1, 5);
	wrap(&M, &x, NULL);
	EXPECT(COT_E_WIRE_TYPE, &M);
	x = E;
	fvar(&x, 10, 5);
	wrap(&M, &x, NULL);
	EXPECT(COT_E_WIRE_TYPE, &M);
	x = E;
	fvar(&x, 15, 5);
	wrap(&M, &x, NULL);
	EXPECT(COT_E_WIRE_TYPE, &M);
	x = E;
	fstr(&x, 6, "1714564800000"); /* a time as a string */
	wrap(&M, &x, NULL);
	EXPECT(COT_E_WIRE_TYPE, &M);
	/* 16 and 17: varint = legacy timestamp, LEN = marking, else refused */
	x = E;
	fvar(&x, 16, T0);
	fvar(&x, 17, T0);
	wrap(&M, &x, NULL);
	EXPECT(COT_OK, &M);
	assert_null(ev.caveat.p);
	assert_null(ev.releasable_to.p);
	x = E;
	fdbl(&x, 16, 1.0);
	wrap(&M, &x, NULL);
	EXPECT(COT_E_WIRE_TYPE, &M);
	x = E;
	key(&x, 17, 5);
	raw(&x, "\0\0\0\0", 4);
	wrap(&M, &x, NULL);
	EXPECT(COT_E_WIRE_TYPE, &M);
	x = E;
	fvar(&x, 16, T0); /* legacy timestamp and a caveat: one marking */
	fstr(&x, 16, "FOUO");
	wrap(&M, &x, NULL);
	EXPECT(COT_OK, &M);
	assert_true(str_is(&ev.caveat, "FOUO"));
	/* TakMessage 3/4 are varints */
	t.n = 0;
	fstr(&t, 3, "x");
	wrap(&M, &E, &t);
	EXPECT(COT_E_WIRE_TYPE, &M);
	t.n = 0;
	fvar(&t, 3, T0);
	fvar(&t, 4, T0);
	wrap(&M, &E, &t);
	EXPECT(COT_OK, &M);
	/* TakControl's numbers are uint32 */
	t.n = 0;
	S.n = 0;
	fvar(&S, 1, UINT64_C(1) << 32);
	fmsg(&t, 1, &S);
	wrap(&M, &E, &t);
	EXPECT(COT_E_RANGE, &M);
}

static void
test_repeats(void **state)
{
	struct pbuf x, t;

	(void)state;
	base_event(&E);
	/* a repeated marking field, whatever the values (empty included) */
	static const unsigned marks[] = {2, 16, 17};
	for (unsigned i = 0; i < 3; i++) {
		x = E;
		fstr(&x, marks[i], "SECRET");
		fstr(&x, marks[i], "SECRET");
		wrap(&M, &x, NULL);
		EXPECT(COT_E_DUP_MARKING, &M);
		x = E;
		fstr(&x, marks[i], "");
		fstr(&x, marks[i], "UNCLASSIFIED");
		wrap(&M, &x, NULL);
		EXPECT(COT_E_DUP_MARKING, &M);
	}
	/* a second cotEvent, spread markings across two: merged by protobuf,
	 * replaced by protobufjs */
	x.n = 0;
	fstr(&x, 2, "SECRET");
	wrap(&M, &E, NULL);
	fmsg(&M, 2, &x);
	EXPECT(COT_E_DUP_ELEM, &M);
	/* a second detail, contact, track */
	D.n = 0;
	fstr(&D, 1, "<remarks>a</remarks>");
	x = E;
	fmsg(&x, 15, &D);
	fmsg(&x, 15, &D);
	wrap(&M, &x, NULL);
	EXPECT(COT_E_DUP_ELEM, &M);
	for (unsigned f = 2; f <= 7; f++) {
		D.n = 0;
		S.n = 0;
		fmsg(&D, f, &S);
		fmsg(&D, f, &S);
		x = E;
		fmsg(&x, 15, &D);
		wrap(&M, &x, NULL);
		EXPECT(COT_E_DUP_ELEM, &M);
	}
	/* a second takControl */
	t.n = 0;
	S.n = 0;
	fmsg(&t, 1, &S);
	fmsg(&t, 1, &S);
	wrap(&M, &E, &t);
	EXPECT(COT_E_DUP_ELEM, &M);
	/* other scalars: the last one counts */
	x = E;
	fstr(&x, 5, "MW-LAST");
	fdbl(&x, 10, -12.5);
	fstr(&x, 3, "q1");
	fstr(&x, 3, "");
	wrap(&M, &x, NULL);
	EXPECT(COT_OK, &M);
	assert_true(str_is(&ev.uid, "MW-LAST"));
	assert_true(ev.lat == -12.5);
	assert_null(ev.qos.p);
	assert_false(ev.flags & COT_F_HAS_QOS);
	/* ... but each occurrence is checked as it is read */
	x = E;
	fdbl(&x, 10, NAN);
	fdbl(&x, 10, 1.0);
	wrap(&M, &x, NULL);
	EXPECT(COT_E_RANGE, &M);
	/* a later empty uid makes it absent */
	x = E;
	fstr(&x, 5, "");
	wrap(&M, &x, NULL);
	EXPECT(COT_E_MISSING, &M);
}

static void
test_values(void **state)
{
	struct pbuf x, t;
	char big[300];

	(void)state;
	base_event(&E);
	static const struct {
		unsigned f;
		double v;
	} bad[] = {{10, NAN}, {10, INFINITY}, {10, 90.0001}, {11, -180.5}, {11, -INFINITY},
		   {12, NAN}, {13, -1.0}, {14, -0.5}, {13, INFINITY}};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		x = E;
		fdbl(&x, bad[i].f, bad[i].v);
		wrap(&M, &x, NULL);
		EXPECT(COT_E_RANGE, &M);
	}
	x = E;
	fvar(&x, 8, UINT64_C(253402300799999) + 1);
	wrap(&M, &x, NULL);
	EXPECT(COT_E_RANGE, &M);
	x = E;
	fvar(&x, 8, UINT64_C(253402300799999));
	wrap(&M, &x, NULL);
	EXPECT(COT_OK, &M);
	/* strings: UTF-8 of XML characters, at most 256 bytes */
	static const char *const bad_strings[] = {"a\x01", "\xc0\x80", "\xed\xa0\x80",
						  "\xef\xbf\xbe", "a\xe2\x82", "\xf5\x80\x80\x80"};
	for (unsigned i = 0; i < sizeof(bad_strings) / sizeof(bad_strings[0]); i++) {
		x = E;
		fstr(&x, 5, bad_strings[i]);
		wrap(&M, &x, NULL);
		EXPECT(COT_E_MALFORMED, &M);
	}
	x = E;
	fstr(&x, 5, "tab\there \xe2\x82\xac \xf0\x9f\x9a\x80");
	wrap(&M, &x, NULL);
	EXPECT(COT_OK, &M);
	memset(big, 'x', sizeof(big));
	x = E;
	fbytes(&x, 2, big, 257);
	wrap(&M, &x, NULL);
	EXPECT(COT_E_FIELD_LIMIT, &M);
	x = E;
	fbytes(&x, 5, big, 256);
	wrap(&M, &x, NULL);
	EXPECT(COT_OK, &M);
	/* typed detail strings have the same bound; speed, course ranges */
	D.n = 0;
	S.n = 0;
	fbytes(&S, 2, big, 257);
	fmsg(&D, 2, &S);
	x = E;
	fmsg(&x, 15, &D);
	wrap(&M, &x, NULL);
	EXPECT(COT_E_FIELD_LIMIT, &M);
	D.n = 0;
	S.n = 0;
	fdbl(&S, 2, 360.5);
	fmsg(&D, 7, &S);
	x = E;
	fmsg(&x, 15, &D);
	wrap(&M, &x, NULL);
	EXPECT(COT_E_RANGE, &M);
	/* required strings */
	static const unsigned req[] = {1, 5, 9};
	for (unsigned i = 0; i < 3; i++) {
		x.n = 0;
		for (unsigned j = 0; j < 3; j++)
			if (j != i)
				fstr(&x, req[j], "v");
		wrap(&M, &x, NULL);
		EXPECT(COT_E_MISSING, &M);
	}
	/* a TakControl without an event is not track data; nothing at all is missing */
	M.n = 0;
	raw(&M, "\xbf\x01\xbf", 3);
	S.n = 0;
	fvar(&S, 1, 1);
	fvar(&S, 2, 1);
	fstr(&S, 3, "ANDROID-1");
	fmsg(&M, 1, &S);
	EXPECT(COT_E_TAK_CONTROL, &M);
	/* with an event, the event is decided */
	t.n = 0;
	fmsg(&t, 1, &S);
	wrap(&M, &E, &t);
	EXPECT(COT_OK, &M);
	assert_true(ev.tak.present & COT_TAK_CONTROL);
}

/* ---- the rest step: the detail text ---- */

static void
test_detail_text(void **state)
{
	struct pbuf x, c;
	struct cot_cursor cur;
	static const char xd[] = "<remarks>boost &amp; burn</remarks><__sensor id=\"s1\"/>";

	(void)state;
	base_event(&E);
	/* typed only: written after xmlDetail, escaped, in detail order */
	D.n = 0;
	fstr(&D, 1, xd);
	c.n = 0;
	fstr(&c, 1, "10.0.0.1:4242:tcp");
	fstr(&c, 2, "EAGLE \"1\" <&>\t");
	fmsg(&D, 2, &c);
	c.n = 0;
	fvar(&c, 1, 88);
	fmsg(&D, 5, &c);
	c.n = 0;
	fdbl(&c, 1, 0.1);
	fdbl(&c, 2, -0.0);
	fmsg(&D, 7, &c);
	c.n = 0;
	fstr(&c, 2, "HQ");
	fmsg(&D, 3, &c);
	x = E;
	fmsg(&x, 15, &D);
	wrap(&M, &x, NULL);
	EXPECT(COT_OK, &M);
	static const char want[] =
		"<remarks>boost &amp; burn</remarks><__sensor id=\"s1\"/>"
		"<contact endpoint=\"10.0.0.1:4242:tcp\" callsign=\"EAGLE &quot;1&quot; "
		"&lt;&amp;&gt;&#9;\"/><__group role=\"HQ\"/><status battery=\"88\"/>"
		"<track speed=\"0.1\" course=\"-0\"/>";
	assert_int_equal(ev.detail.len, sizeof(want) - 1);
	assert_memory_equal(ev.detail.p, want, sizeof(want) - 1);
	assert_true(str_is(&ev.callsign, "EAGLE \"1\" <&>\t"));
	assert_true(str_is(&ev.remarks, "boost & burn"));
	assert_true(ev.speed == 0.1 && ev.has_track);

	/* xmlDetail names contact and track: its copies win, the typed ones
	 * are left out, and D is xmlDetail where it lies in the payload */
	static const char xd2[] = "<contact callsign=\"FROM-XML\"/><track course=\"10\" speed=\"2\"/>";
	D.n = 0;
	fstr(&D, 1, xd2);
	c.n = 0;
	fstr(&c, 2, "TYPED");
	fmsg(&D, 2, &c);
	c.n = 0;
	fdbl(&c, 1, 99.0);
	fmsg(&D, 7, &c);
	x = E;
	fmsg(&x, 15, &D);
	wrap(&M, &x, NULL);
	EXPECT(COT_OK, &M);
	assert_true(str_is(&ev.callsign, "FROM-XML"));
	assert_true(ev.speed == 2.0);
	assert_true((const uint8_t *)ev.detail.p > M.b && (const uint8_t *)ev.detail.p < M.b + M.n);
	assert_int_equal(ev.detail.len, sizeof(xd2) - 1);

	/* a detail field with nothing in it: present, empty */
	D.n = 0;
	x = E;
	fmsg(&x, 15, &D);
	wrap(&M, &x, NULL);
	EXPECT(COT_OK, &M);
	assert_non_null(ev.detail.p);
	assert_int_equal(ev.detail.len, 0);
	assert_true(ev.flags & COT_F_HAS_DETAIL);

	/* xmlDetail is XML content of <detail>, under its rules */
	static const struct {
		const char *xml;
		enum cot_err err;
	} xcases[] = {
		{"<remarks>a</remarks></detail><x/>", COT_E_MALFORMED}, /* closes <detail> */
		{"<a>", COT_E_MALFORMED},
		{"<!DOCTYPE x>", COT_E_DOCTYPE},
		{"<?pi x?>", COT_E_MALFORMED},
		{"<contact/><contact/>", COT_E_DUP_ELEM},
		{"<remarks><b/></remarks>", COT_E_MALFORMED},
		{"<track course=\"400\"/>", COT_E_RANGE},
		{"text &bogus;", COT_E_MALFORMED},
		{"\xff", COT_E_MALFORMED},
		/* <event> 1, <detail> 2: 14 levels inside it reach depth 16 */
		{"<a><a><a><a><a><a><a><a><a><a><a><a><a><a><a></a></a></a></a"
		 "></a></a></a></a></a></a></a></a></a></a></a>", COT_E_DEPTH},
		{"<a><a><a><a><a><a><a><a><a><a><a><a><a><a></a></a></a></a></"
		 "a></a></a></a></a></a></a></a></a></a>", COT_OK},
		{"<![CDATA[<__sensor/>]]>text<!-- c -->", COT_OK},
	};
	for (unsigned i = 0; i < sizeof(xcases) / sizeof(xcases[0]); i++) {
		enum cot_err e;

		D.n = 0;
		fstr(&D, 1, xcases[i].xml);
		x = E;
		fmsg(&x, 15, &D);
		wrap(&M, &x, NULL);
		e = parse(&M);
		if (e != xcases[i].err)
			fail_msg("xmlDetail case %u: got %s, want %s", i, cot_err_name(e),
				 cot_err_name(xcases[i].err));
		/* the head never reads xmlDetail */
		assert_int_equal(cot_parse_head(M.b, M.n, &ev, &cur), COT_OK);
		assert_int_equal(cot_parse_rest(&cur), xcases[i].err);
		if (e != COT_OK)
			assert_true(ev.err_off <= M.n);
	}
	/* D longer than a field can be (65,535 bytes): escaping the typed
	 * strings (a '"' becomes 6 bytes) outgrows the message; 10 KiB less
	 * xmlDetail and it fits, every byte of it in D */
	for (int fits = 0; fits <= 1; fits++) {
		static char quotes[COT_MAX_FIELD], xmlpad[60001];
		struct pbuf s;

		memset(quotes, '"', sizeof(quotes));
		memset(xmlpad, 'x', sizeof(xmlpad) - 1);
		D.n = 0;
		fstr(&D, 1, xmlpad + (fits ? 10000 : 0));
		for (unsigned f = 2; f <= 6; f++) {
			if (f == 5)
				continue;
			s.n = 0;
			for (unsigned k = 1; k <= (f == 6 ? 4u : 2u); k++)
				fbytes(&s, k, quotes, sizeof(quotes));
			fmsg(&D, f, &s);
		}
		x = E;
		fmsg(&x, 15, &D);
		wrap(&M, &x, NULL);
		assert_true(M.n <= COT_MAX_MSG);
		EXPECT(fits ? COT_OK : COT_E_OVERSIZE, &M);
		if (fits) {
			assert_true(ev.detail.len > 60000 && ev.detail.len <= COT_MAX_MSG);
			assert_int_equal(ev.callsign.len, COT_MAX_FIELD);
		}
	}

	/* a typed contact next to an xmlDetail contact is one contact */
	D.n = 0;
	fstr(&D, 1, "<contact callsign=\"A\"/>");
	c.n = 0;
	fstr(&c, 2, "B");
	fmsg(&D, 2, &c);
	x = E;
	fmsg(&x, 15, &D);
	wrap(&M, &x, NULL);
	EXPECT(COT_OK, &M);
	assert_true(str_is(&ev.callsign, "A"));
}

/* ---- the second check ---- */

static struct tg_slot_hdr hdr;
static struct tg_peer peers[3];

static void
sc_setup(void)
{
	static const char *const nat[] = {"USA", "KOR", "JPN"};

	memset(&hdr, 0, sizeof(hdr));
	hdr.n_nations = 3;
	for (unsigned i = 0; i < 3; i++) {
		memcpy(hdr.nations[i], nat[i], 4);
		memset(&peers[i], 0, sizeof(peers[i]));
		peers[i].nation_idx = (uint8_t)i;
		peers[i].clearance = TG_LVL_SECRET;
	}
	hdr.n_groups = 1;
	snprintf(hdr.groups[0].name, sizeof(hdr.groups[0].name), "TRILAT");
	hdr.groups[0].mask = 7;
}

static uint32_t
sc_mask(const struct pbuf *m, bool *ok)
{
	uint8_t lvl = 0;
	uint64_t rel = 0;
	uint32_t allowed;

	*ok = sc_derive(m->b, m->n, &hdr, NULL, &lvl, &rel, &allowed);
	return *ok ? sc_peer_mask(peers, 3, lvl, rel, allowed) : 0;
}

static void
test_second_check_v1(void **state)
{
	struct pbuf x, t;
	bool ok;

	(void)state;
	sc_setup();
	base_event(&E);
	x = E;
	fstr(&x, 2, "SECRET//REL TO USA, KOR");
	wrap(&M, &x, NULL);
	assert_int_equal(sc_mask(&M, &ok), 3);
	x = E;
	fstr(&x, 2, "secret");
	fvar(&x, 16, T0); /* legacy timestamp: skipped */
	fstr(&x, 17, "TRILAT");
	fstr(&x, 16, "NOFORN");
	wrap(&M, &x, NULL);
	assert_int_equal(sc_mask(&M, &ok), 1);
	/* no marking: no level, nobody (no link default here) */
	wrap(&M, &E, NULL);
	assert_int_equal(sc_mask(&M, &ok), 0);
	assert_true(ok);
	/* cannot tell: two events, a repeated marking, a marking of another
	 * wire type, a broken field on the way, no event */
	x.n = 0;
	fstr(&x, 2, "SECRET");
	wrap(&M, &x, NULL);
	fmsg(&M, 2, &x);
	sc_mask(&M, &ok);
	assert_false(ok);
	x = E;
	fstr(&x, 2, "");
	fstr(&x, 2, "SECRET");
	wrap(&M, &x, NULL);
	sc_mask(&M, &ok);
	assert_false(ok);
	x = E;
	fdbl(&x, 16, 1.0);
	wrap(&M, &x, NULL);
	sc_mask(&M, &ok);
	assert_false(ok);
	t.n = 0;
	raw(&t, "\x1b", 1); /* field 3, a group */
	wrap(&M, &E, &t);
	sc_mask(&M, &ok);
	assert_false(ok);
	M.n = 0;
	raw(&M, "\xbf\x01\xbf", 3);
	sc_mask(&M, &ok);
	assert_false(ok);
}

/* ---- the XML conversion, read back by the XML parser ---- */

static unsigned rnd_state = 12345;

static unsigned
rnd(unsigned n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

static void
rnd_str(struct pbuf *b, unsigned f, unsigned maxlen)
{
	static const char *const pieces[] = {"A", "z", " ", "&", "<", ">", "\"", "'", "\t",
					     "\n", "\r", "\xc3\xa9", "\xe2\x82\xac", "//",
					     "REL TO USA, KOR", "SECRET", "]]>", "&amp;"};
	char s[512];
	size_t n = 0;
	unsigned k = rnd(6);

	for (unsigned i = 0; i < k; i++) {
		const char *p = pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))];

		if (n + strlen(p) > maxlen)
			break;
		memcpy(s + n, p, strlen(p));
		n += strlen(p);
	}
	if (n == 0)
		s[n++] = 'x';
	fbytes(b, f, s, n);
}

static double
rnd_dbl(double lo, double hi)
{
	static const double specials[] = {0.0, -0.0, 0.1, 1e-7, 123456789.123456789, 1e20,
					  5e-324, 38.8976763};
	double d = rnd(3) == 0 ? specials[rnd(8)] : lo + (hi - lo) * rnd(1000003) / 1000003.0;

	return d < lo ? lo : d > hi ? hi : d;
}

static bool
same(const struct cot_str *a, const struct cot_str *b)
{
	return (a->p == NULL) == (b->p == NULL) && a->len == b->len &&
	       (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static void
test_xml_conversion(void **state)
{
	static char xml[COT_MAX_MSG + 1];
	unsigned checked = 0;

	(void)state;
	for (unsigned it = 0; it < 5000; it++) {
		struct pbuf x, c;
		size_t n;
		enum cot_err e;

		x.n = 0;
		rnd_str(&x, 1, 64);
		rnd_str(&x, 5, 64);
		rnd_str(&x, 9, 16);
		if (rnd(2))
			rnd_str(&x, 2, 64);
		if (rnd(2))
			rnd_str(&x, 16, 64);
		if (rnd(2))
			rnd_str(&x, 17, 64);
		if (rnd(3) == 0)
			rnd_str(&x, 3, 16);
		if (rnd(3) == 0)
			rnd_str(&x, 4, 16);
		fvar(&x, 6, rnd(2) ? T0 + rnd(1000000) : UINT64_C(253402300799999));
		fvar(&x, 7, rnd(4) ? T0 : 0);
		fvar(&x, 8, T0 + 999);
		fdbl(&x, 10, rnd_dbl(-90, 90));
		fdbl(&x, 11, rnd_dbl(-180, 180));
		if (rnd(2))
			fdbl(&x, 12, rnd_dbl(-1e6, 1e6));
		fdbl(&x, 13, rnd_dbl(0, 1e7));
		fdbl(&x, 14, rnd_dbl(0, 1e7));
		if (rnd(4)) {
			D.n = 0;
			if (rnd(2))
				fstr(&D, 1, rnd(2) ? "<remarks>r &amp; <![CDATA[<x>]]></remarks>"
						   : "<link uid=\"u1\" relation=\"p-p\"/><__sensor a=\"&lt;\"/>");
			if (rnd(2)) {
				c.n = 0;
				rnd_str(&c, 1, 40);
				if (rnd(2))
					rnd_str(&c, 2, 40);
				fmsg(&D, 2, &c);
			}
			if (rnd(2)) {
				c.n = 0;
				rnd_str(&c, 1 + rnd(2), 40);
				fmsg(&D, 3 + rnd(2), &c);
			}
			if (rnd(2)) {
				c.n = 0;
				fvar(&c, 1, rnd(101));
				fmsg(&D, 5, &c);
			}
			if (rnd(2)) {
				c.n = 0;
				for (unsigned f = 1; f <= 4; f++)
					if (rnd(2))
						rnd_str(&c, f, 30);
				fmsg(&D, 6, &c);
			}
			if (rnd(2)) {
				c.n = 0;
				fdbl(&c, 1, rnd_dbl(0, 1e4));
				fdbl(&c, 2, rnd_dbl(0, 360));
				fmsg(&D, 7, &c);
			}
			fmsg(&x, 15, &D);
		}
		wrap(&M, &x, NULL);
		e = parse(&M);
		if (e != COT_OK)
			continue; /* a random string that the marking bound refused, say */
		n = cot_write_xml(&ev, xml, sizeof(xml));
		assert_true(n > 0);
		e = cot_parse((const uint8_t *)xml, n, &ev2);
		if (e != COT_OK)
			fail_msg("case %u: the conversion does not parse (%s at %u): %.*s", it,
				 cot_err_name(e), ev2.err_off, (int)n, xml);
		assert_int_equal(ev2.encoding, COT_ENC_XML);
		assert_true(same(&ev.uid, &ev2.uid) && same(&ev.type, &ev2.type) &&
			    same(&ev.how, &ev2.how));
		assert_true(same(&ev.access, &ev2.access) && same(&ev.caveat, &ev2.caveat) &&
			    same(&ev.releasable_to, &ev2.releasable_to));
		assert_true(same(&ev.qos, &ev2.qos) && same(&ev.opex, &ev2.opex));
		assert_true(ev.time_ms == ev2.time_ms && ev.start_ms == ev2.start_ms &&
			    ev.stale_ms == ev2.stale_ms);
		assert_true(ev.lat == ev2.lat && ev.lon == ev2.lon && ev.hae == ev2.hae &&
			    ev.ce == ev2.ce && ev.le == ev2.le);
		assert_true(signbit(ev.lat) == signbit(ev2.lat));
		assert_true(same(&ev.callsign, &ev2.callsign) && same(&ev.remarks, &ev2.remarks));
		assert_true(same(&ev.detail, &ev2.detail));
		assert_int_equal(ev.has_track, ev2.has_track);
		assert_true(ev.speed == ev2.speed && ev.course == ev2.course);
		assert_int_equal(ev.n_links, ev2.n_links);
		assert_int_equal(ev.flags & ~(uint32_t)COT_F_XML_DECL,
				 ev2.flags & ~(uint32_t)COT_F_XML_DECL);
		checked++;
	}
	assert_true(checked > 4000);
}

/* Numbers are written as %.15g, else %.17g (release.md §2): cot_write's
 * printf-free fast path must write exactly that, on every kind of double. */
static void
test_number_format(void **state)
{
	static char out[COT_TAK_TYPED_MAX];
	struct cot_tak t;
	uint64_t x = 88172645463325252ull;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.present = COT_TAK_TRACK;
	for (unsigned i = 0; i < 300000; i++) {
		char want[64], got[64];
		double d;
		size_t n;
		const char *q;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		switch (i % 5) {
		case 0: /* a decimal of 0..15 places, as coordinates are */
			d = (double)(int64_t)(x % 2000000000000ull) / pow(10, (double)(x % 16));
			break;
		case 1: /* any bits of a finite double */
			memcpy(&d, &x, sizeof(d));
			if (!isfinite(d))
				d = 1.0;
			break;
		case 2:
			d = (double)(x % 100000000000000000ull);
			break;
		case 3:
			d = (double)(x % 1000000) * 1e-4 + 1e-4 * (double)(x >> 60);
			break;
		default:
			d = ldexp((double)(x >> 11), (int)(x % 120) - 100);
			break;
		}
		t.speed = i & 1 ? -d : d;
		t.course = d;
		snprintf(want, sizeof(want), "%.15g", t.speed);
		if (strtod(want, NULL) != t.speed)
			snprintf(want, sizeof(want), "%.17g", t.speed);
		n = cot_write_typed(&t, 0, out);
		out[n] = '\0';
		q = strstr(out, "speed=\"") + 7;
		snprintf(got, sizeof(got), "%.*s", (int)(strchr(q, '"') - q), q);
		if (strcmp(got, want) != 0)
			fail_msg("%a: wrote %s, %%.15g/%%.17g says %s", t.speed, got, want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_minimal),  cmocka_unit_test(test_headers),
		cmocka_unit_test(test_wire_faults),    cmocka_unit_test(test_wire_types),
		cmocka_unit_test(test_repeats),        cmocka_unit_test(test_values),
		cmocka_unit_test(test_detail_text),    cmocka_unit_test(test_second_check_v1),
		cmocka_unit_test(test_xml_conversion), cmocka_unit_test(test_number_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
