/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * forward.h - building a peer's Ethernet/VLAN/IP/UDP header in front of an
 * unmodified payload.  The template is made once per policy; per packet only
 * lengths, the IP id and the checksums change.
 */
#ifndef DP_FORWARD_H
#define DP_FORWARD_H

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

struct dp_worker;
struct dp_policy;
struct rte_mbuf;

/*
 * Queue `payload` (an mbuf chain whose first `hdr_off` bytes are the
 * original headers) to peer `pi`.  Takes no reference away from the caller:
 * it clones.  Returns TG_R_RELEASED or why it could not (no_mbuf).
 */
int fwd_to_peer(struct dp_worker *w, const struct dp_policy *pol, unsigned pi,
		struct rte_mbuf *m, uint32_t hdr_off, uint32_t payload_len, uint16_t payload_sum);

#endif /* DP_FORWARD_H */
