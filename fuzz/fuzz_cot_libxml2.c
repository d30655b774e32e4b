/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_cot_libxml2.c - differential: what cot_parse() accepts, libxml2 reads
 * the same way, field by field.
 *
 * If cot_parse() returns COT_OK, the document (after a TAK v0 header, if
 * any) is parsed by libxml2 with no network, no DTD loading and no entity
 * substitution; abort() if libxml2 finds it not well-formed.  Then the
 * property: every field a release decision or a rule scope (tg_maps.h enum
 * tg_scope, scope_text.h) depends on is what libxml2 reads, decoded and
 * normalised as XML 1.0 says:
 *   - the tree: root <event> with one <point>, at most one <detail> and no
 *     other child element (release.md §2);
 *   - <event> version uid type how access caveat qos opex, both spellings
 *     releasableTo / releaseableTo, the COT_F_HAS_* flags, and the `marking`
 *     scope text built from them (scope_marking_text);
 *   - time, start, stale (ms, against timegm()), point lat lon hae ce le
 *     (against strtod());
 *   - <detail>: present or not, and its raw bytes: they lie between the
 *     end of <detail ...> and "</detail", and re-read by libxml2 they give
 *     the same children as the detail of the whole document;
 *   - <remarks> text (xmlNodeGetContent), text only; when the parser says
 *     it joined no runs, every run of bytes no reference produced is in the
 *     payload, in order (what the scan prefilter relies on, release.md §4);
 *   - <contact callsign>, <track> course speed slope, every <link>'s uid
 *     relation type.
 * The inputs that reach the comparison are counted and the count printed at
 * exit; with FUZZ_REQUIRE_PROPERTY=1 in the environment (tools/fuzz-run sets
 * it when fuzzing) a count of zero fails the run: a harness whose inputs
 * never get past the parser proves nothing.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, timegm */
#endif
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "cot_parse.h"
#include "fuzz_common.h"
#include "scope_text.h"

static struct cot_event ev;
static unsigned long n_inputs, n_property;

static void
differ(const char *what, const char *c, size_t clen, const char *x, size_t xlen)
{
	fprintf(stderr, "%s: cot_parse \"%.*s\" (%zu bytes), libxml2 \"%.*s\" (%zu bytes)\n", what,
		c ? (int)(clen > 300 ? 300 : clen) : 6, c ? c : "(none)", clen,
		x ? (int)(xlen > 300 ? 300 : xlen) : 6, x ? x : "(none)", xlen);
	abort();
}

/* A string cot_parse returned against libxml2's (NULL: absent). */
static void
same_str(const char *what, const xmlChar *x, const struct cot_str *got)
{
	size_t xl = x ? strlen((const char *)x) : 0;

	if ((x == NULL) != (got->p == NULL) ||
	    (x != NULL && (xl != got->len || memcmp(x, got->p, xl) != 0)))
		differ(what, got->p, got->len, (const char *)x, xl);
}

static void
same_attr(const char *what, xmlNodePtr n, const char *name, const struct cot_str *got)
{
	xmlChar *v = n ? xmlGetNoNsProp(n, (const xmlChar *)name) : NULL;

	same_str(what, v, got);
	xmlFree(v);
}

static void
same_flag(const char *what, int c, int x)
{
	if (!!c != !!x) {
		fprintf(stderr, "%s: cot_parse %s, libxml2 %s\n", what, c ? "yes" : "no",
			x ? "yes" : "no");
		abort();
	}
}

static int
has_attr(xmlNodePtr n, const char *name)
{
	return n != NULL && xmlHasNsProp(n, (const xmlChar *)name, NULL) != NULL;
}

/* The model of a number: strtod, correctly rounded.  cot_parse is exact for
 * up to 15 digits without an exponent, within a couple of ulp otherwise. */
static void
same_num(const char *what, xmlNodePtr n, const char *name, double got)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
	const char *s = (const char *)v;
	char *end;
	double want;
	int digits = 0, expo = 0;

	if (v == NULL) {
		fprintf(stderr, "%s: cot_parse has a value, libxml2 no attribute\n", what);
		abort();
	}
	want = strtod(s, &end);
	if (*end != '\0') {
		fprintf(stderr, "%s: cot_parse took \"%s\" for a number\n", what, s);
		abort();
	}
	for (const char *c = s; *c; c++) {
		digits += *c >= '0' && *c <= '9';
		expo |= *c == 'e' || *c == 'E';
	}
	if (!expo && digits <= 15 ? memcmp(&want, &got, sizeof(double)) != 0
				  : !(fabs(want - got) <= 2 * DBL_EPSILON * fmax(fabs(want), fabs(got)) ||
				      fabs(want - got) <= DBL_MIN)) {
		fprintf(stderr, "%s: cot_parse %.17g, strtod(\"%s\") %.17g\n", what, got, s, want);
		abort();
	}
	xmlFree(v);
}

/* The model of a dateTime: timegm(), which also says whether the date is
 * one (it normalises 30 February to 1 March). */
static void
same_time(const char *what, xmlNodePtr n, const char *name, int64_t got)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
	const char *s = (const char *)v, *p;
	struct tm tm = {0};
	int y, mo, d, h, mi, sec, ms = 0, nd = 0, off = 0, k = 0;
	int64_t want;

	if (v == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &k) != 6 ||
	    k != 19) {
		fprintf(stderr, "%s: cot_parse took \"%s\" for a dateTime\n", what, s ? s : "(none)");
		abort();
	}
	p = s + 19;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, nd++)
			if (nd < 3)
				ms = ms * 10 + (*p - '0');
	for (; nd < 3; nd++)
		ms *= 10;
	if (*p == '+' || *p == '-')
		off = ((p[1] - '0') * 10 + (p[2] - '0')) * 60 + (p[4] - '0') * 10 + (p[5] - '0');
	if (*p == '-')
		off = -off;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	want = ((int64_t)timegm(&tm) - (int64_t)off * 60) * 1000 + ms;
	if (tm.tm_year != y - 1900 || tm.tm_mon != mo - 1 || tm.tm_mday != d || tm.tm_hour != h ||
	    tm.tm_min != mi || tm.tm_sec != sec || want != got) {
		fprintf(stderr, "%s: cot_parse %lld ms for \"%s\", timegm %lld\n", what,
			(long long)got, s, (long long)want);
		abort();
	}
	xmlFree(v);
}

static int
is_elem(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* The serialisation of n's children: what two trees are compared by.  The
 * document's encoding is forgotten first: with none, xmlNodeDump writes
 * non-ASCII characters as references, so both dumps spell them alike. */
static xmlBufferPtr
dump_children(xmlDocPtr doc, xmlNodePtr n)
{
	xmlBufferPtr b = xmlBufferCreate();

	if (b == NULL)
		abort();
	xmlFree((xmlChar *)doc->encoding);
	doc->encoding = NULL;
	for (xmlNodePtr c = n->children; c != NULL; c = c->next)
		xmlNodeDump(b, doc, c, 0, 0);
	return b;
}

static void
check_detail(xmlDocPtr doc, xmlNodePtr detail, const uint8_t *x, size_t n)
{
	const char *p = ev.detail.p, *xs = (const char *)x;
	size_t off, len = ev.detail.len;
	xmlDocPtr d2;
	xmlBufferPtr a, b;
	char *wrap;

	same_flag("<detail>", ev.flags & COT_F_HAS_DETAIL, detail != NULL);
	same_flag("<detail> bytes", p != NULL, detail != NULL);
	if (detail == NULL)
		return;
	FUZZ_CHECK(p > xs && p + len <= xs + n);
	off = (size_t)(p - xs);
	/* just after the start tag... */
	FUZZ_CHECK(x[off - 1] == '>');
	if (x[off - 2] == '/') {
		/* <detail .../>: nothing inside */
		FUZZ_CHECK(len == 0 && detail->children == NULL);
		return;
	}
	/* ...and just before the end tag */
	FUZZ_CHECK(n - off - len >= 9 && memcmp(p + len, "</detail", 8) == 0);
	wrap = malloc(len + 20);
	if (wrap == NULL)
		abort();
	memcpy(wrap, "<detail>", 8);
	memcpy(wrap + 8, p, len);
	memcpy(wrap + 8 + len, "</detail>", 9);
	d2 = xmlReadMemory(wrap, (int)(len + 17), "detail.xml", NULL,
			   XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (d2 == NULL) {
		fprintf(stderr, "<detail> bytes \"%.*s\" are no element content\n",
			(int)(len > 300 ? 300 : len), p);
		abort();
	}
	a = dump_children(doc, detail);
	b = dump_children(d2, xmlDocGetRootElement(d2));
	if (strcmp((const char *)xmlBufferContent(a), (const char *)xmlBufferContent(b)) != 0)
		differ("<detail> re-read", (const char *)xmlBufferContent(b),
		       (size_t)xmlBufferLength(b), (const char *)xmlBufferContent(a),
		       (size_t)xmlBufferLength(a));
	xmlBufferFree(a);
	xmlBufferFree(b);
	xmlFreeDoc(d2);
	free(wrap);
}

static int
produced(uint8_t c)
{
	return (int)(ev.remarks_dec.produced[c >> 6] >> (c & 63) & 1);
}

static void
check_remarks(xmlNodePtr remarks, const uint8_t *x, size_t n)
{
	xmlChar *t;
	const uint8_t *r = (const uint8_t *)ev.remarks.p, *from = x;
	size_t i = 0, len = ev.remarks.len;

	same_flag("<remarks>", ev.flags & COT_F_HAS_REMARKS, remarks != NULL);
	if (remarks == NULL) {
		FUZZ_CHECK(ev.remarks.p == NULL);
		return;
	}
	for (xmlNodePtr c = remarks->children; c != NULL; c = c->next)
		if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE &&
		    c->type != XML_COMMENT_NODE) {
			fprintf(stderr, "<remarks> holds a node of type %d\n", (int)c->type);
			abort();
		}
	t = xmlNodeGetContent(remarks);
	same_str("<remarks> text", t, &ev.remarks);
	xmlFree(t);
	if (ev.remarks_dec.joined)
		return;
	while (i < len) {
		size_t j;
		const uint8_t *at;

		while (i < len && produced(r[i]))
			i++;
		for (j = i; j < len && !produced(r[j]); j++)
			;
		if (j == i)
			break;
		at = memmem(from, (size_t)(x + n - from), r + i, j - i);
		if (at == NULL) {
			fprintf(stderr, "<remarks> run \"%.*s\" (no byte a reference produced, "
					"not joined) is not in the payload after offset %zu\n",
				(int)(j - i > 200 ? 200 : j - i), (const char *)r + i,
				(size_t)(from - x));
			abort();
		}
		from = at + (j - i);
		i = j;
	}
}

static void
check_links_track_contact(xmlNodePtr detail)
{
	xmlNodePtr track = NULL, contact = NULL;
	unsigned nl = 0;

	for (xmlNodePtr c = detail ? detail->children : NULL; c != NULL; c = c->next) {
		if (is_elem(c, "track")) {
			track = c;
		} else if (is_elem(c, "contact")) {
			contact = c;
		} else if (is_elem(c, "link")) {
			FUZZ_CHECK(nl < ev.n_links);
			same_attr("<link uid>", c, "uid", &ev.link[nl].uid);
			same_attr("<link relation>", c, "relation", &ev.link[nl].relation);
			same_attr("<link type>", c, "type", &ev.link[nl].type);
			nl++;
		}
	}
	FUZZ_CHECK(nl == ev.n_links);

	same_flag("<track>", ev.has_track, track != NULL);
	same_flag("<track> flag", ev.flags & COT_F_HAS_TRACK, track != NULL);
	same_flag("<track course>", ev.flags & COT_F_HAS_COURSE, has_attr(track, "course"));
	same_flag("<track speed>", ev.flags & COT_F_HAS_SPEED, has_attr(track, "speed"));
	same_flag("<track slope>", ev.flags & COT_F_HAS_SLOPE, has_attr(track, "slope"));
	if (ev.flags & COT_F_HAS_COURSE)
		same_num("<track course>", track, "course", ev.course);
	if (ev.flags & COT_F_HAS_SPEED)
		same_num("<track speed>", track, "speed", ev.speed);
	if (ev.flags & COT_F_HAS_SLOPE)
		same_num("<track slope>", track, "slope", ev.slope);

	same_flag("<contact>", ev.flags & COT_F_HAS_CONTACT, contact != NULL);
	same_flag("<contact callsign> flag", ev.flags & COT_F_HAS_CALLSIGN,
		  has_attr(contact, "callsign"));
	same_attr("<contact callsign>", contact, "callsign", &ev.callsign);
}

static void
check_event(xmlNodePtr root)
{
	static char mk[3 * COT_MAX_FIELD + 8], want[3 * COT_MAX_FIELD + 8];
	const char *spell[2] = {"releasableTo", "releaseableTo"};
	xmlChar *rel[2], *mkv[3];
	size_t mn, wn = 0;

	same_attr("version", root, "version", &ev.version);
	same_attr("uid", root, "uid", &ev.uid);
	same_attr("type", root, "type", &ev.type);
	same_attr("how", root, "how", &ev.how);
	same_attr("access", root, "access", &ev.access);
	same_attr("caveat", root, "caveat", &ev.caveat);
	same_attr("qos", root, "qos", &ev.qos);
	same_attr("opex", root, "opex", &ev.opex);
	same_flag("access flag", ev.flags & COT_F_HAS_ACCESS, has_attr(root, "access"));
	same_flag("caveat flag", ev.flags & COT_F_HAS_CAVEAT, has_attr(root, "caveat"));
	same_flag("qos flag", ev.flags & COT_F_HAS_QOS, has_attr(root, "qos"));
	same_flag("opex flag", ev.flags & COT_F_HAS_OPEX, has_attr(root, "opex"));

	/* Both spellings: each one present must be the value cot_parse returns. */
	for (int i = 0; i < 2; i++) {
		rel[i] = xmlGetNoNsProp(root, (const xmlChar *)spell[i]);
		if (rel[i] != NULL)
			same_str(spell[i], rel[i], &ev.releasable_to);
	}
	same_flag("releasability", ev.flags & COT_F_HAS_REL, rel[0] || rel[1]);
	same_flag("both spellings", ev.flags & COT_F_REL_BOTH, rel[0] && rel[1]);
	if (rel[0] == NULL && rel[1] == NULL)
		FUZZ_CHECK(ev.releasable_to.p == NULL);

	/* The `marking` scope: access, caveat, releasableTo, '\n'-joined. */
	mkv[0] = xmlGetNoNsProp(root, (const xmlChar *)"access");
	mkv[1] = xmlGetNoNsProp(root, (const xmlChar *)"caveat");
	mkv[2] = rel[0] ? rel[0] : rel[1];
	for (int i = 0; i < 3; i++) {
		size_t l = mkv[i] ? strlen((const char *)mkv[i]) : 0;

		FUZZ_CHECK(wn + l + 1 <= sizeof(want));
		memcpy(want + wn, mkv[i] ? (const char *)mkv[i] : "", l);
		wn += l;
		if (i < 2)
			want[wn++] = '\n';
	}
	mn = scope_marking_text(mk, sizeof(mk), &ev);
	if (mn != wn || memcmp(mk, want, wn) != 0)
		differ("marking scope", mk, mn == SIZE_MAX ? 0 : mn, want, wn);
	xmlFree(mkv[0]);
	xmlFree(mkv[1]);
	xmlFree(rel[0]);
	xmlFree(rel[1]);

	same_time("time", root, "time", ev.time_ms);
	same_time("start", root, "start", ev.start_ms);
	same_time("stale", root, "stale", ev.stale_ms);
}

static void
at_exit(void)
{
	fprintf(stderr, "fuzz_cot_libxml2: property reached by %lu of %lu inputs "
			"(both parsers accepted, every field compared)\n",
		n_property, n_inputs);
	if (n_property == 0) {
		const char *req = getenv("FUZZ_REQUIRE_PROPERTY");

		if (req != NULL && strcmp(req, "1") == 0) {
			fprintf(stderr, "ERROR: fuzz_cot_libxml2: no input reached the property "
					"(FUZZ_REQUIRE_PROPERTY=1)\n");
			_exit(1);
		}
	}
}

static void
xml_quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static void
xml_quiet_structured(void *ctx, xmlErrorPtr err)
{
	(void)ctx;
	(void)err;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xmlInitParser();
	xmlSetGenericErrorFunc(NULL, xml_quiet);
	xmlSetStructuredErrorFunc(NULL, xml_quiet_structured);
	atexit(at_exit);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *doc_p = data;
	size_t doc_n = size;
	xmlDocPtr doc;
	xmlNodePtr root, point = NULL, detail = NULL, remarks = NULL;
	int tak;

	n_inputs++;
	/* libxml2 reads XML only: TAK Protocol v1 is fuzz_takproto's */
	if (cot_encoding_of(data, size) == COT_ENC_TAKV1 || cot_parse(data, size, &ev) != COT_OK)
		return 0;
	tak = doc_n >= 3 && doc_p[0] == 0xbf && doc_p[1] == 0x00 && doc_p[2] == 0xbf;
	same_flag("TAK v0 header", ev.flags & COT_F_TAK_HDR, tak);
	if (tak) {
		doc_p += 3;
		doc_n -= 3;
	}
	/* XML_PARSE_NOENT is NOT given: entities are not substituted; no
	 * XML_PARSE_DTDLOAD / DTDATTR / DTDVALID: no external DTD is read. */
	doc = xmlReadMemory((const char *)doc_p, (int)doc_n, "fuzz.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL) {
		const xmlError *xe = xmlGetLastError();

		fprintf(stderr, "cot_parse accepted a document libxml2 rejects: %s",
			xe && xe->message ? xe->message : "(no message)\n");
		abort();
	}
	root = xmlDocGetRootElement(doc);
	if (root == NULL || root->name == NULL || strcmp((const char *)root->name, "event") != 0) {
		fprintf(stderr, "cot_parse accepted a document whose libxml2 root is <%s>\n",
			root && root->name ? (const char *)root->name : "(none)");
		abort();
	}
	for (xmlNodePtr c = root->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_elem(c, "point") && point == NULL) {
			point = c;
		} else if (is_elem(c, "detail") && detail == NULL) {
			detail = c;
		} else {
			fprintf(stderr, "cot_parse accepted <event> with a child <%s> (a second "
					"one, or one no rule sees)\n",
				(const char *)c->name);
			abort();
		}
	}
	FUZZ_CHECK(point != NULL);
	for (xmlNodePtr c = detail ? detail->children : NULL; c != NULL; c = c->next)
		if (is_elem(c, "remarks")) {
			FUZZ_CHECK(remarks == NULL);
			remarks = c;
		}

	check_event(root);
	same_num("lat", point, "lat", ev.lat);
	same_num("lon", point, "lon", ev.lon);
	same_num("hae", point, "hae", ev.hae);
	same_num("ce", point, "ce", ev.ce);
	same_num("le", point, "le", ev.le);
	check_detail(doc, detail, data, size);
	check_remarks(remarks, data, size);
	check_links_track_contact(detail);
	n_property++;

	xmlFreeDoc(doc);
	xmlResetLastError();
	return 0;
}
