/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * takproto.c - TAK Protocol Version 1: one TakMessage behind the mesh header
 * 0xbf 0x01 0xbf, decoded into the event the XML parser produces
 * (docs/release.md §2 is normative; this file follows it rule by rule).
 *
 * One forward pass, no allocation.  The schema is fixed and at most four
 * messages deep (TakMessage > CotEvent > Detail > Contact...), so each message
 * has its own function and the nesting is the call chain; fields trackgate
 * does not know are skipped by wire type and never descended into, and
 * groups (wire types 3 and 4) are refused, so no input nests deeper.  Strings
 * point into the payload: protobuf strings need no decoding.  Every value is
 * checked when it is read, also one that a later occurrence replaces.
 */
#include "takproto.h"

#include <stdbool.h>
#include <string.h>

#define WT_VARINT 0
#define WT_I64 1
#define WT_LEN 2
#define WT_I32 5

/* 9999-12-31T23:59:59.999Z, the last instant an XML dateTime can say. */
#define TAK_MAX_MS UINT64_C(253402300799999)

struct pb {
	const uint8_t *base; /* the payload, for error offsets */
	const uint8_t *err_at;
	struct cot_event *ev;
	uint16_t field_limit; /* the operator's bound on every kept string */
	uint8_t marks;       /* marking fields seen: 1 access, 2 caveat, 4 releaseableTo */
};

/* One field as read off the wire. */
struct field {
	uint32_t num;
	uint8_t wt;
	uint64_t v;          /* WT_VARINT, WT_I64, WT_I32 */
	const uint8_t *data; /* WT_LEN */
	uint32_t len;
};

static enum cot_err
fail(struct pb *pb, const uint8_t *at, enum cot_err e)
{
	if (pb->err_at == NULL)
		pb->err_at = at;
	return e;
}

#define TRY(x)                                                                                     \
	do {                                                                                       \
		enum cot_err err_ = (x);                                                           \
		if (err_ != COT_OK)                                                                \
			return err_;                                                               \
	} while (0)

/* An unsigned varint of at most 10 bytes whose value fits in 64 bits. */
static inline bool
rd_varint(const uint8_t **pp, const uint8_t *e, uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t x = 0;

	for (unsigned i = 0; i < 10; i++) {
		uint8_t b;

		if (p >= e)
			return false;
		b = *p++;
		if (i == 9 && b > 1)
			return false; /* bits past the 64th, or an 11th byte */
		x |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*out = x;
			*pp = p;
			return true;
		}
	}
	return false;
}

/* The next field of the message ending at `e`. */
static enum cot_err
rd_field(struct pb *pb, const uint8_t **pp, const uint8_t *e, struct field *f)
{
	const uint8_t *at = *pp, *p = *pp;
	uint64_t key;

	if (!rd_varint(&p, e, &key) || key > UINT32_MAX || (key >> 3) == 0)
		return fail(pb, at, COT_E_PROTOBUF);
	f->num = (uint32_t)(key >> 3);
	f->wt = (uint8_t)(key & 7);
	switch (f->wt) {
	case WT_VARINT:
		if (!rd_varint(&p, e, &f->v))
			return fail(pb, at, COT_E_PROTOBUF);
		break;
	case WT_I64:
		if (e - p < 8)
			return fail(pb, at, COT_E_PROTOBUF);
		memcpy(&f->v, p, 8); /* little-endian hosts only (DPDK's x86/arm64) */
		p += 8;
		break;
	case WT_I32: {
		uint32_t v;

		if (e - p < 4)
			return fail(pb, at, COT_E_PROTOBUF);
		memcpy(&v, p, 4);
		f->v = v;
		p += 4;
		break;
	}
	case WT_LEN: {
		uint64_t n;

		if (!rd_varint(&p, e, &n) || n > (uint64_t)(e - p))
			return fail(pb, at, COT_E_PROTOBUF);
		f->data = p;
		f->len = (uint32_t)n;
		p += n;
		break;
	}
	default: /* 3, 4: groups (never in proto3); 6, 7: none */
		return fail(pb, at, COT_E_PROTOBUF);
	}
	*pp = p;
	return COT_OK;
}

/* Valid UTF-8 of XML characters only: tab, LF, CR, U+0020 and up, no
 * surrogates, no U+FFFE or U+FFFF. */
static bool
xml_text_ok(const uint8_t *s, uint32_t n)
{
	const uint8_t *e = s + n;

	while (s < e) {
		uint8_t c = *s;

		if (c < 0x80) {
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				return false;
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			if (e - s < 2 || (s[1] & 0xc0) != 0x80)
				return false;
			s += 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			uint8_t lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;

			if (e - s < 3 || s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80)
				return false;
			if (c == 0xef && s[1] == 0xbf && (s[2] == 0xbe || s[2] == 0xbf))
				return false;
			s += 3;
		} else if (c >= 0xf0 && c <= 0xf4) {
			uint8_t lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;

			if (e - s < 4 || s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80 ||
			    (s[3] & 0xc0) != 0x80)
				return false;
			s += 4;
		} else {
			return false;
		}
	}
	return true;
}

/* A string field, kept (bounded by the field limit) or not (bounded by the
 * message only: contactUid); empty = absent. */
static enum cot_err
rd_str(struct pb *pb, const uint8_t *at, const struct field *f, bool kept, struct cot_str *out)
{
	if (f->wt != WT_LEN)
		return fail(pb, at, COT_E_WIRE_TYPE);
	if (kept && f->len > pb->field_limit)
		return fail(pb, at, COT_E_FIELD_LIMIT);
	if (!xml_text_ok(f->data, f->len))
		return fail(pb, at, COT_E_MALFORMED);
	out->p = f->len ? (const char *)f->data : NULL;
	out->len = (uint16_t)f->len;
	return COT_OK;
}

static enum cot_err
rd_double(struct pb *pb, const uint8_t *at, const struct field *f, double *out)
{
	if (f->wt != WT_I64)
		return fail(pb, at, COT_E_WIRE_TYPE);
	memcpy(out, &f->v, sizeof(*out));
	if (*out - *out != 0.0) /* NaN or an infinity */
		return fail(pb, at, COT_E_RANGE);
	return COT_OK;
}

/* A varint field of at most `max`. */
static enum cot_err
rd_uint(struct pb *pb, const uint8_t *at, const struct field *f, uint64_t max)
{
	if (f->wt != WT_VARINT)
		return fail(pb, at, COT_E_WIRE_TYPE);
	if (f->v > max)
		return fail(pb, at, COT_E_RANGE);
	return COT_OK;
}

static enum cot_err
rd_u32(struct pb *pb, const uint8_t *at, const struct field *f, uint32_t *out)
{
	TRY(rd_uint(pb, at, f, UINT32_MAX));
	*out = (uint32_t)f->v;
	return COT_OK;
}

static enum cot_err
rd_ms(struct pb *pb, const uint8_t *at, const struct field *f, int64_t *out)
{
	TRY(rd_uint(pb, at, f, TAK_MAX_MS));
	*out = (int64_t)f->v;
	return COT_OK;
}

/* A message field: the right wire type, and once per parent (`seen`, bit). */
static enum cot_err
rd_msg(struct pb *pb, const uint8_t *at, const struct field *f, uint32_t *seen, uint32_t bit)
{
	if (f->wt != WT_LEN)
		return fail(pb, at, COT_E_WIRE_TYPE);
	if (*seen & bit)
		return fail(pb, at, COT_E_DUP_ELEM);
	*seen |= bit;
	return COT_OK;
}

/* Contact, Group, PrecisionLocation, Takv: strings 1..n. */
static enum cot_err
dec_strings(struct pb *pb, const uint8_t *p, const uint8_t *e, struct cot_str *const *out,
	    unsigned n)
{
	while (p < e) {
		const uint8_t *at = p;
		struct field f;

		TRY(rd_field(pb, &p, e, &f));
		if (f.num >= 1 && f.num <= n)
			TRY(rd_str(pb, at, &f, true, out[f.num - 1]));
	}
	return COT_OK;
}

static enum cot_err
dec_status(struct pb *pb, const uint8_t *p, const uint8_t *e, struct cot_tak *t)
{
	while (p < e) {
		const uint8_t *at = p;
		struct field f;

		TRY(rd_field(pb, &p, e, &f));
		if (f.num == 1)
			TRY(rd_u32(pb, at, &f, &t->battery));
	}
	return COT_OK;
}

static enum cot_err
dec_track(struct pb *pb, const uint8_t *p, const uint8_t *e, struct cot_tak *t)
{
	while (p < e) {
		const uint8_t *at = p;
		struct field f;

		TRY(rd_field(pb, &p, e, &f));
		if (f.num == 1) {
			TRY(rd_double(pb, at, &f, &t->speed));
			if (t->speed < 0.0)
				return fail(pb, at, COT_E_RANGE);
		} else if (f.num == 2) {
			TRY(rd_double(pb, at, &f, &t->course));
			if (t->course < 0.0 || t->course > 360.0)
				return fail(pb, at, COT_E_RANGE);
		}
	}
	return COT_OK;
}

static enum cot_err
dec_detail(struct pb *pb, const uint8_t *p, const uint8_t *e)
{
	struct cot_tak *t = &pb->ev->tak;
	uint32_t seen = 0;

	while (p < e) {
		const uint8_t *at = p;
		struct field f;

		TRY(rd_field(pb, &p, e, &f));
		switch (f.num) {
		case 1: /* xmlDetail: read as XML by the rest step */
			if (f.wt != WT_LEN)
				return fail(pb, at, COT_E_WIRE_TYPE);
			t->xml_detail.p = f.len ? (const char *)f.data : NULL;
			t->xml_detail.len = (uint16_t)f.len;
			if (f.len)
				t->present |= COT_TAK_XMLDETAIL;
			else
				t->present &= (uint8_t)~COT_TAK_XMLDETAIL;
			break;
		case 2: {
			struct cot_str *const s[] = {&t->endpoint, &t->callsign};

			TRY(rd_msg(pb, at, &f, &seen, COT_TAK_CONTACT));
			TRY(dec_strings(pb, f.data, f.data + f.len, s, 2));
			break;
		}
		case 3: {
			struct cot_str *const s[] = {&t->group_name, &t->group_role};

			TRY(rd_msg(pb, at, &f, &seen, COT_TAK_GROUP));
			TRY(dec_strings(pb, f.data, f.data + f.len, s, 2));
			break;
		}
		case 4: {
			struct cot_str *const s[] = {&t->geopointsrc, &t->altsrc};

			TRY(rd_msg(pb, at, &f, &seen, COT_TAK_PRECISIONLOCATION));
			TRY(dec_strings(pb, f.data, f.data + f.len, s, 2));
			break;
		}
		case 5:
			TRY(rd_msg(pb, at, &f, &seen, COT_TAK_STATUS));
			TRY(dec_status(pb, f.data, f.data + f.len, t));
			break;
		case 6: {
			struct cot_str *const s[] = {&t->device, &t->platform, &t->os,
						     &t->version};

			TRY(rd_msg(pb, at, &f, &seen, COT_TAK_TAKV));
			TRY(dec_strings(pb, f.data, f.data + f.len, s, 4));
			break;
		}
		case 7:
			TRY(rd_msg(pb, at, &f, &seen, COT_TAK_TRACK));
			TRY(dec_track(pb, f.data, f.data + f.len, t));
			break;
		default:
			break;
		}
	}
	t->present |= (uint8_t)seen;
	return COT_OK;
}

/* access, caveat, releaseableTo: once each in the event. */
static enum cot_err
rd_marking(struct pb *pb, const uint8_t *at, const struct field *f, uint8_t bit,
	   struct cot_str *out, uint32_t flag)
{
	if (f->wt != WT_LEN)
		return fail(pb, at, COT_E_WIRE_TYPE);
	if (pb->marks & bit)
		return fail(pb, at, COT_E_DUP_MARKING);
	pb->marks |= bit;
	TRY(rd_str(pb, at, f, true, out));
	if (out->p != NULL)
		pb->ev->flags |= flag;
	return COT_OK;
}

/* An optional event string: present (flag set) when not empty; last wins. */
static enum cot_err
rd_opt(struct pb *pb, const uint8_t *at, const struct field *f, struct cot_str *out,
       uint32_t flag)
{
	TRY(rd_str(pb, at, f, true, out));
	if (out->p != NULL)
		pb->ev->flags |= flag;
	else
		pb->ev->flags &= ~flag;
	return COT_OK;
}

static enum cot_err
dec_event(struct pb *pb, const uint8_t *p, const uint8_t *e)
{
	struct cot_event *ev = pb->ev;
	uint32_t seen = 0;

	while (p < e) {
		const uint8_t *at = p;
		struct field f;

		TRY(rd_field(pb, &p, e, &f));
		switch (f.num) {
		case 1: TRY(rd_str(pb, at, &f, true, &ev->type)); break;
		case 2: TRY(rd_marking(pb, at, &f, 1, &ev->access, COT_F_HAS_ACCESS)); break;
		case 3: TRY(rd_opt(pb, at, &f, &ev->qos, COT_F_HAS_QOS)); break;
		case 4: TRY(rd_opt(pb, at, &f, &ev->opex, COT_F_HAS_OPEX)); break;
		case 5: TRY(rd_str(pb, at, &f, true, &ev->uid)); break;
		case 6: TRY(rd_ms(pb, at, &f, &ev->time_ms)); break;
		case 7: TRY(rd_ms(pb, at, &f, &ev->start_ms)); break;
		case 8: TRY(rd_ms(pb, at, &f, &ev->stale_ms)); break;
		case 9: TRY(rd_str(pb, at, &f, true, &ev->how)); break;
		case 10:
			TRY(rd_double(pb, at, &f, &ev->lat));
			if (ev->lat < -90.0 || ev->lat > 90.0)
				return fail(pb, at, COT_E_RANGE);
			break;
		case 11:
			TRY(rd_double(pb, at, &f, &ev->lon));
			if (ev->lon < -180.0 || ev->lon > 180.0)
				return fail(pb, at, COT_E_RANGE);
			break;
		case 12: TRY(rd_double(pb, at, &f, &ev->hae)); break;
		case 13:
			TRY(rd_double(pb, at, &f, &ev->ce));
			if (ev->ce < 0.0)
				return fail(pb, at, COT_E_RANGE);
			break;
		case 14:
			TRY(rd_double(pb, at, &f, &ev->le));
			if (ev->le < 0.0)
				return fail(pb, at, COT_E_RANGE);
			break;
		case 15:
			TRY(rd_msg(pb, at, &f, &seen, 1));
			ev->flags |= COT_F_HAS_DETAIL;
			ev->tak.detail_off = (uint16_t)(f.data - pb->base);
			TRY(dec_detail(pb, f.data, f.data + f.len));
			break;
		case 16: /* caveat; a varint is TAK Server's pre-4.10 submissionTime */
		case 17: /* releaseableTo; a varint is the pre-4.10 creationTime */
			if (f.wt == WT_VARINT)
				break;
			if (f.num == 16)
				TRY(rd_marking(pb, at, &f, 2, &ev->caveat, COT_F_HAS_CAVEAT));
			else
				TRY(rd_marking(pb, at, &f, 4, &ev->releasable_to, COT_F_HAS_REL));
			break;
		default:
			break;
		}
	}
	if (ev->uid.p == NULL || ev->type.p == NULL || ev->how.p == NULL)
		return fail(pb, e, COT_E_MISSING);
	return COT_OK;
}

static enum cot_err
dec_control(struct pb *pb, const uint8_t *p, const uint8_t *e)
{
	while (p < e) {
		const uint8_t *at = p;
		struct field f;
		uint32_t v;
		struct cot_str s;

		TRY(rd_field(pb, &p, e, &f));
		if (f.num == 1 || f.num == 2)
			TRY(rd_u32(pb, at, &f, &v));
		else if (f.num == 3)
			TRY(rd_str(pb, at, &f, false, &s));
	}
	return COT_OK;
}

static enum cot_err
dec_message(struct pb *pb, const uint8_t *p, const uint8_t *e)
{
	uint32_t seen = 0;

	while (p < e) {
		const uint8_t *at = p;
		struct field f;

		TRY(rd_field(pb, &p, e, &f));
		switch (f.num) {
		case 1:
			TRY(rd_msg(pb, at, &f, &seen, 1));
			TRY(dec_control(pb, f.data, f.data + f.len));
			break;
		case 2:
			TRY(rd_msg(pb, at, &f, &seen, 2));
			TRY(dec_event(pb, f.data, f.data + f.len));
			break;
		case 3: /* submissionTime, creationTime: read, not used */
		case 4:
			TRY(rd_uint(pb, at, &f, UINT64_MAX));
			break;
		default:
			break;
		}
	}
	if (seen & 1)
		pb->ev->tak.present |= COT_TAK_CONTROL;
	if (!(seen & 2))
		return fail(pb, e, (seen & 1) ? COT_E_TAK_CONTROL : COT_E_MISSING);
	return COT_OK;
}

enum cot_err
tak_decode(const uint8_t *p, size_t len, uint16_t field_limit, struct cot_event *ev)
{
	struct pb pb = {.base = p, .ev = ev, .field_limit = field_limit};
	enum cot_err err;

	ev->encoding = COT_ENC_TAKV1;
	ev->version.p = "2.0";
	ev->version.len = 3;
	if (len > COT_MAX_MSG) {
		ev->err_off = COT_MAX_MSG;
		return COT_E_OVERSIZE;
	}
	err = dec_message(&pb, p + 3, p + len);
	if (err != COT_OK)
		ev->err_off = (uint16_t)((pb.err_at ? pb.err_at : p + len) - p);
	return err;
}
