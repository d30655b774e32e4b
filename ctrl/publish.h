/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * publish.h - write a validated, compiled policy into the pinned maps.
 */
#ifndef CTL_PUBLISH_H
#define CTL_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "tg_mapset.h"

struct pol_policy;

/* Does `p` fit the maps?  0, or -E2BIG with err set.  Touches no map: for
 * checking before anything is created. */
int ctl_publish_check(const struct pol_policy *p, char *err, size_t errlen);

/*
 * Publish `p` as the next generation: write the inactive slot, then flip.
 * The caller holds the mapset lock.  Returns the new generation, 0 on error.
 */
uint64_t ctl_publish(struct tg_mapset *ms, const struct pol_policy *p, char *err, size_t errlen);

/* Make the inactive slot (the previous policy) active again as a new
 * generation.  Returns the new generation, 0 with err set if there is none. */
uint64_t ctl_rollback(struct tg_mapset *ms, char *err, size_t errlen);

enum ctl_ack {
	CTL_ACK_INSTALLED, /* the dataplane installed the generation (or a newer one) */
	CTL_ACK_REFUSED,   /* it refused it (or the newer one that superseded it) */
	CTL_ACK_NONE,      /* no dataplane answered in time */
};

/*
 * Wait up to `wait_ms` for the dataplane attached to `ms` to install or refuse
 * generation `gen` (tg_ctl.ack).  A newer generation published meanwhile
 * answers for it.  `msg` gets one line saying what happened, for stdout on
 * CTL_ACK_INSTALLED and stderr otherwise.  Call without the lock held.
 */
enum ctl_ack ctl_wait_ack(const struct tg_mapset *ms, uint64_t gen, unsigned wait_ms, char *msg,
			  size_t msglen);

#endif /* CTL_PUBLISH_H */
