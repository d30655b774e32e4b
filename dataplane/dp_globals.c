/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_globals.c - the dataplane's process-wide state (declared in dp.h) and
 * its defaults: what main.c sets up and fuzz/fuzz_packet.c sets up the
 * same way to drive the real worker path.
 */
#include "dp.h"

struct dp_config dp_cfg = {
	.bpffs = TG_DEFAULT_BPFFS,
	.audit_level = DP_AUDIT_ALL,
	.second_check = true,
	.stats_interval_ms = 500,
	.frag_timeout_ms = 2000,
	.tx_drain_us = 10,
	.frag_max_flows = 4096,
	.nb_rxd = 1024,
	.nb_txd = 1024,
};
struct dp_port dp_ports[DP_MAX_PORTS];
unsigned dp_n_ports;
struct dp_worker *dp_workers[DP_MAX_WORKERS];
unsigned dp_n_workers;
bool dp_quit;
struct dp_policy *dp_active;
struct rte_rcu_qsbr *dp_qsbr;
struct rte_mempool *dp_pool_rx, *dp_pool_hdr, *dp_pool_indirect, *dp_pool_linear, *dp_pool_copy;
uint64_t dp_lat_cycles_per_bucket = 1;
uint64_t dp_tx_drain_cycles;
