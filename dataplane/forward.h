/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * forward.h - handing a released payload to a peer (forward.c): a header
 * built from the peer's template (hdr_build.h) chained in front of a clone of
 * the payload, fragmented to the peer's MTU, buffered per (worker, port)
 * and sent in bursts.
 */
#ifndef DP_FORWARD_H
#define DP_FORWARD_H

#include <stdint.h>

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

/*
 * A payload written by trackgate itself (an XML conversion, a sanitized
 * copy) as an mbuf chain from its own pool (dp_pool_copy), ready for
 * fwd_to_peer() with hdr_off 0.  NULL if the pool has not enough buffers.
 */
struct rte_mbuf *fwd_payload_mbuf(const void *data, uint32_t len);

/* Send what worker w buffered for port dp_ports[pidx] (or for every port);
 * what the device does not take after a few tries is freed and counted. */
void fwd_flush_port(struct dp_worker *w, const struct dp_policy *pol, unsigned pidx);
void fwd_flush_all(struct dp_worker *w, const struct dp_policy *pol);

#endif /* DP_FORWARD_H */
