/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_cksum.c - dataplane/cksum.h, the 64-bit-step Internet checksum the
 * dataplane verifies every UDP datagram with, against DPDK's own:
 *   - dp_raw_cksum() equals rte_raw_cksum() for every length 0..300 at
 *     every alignment 0..7, on random bytes and on the corner patterns
 *     (all 0x00, all 0xff, carries on every word);
 *   - and on 20,000 random buffers up to 9,000 bytes;
 *   - dp_udp_cksum_ok() gives rte_ipv4_udptcp_cksum_verify()'s and
 *     rte_ipv6_udptcp_cksum_verify()'s verdict on correct datagrams, on
 *     datagrams with one flipped bit (each must fail) and with a zeroed
 *     checksum field.
 * No EAL needed: the functions are inline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "cksum.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng >> 33);
}

static void
test_raw_every_length(void **state)
{
	static uint8_t buf[512 + 8];
	unsigned bad = 0, n = 0;

	(void)state;
	for (int pattern = 0; pattern < 4; pattern++) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = pattern == 0 ? (uint8_t)rnd()
				 : pattern == 1 ? 0x00
				 : pattern == 2 ? 0xff
						: (uint8_t)(i & 1 ? 0xff : 0x01);
		for (size_t align = 0; align < 8; align++)
			for (size_t len = 0; len <= 300; len++) {
				uint16_t a = dp_raw_cksum(buf + align, len);
				uint16_t b = rte_raw_cksum(buf + align, len);

				n++;
				if (a != b && bad++ < 10)
					print_error("pattern %d align %zu len %zu: 0x%04x, DPDK 0x%04x\n",
						    pattern, align, len, a, b);
			}
	}
	assert_int_equal(bad, 0);
	assert_int_equal(n, 4 * 8 * 301);
}

static void
test_raw_random(void **state)
{
	static uint8_t buf[9008];
	unsigned bad = 0;

	(void)state;
	for (int k = 0; k < 20000; k++) {
		size_t len = rnd() % 9001, off = rnd() % 8;

		for (size_t i = 0; i < len + off; i++)
			buf[i] = (uint8_t)rnd();
		if (dp_raw_cksum(buf + off, len) != rte_raw_cksum(buf + off, len))
			bad++;
	}
	assert_int_equal(bad, 0);
}

/* A UDP datagram of `len` payload bytes behind an IPv4 or IPv6 header,
 * with DPDK's checksum. */
static size_t
datagram(uint8_t *f, int ipv, size_t len)
{
	size_t ipl = ipv == 4 ? sizeof(struct rte_ipv4_hdr) : sizeof(struct rte_ipv6_hdr);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(f + ipl);

	memset(f, 0, ipl);
	for (size_t i = 0; i < sizeof(*udp) + len; i++)
		f[ipl + i] = (uint8_t)rnd();
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + len));
	udp->dgram_cksum = 0;
	if (ipv == 4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)f;

		ip->version_ihl = 0x45;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(ipl + sizeof(*udp) + len));
		ip->next_proto_id = IPPROTO_UDP;
		ip->src_addr = rnd();
		ip->dst_addr = rnd();
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)f;

		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + len));
		ip->proto = IPPROTO_UDP;
		for (int i = 0; i < 16; i++) {
			ip->src_addr[i] = (uint8_t)rnd();
			ip->dst_addr[i] = (uint8_t)rnd();
		}
		udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp);
	}
	return ipl;
}

static bool
dpdk_ok(const uint8_t *f, int ipv, const void *udp)
{
	return ipv == 4 ? rte_ipv4_udptcp_cksum_verify((const void *)f, udp) == 0
			: rte_ipv6_udptcp_cksum_verify((const void *)f, udp) == 0;
}

static void
test_udp_verdicts(void **state)
{
	static uint8_t f[2048];
	unsigned good = 0, flipped = 0, bad = 0;

	(void)state;
	for (int ipv = 4; ipv <= 6; ipv += 2)
		for (size_t len = 0; len < 1400; len += 1 + rnd() % 37) {
			size_t ipl = datagram(f, ipv, len), l4 = sizeof(struct rte_udp_hdr) + len;
			const struct rte_udp_hdr *udp = (const void *)(f + ipl);
			size_t bit;

			if (!dpdk_ok(f, ipv, udp) || !dp_udp_cksum_ok(f, (uint8_t)ipv, udp, l4))
				bad++;
			good++;
			/* one flipped bit anywhere in the datagram: both refuse */
			bit = rnd() % (l4 * 8);
			f[ipl + bit / 8] ^= (uint8_t)(1u << (bit % 8));
			if (dpdk_ok(f, ipv, udp) != dp_udp_cksum_ok(f, (uint8_t)ipv, udp, l4) ||
			    dp_udp_cksum_ok(f, (uint8_t)ipv, udp, l4))
				bad++;
			flipped++;
		}
	assert_int_equal(bad, 0);
	assert_true(good > 50 && flipped == good);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw_every_length),
		cmocka_unit_test(test_raw_random),
		cmocka_unit_test(test_udp_verdicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
