/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tg_xdp.h - the contract between the XDP pre-filter (bpf/xdp_prefilter.bpf.c)
 * and its writer, tgctl (ctrl/xdp_publish.c).  Included by both sides, so it
 * uses only fixed-size types and no libc.
 *
 * Where the maps live.  DPDK 22.11's net_af_xdp PMD loads the object named by
 * its `xdp_prog=` devarg with bpf_object__open_file(path, NULL) and
 * bpf_object__load(): libbpf's default pin root, /sys/fs/bpf, applies to every
 * map declared LIBBPF_PIN_BY_NAME, and a map already pinned there is reused
 * (the load fails if its definition differs).  trackgate keeps its maps in its
 * own directory (default /sys/fs/bpf/trackgate), so ctl_xdp_prepare() creates
 * them there and puts a symlink /sys/fs/bpf/<name> -> trackgate/<name> next
 * to it: libbpf follows the link and the PMD's program uses trackgate's maps.
 *
 * Double buffer.  Every policy entry (interface config, allow and block
 * prefixes) carries a slot number in its key.  tgctl writes the slot that is
 * not active, then flips tg_xdp_ctl.active_slot (the last write), then deletes
 * the old slot's entries.  The program reads active_slot once per packet.
 *
 * The maps are defined once, in xdp_prefilter.bpf.c; tgctl reads their
 * definitions from the compiled object (its bpftool skeleton) when it creates
 * or checks the pins.  Any change to a map definition or to a type below
 * bumps TG_XDP_ABI: a pinned map cannot change under a running program.
 */
#ifndef TG_XDP_H
#define TG_XDP_H

#ifdef __bpf__
#include <linux/types.h>
typedef __u8 tgx_u8;
typedef __u16 tgx_u16;
typedef __u32 tgx_u32;
typedef __u64 tgx_u64;
#else
#include <stdint.h>
typedef uint8_t tgx_u8;
typedef uint16_t tgx_u16;
typedef uint32_t tgx_u32;
typedef uint64_t tgx_u64;
#endif

#define TG_XDP_MAGIC 0x54475844u /* "TGXD" */
#define TG_XDP_ABI 1

/* Map names: also their pin file names (at most 15 characters). */
#define TG_XDP_MAP_CTL "tg_xdp_ctl"
#define TG_XDP_MAP_IFC "tg_xdp_ifc"
#define TG_XDP_MAP_ALLOW "tg_xdp_allow"
#define TG_XDP_MAP_BLOCK "tg_xdp_block"
#define TG_XDP_MAP_RATE "tg_xdp_rate"
#define TG_XDP_MAP_VERDICTS "tg_xdp_verdicts"

/* Map sizes. */
#define TG_XDP_SLOTS 2
#define TG_XDP_MAX_LINKS 16       /* = TG_MAX_LINKS */
#define TG_XDP_MAX_PORTS 8        /* = TG_MAX_LINK_PORTS */
#define TG_XDP_MAX_PREFIXES 64    /* per link, allow and block each */
#define TG_XDP_MAX_IFACES 64      /* entries in tg_xdp_ifc (both slots) */
#define TG_XDP_LPM_ENTRIES (TG_XDP_SLOTS * TG_XDP_MAX_LINKS * TG_XDP_MAX_PREFIXES)
#define TG_XDP_RATE_ENTRIES 65536 /* distinct (link, source) buckets, LRU */
#define TG_XDP_VERDICT_SLOTS 32   /* room for new verdicts without an ABI bump */
#define TG_XDP_XSKS 64            /* queues per interface */

/* Verdict counters, index into tg_xdp_verdicts.  Append only. */
enum tg_xdp_verdict {
	TG_XDP_V_REDIRECT = 0,     /* track datagram handed to the AF_XDP socket */
	TG_XDP_V_NO_XSK,           /* track datagram, but no socket on this queue:
				    * fell back to the kernel stack */
	TG_XDP_V_PASS_NOT_TRACK,   /* ARP, ICMP, TCP, other UDP ports: kernel */
	TG_XDP_V_PASS_NO_CONFIG,   /* interface has no published config: kernel */
	TG_XDP_V_PASS_MALFORMED,   /* truncated L2/L3/L4 header: kernel decides */
	TG_XDP_V_DROP_BLOCKED,     /* source in the link's block_sources */
	TG_XDP_V_DROP_NOT_ALLOWED, /* source not in a non-empty allow_sources */
	TG_XDP_V_DROP_RATE,        /* source over its token bucket */
	TG_XDP_V_COUNT
};

/* Value of tg_xdp_ctl[0].  Only active_slot is read by the program; 0 and 1
 * differ in one byte, so even a byte-wise copy of this value cannot tear it. */
struct tg_xdp_ctl {
	tgx_u32 magic;       /* TG_XDP_MAGIC once initialised */
	tgx_u32 abi;         /* TG_XDP_ABI */
	tgx_u32 active_slot; /* 0 or 1 */
	tgx_u32 pad;
	tgx_u64 generation;  /* bumped by every publish, 0 = never published */
	tgx_u64 published_ns; /* CLOCK_REALTIME of the last publish */
};

/* Key of tg_xdp_ifc: an interface in one slot. */
struct tg_xdp_ifc_key {
	tgx_u32 slot;
	tgx_u32 ifindex;
};

#define TG_XDP_IFC_HAS_ALLOW (1u << 0) /* allow list is non-empty */

/* Value of tg_xdp_ifc: what the program needs to know about the link the
 * interface belongs to. */
struct tg_xdp_ifc {
	tgx_u32 link_idx;   /* index into the published links, < TG_XDP_MAX_LINKS */
	tgx_u32 flags;      /* TG_XDP_IFC_* */
	tgx_u16 udp_ports[TG_XDP_MAX_PORTS]; /* network byte order */
	tgx_u32 n_udp_ports;
	tgx_u32 pad;
	/* Token bucket as a GCRA: each packet costs cost_ns of "time"; a source
	 * may run at most depth_ns ahead of now (= burst packets).  0 = no limit. */
	tgx_u64 cost_ns;    /* 1e9 / rate.pps */
	tgx_u64 depth_ns;   /* rate.burst * cost_ns */
};

/* Key of tg_xdp_allow and tg_xdp_block (LPM tries).  prefixlen counts the
 * 32 bits of slot/link/family/zero plus the prefix length of addr. */
struct tg_xdp_lpm_key {
	tgx_u32 prefixlen;
	tgx_u8 slot;
	tgx_u8 link_idx;
	tgx_u8 family;   /* 4 or 6 */
	tgx_u8 zero;
	tgx_u8 addr[16]; /* IPv4 in the first 4 bytes, network order */
};

#define TG_XDP_LPM_HDR_BITS 32

/* Value of the LPM tries: the prefix's index in the policy list. */
struct tg_xdp_lpm_val {
	tgx_u32 index;
};

/* Key of tg_xdp_rate: one bucket per (link, source address). */
struct tg_xdp_rate_key {
	tgx_u32 link_idx;
	tgx_u8 family;
	tgx_u8 pad[3];
	tgx_u8 addr[16];
};

/* Value of tg_xdp_rate: theoretical arrival time of the next conforming
 * packet, bpf_ktime_get_ns() clock. */
struct tg_xdp_rate {
	tgx_u64 tat_ns;
};

#endif /* TG_XDP_H */
