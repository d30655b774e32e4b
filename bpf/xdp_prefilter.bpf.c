/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp_prefilter.bpf.c - the XDP program in front of trackgate's net_af_xdp
 * ports.  It decides, before any copy to user space, which frames trackgate
 * sees: UDP to the link's track ports from allowed, unblocked, non-flooding
 * sources goes to the AF_XDP socket of the receiving queue; other track
 * traffic is dropped here; everything else goes to the kernel untouched.
 *
 * Fragments: a non-first IPv4/IPv6 fragment has no UDP header, so its ports
 * are unknown.  Every non-first fragment whose protocol is UDP is treated as
 * track traffic (source checks and rate limit apply, then AF_XDP), so that
 * trackgate receives all fragments of a track datagram and can reassemble it;
 * fragments of other UDP ports also reach trackgate, which discards them.
 * Fragments of ICMP/TCP go to the kernel.  A first fragment carries the UDP
 * header and is classified by its port like any datagram.
 *
 * The map layout and the publish protocol are in tg_xdp.h.  DPDK's PMD uses
 * the first program in the object and the map named xsks_map: keep this the
 * only program here and keep xsks_map unpinned (one per interface).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "tg_xdp.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, TG_XDP_XSKS);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tg_xdp_ctl);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tg_xdp_ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TG_XDP_MAX_IFACES);
	__type(key, struct tg_xdp_ifc_key);
	__type(value, struct tg_xdp_ifc);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tg_xdp_ifc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, TG_XDP_LPM_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tg_xdp_lpm_key);
	__type(value, struct tg_xdp_lpm_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tg_xdp_allow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, TG_XDP_LPM_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tg_xdp_lpm_key);
	__type(value, struct tg_xdp_lpm_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tg_xdp_block SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TG_XDP_RATE_ENTRIES);
	__type(key, struct tg_xdp_rate_key);
	__type(value, struct tg_xdp_rate);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tg_xdp_rate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TG_XDP_VERDICT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tg_xdp_verdicts SEC(".maps");

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct ip6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset in 8-byte units << 3 | M flag */
	__be32 id;
};

struct ip6_ext {
	__u8 nexthdr;
	__u8 len; /* 8-byte units, not counting the first 8 */
};

#define IP_OFFSET_MASK 0x1fff
#define IP6_OFFSET_MASK 0xfff8
#define IP6_MAX_EXT 4

static __always_inline int
verdict(__u32 v, int action)
{
	__u64 *n = bpf_map_lookup_elem(&tg_xdp_verdicts, &v);

	if (n)
		*n += 1;
	return action;
}

/* GCRA form of a token bucket of depth `burst` refilled at `pps`: a source
 * conforms while its theoretical arrival time stays within depth_ns of now.
 * One u64 per source, updated with compare-and-swap so two CPUs receiving the
 * same source cannot both spend the same token. */
static __always_inline int
rate_conforms(const struct tg_xdp_ifc *ifc, struct tg_xdp_rate_key *key)
{
	__u64 now = bpf_ktime_get_ns();
	struct tg_xdp_rate *r;
	int i;

	if (ifc->cost_ns == 0)
		return 1;
	r = bpf_map_lookup_elem(&tg_xdp_rate, key);
	if (!r) {
		struct tg_xdp_rate init = { .tat_ns = now + ifc->cost_ns };

		/* A lost insert race costs at most one extra packet. */
		bpf_map_update_elem(&tg_xdp_rate, key, &init, BPF_NOEXIST);
		return ifc->cost_ns <= ifc->depth_ns;
	}
	for (i = 0; i < 2; i++) {
		__u64 old = r->tat_ns;
		__u64 tat = old > now ? old : now;

		if (tat + ifc->cost_ns - now > ifc->depth_ns)
			return 0;
		if (__sync_val_compare_and_swap(&r->tat_ns, old, tat + ifc->cost_ns) == old)
			return 1;
	}
	return 0; /* lost twice to other CPUs: this source is busy enough */
}

static __always_inline int
prefix_match(void *trie, __u32 slot, const struct tg_xdp_ifc *ifc, __u8 family,
	     const __u8 *addr)
{
	struct tg_xdp_lpm_key k = {
		.prefixlen = TG_XDP_LPM_HDR_BITS + (family == 4 ? 32 : 128),
		.slot = slot,
		.link_idx = ifc->link_idx,
		.family = family,
	};

	__builtin_memcpy(k.addr, addr, 16);
	return bpf_map_lookup_elem(trie, &k) != NULL;
}

SEC("xdp")
int
xdp_prefilter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct tg_xdp_rate_key rk = {};
	struct tg_xdp_ifc_key ik;
	const struct tg_xdp_ifc *ifc;
	const struct tg_xdp_ctl *ctl;
	struct udphdr *udp = NULL;
	__u32 zero = 0, slot, i;
	int nonfirst_frag = 0, track = 0, ret;
	__u16 proto;
	void *l3;

	if ((void *)(eth + 1) > end)
		return verdict(TG_XDP_V_PASS_MALFORMED, XDP_PASS);
	proto = eth->h_proto;
	l3 = eth + 1;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		struct vlan_hdr *vh = l3;

		if ((void *)(vh + 1) > end)
			return verdict(TG_XDP_V_PASS_MALFORMED, XDP_PASS);
		proto = vh->proto;
		l3 = vh + 1;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;
		__u32 ihl;

		if ((void *)(ip + 1) > end)
			return verdict(TG_XDP_V_PASS_MALFORMED, XDP_PASS);
		if (ip->protocol != IPPROTO_UDP)
			return verdict(TG_XDP_V_PASS_NOT_TRACK, XDP_PASS);
		ihl = ip->ihl * 4;
		if (ihl < sizeof(*ip))
			return verdict(TG_XDP_V_PASS_MALFORMED, XDP_PASS);
		rk.family = 4;
		__builtin_memcpy(rk.addr, &ip->saddr, 4);
		if (bpf_ntohs(ip->frag_off) & IP_OFFSET_MASK) {
			nonfirst_frag = 1;
		} else {
			udp = l3 + ihl;
			if ((void *)(udp + 1) > end)
				return verdict(TG_XDP_V_PASS_MALFORMED, XDP_PASS);
		}
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;
		void *p;
		__u8 nh;

		if ((void *)(ip6 + 1) > end)
			return verdict(TG_XDP_V_PASS_MALFORMED, XDP_PASS);
		rk.family = 6;
		__builtin_memcpy(rk.addr, &ip6->saddr, 16);
		nh = ip6->nexthdr;
		p = ip6 + 1;
#pragma unroll
		for (i = 0; i < IP6_MAX_EXT; i++) {
			if (nh == IPPROTO_FRAGMENT) {
				struct ip6_frag *fh = p;

				if ((void *)(fh + 1) > end)
					return verdict(TG_XDP_V_PASS_MALFORMED, XDP_PASS);
				nh = fh->nexthdr;
				p = fh + 1;
				if (bpf_ntohs(fh->frag_off) & IP6_OFFSET_MASK) {
					nonfirst_frag = 1;
					break;
				}
			} else if (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING ||
				   nh == IPPROTO_DSTOPTS) {
				struct ip6_ext *eh = p;

				if ((void *)(eh + 1) > end)
					return verdict(TG_XDP_V_PASS_MALFORMED, XDP_PASS);
				nh = eh->nexthdr;
				p += (eh->len + 1) * 8;
			} else {
				break;
			}
		}
		if (nh != IPPROTO_UDP)
			return verdict(TG_XDP_V_PASS_NOT_TRACK, XDP_PASS);
		if (!nonfirst_frag) {
			udp = p;
			if ((void *)(udp + 1) > end)
				return verdict(TG_XDP_V_PASS_MALFORMED, XDP_PASS);
		}
	} else {
		return verdict(TG_XDP_V_PASS_NOT_TRACK, XDP_PASS);
	}

	/* UDP (or a UDP fragment): is it for a track port of this interface? */
	ctl = bpf_map_lookup_elem(&tg_xdp_ctl, &zero);
	if (!ctl || ctl->magic != TG_XDP_MAGIC)
		return verdict(TG_XDP_V_PASS_NO_CONFIG, XDP_PASS);
	slot = ctl->active_slot & 1;
	ik.slot = slot;
	ik.ifindex = ctx->ingress_ifindex;
	ifc = bpf_map_lookup_elem(&tg_xdp_ifc, &ik);
	if (!ifc)
		return verdict(TG_XDP_V_PASS_NO_CONFIG, XDP_PASS);

	if (nonfirst_frag) {
		track = 1;
	} else {
#pragma unroll
		for (i = 0; i < TG_XDP_MAX_PORTS; i++) {
			if (i < ifc->n_udp_ports && ifc->udp_ports[i] == udp->dest)
				track = 1;
		}
	}
	if (!track)
		return verdict(TG_XDP_V_PASS_NOT_TRACK, XDP_PASS);

	if (prefix_match(&tg_xdp_block, slot, ifc, rk.family, rk.addr))
		return verdict(TG_XDP_V_DROP_BLOCKED, XDP_DROP);
	if ((ifc->flags & TG_XDP_IFC_HAS_ALLOW) &&
	    !prefix_match(&tg_xdp_allow, slot, ifc, rk.family, rk.addr))
		return verdict(TG_XDP_V_DROP_NOT_ALLOWED, XDP_DROP);
	rk.link_idx = ifc->link_idx;
	if (!rate_conforms(ifc, &rk))
		return verdict(TG_XDP_V_DROP_RATE, XDP_DROP);

	ret = bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
	return verdict(ret == XDP_REDIRECT ? TG_XDP_V_REDIRECT : TG_XDP_V_NO_XSK, ret);
}
