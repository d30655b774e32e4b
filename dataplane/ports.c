/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ports.c - every DPDK port the EAL found, configured the same way: RX
 * queues spread over the workers (RSS on IP addresses only, so all fragments
 * of a datagram reach the same worker's reassembly table), one TX queue per
 * worker so transmit needs no lock, and mempools sized from the descriptor
 * counts rather than guessed.
 */
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "ports.h"

#define MBUF_CACHE 256
#define HDR_DATA_ROOM (RTE_PKTMBUF_HEADROOM + 128)
#define LINEAR_DATA_ROOM (RTE_PKTMBUF_HEADROOM + 9216 + 64)

int
dp_port_index(uint16_t port_id)
{
	for (unsigned i = 0; i < dp_n_ports; i++)
		if (dp_ports[i].port_id == port_id)
			return (int)i;
	return -1;
}

static struct rte_mempool *
pool_create(const char *name, unsigned n, uint16_t data_room)
{
	struct rte_mempool *mp =
		rte_pktmbuf_pool_create(name, n, MBUF_CACHE, 0, data_room, (int)rte_socket_id());

	if (mp == NULL)
		RTE_LOG(ERR, USER1,
			"cannot create mempool %s of %u mbufs x %u bytes (%s): give the EAL more "
			"memory (-m / hugepages) or use smaller --rxd/--txd\n",
			name, n, data_room, rte_strerror(rte_errno));
	return mp;
}

static int
port_configure(struct dp_port *dp, unsigned n_workers)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	uint16_t nb_rxd = (uint16_t)dp_cfg.nb_rxd, nb_txd = (uint16_t)dp_cfg.nb_txd;
	int rc;

	rc = rte_eth_dev_info_get(dp->port_id, &info);
	if (rc != 0) {
		RTE_LOG(ERR, USER1, "port %s: cannot get device info: %s\n", dp->dev,
			strerror(-rc));
		return -1;
	}
	dp->nb_rxq = (uint16_t)RTE_MIN(n_workers, (unsigned)RTE_MAX(info.max_rx_queues, 1));
	dp->nb_txq = (uint16_t)RTE_MIN(n_workers, (unsigned)RTE_MAX(info.max_tx_queues, 1));
	/* One TX queue per worker keeps transmit lock-free; a device with fewer
	 * (pcap, a single-queue AF_XDP port) is shared under a lock instead of
	 * refusing to run. */
	dp->tx_shared = dp->nb_txq < n_workers;
	rte_spinlock_init(&dp->tx_lock);
	if (dp->tx_shared)
		RTE_LOG(WARNING, USER1,
			"port %s has %u TX queue(s) for %u workers: its transmit is serialised by "
			"a lock (give it more queues for lock-free TX)\n",
			dp->dev, dp->nb_txq, n_workers);

	memset(&conf, 0, sizeof(conf));
	if (dp->nb_rxq > 1) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_IP & info.flow_type_rss_offloads;
	}
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	/* The NIC's UDP checksum verdict where it has one (pkt_parse.c sums
	 * the rest, and every reassembled datagram, itself). */
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_UDP_CKSUM)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	dp->multiseg_tx = (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0;
	if (dp->multiseg_tx)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;

	rc = rte_eth_dev_configure(dp->port_id, dp->nb_rxq, dp->nb_txq, &conf);
	if (rc != 0) {
		RTE_LOG(ERR, USER1, "port %s: configure %u rx / %u tx queues: %s\n", dp->dev,
			dp->nb_rxq, dp->nb_txq, strerror(-rc));
		return -1;
	}
	/* Jumbo frames where the device can: CoT messages reach several KB. */
	if (info.max_mtu >= 9000)
		rte_eth_dev_set_mtu(dp->port_id, 9000);
	rte_eth_dev_adjust_nb_rx_tx_desc(dp->port_id, &nb_rxd, &nb_txd);
	for (uint16_t q = 0; q < dp->nb_rxq; q++) {
		rc = rte_eth_rx_queue_setup(dp->port_id, q, nb_rxd, rte_eth_dev_socket_id(dp->port_id),
					    NULL, dp_pool_rx);
		if (rc != 0) {
			RTE_LOG(ERR, USER1, "port %s: rx queue %u: %s\n", dp->dev, q,
				strerror(-rc));
			return -1;
		}
	}
	for (uint16_t q = 0; q < dp->nb_txq; q++) {
		struct rte_eth_txconf txc = info.default_txconf;

		txc.offloads = conf.txmode.offloads;
		rc = rte_eth_tx_queue_setup(dp->port_id, q, nb_txd, rte_eth_dev_socket_id(dp->port_id),
					    &txc);
		if (rc != 0) {
			RTE_LOG(ERR, USER1, "port %s: tx queue %u: %s\n", dp->dev, q,
				strerror(-rc));
			return -1;
		}
	}
	rc = rte_eth_dev_start(dp->port_id);
	if (rc != 0) {
		RTE_LOG(ERR, USER1, "port %s: start: %s\n", dp->dev, strerror(-rc));
		return -1;
	}
	rte_eth_promiscuous_enable(dp->port_id);
	return 0;
}

int
dp_ports_init(unsigned n_workers)
{
	uint16_t pid;
	unsigned n_rx, n_hdr;
	bool need_linear = false;

	dp_n_ports = 0;
	RTE_ETH_FOREACH_DEV(pid) {
		struct rte_eth_dev_info info;
		struct dp_port *dp;

		if (dp_n_ports == DP_MAX_PORTS) {
			RTE_LOG(ERR, USER1, "more than %d ports\n", DP_MAX_PORTS);
			return -1;
		}
		dp = &dp_ports[dp_n_ports++];
		dp->port_id = pid;
		rte_eth_dev_get_name_by_port(pid, dp->dev);
		if (rte_eth_dev_info_get(pid, &info) == 0 &&
		    !(info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS))
			need_linear = true;
	}
	if (dp_n_ports == 0) {
		RTE_LOG(ERR, USER1, "no ports: give devices with -a or --vdev\n");
		return -1;
	}

	/* Every descriptor may hold an mbuf; so may each worker's burst, cache
	 * and reassembly table.  Header mbufs: one per TX descriptor plus a
	 * burst of fragments per (worker, port). */
	n_rx = dp_n_ports * n_workers * (dp_cfg.nb_rxd + dp_cfg.nb_txd) +
	       n_workers * (DP_BURST + MBUF_CACHE) + n_workers * dp_cfg.frag_max_flows * 4 + 4096;
	n_hdr = dp_n_ports * n_workers * dp_cfg.nb_txd +
		n_workers * dp_n_ports * DP_TX_BURST * DP_MAX_FRAGS + n_workers * MBUF_CACHE + 4096;
	dp_pool_rx = pool_create("tg_rx", n_rx, RTE_MBUF_DEFAULT_BUF_SIZE);
	dp_pool_hdr = pool_create("tg_hdr", n_hdr, HDR_DATA_ROOM);
	dp_pool_indirect = pool_create("tg_clone", n_hdr * 4, 0);
	/* Payloads the dataplane writes (XML conversions, sanitized copies,
	 * release.md §6): a pool of their own, so that writing them never
	 * takes the buffers RX needs, and the other way round.  Each is held
	 * until its last clone is sent, as a header is. */
	dp_pool_copy = pool_create("tg_copy", n_hdr, RTE_MBUF_DEFAULT_BUF_SIZE);
	if (need_linear)
		dp_pool_linear = pool_create("tg_linear", 4096, LINEAR_DATA_ROOM);
	if (!dp_pool_rx || !dp_pool_hdr || !dp_pool_indirect || !dp_pool_copy ||
	    (need_linear && !dp_pool_linear))
		return -1;

	for (unsigned i = 0; i < dp_n_ports; i++)
		if (port_configure(&dp_ports[i], n_workers) < 0)
			return -1;
	return 0;
}

/* Spread every (port, rx queue) over the workers, round robin. */
void
dp_ports_assign_rxq(void)
{
	unsigned next = 0;

	for (unsigned i = 0; i < dp_n_ports; i++) {
		for (uint16_t q = 0; q < dp_ports[i].nb_rxq; q++) {
			struct dp_worker *w = dp_workers[next++ % dp_n_workers];

			if (w->n_rxq < DP_MAX_RXQ_PER_WORKER)
				w->rxq[w->n_rxq++] = (struct dp_rxq){dp_ports[i].port_id, q};
		}
	}
}

/* Stop RX/TX; counters stay readable until the ports are closed. */
void
dp_ports_stop(void)
{
	for (unsigned i = 0; i < dp_n_ports; i++)
		rte_eth_dev_stop(dp_ports[i].port_id);
}

/* Close (net_pcap flushes and closes its output files here). */
void
dp_ports_close(void)
{
	for (unsigned i = 0; i < dp_n_ports; i++)
		rte_eth_dev_close(dp_ports[i].port_id);
}
