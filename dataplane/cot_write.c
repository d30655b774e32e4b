/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cot_write.c - CoT XML from a decoded TAK Protocol v1 event (cot_write.h).
 * Bounded: every write checks the room left, and a document that does not
 * fit is not written at all.
 */
#include "cot_write.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct out {
	char *p, *e;
	bool over;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (n == 0)
		return;
	if (o->over || (size_t)(o->e - o->p) < n) {
		o->over = true;
		return;
	}
	memcpy(o->p, s, n);
	o->p += n;
}

#define PUT(o, lit) put(o, lit, sizeof(lit) - 1)

/* An attribute value: & < > " and the three blanks XML would normalise. */
static void
put_escaped(struct out *o, const char *s, size_t n)
{
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		const char *rep;

		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\t': rep = "&#9;"; break;
		case '\n': rep = "&#10;"; break;
		case '\r': rep = "&#13;"; break;
		default: continue;
		}
		put(o, s + run, i - run);
		put(o, rep, strlen(rep));
		run = i + 1;
	}
	put(o, s + run, n - run);
}

/* ` name="`, a value to follow. */
static void
put_name(struct out *o, const char *name)
{
	put(o, " ", 1);
	put(o, name, strlen(name));
	PUT(o, "=\"");
}

/* ` name="value"`, a value that needs no escaping. */
static void
put_plain(struct out *o, const char *name, const char *v, size_t n)
{
	put_name(o, name);
	put(o, v, n);
	put(o, "\"", 1);
}

/* ` name="value"`, only when the string is present. */
static void
put_attr(struct out *o, const char *name, const struct cot_str *v)
{
	if (v->p == NULL)
		return;
	put_name(o, name);
	put_escaped(o, v->p, v->len);
	put(o, "\"", 1);
}

/*
 * What printf("%.15g") writes for d, without printf, when d is a decimal of
 * at most 15 significant digits in %g's fixed notation (1e-4 <= |d| < 1e15):
 * the fewest decimals k for which round(d * 10^k) / 10^k is d again.  Such a
 * decimal is what %.15g writes (DBL_DIG is 15: every decimal of 15 digits
 * survives the trip through a double).  Coordinates, heights and errors
 * almost always are.  0 if d is not one.
 */
static int
fmt_short(double d, char *b)
{
	static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
				     1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
	double a = d < 0 ? -d : d;
	char dig[24];
	int n = 0, nd = 0;

	if (d == 0.0) {
		if (signbit(d))
			b[n++] = '-';
		b[n++] = '0';
		return n;
	}
	if (!(a >= 1e-4 && a < 1e15))
		return 0;
	for (int k = 0; k <= 15; k++) {
		double m = a * p10[k];
		uint64_t v;

		if (m >= 1e15)
			return 0;
		v = (uint64_t)(m + 0.5);
		if (v >= UINT64_C(1000000000000000)) /* 16 significant digits */
			return 0;
		if ((double)v / p10[k] != a)
			continue;
		for (; v > 0 || nd <= k; v /= 10)
			dig[nd++] = (char)('0' + v % 10);
		if (d < 0)
			b[n++] = '-';
		for (int i = nd - 1; i >= k; i--)
			b[n++] = dig[i];
		if (k > 0) {
			b[n++] = '.';
			for (int i = k - 1; i >= 0; i--)
				b[n++] = dig[i];
		}
		return n;
	}
	return 0;
}

/* %.15g, or %.17g when that does not read back as the same double. */
static void
put_num(struct out *o, const char *name, double d)
{
	char b[40];
	int n = fmt_short(d, b);

	if (n == 0) {
		n = snprintf(b, sizeof(b), "%.15g", d);
		if (strtod(b, NULL) != d)
			n = snprintf(b, sizeof(b), "%.17g", d);
	}
	put_plain(o, name, b, (size_t)n);
}

static void
put_u32(struct out *o, const char *name, uint32_t v)
{
	char b[16];
	int n = snprintf(b, sizeof(b), "%u", v);

	put_plain(o, name, b, (size_t)n);
}

/* YYYY-MM-DDThh:mm:ss.mmmZ of ms since the epoch (0..9999-12-31). */
static void
put_time(struct out *o, const char *name, int64_t ms)
{
	char b[32], *q = b;
	int64_t days = ms / 86400000, rem = ms % 86400000;

	if (rem < 0) { /* before 1970 (XML times reach back to year 1) */
		rem += 86400000;
		days--;
	}
	/* civil_from_days (H. Hinnant), days since 1970-01-01 >= 0 */
	int64_t z = days + 719468, era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = (int64_t)yoe + era * 400 + (m <= 2);
	const unsigned f[] = {(unsigned)y, m, d, (unsigned)(rem / 3600000),
			      (unsigned)(rem / 60000 % 60), (unsigned)(rem / 1000 % 60),
			      (unsigned)(rem % 1000)};
	static const char sep[] = "--T::.Z";
	static const uint8_t width[] = {4, 2, 2, 2, 2, 2, 3};

	/* YYYY-MM-DDThh:mm:ss.mmmZ, year 0001..9999 (takproto.c's bound) */
	for (unsigned i = 0; i < 7; i++) {
		for (unsigned w = width[i], v = f[i]; w > 0; w--, v /= 10)
			q[w - 1] = (char)('0' + v % 10);
		q += width[i];
		*q++ = sep[i];
	}
	put_plain(o, name, b, (size_t)(q - b));
}

size_t
cot_write_typed(const struct cot_tak *t, unsigned skip, char *out)
{
	struct out o = {out, out + COT_TAK_TYPED_MAX, false};
	unsigned w = t->present & COT_TAK_TYPED & ~skip;

	if (w & COT_TAK_CONTACT) {
		PUT(&o, "<contact");
		put_attr(&o, "endpoint", &t->endpoint);
		put_attr(&o, "callsign", &t->callsign);
		PUT(&o, "/>");
	}
	if (w & COT_TAK_GROUP) {
		PUT(&o, "<__group");
		put_attr(&o, "name", &t->group_name);
		put_attr(&o, "role", &t->group_role);
		PUT(&o, "/>");
	}
	if (w & COT_TAK_PRECISIONLOCATION) {
		PUT(&o, "<precisionlocation");
		put_attr(&o, "geopointsrc", &t->geopointsrc);
		put_attr(&o, "altsrc", &t->altsrc);
		PUT(&o, "/>");
	}
	if (w & COT_TAK_STATUS) {
		PUT(&o, "<status");
		put_u32(&o, "battery", t->battery);
		PUT(&o, "/>");
	}
	if (w & COT_TAK_TAKV) {
		PUT(&o, "<takv");
		put_attr(&o, "device", &t->device);
		put_attr(&o, "platform", &t->platform);
		put_attr(&o, "os", &t->os);
		put_attr(&o, "version", &t->version);
		PUT(&o, "/>");
	}
	if (w & COT_TAK_TRACK) {
		PUT(&o, "<track");
		put_num(&o, "speed", t->speed);
		put_num(&o, "course", t->course);
		PUT(&o, "/>");
	}
	/* The bound is the worst case of the strings' bounds: never over. */
	return o.over ? 0 : (size_t)(o.p - out);
}

size_t
cot_write_event(const struct cot_event *ev, const struct cot_write_over *ov, char *out,
		size_t cap)
{
	static const struct cot_str v20 = {"2.0", 3};
	struct out o = {out, out + cap, false};
	const struct cot_str *version = ov && ov->version ? ov->version : &v20;
	const struct cot_str *detail = ov && ov->detail ? ov->detail : &ev->detail;

	PUT(&o, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
		"<event");
	put_attr(&o, "version", version);
	put_attr(&o, "uid", &ev->uid);
	put_attr(&o, "type", &ev->type);
	put_attr(&o, "how", &ev->how);
	put_time(&o, "time", ev->time_ms);
	put_time(&o, "start", ev->start_ms);
	put_time(&o, "stale", ev->stale_ms);
	put_attr(&o, "access", ov && ov->access ? ov->access : &ev->access);
	put_attr(&o, "qos", ov && ov->qos ? ov->qos : &ev->qos);
	put_attr(&o, "opex", ov && ov->opex ? ov->opex : &ev->opex);
	put_attr(&o, "caveat", ov && ov->caveat ? ov->caveat : &ev->caveat);
	put_attr(&o, "releasableTo", ov && ov->releasable_to ? ov->releasable_to
							    : &ev->releasable_to);
	PUT(&o, "><point");
	put_num(&o, "lat", ov ? ov->lat : ev->lat);
	put_num(&o, "lon", ov ? ov->lon : ev->lon);
	put_num(&o, "hae", ev->hae);
	put_num(&o, "ce", ov ? ov->ce : ev->ce);
	put_num(&o, "le", ev->le);
	PUT(&o, "/>");
	if (ev->flags & COT_F_HAS_DETAIL) {
		PUT(&o, "<detail>");
		put(&o, detail->p, detail->len);
		PUT(&o, "</detail>");
	}
	PUT(&o, "</event>");
	return o.over ? 0 : (size_t)(o.p - out);
}

size_t
cot_write_xml(const struct cot_event *ev, char *out, size_t cap)
{
	return cot_write_event(ev, NULL, out, cap);
}

size_t
cot_escape_attr(const char *s, size_t n, char *out, size_t cap)
{
	struct out o = {out, out + cap, false};

	put_escaped(&o, s, n);
	return o.over ? SIZE_MAX : (size_t)(o.p - out);
}
