/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stats.h - counters out of the dataplane (stats.c): the stats map for
 * `tgctl stats`, the /trackgate/stats and /trackgate/latency telemetry
 * commands, and the exit report.
 */
#ifndef DP_STATS_H
#define DP_STATS_H

#include <stdio.h>

struct dp_policy;
struct tg_mapset;

void dp_stats_init(void);
/* Sum the workers' counters into the stats map of ms (control thread). */
void dp_stats_publish(struct tg_mapset *ms);
/* Fold a policy's per-peer counters into the totals kept by peer name and
 * push its rule hits to ms, before the policy is freed. */
void dp_stats_retire_policy(struct tg_mapset *ms, struct dp_policy *p);
void dp_stats_print(FILE *f);
int dp_telemetry_init(void);

#endif /* DP_STATS_H */
