/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cot_bench - micro-benchmark of the CoT parser (dataplane/cot_parse.c).
 *
 * Loads the UDP payloads of a pcap (Ethernet, up to two VLAN tags, IPv4 with
 * options or IPv6; fragments and non-UDP frames are skipped), then parses
 * all of them in a loop and prints TSC cycles and ns per message, plus the
 * outcome histogram so that a change of behaviour shows up next to a change
 * of speed.
 *
 *   cot_bench FILE.pcap [ROUNDS]     (ROUNDS 0: parse each payload once, for
 *                                     callgrind)
 */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __x86_64__
#include <x86intrin.h>
#endif

#include "dataplane/cot_parse.h"
#include "tg_clock.h"

struct payload {
	const uint8_t *p;
	size_t len;
};

static uint64_t
tsc(void)
{
#ifdef __x86_64__
	return __rdtsc();
#else
	return 0;
#endif
}

/* The UDP payload of one Ethernet frame, or NULL. */
static const uint8_t *
udp_payload(const uint8_t *f, size_t caplen, size_t *plen)
{
	size_t off = 12;
	uint16_t et;
	uint8_t proto;

	if (caplen < 14)
		return NULL;
	et = (uint16_t)(f[off] << 8 | f[off + 1]);
	off += 2;
	while ((et == 0x8100 || et == 0x88a8) && caplen >= off + 4) {
		et = (uint16_t)(f[off + 2] << 8 | f[off + 3]);
		off += 4;
	}
	if (et == 0x0800) {
		size_t ihl;
		uint16_t fragoff;

		if (caplen < off + 20)
			return NULL;
		ihl = (size_t)(f[off] & 0xf) * 4;
		fragoff = (uint16_t)(f[off + 6] << 8 | f[off + 7]);
		if (fragoff & 0x3fff) /* MF or an offset */
			return NULL;
		proto = f[off + 9];
		off += ihl;
	} else if (et == 0x86dd) {
		if (caplen < off + 40)
			return NULL;
		proto = f[off + 6];
		off += 40;
		if (proto == 44) /* a fragment header */
			return NULL;
	} else {
		return NULL;
	}
	if (proto != 17 || caplen < off + 8)
		return NULL;
	{
		size_t ulen = (size_t)(f[off + 4] << 8 | f[off + 5]);

		if (ulen < 8 || off + ulen > caplen)
			return NULL;
		*plen = ulen - 8;
	}
	return f + off + 8;
}

int
main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	struct payload *pl = NULL;
	size_t n = 0, cap = 0, bytes = 0;
	unsigned long hist[COT_E_COUNT] = {0};
	struct cot_event *ev;
	long rounds;
	pcap_t *pc;
	int r;

	if (argc < 2) {
		fprintf(stderr, "usage: cot_bench FILE.pcap [ROUNDS]\n");
		return 2;
	}
	rounds = argc > 2 ? strtol(argv[2], NULL, 10) : 50;
	pc = pcap_open_offline(argv[1], errbuf);
	if (pc == NULL) {
		fprintf(stderr, "cot_bench: %s\n", errbuf);
		return 1;
	}
	while ((r = pcap_next_ex(pc, &h, &d)) == 1) {
		size_t plen;
		const uint8_t *p = udp_payload(d, h->caplen, &plen);
		uint8_t *copy;

		if (p == NULL || plen == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			pl = realloc(pl, cap * sizeof(*pl));
			if (pl == NULL)
				return 1;
		}
		copy = malloc(plen);
		if (copy == NULL)
			return 1;
		memcpy(copy, p, plen);
		pl[n].p = copy;
		pl[n].len = plen;
		bytes += plen;
		n++;
	}
	pcap_close(pc);
	if (n == 0) {
		fprintf(stderr, "cot_bench: no UDP payloads\n");
		return 1;
	}
	ev = malloc(sizeof(*ev));
	if (ev == NULL)
		return 1;

	/* One pass for the outcome histogram (and, with ROUNDS 0, all there is). */
	for (size_t i = 0; i < n; i++)
		hist[cot_parse(pl[i].p, pl[i].len, ev)]++;
	printf("payloads %zu, bytes %zu (mean %.0f B)\n", n, bytes, (double)bytes / (double)n);
	for (int e = 0; e < COT_E_COUNT; e++)
		if (hist[e])
			printf("  %-14s %lu\n", cot_err_name((enum cot_err)e), hist[e]);
	if (rounds <= 0)
		return 0;

	{
		uint64_t best = UINT64_MAX, t0, t1;
		double best_ns = 1e300, ns0;
		volatile unsigned sink = 0;

		for (long k = 0; k < rounds; k++) {
			unsigned acc = 0;

			ns0 = (double)tg_monotonic_ns();
			t0 = tsc();
			for (size_t i = 0; i < n; i++)
				acc += (unsigned)cot_parse(pl[i].p, pl[i].len, ev) + ev->buf_used;
			t1 = tsc();
			sink += acc;
			if (t1 - t0 < best) {
				best = t1 - t0;
				best_ns = (double)tg_monotonic_ns() - ns0;
			}
		}
		(void)sink;
		printf("best of %ld rounds: %.0f cycles/msg, %.2f cycles/byte, %.1f ns/msg\n", rounds,
		       (double)best / (double)n, (double)best / (double)bytes,
		       best_ns / (double)n);
	}
	{
		/* Noise-robust figure for a shared VM: each message timed on its own
		 * in every round, the minimum per message kept, the rdtsc overhead
		 * (the minimum of an empty pair) taken off.  Rounds still run over
		 * all messages in order, so caches and predictors see a stream. */
		uint64_t *mn = malloc(n * sizeof(*mn)), ovh = UINT64_MAX, sum = 0;
		volatile unsigned sink = 0;

		if (mn == NULL)
			return 1;
		for (size_t i = 0; i < n; i++)
			mn[i] = UINT64_MAX;
		for (int k = 0; k < 1000; k++) {
			uint64_t a = tsc(), b = tsc();

			if (b - a < ovh)
				ovh = b - a;
		}
		for (long k = 0; k < rounds; k++) {
			for (size_t i = 0; i < n; i++) {
				uint64_t a, b;

				a = tsc();
				sink += (unsigned)cot_parse(pl[i].p, pl[i].len, ev);
				b = tsc();
				if (b - a < mn[i])
					mn[i] = b - a;
			}
		}
		(void)sink;
		for (size_t i = 0; i < n; i++)
			sum += mn[i] > ovh ? mn[i] - ovh : 0;
		printf("min per message over %ld rounds: %.0f cycles/msg, %.2f cycles/byte "
		       "(rdtsc overhead %" PRIu64 " taken off)\n",
		       rounds, (double)sum / (double)n, (double)sum / (double)bytes, ovh);
		free(mn);
	}
	return 0;
}
