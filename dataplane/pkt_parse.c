/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pkt_parse.c - from a received frame to a message: Ethernet with at most one
 * 802.1Q tag, IPv4 (options allowed) or IPv6 (fragment header only), UDP to
 * one of the arrival link's ports; IP fragments reassembled in the worker's
 * bounded table; the UDP checksum verified.  Anything else is a counted drop
 * (docs/release.md §1).
 */
#include "pkt_parse.h"

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "cksum.h"
#include "dp.h"
#include "reassembly.h"

/*
 * The UDP checksum of the datagram at l4_off of m (one segment or a
 * reassembled chain).  A payload damaged on its way in must not be passed
 * on under a fresh checksum of trackgate's own: one flipped bit turns an
 * access level "S" (0x53) into "U" (0x55).  A NIC's verdict is taken for
 * frames it saw whole; reassembled datagrams are always summed here.
 * 0 over IPv4 means the sender computed none (RFC 768): nothing to check;
 * over IPv6 it is not allowed (RFC 8200 §8.1).
 */
static bool
udp_checksum_ok(const struct rte_mbuf *m, const void *ip, uint8_t ipv, uint32_t l4_off,
		uint32_t l4_len, const struct rte_udp_hdr *udp, bool reassembled)
{
	uint64_t l4 = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;

	if (udp->dgram_cksum == 0)
		return ipv == 4;
	if (!reassembled && l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
		return true;
	if (!reassembled && l4 == RTE_MBUF_F_RX_L4_CKSUM_BAD)
		return false;
	/* One segment: summed here, 8 bytes per step (cksum.h).  l4_len is
	 * the IP payload, which the caller checked the UDP length fills. */
	if (m->nb_segs == 1 && (uint64_t)l4_off + l4_len <= rte_pktmbuf_data_len(m))
		return dp_udp_cksum_ok(ip, ipv, udp, l4_len);
	if (ipv == 4)
		return rte_ipv4_udptcp_cksum_mbuf_verify(m, ip, (uint16_t)l4_off) == 0;
	return rte_ipv6_udptcp_cksum_mbuf_verify(m, ip, (uint16_t)l4_off) == 0;
}

uint16_t
dp_pkt_payload_sum(const struct rte_mbuf *m, const struct dp_pkt *pk, const uint8_t *payload)
{
	const void *ip = rte_pktmbuf_mtod_offset(m, const void *, pk->l3_off);
	const struct rte_udp_hdr *udp = rte_pktmbuf_mtod_offset(
		m, const struct rte_udp_hdr *, pk->payload_off - sizeof(struct rte_udp_hdr));
	uint32_t s;

	if (udp->dgram_cksum == 0)
		return dp_raw_cksum(payload, pk->payload_len);
	/* pseudo header + UDP header + payload sum to 0xffff (verified) */
	s = pk->ipv == 4 ? rte_ipv4_phdr_cksum(ip, 0) : rte_ipv6_phdr_cksum(ip, 0);
	s += rte_raw_cksum(udp, sizeof(*udp));
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static bool
link_has_port(const struct tg_link *l, uint16_t port)
{
	for (unsigned i = 0; i < l->n_udp_ports; i++)
		if (l->udp_ports[i] == port)
			return true;
	return false;
}

int
dp_pkt_parse(struct dp_worker *w, const struct tg_link *link, struct rte_mbuf **mp,
	     uint64_t tsc, bool may_reassemble, struct dp_pkt *out)
{
	struct rte_mbuf *m = *mp;
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t seg = m->data_len; /* headers must sit in the first segment */
	uint32_t off = sizeof(struct rte_ether_hdr);
	uint32_t l3_off, l4_off, ip_payload_end;
	const void *ip_hdr;
	uint16_t etype;
	const struct rte_udp_hdr *udp;
	uint16_t udp_len;

	if (seg < off)
		return TG_R_BAD_L2L3;
	etype = rte_be_to_cpu_16(((const struct rte_ether_hdr *)p)->ether_type);
	if (etype == RTE_ETHER_TYPE_VLAN) {
		if (seg < off + 4)
			return TG_R_BAD_L2L3;
		etype = rte_be_to_cpu_16(*(const uint16_t *)(p + off + 2));
		off += 4;
	}
	l3_off = off;

	if (etype == RTE_ETHER_TYPE_IPV4) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(p + off);
		uint32_t ihl, tot;

		if (seg < off + sizeof(*ip))
			return TG_R_BAD_L2L3;
		ihl = (uint32_t)(ip->version_ihl & 0x0f) * 4;
		tot = rte_be_to_cpu_16(ip->total_length);
		/* After reassembly the frame is the datagram, not a byte more:
		 * rte_ip_frag writes the total length in 16 bits, so fragments
		 * adding up to more than 65,535 bytes leave a header that
		 * disagrees with the chain they built. */
		if (!may_reassemble && off + tot != m->pkt_len)
			return TG_R_FRAG_BAD_LENGTH;
		if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(*ip) || seg < off + ihl ||
		    tot < ihl || off + tot > m->pkt_len)
			return TG_R_BAD_L2L3;
		if (ip->next_proto_id != IPPROTO_UDP)
			return TG_R_NOT_TRACK;
		if (rte_ipv4_frag_pkt_is_fragmented(ip)) {
			uint16_t fo = rte_be_to_cpu_16(ip->fragment_offset);
			uint32_t flen = tot - ihl;
			struct rte_mbuf *r;

			/* A reassembled datagram is parsed again with
			 * may_reassemble false: one that still says it is a
			 * fragment was not made by the table. */
			if (!may_reassemble)
				return TG_R_FRAG_ERROR;
			/* Every fragment but the last carries a multiple of 8
			 * bytes (RFC 791); an empty one carries nothing. */
			if (flen == 0 || ((fo & RTE_IPV4_HDR_MF_FLAG) && flen % 8 != 0))
				return TG_R_FRAG_ERROR;
			/* Trim Ethernet padding: the table sizes fragments by pkt_len. */
			if (m->pkt_len > off + tot &&
			    rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - off - tot)) < 0)
				return TG_R_BAD_L2L3;
			m->l2_len = off;
			m->l3_len = ihl;
			r = dp_reasm_ipv4(w, m, tsc, (struct rte_ipv4_hdr *)(uintptr_t)ip);
			if (r == NULL)
				return DP_PKT_TAKEN;
			*mp = r;
			return dp_pkt_parse(w, link, mp, tsc, false, out);
		}
		l4_off = off + ihl;
		ip_payload_end = off + tot;
		ip_hdr = ip;
		out->ipv = 4;
	} else if (etype == RTE_ETHER_TYPE_IPV6) {
		const struct rte_ipv6_hdr *ip6 = (const struct rte_ipv6_hdr *)(p + off);
		uint32_t plen;

		if (seg < off + sizeof(*ip6))
			return TG_R_BAD_L2L3;
		plen = rte_be_to_cpu_16(ip6->payload_len);
		if ((rte_be_to_cpu_32(ip6->vtc_flow) >> 28) != 6 ||
		    off + sizeof(*ip6) + plen > m->pkt_len)
			return TG_R_BAD_L2L3;
		if (ip6->proto == IPPROTO_FRAGMENT) {
			struct rte_ipv6_fragment_ext *fh;
			struct rte_mbuf *r;
			uint16_t fd;
			uint32_t flen;

			if (!may_reassemble || seg < off + sizeof(*ip6) + sizeof(*fh) ||
			    plen < sizeof(*fh))
				return TG_R_FRAG_ERROR;
			fh = rte_ipv6_frag_get_ipv6_fragment_header(
				(struct rte_ipv6_hdr *)(uintptr_t)ip6);
			if (fh == NULL || fh->next_header != IPPROTO_UDP)
				return TG_R_NOT_TRACK;
			fd = rte_be_to_cpu_16(fh->frag_data);
			flen = plen - (uint32_t)sizeof(*fh);
			/* Empty fragments, a non-last fragment that is not a
			 * multiple of 8 bytes (RFC 8200 §4.5), and "atomic"
			 * fragments (offset 0, no more: RFC 6946), which the
			 * table would hold until they time out. */
			if (flen == 0 || ((fd & 1) && flen % 8 != 0) || (fd & 0xfff9) == 0)
				return TG_R_FRAG_ERROR;
			if (m->pkt_len > off + sizeof(*ip6) + plen &&
			    rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - off - sizeof(*ip6) - plen)) < 0)
				return TG_R_BAD_L2L3;
			m->l2_len = off;
			m->l3_len = sizeof(*ip6) + sizeof(*fh);
			r = dp_reasm_ipv6(w, m, tsc, (struct rte_ipv6_hdr *)(uintptr_t)ip6, fh);
			if (r == NULL)
				return DP_PKT_TAKEN;
			*mp = r;
			return dp_pkt_parse(w, link, mp, tsc, false, out);
		}
		/* As for IPv4: the payload length is 16 bits in the header the
		 * table wrote, and must describe the whole chain. */
		if (!may_reassemble && off + sizeof(*ip6) + plen != m->pkt_len)
			return TG_R_FRAG_BAD_LENGTH;
		if (ip6->proto != IPPROTO_UDP)
			return TG_R_NOT_TRACK;
		l4_off = off + sizeof(*ip6);
		ip_payload_end = l4_off + plen;
		ip_hdr = ip6;
		out->ipv = 6;
	} else {
		return TG_R_NOT_TRACK;
	}

	if (seg < l4_off + sizeof(*udp) || ip_payload_end < l4_off + sizeof(*udp))
		return TG_R_BAD_L2L3;
	udp = (const struct rte_udp_hdr *)(p + l4_off);
	if (!link_has_port(link, rte_be_to_cpu_16(udp->dst_port)))
		return TG_R_NOT_TRACK;
	udp_len = rte_be_to_cpu_16(udp->dgram_len);
	/* The UDP datagram fills the IP payload exactly: the checksum's pseudo
	 * header, and DPDK's sum, take the length from IP. */
	if (udp_len < sizeof(*udp) || l4_off + udp_len != ip_payload_end)
		return TG_R_BAD_L2L3;
	if (!udp_checksum_ok(m, ip_hdr, out->ipv, l4_off, udp_len, udp, !may_reassemble))
		return TG_R_BAD_CHECKSUM;
	out->l3_off = (uint16_t)l3_off;
	out->payload_off = l4_off + (uint32_t)sizeof(*udp);
	out->payload_len = udp_len - (uint32_t)sizeof(*udp);
	return TG_R_RELEASED;
}
