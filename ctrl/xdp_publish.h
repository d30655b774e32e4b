/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp_publish.h - what tgctl calls to drive the XDP pre-filter: create or
 * reuse its pinned maps, publish the links' source filters and rates
 * atomically, and read the verdict counters.  Independent of the policy
 * parser: the caller fills struct xdp_link_cfg.
 */
#ifndef XDP_PUBLISH_H
#define XDP_PUBLISH_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "prefix.h"
#include "tg_maps.h"
#include "tg_xdp.h"

#define XDP_V_COUNT TG_XDP_V_COUNT
#define XDP_LINK_MAX_PREFIXES TG_XDP_MAX_PREFIXES

struct xdp_link_cfg {
	char name[TG_NAME_MAX];
	char iface[IF_NAMESIZE]; /* kernel interface name (policy `xdp_iface`); "" = none */
	uint16_t udp_ports[TG_XDP_MAX_PORTS]; /* host byte order */
	uint8_t n_udp_ports;
	uint32_t rate_pps, rate_burst; /* 0 pps = unlimited; 0 burst = pps */
	uint16_t n_allow, n_block;     /* 0 allow = every source allowed */
	struct ctl_prefix allow[XDP_LINK_MAX_PREFIXES], block[XDP_LINK_MAX_PREFIXES];
};

/* tgctl copies a policy link's udp_ports (struct tg_link) as they are. */
_Static_assert(TG_XDP_MAX_PORTS == TG_MAX_LINK_PORTS, "XDP and policy port lists differ");

/*
 * Make sure the pre-filter's maps exist in bpffs_dir (create them, or reuse
 * them when their definitions match xdp_prefilter.bpf.o as built into this
 * program; fail with a message naming the map and the difference otherwise),
 * and that pin_root/<map> is a symlink to each, so that the PMD's libbpf (pin
 * root /sys/fs/bpf) reuses them.  pin_root NULL = the parent of bpffs_dir.
 * Idempotent; call before trackgate starts its af_xdp ports.  0 or -errno
 * with err set; on failure the maps this call pinned are unpinned again.
 */
int ctl_xdp_prepare(const char *bpffs_dir, const char *pin_root, char *err, size_t errlen);

/*
 * Everything ctl_xdp_publish(bpffs_dir, links, n_links) needs that can be
 * checked before anything is created: bpffs_dir (or its nearest existing
 * ancestor) and its parent on a bpf filesystem, the links' interfaces and
 * limits.  0 or -errno with err naming the path or link and the fix.
 */
int ctl_xdp_check(const char *bpffs_dir, const struct xdp_link_cfg *links, unsigned n_links,
		  char *err, size_t errlen);

/*
 * Publish the links' XDP config: write the inactive slot, flip the active
 * slot, delete the old slot.  A packet sees the old config or the new one,
 * never a mix.  Links with an empty iface are skipped.  Calls ctl_xdp_prepare
 * (pin root = parent of bpffs_dir) first.  0 or -errno with err filled.
 */
int ctl_xdp_publish(const char *bpffs_dir, const struct xdp_link_cfg *links, unsigned n_links,
		    char *err, size_t errlen);

/* Verdict counters summed over CPUs, out[XDP_V_COUNT]. */
int ctl_xdp_read_verdicts(const char *bpffs_dir, uint64_t out[/*XDP_V_COUNT*/], char *err,
			  size_t errlen);

/* "redirect", "drop_blocked", ...; "?" when out of range. */
const char *ctl_xdp_verdict_name(unsigned v);

#endif /* XDP_PUBLISH_H */
