/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * forward.c - hand a released payload to a peer: a small header mbuf built
 * from the peer's template (hdr_build.c), chained in front of a refcounted clone of the
 * received payload (the ipv4_multicast pattern: payload bytes are never
 * written after cloning), fragmented again when the peer's MTU is smaller,
 * and buffered per (worker, port) for burst TX.
 */
#include "forward.h"

#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "dp.h"
#include "hdr_build.h"

/* ---- buffered TX ---- */

static void
txbuf_count(struct dp_worker *w, const struct dp_policy *pol, uint8_t tag, uint32_t bytes,
	    bool sent, uint64_t rx_tsc, uint64_t now)
{
	struct dp_peer_cnt *pc;

	if (!(tag & DP_TXTAG_COUNT) || pol == NULL)
		return;
	pc = &pol->peer_cnt[w->idx * TG_MAX_PEERS + (tag & 0x3f)];
	if (sent) {
		uint64_t b = (now - rx_tsc) / dp_lat_cycles_per_bucket;

		pc->released++;
		pc->bytes += bytes;
		w->lat.bucket[b < DP_LAT_BUCKETS ? b : DP_LAT_BUCKETS - 1]++;
	} else {
		pc->withheld[TG_R_TX_FULL]++;
	}
}

void
fwd_flush_port(struct dp_worker *w, const struct dp_policy *pol, unsigned pidx)
{
	struct dp_txbuf *b = &w->tx[pidx];
	uint16_t sent = 0;

	if (b->n == 0)
		return;
	struct dp_port *port = &dp_ports[pidx];
	uint16_t q = (uint16_t)(w->idx % port->nb_txq);

	/* A full queue usually drains within a few polls; after that, drop and
	 * count rather than stall the worker. */
	if (unlikely(port->tx_shared))
		rte_spinlock_lock(&port->tx_lock);
	for (int tries = 0; sent < b->n && tries < 8; tries++)
		sent += rte_eth_tx_burst(port->port_id, q, b->m + sent, b->n - sent);
	if (unlikely(port->tx_shared))
		rte_spinlock_unlock(&port->tx_lock);
	uint64_t now = rte_rdtsc();

	for (uint16_t i = 0; i < b->n; i++) {
		txbuf_count(w, pol, b->peer[i], b->bytes[i], i < sent, b->rx_tsc[i], now);
		if (i >= sent)
			rte_pktmbuf_free(b->m[i]);
	}
	b->n = 0;
}

static void
txbuf_add(struct dp_worker *w, const struct dp_policy *pol, unsigned pidx,
	  struct rte_mbuf *m, uint8_t tag, uint32_t bytes)
{
	struct dp_txbuf *b = &w->tx[pidx];

	if (m->nb_segs > 1 && !dp_ports[pidx].multiseg_tx) {
		/* The device cannot gather: copy the frame into one buffer
		 * (a peer's frames fit: its MTU bounds them). */
		struct rte_mbuf *l = rte_pktmbuf_alloc(dp_pool_linear);
		char *d = l && m->pkt_len <= rte_pktmbuf_tailroom(l)
				  ? rte_pktmbuf_append(l, (uint16_t)m->pkt_len)
				  : NULL;

		if (d == NULL) {
			if (l)
				rte_pktmbuf_free(l);
			rte_pktmbuf_free(m);
			if (tag & DP_TXTAG_COUNT)
				pol->peer_cnt[w->idx * TG_MAX_PEERS + (tag & 0x3f)]
					.withheld[TG_R_NO_MBUF]++;
			return;
		}
		rte_pktmbuf_read(m, 0, m->pkt_len, d);
		rte_pktmbuf_free(m);
		m = l;
	}
	b->m[b->n] = m;
	b->peer[b->n] = tag;
	b->bytes[b->n] = bytes;
	b->rx_tsc[b->n] = w->rx_tsc;
	if (!w->tx_pending) {
		w->tx_pending = true;
		w->tx_oldest_tsc = w->rx_tsc;
	}
	if (++b->n == DP_TX_BURST)
		fwd_flush_port(w, pol, pidx);
}

void
fwd_flush_all(struct dp_worker *w, const struct dp_policy *pol)
{
	for (unsigned p = 0; p < dp_n_ports; p++)
		if (w->tx[p].n)
			fwd_flush_port(w, pol, p);
	w->tx_pending = false;
}

struct rte_mbuf *
fwd_payload_mbuf(const void *data, uint32_t len)
{
	struct rte_mbuf *head = NULL;
	const uint8_t *d = data;

	do {
		struct rte_mbuf *seg = rte_pktmbuf_alloc(dp_pool_copy);
		uint16_t n;
		char *dst;

		if (seg == NULL)
			goto fail;
		n = (uint16_t)RTE_MIN((uint32_t)rte_pktmbuf_tailroom(seg), len);
		dst = rte_pktmbuf_append(seg, n);
		memcpy(dst, d, n);
		d += n;
		len -= n;
		if (head == NULL) {
			head = seg;
		} else if (rte_pktmbuf_chain(head, seg) < 0) {
			rte_pktmbuf_free(seg);
			goto fail;
		}
	} while (len > 0);
	return head;
fail:
	rte_pktmbuf_free(head);
	return NULL;
}

int
fwd_to_peer(struct dp_worker *w, const struct dp_policy *pol, unsigned pi, struct rte_mbuf *m,
	    uint32_t hdr_off, uint32_t payload_len, uint16_t payload_sum)
{
	const struct fwd_tmpl *t = &pol->tmpl[pi];
	unsigned pidx = (unsigned)pol->peer_pidx[pi];
	struct rte_mbuf *clone, *h;
	uint8_t hdr[FWD_HDR_MAX];
	uint32_t excess;

	/* pkt_parse.c made the datagram exactly hdr_off + payload_len bytes
	 * (plus Ethernet padding on a frame that was not reassembled) and at
	 * most 65,535 bytes of IP: check it again where lengths become the
	 * 16-bit fields of a peer's header, so a fault upstream can never put
	 * more bytes on a peer link than the header says. */
	if ((uint64_t)hdr_off + payload_len > m->pkt_len ||
	    m->pkt_len - hdr_off - payload_len > RTE_ETHER_MIN_LEN ||
	    (uint32_t)t->l3_len + sizeof(struct rte_udp_hdr) + payload_len > UINT16_MAX ||
	    hdr_off > m->data_len)
		return TG_R_TX_INVALID;
	clone = rte_pktmbuf_clone(m, dp_pool_indirect);
	if (clone == NULL)
		return TG_R_NO_MBUF;
	rte_pktmbuf_adj(clone, (uint16_t)hdr_off);
	excess = clone->pkt_len - payload_len;
	if (excess && rte_pktmbuf_trim(clone, (uint16_t)excess) < 0) {
		rte_pktmbuf_free(clone);
		return TG_R_TX_INVALID;
	}
	h = rte_pktmbuf_alloc(dp_pool_hdr);
	if (h == NULL) {
		rte_pktmbuf_free(clone);
		return TG_R_NO_MBUF;
	}
	fwd_hdr_fill(hdr, t, (uint16_t)payload_len, w->ip_id++, payload_sum);

	if (t->l3_len + sizeof(struct rte_udp_hdr) + payload_len <= t->mtu) {
		char *d = rte_pktmbuf_append(h, t->len);

		memcpy(d, hdr, t->len);
		if (rte_pktmbuf_chain(h, clone) < 0) {
			rte_pktmbuf_free(h);
			rte_pktmbuf_free(clone);
			return TG_R_NO_MBUF;
		}
		txbuf_add(w, pol, pidx, h, (uint8_t)(pi | DP_TXTAG_COUNT), payload_len);
		return TG_R_RELEASED;
	}

	/* Larger than the peer's MTU: fragment the L3 datagram, then put the
	 * L2 header in front of every fragment. */
	struct rte_mbuf *frags[DP_MAX_FRAGS];
	int32_t n;
	char *d = rte_pktmbuf_append(h, (uint16_t)(t->len - t->l2_len));

	memcpy(d, hdr + t->l2_len, t->len - t->l2_len);
	if (rte_pktmbuf_chain(h, clone) < 0) {
		rte_pktmbuf_free(h);
		rte_pktmbuf_free(clone);
		return TG_R_NO_MBUF;
	}
	if (t->ipv == 6)
		n = rte_ipv6_fragment_packet(h, frags, DP_MAX_FRAGS, t->mtu, dp_pool_hdr,
					     dp_pool_indirect);
	else
		n = rte_ipv4_fragment_packet(h, frags, DP_MAX_FRAGS, t->mtu, dp_pool_hdr,
					     dp_pool_indirect);
	rte_pktmbuf_free(h);
	if (n <= 0)
		return TG_R_NO_MBUF;
	/* DPDK 22.11 writes fragment id 0 on every IPv6 datagram, which lets a
	 * receiver splice fragments of different messages: give each its own. */
	uint32_t frag_id = rte_cpu_to_be_32(((uint32_t)w->idx << 24) | (w->frag_id++ & 0xffffff));
	for (int32_t i = 0; i < n; i++) {
		char *l2 = rte_pktmbuf_prepend(frags[i], t->l2_len);

		if (l2 == NULL) {
			for (int32_t j = i; j < n; j++)
				rte_pktmbuf_free(frags[j]);
			return TG_R_NO_MBUF;
		}
		memcpy(l2, hdr, t->l2_len);
		if (t->ipv == 6) {
			struct rte_ipv6_fragment_ext *fh =
				(struct rte_ipv6_fragment_ext *)(l2 + t->l2_len +
								 sizeof(struct rte_ipv6_hdr));

			fh->id = frag_id;
		} else {
			struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(l2 + t->l2_len);

			ip->hdr_checksum = 0;
			ip->hdr_checksum = rte_ipv4_cksum(ip);
		}
		/* The last fragment counts the message: all went out before it. */
		txbuf_add(w, pol, pidx, frags[i],
			  (uint8_t)(i == n - 1 ? (pi | DP_TXTAG_COUNT) : pi), payload_len);
	}
	return TG_R_RELEASED;
}
