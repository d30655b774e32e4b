/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hdr_build.c - a peer's Ethernet (+802.1Q) / IPv4 or IPv6 / UDP header: the
 * template made once per policy, and the per-datagram fill (lengths, IPv4 id
 * and header checksum, UDP checksum from the payload's one's-complement sum
 * computed once per message).  No mbufs here: unit-tested on plain buffers.
 */
#include "hdr_build.h"

#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

static uint32_t
cksum_add(uint32_t sum, const void *p, size_t len)
{
	return sum + rte_raw_cksum(p, len);
}

static uint16_t
cksum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

void
fwd_tmpl_build(struct fwd_tmpl *t, const struct tg_peer *p)
{
	uint8_t *b = t->bytes;
	uint16_t be;
	uint8_t *l3;

	memset(t, 0, sizeof(*t));
	memcpy(b, p->dst_mac, 6);
	memcpy(b + 6, p->src_mac, 6);
	t->l2_len = 14;
	if (p->has_vlan) {
		be = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
		memcpy(b + 12, &be, 2);
		be = rte_cpu_to_be_16(p->vlan_tci);
		memcpy(b + 14, &be, 2);
		t->l2_len = 18;
	}
	be = rte_cpu_to_be_16(p->ip_version == 6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4);
	memcpy(b + t->l2_len - 2, &be, 2);

	l3 = b + t->l2_len;
	if (p->ip_version == 6) {
		struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)l3;

		ip6->vtc_flow = rte_cpu_to_be_32(6u << 28 | (uint32_t)(p->dscp << 2) << 20);
		ip6->proto = IPPROTO_UDP;
		ip6->hop_limits = p->ttl;
		memcpy(ip6->src_addr, p->src_ip, 16);
		memcpy(ip6->dst_addr, p->dst_ip, 16);
		t->l3_len = sizeof(*ip6);
		t->ipv = 6;
		t->udp_sum = cksum_add(0, p->src_ip, 16);
		t->udp_sum = cksum_add(t->udp_sum, p->dst_ip, 16);
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;

		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->type_of_service = (uint8_t)(p->dscp << 2);
		ip->time_to_live = p->ttl;
		ip->next_proto_id = IPPROTO_UDP;
		memcpy(&ip->src_addr, p->src_ip, 4);
		memcpy(&ip->dst_addr, p->dst_ip, 4);
		t->l3_len = sizeof(*ip);
		t->ipv = 4;
		t->udp_sum = cksum_add(0, p->src_ip, 4);
		t->udp_sum = cksum_add(t->udp_sum, p->dst_ip, 4);
	}
	be = rte_cpu_to_be_16(IPPROTO_UDP);
	t->udp_sum += be;

	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(l3 + t->l3_len);
	udp->src_port = rte_cpu_to_be_16(p->src_port);
	udp->dst_port = rte_cpu_to_be_16(p->dst_port);
	t->udp_sum = cksum_add(t->udp_sum, udp, 4);
	t->len = (uint8_t)(t->l2_len + t->l3_len + sizeof(*udp));
	t->mtu = p->mtu ? p->mtu : 1500;
}

void
fwd_hdr_fill(uint8_t *dst, const struct fwd_tmpl *t, uint16_t payload_len, uint16_t ip_id,
	     uint16_t payload_sum)
{
	uint16_t udp_len = (uint16_t)(sizeof(struct rte_udp_hdr) + payload_len);
	uint16_t be_len = rte_cpu_to_be_16(udp_len);
	uint8_t *l3 = dst + t->l2_len;
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(l3 + t->l3_len);
	uint32_t sum;
	uint16_t ck;

	memcpy(dst, t->bytes, t->len);
	if (t->ipv == 6) {
		((struct rte_ipv6_hdr *)l3)->payload_len = be_len;
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;

		ip->total_length = rte_cpu_to_be_16((uint16_t)(t->l3_len + udp_len));
		ip->packet_id = rte_cpu_to_be_16(ip_id);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	udp->dgram_len = be_len;
	/* Length counts twice: in the pseudo-header and in the UDP header. */
	sum = t->udp_sum + be_len + be_len + payload_sum;
	ck = (uint16_t)~cksum_fold(sum);
	udp->dgram_cksum = ck == 0 ? 0xffff : ck;
}

