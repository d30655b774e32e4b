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
};

/* Longest payload the builder produces (oversized ones stop near 9 KB). */
#define GEN_PAYLOAD_MAX 10240

extern const char *const gen_kind_names[GEN_K_COUNT];
extern const char *const gen_bad_names[GEN_BAD_COUNT];

/* Build the UDP payload of message m into buf (GEN_PAYLOAD_MAX bytes).
 * Returns its length. */
size_t cot_build(struct gen_msg *m, uint8_t *buf);

#endif /* TG_GEN_H */
