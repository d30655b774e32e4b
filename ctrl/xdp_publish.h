/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp_publish.h - what tgctl calls to drive the XDP pre-filter: create or
 * reuse its pinned maps, publish the links' source filters and rates
 * atomically, and read the verdict counters.  Independent of the policy
 * parser: the caller fills struct xdp_link_cfg.
 */
#ifndef XDP_PUBLISH_H
#define XDP_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "tg_xdp.h"

#define XDP_V_COUNT TG_XDP_V_COUNT
#define XDP_LINK_MAX_PREFIXES TG_XDP_MAX_PREFIXES

struct xdp_prefix {
	uint8_t family; /* 4 or 6 */
	uint8_t len;    /* prefix length in bits */
	uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes */
};

struct xdp_link_cfg {
	char name[32];
	char iface[16];  /* kernel interface name (policy `xdp_iface`); "" = none */
	uint16_t udp_ports[8]; /* host byte order */
	uint8_t n_udp_ports;
	uint32_t rate_pps, rate_burst; /* 0 pps = unlimited; 0 burst = pps */
	uint16_t n_allow, n_block;     /* 0 allow = every source allowed */
	struct xdp_prefix allow[64], block[64];
};

/*
 * Make sure the pre-filter's maps exist in bpffs_dir (create them, or reuse
 * them when their definitions match this build; fail with a message naming
 * the map and the difference otherwise), and that pin_root/<map> is a symlink
 * to each, so that the PMD's libbpf (pin root /sys/fs/bpf) reuses them.
 * pin_root NULL = the parent of bpffs_dir.  Idempotent; call before trackgate
 * starts its af_xdp ports.
 */
int ctl_xdp_prepare(const char *bpffs_dir, const char *pin_root, char *err, size_t errlen);

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

/* Parse "198.51.100.0/24", "2001:db8::/32" or a bare address (full length).
 * 0 or -EINVAL. For tests and tools; tgctl's parser may use its own. */
int ctl_xdp_parse_prefix(const char *text, struct xdp_prefix *out);

#endif /* XDP_PUBLISH_H */
