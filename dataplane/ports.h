/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ports.h - every DPDK port the EAL found, configured alike (ports.c).
 */
#ifndef DP_PORTS_H
#define DP_PORTS_H

#include <stdint.h>

/* Configure and start every port for n_workers workers; create the mbuf
 * pools (sized from descriptors, bursts and caches).  0 or -1 (logged). */
int dp_ports_init(unsigned n_workers);
/* Spread every (port, RX queue) over the workers, round robin. */
void dp_ports_assign_rxq(void);
void dp_ports_stop(void);
void dp_ports_close(void);
/* Index in dp_ports[] of a port id, -1 if not ours. */
int dp_port_index(uint16_t port_id);

#endif /* DP_PORTS_H */
