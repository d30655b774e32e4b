/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tg_gen_takproto.c - tg-gen's own TAK Protocol Version 1 writer: a few
 * lines of protobuf wire encoding (varints, keys, length-delimited fields,
 * 64-bit doubles) and the TakMessage/CotEvent/Detail layout of
 * docs/release.md section 2, written from that table and nothing else (it
 * shares no code with the dataplane's decoder).  It writes the event that
 * cot_build left in gen_msg.ev the way proto3 encoders do (fields in number
 * order, zero and empty fields left out), and the hostile v1 datagrams of
 * docs/traffic.md.  Every choice a hostile case makes is drawn from the
 * message's encoding stream, never from the stream that drew the event.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tg_gen.h"

const char *const gen_v1_names[GEN_V1_COUNT] = {
	[GEN_V1_PLAIN] = "",
	[GEN_V1_LEGACY] = "v1-legacy-16-17",
	[GEN_V1_TAK_TIMES] = "v1-takmessage-3-4",
	[GEN_V1_CONTROL] = "v1-with-control",
	[GEN_V1_F16_VARINT] = "v1-f16-varint",
	[GEN_V1_F16_FIXED64] = "v1-f16-fixed64",
	[GEN_V1_TRUNC_VARINT] = "v1-truncated-varint",
	[GEN_V1_LEN_PAST_END] = "v1-length-past-end",
	[GEN_V1_VARINT_11] = "v1-varint-11-bytes",
	[GEN_V1_GROUP_NEST] = "v1-group-nesting",
	[GEN_V1_DUP_ACCESS] = "v1-dup-access",
	[GEN_V1_DUP_CAVEAT] = "v1-dup-caveat",
	[GEN_V1_DUP_RELEASEABLE] = "v1-dup-releaseableto",
	[GEN_V1_DUP_EVENT] = "v1-dup-cotevent",
	[GEN_V1_NAN_LAT] = "v1-nonfinite-lat",
	[GEN_V1_TAK_VERSION] = "v1-tak-version",
	[GEN_V1_XML_BODY] = "v1-xml-body",
	[GEN_V1_CONTROL_ONLY] = "v1-control-only",
	[GEN_V1_EMPTY] = "v1-empty",
	[GEN_V1_BAD_UTF8] = "v1-bad-utf8",
};

/* Wire types. */
enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_SGROUP = 3, WT_EGROUP = 4 };

/* CotEvent field numbers (release.md section 2). */
enum {
	EV_TYPE = 1, EV_ACCESS, EV_QOS, EV_OPEX, EV_UID, EV_SEND, EV_START, EV_STALE, EV_HOW,
	EV_LAT, EV_LON, EV_HAE, EV_CE, EV_LE, EV_DETAIL, EV_CAVEAT, EV_RELEASEABLE
};

/* Bounded output buffer: bytes past cap are dropped, never overflowed. */
struct pb {
	uint8_t *p;
	size_t len, cap;
};

static void
pb_raw(struct pb *b, const void *s, size_t n)
{
	if (b->len + n > b->cap)
		n = b->cap - b->len;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void
pb_byte(struct pb *b, uint8_t c)
{
	pb_raw(b, &c, 1);
}

static void
pb_varint(struct pb *b, uint64_t v)
{
	while (v >= 0x80) {
		pb_byte(b, (uint8_t)(v | 0x80));
		v >>= 7;
	}
	pb_byte(b, (uint8_t)v);
}

static void
pb_key(struct pb *b, unsigned field, unsigned wt)
{
	pb_varint(b, (uint64_t)field << 3 | wt);
}

/* A length-delimited field, even when empty (messages: present = written). */
static void
pb_len(struct pb *b, unsigned field, const void *s, size_t n)
{
	pb_key(b, field, WT_LEN);
	pb_varint(b, n);
	pb_raw(b, s, n);
}

/* A string field; absent or empty strings are not written (proto3). */
static void
pb_str(struct pb *b, unsigned field, const char *s)
{
	if (s && *s)
		pb_len(b, field, s, strlen(s));
}

static void
pb_u64(struct pb *b, unsigned field, uint64_t v)
{
	if (v) {
		pb_key(b, field, WT_VARINT);
		pb_varint(b, v);
	}
}

static void
pb_fixed64(struct pb *b, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		pb_byte(b, (uint8_t)(v >> (8 * i)));
}

/* A double field; +0.0 is not written (proto3 compares the bits). */
static void
pb_double_any(struct pb *b, unsigned field, double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	pb_key(b, field, WT_I64);
	pb_fixed64(b, u);
}

static void
pb_double(struct pb *b, unsigned field, double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	if (u)
		pb_double_any(b, field, d);
}

/* What the hostile cases change while the event is written. */
struct twist {
	enum gen_v1 v;
	const char *access, *caveat, *rel; /* replacing the event's */
	const char *dup_first;             /* DUP_*: the value written first */
	int dup_at_end;                    /* DUP_*: the second copy after the detail */
	double lat;                        /* NAN_LAT */
	int bad_utf8_where;                /* BAD_UTF8: 0 uid, 1 type, 2 callsign, 3 xmlDetail */
	const uint8_t *bad_seq;
	size_t bad_len;
	int inner_past_end;                /* LEN_PAST_END inside the detail */
	unsigned group_depth;              /* GROUP_NEST */
	int trunc_in_event;                /* TRUNC_VARINT inside the event */
	unsigned trunc_bytes;
	int head_only;                     /* the second event of DUP_EVENT */
};

/* A string with an invalid UTF-8 sequence spliced into its middle. */
static void
pb_str_bad(struct pb *b, unsigned field, const char *s, const struct twist *t)
{
	uint8_t tmp[GEN_PAYLOAD_MAX];
	size_t n = strlen(s), half = n / 2;

	if (n + t->bad_len > sizeof(tmp))
		n = sizeof(tmp) - t->bad_len, half = n / 2;
	memcpy(tmp, s, half);
	memcpy(tmp + half, t->bad_seq, t->bad_len);
	memcpy(tmp + half + t->bad_len, s + half, n - half);
	pb_len(b, field, tmp, n + t->bad_len);
}

static void
put_detail(struct pb *out, const struct gen_event *e, const struct twist *t)
{
	static uint8_t buf[GEN_PAYLOAD_MAX];
	uint8_t sub[512], tail[1024];
	struct pb d = {buf, 0, sizeof(buf)}, r = {tail, 0, sizeof(tail)};
	int bad = t->v == GEN_V1_BAD_UTF8;

	/* The typed messages first, into r: they follow xmlDetail on the wire. */
	if (e->has_contact) {
		struct pb c = {sub, 0, sizeof(sub)};

		/* Contact: 1 endpoint (the XML form has none), 2 callsign */
		if (bad && t->bad_utf8_where == 2)
			pb_str_bad(&c, 2, e->callsign[0] ? e->callsign : "X", t);
		else
			pb_str(&c, 2, e->callsign);
		pb_len(&r, 2, c.p, c.len);
	}
	if (e->has_track) {
		struct pb k = {sub, 0, sizeof(sub)};

		pb_double(&k, 1, e->speed);
		pb_double(&k, 2, e->course);
		pb_len(&r, 7, k.p, k.len);
	}
	if (e->xml_detail_len) {
		if (bad && t->bad_utf8_where == 3) {
			char x[GEN_PAYLOAD_MAX];
			size_t n = e->xml_detail_len < sizeof(x) - 1 ? e->xml_detail_len : sizeof(x) - 1;

			memcpy(x, e->xml_detail, n);
			x[n] = 0;
			pb_str_bad(&d, 1, x, t);
		} else if (t->inner_past_end) {
			/* xmlDetail says more bytes than are left in its detail */
			pb_key(&d, 1, WT_LEN);
			pb_varint(&d, e->xml_detail_len + r.len + (unsigned)t->inner_past_end);
			pb_raw(&d, e->xml_detail, e->xml_detail_len);
		} else {
			pb_len(&d, 1, e->xml_detail, e->xml_detail_len);
		}
	}
	pb_raw(&d, r.p, r.len);
	pb_len(out, EV_DETAIL, d.p, d.len);
}

/* The second copy of a duplicated marking, or nothing. */
static void
put_dup(struct pb *b, const struct twist *t, unsigned field, const char *val)
{
	if ((field == EV_ACCESS && t->v == GEN_V1_DUP_ACCESS) ||
	    (field == EV_CAVEAT && t->v == GEN_V1_DUP_CAVEAT) ||
	    (field == EV_RELEASEABLE && t->v == GEN_V1_DUP_RELEASEABLE))
		pb_str(b, field, val);
}

static int
is_dup(const struct twist *t, unsigned field)
{
	return (field == EV_ACCESS && t->v == GEN_V1_DUP_ACCESS) ||
	       (field == EV_CAVEAT && t->v == GEN_V1_DUP_CAVEAT) ||
	       (field == EV_RELEASEABLE && t->v == GEN_V1_DUP_RELEASEABLE);
}

/* One marking field: normally once; duplicated ones first dup_first, then
 * the event's value (adjacent, or after the detail). */
static void
put_marking(struct pb *b, const struct twist *t, unsigned field, const char *val)
{
	if (is_dup(t, field)) {
		pb_str(b, field, t->dup_first);
		if (!t->dup_at_end)
			pb_str(b, field, val);
	} else {
		pb_str(b, field, val);
	}
}

static void
put_event(struct pb *out, const struct gen_msg *m, const struct twist *t)
{
	static uint8_t buf[GEN_PAYLOAD_MAX];
	const struct gen_event *e = &m->ev;
	struct pb b = {buf, 0, sizeof(buf)};
	const char *access = t->access ? t->access : e->access;
	const char *caveat = t->caveat ? t->caveat : e->caveat;
	const char *rel = t->rel ? t->rel : e->rel;
	int bad = t->v == GEN_V1_BAD_UTF8;
	unsigned i;

	if (bad && t->bad_utf8_where == 1)
		pb_str_bad(&b, EV_TYPE, e->type, t);
	else
		pb_str(&b, EV_TYPE, e->type);
	put_marking(&b, t, EV_ACCESS, access);
	if (bad && t->bad_utf8_where == 0)
		pb_str_bad(&b, EV_UID, m->uid, t);
	else
		pb_str(&b, EV_UID, m->uid);
	if (t->v == GEN_V1_VARINT_11) {
		/* sendTime in 11 bytes: ten continuation bytes, then 0 */
		uint64_t v = e->time_ms;

		pb_key(&b, EV_SEND, WT_VARINT);
		for (i = 0; i < 10; i++, v >>= 7)
			pb_byte(&b, (uint8_t)(0x80 | (v & 0x7f)));
		pb_byte(&b, 0);
	} else {
		pb_u64(&b, EV_SEND, e->time_ms);
	}
	pb_u64(&b, EV_START, e->start_ms);
	pb_u64(&b, EV_STALE, e->stale_ms);
	pb_str(&b, EV_HOW, e->how);
	if (t->v == GEN_V1_NAN_LAT)
		pb_double_any(&b, EV_LAT, t->lat);
	else
		pb_double(&b, EV_LAT, e->lat);
	pb_double(&b, EV_LON, e->lon);
	pb_double(&b, EV_HAE, e->hae);
	pb_double(&b, EV_CE, e->ce);
	pb_double(&b, EV_LE, e->le);
	if (e->has_detail && !t->head_only)
		put_detail(&b, e, t);
	if (t->v == GEN_V1_F16_VARINT) {
		/* legacy submissionTime next to (or instead of) the caveat string */
		pb_key(&b, EV_CAVEAT, WT_VARINT);
		pb_varint(&b, e->time_ms + 17);
	}
	if (t->v == GEN_V1_F16_FIXED64) {
		pb_key(&b, EV_CAVEAT, WT_I64);
		pb_fixed64(&b, e->time_ms);
	}
	put_marking(&b, t, EV_CAVEAT, caveat);
	put_marking(&b, t, EV_RELEASEABLE, rel);
	if (t->v == GEN_V1_LEGACY) {
		pb_u64(&b, 16, e->time_ms + 42); /* submissionTime */
		pb_u64(&b, 17, e->time_ms);      /* creationTime */
	}
	if (t->dup_at_end) {
		put_dup(&b, t, EV_ACCESS, access);
		put_dup(&b, t, EV_CAVEAT, caveat);
		put_dup(&b, t, EV_RELEASEABLE, rel);
	}
	if (t->group_depth) {
		/* unknown field 40 as nested groups: proto3 never writes them */
		for (i = 0; i < t->group_depth; i++)
			pb_key(&b, 40, WT_SGROUP);
		pb_u64(&b, 1, 7);
		for (i = 0; i < t->group_depth; i++)
			pb_key(&b, 40, WT_EGROUP);
	}
	if (t->trunc_in_event) {
		/* staleTime again, its varint cut: runs off the event's end */
		pb_key(&b, EV_STALE, WT_VARINT);
		for (i = 0; i < t->trunc_bytes; i++)
			pb_byte(&b, 0x80 | (uint8_t)(i * 37));
	}
	if (t->v == GEN_V1_LEN_PAST_END && !t->inner_past_end) {
		/* the event says up to 64 bytes more than the datagram holds */
		pb_key(out, 2, WT_LEN);
		pb_varint(out, b.len + 1 + (t->trunc_bytes & 63));
		pb_raw(out, b.p, b.len);
	} else {
		pb_len(out, 2, b.p, b.len);
	}
}

static void
put_control(struct pb *out, const char *contact_uid)
{
	uint8_t c[128];
	struct pb b = {c, 0, sizeof(c)};

	pb_u64(&b, 1, 1); /* minProtoVersion */
	pb_u64(&b, 2, 1); /* maxProtoVersion */
	pb_str(&b, 3, contact_uid);
	pb_len(out, 1, b.p, b.len);
}

/* Markings a duplicate pairs with the event's: one narrower, one wider. */
static const char *const dup_access[] = {"SECRET//NOFORN", "SECRET//REL TO USA, KOR, JPN",
					 "UNCLASSIFIED", "TOP SECRET//REL TO USA"};
static const char *const dup_caveat[] = {"NOFORN", "REL TO USA, KOR, JPN", "REL TO USA"};
static const char *const dup_rel[] = {"USA", "USA KOR JPN", "USA KOR", "USA JPN"};

static const struct {
	uint8_t b[4];
	size_t n;
} bad_utf8[] = {
	{{0xff}, 1},                   /* never in UTF-8 */
	{{0xc0, 0xaf}, 2},             /* overlong '/' */
	{{0xed, 0xa0, 0x80}, 3},       /* a surrogate, U+D800 */
	{{0xf4, 0x90, 0x80, 0x80}, 4}, /* past U+10FFFF */
	{{0xe2, 0x82}, 2},             /* a sequence cut short */
	{{0x80}, 1},                   /* a lone continuation byte */
};

#define PICK(r, arr) (arr[gen_below((r), sizeof(arr) / sizeof(arr[0]))])

size_t
takproto_build(const struct gen_msg *m, enum gen_v1 v, struct gen_rng *enc, uint8_t *buf)
{
	struct pb out = {buf, 0, GEN_PAYLOAD_MAX};
	struct twist t = {.v = v};
	unsigned i;

	switch (v) {
	case GEN_V1_TAK_VERSION: {
		/* another version, or no version at all: only bf 01 bf is v1 */
		static const uint8_t hdr[][4] = {{0xbf, 0x02, 0xbf}, {0xbf, 0x02, 0xbf},
						 {0xbf, 0x81, 0x00, 0xbf}, {0xbf, 0x01, 0x00}};
		uint32_t x = gen_below(enc, 4);

		pb_raw(&out, hdr[x], x == 2 ? 4 : 3);
		break;
	}
	case GEN_V1_XML_BODY:
		pb_raw(&out, "\xbf\x01\xbf", 3);
		pb_raw(&out, m->ev.xml, m->ev.xml_len);
		return out.len;
	default:
		pb_raw(&out, "\xbf\x01\xbf", 3);
		break;
	}

	switch (v) {
	case GEN_V1_EMPTY:
		return out.len;
	case GEN_V1_CONTROL_ONLY:
		put_control(&out, gen_below(enc, 2) ? m->uid : NULL);
		return out.len;
	case GEN_V1_CONTROL:
		put_control(&out, gen_below(enc, 2) ? m->uid : NULL);
		break;
	case GEN_V1_DUP_ACCESS:
		t.dup_first = PICK(enc, dup_access);
		t.dup_at_end = (int)gen_below(enc, 2);
		if (!m->ev.access)
			t.access = PICK(enc, dup_access);
		break;
	case GEN_V1_DUP_CAVEAT:
		t.dup_first = PICK(enc, dup_caveat);
		t.dup_at_end = (int)gen_below(enc, 2);
		if (!m->ev.caveat)
			t.caveat = PICK(enc, dup_caveat);
		break;
	case GEN_V1_DUP_RELEASEABLE:
		t.dup_first = PICK(enc, dup_rel);
		t.dup_at_end = (int)gen_below(enc, 2);
		if (!m->ev.rel)
			t.rel = PICK(enc, dup_rel);
		break;
	case GEN_V1_NAN_LAT: {
		uint32_t x = gen_below(enc, 3);

		t.lat = x == 0 ? NAN : x == 1 ? INFINITY : -INFINITY;
		break;
	}
	case GEN_V1_BAD_UTF8: {
		uint32_t x = gen_below(enc, (uint32_t)(sizeof(bad_utf8) / sizeof(bad_utf8[0])));

		t.bad_seq = bad_utf8[x].b, t.bad_len = bad_utf8[x].n;
		t.bad_utf8_where = (int)gen_below(enc, 4);
		if (t.bad_utf8_where == 2 && !m->ev.has_contact)
			t.bad_utf8_where = 0;
		if (t.bad_utf8_where == 3 && !m->ev.xml_detail_len)
			t.bad_utf8_where = 1;
		break;
	}
	case GEN_V1_LEN_PAST_END:
		t.inner_past_end = m->ev.xml_detail_len && gen_below(enc, 2) ? 1 + (int)gen_below(enc, 40) : 0;
		t.trunc_bytes = gen_below(enc, 64);
		break;
	case GEN_V1_GROUP_NEST:
		/* mostly deep (64..963 groups, 4 bytes each), sometimes shallow */
		t.group_depth = gen_below(enc, 4) == 0 ? 3 : 64 + gen_below(enc, 900);
		break;
	case GEN_V1_TRUNC_VARINT:
		t.trunc_in_event = (int)gen_below(enc, 2);
		t.trunc_bytes = 1 + gen_below(enc, 9);
		break;
	default:
		break;
	}

	put_event(&out, m, &t);

	switch (v) {
	case GEN_V1_TAK_TIMES:
		pb_u64(&out, 3, m->ev.time_ms + 42); /* submissionTime */
		pb_u64(&out, 4, m->ev.time_ms);      /* creationTime */
		break;
	case GEN_V1_DUP_EVENT: {
		/* a second cotEvent: same head, another marking.  Protobuf merges
		 * the two (the second's access wins); others take only one. */
		struct twist t2 = {.v = GEN_V1_PLAIN, .head_only = 1};

		t2.access = PICK(enc, dup_access);
		put_event(&out, m, &t2);
		break;
	}
	case GEN_V1_TRUNC_VARINT:
		if (!t.trunc_in_event) {
			if (gen_below(enc, 2)) {
				/* submissionTime whose varint the datagram cuts */
				pb_key(&out, 3, WT_VARINT);
				for (i = 0; i < t.trunc_bytes; i++)
					pb_byte(&out, 0xff);
			} else {
				pb_byte(&out, 0x80 | (3 << 3)); /* a key cut after its first byte */
			}
		}
		break;
	default:
		break;
	}
	if (v < GEN_V1_FIRST_HOSTILE && out.len >= 8092 && out.len <= 8292) {
		/* An oversized event must not land within 100 B of 8192
		 * (max_message_bytes) either: pad it past with an unknown
		 * TakMessage field (15), which readers skip. */
		size_t n = 8300 - out.len - 3; /* key 1 byte, length 1 or 2 */

		pb_key(&out, 15, WT_LEN);
		pb_varint(&out, n);
		for (i = 0; i < n; i++)
			pb_byte(&out, ' ');
	}
	return out.len;
}
