/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * worker.h - the per-lcore fast path (worker.c).
 */
#ifndef DP_WORKER_H
#define DP_WORKER_H

#include <stdint.h>

struct dp_worker;
struct dp_policy;

/* The lcore entry point: dp_worker_iterate() until dp_quit, an RCU
 * quiescent report after each pass. */
int dp_worker_main(void *arg);
/* One pass of the worker loop at time tsc (TSC) / now_ms (wall clock, ms):
 * every RX queue of the worker polled once, its burst decided and sent,
 * and from time to time stale fragments expired.  The loop of
 * dp_worker_main() without its RCU report; fuzz_packet drives it too. */
void dp_worker_iterate(struct dp_worker *w, const struct dp_policy *pol, uint64_t tsc,
		       int64_t now_ms);

#endif /* DP_WORKER_H */
