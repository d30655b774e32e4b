/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hdr_build.h - building a peer's Ethernet/VLAN/IP/UDP header in front of an
 * unmodified payload.  The template is made once per policy; per packet only
 * lengths, the IP id and the checksums change.
 */
#ifndef DP_HDR_BUILD_H
#define DP_HDR_BUILD_H

#include <stdint.h>

#include "tg_maps.h"

#define FWD_HDR_MAX 72 /* 14 + 4 + 40 + 8, rounded */

struct fwd_tmpl {
	uint8_t bytes[FWD_HDR_MAX];
	uint8_t len;    /* whole header */
	uint8_t l2_len; /* Ethernet (+ VLAN) */
	uint8_t l3_len; /* 20 or 40 */
	uint8_t ipv;    /* 4 or 6 */
	uint16_t mtu;   /* the peer's L3 MTU */
	uint32_t udp_sum; /* one's-complement sum of the constant pseudo-header
			   * and UDP header parts (addresses, proto, ports) */
};

void fwd_tmpl_build(struct fwd_tmpl *t, const struct tg_peer *p);

/*
 * Write t->len header bytes at dst for a datagram carrying payload_len bytes
 * whose rte_raw_cksum() is payload_sum: lengths, IPv4 id and header checksum,
 * UDP checksum (never 0: 0xffff stands for a computed zero).
 */
void fwd_hdr_fill(uint8_t *dst, const struct fwd_tmpl *t, uint16_t payload_len, uint16_t ip_id,
		  uint16_t payload_sum);

#endif /* DP_HDR_BUILD_H */
