/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * policy_swap.h - the control thread: published policies into the workers (policy_swap.c).
 */
#ifndef DP_POLICY_SWAP_H
#define DP_POLICY_SWAP_H

#include <stddef.h>

struct dp_policy;
struct tg_snapshot;

/* Attach to the pinned maps, install what is published, start the thread. */
int dp_control_start(void);
/* After the workers stopped: final counters, the policy released. */
void dp_control_stop(void);
/* The runtime policy of a published one (databases deserialized, scratch
 * per worker, devices resolved to this dataplane's ports), or NULL with err
 * set.  dp_policy_build_core() is the same without the ports (no EAL:
 * every link and peer unbound); dp_policy_bind_offline() then binds each
 * to a port id of its own, as if every device were there (tgctl explain). */
struct dp_policy *dp_policy_build(const struct tg_snapshot *s, char *err, size_t errlen);
struct dp_policy *dp_policy_build_core(const struct tg_snapshot *s, char *err, size_t errlen);
void dp_policy_bind_offline(struct dp_policy *p);
void dp_policy_free(struct dp_policy *p);

#endif /* DP_POLICY_SWAP_H */
