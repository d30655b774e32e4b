/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_takproto.c - TAK Protocol Version 1 (docs/release.md §2, §6, §7): the
 * decoder (dataplane/takproto.c, the head step), the rest step that reads
 * the detail text D (cot_parse.c), the XML conversion for peers with
 * `encoding: xml` (cot_write.c) and the independent second check over
 * protobuf (second_check.c), against each other, against lib/marking.c and
 * against models of the spec's text written here.
 *
 * Input, by its first byte:
 *   0xff   the rest is a token stream (below), serialised here as protobuf
 *          with every length computed, behind 0xbf 0x01 0xbf: mutations
 *          change fields and nesting without breaking every length around
 *          them;
 *   0xbf   the input as it is (another TAK header, XML behind one, a v1
 *          message with its header) and the input behind 0xbf 0x01 0xbf;
 *   other  the input behind 0xbf 0x01 0xbf.
 * Token stream: a byte t, then by its wire type t & 7 (field number t >> 3):
 *   0      a varint: the next bytes up to the first below 0x80 (at most 10)
 *   1, 5   the next 8 or 4 bytes
 *   2      a byte L: L < 0x7f: a string of the next L bytes; 0x7f: two more
 *          bytes give the length (big-endian); L >= 0x80: a message opens
 *          and lasts to its close token (or the end), its length written
 *          with one byte too many (overlong) if L & 0x40
 *   3 4 6  the key alone (groups, an unknown wire type)
 *   7      closes the innermost open message
 *
 * Checked for every payload cot_parse() reads (an abort is a crash):
 *   a. on an error: a known code, err_off <= len, uid and type absent or
 *      inside the payload.  On COT_OK: every string inside the payload, the
 *      used part of ev->buf or of ev->tak_detail (version: "2.0" for v1);
 *      uid, type, how present; the bounds of release.md §2; flags agree with
 *      their strings; lat/lon/ce/le and track ranges, finite numbers; times
 *      in 0..253402300799999.  The detail text D is exactly the model of §2:
 *      xmlDetail, then each typed element on the wire whose name is not a
 *      direct child of xmlDetail (found by this file's own scan), written as
 *      §2 says; D is a byte range of the payload when nothing is written.
 *   b. cot_write_xml() writes exactly the document of §6 (this file's own
 *      writer: escaping, numbers, gmtime_r() times); it fits the worker's
 *      65,507-byte buffer iff it returns its length, and writes nothing at
 *      one byte short.  cot_parse() of that XML is COT_OK with the same uid,
 *      type, how, access, qos, opex, caveat, releasableTo, times, flags,
 *      callsign, remarks (and how they were decoded), detail bytes (D), track,
 *      links; lat/lon/hae/ce/le bitwise equal, except where the number's
 *      text is outside the parser's correctly rounded domain (cot_parse.c
 *      parse_double: a significand over 2^53 or a decimal exponent beyond
 *      +-22), where fuzz_cot_libxml2's tolerance applies (2 DBL_EPSILON
 *      relative, or DBL_MIN) and the input is counted.  An XML over
 *      COT_MAX_MSG (the worker never sends it: it does not fit its buffer)
 *      is counted and not re-parsed.
 *   c. tg_marking_resolve() (lib/marking.c) of the event's access, caveat
 *      and releasableTo under a link default (none or one of three, by the
 *      input's length): when it resolves, sc_derive() on the v1 bytes
 *      succeeds with the same level and releasability; whatever it says,
 *      sc_derive() on the converted XML says the same as on the v1 bytes.
 *   d. the payload cut short (by one byte, and at one more place) is never
 *      accepted with a different uid; the cut copies are exact-size heap
 *      copies, so a read past the cut is an ASan report.
 * It prints at exit how many inputs reached b and c; with
 * FUZZ_REQUIRE_PROPERTY=1 (tools/fuzz-run sets it) a run where none did
 * fails.  FUZZ_TAKPROTO_NO_MODEL=1 leaves out the byte-exact comparisons
 * with the models of D (§2) and of the document (§6), so that what the
 * re-parse alone (b) catches shows.
 */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "cot_parse.h"
#include "cot_write.h"
#include "fuzz_common.h"
#include "marking.h"
#include "second_check.h"

#define TAK_MAX_MS INT64_C(253402300799999)
#define XML_CAP 65507 /* dataplane/dp.h DP_UDP_PAYLOAD_MAX: the worker's xmlbuf */
#define BIG (1u << 18) /* more than any conversion: 65,535 + 8 escaped strings + typed */
#define BUILD_MAX 70000 /* token stream output: past COT_MAX_MSG, for OVERSIZE */
#define BUILD_DEPTH 8

static struct cot_event ev, ev2, ev3;
static struct tg_slot_hdr hdr;
static struct tg_marking defaults[3];
static char xml[BIG], model[BIG], small[BIG];
/* a token adds at most 20 bytes past BUILD_MAX, each close 11 */
static uint8_t built[BUILD_MAX + 32 + 11 * BUILD_DEPTH];
static bool no_model;

static struct {
	unsigned long inputs, v1_ok, converted, reparsed, sc_compared, marking_bad, sc_bad,
		xml_too_big, inexact, prefix_ok, raw_ok, typed_written;
} st;

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		fprintf(stderr, "%s:%d: invariant failed: ", __FILE__, __LINE__);                  \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fputc('\n', stderr);                                                               \
		abort();                                                                           \
	} while (0)

/* ---- (a) the event is sane ---------------------------------------------- */

static bool
inside(const char *s, size_t n, const void *base, size_t len)
{
	const char *b = base;

	return s >= b && s <= b + len && (size_t)(s - b) + n <= len;
}

/* A returned string: absent, or inside the payload, the used part of the
 * decode buffer or of the v1 detail text. */
static void
check_str(const struct cot_event *e, const struct cot_str *s, const uint8_t *p, size_t n,
	  size_t max, bool required, const char *what)
{
	size_t td = e->detail.p == e->tak_detail ? e->detail.len : 0;

	if (s->p == NULL) {
		if (s->len != 0 || required)
			FAIL("%s: absent with length %u%s", what, s->len,
			     required ? " (required)" : "");
		return;
	}
	if (required && s->len == 0)
		FAIL("%s: empty", what);
	if (s->len > max)
		FAIL("%s: %u bytes, over its bound %zu", what, s->len, max);
	if (!inside(s->p, s->len, p, n) && !inside(s->p, s->len, e->buf, e->buf_used) &&
	    !inside(s->p, s->len, e->tak_detail, td))
		FAIL("%s: outside the payload, the decode buffer and the detail text", what);
	fuzz_touch(s->p, s->len);
}

static void
check_error(const struct cot_event *e, enum cot_err err, const uint8_t *p, size_t n)
{
	if ((unsigned)err >= COT_E_COUNT || cot_err_name(err) == NULL)
		FAIL("unknown error code %d", (int)err);
	if (e->err_off > n)
		FAIL("%s: err_off %u past the payload's %zu bytes", cot_err_name(err), e->err_off, n);
	/* cot_parse.h: this payload's values or absent, never a stale one */
	if (e->uid.p != NULL && !inside(e->uid.p, e->uid.len, p, n) &&
	    !inside(e->uid.p, e->uid.len, e->buf, COT_DECODE_BUF))
		FAIL("%s: uid outside the payload", cot_err_name(err));
	if (e->type.p != NULL && !inside(e->type.p, e->type.len, p, n) &&
	    !inside(e->type.p, e->type.len, e->buf, COT_DECODE_BUF))
		FAIL("%s: type outside the payload", cot_err_name(err));
	if (n > COT_MAX_MSG)
		FUZZ_CHECK(err == COT_E_OVERSIZE && e->err_off == COT_MAX_MSG);
	else if (cot_encoding_of(p, n) == COT_ENC_TAKV1 && e->encoding != COT_ENC_TAKV1)
		FAIL("%s: a v1 payload read as XML", cot_err_name(err));
}

static void
check_event(const struct cot_event *e, const uint8_t *p, size_t n)
{
	bool v1 = cot_encoding_of(p, n) == COT_ENC_TAKV1;

	FUZZ_CHECK(n <= COT_MAX_MSG);
	FUZZ_CHECK(e->buf_used <= COT_DECODE_BUF);
	FUZZ_CHECK(e->encoding == (v1 ? COT_ENC_TAKV1 : COT_ENC_XML));
	if (v1) {
		FUZZ_CHECK(e->version.len == 3 && memcmp(e->version.p, "2.0", 3) == 0);
		FUZZ_CHECK(!(e->flags & (COT_F_TAK_HDR | COT_F_XML_DECL | COT_F_REL_BOTH)));
	} else {
		check_str(e, &e->version, p, n, COT_MAX_FIELD, true, "version");
	}
	check_str(e, &e->uid, p, n, COT_MAX_FIELD, true, "uid");
	check_str(e, &e->type, p, n, COT_MAX_FIELD, true, "type");
	check_str(e, &e->how, p, n, COT_MAX_FIELD, true, "how");
	check_str(e, &e->access, p, n, COT_MAX_FIELD, false, "access");
	check_str(e, &e->qos, p, n, COT_MAX_FIELD, false, "qos");
	check_str(e, &e->opex, p, n, COT_MAX_FIELD, false, "opex");
	check_str(e, &e->caveat, p, n, COT_MAX_FIELD, false, "caveat");
	check_str(e, &e->releasable_to, p, n, COT_MAX_FIELD, false, "releasableTo");
	check_str(e, &e->callsign, p, n, COT_MAX_FIELD, false, "callsign");
	check_str(e, &e->remarks, p, n, COT_MAX_REMARKS, false, "remarks");
	check_str(e, &e->detail, p, n, COT_MAX_MSG + COT_TAK_TYPED_MAX, false, "detail");
	FUZZ_CHECK(e->n_links <= COT_MAX_LINKS);
	for (unsigned i = 0; i < e->n_links; i++) {
		check_str(e, &e->link[i].uid, p, n, COT_MAX_FIELD, false, "link uid");
		check_str(e, &e->link[i].relation, p, n, COT_MAX_FIELD, false, "link relation");
		check_str(e, &e->link[i].type, p, n, COT_MAX_FIELD, false, "link type");
	}
	/* flags agree with the strings they announce */
	FUZZ_CHECK(!!(e->flags & COT_F_HAS_ACCESS) == (e->access.p != NULL));
	FUZZ_CHECK(!!(e->flags & COT_F_HAS_CAVEAT) == (e->caveat.p != NULL));
	FUZZ_CHECK(!!(e->flags & COT_F_HAS_REL) == (e->releasable_to.p != NULL));
	FUZZ_CHECK(!!(e->flags & COT_F_HAS_QOS) == (e->qos.p != NULL));
	FUZZ_CHECK(!!(e->flags & COT_F_HAS_OPEX) == (e->opex.p != NULL));
	FUZZ_CHECK(!!(e->flags & COT_F_HAS_DETAIL) == (e->detail.p != NULL));
	FUZZ_CHECK(!(e->flags & COT_F_HAS_CALLSIGN) || e->callsign.p != NULL);
	FUZZ_CHECK(!(e->flags & COT_F_HAS_CALLSIGN) || (e->flags & COT_F_HAS_CONTACT));
	FUZZ_CHECK(!!(e->flags & COT_F_HAS_TRACK) == !!e->has_track);
	if (!(e->flags & COT_F_HAS_DETAIL))
		FUZZ_CHECK(!(e->flags & (COT_F_HAS_TRACK | COT_F_HAS_CONTACT | COT_F_HAS_REMARKS)) &&
			   e->n_links == 0 && e->callsign.p == NULL && e->remarks.p == NULL);
	/* ranges (release.md §2) */
	FUZZ_CHECK(isfinite(e->lat) && isfinite(e->lon) && isfinite(e->hae) && isfinite(e->ce) &&
		   isfinite(e->le));
	FUZZ_CHECK(e->lat >= -90.0 && e->lat <= 90.0);
	FUZZ_CHECK(e->lon >= -180.0 && e->lon <= 180.0);
	FUZZ_CHECK(e->ce >= 0.0 && e->le >= 0.0);
	if (e->flags & COT_F_HAS_TRACK) {
		FUZZ_CHECK(isfinite(e->course) && isfinite(e->speed) && isfinite(e->slope));
		FUZZ_CHECK(e->course >= 0.0 && e->course <= 360.0 && e->speed >= 0.0);
	} else {
		FUZZ_CHECK(!(e->flags & (COT_F_HAS_COURSE | COT_F_HAS_SPEED | COT_F_HAS_SLOPE)));
	}
	FUZZ_CHECK((e->flags & COT_F_HAS_COURSE) || e->course == 0.0);
	FUZZ_CHECK((e->flags & COT_F_HAS_SPEED) || e->speed == 0.0);
	FUZZ_CHECK((e->flags & COT_F_HAS_SLOPE) || e->slope == 0.0);
	if (v1) {
		FUZZ_CHECK(e->time_ms >= 0 && e->time_ms <= TAK_MAX_MS);
		FUZZ_CHECK(e->start_ms >= 0 && e->start_ms <= TAK_MAX_MS);
		FUZZ_CHECK(e->stale_ms >= 0 && e->stale_ms <= TAK_MAX_MS);
	}
}

/* ---- the models of release.md §2 and §6 ---------------------------------- */

struct sbuf {
	char *p;
	size_t n, cap;
};

static void
sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->n + n > b->cap)
		FAIL("model buffer full");
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

/* §2: & < > " tab LF CR escaped, every other byte as it is */
static void
sb_attr(struct sbuf *b, const char *name, const struct cot_str *v)
{
	if (v->p == NULL || v->len == 0)
		return;
	sb_str(b, " ");
	sb_str(b, name);
	sb_str(b, "=\"");
	for (size_t i = 0; i < v->len; i++) {
		switch (v->p[i]) {
		case '&': sb_str(b, "&amp;"); break;
		case '<': sb_str(b, "&lt;"); break;
		case '>': sb_str(b, "&gt;"); break;
		case '"': sb_str(b, "&quot;"); break;
		case '\t': sb_str(b, "&#9;"); break;
		case '\n': sb_str(b, "&#10;"); break;
		case '\r': sb_str(b, "&#13;"); break;
		default: sb_put(b, &v->p[i], 1);
		}
	}
	sb_str(b, "\"");
}

/* §2: %.15g, or %.17g if that does not read back as the same double */
static int
num_text(double d, char *t, size_t cap)
{
	int n = snprintf(t, cap, "%.15g", d);

	if (strtod(t, NULL) != d)
		n = snprintf(t, cap, "%.17g", d);
	return n;
}

static void
sb_num(struct sbuf *b, const char *name, double d)
{
	char t[64];

	num_text(d, t, sizeof(t));
	sb_str(b, " ");
	sb_str(b, name);
	sb_str(b, "=\"");
	sb_str(b, t);
	sb_str(b, "\"");
}

/* §6: YYYY-MM-DDThh:mm:ss.mmmZ, here by gmtime_r() */
static void
sb_time(struct sbuf *b, const char *name, int64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	char t[64];

	if (gmtime_r(&s, &tm) == NULL)
		FAIL("gmtime_r(%lld)", (long long)s);
	snprintf(t, sizeof(t), " %s=\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"", name,
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(ms % 1000));
	sb_str(b, t);
}

static const char *const typed_names[6] = {"contact", "__group", "precisionlocation",
					   "status",  "takv",    "track"};

/* §2: one typed element as D holds it */
static void
sb_typed(struct sbuf *b, const struct cot_tak *t, unsigned bit)
{
	char v[32];

	sb_str(b, "<");
	switch (bit) {
	case COT_TAK_CONTACT:
		sb_str(b, "contact");
		sb_attr(b, "endpoint", &t->endpoint);
		sb_attr(b, "callsign", &t->callsign);
		break;
	case COT_TAK_GROUP:
		sb_str(b, "__group");
		sb_attr(b, "name", &t->group_name);
		sb_attr(b, "role", &t->group_role);
		break;
	case COT_TAK_PRECISIONLOCATION:
		sb_str(b, "precisionlocation");
		sb_attr(b, "geopointsrc", &t->geopointsrc);
		sb_attr(b, "altsrc", &t->altsrc);
		break;
	case COT_TAK_STATUS:
		snprintf(v, sizeof(v), "status battery=\"%lu\"", (unsigned long)t->battery);
		sb_str(b, v);
		break;
	case COT_TAK_TAKV:
		sb_str(b, "takv");
		sb_attr(b, "device", &t->device);
		sb_attr(b, "platform", &t->platform);
		sb_attr(b, "os", &t->os);
		sb_attr(b, "version", &t->version);
		break;
	case COT_TAK_TRACK:
		sb_str(b, "track");
		sb_num(b, "speed", t->speed);
		sb_num(b, "course", t->course);
		break;
	}
	sb_str(b, "/>");
}

static size_t
skip_to(const char *s, size_t n, size_t i, const char *end)
{
	size_t k = strlen(end);

	for (; i + k <= n; i++)
		if (memcmp(s + i, end, k) == 0)
			return i + k;
	return n;
}

/* The typed names among the direct children of xmlDetail (COT_TAK_* bits).
 * An independent scan, good for what the parser accepted: comments and
 * CDATA skipped, quoted attribute values skipped ('>' may be in them). */
static unsigned
direct_typed(const char *s, size_t n)
{
	unsigned named = 0;
	int depth = 0;
	size_t i = 0;

	while (i < n) {
		size_t j, k;
		char q = 0;

		if (s[i] != '<') {
			i++;
			continue;
		}
		if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
			i = skip_to(s, n, i + 4, "-->");
			continue;
		}
		if (n - i >= 9 && memcmp(s + i, "<![CDATA[", 9) == 0) {
			i = skip_to(s, n, i + 9, "]]>");
			continue;
		}
		if (i + 1 < n && s[i + 1] == '/') {
			depth--;
			i = skip_to(s, n, i, ">");
			continue;
		}
		for (j = i + 1; j < n && s[j] != ' ' && s[j] != '\t' && s[j] != '\r' &&
				s[j] != '\n' && s[j] != '/' && s[j] != '>';
		     j++)
			;
		if (depth == 0)
			for (unsigned b = 0; b < 6; b++)
				if (strlen(typed_names[b]) == j - i - 1 &&
				    memcmp(s + i + 1, typed_names[b], j - i - 1) == 0)
					named |= 1u << b;
		for (k = j; k < n; k++) {
			if (q) {
				if (s[k] == q)
					q = 0;
			} else if (s[k] == '"' || s[k] == '\'') {
				q = s[k];
			} else if (s[k] == '>') {
				break;
			}
		}
		if (k >= n)
			break;
		if (s[k - 1] != '/')
			depth++;
		i = k + 1;
	}
	return named;
}

/* (a) D is xmlDetail and the typed elements xmlDetail does not name. */
static void
check_detail_text(const struct cot_event *e, const uint8_t *p, size_t n)
{
	const struct cot_tak *t = &e->tak;
	struct sbuf b = {small, 0, sizeof(small)};
	unsigned named, write;

	check_str(e, &t->xml_detail, p, n, COT_MAX_MSG, false, "xmlDetail");
	FUZZ_CHECK(t->xml_detail.p == NULL || inside(t->xml_detail.p, t->xml_detail.len, p, n));
	FUZZ_CHECK(!!(t->present & COT_TAK_XMLDETAIL) == (t->xml_detail.p != NULL));
	{
		const struct cot_str *ts[] = {&t->endpoint, &t->callsign, &t->group_name,
					      &t->group_role, &t->geopointsrc, &t->altsrc,
					      &t->device, &t->platform, &t->os, &t->version};

		for (unsigned i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
			check_str(e, ts[i], p, n, COT_MAX_FIELD, false, "typed detail string");
			FUZZ_CHECK(ts[i]->p == NULL || inside(ts[i]->p, ts[i]->len, p, n));
		}
	}
	if (!(e->flags & COT_F_HAS_DETAIL)) {
		FUZZ_CHECK((t->present & (COT_TAK_TYPED | COT_TAK_XMLDETAIL)) == 0);
		return;
	}
	FUZZ_CHECK(t->detail_off <= n);
	if (t->present & COT_TAK_TRACK)
		FUZZ_CHECK(isfinite(t->speed) && isfinite(t->course) && t->speed >= 0.0 &&
			   t->course >= 0.0 && t->course <= 360.0);
	named = t->xml_detail.p ? direct_typed(t->xml_detail.p, t->xml_detail.len) : 0;
	write = t->present & COT_TAK_TYPED & ~named;
	if (t->xml_detail.p)
		sb_put(&b, t->xml_detail.p, t->xml_detail.len);
	for (unsigned bit = 1; bit <= COT_TAK_TRACK; bit <<= 1)
		if (write & bit)
			sb_typed(&b, t, bit);
	if (!no_model && (e->detail.len != b.n || memcmp(e->detail.p, b.p, b.n) != 0))
		FAIL("detail text: %u bytes, the model of release.md §2 has %zu (typed on the "
		     "wire 0x%x, named in xmlDetail 0x%x)\n  D:     %.*s\n  model: %.*s",
		     e->detail.len, b.n, t->present & COT_TAK_TYPED, named, (int)e->detail.len,
		     e->detail.p, (int)b.n, b.p);
	if (write == 0) {
		/* a byte range of the payload: xmlDetail where it lies */
		FUZZ_CHECK(inside(e->detail.p, e->detail.len, p, n));
		FUZZ_CHECK(t->xml_detail.p == NULL || e->detail.p == t->xml_detail.p);
	} else {
		FUZZ_CHECK(e->detail.p == e->tak_detail);
		st.typed_written++;
	}
}

/* §6: the document a peer with `encoding: xml` gets */
static size_t
model_xml(const struct cot_event *e, char *out, size_t cap)
{
	struct sbuf b = {out, 0, cap};

	sb_str(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
		   "<event version=\"2.0\"");
	sb_attr(&b, "uid", &e->uid);
	sb_attr(&b, "type", &e->type);
	sb_attr(&b, "how", &e->how);
	sb_time(&b, "time", e->time_ms);
	sb_time(&b, "start", e->start_ms);
	sb_time(&b, "stale", e->stale_ms);
	sb_attr(&b, "access", &e->access);
	sb_attr(&b, "qos", &e->qos);
	sb_attr(&b, "opex", &e->opex);
	sb_attr(&b, "caveat", &e->caveat);
	sb_attr(&b, "releasableTo", &e->releasable_to);
	sb_str(&b, "><point");
	sb_num(&b, "lat", e->lat);
	sb_num(&b, "lon", e->lon);
	sb_num(&b, "hae", e->hae);
	sb_num(&b, "ce", e->ce);
	sb_num(&b, "le", e->le);
	sb_str(&b, "/>");
	if (e->flags & COT_F_HAS_DETAIL) {
		sb_str(&b, "<detail>");
		sb_put(&b, e->detail.p, e->detail.len);
		sb_str(&b, "</detail>");
	}
	sb_str(&b, "</event>");
	return b.n;
}

/* ---- (b) the conversion is faithful -------------------------------------- */

static bool
str_eq(const struct cot_str *a, const struct cot_str *b)
{
	return (a->p == NULL) == (b->p == NULL) && a->len == b->len &&
	       (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static void
same_str(const char *what, const struct cot_str *a, const struct cot_str *b)
{
	if (!str_eq(a, b))
		FAIL("conversion: %s \"%.*s\" (%s) in v1, \"%.*s\" (%s) in the XML", what,
		     (int)a->len, a->p ? a->p : "", a->p ? "present" : "absent", (int)b->len,
		     b->p ? b->p : "", b->p ? "present" : "absent");
}

/* Whether cot_parse.c's parse_double reads the text correctly rounded: a
 * significand of at most 2^53 and a decimal exponent within +-22 (its
 * comment; beyond, "within about an ulp"). */
static bool
exact_domain(const char *t)
{
	uint64_t mant = 0;
	long e10 = 0, x = 0;
	bool big = false;
	int eneg = 0;

	if (*t == '-' || *t == '+')
		t++;
	for (; *t >= '0' && *t <= '9'; t++) {
		if (mant > UINT64_MAX / 10 - 10)
			big = true;
		else
			mant = mant * 10 + (uint64_t)(*t - '0');
	}
	if (*t == '.')
		for (t++; *t >= '0' && *t <= '9'; t++, e10--) {
			if (mant > UINT64_MAX / 10 - 10)
				big = true;
			else
				mant = mant * 10 + (uint64_t)(*t - '0');
		}
	if (*t == 'e' || *t == 'E') {
		t++;
		if (*t == '-' || *t == '+')
			eneg = *t++ == '-';
		for (; *t >= '0' && *t <= '9'; t++)
			x = x * 10 + (*t - '0');
		e10 += eneg ? -x : x;
	}
	return mant == 0 || (!big && mant <= (UINT64_C(1) << 53) && e10 >= -22 && e10 <= 22);
}

static void
same_num(const char *what, double a, double b)
{
	char t[64];

	if (memcmp(&a, &b, sizeof(a)) == 0)
		return;
	num_text(a, t, sizeof(t));
	if (exact_domain(t) ||
	    !(fabs(a - b) <= 2 * DBL_EPSILON * fmax(fabs(a), fabs(b)) || fabs(a - b) <= DBL_MIN))
		FAIL("conversion: %s %.17g in v1, written \"%s\", read back as %.17g", what, a, t,
		     b);
	st.inexact++;
}

static void
check_conversion_fields(const struct cot_event *a, const struct cot_event *b)
{
	const uint32_t content = COT_F_HAS_ACCESS | COT_F_HAS_REL | COT_F_HAS_CAVEAT |
				 COT_F_HAS_DETAIL | COT_F_HAS_QOS | COT_F_HAS_OPEX |
				 COT_F_HAS_TRACK | COT_F_HAS_SLOPE | COT_F_HAS_CONTACT |
				 COT_F_HAS_CALLSIGN | COT_F_HAS_REMARKS | COT_F_HAS_COURSE |
				 COT_F_HAS_SPEED;

	FUZZ_CHECK(b->encoding == COT_ENC_XML);
	same_str("version", &a->version, &b->version);
	same_str("uid", &a->uid, &b->uid);
	same_str("type", &a->type, &b->type);
	same_str("how", &a->how, &b->how);
	same_str("access", &a->access, &b->access);
	same_str("qos", &a->qos, &b->qos);
	same_str("opex", &a->opex, &b->opex);
	same_str("caveat", &a->caveat, &b->caveat);
	same_str("releasableTo", &a->releasable_to, &b->releasable_to);
	if (a->time_ms != b->time_ms || a->start_ms != b->start_ms || a->stale_ms != b->stale_ms)
		FAIL("conversion: times %lld %lld %lld in v1, %lld %lld %lld in the XML",
		     (long long)a->time_ms, (long long)a->start_ms, (long long)a->stale_ms,
		     (long long)b->time_ms, (long long)b->start_ms, (long long)b->stale_ms);
	same_num("lat", a->lat, b->lat);
	same_num("lon", a->lon, b->lon);
	same_num("hae", a->hae, b->hae);
	same_num("ce", a->ce, b->ce);
	same_num("le", a->le, b->le);
	if ((a->flags & content) != (b->flags & content))
		FAIL("conversion: flags 0x%x in v1, 0x%x in the XML", a->flags & content,
		     b->flags & content);
	FUZZ_CHECK(b->flags & COT_F_XML_DECL);
	same_str("detail", &a->detail, &b->detail);
	same_str("callsign", &a->callsign, &b->callsign);
	same_str("remarks", &a->remarks, &b->remarks);
	FUZZ_CHECK(memcmp(&a->remarks_dec, &b->remarks_dec, sizeof(a->remarks_dec)) == 0);
	FUZZ_CHECK(a->has_track == b->has_track);
	/* the same text D, read by the same rules: bitwise */
	FUZZ_CHECK(memcmp(&a->course, &b->course, sizeof(double)) == 0 &&
		   memcmp(&a->speed, &b->speed, sizeof(double)) == 0 &&
		   memcmp(&a->slope, &b->slope, sizeof(double)) == 0);
	if (a->n_links != b->n_links)
		FAIL("conversion: %u links in v1, %u in the XML", a->n_links, b->n_links);
	for (unsigned i = 0; i < a->n_links; i++) {
		same_str("link uid", &a->link[i].uid, &b->link[i].uid);
		same_str("link relation", &a->link[i].relation, &b->link[i].relation);
		same_str("link type", &a->link[i].type, &b->link[i].type);
	}
	/* a typed track written into D and read back: its numbers */
	if ((a->tak.present & COT_TAK_TRACK) && a->detail.p == a->tak_detail &&
	    !(direct_typed(a->tak.xml_detail.p ? a->tak.xml_detail.p : "", a->tak.xml_detail.len) &
	      COT_TAK_TRACK)) {
		FUZZ_CHECK((a->flags & (COT_F_HAS_SPEED | COT_F_HAS_COURSE)) ==
			   (COT_F_HAS_SPEED | COT_F_HAS_COURSE));
		same_num("typed track speed", a->tak.speed, a->speed);
		same_num("typed track course", a->tak.course, a->course);
	}
}

/* Returns the XML's length (in xml[]), 0 if it is not to be re-read. */
static size_t
check_conversion(const struct cot_event *e)
{
	size_t n = cot_write_xml(e, xml, sizeof(xml)), w, m;
	uint8_t *copy;
	enum cot_err err;

	if (n == 0)
		FAIL("cot_write_xml: nothing written into %zu bytes", sizeof(xml));
	if (!no_model) {
		m = model_xml(e, model, sizeof(model));
		if (m != n || memcmp(model, xml, n) != 0) {
			size_t i = 0;

			while (i < n && i < m && model[i] == xml[i])
				i++;
			FAIL("cot_write_xml: %zu bytes, the document of release.md §6 %zu; they "
			     "differ at %zu:\n  written: %.*s\n  model:   %.*s",
			     n, m, i, (int)(n - i < 120 ? n - i : 120), xml + i,
			     (int)(m - i < 120 ? m - i : 120), model + i);
		}
	}
	/* as the worker writes it: all or nothing */
	w = cot_write_xml(e, small, XML_CAP);
	FUZZ_CHECK(w == (n <= XML_CAP ? n : 0));
	FUZZ_CHECK(w == 0 || memcmp(small, xml, n) == 0);
	FUZZ_CHECK(cot_write_xml(e, small, n) == n);
	FUZZ_CHECK(cot_write_xml(e, small, n - 1) == 0);
	st.converted++;
	if (n > COT_MAX_MSG) {
		st.xml_too_big++; /* never sent: over the worker's buffer */
		return 0;
	}
	copy = fuzz_dup((const uint8_t *)xml, n);
	err = cot_parse(copy, n, &ev2);
	if (err != COT_OK)
		FAIL("the XML conversion does not parse: %s at %u of %zu: ...%.*s",
		     cot_err_name(err), ev2.err_off, n,
		     (int)(n - ev2.err_off < 80 ? n - ev2.err_off : 80), xml + ev2.err_off);
	check_event(&ev2, copy, n);
	check_conversion_fields(e, &ev2);
	free(copy);
	st.reparsed++;
	return n;
}

/* ---- (c) the second check ------------------------------------------------- */

static void
check_second(const struct cot_event *e, const uint8_t *p, size_t n, size_t xn, unsigned sel)
{
	const struct tg_marking *ld = sel ? &defaults[sel - 1] : NULL;
	struct tg_marking mk;
	uint8_t l1 = 0xee, l2 = 0xee;
	uint64_t r1 = 0xdead, r2 = 0xdead;
	uint32_t a1 = 0xdead, a2 = 0xdead;
	bool ok1, ok2;
	int r;

	r = tg_marking_resolve(e->access.p, e->access.len, e->caveat.p, e->caveat.len,
			       e->releasable_to.p, e->releasable_to.len, ld, &hdr, &mk);
	ok1 = sc_derive(p, n, &hdr, ld, &l1, &r1, &a1);
	if (r == 0) {
		if (!ok1 || l1 != mk.level || r1 != mk.rel_mask ||
		    a1 != (mk.blocked ? 0 : mk.peer_mask))
			FAIL("second check: marking.c resolves level %u rel 0x%llx, sc_derive on "
			     "the v1 bytes %s level %u rel 0x%llx (access \"%.*s\" caveat \"%.*s\" "
			     "releasableTo \"%.*s\", link default %u)",
			     mk.level, (unsigned long long)mk.rel_mask, ok1 ? "says" : "cannot tell;",
			     l1, (unsigned long long)r1, (int)e->access.len,
			     e->access.p ? e->access.p : "", (int)e->caveat.len,
			     e->caveat.p ? e->caveat.p : "", (int)e->releasable_to.len,
			     e->releasable_to.p ? e->releasable_to.p : "", sel);
	} else {
		st.marking_bad++;
		if (!ok1)
			st.sc_bad++;
	}
	if (xn) {
		ok2 = sc_derive((const uint8_t *)xml, xn, &hdr, ld, &l2, &r2, &a2);
		if (ok1 != ok2 || (ok1 && (l1 != l2 || r1 != r2 || a1 != a2)))
			FAIL("second check: on the v1 bytes %s level %u rel 0x%llx, on the XML "
			     "%s level %u rel 0x%llx",
			     ok1 ? "ok" : "cannot tell", l1, (unsigned long long)r1,
			     ok2 ? "ok" : "cannot tell", l2, (unsigned long long)r2);
	}
	st.sc_compared++;
}

/* ---- (d) a cut payload ---------------------------------------------------- */

static void
check_prefix(const struct cot_event *e, const uint8_t *p, size_t n, size_t cut)
{
	uint8_t *c;
	enum cot_err err;

	if (cut >= n)
		return;
	c = fuzz_dup(p, cut);
	err = cot_parse(c, cut, &ev3);
	if (err == COT_OK) {
		check_event(&ev3, c, cut);
		if (!str_eq(&e->uid, &ev3.uid))
			FAIL("the first %zu of %zu bytes are accepted with uid \"%.*s\", the whole "
			     "with \"%.*s\"",
			     cut, n, (int)ev3.uid.len, ev3.uid.p, (int)e->uid.len, e->uid.p);
		st.prefix_ok++;
	} else {
		check_error(&ev3, err, c, cut);
	}
	free(c);
}

/* ---- one payload ---------------------------------------------------------- */

static void
run(const uint8_t *p, size_t n, unsigned sel)
{
	enum cot_err err = cot_parse(p, n, &ev);
	size_t xn;

	if (err != COT_OK) {
		check_error(&ev, err, p, n);
		return;
	}
	check_event(&ev, p, n);
	if (ev.encoding != COT_ENC_TAKV1) {
		st.raw_ok++;
		return;
	}
	st.v1_ok++;
	check_detail_text(&ev, p, n);
	xn = check_conversion(&ev);
	check_second(&ev, p, n, xn, sel);
	check_prefix(&ev, p, n, n - 1);
	check_prefix(&ev, p, n, 3 + (n * 2654435761u + p[n - 1]) % (n - 3));
}

/* ---- the token stream ----------------------------------------------------- */

static size_t
put_varint(uint8_t *o, uint64_t v, bool overlong)
{
	size_t k = 0;

	while (v >= 0x80) {
		o[k++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	if (overlong) {
		o[k++] = (uint8_t)(v | 0x80);
		v = 0;
	}
	o[k++] = (uint8_t)v;
	return k;
}

/* Serialise the token stream at p (see the top of the file) behind the v1
 * header into built[]; returns its length. */
static size_t
build(const uint8_t *p, size_t n)
{
	size_t o = 3, start[BUILD_DEPTH];
	bool over[BUILD_DEPTH];
	unsigned depth = 0;
	const uint8_t *e = p + n;

	built[0] = 0xbf;
	built[1] = 0x01;
	built[2] = 0xbf;
	while (p < e && o < BUILD_MAX) {
		uint8_t t = *p++;
		unsigned wt = t & 7;
		size_t k;

		if (wt == 7) {
			if (depth == 0)
				continue;
			goto close;
		}
		o += put_varint(built + o, t, false); /* the key: number t >> 3, type wt */
		switch (wt) {
		case 0:
			for (k = 0; k < 10 && p < e && o < BUILD_MAX; k++) {
				built[o++] = *p;
				if (*p++ < 0x80)
					break;
			}
			break;
		case 1:
		case 5:
			for (k = 0; k < (wt == 1 ? 8u : 4u) && p < e && o < BUILD_MAX; k++)
				built[o++] = *p++;
			break;
		case 2: {
			size_t l;

			if (p >= e) {
				built[o++] = 0;
				break;
			}
			l = *p++;
			if (l & 0x80) {
				if (depth == BUILD_DEPTH) {
					built[o++] = 0;
					break;
				}
				over[depth] = l & 0x40;
				start[depth++] = o;
				break;
			}
			if (l == 0x7f) {
				l = p + 2 <= e ? (size_t)(p[0] << 8 | p[1]) : 0;
				p += p + 2 <= e ? 2 : (size_t)(e - p);
			}
			if (l > (size_t)(e - p))
				l = (size_t)(e - p);
			if (o + 4 + l > BUILD_MAX)
				l = o + 4 < BUILD_MAX ? BUILD_MAX - o - 4 : 0;
			o += put_varint(built + o, l, false);
			memcpy(built + o, p, l);
			o += l;
			p += l;
			break;
		}
		default: /* 3, 4, 6: the key alone */
			break;
		}
		continue;
	close: {
		uint8_t lb[12];
		size_t s = start[--depth], len = o - s, k = put_varint(lb, len, over[depth]);

		memmove(built + s + k, built + s, len);
		memcpy(built + s, lb, k);
		o += k;
	}
	}
	while (depth > 0) {
		uint8_t lb[12];
		size_t s = start[--depth], len = o - s, k = put_varint(lb, len, over[depth]);

		memmove(built + s + k, built + s, len);
		memcpy(built + s, lb, k);
		o += k;
	}
	return o;
}

/* ---- libFuzzer ------------------------------------------------------------ */

static void
at_exit(void)
{
	fprintf(stderr,
		"fuzz_takproto: property reached by %lu of %lu inputs (v1 accepted, converted, "
		"re-parsed %lu, second check compared %lu); D with typed elements %lu, XML over "
		"%d bytes %lu, numbers read back within an ulp %lu, marking.c bad %lu (sc cannot "
		"tell %lu), cut prefixes accepted %lu, raw XML accepted %lu\n",
		st.v1_ok, st.inputs, st.reparsed, st.sc_compared, st.typed_written, COT_MAX_MSG,
		st.xml_too_big, st.inexact, st.marking_bad, st.sc_bad, st.prefix_ok, st.raw_ok);
	if (st.v1_ok == 0) {
		const char *req = getenv("FUZZ_REQUIRE_PROPERTY");

		if (req != NULL && strcmp(req, "1") == 0) {
			fprintf(stderr, "ERROR: fuzz_takproto: no input reached the property "
					"(FUZZ_REQUIRE_PROPERTY=1)\n");
			_exit(1);
		}
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const dm[3] = {"SECRET//REL TO USA, KOR", "CONFIDENTIAL",
					  "U//REL TO TRILAT"};

	(void)argc;
	(void)argv;
	/* as tests/unit/test_second_check.c, with GBR, a group of two and a
	 * group whose name has three characters but not three letters (tgctl
	 * accepts it: policy_parse.c group_name_ok; release.md §3 reads it as a
	 * group, not a trigraph) */
	strcpy(hdr.nations[0], "USA");
	strcpy(hdr.nations[1], "KOR");
	strcpy(hdr.nations[2], "JPN");
	strcpy(hdr.nations[3], "GBR");
	hdr.n_nations = 4;
	strcpy(hdr.groups[0].name, "TRILAT");
	hdr.groups[0].mask = 0x7;
	strcpy(hdr.groups[1].name, "FVEY");
	hdr.groups[1].mask = 0x9;
	strcpy(hdr.groups[2].name, "G20");
	hdr.groups[2].mask = 0x6;
	hdr.n_groups = 3;
	/* a register of controls (release.md §3), one of each effect and a
	 * declared NOFORN, for property (c): both mechanisms read it */
	{
		static const struct {
			const char *name, *alias;
			uint8_t effect, builtin;
			uint32_t peers;
			uint64_t nations;
		} ctl[] = {{"PROPIN", "PROP INFO", TG_CE_PASS, TG_CB_NONE, 0, 0},
			   {"ORCON", "ORIGINATOR", TG_CE_PEERS, TG_CB_NONE, 0x5, 0},
			   {"LIMDIS", "LD", TG_CE_NATIONS, TG_CB_NONE, 0, 0x3},
			   {"EXERCISE", "EX", TG_CE_BLOCK, TG_CB_NONE, 0, 0},
			   {"NOFORN", "NOFORN-US", TG_CE_PEERS, TG_CB_NOFORN, 0x1, 0}};

		for (unsigned i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++) {
			strcpy(hdr.controls[i].name, ctl[i].name);
			hdr.controls[i].effect = ctl[i].effect;
			hdr.controls[i].builtin = ctl[i].builtin;
			hdr.controls[i].peers = ctl[i].peers;
			hdr.controls[i].nations = ctl[i].nations;
			strcpy(hdr.control_names[2 * i].name, ctl[i].name);
			hdr.control_names[2 * i].control = (uint8_t)i;
			strcpy(hdr.control_names[2 * i + 1].name, ctl[i].alias);
			hdr.control_names[2 * i + 1].control = (uint8_t)i;
		}
		hdr.n_controls = sizeof(ctl) / sizeof(ctl[0]);
		hdr.n_control_names = 2 * hdr.n_controls;
	}
	for (unsigned i = 0; i < 3; i++)
		if (tg_marking_parse(dm[i], strlen(dm[i]), &hdr, &defaults[i]) < 0)
			abort();
	no_model = getenv("FUZZ_TAKPROTO_NO_MODEL") != NULL;
	atexit(at_exit);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned sel = (unsigned)(size & 3); /* the link default: none or one of three */
	uint8_t *p;

	st.inputs++;
	if (size > 0 && data[0] == 0xff) {
		size_t n = build(data + 1, size - 1);

		p = fuzz_dup(built, n);
		run(p, n, sel);
		free(p);
		return 0;
	}
	if (size > 0 && data[0] == 0xbf) {
		p = fuzz_dup(data, size);
		run(p, size, sel);
		free(p);
	}
	if (size > COT_MAX_MSG) /* COT_E_OVERSIZE; no need to copy */
		return 0;
	p = malloc(size + 3);
	if (p == NULL)
		abort();
	p[0] = 0xbf;
	p[1] = 0x01;
	p[2] = 0xbf;
	if (size)
		memcpy(p + 3, data, size);
	run(p, size + 3, sel);
	free(p);
	return 0;
}
