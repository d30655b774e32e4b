/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_cot_parse.c - unit tests of the CoT event parser (dataplane/cot_parse.c):
 * valid events, every error code on hostile input, every truncation and many
 * single-byte mutations of a valid event, and the sample files in
 * tests/data/cot (valid-*.xml must parse, bad-<err>-*.xml must fail with <err>).
 *
 * Payloads are copied into exactly-sized heap blocks so that valgrind or ASan
 * see any read past the end.
 */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dataplane/cot_parse.h"

#ifndef COT_DATA_DIR
#error "COT_DATA_DIR must name tests/data/cot"
#endif

#define T3 "time=\"2024-05-01T12:00:00.000Z\" start=\"2024-05-01T12:00:00.000Z\" " \
	   "stale=\"2024-05-01T12:00:30.000Z\""
#define T0_MS INT64_C(1714564800000) /* 2024-05-01T12:00:00Z */
#define HDR(extra) "<event version=\"2.0\" uid=\"MW-TRK-0001\" type=\"a-h-A-W-M-S-S\" " \
		   "how=\"m-r\" " T3 extra ">"
#define POINT "<point lat=\"38.8976763\" lon=\"127.0365181\" hae=\"25000.0\" ce=\"500.0\" le=\"800.0\"/>"
#define EV(extra, body) HDR(extra) POINT body "</event>"

static const char missile_warning[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	HDR(" access=\"SECRET//REL TO USA, KOR\" releasableTo=\"USA KOR\"") POINT
	"<detail>\n"
	"  <track course=\"135.5\" speed=\"1700.0\" slope=\"-12.5\"/>\n"
	"  <contact callsign=\"TRACK-1\"/>\n"
	"  <remarks>Ballistic track, &lt;SRBM&gt; class &amp; rising</remarks>\n"
	"</detail></event>";

static const char impact_point[] =
	"<event version=\"2.0\" uid=\"MW-IP-0001\" type=\"b-d-i\" how=\"m-p\" " T3 ">"
	"<point lat=\"35.1796\" lon=\"129.0756\" hae=\"0.0\" ce=\"15000\" le=\"9999999\"/>"
	"<detail><link uid=\"MW-TRK-0001\" relation=\"p-p\" type=\"a-h-A-W-M-S-S\"/>"
	"<link uid=\"MW-LP-0001\" relation=\"p-p\" type=\"b-d-l\"/>"
	"<remarks>Predicted impact</remarks></detail></event>";

static struct cot_event ev;

/* Parse a copy of buf in a block of exactly len bytes. */
static enum cot_err
parse_n(const void *buf, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	enum cot_err err;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	err = cot_parse(copy, len, &ev);
	free(copy);
	return err;
}

static enum cot_err
parse_s(const char *s)
{
	return parse_n(s, strlen(s));
}

/* Parse in place (strings in ev stay valid while s lives). */
static enum cot_err
parse_keep(const char *s)
{
	return cot_parse((const uint8_t *)s, strlen(s), &ev);
}

#define assert_err(expr, code)                                                                     \
	do {                                                                                       \
		enum cot_err got_ = (expr);                                                        \
		if (got_ != (code))                                                                \
			fail_msg("%s: got %s, want %s (err_off %u)", #expr, cot_err_name(got_),    \
				 cot_err_name(code), (unsigned)ev.err_off);                        \
	} while (0)

static void
assert_str(struct cot_str s, const char *want)
{
	size_t n = strlen(want);

	assert_non_null(s.p);
	if (s.len != n || memcmp(s.p, want, n) != 0)
		fail_msg("got \"%.*s\" (%u), want \"%s\"", (int)s.len, s.p, (unsigned)s.len, want);
}

static int
in_range(const char *p, size_t n, const void *base, size_t len)
{
	const char *b = base;

	return p >= b && p + n <= b + len;
}

/* Every string of an accepted event lies inside the payload or the decode buffer. */
static void
assert_strings_bounded(const uint8_t *payload, size_t len)
{
	const struct cot_str *all[] = {
		&ev.version, &ev.uid,    &ev.type,     &ev.how,    &ev.access,   &ev.qos,
		&ev.opex,    &ev.caveat, &ev.releasable_to, &ev.detail, &ev.callsign, &ev.remarks,
	};

	assert_true(ev.buf_used <= COT_DECODE_BUF);
	assert_true(ev.n_links <= COT_MAX_LINKS);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (all[i]->p == NULL) {
			assert_int_equal(all[i]->len, 0);
			continue;
		}
		assert_true(in_range(all[i]->p, all[i]->len, payload, len) ||
			    in_range(all[i]->p, all[i]->len, ev.buf, ev.buf_used));
	}
}

static void
test_missile_warning(void **state)
{
	assert_err(parse_keep(missile_warning), COT_OK);
	assert_str(ev.version, "2.0");
	assert_str(ev.uid, "MW-TRK-0001");
	assert_str(ev.type, "a-h-A-W-M-S-S");
	assert_str(ev.how, "m-r");
	assert_str(ev.access, "SECRET//REL TO USA, KOR");
	assert_str(ev.releasable_to, "USA KOR");
	assert_null(ev.caveat.p);
	assert_int_equal(ev.time_ms, T0_MS);
	assert_int_equal(ev.start_ms, T0_MS);
	assert_int_equal(ev.stale_ms, T0_MS + 30000);
	assert_true(ev.lat == 38.8976763);
	assert_true(ev.lon == 127.0365181);
	assert_true(ev.hae == 25000.0);
	assert_true(ev.ce == 500.0);
	assert_true(ev.le == 800.0);
	assert_int_equal(ev.has_track, 1);
	assert_true(ev.course == 135.5);
	assert_true(ev.speed == 1700.0);
	assert_true(ev.slope == -12.5);
	assert_int_equal(ev.flags & (COT_F_HAS_COURSE | COT_F_HAS_SPEED),
			 COT_F_HAS_COURSE | COT_F_HAS_SPEED);
	assert_str(ev.callsign, "TRACK-1");
	assert_str(ev.remarks, "Ballistic track, <SRBM> class & rising");
	assert_int_equal(ev.n_links, 0);
	assert_int_equal(ev.flags & (COT_F_HAS_ACCESS | COT_F_HAS_REL | COT_F_HAS_DETAIL |
				     COT_F_HAS_TRACK | COT_F_HAS_SLOPE | COT_F_HAS_CONTACT |
				     COT_F_HAS_CALLSIGN | COT_F_HAS_REMARKS | COT_F_XML_DECL),
			 COT_F_HAS_ACCESS | COT_F_HAS_REL | COT_F_HAS_DETAIL | COT_F_HAS_TRACK |
				 COT_F_HAS_SLOPE | COT_F_HAS_CONTACT | COT_F_HAS_CALLSIGN |
				 COT_F_HAS_REMARKS | COT_F_XML_DECL);
	assert_int_equal(ev.flags & (COT_F_HAS_CAVEAT | COT_F_HAS_QOS | COT_F_TAK_HDR), 0);
	/* detail is the raw text between the tags, entities not decoded */
	assert_true(ev.detail.len > 20);
	assert_memory_equal(ev.detail.p, "\n  <track", 9);
	assert_memory_equal(ev.detail.p + ev.detail.len - 11, "</remarks>\n", 11);
	/* strings without entities are zero-copy; the remarks were decoded */
	assert_true(in_range(ev.uid.p, ev.uid.len, missile_warning, sizeof(missile_warning)));
	assert_true(in_range(ev.remarks.p, ev.remarks.len, ev.buf, ev.buf_used));
}

static void
test_launch_and_impact(void **state)
{
	static const char launch[] =
		"<event version=\"2.0\" uid=\"MW-LP-0001\" type=\"b-d-l\" how=\"m-p\" " T3 ">"
		"<point lat=\"39.0392\" lon=\"125.7625\" hae=\"0\" ce=\"2500\" le=\"9999999.0\"/>"
		"<detail><link uid=\"MW-TRK-0001\" relation=\"p-p\" type=\"a-h-A-W-M-S-S\"/>"
		"</detail></event>";

	assert_err(parse_keep(launch), COT_OK);
	assert_str(ev.type, "b-d-l");
	assert_str(ev.how, "m-p");
	assert_int_equal(ev.n_links, 1);
	assert_str(ev.link[0].uid, "MW-TRK-0001");
	assert_str(ev.link[0].relation, "p-p");
	assert_str(ev.link[0].type, "a-h-A-W-M-S-S");
	assert_int_equal(ev.has_track, 0);
	assert_null(ev.remarks.p);

	assert_err(parse_keep(impact_point), COT_OK);
	assert_str(ev.type, "b-d-i");
	assert_int_equal(ev.n_links, 2);
	assert_str(ev.link[1].uid, "MW-LP-0001");
	assert_str(ev.link[1].type, "b-d-l");
	assert_str(ev.remarks, "Predicted impact");
	assert_true(ev.le == 9999999.0);
	assert_true(ev.ce == 15000.0);
}

static void
test_entities_cdata_comments(void **state)
{
	static const char doc[] =
		"<!-- prolog -->\n" EV(" opex=\"e&amp;x\" caveat=\"REL TO USA,&#x20;KOR\"",
				       "<detail><remarks source=\"ops\">EXERCISE <![CDATA[<raw> & ]]]]>"
				       "<!-- hidden --> &#65;&#x42;&#x1F600;&quot;&apos;&gt; caf\xc3\xa9"
				       "</remarks></detail>")
		"\n<!-- trailer -->\n";

	assert_err(parse_keep(doc), COT_OK);
	assert_str(ev.opex, "e&x");
	assert_str(ev.caveat, "REL TO USA, KOR");
	assert_str(ev.remarks, "EXERCISE <raw> & ]] AB\xf0\x9f\x98\x80\"'> caf\xc3\xa9");
	assert_true(ev.flags & COT_F_HAS_CAVEAT);
	assert_true(ev.flags & COT_F_HAS_OPEX);
}

/* The bytes decoding produced in <remarks>, as a string of distinct bytes. */
static void
assert_produced(const char *want)
{
	for (unsigned c = 0; c < 256; c++) {
		bool got = ev.remarks_dec.produced[c >> 6] >> (c & 63) & 1;
		bool in = c != 0 && strchr(want, (int)c) != NULL;

		if (got != in)
			fail_msg("remarks_produced: byte 0x%02x %s", c, got ? "unexpected" : "missing");
	}
}

/* What the scan prefilter relies on (tg_maps.h pf_match_bytes): which
 * bytes of decoded remarks are not payload bytes, and whether payload runs
 * were joined across removed markup. */
static void
test_remarks_decoding_report(void **state)
{
	static const struct {
		const char *remarks, *decoded, *produced;
		bool joined;
	} cases[] = {
		{"plain text", "plain text", "", false},
		{"<![CDATA[only cdata]]>", "only cdata", "", false},
		{"a &amp; b", "a & b", "&", false},
		{"&lt;x&gt;", "<x>", "<>", false},
		{"&#65;BC", "ABC", "A", false},
		{"l1\r\nl2\rl3", "l1\nl2\nl3", "\n", false},
		{"SEC<!-- x -->RET", "SECRET", "", true},
		{"SEC<![CDATA[RET]]>", "SECRET", "", true},
		{"SEC<![CDATA[]]>RET", "SECRET", "", true},
		{"<![CDATA[a]]><![CDATA[b]]>", "ab", "", true},
		{"SEC&amp;<!-- x -->RET", "SEC&RET", "&", false},
		{"SEC<!-- x -->&amp;RET", "SEC&RET", "&", false},
		{"&amp;SEC<!-- x -->RET", "&SECRET", "&", true},
		{"a&amp;b<![CDATA[c]]>", "a&bc", "&", true},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char doc[512];

		snprintf(doc, sizeof(doc), EV("", "<detail><remarks>%s</remarks></detail>"),
			 cases[i].remarks);
		assert_err(parse_keep(doc), COT_OK);
		assert_str(ev.remarks, cases[i].decoded);
		assert_produced(cases[i].produced);
		if (ev.remarks_dec.joined != cases[i].joined)
			fail_msg("%s: joined %u, want %u", cases[i].remarks, ev.remarks_dec.joined,
				 cases[i].joined);
	}
}

static void
test_whitespace_normalisation(void **state)
{
	static const char doc[] =
		"<event\r\n version = '2.0'\tuid=\"a\r\nb\tc\" type='t' how='h'\n" T3 ">\r\n"
		POINT "<detail><remarks>l1\r\nl2\rl3\n</remarks></detail>\n</event >";

	assert_err(parse_keep(doc), COT_OK);
	assert_str(ev.uid, "a b c");
	assert_str(ev.remarks, "l1\nl2\nl3\n");
}

static void
test_quotes_order_decl(void **state)
{
	static const char doc[] =
		"<?xml version='1.0' encoding='utf-8'?>"
		"<event stale='2024-05-01T12:00:30Z' how=\"m-r\" uid='X-1' type='a-h-A-W-M-S-S' "
		"time='2024-05-01T12:00:00Z' version='2.0' start='2024-05-01T12:00:00Z'>\n"
		"  <point le='1' ce=\"2\" hae='-10.5' lon='-180' lat='-90'/>\n"
		"<detail/></event>";

	assert_err(parse_keep(doc), COT_OK);
	assert_str(ev.uid, "X-1");
	assert_true(ev.lat == -90.0);
	assert_true(ev.lon == -180.0);
	assert_true(ev.hae == -10.5);
	assert_int_equal(ev.time_ms, T0_MS);
	assert_true(ev.flags & COT_F_HAS_DETAIL);
	assert_true(ev.flags & COT_F_XML_DECL);
	assert_int_equal(ev.detail.len, 0);
	assert_non_null(ev.detail.p);
	/* quotes of the other kind inside a value are plain characters */
	assert_err(parse_keep(EV(" opex='say \"hi\"' qos=\"it's\"", "")), COT_OK);
	assert_str(ev.opex, "say \"hi\"");
	assert_str(ev.qos, "it's");
}

static void
test_releasability(void **state)
{
	assert_err(parse_s(EV(" releasableTo=\"USA KOR\"", "")), COT_OK);
	assert_true(ev.flags & COT_F_HAS_REL);
	assert_err(parse_keep(EV(" releaseableTo=\"USA,JPN\"", "")), COT_OK);
	assert_str(ev.releasable_to, "USA,JPN");
	assert_true(ev.flags & COT_F_HAS_REL);
	assert_err(parse_keep(EV(" releasableTo=\"USA JPN\" releaseableTo=\"USA JPN\"", "")), COT_OK);
	assert_str(ev.releasable_to, "USA JPN");
	assert_true(ev.flags & COT_F_REL_BOTH);
	/* same after decoding is the same value */
	assert_err(parse_s(EV(" releasableTo=\"USA&#32;JPN\" releaseableTo=\"USA JPN\"", "")), COT_OK);
	assert_err(parse_s(EV(" releasableTo=\"USA KOR\" releaseableTo=\"USA JPN\"", "")),
		   COT_E_REL_CONFLICT);
	assert_err(parse_s(EV(" releasableTo=\"\" releaseableTo=\"USA\"", "")), COT_E_REL_CONFLICT);
	/* present but empty is not absent */
	assert_err(parse_keep(EV(" releasableTo=\"\" access=\"\"", "")), COT_OK);
	assert_true(ev.flags & COT_F_HAS_REL);
	assert_true(ev.flags & COT_F_HAS_ACCESS);
	assert_non_null(ev.access.p);
	assert_int_equal(ev.access.len, 0);
}

static void
test_tak_header(void **state)
{
	static const char doc[] = EV("", "");
	uint8_t buf[sizeof(doc) + 3];

	memcpy(buf + 3, doc, sizeof(doc) - 1);
	buf[0] = 0xbf;
	buf[1] = 0x00;
	buf[2] = 0xbf;
	assert_err(parse_n(buf, sizeof(buf) - 1), COT_OK);
	assert_true(ev.flags & COT_F_TAK_HDR);
	/* XML behind the v1 header is a TakMessage whose first key, '<' (field
	 * 7, wire type 4), is a group: refused (test_takproto.c has the rest). */
	buf[1] = 0x01;
	assert_err(parse_n(buf, sizeof(buf) - 1), COT_E_PROTOBUF);
	buf[1] = 0x02;
	assert_err(parse_n(buf, sizeof(buf) - 1), COT_E_TAK_VERSION);
	assert_err(parse_n("\xbf", 1), COT_E_TAK_VERSION);
	assert_err(parse_n("\xbf\x00", 2), COT_E_TAK_VERSION);
	assert_err(parse_n("\xbf\x81\x00\xbf", 4), COT_E_TAK_VERSION);
	assert_err(parse_n("\xbf\x00\xbf", 3), COT_E_EMPTY);
	assert_err(parse_n("\xbf\x01\xbf", 3), COT_E_MISSING); /* an empty TakMessage */
}

static enum cot_err
parse_time(const char *t)
{
	char doc[1024];

	snprintf(doc, sizeof(doc),
		 "<event version=\"2.0\" uid=\"u\" type=\"t\" how=\"h\" time=\"%s\" "
		 "start=\"2024-05-01T12:00:00Z\" stale=\"2024-05-01T12:00:00Z\">" POINT "</event>",
		 t);
	return parse_s(doc);
}

static void
test_datetime(void **state)
{
	static const struct {
		const char *s;
		int64_t ms;
	} ok[] = {
		{"1970-01-01T00:00:00Z", 0},
		{"1970-01-01T00:00:00.001Z", 1},
		{"1969-12-31T23:59:59.999Z", -1},
		{"2024-05-01T12:00:00Z", T0_MS},
		{"2024-05-01T12:00:00.5Z", T0_MS + 500},
		{"2024-05-01T12:00:00.123456789Z", T0_MS + 123},
		{"2024-05-01T21:30:00+09:30", T0_MS},
		{"2024-05-01T07:00:00-05:00", T0_MS},
		{"2024-05-02T02:00:00+14:00", T0_MS},
		{"2024-05-01T12:00:00+00:00", T0_MS},
		{"2024-02-29T00:00:00Z", INT64_C(1709164800000)},
		{"2000-02-29T00:00:00Z", INT64_C(951782400000)},
		{"2038-01-19T03:14:08Z", INT64_C(2147483648000)},
		{"9999-12-31T23:59:59Z", INT64_C(253402300799000)},
		{"&#50;024-05-01T12:00:00Z", T0_MS}, /* decoded before it is read */
	};
	static const char *const bad[] = {
		"",
		"2024-05-01T12:00:00",       /* no zone: ambiguous */
		"2024-05-01 12:00:00Z",
		"2024-05-01t12:00:00Z",
		"2024-5-01T12:00:00Z",
		"2024-05-01T12:00Z",
		"2024-05-01T24:00:00Z",
		"2024-05-01T12:60:00Z",
		"2024-05-01T12:00:60Z",
		"2024-13-01T12:00:00Z",
		"2024-00-01T12:00:00Z",
		"2024-04-31T12:00:00Z",
		"2023-02-29T12:00:00Z",
		"1900-02-29T12:00:00Z",
		"0000-01-01T00:00:00Z",
		"-2024-05-01T12:00:00Z",
		"12024-05-01T12:00:00Z",
		"2024-05-01T12:00:00.Z",
		"2024-05-01T12:00:00ZZ",
		"2024-05-01T12:00:00+15:00",
		"2024-05-01T12:00:00+14:30",
		"2024-05-01T12:00:00+01:60",
		"2024-05-01T12:00:00+0100",
		"2024-05-01T12:00:00+01",
		"2024-05-01T12:00:00z",
		" 2024-05-01T12:00:00Z",
		"2024-05-01T12:00:00Z ",
		"now",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_err(parse_time(ok[i].s), COT_OK);
		if (ev.time_ms != ok[i].ms)
			fail_msg("%s: %lld != %lld", ok[i].s, (long long)ev.time_ms,
				 (long long)ok[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum cot_err err = parse_time(bad[i]);

		if (err != COT_E_BAD_TIME)
			fail_msg("\"%s\": got %s", bad[i], cot_err_name(err));
	}
	/* a day past 31 after a valid day of the same month: the day cache of
	 * parse_datetime once took 2024-05-33 for 2024-05-01 (fuzz_cot_libxml2) */
	assert_err(parse_s("<event version=\"2.0\" uid=\"u\" type=\"t\" how=\"h\" "
			   "time=\"2024-05-01T12:00:00Z\" start=\"2024-05-01T12:00:00Z\" "
			   "stale=\"2024-05-33T12:00:00Z\">" POINT "</event>"),
		   COT_E_BAD_TIME);
	assert_err(parse_s("<event version=\"2.0\" uid=\"u\" type=\"t\" how=\"h\" "
			   "time=\"2023-11-14T22:13:20Z\" start=\"2023-11-14T22:13:20Z\" "
			   "stale=\"2023-11-78T22:14:20Z\">" POINT "</event>"),
		   COT_E_BAD_TIME);
	/* longer than any dateTime: refused before it is parsed */
	assert_err(parse_time("2024-05-01T12:00:00.00000000000000000000000000000000000000000000000000Z"),
		   COT_E_OVERSIZE);
}

static enum cot_err
parse_lat(const char *lat)
{
	char doc[1024];

	snprintf(doc, sizeof(doc),
		 HDR("") "<point lat=\"%s\" lon=\"0\" hae=\"0\" ce=\"0\" le=\"0\"/></event>", lat);
	return parse_s(doc);
}

static void
test_numbers(void **state)
{
	static const struct {
		const char *s;
		double v;
	} ok[] = {
		{"0", 0.0},
		{"-0", -0.0},
		{"+1.5", 1.5},
		{".5", 0.5},
		{"5.", 5.0},
		{"1e1", 10.0},
		{"1E+1", 10.0},
		{"900e-1", 90.0},
		{"-89.999999999999", -89.999999999999},
		{"38.897676300000000000000001", 38.8976763},
		{"0.000000000000000000000000000001", 1e-30},
		{"00000000000000000000000000000000000000012.25", 12.25},
		{"0.1", 0.1},
		{"45.123456789012345", 45.123456789012345},
	};
	static const char *const bad_syntax[] = {
		"", "-", "+", ".", "e1", "1e", "1e+", "--1", "0x10", " 1", "1 ", "1,5", "1.2.3",
		"north", "nan", "inf", "Infinity", "1d", "\xc2\xb9",
	};
	static const char *const bad_range[] = {
		"91", "-90.0000001", "1e3", "NaN", "INF", "-INF", "1e400",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_err(parse_lat(ok[i].s), COT_OK);
		if (ev.lat != ok[i].v)
			fail_msg("%s: %.17g != %.17g", ok[i].s, ev.lat, ok[i].v);
	}
	/* Off the fast path (more than 2^53 or an exponent past 22) the result is
	 * only promised within an ulp or so. */
	assert_err(parse_lat("1.7976931348623157e-300"), COT_OK);
	assert_true(fabs(ev.lat / 1.7976931348623157e-300 - 1.0) < 1e-15);
	assert_err(parse_lat("12345678901234567890123e-21"), COT_OK);
	assert_true(fabs(ev.lat / 12.345678901234567890123 - 1.0) < 1e-15);
	for (size_t i = 0; i < sizeof(bad_syntax) / sizeof(bad_syntax[0]); i++) {
		enum cot_err err = parse_lat(bad_syntax[i]);

		if (err != COT_E_BAD_NUMBER)
			fail_msg("\"%s\": got %s", bad_syntax[i], cot_err_name(err));
	}
	for (size_t i = 0; i < sizeof(bad_range) / sizeof(bad_range[0]); i++) {
		enum cot_err err = parse_lat(bad_range[i]);

		if (err != COT_E_RANGE)
			fail_msg("\"%s\": got %s", bad_range[i], cot_err_name(err));
	}
	assert_err(parse_s(HDR("") "<point lat=\"0\" lon=\"180.1\" hae=\"0\" ce=\"0\" le=\"0\"/></event>"),
		   COT_E_RANGE);
	assert_err(parse_s(HDR("") "<point lat=\"0\" lon=\"0\" hae=\"1e999\" ce=\"0\" le=\"0\"/></event>"),
		   COT_E_RANGE);
	assert_err(parse_s(HDR("") "<point lat=\"0\" lon=\"0\" hae=\"0\" ce=\"0\" le=\"-1\"/></event>"),
		   COT_E_RANGE);
	assert_err(parse_s(EV("", "<detail><track course=\"-1\" speed=\"1\"/></detail>")), COT_E_RANGE);
	assert_err(parse_s(EV("", "<detail><track course=\"1\" speed=\"-1\"/></detail>")), COT_E_RANGE);
	assert_err(parse_s(EV("", "<detail><track course=\"360\" speed=\"0\"/></detail>")), COT_OK);
	assert_false(ev.flags & COT_F_HAS_SLOPE);
	assert_err(parse_s(EV("", "<detail><track course=\"360.5\"/></detail>")), COT_E_RANGE);
	assert_err(parse_s(EV("", "<detail><track slope=\"INF\"/></detail>")), COT_E_RANGE);
	assert_err(parse_s(EV("", "<detail><track speed=\"fast\"/></detail>")), COT_E_BAD_NUMBER);
}

/* Every proper prefix of a valid event is rejected, and nothing is read past it. */
static void
test_truncation(void **state)
{
	static const char *const docs[] = {missile_warning, impact_point};

	for (size_t d = 0; d < sizeof(docs) / sizeof(docs[0]); d++) {
		size_t len = strlen(docs[d]);

		assert_err(parse_n(docs[d], len), COT_OK);
		for (size_t n = 0; n < len; n++) {
			enum cot_err err = parse_n(docs[d], n);

			if (err == COT_OK)
				fail_msg("doc %zu accepted when cut to %zu of %zu bytes", d, n, len);
			assert_true(err < COT_E_COUNT);
			assert_true(ev.err_off <= n);
		}
	}
}

/* Single-byte substitutions: no crash, no out-of-bounds read, sane output. */
static void
test_mutations(void **state)
{
	static const uint8_t subst[] = {'<', '>', '&', '"', '\'', 0, ']', '-', '/', '!', '?', '=',
					' ', 'x', '#', ';', 0x80, 0xc3, 0xff, '\r'};
	size_t len = strlen(missile_warning);
	uint8_t *buf = malloc(len);
	unsigned accepted = 0;

	assert_non_null(buf);
	for (size_t i = 0; i < len; i++) {
		for (size_t j = 0; j < sizeof(subst); j++) {
			memcpy(buf, missile_warning, len);
			buf[i] = subst[j];
			if (cot_parse(buf, len, &ev) == COT_OK) {
				accepted++;
				assert_strings_bounded(buf, len);
			} else {
				assert_true(ev.err_off <= len);
			}
		}
	}
	free(buf);
	/* some substitutions are harmless (a letter in a string), most are not */
	assert_true(accepted > 0);
}

static void
test_hostile(void **state)
{
	char big[8192];

	assert_err(parse_n("", 0), COT_E_EMPTY);
	assert_err(parse_s(" \r\n\t"), COT_E_EMPTY);
	assert_err(parse_s("hello"), COT_E_NOT_XML);
	assert_err(parse_s("{\"json\":1}"), COT_E_NOT_XML);
	assert_err(parse_s("<?xml version=\"1.0\"?>"), COT_E_MALFORMED);
	assert_err(parse_s("<!-- only a comment -->"), COT_E_MALFORMED);

	/* duplicate attributes, on any element */
	assert_err(parse_s(EV(" uid=\"again\"", "")), COT_E_DUP_ATTR);
	assert_err(parse_s(EV(" opex='a' opex='a'", "")), COT_E_DUP_ATTR);
	assert_err(parse_s(EV("", "<detail><foo a=\"1\" b=\"2\" a=\"3\"/></detail>")), COT_E_DUP_ATTR);
	/* releasableTo and releaseableTo are different names, not duplicates */

	/* DOCTYPE / ENTITY, anywhere */
	assert_err(parse_s("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
			   "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
			   EV("", "<detail><remarks>&lol2;</remarks></detail>")),
		   COT_E_DOCTYPE);
	assert_err(parse_s("<!DOCTYPE event SYSTEM \"file:///etc/passwd\">" EV("", "")), COT_E_DOCTYPE);
	assert_err(parse_s(EV("", "<detail><!ENTITY x \"y\"></detail>")), COT_E_DOCTYPE);
	assert_err(parse_s(EV("", "<!DOCTYPE x>")), COT_E_DOCTYPE);
	assert_err(parse_s(EV("", "") "<!DOCTYPE x>"), COT_E_DOCTYPE);

	/* required things */
	assert_err(parse_s(HDR("") "<point lon=\"2\" hae=\"3\" ce=\"4\" le=\"5\"/></event>"),
		   COT_E_MISSING);
	assert_err(parse_s(HDR("") "</event>"), COT_E_MISSING);
	assert_err(parse_s(HDR("") "<detail/></event>"), COT_E_MISSING);
	assert_err(parse_s("<event version=\"2.0\" uid=\"u\" type=\"t\" how=\"h\" " T3 "/>"),
		   COT_E_MISSING);
	assert_err(parse_s("<event version=\"2.0\" uid=\"u\" type=\"t\" " T3 ">" POINT "</event>"),
		   COT_E_MISSING);
	assert_err(parse_s("<event version=\"2.0\" uid=\"\" type=\"t\" how=\"h\" " T3 ">" POINT
			   "</event>"),
		   COT_E_MISSING);
	assert_err(parse_s("<Event/>"), COT_E_MISSING);

	/* range and syntax of values */
	assert_err(parse_s(HDR("") "<point lat=\"91\" lon=\"2\" hae=\"3\" ce=\"4\" le=\"5\"/></event>"),
		   COT_E_RANGE);

	/* bad dateTime */
	assert_err(parse_s("<event version=\"2.0\" uid=\"u\" type=\"t\" how=\"h\" "
			   "time=\"yesterday\" start=\"2024-05-01T12:00:00Z\" stale=\"2024-05-01T12:00:00Z\">"
			   POINT "</event>"),
		   COT_E_BAD_TIME);

	/* entities */
	assert_err(parse_s(EV("", "<detail><remarks>&nbsp;</remarks></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><remarks>R&D</remarks></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><remarks>&amp</remarks></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><remarks>&#;</remarks></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><remarks>&#0;</remarks></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><remarks>&#x;</remarks></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><remarks>&#X41;</remarks></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><remarks>&#xD800;</remarks></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><remarks>&#xFFFE;</remarks></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><remarks>&#x110000;</remarks></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><remarks>&#99999999999999999999;</remarks></detail>")),
		   COT_E_MALFORMED);
	assert_err(parse_s(EV(" opex=\"&foo;\"", "")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><x y=\"&#1;\"/></detail>")), COT_E_MALFORMED);

	/* structure */
	assert_err(parse_s(EV("", "<detail><remarks>open</detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><remarks>x</remark></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(HDR("") POINT), COT_E_MALFORMED);
	assert_err(parse_s(HDR("") POINT "</event"), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail>a < b</detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail>< x/></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail></ detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail>a ]]> b</detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><![CDATA[ never closed </detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><!-- a -- b --></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><!-- a ---></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><!-- never closed </detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><?pi x?></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><!ELEMENT x ANY></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><x:y/></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><x a:b=\"1\"/></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV(" xmlns=\"urn:x\"", "")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><1x/></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><x\xc3\xa9/></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><remarks>a<b/>c</remarks></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV(" opex=e", "")), COT_E_MALFORMED);
	assert_err(parse_s(EV(" opex", "")), COT_E_MALFORMED);
	assert_err(parse_s(EV(" opex=\"a<b\"", "")), COT_E_MALFORMED);
	assert_err(parse_s(EV(" opex=\"e\"qos=\"x\"", "")), COT_E_MALFORMED);
	assert_err(parse_s(EV(" opex=\"e\"", "") "junk"), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "") EV("", "")), COT_E_MALFORMED);
	assert_err(parse_s(" <?xml version=\"1.0\"?>" EV("", "")), COT_E_MALFORMED);
	assert_err(parse_s("<?xml version=\"1.1\"?>" EV("", "")), COT_E_MALFORMED);
	assert_err(parse_s("<?xml version=\"1.0\" encoding=\"UTF-16\"?>" EV("", "")), COT_E_MALFORMED);
	assert_err(parse_s("<?xml version=\"1.0\"standalone=\"yes\"?>" EV("", "")), COT_E_MALFORMED);
	assert_err(parse_s("<?xml version=\"1.0\" standalone=\"maybe\"?>" EV("", "")), COT_E_MALFORMED);
	assert_err(parse_s("<?xml encoding=\"UTF-8\"?>" EV("", "")), COT_E_MALFORMED);

	/* bytes that are not XML characters */
	{
		static const char doc[] = EV("", "<detail><remarks>a\0b</remarks></detail>");

		assert_err(parse_n(doc, sizeof(doc) - 1), COT_E_MALFORMED);
	}
	assert_err(parse_s(EV("", "<detail><remarks>\x01</remarks></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><remarks>\xc3\x28</remarks></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><remarks>\xc0\xaf</remarks></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><remarks>\xed\xa0\x80</remarks></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><remarks>\xef\xbf\xbe</remarks></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><remarks>\xf4\x90\x80\x80</remarks></detail>")),
		   COT_E_MALFORMED);
	assert_err(parse_s(EV(" opex=\"\xff\"", "")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<!-- \x02 -->")), COT_E_MALFORMED);

	/* duplicate singletons */
	assert_err(parse_s(EV("", "<detail><remarks>ok</remarks><remarks>EXERCISE</remarks></detail>")),
		   COT_E_DUP_ELEM);
	assert_err(parse_s(EV("", POINT)), COT_E_DUP_ELEM);
	assert_err(parse_s(EV("", "<detail/><detail/>")), COT_E_DUP_ELEM);
	assert_err(parse_s(EV("", "<detail><contact callsign=\"a\"/><contact callsign=\"b\"/></detail>")),
		   COT_E_DUP_ELEM);

	/* oversize */
	memset(big, 'U', sizeof(big));
	{
		char doc[2048];
		int n;

		n = snprintf(doc, sizeof(doc),
			     "<event version=\"2.0\" uid=\"%.*s\" type=\"t\" how=\"h\" " T3 ">" POINT
			     "</event>",
			     COT_MAX_FIELD, big);
		assert_true(n > 0 && (size_t)n < sizeof(doc));
		assert_err(parse_s(doc), COT_OK);
		assert_int_equal(ev.uid.len, COT_MAX_FIELD);
		n = snprintf(doc, sizeof(doc),
			     "<event version=\"2.0\" uid=\"%.*s\" type=\"t\" how=\"h\" " T3 ">" POINT
			     "</event>",
			     COT_MAX_FIELD + 1, big);
		assert_err(parse_s(doc), COT_E_FIELD_LIMIT);
		/* an element name */
		n = snprintf(doc, sizeof(doc), EV("", "<detail><%.*s/></detail>"), COT_MAX_NAME + 1,
			     big);
		assert_err(parse_s(doc), COT_E_OVERSIZE);
	}
}

static void
test_oversize_remarks_and_buffer(void **state)
{
	static char doc[80000];
	size_t n;

	/* remarks: exactly the bound is fine, one more byte is not */
	for (int extra = 0; extra <= 1; extra++) {
		n = (size_t)snprintf(doc, sizeof(doc), "%s", HDR("") POINT "<detail><remarks>");
		memset(doc + n, 'r', COT_MAX_REMARKS + extra);
		n += COT_MAX_REMARKS + extra;
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "</remarks></detail></event>");
		assert_err(parse_n(doc, n), extra ? COT_E_REMARKS_LIMIT : COT_OK);
	}
	/* decoded strings share one buffer, and it holds every kept string at
	 * its bound at once: event attributes, 8 links, the callsign and the
	 * remarks, all entity-bearing (release.md §2: no bound on the sum) */
	{
		static const char *const ev_attrs[] = {"access", "qos", "opex", "caveat",
						       "releasableTo", "releaseableTo"};
		size_t want = 0;

		n = (size_t)snprintf(doc, sizeof(doc), "%s",
				     "<event version=\"2.0\" uid=\"u\" type=\"t\" how=\"h\" " T3);
		for (size_t a = 0; a < sizeof(ev_attrs) / sizeof(ev_attrs[0]); a++) {
			n += (size_t)snprintf(doc + n, sizeof(doc) - n, " %s=\"", ev_attrs[a]);
			for (int k = 0; k < COT_MAX_FIELD; k++)
				n += (size_t)snprintf(doc + n, sizeof(doc) - n, "&amp;");
			doc[n++] = '"';
			want += COT_MAX_FIELD;
		}
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, ">" POINT "<detail>");
		for (int i = 0; i < COT_MAX_LINKS; i++) {
			for (int a = 0; a < 3; a++) {
				n += (size_t)snprintf(doc + n, sizeof(doc) - n,
						      a == 0 ? "<link uid=\"" : a == 1 ? " relation=\""
										  : " type=\"");
				for (int k = 0; k < COT_MAX_FIELD; k++)
					n += (size_t)snprintf(doc + n, sizeof(doc) - n, "&#%d;",
							      'a' + i);
				doc[n++] = '"';
				want += COT_MAX_FIELD;
			}
			n += (size_t)snprintf(doc + n, sizeof(doc) - n, "/>");
		}
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "<contact callsign=\"");
		for (int k = 0; k < COT_MAX_FIELD; k++)
			n += (size_t)snprintf(doc + n, sizeof(doc) - n, "&lt;");
		want += COT_MAX_FIELD;
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "\"/><remarks>");
		for (int k = 0; k < COT_MAX_REMARKS; k++)
			n += (size_t)snprintf(doc + n, sizeof(doc) - n, "&gt;");
		want += COT_MAX_REMARKS;
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "</remarks></detail></event>");
		assert_true(n < sizeof(doc) - 1);
		assert_true(want > 8192); /* the old, smaller buffer refused this */
		assert_err(parse_n(doc, n), COT_OK);
		assert_int_equal(ev.buf_used, want);
		assert_int_equal(ev.n_links, COT_MAX_LINKS);
		assert_int_equal(ev.link[7].type.len, COT_MAX_FIELD);
		assert_int_equal(ev.link[7].type.p[0], 'h');
		assert_int_equal(ev.remarks.len, COT_MAX_REMARKS);
		assert_int_equal(ev.callsign.p[0], '<');
	}
	/* more links than the event holds */
	n = (size_t)snprintf(doc, sizeof(doc), "%s", HDR("") POINT "<detail>");
	for (int i = 0; i <= COT_MAX_LINKS; i++)
		n += (size_t)snprintf(doc + n, sizeof(doc) - n,
				      "<link uid=\"u%d\" relation=\"p-p\" type=\"b-d-l\"/>", i);
	n += (size_t)snprintf(doc + n, sizeof(doc) - n, "</detail></event>");
	assert_err(parse_n(doc, n), COT_E_OVERSIZE);
	/* a message longer than any UDP payload */
	{
		size_t big = COT_MAX_MSG + 1;
		char *p = malloc(big);

		assert_non_null(p);
		memset(p, ' ', big);
		assert_err(cot_parse((const uint8_t *)p, big, &ev), COT_E_OVERSIZE);
		free(p);
	}
	/* too many attributes on one element */
	n = (size_t)snprintf(doc, sizeof(doc), "%s", HDR("") POINT "<detail><x");
	for (int i = 0; i <= COT_MAX_ATTRS; i++)
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, " a%d=\"\"", i);
	n += (size_t)snprintf(doc + n, sizeof(doc) - n, "/></detail></event>");
	assert_err(parse_n(doc, n), COT_E_OVERSIZE);
}

/* cot_parse_head_lim() then cot_parse_rest(): the whole parse under the
 * operator's limits (policy settings max_field_bytes, max_remarks_bytes). */
static enum cot_err
parse_lim(const char *doc, size_t n, uint16_t field, uint16_t remarks)
{
	struct cot_limits lim = {field, remarks};
	struct cot_cursor cur;
	enum cot_err e = cot_parse_head_lim((const uint8_t *)doc, n, &lim, &ev, &cur);

	return e != COT_OK ? e : cot_parse_rest(&cur);
}

/* Both sides of each limit, at the defaults, the hard bounds and the
 * smallest ones; every kept string at the hard bounds at once fits the
 * decode buffer (release.md §2, docs/policy.md `settings`). */
static void
test_limits(void **state)
{
	static char doc[200000], big[COT_FIELD_LIMIT_MAX + 2];
	static const uint16_t fields[] = {COT_FIELD_LIMIT_MIN, COT_MAX_FIELD, 700,
					  COT_FIELD_LIMIT_MAX};
	static const uint16_t remarks[] = {0, 1, COT_MAX_REMARKS, COT_REMARKS_LIMIT_MAX};
	size_t n;

	(void)state;
	memset(big, 'u', sizeof(big) - 1);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		for (int extra = 0; extra <= 1; extra++) {
			/* a raw uid (the fast path), then an entity-bearing callsign
			 * (decoded: the slow path) */
			n = (size_t)snprintf(doc, sizeof(doc),
					     "<event version=\"2.0\" uid=\"%.*s\" type=\"t\" how=\"h\" " T3
					     ">" POINT "</event>",
					     fields[i] + extra, big);
			assert_err(parse_lim(doc, n, fields[i], COT_MAX_REMARKS),
				   extra ? COT_E_FIELD_LIMIT : COT_OK);
			n = (size_t)snprintf(doc, sizeof(doc), "%s", HDR("") POINT
					     "<detail><contact callsign=\"");
			for (int k = 0; k < fields[i] + extra; k++)
				n += (size_t)snprintf(doc + n, sizeof(doc) - n, "&amp;");
			n += (size_t)snprintf(doc + n, sizeof(doc) - n, "\"/></detail></event>");
			assert_err(parse_lim(doc, n, fields[i], COT_MAX_REMARKS),
				   extra ? COT_E_FIELD_LIMIT : COT_OK);
			if (!extra)
				assert_int_equal(ev.callsign.len, fields[i]);
		}
	}
	for (size_t i = 0; i < sizeof(remarks) / sizeof(remarks[0]); i++) {
		for (int extra = 0; extra <= 1; extra++) {
			n = (size_t)snprintf(doc, sizeof(doc), "%s", HDR("") POINT "<detail><remarks>");
			memset(doc + n, 'r', (size_t)remarks[i] + (size_t)extra);
			n += (size_t)remarks[i] + (size_t)extra;
			n += (size_t)snprintf(doc + n, sizeof(doc) - n, "</remarks></detail></event>");
			assert_err(parse_lim(doc, n, COT_MAX_FIELD, remarks[i]),
				   extra ? COT_E_REMARKS_LIMIT : COT_OK);
		}
	}
	/* limits past the hard bounds are the hard bounds */
	n = (size_t)snprintf(doc, sizeof(doc),
			     "<event version=\"2.0\" uid=\"%.*s\" type=\"t\" how=\"h\" " T3 ">" POINT
			     "</event>",
			     COT_FIELD_LIMIT_MAX + 1, big);
	assert_err(parse_lim(doc, n, UINT16_MAX, UINT16_MAX), COT_E_FIELD_LIMIT);
	/* decoded strings at the hard field bound fill the shared buffer as
	 * far as a datagram can carry them (4+ bytes of entity per byte) */
	n = (size_t)snprintf(doc, sizeof(doc), "%s", "<event version=\"2.0\" uid=\"u\" "
			     "type=\"t\" how=\"h\" " T3);
	for (int a = 0; a < 6; a++) {
		static const char *const names[] = {"access", "qos", "opex", "caveat",
						    "releasableTo", "releaseableTo"};

		n += (size_t)snprintf(doc + n, sizeof(doc) - n, " %s=\"", names[a]);
		for (int k = 0; k < COT_FIELD_LIMIT_MAX; k++)
			n += (size_t)snprintf(doc + n, sizeof(doc) - n, "&#65;");
		doc[n++] = '"';
	}
	n += (size_t)snprintf(doc + n, sizeof(doc) - n, ">" POINT "<detail><remarks>");
	for (int k = 0; k < 6000; k++)
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "&lt;");
	n += (size_t)snprintf(doc + n, sizeof(doc) - n, "</remarks></detail></event>");
	assert_true(n <= COT_MAX_MSG);
	assert_err(parse_lim(doc, n, COT_FIELD_LIMIT_MAX, COT_REMARKS_LIMIT_MAX), COT_OK);
	assert_int_equal(ev.buf_used, 6 * COT_FIELD_LIMIT_MAX + 6000);
	assert_int_equal(ev.access.len, COT_FIELD_LIMIT_MAX);
	assert_int_equal(ev.remarks.len, 6000);
}

static void
test_depth(void **state)
{
	char doc[4096];
	size_t n;

	/* event(1) detail(2) + k more */
	for (int k = COT_MAX_DEPTH - 2; k <= COT_MAX_DEPTH - 1; k++) {
		n = (size_t)snprintf(doc, sizeof(doc), "%s", HDR("") POINT "<detail>");
		for (int i = 0; i < k; i++)
			n += (size_t)snprintf(doc + n, sizeof(doc) - n, "<a>");
		for (int i = 0; i < k; i++)
			n += (size_t)snprintf(doc + n, sizeof(doc) - n, "</a>");
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "</detail></event>");
		assert_err(parse_n(doc, n), k == COT_MAX_DEPTH - 2 ? COT_OK : COT_E_DEPTH);
	}
	/* a deep unclosed chain fails on depth before it runs out of input */
	n = (size_t)snprintf(doc, sizeof(doc), "%s", HDR("") POINT "<detail>");
	for (int i = 0; i < 500; i++)
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "<a>");
	assert_err(parse_n(doc, n), COT_E_DEPTH);
}

static void
test_unknown_detail_skipped(void **state)
{
	static const char doc[] = EV(
		"", "<detail><__group name=\"Cyan\" role=\"Team Member\"/><takv platform='ATAK'/>"
		    "<status battery=\"88\">text <b>bold</b></status><_flow-tags_ a.b-c=\"x\"/>"
		    "<x><link uid=\"deep\" relation=\"p-p\" type=\"b-d-l\"/><remarks>not ours</remarks>"
		    "<track course=\"999\"/></x><contact callsign=\"Alpha 1\" endpoint=\"*:-1:stcp\"/>"
		    "</detail>");

	assert_err(parse_keep(doc), COT_OK);
	assert_int_equal(ev.n_links, 0);
	assert_null(ev.remarks.p);
	assert_int_equal(ev.has_track, 0);
	assert_str(ev.callsign, "Alpha 1");
}

/*
 * The readings of docs/release.md §2 that the oracle once read otherwise
 * (tests/oracle/test_oracle_cot.py holds the same cases for both parsers).
 */
static void
test_section2_decisions(void **state)
{
	/* DOCTYPE/ENTITY: refused as declarations only; in CDATA or a comment
	 * the characters are text */
	assert_err(parse_keep(EV("", "<detail><remarks><![CDATA[<!DOCTYPE x>]]></remarks></detail>")),
		   COT_OK);
	assert_str(ev.remarks, "<!DOCTYPE x>");
	assert_err(parse_s(EV("", "<detail><remarks><![CDATA[<!ENTITY x \"y\">]]></remarks></detail>")),
		   COT_OK);
	assert_err(parse_s(EV("", "<detail><!-- <!DOCTYPE x [<!ENTITY y 'z'>]> --></detail>")), COT_OK);
	assert_err(parse_s("<!-- <!DOCTYPE event> -->" EV("", "")), COT_OK);
	assert_err(parse_s("<!DOCTYPE event>" EV("", "")), COT_E_DOCTYPE);

	/* UTF-8 only: another declared encoding, or UTF-16, is refused */
	assert_err(parse_s("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>" EV("", "")),
		   COT_E_MALFORMED);
	assert_err(parse_s("<?xml version=\"1.0\" encoding=\"US-ASCII\"?>" EV("", "")),
		   COT_E_MALFORMED);
	assert_err(parse_s("<?xml version='1.0' encoding='UTF-8' standalone='yes'?>" EV("", "")),
		   COT_OK);
	assert_err(parse_s("\xef\xbb\xbf" EV("", "")), COT_OK);
	{
		static const char doc[] = EV("", "");
		uint8_t u16[2 + 2 * sizeof(doc)];
		size_t n = 0;

		for (int be = 1; be >= 0; be--) {
			n = 0;
			u16[n++] = be ? 0xfe : 0xff;
			u16[n++] = be ? 0xff : 0xfe;
			for (size_t i = 0; i < sizeof(doc) - 1; i++) {
				u16[n++] = be ? 0 : (uint8_t)doc[i];
				u16[n++] = be ? (uint8_t)doc[i] : 0;
			}
			assert_err(parse_n(u16, n), COT_E_NOT_XML);
			assert_int_equal(ev.err_off, 0);
		}
		/* UTF-16LE (the last one) without a byte order mark */
		assert_err(parse_n(u16 + 2, n - 2), COT_E_MALFORMED);
	}

	/* <link>: no attribute required */
	assert_err(parse_keep(EV("", "<detail><link uid=\"MW-TRK-0001\" relation=\"p-p\"/>"
				     "<link point=\"38.1,127.2\"/><link/>"
				     "<link uid=\"a\" type=\"b-m-p-w\" production_time=\"2024-05-01T12:00:00Z\"/>"
				     "</detail>")),
		   COT_OK);
	assert_int_equal(ev.n_links, 4);
	assert_str(ev.link[0].uid, "MW-TRK-0001");
	assert_str(ev.link[0].relation, "p-p");
	assert_null(ev.link[0].type.p);
	assert_null(ev.link[1].uid.p);
	assert_null(ev.link[1].relation.p);
	assert_null(ev.link[2].type.p);
	assert_null(ev.link[3].relation.p);
	assert_str(ev.link[3].type, "b-m-p-w");

	/* <track>: no attribute required, those present checked */
	assert_err(parse_s(EV("", "<detail><track/></detail>")), COT_OK);
	assert_int_equal(ev.has_track, 1);
	assert_int_equal(ev.flags & (COT_F_HAS_COURSE | COT_F_HAS_SPEED | COT_F_HAS_SLOPE), 0);
	assert_err(parse_s(EV("", "<detail><track course=\"90\"/></detail>")), COT_OK);
	assert_true(ev.course == 90.0);
	assert_int_equal(ev.flags & (COT_F_HAS_COURSE | COT_F_HAS_SPEED), COT_F_HAS_COURSE);
	assert_err(parse_s(EV("", "<detail><track speed=\"12.5\"/></detail>")), COT_OK);
	assert_true(ev.speed == 12.5);
	assert_int_equal(ev.flags & (COT_F_HAS_COURSE | COT_F_HAS_SPEED), COT_F_HAS_SPEED);
	assert_err(parse_s(EV("", "<detail><track speed=\"-1\"/></detail>")), COT_E_RANGE);

	/* processing instructions: refused wherever they are */
	assert_err(parse_s(EV("", "<detail><?foo bar?></detail>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail><remarks>SEC<?x?>RET</remarks></detail>")), COT_E_MALFORMED);
	assert_err(parse_s("<?xml-stylesheet href=\"a.xsl\"?>" EV("", "")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "") "<?foo?>"), COT_E_MALFORMED);

	/* <event> holds <point> and <detail> only */
	assert_err(parse_s(EV("", "<foo/>")), COT_E_MALFORMED);
	assert_err(parse_s(EV("", "<detail/><remarks>x</remarks>")), COT_E_MALFORMED);

	/* attributes trackgate does not read are not bounded (only the message) */
	{
		char doc[4096], big[601];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		snprintf(doc, sizeof(doc),
			 EV(" x-note=\"%s\"", "<detail><__serverdestination destinations=\"%s\"/>"
					      "<link uid=\"a\" url=\"%s\"/></detail>"),
			 big, big, big);
		assert_err(parse_s(doc), COT_OK);
	}
}

/*
 * cot_parse.h, on an error: uid and type are this payload's (when the
 * parser got that far) or absent, never the previous message's; err_off is
 * set.  The audit log prints them.
 */
static void
test_error_contract(void **state)
{
	static const char good[] = EV(" uid2=\"x\"", "<detail><remarks>a&amp;b</remarks></detail>");
	static const char good_dec[] =
		"<event version=\"2.0\" uid=\"OLD&amp;1\" type=\"o&amp;ld\" how=\"h\" " T3 ">" POINT
		"</event>";
	static const struct {
		const char *doc;
		enum cot_err err;
		const char *uid, *type; /* NULL: must be absent */
	} cases[] = {
		{"hello", COT_E_NOT_XML, NULL, NULL},
		{" ", COT_E_EMPTY, NULL, NULL},
		{"<foo uid=\"F\" type=\"T\"/>", COT_E_MISSING, NULL, NULL},
		{"<event uid=\"a&bogus;\" type=\"t\">", COT_E_MALFORMED, NULL, NULL},
		{"<event uid=\"NEW-2\" uid=\"x\" type=\"t\">", COT_E_DUP_ATTR, "NEW-2", NULL},
		{"<event type=\"t-new\" uid=\"NEW-3\" x=>", COT_E_MALFORMED, "NEW-3", "t-new"},
		{"<event version=\"2.0\" uid=\"N&amp;4\" type=\"t&#x2d;4\" how=\"h\" " T3 ">" POINT
		 "<detail><remarks>&nbsp;</remarks></detail></event>",
		 COT_E_MALFORMED, "N&4", "t-4"},
		{"<event version=\"2.0\" uid=\"\" type=\"t5\" how=\"h\" " T3 ">" POINT "</event>",
		 COT_E_MISSING, "", "t5"},
		{"<event version=\"2.0\" uid=\"NEW-6\" type=\"t6\" how=\"h\" " T3 "/>", COT_E_MISSING,
		 "NEW-6", "t6"},
		{"<event version=\"2.0\" uid=\"NEW-7\" type=\"t7\" how=\"h\" " T3 ">" POINT "<foo/></event>",
		 COT_E_MALFORMED, "NEW-7", "t7"},
		{"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><event uid=\"NEW-8\"/>", COT_E_MALFORMED,
		 NULL, NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int prev = 0; prev < 2; prev++) {
			const char *doc = cases[i].doc;
			size_t len = strlen(doc);
			enum cot_err err;

			/* the previous message left strings in the payload, or in
			 * ev->buf (decoded) */
			assert_err(parse_keep(prev ? good_dec : good), COT_OK);
			assert_non_null(ev.uid.p);
			err = parse_keep(doc);
			if (err != cases[i].err)
				fail_msg("%s: got %s, want %s", doc, cot_err_name(err),
					 cot_err_name(cases[i].err));
			assert_true(ev.err_off <= len);
			if (cases[i].uid == NULL) {
				assert_null(ev.uid.p);
				assert_int_equal(ev.uid.len, 0);
			} else {
				assert_str(ev.uid, cases[i].uid);
				assert_true(in_range(ev.uid.p, ev.uid.len, doc, len) ||
					    in_range(ev.uid.p, ev.uid.len, ev.buf, ev.buf_used));
			}
			if (cases[i].type == NULL) {
				assert_null(ev.type.p);
				assert_int_equal(ev.type.len, 0);
			} else {
				assert_str(ev.type, cases[i].type);
			}
		}
	}
	/* where: the second uid of a repeated attribute */
	assert_err(parse_keep(cases[4].doc), COT_E_DUP_ATTR);
	assert_int_equal(ev.err_off, strstr(cases[4].doc, "uid=\"x\"") - cases[4].doc);
	/* no bytes, and more bytes than any message */
	assert_err(parse_keep(good), COT_OK);
	assert_err(cot_parse((const uint8_t *)good, 0, &ev), COT_E_EMPTY);
	assert_null(ev.uid.p);
	assert_null(ev.type.p);
	assert_int_equal(ev.err_off, 0);
	assert_err(parse_keep(good), COT_OK);
	assert_err(cot_parse(NULL, 10, &ev), COT_E_EMPTY);
	assert_null(ev.uid.p);
	assert_int_equal(ev.err_off, 0);
	{
		size_t big = COT_MAX_MSG + 1;
		uint8_t *p = malloc(big);

		assert_non_null(p);
		memcpy(p, good, sizeof(good) - 1);
		memset(p + sizeof(good) - 1, ' ', big - (sizeof(good) - 1));
		assert_err(parse_keep(good), COT_OK);
		assert_err(cot_parse(p, big, &ev), COT_E_OVERSIZE);
		assert_null(ev.uid.p);
		assert_null(ev.type.p);
		assert_int_equal(ev.err_off, COT_MAX_MSG);
		free(p);
	}
}

static void
test_err_names(void **state)
{
	for (int i = 0; i < COT_E_COUNT; i++) {
		const char *n = cot_err_name((enum cot_err)i);

		assert_non_null(n);
		assert_true(strlen(n) > 0);
		for (const char *c = n; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_');
		for (int j = 0; j < i; j++)
			assert_string_not_equal(n, cot_err_name((enum cot_err)j));
	}
	assert_string_equal(cot_err_name(COT_E_DUP_ATTR), "dup_attr");
	assert_string_equal(cot_err_name(COT_E_COUNT), "unknown");
}

static uint8_t *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* valid-*.xml parse; bad-<err>-*.xml fail with the error named <err>. */
static void
test_data_files(void **state)
{
	DIR *d = opendir(COT_DATA_DIR);
	struct dirent *de;
	unsigned nvalid = 0, nbad = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		char path[4096];
		uint8_t *buf;
		size_t len, nl = strlen(name);
		enum cot_err err;

		if (nl < 4 || strcmp(name + nl - 4, ".xml") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", COT_DATA_DIR, name);
		buf = read_file(path, &len);
		err = cot_parse(buf, len, &ev);
		if (strncmp(name, "valid-", 6) == 0) {
			if (err != COT_OK)
				fail_msg("%s: %s at offset %u", name, cot_err_name(err),
					 (unsigned)ev.err_off);
			assert_strings_bounded(buf, len);
			nvalid++;
		} else if (strncmp(name, "bad-", 4) == 0) {
			const char *code = name + 4, *dash = strchr(code, '-');
			size_t cl = dash ? (size_t)(dash - code) : strlen(code) - 4;
			const char *got = cot_err_name(err);

			if (err == COT_OK || strlen(got) != cl || strncmp(got, code, cl) != 0)
				fail_msg("%s: got %s", name, got);
			nbad++;
		}
		free(buf);
	}
	closedir(d);
	assert_true(nvalid >= 5);
	assert_true(nbad >= 15);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missile_warning),
		cmocka_unit_test(test_launch_and_impact),
		cmocka_unit_test(test_entities_cdata_comments),
		cmocka_unit_test(test_whitespace_normalisation),
		cmocka_unit_test(test_remarks_decoding_report),
		cmocka_unit_test(test_quotes_order_decl),
		cmocka_unit_test(test_releasability),
		cmocka_unit_test(test_tak_header),
		cmocka_unit_test(test_datetime),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_oversize_remarks_and_buffer),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_unknown_detail_skipped),
		cmocka_unit_test(test_section2_decisions),
		cmocka_unit_test(test_error_contract),
		cmocka_unit_test(test_err_names),
		cmocka_unit_test(test_data_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
