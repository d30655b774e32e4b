/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tg_gen_cot.c - builds the CoT XML payloads of tg-gen: event types, markings,
 * remarks (with the demo policy's dirty words and exercise text), realistic
 * padding to a target size, and the malformed variants.  Only this file knows
 * what a CoT event looks like; tg-gen.c only wraps bytes in packets.  Each
 * well-formed event's fields are also left in gen_msg.ev, read back from the
 * XML text just written, for the TAK Protocol v1 encoder (tg_gen_takproto.c):
 * recording them draws nothing from the message's stream, so the XML output
 * is the same whatever the encoding.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tg_gen.h"

const char *const gen_kind_names[GEN_K_COUNT] = {
	[GEN_K_SA_GROUND] = "sa-ground",
	[GEN_K_SA_AIR] = "sa-air",
	[GEN_K_SA_NEUTRAL] = "sa-neutral",
	[GEN_K_MISSILE_SSM] = "missile-ssm",
	[GEN_K_MISSILE_OTHER] = "missile-other",
	[GEN_K_SPACE] = "space",
	[GEN_K_LAUNCH] = "launch",
	[GEN_K_IMPACT] = "impact",
	[GEN_K_MALFORMED] = "malformed",
	[GEN_K_OVERSIZED] = "oversized",
	[GEN_K_NONTRACK_ARP] = "nontrack-arp",
	[GEN_K_NONTRACK_ICMP] = "nontrack-icmp",
	[GEN_K_NONTRACK_TCP] = "nontrack-tcp",
	[GEN_K_NONTRACK_UDP] = "nontrack-udp",
};

const char *const gen_bad_names[GEN_BAD_COUNT] = {
	[GEN_BAD_NONE] = "",
	[GEN_BAD_TRUNCATED] = "truncated",
	[GEN_BAD_DUP_ATTR] = "dup-attr",
	[GEN_BAD_DOCTYPE] = "doctype",
	[GEN_BAD_LAT_RANGE] = "lat-range",
	[GEN_BAD_REL_DISAGREE] = "rel-disagree",
	[GEN_BAD_JUNK] = "junk",
	[GEN_BAD_TAK_PROTO] = "tak-proto-v1",
	[GEN_BAD_MARKING] = "bad-marking",
	[GEN_BAD_MISSING_ATTR] = "missing-attr",
};

/* Bounded append buffer: output past cap is dropped, never overflowed. */
struct sbuf {
	char *p;
	size_t len, cap;
};

static void
sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n > b->cap)
		n = b->cap - b->len;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void
sb_puts(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* One way a message can be marked.  NULL = attribute absent. */
struct marking {
	const char *access, *caveat, *rel, *rel_misspelt;
	unsigned weight;
};

/* Valid markings, weighted so all three peers get traffic from both links. */
static const struct marking markings[] = {
	{"SECRET//REL TO USA, KOR", NULL, NULL, NULL, 14},
	{"SECRET//REL TO USA, JPN", NULL, NULL, NULL, 14},
	{"SECRET//REL TO USA, KOR, JPN", NULL, NULL, NULL, 18},
	{"SECRET//NOFORN", NULL, NULL, NULL, 6},
	{"UNCLASSIFIED", NULL, NULL, NULL, 8},
	{"TOP SECRET//REL TO USA", NULL, NULL, NULL, 5},
	{"CONFIDENTIAL//REL TO USA, KOR, JPN", NULL, NULL, NULL, 8},
	{NULL, NULL, NULL, NULL, 10}, /* unmarked: the link default applies */
	{NULL, NULL, "USA KOR", NULL, 4},
	{NULL, NULL, NULL, "USA JPN", 3}, /* TAK's misspelling */
	{"SECRET//REL TO USA, KOR, JPN", NULL, "KJU", NULL, 4},
	{NULL, NULL, "FVEY", NULL, 2},
	{"S//REL USA, KOR, JPN", NULL, NULL, NULL, 2},
	{"secret // rel to usa, kor, jpn", NULL, NULL, NULL, 2},
	{"SECRET", "REL TO USA, JPN", NULL, NULL, 2},
	{"SECRET//REL TO USA, KOR, JPN//FOUO", NULL, NULL, NULL, 2},
	{"TS//NF", NULL, NULL, NULL, 1},
	{"SECRET//REL TO USA, KOR, JPN", NULL, "USA,KOR", "USA,KOR", 1},
	{"C//REL TO USA, KOR, JPN, GBR", NULL, NULL, NULL, 1},
	{"SECRET", "NOFORN", NULL, NULL, 1},
	{"SECRET//REL TO USA, KOR, JPN", NULL, "USA KOR JPN NATO", NULL, 1},
};

/* Markings the spec calls bad (unknown level/control, bad token, empty). */
static const struct marking bad_markings[] = {
	{"SECRET//REL TO USA, K$R", NULL, NULL, NULL, 1},
	{"SECRET//BOGUS", NULL, NULL, NULL, 1},
	{"", NULL, NULL, NULL, 1},
	{"SECRET//TOP SECRET", NULL, NULL, NULL, 1},
	{"SEKRET//REL TO USA, KOR", NULL, NULL, NULL, 1},
	{"SECRET", NULL, "USA;KOR", NULL, 1},
	{"SECRET", "REL TO USA, JPN//SECRET", NULL, NULL, 1},
};

static const struct marking *
pick_marking(struct gen_rng *r)
{
	static unsigned total;
	unsigned i, x;

	if (!total)
		for (i = 0; i < sizeof(markings) / sizeof(markings[0]); i++)
			total += markings[i].weight;
	x = gen_below(r, total);
	for (i = 0; x >= markings[i].weight; i++)
		x -= markings[i].weight;
	return &markings[i];
}

#define PICK(r, arr) (arr[gen_below((r), sizeof(arr) / sizeof(arr[0]))])

static const char *const t_ground[] = {"a-f-G-U-C", "a-f-G-U-C-I", "a-f-G-U-C-A", "a-h-G-U-C",
				       "a-u-G", "a-f-G-E-V", "a-f-G-U-C-F"};
static const char *const t_air[] = {"a-f-A-M-F-Q", "a-f-A-C-F", "a-h-A-M-F", "a-f-A-M-H",
				    "a-h-A-W-D", "a-f-A-M-F-R"};
static const char *const t_neutral[] = {"a-n-A-C-F", "a-n-S-X", "a-n-G", "a-n-A-M-F", "a-n-S-C"};
static const char *const t_missile[] = {"a-h-A-W-M-S-A", "a-u-A-W-M-S-S", "a-h-A-W-M-A",
					"a-s-A-W-M-S-S", "a-j-A-W-M-U", "a-h-A-W-M-S",
					"a-f-A-W-M-A-S"};
static const char *const t_space[] = {"a-h-P-S", "a-u-P-S-M", "a-f-P-T", "a-n-P", "a-h-P-M"};

static const char *const cs_ground[] = {"VIPER 1-1", "HAWK-22", "TIGER 6", "ODIN", "KESTREL 3",
					"R&amp;D CELL 4", "BULLDOG 2-3", "SABRE MAIN"};
static const char *const cs_air[] = {"COBRA 01", "EAGLE 41", "RAVEN 12", "HUNTER 7", "KE0017",
				     "JL8821", "NH0211"};
static const char *const cs_missile[] = {"TRACK 4711", "TN 04512", "TRK-0931", "SBIRS-TN 2210",
					 "AEGIS TN 3377", "TPY2-TN 1188"};

static const char *const r_sa[] = {
	"Routine position report.",
	"Unit in defensive positions, no change.",
	"Convoy halted at checkpoint; resuming in 15 min.",
	"Patrol returning to base.",
	"Air picture correlated with JTIDS, no anomalies.",
	"Surface contact, identity neutral, course steady.",
};
static const char *const r_missile[] = {
	"Ballistic missile track, boost phase complete.",
	"Track correlated across AN/TPY-2 and SPY-1 sensors.",
	"Midcourse track, quality 7, impact area estimated.",
	"Cruise missile track, low altitude, sea skimming.",
	"Track initiated by space-based infrared sensor.",
};
static const char *const r_space[] = {
	"Satellite pass, catalogued object, no manoeuvre.",
	"Space object track updated from radar observation.",
	"Debris object, conjunction screening nominal.",
};

/* Realistic filler for reaching a target size: sensor and C2 chatter. */
static const char *const filler[] = {
	" Track quality 7.",
	" Sensor AN/TPY-2 forward based mode.",
	" Correlated with JTIDS TN 04512.",
	" Azimuth 045.2 deg, elevation 12.1 deg.",
	" Position updated from fused radar picture.",
	" Report relayed via C2BMC.",
	" Confidence high; two independent sensors.",
	" C2 &amp; ISR feed nominal.",
	" Next update expected in 10 s.",
	" Operator acknowledged, no further action.",
	" Range 412 km, range rate -1.9 km/s.",
	" Covariance within tolerance.",
	" Cueing handed over to shipborne radar.",
	" Weather: clear, visibility 10 km.",
};

static void
fmt_time(char *out, size_t n, int64_t t, int millis)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, n, millis ? "%Y-%m-%dT%H:%M:%S.000Z" : "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Read numbers back from XML text just written (n bytes at p). */
static int __attribute__((format(scanf, 3, 4)))
scan_back(const char *p, size_t n, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int r;

	if (n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	memcpy(tmp, p, n);
	tmp[n] = 0;
	va_start(ap, fmt);
	r = vsscanf(tmp, fmt, ap);
	va_end(ap);
	return r;
}

/* An attribute value as written (only the five predefined entities occur in
 * the generator's own strings), decoded into out. */
static void
xml_unescape(char *out, size_t cap, const char *s)
{
	static const struct {
		const char *ent;
		char c;
	} ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
	size_t o = 0, i;

	while (*s && o + 1 < cap) {
		for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
			if (!strncmp(s, ents[i].ent, strlen(ents[i].ent)))
				break;
		if (i < sizeof(ents) / sizeof(ents[0])) {
			out[o++] = ents[i].c;
			s += strlen(ents[i].ent);
		} else {
			out[o++] = *s++;
		}
	}
	out[o] = 0;
}

/* Target payload size.  Two log-uniform halves meeting at 650 B put the
 * median of the default mix near 650 B with a long tail to 2.8 KB. */
static size_t
target_size(struct gen_msg *m)
{
	double u = gen_unit(&m->rng);

	if (m->mix == GEN_MIX_SMALL)
		return 240 + gen_below(&m->rng, 20);
	if (m->kind == GEN_K_OVERSIZED) {
		/* 2.8..9 KB, but never within 100 B of max_message_bytes (8192):
		 * whether "larger than" counts headers must not decide a test. */
		size_t s = 2800 + gen_below(&m->rng, 6200);

		if (s > 8092 && s < 8292)
			s = (s < 8192) ? 8092 : 8292;
		return s;
	}
	if (u < 0.5)
		return (size_t)(250.0 * exp(u / 0.5 * log(650.0 / 250.0)));
	return (size_t)(650.0 * exp((u - 0.5) / 0.5 * log(2800.0 / 650.0)));
}

/* Remarks text ahead of the filler: what makes the demo rules fire. */
static void
remarks_head(struct gen_msg *m, struct sbuf *b, const char *base)
{
	uint32_t x = gen_below(&m->rng, 1000);

	if (m->mix == GEN_MIX_WARNINGS || m->mix == GEN_MIX_SMALL) {
		sb_puts(b, base);
		return;
	}
	if (x < 8) {
		sb_puts(b, base);
		sb_puts(b, x < 5 ? " Ref BLUE LANTERN tasking." : " ref Blue Lantern cell.");
	} else if (x < 10) {
		/* entity-encoded: a payload-scope rule sees the raw bytes only */
		sb_puts(b, base);
		sb_puts(b, " Ref BLUE&#32;LANTERN tasking.");
	} else if (x < 30) {
		sb_puts(b, "EXERCISE EXERCISE EXERCISE ");
		sb_puts(b, base);
	} else if (x < 33) {
		sb_puts(b, "&#69;XERCISE EXERCISE EXERCISE ");
		sb_puts(b, base);
	} else if (x < 45) {
		sb_puts(b, base);
		sb_puts(b, " Part of exercise KEEN EDGE.");
	} else {
		sb_puts(b, base);
	}
}

size_t
cot_build(struct gen_msg *m, uint8_t *buf)
{
	char head[2048], det[2048], rem[GEN_PAYLOAD_MAX], ts[40], stale[40];
	struct sbuf h = {head, 0, sizeof(head)}, d = {det, 0, sizeof(det)};
	struct sbuf r = {rem, 0, sizeof(rem)}, out = {(char *)buf, 0, GEN_PAYLOAD_MAX};
	struct gen_rng *g = &m->rng;
	const struct marking *mk;
	const char *type, *how, *cs, *rbase;
	double lat, lon, hae;
	size_t target, fixed, rhead, pt_at, xd_at, trk_at = 0;
	enum gen_kind k = m->kind;
	struct gen_event *ev = &m->ev;
	int tak = 0, decl, small;

	m->bad = GEN_BAD_NONE;
	m->variant = "";
	ev->valid = 0;
	if (k == GEN_K_MALFORMED) {
		m->bad = (enum gen_bad)(1 + gen_below(g, GEN_BAD_COUNT - 1));
		m->variant = gen_bad_names[m->bad];
		if (m->bad == GEN_BAD_JUNK || m->bad == GEN_BAD_TAK_PROTO) {
			size_t n = 64 + gen_below(g, 900), i = 0;

			if (m->bad == GEN_BAD_TAK_PROTO) {
				buf[0] = 0xbf, buf[1] = 0x01, buf[2] = 0xbf;
				i = 3;
			}
			for (; i < n; i++)
				buf[i] = (uint8_t)gen_next(g);
			return n;
		}
		/* Otherwise break an ordinary situational-awareness or warning event. */
		k = gen_below(g, 2) ? GEN_K_SA_GROUND : GEN_K_MISSILE_SSM;
	}
	if (k == GEN_K_OVERSIZED || k == GEN_K_NONTRACK_UDP)
		k = gen_below(g, 3) ? GEN_K_SA_GROUND : GEN_K_MISSILE_SSM;

	/* Area of interest: Korean peninsula or Japan. */
	if (m->link == GEN_LINK_KOR) {
		lat = 33.0 + gen_unit(g) * 6.0;
		lon = 124.0 + gen_unit(g) * 7.0;
	} else {
		lat = 30.0 + gen_unit(g) * 15.0;
		lon = 129.0 + gen_unit(g) * 17.0;
	}
	hae = gen_unit(g) * 500.0;
	if (m->bad == GEN_BAD_LAT_RANGE)
		lat = gen_below(g, 2) ? 90.0 + 0.5 + gen_unit(g) * 10.0 : -91.0 - gen_unit(g) * 5.0;

	switch (k) {
	case GEN_K_SA_GROUND:
		type = PICK(g, t_ground), how = gen_below(g, 3) ? "m-g" : "h-e";
		cs = PICK(g, cs_ground), rbase = PICK(g, r_sa);
		break;
	case GEN_K_SA_AIR:
		type = PICK(g, t_air), how = "m-g", cs = PICK(g, cs_air), rbase = PICK(g, r_sa);
		hae = 3000.0 + gen_unit(g) * 9000.0;
		break;
	case GEN_K_SA_NEUTRAL:
		type = PICK(g, t_neutral), how = "h-e", cs = PICK(g, cs_air), rbase = PICK(g, r_sa);
		break;
	case GEN_K_MISSILE_SSM:
		type = "a-h-A-W-M-S-S", how = "m-r", cs = PICK(g, cs_missile);
		rbase = PICK(g, r_missile);
		hae = 20000.0 + gen_unit(g) * 400000.0;
		break;
	case GEN_K_MISSILE_OTHER:
		type = PICK(g, t_missile), how = "m-r", cs = PICK(g, cs_missile);
		rbase = PICK(g, r_missile);
		hae = 50.0 + gen_unit(g) * 100000.0;
		break;
	case GEN_K_SPACE:
		type = PICK(g, t_space), how = "m-r", cs = "SSN OBJ 4487", rbase = PICK(g, r_space);
		hae = 300000.0 + gen_unit(g) * 3.0e7;
		break;
	case GEN_K_LAUNCH:
		type = "b-d-l", how = "m-p", cs = "LAUNCH POINT";
		rbase = "Estimated launch point, CEP 1.8 km.";
		hae = 0.0;
		break;
	default: /* GEN_K_IMPACT */
		type = "b-d-i", how = "m-p", cs = "PREDICTED IMPACT";
		rbase = "Predicted impact point, CEP 2.4 km, time to impact 312 s.";
		hae = 0.0;
		break;
	}

	if (m->bad == GEN_BAD_MARKING)
		mk = &PICK(g, bad_markings);
	else
		mk = pick_marking(g);

	target = target_size(m);
	decl = m->mix != GEN_MIX_SMALL && gen_below(g, 10) < 7;
	if (m->mix != GEN_MIX_SMALL && m->bad == GEN_BAD_NONE && gen_below(g, 100) < 3)
		tak = 1; /* TAK Protocol v0 header: same XML after 0xbf 0x00 0xbf */

	small = m->mix == GEN_MIX_SMALL;
	fmt_time(ts, sizeof(ts), m->now, !small);
	fmt_time(stale, sizeof(stale), m->now + 60, !small);

	/* Event head. */
	if (decl)
		sb_puts(&h, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>");
	if (m->bad == GEN_BAD_DOCTYPE)
		sb_puts(&h, "<!DOCTYPE event [<!ENTITY cw \"BLUE LANTERN\">]>");
	sb_printf(&h, "<event version=\"2.0\" uid=\"%s\" type=\"%s\" time=\"%s\" start=\"%s\"", m->uid,
		  type, ts, ts);
	if (m->bad != GEN_BAD_MISSING_ATTR)
		sb_printf(&h, " stale=\"%s\"", stale);
	sb_printf(&h, " how=\"%s\"", how);
	if (m->bad == GEN_BAD_DUP_ATTR)
		sb_puts(&h, gen_below(g, 2) ? " how=\"h-e\"" : " type=\"a-f-G\"");
	if (mk->access)
		sb_printf(&h, " access=\"%s\"", mk->access);
	if (mk->caveat)
		sb_printf(&h, " caveat=\"%s\"", mk->caveat);
	if (m->bad == GEN_BAD_REL_DISAGREE) {
		sb_puts(&h, " releasableTo=\"USA KOR\" releaseableTo=\"USA JPN\"");
	} else {
		if (mk->rel)
			sb_printf(&h, " releasableTo=\"%s\"", mk->rel);
		if (mk->rel_misspelt)
			sb_printf(&h, " releaseableTo=\"%s\"", mk->rel_misspelt);
	}
	pt_at = h.len;
	if (small) /* minimal: fewer digits, no contact, detail only if needed */
		sb_printf(&h, "><point lat=\"%.4f\" lon=\"%.4f\" hae=\"%.0f\" ce=\"%.0f\" le=\"%.0f\"/>",
			  lat, lon, hae, 5.0 + gen_unit(g) * 200.0, 5.0 + gen_unit(g) * 200.0);
	else
		sb_printf(&h, "><point lat=\"%.6f\" lon=\"%.6f\" hae=\"%.1f\" ce=\"%.1f\" le=\"%.1f\"/>",
			  lat, lon, hae, 5.0 + gen_unit(g) * 200.0, 5.0 + gen_unit(g) * 200.0);

	/* Detail: required pieces first, then optional ones while they fit. */
	if (small)
		sb_puts(&d, "<detail>");
	else
		sb_printf(&d, "<detail><contact callsign=\"%s\"/>", cs);
	trk_at = d.len;
	if (!small && (k == GEN_K_MISSILE_SSM || k == GEN_K_MISSILE_OTHER))
		sb_printf(&d, "<track course=\"%.1f\" speed=\"%.1f\" slope=\"%.1f\"/>",
			  gen_unit(g) * 360.0, 300.0 + gen_unit(g) * 2700.0, gen_unit(g) * 60.0);
	xd_at = d.len; /* from here on: children without a typed message */
	/* The sensor that saw a missile: what a hub sanitizes for some peers
	 * (docs/policy.md `sanitize`).  No random draw: the rest of the
	 * traffic of a seed stays as it was. */
	if (!small && (k == GEN_K_MISSILE_SSM || k == GEN_K_MISSILE_OTHER))
		sb_printf(&d, "<__sensor type=\"%s\" id=\"%s\" mode=\"stare\"/>",
			  k == GEN_K_MISSILE_SSM ? "SBIRS-GEO" : "AN/TPY-2",
			  k == GEN_K_MISSILE_SSM ? "GEO-3" : "TPY2-FBM-1");
	if (k == GEN_K_LAUNCH || k == GEN_K_IMPACT)
		sb_printf(&d, "<link uid=\"%s\" relation=\"p-p\" type=\"a-h-A-W-M-S-S\"/>",
			  m->missile_uid);
	if (m->mix != GEN_MIX_SMALL) {
		static const char *const opt[] = {
			"<__group name=\"Cyan\" role=\"Team Member\"/>",
			"<precisionlocation geopointsrc=\"GPS\" altsrc=\"DTED0\"/>",
			"<status battery=\"87\"/>",
			"<takv device=\"DELL LATITUDE 7330\" platform=\"WinTAK-CIV\" "
			"os=\"Microsoft Windows 10 Enterprise\" version=\"4.10.0.57\"/>",
			"<_flow-tags_ TAK-Server-f1a8159ef7804f3d8fd2fd3d2e7b5d1b=\"2024-05-01T12:00:00Z\"/>",
		};
		size_t i, base = h.len + d.len + 64 + strlen(rbase);

		for (i = 0; i < sizeof(opt) / sizeof(opt[0]); i++) {
			size_t n = strlen(opt[i]);

			if (base + n <= target && gen_below(g, 4) != 0) {
				sb_puts(&d, opt[i]);
				base += n;
			}
		}
	}

	/* Remarks, padded with filler to reach the target. */
	if (m->mix != GEN_MIX_SMALL)
		remarks_head(m, &r, rbase);
	rhead = r.len;
	fixed = (size_t)tak * 3 + h.len + d.len + strlen("</detail></event>");
	if (r.len)
		fixed += strlen("<remarks></remarks>");
	while (!small && fixed + r.len < target && r.len < sizeof(rem) - 64)
		sb_puts(&r, PICK(g, filler));
	if (fixed + r.len > target && r.len > 0) {
		/* Cut the filler back to the target, but never into the head of
		 * the remarks or through an entity reference. */
		size_t want = target > fixed ? target - fixed : 0, min = rhead;
		size_t cut = want < min ? min : want, i;

		if (cut < r.len) {
			for (i = cut; i > 0 && i + 10 > cut; i--) {
				if (rem[i - 1] == ';')
					break;
				if (rem[i - 1] == '&') {
					cut = i - 1;
					break;
				}
			}
			r.len = cut;
		}
	}

	if (tak)
		sb_put(&out, "\xbf\x00\xbf", 3);
	sb_put(&out, head, h.len);
	sb_put(&out, det, d.len);
	if (r.len) {
		sb_puts(&out, "<remarks>");
		sb_put(&out, rem, r.len);
		sb_puts(&out, "</remarks>");
	}
	if (small && d.len == strlen("<detail>"))
		out.len -= d.len; /* nothing in it: no detail at all */
	else
		sb_puts(&out, "</detail>");
	sb_puts(&out, "</event>");

	if (m->bad == GEN_BAD_TRUNCATED) {
		size_t keep = 16 + gen_below(g, (uint32_t)(out.len - 24));

		out.len = keep;
	}

	if (m->bad == GEN_BAD_NONE) {
		/* The same event, field by field, read back from the text above. */
		struct sbuf x = {ev->xml_detail, 0, sizeof(ev->xml_detail)};

		ev->valid = 1;
		ev->type = type, ev->how = how;
		ev->access = mk->access, ev->caveat = mk->caveat;
		ev->rel = mk->rel ? mk->rel : mk->rel_misspelt; /* equal when both */
		ev->time_ms = ev->start_ms = (uint64_t)m->now * 1000u;
		ev->stale_ms = (uint64_t)(m->now + 60) * 1000u;
		ev->lat = ev->lon = ev->hae = ev->ce = ev->le = 0.0;
		scan_back(head + pt_at, h.len - pt_at,
			  "><point lat=\"%lf\" lon=\"%lf\" hae=\"%lf\" ce=\"%lf\" le=\"%lf\"",
			  &ev->lat, &ev->lon, &ev->hae, &ev->ce, &ev->le);
		ev->has_contact = !small;
		ev->callsign[0] = 0;
		if (!small)
			xml_unescape(ev->callsign, sizeof(ev->callsign), cs);
		ev->has_track = xd_at > trk_at;
		ev->course = ev->speed = 0.0;
		if (ev->has_track)
			scan_back(det + trk_at, xd_at - trk_at, "<track course=\"%lf\" speed=\"%lf\"",
				  &ev->course, &ev->speed);
		sb_put(&x, det + xd_at, d.len - xd_at);
		if (r.len) {
			sb_puts(&x, "<remarks>");
			sb_put(&x, rem, r.len);
			sb_puts(&x, "</remarks>");
		}
		ev->xml_detail_len = x.len;
		ev->has_detail = ev->has_contact || ev->has_track || x.len > 0;
		ev->xml = buf + (tak ? 3 : 0);
		ev->xml_len = out.len - (tak ? 3 : 0);
	}
	return out.len;
}
