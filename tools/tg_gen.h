/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tg_gen.h - what the parts of tg-gen offer each other: the seeded PRNG, the
 * message kinds and mixes, and the CoT payload builder (tg_gen_cot.c) used by
 * the packet writer (tg-gen.c).
 */
#ifndef TG_GEN_H
#define TG_GEN_H

#include <stddef.h>
#include <stdint.h>

/* splitmix64: one state word, good enough statistics, trivially seedable per
 * message so message n does not depend on how messages 0..n-1 were drawn. */
struct gen_rng {
	uint64_t s;
};

static inline uint64_t
gen_next(struct gen_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static inline uint32_t
gen_below(struct gen_rng *r, uint32_t n)
{
	return (uint32_t)(((gen_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [0, 1). */
static inline double
gen_unit(struct gen_rng *r)
{
	return (double)(gen_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

enum gen_link { GEN_LINK_KOR = 0, GEN_LINK_JPN = 1, GEN_LINK_ALL = 2 };

enum gen_mix { GEN_MIX_DEFAULT, GEN_MIX_WARNINGS, GEN_MIX_SMALL, GEN_MIX_HOSTILE };

/* What one generated message is.  The packet writer handles NONTRACK_*; the
 * CoT builder every kind that has a CoT payload. */
enum gen_kind {
	GEN_K_SA_GROUND,
	GEN_K_SA_AIR,
	GEN_K_SA_NEUTRAL,
	GEN_K_MISSILE_SSM,
	GEN_K_MISSILE_OTHER,
	GEN_K_SPACE,
	GEN_K_LAUNCH,
	GEN_K_IMPACT,
	GEN_K_MALFORMED,
	GEN_K_OVERSIZED,
	GEN_K_NONTRACK_ARP,
	GEN_K_NONTRACK_ICMP,
	GEN_K_NONTRACK_TCP,
	GEN_K_NONTRACK_UDP, /* a valid CoT event, but to a port no link listens on */
	GEN_K_COUNT
};

/* Ways a malformed message is broken (GEN_K_MALFORMED). */
enum gen_bad {
	GEN_BAD_NONE = 0,
	GEN_BAD_TRUNCATED,
	GEN_BAD_DUP_ATTR,
	GEN_BAD_DOCTYPE,
	GEN_BAD_LAT_RANGE,
	GEN_BAD_REL_DISAGREE,
	GEN_BAD_JUNK,
	GEN_BAD_TAK_PROTO,
	GEN_BAD_MARKING,
	GEN_BAD_MISSING_ATTR,
	GEN_BAD_COUNT
};

/* Longest payload the builder produces (oversized ones stop near 9 KB). */
#define GEN_PAYLOAD_MAX 10240

/* Payload encodings (--encoding): CoT XML, TAK Protocol Version 1 (protobuf
 * behind bf 01 bf, docs/release.md section 2), or each message drawn. */
enum gen_encoding { GEN_ENC_XML, GEN_ENC_TAKPROTO_V1, GEN_ENC_MIXED };

/* How a message that goes out as TAK Protocol v1 is written.  The first
 * four are valid events; GEN_V1_F16_VARINT is a valid hostile case; the
 * rest are refused by a conforming reader (or, for CONTROL_ONLY, not track
 * data). */
enum gen_v1 {
	GEN_V1_PLAIN = 0,
	GEN_V1_LEGACY,    /* CotEvent 16/17 as varints (TAK Server before 4.10) */
	GEN_V1_TAK_TIMES, /* TakMessage 3/4 submissionTime/creationTime */
	GEN_V1_CONTROL,   /* a TakControl alongside the event */
	GEN_V1_F16_VARINT, /* hostile from here on: 16 as a varint next to the marking */
	GEN_V1_F16_FIXED64,
	GEN_V1_TRUNC_VARINT,
	GEN_V1_LEN_PAST_END,
	GEN_V1_VARINT_11,
	GEN_V1_GROUP_NEST,
	GEN_V1_DUP_ACCESS,
	GEN_V1_DUP_CAVEAT,
	GEN_V1_DUP_RELEASEABLE,
	GEN_V1_DUP_EVENT,
	GEN_V1_NAN_LAT,
	GEN_V1_TAK_VERSION,
	GEN_V1_XML_BODY,
	GEN_V1_CONTROL_ONLY,
	GEN_V1_EMPTY,
	GEN_V1_BAD_UTF8,
	GEN_V1_COUNT
};
#define GEN_V1_FIRST_HOSTILE GEN_V1_F16_VARINT

/* The fields of a well-formed event as its XML form carries them (strings
 * decoded), filled in by cot_build for the TAK Protocol v1 encoder. */
struct gen_event {
	int valid; /* a well-formed event (not malformed on purpose) */
	const char *type, *how, *access, *caveat, *rel; /* NULL = absent */
	uint64_t time_ms, start_ms, stale_ms;
	double lat, lon, hae, ce, le;
	int has_detail, has_contact, has_track;
	char callsign[128];
	double course, speed; /* <track>; slope has no typed field */
	size_t xml_detail_len; /* the other <detail> children, as XML text */
	char xml_detail[GEN_PAYLOAD_MAX];
	size_t xml_len;        /* the XML document without a TAK v0 header */
	const uint8_t *xml;    /* points into the payload buffer */
};

/* Everything the CoT builder needs to know about one message. */
struct gen_msg {
	struct gen_rng rng;
	uint64_t seed;
	uint64_t index;
	int64_t now;
	enum gen_mix mix;
	enum gen_link link;  /* GEN_LINK_KOR or GEN_LINK_JPN */
	enum gen_kind kind;
	enum gen_bad bad;    /* set by the builder for GEN_K_MALFORMED */
	const char *variant; /* short label for the manifest */
	char uid[64];
	char missile_uid[64]; /* last missile track on this link: launch/impact link to it */
	struct gen_event ev;  /* filled by cot_build */
};

extern const char *const gen_kind_names[GEN_K_COUNT];
extern const char *const gen_bad_names[GEN_BAD_COUNT];

/* Build the UDP payload of message m into buf (GEN_PAYLOAD_MAX bytes).
 * Returns its length. */
size_t cot_build(struct gen_msg *m, uint8_t *buf);

extern const char *const gen_v1_names[GEN_V1_COUNT];

/* Write m->ev (filled by cot_build) as a TAK Protocol v1 datagram into buf
 * (GEN_PAYLOAD_MAX bytes), the way v says; draws the details of hostile
 * cases from enc only.  Returns its length. (tg_gen_takproto.c) */
size_t takproto_build(const struct gen_msg *m, enum gen_v1 v, struct gen_rng *enc, uint8_t *buf);

#endif /* TG_GEN_H */
