/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_hdr_build.c - a peer's header (dataplane/hdr_build.c): every field
 * against the peer's settings, and the IPv4 and UDP checksums verified the
 * RFC 1071 way with this file's own sum (never DPDK's): the one's-complement
 * sum over header (IPv4) or pseudo-header + datagram (UDP) must be 0xffff.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <rte_ip.h>

#include "hdr_build.h"

static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	return s;
}

static uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void
peer_init(struct tg_peer *p, int ipv, int vlan)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->src_mac, "\x02\x00\x00\x00\x01\x01", 6);
	memcpy(p->dst_mac, "\x02\x00\x00\x00\x82\x01", 6);
	p->ip_version = (uint8_t)ipv;
	if (ipv == 4) {
		inet_pton(AF_INET, "192.0.2.1", p->src_ip);
		inet_pton(AF_INET, "198.51.100.1", p->dst_ip);
	} else {
		inet_pton(AF_INET6, "2001:db8:1::1", p->src_ip);
		inet_pton(AF_INET6, "2001:db8:81::1", p->dst_ip);
	}
	p->src_port = 6969;
	p->dst_port = 6970;
	p->ttl = 61;
	p->dscp = 46;
	p->mtu = 1500;
	if (vlan) {
		p->has_vlan = 1;
		p->vlan_tci = (uint16_t)vlan;
	}
}

/* Build header + payload in one buffer and check it all. */
static void
check_datagram(int ipv, int vlan, size_t plen)
{
	struct tg_peer peer;
	struct fwd_tmpl t;
	uint8_t frame[9100];
	uint8_t *payload;
	size_t l2 = vlan ? 18 : 14, l3 = ipv == 4 ? 20 : 40;
	uint16_t psum;

	peer_init(&peer, ipv, vlan);
	fwd_tmpl_build(&t, &peer);
	assert_int_equal(t.len, l2 + l3 + 8);
	assert_int_equal(t.l2_len, l2);
	payload = frame + t.len;
	for (size_t i = 0; i < plen; i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	psum = rte_raw_cksum(payload, plen); /* as the worker computes it once */
	fwd_hdr_fill(frame, &t, (uint16_t)plen, 0x1234, psum);

	/* Ethernet, VLAN */
	assert_memory_equal(frame, peer.dst_mac, 6);
	assert_memory_equal(frame + 6, peer.src_mac, 6);
	if (vlan) {
		assert_int_equal(frame[12] << 8 | frame[13], 0x8100);
		assert_int_equal(frame[14] << 8 | frame[15], vlan);
	}
	assert_int_equal(frame[l2 - 2] << 8 | frame[l2 - 1], ipv == 4 ? 0x0800 : 0x86dd);

	const uint8_t *ip = frame + l2, *udp = ip + l3;
	size_t udp_len = 8 + plen;
	uint32_t s;

	if (ipv == 4) {
		assert_int_equal(ip[0], 0x45);
		assert_int_equal(ip[1], 46 << 2);
		assert_int_equal(ip[2] << 8 | ip[3], 20 + udp_len);
		assert_int_equal(ip[4] << 8 | ip[5], 0x1234);
		assert_int_equal(ip[8], 61);
		assert_int_equal(ip[9], 17);
		assert_memory_equal(ip + 12, peer.src_ip, 4);
		assert_memory_equal(ip + 16, peer.dst_ip, 4);
		assert_int_equal(fold(sum16(ip, 20, 0)), 0xffff);
		s = sum16(ip + 12, 8, 0) + 17 + (uint32_t)udp_len;
	} else {
		assert_int_equal(ip[0] >> 4, 6);
		assert_int_equal(((ip[0] & 0xf) << 4 | ip[1] >> 4), 46 << 2);
		assert_int_equal(ip[4] << 8 | ip[5], udp_len);
		assert_int_equal(ip[6], 17);
		assert_int_equal(ip[7], 61);
		assert_memory_equal(ip + 8, peer.src_ip, 16);
		assert_memory_equal(ip + 24, peer.dst_ip, 16);
		s = sum16(ip + 8, 32, 0) + 17 + (uint32_t)udp_len;
	}
	assert_int_equal(udp[0] << 8 | udp[1], 6969);
	assert_int_equal(udp[2] << 8 | udp[3], 6970);
	assert_int_equal(udp[4] << 8 | udp[5], udp_len);
	assert_int_not_equal(udp[6] << 8 | udp[7], 0); /* 0 means "none": never sent */
	assert_int_equal(fold(sum16(udp, udp_len, s)), 0xffff);
}

static void
test_ipv4(void **state)
{
	(void)state;
	for (size_t n = 0; n < 70; n++)
		check_datagram(4, 0, n);
	check_datagram(4, 0, 1472);
	check_datagram(4, 0, 8192);
}

static void
test_ipv4_vlan(void **state)
{
	(void)state;
	for (size_t n = 1; n < 3000; n += 97)
		check_datagram(4, 82, n);
}

static void
test_ipv6(void **state)
{
	(void)state;
	for (size_t n = 0; n < 70; n++)
		check_datagram(6, 0, n);
	check_datagram(6, 4094, 1452);
	check_datagram(6, 0, 9000);
}

/* A payload whose sum makes the UDP checksum 0 must be sent as 0xffff. */
static void
test_udp_zero_checksum(void **state)
{
	struct tg_peer peer;
	struct fwd_tmpl t;
	uint8_t frame[128], *payload;
	int seen = 0;

	(void)state;
	peer_init(&peer, 4, 0);
	fwd_tmpl_build(&t, &peer);
	payload = frame + t.len;
	/* Search two payload bytes for a checksum that computes to zero. */
	for (unsigned v = 0; v < 65536 && !seen; v++) {
		payload[0] = (uint8_t)(v >> 8);
		payload[1] = (uint8_t)v;
		fwd_hdr_fill(frame, &t, 2, 1, rte_raw_cksum(payload, 2));
		if (frame[t.len - 2] == 0xff && frame[t.len - 1] == 0xff) {
			uint32_t s = sum16(frame + 14 + 12, 8, 0) + 17 + 10;

			/* 0xffff here is either a real 0xffff or the stand-in for 0:
			 * both verify, since -0 and +0 are one value in one's complement. */
			assert_int_equal(fold(sum16(frame + t.len - 8, 10, s)), 0xffff);
			seen = 1;
		}
		assert_false(frame[t.len - 2] == 0 && frame[t.len - 1] == 0);
	}
	assert_true(seen);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv4_vlan),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_udp_zero_checksum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
