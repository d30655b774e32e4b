/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_sanitize.c - sanitized copies (docs/release.md §6, §7):
 *   - the canonical detail (dataplane/sanitize.c san_detail) on a table of
 *     fragments: each step, CDATA holding a dropped name, references,
 *     comments, nesting, `/>` exactly when nothing is left;
 *   - whole copies (san_write) of parsed XML and TAK v1 events, read back
 *     by the parser, and confirmed by the second check (sanitize_check.c);
 *   - each of the check's four properties failing on a mutated copy;
 *   - hostile details: everything dropped, 16 levels deep, 2,000 siblings,
 *     and a seeded property run: no dropped name survives as a tag, and
 *     every copy the writer makes, the check confirms.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cot_parse.h"
#include "sanitize.h"
#include "sanitize_check.h"
#include "second_check.h"

static struct tg_slot_hdr hdr;
static struct tg_peer peers[3];
static struct cot_event ev;
static uint8_t scratch[SCS_SCRATCH];
static char dbuf[65536], out[65536];

#define USA (UINT64_C(1) << 0)
#define KOR (UINT64_C(1) << 1)
#define JPN (UINT64_C(1) << 2)

/* entry 0: drop __sensor and link, contact@endpoint, remarks;
 * entry 1: coarsen to 2 decimals, ce >= 1000, releasableTo JPN;
 * entry 2: drop remarks only */
static int
setup(void **state)
{
	(void)state;
	memset(&hdr, 0, sizeof(hdr));
	strcpy(hdr.nations[0], "USA");
	strcpy(hdr.nations[1], "KOR");
	strcpy(hdr.nations[2], "JPN");
	hdr.n_nations = 3;
	for (unsigned i = 0; i < 3; i++) {
		snprintf(peers[i].name, TG_NAME_MAX, "%s", i == 0 ? "usa" : i == 1 ? "kor" : "jpn");
		peers[i].nation_idx = (uint8_t)i;
		peers[i].clearance = TG_LVL_SECRET;
		peers[i].index = (uint8_t)i;
	}
	hdr.n_peers = 3;
	struct tg_sanitize *e = &hdr.sanitize[0];
	e->decimals = TG_SAN_NO_COARSEN;
	strcpy(e->elems[0], "__sensor");
	strcpy(e->elems[1], "link");
	e->n_elems = 2;
	strcpy(e->attrs[0][0], "contact");
	strcpy(e->attrs[0][1], "endpoint");
	e->n_attrs = 1;
	e->drop_remarks = 1;
	e = &hdr.sanitize[1];
	e->decimals = 2;
	e->min_ce = 1000;
	e->set_mask = 1u << TG_SA_RELEASABLE_TO;
	strcpy(e->set[TG_SA_RELEASABLE_TO], "JPN");
	e = &hdr.sanitize[2];
	e->decimals = TG_SAN_NO_COARSEN;
	e->drop_remarks = 1;
	hdr.n_sanitize = 3;
	return 0;
}

static const char *
detail(const char *d, uint16_t entries)
{
	struct san_steps st;
	size_t n;

	san_combine(&hdr, entries, &st);
	n = san_detail(d, strlen(d), &st, dbuf, sizeof(dbuf));
	if (n == SIZE_MAX)
		return NULL;
	dbuf[n] = '\0';
	return dbuf;
}

static void
test_detail_table(void **state)
{
	static const struct {
		const char *in, *want; /* want NULL: refused */
		uint16_t entries;
	} t[] = {
		/* nothing to do: canonical form only */
		{"<a x='1'>t</a>", "<a x=\"1\">t</a>", 4},
		{"<a></a><b/>", "<a/><b/>", 4},
		{"<a> </a>", "<a> </a>", 4},
		{"<a><!-- c --></a>", "<a/>", 4},
		{"<a x = \"&lt;&amp;&gt;&quot;&apos;\"/>", "<a x=\"&lt;&amp;&gt;&quot;'\"/>", 4},
		{"<a x=\"1\t2\n3\r\n4\"/>", "<a x=\"1 2 3 4\"/>", 4},
		{"<a x=\"&#9;&#10;&#13;\"/>", "<a x=\"&#9;&#10;&#13;\"/>", 4},
		{"<a>x&#13;y\r\nz\rw</a>", "<a>x&#13;y\nz\nw</a>", 4},
		{"<a>&#x41;&#66;&#x20AC;</a>", "<a>AB\xe2\x82\xac</a>", 4},
		{"<a><![CDATA[<b>&amp;]]></a>", "<a>&lt;b&gt;&amp;amp;</a>", 4},
		/* each drop */
		{"<__sensor id='x'><y/></__sensor><contact callsign='A' endpoint='1.2.3.4:4242'/>",
		 "<contact callsign=\"A\"/>", 1},
		{"<x><__sensor/>t<link uid='u'/></x>", "<x>t</x>", 1},
		{"<x><link uid='u'/></x>", "<x/>", 1},
		{"<remarks>hello</remarks><r>remarks</r>", "<r>remarks</r>", 4},
		{"<a><b><c><__sensor><__sensor/></__sensor></c></b></a>", "<a><b><c/></b></a>", 1},
		/* a dropped name inside CDATA or escaped text is text */
		{"<x><![CDATA[<__sensor>]]></x>", "<x>&lt;__sensor&gt;</x>", 1},
		{"<x>&lt;__sensor&gt;</x>", "<x>&lt;__sensor&gt;</x>", 1},
		{"<x a='&lt;__sensor'/>", "<x a=\"&lt;__sensor\"/>", 1},
		/* not a name the step names */
		{"<__sensorX/><_sensor/>", "<__sensorX/><_sensor/>", 1},
		/* refused: the writer never guesses */
		{"<a>", NULL, 4},
		{"<a></b>", NULL, 4},
		{"<?pi x?>", NULL, 4},
		{"<!DOCTYPE x>", NULL, 4},
		{"<a x=1/>", NULL, 4},
		{"<a>&bogus;</a>", NULL, 4},
		{"<a>&#0;</a>", NULL, 4},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *got = detail(t[i].in, t[i].entries);

		if (t[i].want == NULL) {
			if (got != NULL)
				fail_msg("case %zu: %s -> %s, want refused", i, t[i].in, got);
		} else if (got == NULL || strcmp(got, t[i].want) != 0) {
			fail_msg("case %zu: %s -> %s, want %s", i, t[i].in, got ? got : "(refused)",
				 t[i].want);
		}
	}
}

static void
test_round(void **state)
{
	(void)state;
	assert_true(san_round(1.005, 2) == 1.0 || san_round(1.005, 2) == 1.01);
	assert_true(san_round(0.125, 2) == 0.13);
	assert_true(san_round(-0.125, 2) == -0.13);
	assert_true(san_round(37.87654, 0) == 38.0);
	assert_true(san_round(-37.5, 0) == -38.0);
	assert_true(san_round(12.3456789, 6) == 12.345679);
}

static const char *xml_event =
	"<?xml version='1.0'?>\n<event version=\"2.0\" uid=\"U-1\" type=\"a-h-A-W-M-S-S\" "
	"how=\"m-r\" time=\"2024-05-01T21:00:00+09:00\" start=\"2024-05-01T12:00:00.5Z\" "
	"stale=\"2024-05-01T12:01:00Z\" access=\"SECRET//REL TO USA, KOR, JPN\" qos=\"1-r-c\">"
	"<point lat=\"37.876543\" lon=\"-124.694449\" hae=\"1000.5\" ce=\"12.5\" le=\"3\"/>"
	"<detail><contact callsign=\"TN 1\" endpoint=\"10.1.2.3:4242:tcp\"/><__sensor "
	"type=\"SBIRS\"><beam az=\"12\"/></__sensor><track course=\"30.5\" speed=\"643.0\"/>"
	"<link uid=\"L\" relation=\"p-p\"/><remarks>seen by <![CDATA[<__sensor>]]> &amp; "
	"radar</remarks><!-- x --></detail></event>";

static size_t
copy_of(const uint8_t *p, size_t n, uint16_t entries, bool v1)
{
	struct san_steps st;

	assert_int_equal(cot_parse(p, n, &ev), COT_OK);
	san_combine(&hdr, entries, &st);
	return san_write(&ev, &st, v1, dbuf, sizeof(dbuf), out, sizeof(out));
}

static enum scs_result
check(const uint8_t *orig, size_t olen, const char *copy, size_t clen, uint16_t entries,
      uint32_t copy_peers)
{
	return sc_check_copy(orig, olen, (const uint8_t *)copy, clen, &hdr, peers, NULL, entries,
			     copy_peers, 0x7, scratch);
}

static void
test_xml_copy(void **state)
{
	const uint8_t *o = (const uint8_t *)xml_event;
	size_t olen = strlen(xml_event), n;
	struct cot_event *back = malloc(sizeof(*back));
	char mut[4096];
	(void)state;

	n = copy_of(o, olen, 0x3, false);
	assert_true(n > 0);
	out[n] = '\0';
	assert_non_null(strstr(out, "<point lat=\"37.88\" lon=\"-124.69\" hae=\"1000.5\" ce=\"1000\" "
				    "le=\"3\"/>"));
	assert_non_null(strstr(out, "releasableTo=\"JPN\""));
	assert_non_null(strstr(out, "time=\"2024-05-01T12:00:00.000Z\" start=\"2024-05-01T12:00:00.500Z\""));
	assert_non_null(strstr(out, "<detail><contact callsign=\"TN 1\"/><track course=\"30.5\" "
				    "speed=\"643.0\"/></detail>"));
	assert_null(strstr(out, "__sensor"));
	assert_null(strstr(out, "endpoint"));
	/* the parser reads the copy, and the second check confirms it */
	assert_int_equal(cot_parse((const uint8_t *)out, n, back), COT_OK);
	assert_int_equal(check(o, olen, out, n, 0x3, 0x4), SCS_OK);
	/* remarks kept under entry 1 alone: CDATA became text */
	n = copy_of(o, olen, 0x2, false);
	out[n] = '\0';
	assert_non_null(strstr(out, "<remarks>seen by &lt;__sensor&gt; &amp; radar</remarks>"));
	assert_int_equal(check(o, olen, out, n, 0x2, 0x4), SCS_OK);

	/* each property fails on a mutated copy */
	n = copy_of(o, olen, 0x3, false);
	out[n] = '\0';
	static const struct {
		const char *from, *to;
		enum scs_result want;
	} m[] = {
		{"releasableTo=\"JPN\"", "releasableTo=\"KOR\"", SCS_MARKING},
		{"releasableTo=\"JPN\"", "releasableTo=\"JPN USA\"", SCS_CHANGED},
		{"<track", "<__sensor/><track", SCS_DROPPED},
		{"callsign=\"TN 1\"", "callsign=\"TN 1\" endpoint=\"x\"", SCS_DROPPED},
		{"<track", "<!--x--><track", SCS_CANONICAL},
		{"<track", "<![CDATA[x]]><track", SCS_CANONICAL},
		{"lat=\"37.88\"", "lat=\"37.876543\"", SCS_POINT},
		{"lat=\"37.88\"", "lat=\"37.89\"", SCS_POINT},
		{"ce=\"1000\"", "ce=\"999\"", SCS_POINT},
		{"hae=\"1000.5\"", "hae=\"1000.6\"", SCS_CHANGED},
		{"uid=\"U-1\"", "uid=\"U-2\"", SCS_CHANGED},
		{"how=\"m-r\"", "how=\"h-e\"", SCS_CHANGED},
		{"12:00:00.500Z", "12:00:00.501Z", SCS_CHANGED},
		{"qos=\"1-r-c\" ", "", SCS_CHANGED},
		{"course=\"30.5\"", "course=\"30.6\"", SCS_CHANGED},
		{"<contact callsign=\"TN 1\"/>", "", SCS_CHANGED},
		{"</detail>", "x</detail>", SCS_CHANGED},
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		const char *at = strstr(out, m[i].from);
		enum scs_result r;
		int k;

		if (at == NULL)
			fail_msg("mutation %zu: %s not in the copy", i, m[i].from);
		k = snprintf(mut, sizeof(mut), "%.*s%s%s", (int)(at - out), out, m[i].to,
			     at + strlen(m[i].from));
		r = check(o, olen, mut, (size_t)k, 0x3, 0x4);
		if (r != m[i].want)
			fail_msg("mutation %zu (%s -> %s): %s, want %s", i, m[i].from, m[i].to,
				 scs_name(r), scs_name(m[i].want));
	}
	/* a copy for a peer its marking leaves out, or a widened marking */
	n = copy_of(o, olen, 0x3, false);
	assert_int_equal(check(o, olen, out, n, 0x3, 0x2), SCS_MARKING);
	assert_int_equal(sc_check_copy(o, olen, (const uint8_t *)out, n, &hdr, peers, NULL, 0x3,
				       0x4, 0x3, scratch),
			 SCS_MARKING); /* the original admitted USA and KOR only */
	free(back);
}

/* A TAK v1 message: header, TakMessage{cotEvent{...}} with typed detail. */
static size_t
pb_len(uint8_t *o, unsigned field, const void *s, size_t n)
{
	size_t k = 0;

	o[k++] = (uint8_t)(field << 3 | 2);
	if (field >= 16)
		o[k - 1] = (uint8_t)((field << 3 | 2) | 0x80), o[k++] = (uint8_t)((field << 3) >> 7);
	if (n >= 128)
		o[k++] = (uint8_t)(n | 0x80), o[k++] = (uint8_t)(n >> 7);
	else
		o[k++] = (uint8_t)n;
	memcpy(o + k, s, n);
	return k + n;
}

static size_t
pb_str(uint8_t *o, unsigned field, const char *s)
{
	return pb_len(o, field, s, strlen(s));
}

static size_t
pb_dbl(uint8_t *o, unsigned field, double d)
{
	o[0] = (uint8_t)(field << 3 | 1);
	memcpy(o + 1, &d, 8);
	return 9;
}

static size_t
pb_var(uint8_t *o, unsigned field, uint64_t v)
{
	size_t k = 0;

	o[k++] = (uint8_t)(field << 3);
	do {
		o[k++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return k;
}

static size_t
v1_message(uint8_t *m)
{
	uint8_t evb[2048], det[1024], sub[256];
	size_t e = 0, d = 0, s, n = 0;

	d += pb_str(det + d, 1, "<__sensor type='SBIRS'/><remarks>r</remarks><x a='1'/>");
	s = pb_str(sub, 1, "10.1.2.3:4242:tcp");
	s += pb_str(sub + s, 2, "TN 2");
	d += pb_len(det + d, 2, sub, s);
	s = pb_str(sub, 1, "Cyan");
	s += pb_str(sub + s, 2, "Team Member");
	d += pb_len(det + d, 3, sub, s);
	s = pb_dbl(sub, 1, 643.25);
	s += pb_dbl(sub + s, 2, 30.5);
	d += pb_len(det + d, 7, sub, s);
	e += pb_str(evb + e, 1, "a-h-A-W-M-S-S");
	e += pb_str(evb + e, 2, "SECRET//REL TO USA, KOR, JPN");
	e += pb_str(evb + e, 5, "U-v1");
	e += pb_var(evb + e, 6, 1714564800000ull);
	e += pb_var(evb + e, 7, 1714564800000ull);
	e += pb_var(evb + e, 8, 1714564860000ull);
	e += pb_str(evb + e, 9, "m-r");
	e += pb_dbl(evb + e, 10, 37.876543);
	e += pb_dbl(evb + e, 11, 124.694449);
	e += pb_dbl(evb + e, 12, 1000.5);
	e += pb_dbl(evb + e, 13, 12.5);
	e += pb_dbl(evb + e, 14, 3);
	e += pb_len(evb + e, 15, det, d);
	memcpy(m, "\xbf\x01\xbf", 3);
	n = 3 + pb_len(m + 3, 2, evb, e);
	return n;
}

static void
test_v1_copy(void **state)
{
	uint8_t msg[4096];
	size_t olen = v1_message(msg), n;
	struct cot_event *back = malloc(sizeof(*back));
	(void)state;

	/* v1 out: xmlDetail only, typed elements written into it */
	n = copy_of(msg, olen, 0x3, true);
	assert_true(n > 3);
	assert_memory_equal(out, "\xbf\x01\xbf", 3);
	assert_int_equal(cot_parse((const uint8_t *)out, n, back), COT_OK);
	assert_int_equal(back->detail.len > 0, 1);
	{
		char d[1024];

		snprintf(d, sizeof(d), "%.*s", back->detail.len, back->detail.p);
		assert_string_equal(d, "<x a=\"1\"/><contact callsign=\"TN 2\"/><__group name=\"Cyan\" "
				       "role=\"Team Member\"/><track speed=\"643.25\" course=\"30.5\"/>");
	}
	assert_true(back->lat == 37.88 && back->lon == 124.69 && back->ce == 1000);
	assert_int_equal(check(msg, olen, out, n, 0x3, 0x4), SCS_OK);
	/* the same as XML, for a peer with encoding: xml */
	n = copy_of(msg, olen, 0x3, false);
	out[n] = '\0';
	assert_non_null(strstr(out, "<event version=\"2.0\" uid=\"U-v1\""));
	assert_int_equal(check(msg, olen, out, n, 0x3, 0x4), SCS_OK);
	/* mutations of the v1 copy: a typed element left in the detail */
	n = copy_of(msg, olen, 0x3, true);
	{
		char *at = memmem(out, n, "TN 2", 4);

		assert_non_null(at);
		at[3] = '3';
		assert_int_equal(check(msg, olen, out, n, 0x3, 0x4), SCS_CHANGED);
		at[3] = '2';
		at = memmem(out, n, "<x a", 4);
		memcpy(at, "<link", 5); /* same length: "<x a=" -> "<link" breaks the tag */
		assert_int_not_equal(check(msg, olen, out, n, 0x3, 0x4), SCS_OK);
	}
	free(back);
}

/* Hostile details: everything dropped, deep, wide. */
static void
test_hostile(void **state)
{
	static char d[200000];
	size_t k = 0;
	(void)state;

	assert_string_equal(detail("<__sensor/><link/><remarks/>", 1), "");
	for (unsigned i = 0; i < 16; i++)
		k += (size_t)sprintf(d + k, "<e%u>", i);
	k += (size_t)sprintf(d + k, "<__sensor/>");
	for (unsigned i = 16; i-- > 0;)
		k += (size_t)sprintf(d + k, "</e%u>", i);
	assert_non_null(detail(d, 1));
	assert_null(strstr(dbuf, "__sensor"));
	k = 0;
	for (unsigned i = 0; i < 2000; i++)
		k += (size_t)sprintf(d + k, i % 2 ? "<__sensor i='%u'/>" : "<k i='%u'/>", i);
	assert_non_null(detail(d, 1));
	assert_null(strstr(dbuf, "__sensor"));
	/* deeper than the writer's stack: refused, not overflowed */
	k = 0;
	for (unsigned i = 0; i < SAN_MAX_DEPTH + 1; i++)
		k += (size_t)sprintf(d + k, "<e>");
	for (unsigned i = 0; i < SAN_MAX_DEPTH + 1; i++)
		k += (size_t)sprintf(d + k, "</e>");
	assert_null(detail(d, 4));
	/* a copy that would not fit is refused */
	{
		struct san_steps st;
		char small[16];

		san_combine(&hdr, 4, &st);
		assert_int_equal(san_detail("<abcdefghijklmnop/>", 19, &st, small, sizeof(small)),
				 SIZE_MAX);
	}
}

/* `<name` followed by a blank, '/' or '>' somewhere in s. */
static bool
has_tag(const char *s, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = s; (p = strchr(p, '<')) != NULL; p++)
		if (strncmp(p + 1, name, n) == 0 && strchr(" \t\r\n/>", p[1 + n]) && p[1 + n])
			return true;
	return false;
}

/* Random details and drop lists: no dropped name survives as a tag, and
 * every copy is confirmed. */
static void
test_property(void **state)
{
	static const char *const names[] = {"__sensor", "link", "beam", "a", "b", "__sensors"};
	char evbuf[8192];
	unsigned seed = 12345, checked = 0, with_drops = 0;
	(void)state;

	for (unsigned round = 0; round < 2000; round++) {
		char d[4096];
		size_t k = 0, n;
		unsigned depth = 0, open[16];

		for (unsigned j = 0; j < 40 && k < sizeof(d) - 200; j++) {
			unsigned r = (seed = seed * 1103515245 + 12345) >> 16;
			unsigned nm = r % 6;

			switch (r % 7) {
			case 0:
			case 1:
				if (depth < 14) {
					k += (size_t)sprintf(d + k, "<%s x='%u'>", names[nm], r % 100);
					open[depth++] = nm;
				}
				break;
			case 2:
				if (depth > 0)
					k += (size_t)sprintf(d + k, "</%s>", names[open[--depth]]);
				break;
			case 3:
				k += (size_t)sprintf(d + k, "<%s/>", names[nm]);
				break;
			case 4:
				k += (size_t)sprintf(d + k, "<![CDATA[<%s>]]>", names[nm]);
				break;
			case 5:
				k += (size_t)sprintf(d + k, "t&lt;%s&amp;", names[nm]);
				break;
			default:
				k += (size_t)sprintf(d + k, "<!--<%s>-->", names[nm]);
			}
		}
		while (depth > 0)
			k += (size_t)sprintf(d + k, "</%s>", names[open[--depth]]);
		d[k] = '\0';
		/* The remarks element holds text only: keep it out of random details. */
		if (strstr(d, "<remarks") || strstr(d, "</remarks"))
			continue;
		k = (size_t)snprintf(evbuf, sizeof(evbuf),
				     "<event version=\"2.0\" uid=\"R\" type=\"a-h-A\" how=\"m-g\" "
				     "time=\"2024-05-01T12:00:00Z\" start=\"2024-05-01T12:00:00Z\" "
				     "stale=\"2024-05-01T12:01:00Z\" access=\"SECRET//REL TO JPN\">"
				     "<point lat=\"1.23456\" lon=\"2\" hae=\"0\" ce=\"0\" le=\"0\"/>"
				     "<detail>%s</detail></event>",
				     d);
		if (cot_parse((const uint8_t *)evbuf, k, &ev) != COT_OK)
			continue; /* e.g. a <link> or <contact> twice: refused by the parser */
		{
			struct san_steps st;

			san_combine(&hdr, 0x1, &st);
			n = san_write(&ev, &st, false, dbuf, sizeof(dbuf), out, sizeof(out));
		}
		assert_true(n > 0);
		out[n] = '\0';
		if (has_tag(out, "__sensor") || has_tag(out, "link"))
			fail_msg("round %u: a dropped name survives: %s", round, out);
		if (check((const uint8_t *)evbuf, k, out, n, 0x1, 0x4) != SCS_OK)
			fail_msg("round %u: %s: copy %s", round,
				 scs_name(check((const uint8_t *)evbuf, k, out, n, 0x1, 0x4)), out);
		checked++;
		with_drops += has_tag(d, "__sensor") || has_tag(d, "link");
	}
	/* the run is not vacuous: most details parse, many hold dropped names */
	print_message("%u copies checked, %u with dropped elements\n", checked, with_drops);
	assert_true(checked >= 500 && with_drops >= 300);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detail_table), cmocka_unit_test(test_round),
		cmocka_unit_test(test_xml_copy),     cmocka_unit_test(test_v1_copy),
		cmocka_unit_test(test_hostile),	     cmocka_unit_test(test_property),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
