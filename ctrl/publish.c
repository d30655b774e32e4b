/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * publish.c - the only writer of policy slots.
 *
 * Order matters and is the whole point: every table of the inactive slot is
 * written between the slot's seqcount bumps, and only then is the control
 * block flipped.  A reader therefore sees the old policy or the new one,
 * never a mixture; a tgctl killed half-way leaves the active slot untouched.
 */
#include "publish.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "policy.h"

static uint64_t
next_generation(const struct tg_mapset *ms)
{
	uint64_t g = ms->ctl->generation;

	for (int i = 0; i < TG_SLOTS; i++)
		if (ms->ctl->slot[i].generation > g)
			g = ms->ctl->slot[i].generation;
	return g + 1;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t
ctl_publish(struct tg_mapset *ms, const struct pol_policy *p, char *err, size_t errlen)
{
	unsigned slot = tg_pub_inactive_slot(ms);
	uint64_t gen = next_generation(ms);
	struct tg_slot_hdr *sh = &ms->ctl->slot[slot];

	if (p->hsdb_len > TG_HSDB_SLOT_BYTES) {
		snprintf(err, errlen, "compiled rules take %zu bytes; the map holds %u per policy",
			 p->hsdb_len, TG_HSDB_SLOT_BYTES);
		return 0;
	}
	if (p->hdr.n_rules > TG_MAX_RULES || p->hdr.n_links > TG_MAX_LINKS ||
	    p->hdr.n_peers > TG_MAX_PEERS) {
		snprintf(err, errlen, "policy tables exceed the map sizes");
		return 0;
	}

	tg_pub_slot_begin(ms, slot);
	/* Everything after the seqcount comes from the policy. */
	memcpy((char *)sh + sizeof(sh->seq), (const char *)&p->hdr + sizeof(sh->seq),
	       sizeof(*sh) - sizeof(sh->seq));
	sh->published_ns = now_ns();
	memset(&ms->links[slot * TG_MAX_LINKS], 0, sizeof(struct tg_link) * TG_MAX_LINKS);
	memcpy(&ms->links[slot * TG_MAX_LINKS], p->links, sizeof(struct tg_link) * p->hdr.n_links);
	memset(&ms->peers[slot * TG_MAX_PEERS], 0, sizeof(struct tg_peer) * TG_MAX_PEERS);
	memcpy(&ms->peers[slot * TG_MAX_PEERS], p->peers, sizeof(struct tg_peer) * p->hdr.n_peers);
	if (p->hdr.n_rules)
		memcpy(&ms->rules[(size_t)slot * TG_MAX_RULES], p->rules,
		       sizeof(struct tg_rule) * p->hdr.n_rules);
	if (p->hsdb_len)
		memcpy(ms->hsdb + (size_t)slot * TG_HSDB_SLOT_BYTES, p->hsdb_blob, p->hsdb_len);
	tg_pub_slot_end(ms, slot, gen);
	tg_pub_flip(ms, slot, gen);
	return gen;
}

uint64_t
ctl_rollback(struct tg_mapset *ms, char *err, size_t errlen)
{
	struct tg_ctl_view v;
	unsigned prev;
	uint64_t gen, seq;

	if (!tg_ctl_read(ms, &v)) {
		snprintf(err, errlen, "no policy has been published in %s", ms->dir);
		return 0;
	}
	prev = v.active_slot ^ 1;
	seq = __atomic_load_n(&ms->ctl->slot[prev].seq, __ATOMIC_ACQUIRE);
	if (ms->ctl->slot[prev].generation == 0 || (seq & 1)) {
		snprintf(err, errlen, "there is no previous policy to roll back to");
		return 0;
	}
	gen = next_generation(ms);
	/* Re-stamp the slot with its new generation, under its seqcount, so a
	 * reader's "slot generation == control generation" check still holds. */
	tg_pub_slot_begin(ms, prev);
	tg_pub_slot_end(ms, prev, gen);
	tg_pub_flip(ms, prev, gen);
	return gen;
}
