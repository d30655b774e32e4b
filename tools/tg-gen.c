/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tg-gen - deterministic Cursor-on-Target track traffic for trackgate tests.
 *
 * Writes an Ethernet pcap that pktgen-dpdk replays and DPDK's net_pcap reads:
 * CoT events over UDP from the demo policy's link address plans, with VLAN
 * tags, IPv6, IPv4 options, fragments (some out of order), malformed and
 * oversized messages and non-track traffic.  Same arguments give a
 * byte-identical file: every message draws from its own splitmix64 stream
 * seeded by (seed, link, index), and pcap timestamps derive from --now.
 *
 * With --encoding takproto-v1 or mixed, well-formed events go out as TAK
 * Protocol Version 1 (tg_gen_takproto.c) instead of, or drawn against, XML.
 * Those choices come from a second per-message stream, so the events, and
 * every XML payload, are the same as with --encoding xml.
 *
 * This file owns the CLI, the address plan, packet framing and the pcap and
 * manifest output; tg_gen_cot.c owns the payloads.  Usage: tg-gen --help.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_gen.h"

#define GEN_DEFAULT_NOW 1714564800 /* 2024-05-01T12:00:00Z */
#define GEN_FRAME_MAX 16384
#define GEN_ETH_MIN 60

struct gen_cfg {
	enum gen_mix mix;
	enum gen_link link;
	enum gen_encoding enc;
	uint64_t count, seed;
	unsigned frag_mtu;
	int64_t now;
	const char *out, *manifest;
};

struct gen_out {
	pcap_t *pd;
	pcap_dumper_t *dump;
	FILE *manifest;
	int64_t now;
	uint64_t frames;
};

/* Per-message packet addressing, drawn before the payload. */
struct gen_addr {
	int v6, vlan, ipopt;
	uint16_t vid, sport, dport;
	uint8_t src4[4], dst4[4];
	uint8_t src6[16], dst6[16];
	uint8_t smac[6], dmac[6];
};

static const char *const link_names[] = {"kor-us", "jpn-us"};
static const char *const link_tags[] = {"kor", "jpn"};

/* Share of each kind per 1000 messages, per mix. */
static const uint16_t mix_weights[4][GEN_K_COUNT] = {
	[GEN_MIX_DEFAULT] = {[GEN_K_SA_GROUND] = 300, [GEN_K_SA_AIR] = 160,
			     [GEN_K_SA_NEUTRAL] = 90, [GEN_K_MISSILE_SSM] = 150,
			     [GEN_K_MISSILE_OTHER] = 60, [GEN_K_SPACE] = 70, [GEN_K_LAUNCH] = 50,
			     [GEN_K_IMPACT] = 60, [GEN_K_MALFORMED] = 20, [GEN_K_OVERSIZED] = 10,
			     [GEN_K_NONTRACK_ARP] = 5, [GEN_K_NONTRACK_ICMP] = 8,
			     [GEN_K_NONTRACK_TCP] = 7, [GEN_K_NONTRACK_UDP] = 10},
	[GEN_MIX_WARNINGS] = {[GEN_K_MISSILE_SSM] = 500, [GEN_K_MISSILE_OTHER] = 150,
			      [GEN_K_LAUNCH] = 150, [GEN_K_IMPACT] = 200},
	[GEN_MIX_SMALL] = {[GEN_K_SA_GROUND] = 300, [GEN_K_SA_AIR] = 150,
			   [GEN_K_SA_NEUTRAL] = 100, [GEN_K_MISSILE_SSM] = 200,
			   [GEN_K_MISSILE_OTHER] = 50, [GEN_K_SPACE] = 50, [GEN_K_LAUNCH] = 70,
			   [GEN_K_IMPACT] = 80},
	[GEN_MIX_HOSTILE] = {[GEN_K_SA_GROUND] = 150, [GEN_K_SA_AIR] = 80,
			     [GEN_K_SA_NEUTRAL] = 40, [GEN_K_MISSILE_SSM] = 80,
			     [GEN_K_MISSILE_OTHER] = 30, [GEN_K_SPACE] = 30, [GEN_K_LAUNCH] = 20,
			     [GEN_K_IMPACT] = 20, [GEN_K_MALFORMED] = 500, [GEN_K_OVERSIZED] = 20,
			     [GEN_K_NONTRACK_ARP] = 5, [GEN_K_NONTRACK_ICMP] = 10,
			     [GEN_K_NONTRACK_TCP] = 5, [GEN_K_NONTRACK_UDP] = 10},
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: tg-gen --mix default|warnings-only|small|hostile --count N --seed S\n"
		"              --link kor-us|jpn-us|all --out FILE.pcap\n"
		"              [--manifest FILE.jsonl] [--frag-mtu 1500] [--now EPOCH]\n"
		"              [--encoding xml|takproto-v1|mixed]\n"
		"Writes N deterministic CoT-over-UDP messages (plus non-track traffic) as an\n"
		"Ethernet pcap addressed per policy/demo.yaml.  See docs/traffic.md.\n");
}

static int
parse_u64(const char *s, uint64_t *v, const char *what)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || !*s || *end || *s == '-') {
		fprintf(stderr, "tg-gen: bad %s '%s'\n", what, s);
		return -1;
	}
	return 0;
}

static int
parse_args(int argc, char **argv, struct gen_cfg *c)
{
	static const struct option opts[] = {
		{"mix", required_argument, NULL, 'm'},      {"count", required_argument, NULL, 'c'},
		{"seed", required_argument, NULL, 's'},     {"link", required_argument, NULL, 'l'},
		{"out", required_argument, NULL, 'o'},      {"manifest", required_argument, NULL, 'M'},
		{"frag-mtu", required_argument, NULL, 'f'}, {"now", required_argument, NULL, 'n'},
		{"encoding", required_argument, NULL, 'e'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int have_count = 0, o;
	uint64_t v;

	*c = (struct gen_cfg){.mix = GEN_MIX_DEFAULT, .link = GEN_LINK_KOR, .seed = 1,
			      .frag_mtu = 1500, .now = GEN_DEFAULT_NOW};
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'm':
			if (!strcmp(optarg, "default"))
				c->mix = GEN_MIX_DEFAULT;
			else if (!strcmp(optarg, "warnings-only"))
				c->mix = GEN_MIX_WARNINGS;
			else if (!strcmp(optarg, "small"))
				c->mix = GEN_MIX_SMALL;
			else if (!strcmp(optarg, "hostile"))
				c->mix = GEN_MIX_HOSTILE;
			else {
				fprintf(stderr, "tg-gen: unknown mix '%s'\n", optarg);
				return -1;
			}
			break;
		case 'c':
			if (parse_u64(optarg, &c->count, "--count"))
				return -1;
			have_count = 1;
			break;
		case 's':
			if (parse_u64(optarg, &c->seed, "--seed"))
				return -1;
			break;
		case 'l':
			if (!strcmp(optarg, "kor-us"))
				c->link = GEN_LINK_KOR;
			else if (!strcmp(optarg, "jpn-us"))
				c->link = GEN_LINK_JPN;
			else if (!strcmp(optarg, "all"))
				c->link = GEN_LINK_ALL;
			else {
				fprintf(stderr, "tg-gen: unknown link '%s'\n", optarg);
				return -1;
			}
			break;
		case 'e':
			if (!strcmp(optarg, "xml"))
				c->enc = GEN_ENC_XML;
			else if (!strcmp(optarg, "takproto-v1"))
				c->enc = GEN_ENC_TAKPROTO_V1;
			else if (!strcmp(optarg, "mixed"))
				c->enc = GEN_ENC_MIXED;
			else {
				fprintf(stderr, "tg-gen: unknown encoding '%s'\n", optarg);
				return -1;
			}
			break;
		case 'o':
			c->out = optarg;
			break;
		case 'M':
			c->manifest = optarg;
			break;
		case 'f':
			if (parse_u64(optarg, &v, "--frag-mtu"))
				return -1;
			if (v < 576 || v > 9216) {
				fprintf(stderr, "tg-gen: --frag-mtu %" PRIu64 " not in 576..9216\n", v);
				return -1;
			}
			c->frag_mtu = (unsigned)v;
			break;
		case 'n':
			if (parse_u64(optarg, &v, "--now"))
				return -1;
			c->now = (int64_t)v;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || !c->out || !have_count) {
		fprintf(stderr, "tg-gen: --count and --out are required\n");
		usage(stderr);
		return -1;
	}
	return 0;
}

/* Internet checksum over a buffer, continuing from a partial sum. */
static uint32_t
csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t
csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16)), put16(p + 2, (uint16_t)v);
}

/* Transport checksum with the IPv4 or IPv6 pseudo header. */
static uint16_t
l4_csum(const struct gen_addr *a, uint8_t proto, const uint8_t *l4, size_t n)
{
	uint8_t ph[8];
	uint32_t sum = 0;
	uint16_t c;

	if (a->v6) {
		sum = csum_add(sum, a->src6, 16);
		sum = csum_add(sum, a->dst6, 16);
		put32(ph, (uint32_t)n);
		ph[4] = ph[5] = ph[6] = 0, ph[7] = proto;
		sum = csum_add(sum, ph, 8);
	} else {
		sum = csum_add(sum, a->src4, 4);
		sum = csum_add(sum, a->dst4, 4);
		ph[0] = 0, ph[1] = proto;
		put16(ph + 2, (uint16_t)n);
		sum = csum_add(sum, ph, 4);
	}
	c = csum_fold(csum_add(sum, l4, n));
	return (proto == 17 && c == 0) ? 0xffff : c;
}

static int
write_frame(struct gen_out *o, uint8_t *f, size_t n)
{
	struct pcap_pkthdr h;
	uint64_t us = o->frames * 10; /* 100k frames per second of capture time */

	if (n < GEN_ETH_MIN) {
		memset(f + n, 0, GEN_ETH_MIN - n);
		n = GEN_ETH_MIN;
	}
	h.ts.tv_sec = (time_t)(o->now + (int64_t)(us / 1000000));
	h.ts.tv_usec = (suseconds_t)(us % 1000000);
	h.caplen = h.len = (bpf_u_int32)n;
	pcap_dump((u_char *)o->dump, &h, f);
	o->frames++;
	return 0;
}

/* Ethernet (+802.1Q) header; returns its length. */
static size_t
put_eth(uint8_t *f, const struct gen_addr *a, uint16_t ethertype)
{
	size_t n = 12;

	memcpy(f, a->dmac, 6);
	memcpy(f + 6, a->smac, 6);
	if (a->vlan) {
		put16(f + 12, 0x8100);
		put16(f + 14, a->vid);
		n = 16;
	}
	put16(f + n, ethertype);
	return n + 2;
}

static size_t
put_ipv4(uint8_t *p, const struct gen_addr *a, uint8_t proto, size_t l4len, uint16_t id,
	 uint16_t frag, int opts)
{
	size_t hl = opts ? 24 : 20;

	p[0] = (uint8_t)(0x40 | hl / 4);
	p[1] = 0;
	put16(p + 2, (uint16_t)(hl + l4len));
	put16(p + 4, id);
	put16(p + 6, frag);
	p[8] = 64, p[9] = proto;
	put16(p + 10, 0);
	memcpy(p + 12, a->src4, 4);
	memcpy(p + 16, a->dst4, 4);
	if (opts) /* three NOPs and an end-of-options: legal, rarely seen */
		p[20] = 1, p[21] = 1, p[22] = 1, p[23] = 0;
	put16(p + 10, csum_fold(csum_add(0, p, hl)));
	return hl;
}

static size_t
put_ipv6(uint8_t *p, const struct gen_addr *a, uint8_t next, size_t paylen)
{
	put32(p, 0x60000000u);
	put16(p + 4, (uint16_t)paylen);
	p[6] = next, p[7] = 64;
	memcpy(p + 8, a->src6, 16);
	memcpy(p + 24, a->dst6, 16);
	return 40;
}

/* One IP datagram carrying l4 (already checksummed), fragmented to the MTU.
 * Returns the number of frames written. */
static unsigned
emit_ip(struct gen_out *o, struct gen_rng *g, const struct gen_addr *a, uint8_t proto,
	const uint8_t *l4, size_t n, unsigned mtu)
{
	uint8_t f[GEN_FRAME_MAX];
	size_t e, per, off, cnt, k, order[64];
	uint32_t id = (uint32_t)gen_next(g);
	int reverse;

	e = put_eth(f, a, a->v6 ? 0x86dd : 0x0800);
	if ((a->v6 ? 40 : (a->ipopt ? 24 : 20)) + n <= mtu) {
		size_t h = a->v6 ? put_ipv6(f + e, a, proto, n)
				 : put_ipv4(f + e, a, proto, n, (uint16_t)id, 0, a->ipopt);

		memcpy(f + e + h, l4, n);
		write_frame(o, f, e + h + n);
		return 1;
	}
	per = ((mtu - (a->v6 ? 48 : 20)) / 8) * 8;
	cnt = (n + per - 1) / per;
	if (cnt > 64)
		cnt = 64, per = ((n + 63) / 64 + 7) / 8 * 8;
	reverse = gen_below(g, 100) < 25;
	for (k = 0; k < cnt; k++)
		order[k] = reverse ? cnt - 1 - k : k;
	if (!reverse && cnt > 2 && gen_below(g, 100) < 10) {
		size_t t = order[0]; /* first fragment last: the header arrives late */

		memmove(order, order + 1, (cnt - 1) * sizeof(order[0]));
		order[cnt - 1] = t;
	}
	for (k = 0; k < cnt; k++) {
		size_t i = order[k], h;
		size_t len = (i == cnt - 1) ? n - i * per : per;
		int more = i != cnt - 1;

		off = i * per;
		if (a->v6) {
			uint8_t *fh = f + e + 40;

			put_ipv6(f + e, a, 44, 8 + len);
			fh[0] = proto, fh[1] = 0;
			put16(fh + 2, (uint16_t)((off / 8) << 3 | (more ? 1 : 0)));
			put32(fh + 4, id);
			h = 48;
		} else {
			h = put_ipv4(f + e, a, proto, len, (uint16_t)id,
				     (uint16_t)((more ? 0x2000 : 0) | off / 8), 0);
		}
		memcpy(f + e + h, l4 + off, len);
		write_frame(o, f, e + h + len);
	}
	return (unsigned)cnt;
}

static unsigned
emit_udp(struct gen_out *o, struct gen_rng *g, const struct gen_addr *a, const uint8_t *pl,
	 size_t n, unsigned mtu)
{
	static uint8_t d[GEN_PAYLOAD_MAX + 8];

	put16(d, a->sport);
	put16(d + 2, a->dport);
	put16(d + 4, (uint16_t)(n + 8));
	put16(d + 6, 0);
	memcpy(d + 8, pl, n);
	put16(d + 6, l4_csum(a, 17, d, n + 8));
	return emit_ip(o, g, a, 17, d, n + 8, mtu);
}

static void
emit_arp(struct gen_out *o, struct gen_addr *a)
{
	uint8_t f[64];
	size_t e;

	memset(a->dmac, 0xff, 6);
	e = put_eth(f, a, 0x0806);
	put16(f + e, 1), put16(f + e + 2, 0x0800);
	f[e + 4] = 6, f[e + 5] = 4;
	put16(f + e + 6, 1);
	memcpy(f + e + 8, a->smac, 6);
	memcpy(f + e + 14, a->src4, 4);
	memset(f + e + 18, 0, 6);
	memcpy(f + e + 24, a->dst4, 4);
	write_frame(o, f, e + 28);
}

static unsigned
emit_icmp(struct gen_out *o, struct gen_rng *g, const struct gen_addr *a, uint64_t idx)
{
	uint8_t m[64];
	size_t i;

	m[0] = a->v6 ? 128 : 8, m[1] = 0;
	put16(m + 2, 0);
	put16(m + 4, (uint16_t)(idx >> 16)), put16(m + 6, (uint16_t)idx);
	for (i = 8; i < sizeof(m); i++)
		m[i] = (uint8_t)i;
	if (a->v6) {
		put16(m + 2, l4_csum(a, 58, m, sizeof(m)));
	} else {
		put16(m + 2, csum_fold(csum_add(0, m, sizeof(m))));
	}
	return emit_ip(o, g, a, a->v6 ? 58 : 1, m, sizeof(m), 9000);
}

static unsigned
emit_tcp_syn(struct gen_out *o, struct gen_rng *g, const struct gen_addr *a)
{
	uint8_t t[20] = {0};

	put16(t, a->sport), put16(t + 2, a->dport);
	put32(t + 4, (uint32_t)gen_next(g));
	t[12] = 5 << 4, t[13] = 0x02;
	put16(t + 14, 64240);
	put16(t + 16, l4_csum(a, 6, t, sizeof(t)));
	return emit_ip(o, g, a, 6, t, sizeof(t), 9000);
}

/* Source, destination and framing for one message on its link. */
static void
draw_addr(struct gen_rng *g, enum gen_link link, struct gen_addr *a)
{
	static const uint8_t hub4[4] = {192, 0, 2, 1};
	static const uint8_t hub6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1};
	uint32_t host;

	memset(a, 0, sizeof(*a));
	a->v6 = gen_below(g, 100) < 10;
	a->vlan = gen_below(g, 100) < 15;
	a->vid = link == GEN_LINK_KOR ? 82 : 81;
	a->ipopt = !a->v6 && gen_below(g, 100) < 2;
	a->sport = (uint16_t)(1024 + gen_below(g, 64000));
	a->dport = gen_below(g, 10) ? 6969 : 4242;
	host = 2 + gen_below(g, 253); /* .2 .. .254: .1 is the peer side */
	if (link == GEN_LINK_KOR && gen_below(g, 100) < 1)
		host = 66; /* block_sources in the demo policy */
	if (link == GEN_LINK_KOR)
		a->src4[0] = 198, a->src4[1] = 51, a->src4[2] = 100;
	else
		a->src4[0] = 203, a->src4[1] = 0, a->src4[2] = 113;
	a->src4[3] = (uint8_t)host;
	memcpy(a->dst4, hub4, 4);
	a->src6[0] = 0x20, a->src6[1] = 0x01, a->src6[2] = 0x0d, a->src6[3] = 0xb8;
	a->src6[5] = link == GEN_LINK_KOR ? 0x82 : 0x81;
	put16(a->src6 + 14, (uint16_t)(2 + gen_below(g, 65000)));
	memcpy(a->dst6, hub6, 16);
	a->smac[0] = 0x02, a->smac[2] = (uint8_t)(link == GEN_LINK_KOR ? 0x82 : 0x81);
	a->smac[3] = a->src4[2], a->smac[4] = 0, a->smac[5] = (uint8_t)host;
	a->dmac[0] = 0x02, a->dmac[4] = 0x01, a->dmac[5] = 0x00;
}

static enum gen_kind
draw_kind(struct gen_rng *g, enum gen_mix mix)
{
	uint32_t x = gen_below(g, 1000);
	int k;

	for (k = 0; k < GEN_K_COUNT - 1; k++) {
		if (x < mix_weights[mix][k])
			return (enum gen_kind)k;
		x -= mix_weights[mix][k];
	}
	return (enum gen_kind)k;
}

/* The payload of a message that has one: CoT XML as cot_build writes it, or
 * (takproto-v1, mixed) the same event as TAK Protocol v1 into v1buf.  All
 * encoding choices are drawn from enc.  Returns the payload. */
static const uint8_t *
build_payload(const struct gen_cfg *c, struct gen_msg *m, struct gen_rng *enc, uint8_t *xmlbuf,
	      uint8_t *v1buf, size_t *n, int *as_v1)
{
	enum gen_kind kind = m->kind;
	enum gen_v1 v = GEN_V1_PLAIN;
	int hostile = 0;

	*as_v1 = 0;
	if (c->enc == GEN_ENC_XML) {
		*n = cot_build(m, xmlbuf);
		return xmlbuf;
	}
	/* Always drawn, in this order, so a message is the same in both modes. */
	*as_v1 = gen_below(enc, 2) || c->enc == GEN_ENC_TAKPROTO_V1;
	if (kind == GEN_K_MALFORMED)
		hostile = gen_below(enc, 2) && *as_v1;
	if (hostile) {
		/* A hostile v1 datagram built on a well-formed event. */
		m->kind = gen_below(enc, 2) ? GEN_K_SA_GROUND : GEN_K_MISSILE_SSM;
		v = (enum gen_v1)(GEN_V1_FIRST_HOSTILE +
				  gen_below(enc, GEN_V1_COUNT - GEN_V1_FIRST_HOSTILE));
	}
	*n = cot_build(m, xmlbuf);
	m->kind = kind;
	if (!*as_v1 || !m->ev.valid) {
		*as_v1 = 0; /* malformed on purpose: stays XML */
		return xmlbuf;
	}
	if (!hostile) {
		uint32_t x = gen_below(enc, 100);

		if (x < 8)
			v = (m->ev.caveat || m->ev.rel) ? GEN_V1_PLAIN : GEN_V1_LEGACY;
		else if (x < 16)
			v = GEN_V1_TAK_TIMES;
		else if (x < 22)
			v = GEN_V1_CONTROL;
	}
	*n = takproto_build(m, v, enc, v1buf);
	m->variant = gen_v1_names[v];
	return v1buf;
}

static int
generate(const struct gen_cfg *c, struct gen_out *o)
{
	static uint8_t xmlbuf[GEN_PAYLOAD_MAX], v1buf[GEN_PAYLOAD_MAX];
	const uint8_t *payload = NULL;
	char missile[2][64];
	uint64_t i;
	int l;

	for (l = 0; l < 2; l++)
		snprintf(missile[l], sizeof(missile[l]), "tg-%" PRIu64 "-%s-origin", c->seed,
			 link_tags[l]);
	for (i = 0; i < c->count; i++) {
		struct gen_msg m = {.seed = c->seed, .index = i, .now = c->now, .mix = c->mix};
		struct gen_addr a;
		struct gen_rng *g = &m.rng, enc;
		size_t n = 0;
		unsigned frames;
		int as_v1 = 0, is_v1;

		m.rng.s = c->seed * 0x9e3779b97f4a7c15ull ^ (i + 1) * 0xd1b54a32d192ed03ull ^
			  (uint64_t)c->link * 0x8cb92ba72f3d8dd7ull;
		enc.s = m.rng.s ^ 0x243f6a8885a308d3ull; /* the encoding stream */
		gen_next(&enc);
		gen_next(g);
		m.link = c->link == GEN_LINK_ALL ? (enum gen_link)gen_below(g, 2) : c->link;
		m.kind = draw_kind(g, c->mix);
		snprintf(m.uid, sizeof(m.uid), "tg-%" PRIu64 "-%s-%" PRIu64, c->seed,
			 link_tags[m.link], i);
		memcpy(m.missile_uid, missile[m.link], sizeof(m.missile_uid));
		draw_addr(g, m.link, &a);
		m.variant = "";

		switch (m.kind) {
		case GEN_K_NONTRACK_ARP:
			a.v6 = 0;
			emit_arp(o, &a);
			frames = 1;
			break;
		case GEN_K_NONTRACK_ICMP:
			frames = emit_icmp(o, g, &a, i);
			break;
		case GEN_K_NONTRACK_TCP:
			frames = emit_tcp_syn(o, g, &a);
			break;
		case GEN_K_NONTRACK_UDP:
			a.dport = (uint16_t)(gen_below(g, 2) ? 8087 : 6970);
			payload = build_payload(c, &m, &enc, xmlbuf, v1buf, &n, &as_v1);
			frames = emit_udp(o, g, &a, payload, n, c->frag_mtu);
			break;
		default:
			payload = build_payload(c, &m, &enc, xmlbuf, v1buf, &n, &as_v1);
			frames = emit_udp(o, g, &a, payload, n, c->frag_mtu);
			if (m.kind == GEN_K_MISSILE_SSM)
				memcpy(missile[m.link], m.uid, sizeof(m.uid));
			break;
		}
		/* the encoding release.md section 1 reads: bf 01 bf or not */
		is_v1 = n >= 3 && !memcmp(payload, "\xbf\x01\xbf", 3);
		if (o->manifest)
			fprintf(o->manifest,
				"{\"uid\":\"%s\",\"link\":\"%s\",\"kind\":\"%s\",\"variant\":\"%s\","
				"\"size\":%zu,\"ipv6\":%s,\"vlan\":%s,\"frames\":%u,\"dport\":%u%s%s}\n",
				m.uid, link_names[m.link], gen_kind_names[m.kind], m.variant, n,
				a.v6 ? "true" : "false", a.vlan ? "true" : "false", frames,
				(unsigned)a.dport,
				c->enc == GEN_ENC_XML ? "" : ",\"encoding\":",
				c->enc == GEN_ENC_XML ? ""
				: !n		      ? "null"
				: is_v1		      ? "\"takproto-v1\""
						      : "\"xml\"");
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct gen_cfg c;
	struct gen_out o = {0};
	int rc;

	if (parse_args(argc, argv, &c))
		return 2;
	o.now = c.now;
	o.pd = pcap_open_dead(DLT_EN10MB, 65535);
	if (!o.pd) {
		fprintf(stderr, "tg-gen: pcap_open_dead failed\n");
		return 1;
	}
	o.dump = pcap_dump_open(o.pd, c.out);
	if (!o.dump) {
		fprintf(stderr, "tg-gen: cannot write %s: %s\n", c.out, pcap_geterr(o.pd));
		pcap_close(o.pd);
		return 1;
	}
	if (c.manifest) {
		o.manifest = fopen(c.manifest, "w");
		if (!o.manifest) {
			fprintf(stderr, "tg-gen: cannot write %s: %s\n", c.manifest,
				strerror(errno));
			pcap_dump_close(o.dump);
			pcap_close(o.pd);
			return 1;
		}
	}
	rc = generate(&c, &o);
	if (pcap_dump_flush(o.dump)) {
		fprintf(stderr, "tg-gen: write to %s failed\n", c.out);
		rc = -1;
	}
	pcap_dump_close(o.dump);
	pcap_close(o.pd);
	if (o.manifest && fclose(o.manifest)) {
		fprintf(stderr, "tg-gen: write to %s failed: %s\n", c.manifest, strerror(errno));
		rc = -1;
	}
	return rc ? 1 : 0;
}
