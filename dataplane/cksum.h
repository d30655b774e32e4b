/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cksum.h - the Internet checksum (RFC 1071) of a whole UDP datagram, for
 * frames whose NIC did not check it (net_pcap, memif, AF_XDP, most virtual
 * ports): every byte of every message is summed once, so the speed matters.
 *
 * DPDK 22.11's rte_raw_cksum() adds 16 bits per step and the compiler does
 * not vectorise it; dp_raw_cksum() adds 64 bits per step with end-around
 * carry and folds at the end.  The one's-complement sum does not depend on
 * the width of the words added (RFC 1071, 2.(A)-(B)), so the two give the
 * same value for every input: tests/unit/test_cksum.c checks it against
 * rte_raw_cksum() on every length and alignment up to 300 bytes and on
 * random buffers, and the UDP verdict against DPDK's on good and damaged
 * datagrams.  Multi-segment datagrams stay with DPDK's mbuf functions.
 */
#ifndef DP_CKSUM_H
#define DP_CKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_udp.h>

/* The folded one's-complement sum of len bytes at buf, as rte_raw_cksum()
 * returns it: 16-bit words in host order, an odd last byte as if followed
 * by a zero byte. */
static inline uint16_t
dp_raw_cksum(const void *buf, size_t len)
{
	const uint8_t *b = buf;
	uint64_t sum = 0, v;

	for (; len >= 8; b += 8, len -= 8) {
		memcpy(&v, b, 8);
		sum += v;
		sum += sum < v; /* end-around carry */
	}
	if (len) {
		v = 0;
		memcpy(&v, b, len); /* little end first: the same 16-bit words */
		sum += v;
		sum += sum < v;
	}
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * rte_ipv4_udptcp_cksum_verify() / rte_ipv6_udptcp_cksum_verify() of a
 * datagram whose l4_len bytes (the IP payload, as those functions take it
 * from the IP header) are contiguous at udp: true if the pseudo header and
 * the datagram sum to 0xffff.
 */
static inline bool
dp_udp_cksum_ok(const void *ip, uint8_t ipv, const struct rte_udp_hdr *udp, size_t l4_len)
{
	uint32_t s = ipv == 4 ? rte_ipv4_phdr_cksum(ip, 0) : rte_ipv6_phdr_cksum(ip, 0);

	s += dp_raw_cksum(udp, l4_len);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s == 0xffff;
}

#endif /* DP_CKSUM_H */
