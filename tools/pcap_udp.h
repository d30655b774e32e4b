/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcap_udp.h - the UDP payloads in a capture's Ethernet frames, for the
 * benchmark tools (scan_bench, scan_floor): IPv4 and IPv6 (one optional
 * 802.1Q tag), UDP to one of the given destination ports, fragments put
 * back together in a small table.  A tool's reading of its input, not the
 * dataplane's (pkt_parse.c and reassembly.c, with every check and count):
 * frames it cannot use are skipped silently.
 */
#ifndef TG_PCAP_UDP_H
#define TG_PCAP_UDP_H

#include <stddef.h>
#include <stdint.h>

#define PCAP_UDP_PENDING 64 /* datagrams being put together */

struct pcap_udp_frag;

struct pcap_udp {
	const uint16_t *ports; /* destination ports that carry messages */
	unsigned n_ports;
	void (*on_payload)(void *arg, const uint8_t *payload, size_t len);
	void *arg;
	struct pcap_udp_frag *pending[PCAP_UDP_PENDING];
};

/* One frame as captured: each whole UDP payload to one of u->ports goes to
 * u->on_payload (a fragmented one once its last piece came). */
void pcap_udp_frame(struct pcap_udp *u, const uint8_t *frame, size_t len);
/* Free the fragments still held. */
void pcap_udp_free(struct pcap_udp *u);
/* Every frame of the capture `file` through pcap_udp_frame(), then
 * pcap_udp_free(); *frames and *bytes (wire lengths) counted.  0, or -1
 * with libpcap's message in err (PCAP_ERRBUF_SIZE bytes). */
int pcap_udp_read(const char *file, struct pcap_udp *u, uint64_t *frames, uint64_t *bytes,
		  char *err);

#endif /* TG_PCAP_UDP_H */
