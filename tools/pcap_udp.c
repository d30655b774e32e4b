/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcap_udp.c - the UDP payloads in a capture's frames (pcap_udp.h).
 */
#include "pcap_udp.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

struct pcap_udp_frag {
	int used, v6;
	uint8_t key[40];
	uint32_t have, total; /* bytes received; total known once the last came */
	uint8_t data[65536];
};

static bool
wanted_port(const struct pcap_udp *u, uint16_t dport)
{
	for (unsigned i = 0; i < u->n_ports; i++)
		if (u->ports[i] == dport)
			return true;
	return false;
}

static void
on_l4(struct pcap_udp *u, const uint8_t *p, size_t len)
{
	uint16_t ulen, dport;

	if (len < 8)
		return;
	dport = (uint16_t)(p[2] << 8 | p[3]);
	ulen = (uint16_t)(p[4] << 8 | p[5]);
	if (ulen < 8 || ulen > len || !wanted_port(u, dport))
		return;
	u->on_payload(u->arg, p + 8, ulen - 8u);
}

/* A fragment at byte `off` of the IP payload; `more` = MF flag. */
static void
on_fragment(struct pcap_udp *u, int v6, const uint8_t *key, size_t klen, uint32_t off, int more,
	    const uint8_t *p, size_t len)
{
	struct pcap_udp_frag *fb = NULL;
	int free_slot = -1;

	for (int i = 0; i < PCAP_UDP_PENDING; i++) {
		if (u->pending[i] && u->pending[i]->used && u->pending[i]->v6 == v6 &&
		    memcmp(u->pending[i]->key, key, klen) == 0) {
			fb = u->pending[i];
			break;
		}
		if (free_slot < 0 && (!u->pending[i] || !u->pending[i]->used))
			free_slot = i;
	}
	if (!fb) {
		if (free_slot < 0) /* table full: forget the oldest-looking one */
			free_slot = 0;
		if (!u->pending[free_slot] &&
		    !(u->pending[free_slot] = calloc(1, sizeof(struct pcap_udp_frag)))) {
			perror("pcap_udp: calloc");
			exit(3);
		}
		fb = u->pending[free_slot];
		fb->used = 1;
		fb->v6 = v6;
		memcpy(fb->key, key, klen);
		fb->have = fb->total = 0;
	}
	if (off + len > sizeof(fb->data)) {
		fb->used = 0;
		return;
	}
	memcpy(fb->data + off, p, len);
	fb->have += (uint32_t)len;
	if (!more)
		fb->total = off + (uint32_t)len;
	if (fb->total && fb->have >= fb->total) {
		fb->used = 0;
		on_l4(u, fb->data, fb->total);
	}
}

void
pcap_udp_frame(struct pcap_udp *u, const uint8_t *p, size_t len)
{
	uint16_t et;
	size_t o = 14;

	if (len < 14)
		return;
	et = (uint16_t)(p[12] << 8 | p[13]);
	if (et == 0x8100) {
		if (len < 18)
			return;
		et = (uint16_t)(p[16] << 8 | p[17]);
		o = 18;
	}
	if (et == 0x0800) {
		const uint8_t *ip = p + o;
		size_t ihl, tot;
		uint16_t fo;

		if (len < o + 20)
			return;
		ihl = (size_t)(ip[0] & 0xf) * 4;
		tot = (size_t)(ip[2] << 8 | ip[3]);
		if (ip[9] != 17 || ihl < 20 || tot < ihl || o + tot > len)
			return;
		fo = (uint16_t)(ip[6] << 8 | ip[7]);
		if (fo & 0x3fff) {
			uint8_t key[12];

			memcpy(key, ip + 12, 8);
			memcpy(key + 8, ip + 4, 2);
			key[10] = key[11] = 0;
			on_fragment(u, 0, key, sizeof(key), (uint32_t)(fo & 0x1fff) * 8,
				    !!(fo & 0x2000), ip + ihl, tot - ihl);
		} else {
			on_l4(u, ip + ihl, tot - ihl);
		}
	} else if (et == 0x86dd) {
		const uint8_t *ip = p + o;
		size_t plen;

		if (len < o + 40)
			return;
		plen = (size_t)(ip[4] << 8 | ip[5]);
		if (o + 40 + plen > len)
			return;
		if (ip[6] == 17) {
			on_l4(u, ip + 40, plen);
		} else if (ip[6] == 44 && plen >= 8 && ip[40] == 17) {
			const uint8_t *fh = ip + 40;
			uint16_t fo = (uint16_t)(fh[2] << 8 | fh[3]);
			uint8_t key[36];

			memcpy(key, ip + 8, 32);
			memcpy(key + 32, fh + 4, 4);
			on_fragment(u, 1, key, sizeof(key), (uint32_t)(fo & 0xfff8), fo & 1, fh + 8,
				    plen - 8);
		}
	}
}

void
pcap_udp_free(struct pcap_udp *u)
{
	for (int i = 0; i < PCAP_UDP_PENDING; i++) {
		free(u->pending[i]);
		u->pending[i] = NULL;
	}
}

int
pcap_udp_read(const char *file, struct pcap_udp *u, uint64_t *frames, uint64_t *bytes,
	      char *err)
{
	pcap_t *pd = pcap_open_offline(file, err);
	struct pcap_pkthdr *ph;
	const u_char *pkt;

	if (pd == NULL)
		return -1;
	while (pcap_next_ex(pd, &ph, &pkt) == 1) {
		(*frames)++;
		*bytes += ph->len;
		pcap_udp_frame(u, pkt, ph->caplen);
	}
	pcap_close(pd);
	pcap_udp_free(u);
	return 0;
}
