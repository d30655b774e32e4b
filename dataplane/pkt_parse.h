/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pkt_parse.h - frame to message (see pkt_parse.c).
 */
#ifndef DP_PKT_PARSE_H
#define DP_PKT_PARSE_H

#include <stdbool.h>
#include <stdint.h>

#include "tg_maps.h"

/* A fragment that is no longer the caller's: held by the reassembly table,
 * or freed with its datagram and counted (reassembly.h). */
#define DP_PKT_TAKEN (-1)

struct dp_pkt {
	uint32_t payload_off; /* from the start of the frame */
	uint32_t payload_len; /* the UDP payload */
	uint16_t l3_off;
	uint8_t ipv;
};

struct dp_worker;
struct rte_mbuf;

/*
 * Parse the frame *mp that arrived on `link`.  Returns TG_R_RELEASED (0) for
 * a message (then *mp may be a reassembled chain), DP_PKT_TAKEN for a fragment
 * the reassembly table took, or the drop reason (the caller frees *mp).
 */
int dp_pkt_parse(struct dp_worker *w, const struct tg_link *link, struct rte_mbuf **mp,
		 uint64_t tsc, bool may_reassemble, struct dp_pkt *out);

/*
 * rte_raw_cksum() of the payload of a message dp_pkt_parse() accepted, for
 * the peers' UDP checksums (forward.c).  Its checksum was verified, so when
 * it is not 0 the payload's sum follows from it without summing the payload.
 */
uint16_t dp_pkt_payload_sum(const struct rte_mbuf *m, const struct dp_pkt *pk,
			    const uint8_t *payload);

#endif /* DP_PKT_PARSE_H */
