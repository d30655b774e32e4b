/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pace_gen - replay a pcap into one DPDK port at a fixed packet rate.
 *
 *   pace_gen [EAL options] -- --pcap FILE --rate PPS [--seconds S] [--port N]
 *                               [--sink-port M] [--max-burst B]
 *
 * The frames are loaded once into mbufs; each is sent again and again by
 * taking a reference before rte_eth_tx_burst (the PMD drops it after the
 * copy or DMA).  Frame i is due at t0 + i / --rate; each poll sends what is
 * due, at most --max-burst frames back to back (default 1: evenly spaced
 * frames, the arrival pattern of many independent track sources).  Frames
 * the port does not take are counted as `dropped`, not retried: the offered
 * rate stays the offered rate.  When the generator itself falls behind
 * (descheduled on a shared CPU) it does not catch up with a burst of the
 * backlog, which would measure its own stall as the guard's latency: slots
 * more than --max-burst behind are counted as `late` and skipped.
 * With --sink-port it also drains a second port (trackgate's output) and
 * counts what arrives there, so one busy-polling process is both generator
 * and sink: on a 2-CPU machine, generator+sink on one CPU, trackgate's worker
 * on the other.
 *
 * tools/bench uses it with net_memif (role=server) to offer 10/50/90 % of the
 * maximum rate to trackgate on the same machine, where pktgen-dpdk is not
 * available.  Prints "pace_gen: sent N dropped D in S s (R pps)" at the end.
 */
#include <getopt.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#define BURST 32

static volatile int quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"pcap", required_argument, NULL, 'p'}, {"rate", required_argument, NULL, 'r'},
		{"seconds", required_argument, NULL, 's'}, {"port", required_argument, NULL, 'P'},
		{"sink-port", required_argument, NULL, 'S'},
		{"max-burst", required_argument, NULL, 'B'},
		{NULL, 0, NULL, 0},
	};
	const char *file = NULL;
	double rate = 0, seconds = 10;
	uint16_t port = 0;
	int sink = -1;
	long max_burst = 1;
	char *end;
	int c, n = rte_eal_init(argc, argv);

	if (n < 0) {
		fprintf(stderr, "pace_gen: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'p': file = optarg; break;
		case 'r': rate = atof(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'P': port = (uint16_t)atoi(optarg); break;
		case 'S': sink = atoi(optarg); break;
		case 'B':
			max_burst = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || max_burst < 1 || max_burst > BURST) {
				fprintf(stderr, "pace_gen: --max-burst must be 1..%d\n", BURST);
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: pace_gen [EAL] -- --pcap FILE --rate PPS "
					"[--seconds S] [--port N] [--sink-port M] [--max-burst B]\n");
			return 2;
		}
	}
	if (!file || rate <= 0) {
		fprintf(stderr, "pace_gen: --pcap and --rate are required\n");
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	char perr[PCAP_ERRBUF_SIZE];
	pcap_t *pd = pcap_open_offline(file, perr);
	struct pcap_pkthdr *ph;
	const u_char *pkt;
	size_t nf = 0, cap = 0;
	struct rte_mbuf **frames = NULL;
	struct rte_mempool *pool;

	if (!pd) {
		fprintf(stderr, "pace_gen: %s\n", perr);
		return 1;
	}
	pool = rte_pktmbuf_pool_create("pace_pool", 65535, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       (int)rte_socket_id());
	if (!pool) {
		fprintf(stderr, "pace_gen: mempool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	while (pcap_next_ex(pd, &ph, &pkt) == 1) {
		struct rte_mbuf *m;

		if (ph->caplen > RTE_MBUF_DEFAULT_DATAROOM)
			continue; /* no jumbo frames: tg-gen --frag-mtu 1500 */
		if (nf == cap) {
			cap = cap ? cap * 2 : 4096;
			frames = realloc(frames, cap * sizeof(*frames));
		}
		m = rte_pktmbuf_alloc(pool);
		if (!frames || !m) {
			fprintf(stderr, "pace_gen: out of mbufs at frame %zu\n", nf);
			return 1;
		}
		memcpy(rte_pktmbuf_append(m, (uint16_t)ph->caplen), pkt, ph->caplen);
		frames[nf++] = m;
	}
	pcap_close(pd);
	if (nf == 0) {
		fprintf(stderr, "pace_gen: no frames in %s\n", file);
		return 1;
	}

	struct rte_eth_conf conf = {0};
	struct rte_eth_dev_info info;

	for (int pi = 0; pi < 2; pi++) {
		uint16_t p = pi == 0 ? port : (uint16_t)sink;

		if (pi == 1 && sink < 0)
			break;
		if (rte_eth_dev_info_get(p, &info) != 0 ||
		    rte_eth_dev_configure(p, 1, 1, &conf) != 0 ||
		    rte_eth_rx_queue_setup(p, 0, 1024, (unsigned)rte_eth_dev_socket_id(p), NULL,
					   pool) != 0 ||
		    rte_eth_tx_queue_setup(p, 0, 1024, (unsigned)rte_eth_dev_socket_id(p), NULL) !=
			    0 ||
		    rte_eth_dev_start(p) != 0) {
			fprintf(stderr, "pace_gen: cannot start port %u\n", p);
			return 1;
		}
	}

	uint64_t hz = rte_get_tsc_hz();
	uint64_t t0 = rte_rdtsc(), t_end = t0 + (uint64_t)(seconds * (double)hz);
	double per_pkt = (double)hz / rate;
	uint64_t sent = 0, dropped = 0, late = 0, sunk = 0, due = 0, now;
	size_t next = 0;
	struct rte_mbuf *burst[BURST], *rx[BURST];
	uint64_t iter = 0;
	bool sink_up = false;

	while (!quit && (now = rte_rdtsc()) < t_end) {
		uint16_t k, ok;
		/* frames due by now, at most a burst */
		uint64_t should = (uint64_t)((double)(now - t0) / per_pkt) + 1;

		if (should > due + (uint64_t)max_burst) { /* we stalled: skip, do not burst */
			late += should - due - (uint64_t)max_burst;
			due = should - (uint64_t)max_burst;
		}
		k = (uint16_t)RTE_MIN(should > due ? should - due : 0, (uint64_t)max_burst);
		/* a memif server must drain what the peer sends it */
		ok = rte_eth_rx_burst(port, 0, rx, BURST);
		if (ok)
			rte_pktmbuf_free_bulk(rx, ok);
		/* Poll the sink only while its peer is connected: a memif server
		 * whose client went away has been seen returning bogus bursts. */
		if (sink >= 0 && (iter++ & 1023) == 0) {
			struct rte_eth_link l;

			sink_up = rte_eth_link_get_nowait((uint16_t)sink, &l) == 0 &&
				  l.link_status == RTE_ETH_LINK_UP;
		}
		if (sink_up) {
			ok = rte_eth_rx_burst((uint16_t)sink, 0, rx, BURST);
			sunk += ok;
			if (ok)
				rte_pktmbuf_free_bulk(rx, ok);
		}
		if (k == 0)
			continue;
		for (uint16_t i = 0; i < k; i++) {
			burst[i] = frames[next];
			rte_mbuf_refcnt_update(burst[i], 1);
			if (++next == nf)
				next = 0;
		}
		ok = rte_eth_tx_burst(port, 0, burst, k);
		for (uint16_t i = ok; i < k; i++)
			rte_mbuf_refcnt_update(burst[i], -1);
		sent += ok;
		dropped += k - ok;
		due += k;
	}
	double secs = (double)(rte_rdtsc() - t0) / (double)hz;

	printf("pace_gen: sent %" PRIu64 " dropped %" PRIu64 " late %" PRIu64 " in %.2f s "
	       "(%.0f pps, asked %.0f, max burst %ld); sink received %" PRIu64 "\n",
	       sent, dropped, late, secs, (double)sent / secs, rate, max_burst, sunk);
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	if (sink >= 0) {
		rte_eth_dev_stop((uint16_t)sink);
		rte_eth_dev_close((uint16_t)sink);
	}
	rte_eal_cleanup();
	return 0;
}
