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

/*
 * Publish `p` as the next generation: write the inactive slot, then flip.
 * The caller holds the mapset lock.  Returns the new generation, 0 on error.
 */
uint64_t ctl_publish(struct tg_mapset *ms, const struct pol_policy *p, char *err, size_t errlen);

/* Make the inactive slot (the previous policy) active again as a new
 * generation.  Returns the new generation, 0 with err set if there is none. */
uint64_t ctl_rollback(struct tg_mapset *ms, char *err, size_t errlen);

#endif /* CTL_PUBLISH_H */
