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

#include <inttypes.h>
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

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The refusal's reason, bounded: the maps are not trusted to hold a NUL. */
#define WHY(a) (int)sizeof((a)->refused_why), (a)->refused_why

/* What the dataplane enforces, as its acknowledgement says. */
static void
in_force(const struct tg_ack *a, char *buf, size_t len)
{
	if (a->installed != 0 && a->foreign_gen == 0)
		snprintf(buf, len, "generation %" PRIu64, a->installed);
	else if (a->foreign_gen != 0)
		snprintf(buf, len,
			 "the policy it read from maps since removed or replaced (generation %" PRIu64
			 " there, sha256:%02x%02x%02x%02x%02x%02x%02x%02x)",
			 a->foreign_gen, a->digest[0], a->digest[1], a->digest[2], a->digest[3],
			 a->digest[4], a->digest[5], a->digest[6], a->digest[7]);
	else
		snprintf(buf, len, "no policy");
}

/* Nobody answered: say who was here last. */
static void
no_answer(const struct tg_mapset *ms, const struct tg_ack *a, uint64_t gen, unsigned wait_ms,
	  char *msg, size_t msglen)
{
	double age = ((double)now_ns() - (double)a->heartbeat_ns) / 1e9;
	char pol[160];

	in_force(a, pol, sizeof(pol));
	switch (a->state) {
	case TG_ACK_RUNNING:
		if (age < 2.0) {
			snprintf(msg, msglen,
				 "trackgate pid %" PRIu64 " has not installed generation %" PRIu64
				 " within %u ms (it is running, seen %.1f s ago, with %s)",
				 a->pid, gen, wait_ms, age, pol);
			break;
		}
		snprintf(msg, msglen,
			 "no dataplane acknowledged generation %" PRIu64 " within %u ms: the last "
			 "one attached to %s, pid %" PRIu64 ", was last seen %.0f s ago (did it "
			 "die?)",
			 gen, wait_ms, ms->dir, a->pid, age);
		break;
	case TG_ACK_STOPPED:
		snprintf(msg, msglen,
			 "no dataplane acknowledged generation %" PRIu64 " within %u ms: the last "
			 "one attached to %s, pid %" PRIu64 ", stopped %.0f s ago",
			 gen, wait_ms, ms->dir, a->pid, age);
		break;
	default:
		snprintf(msg, msglen,
			 "no dataplane acknowledged generation %" PRIu64 " within %u ms: none has "
			 "attached to %s (to publish before trackgate starts, use --no-wait)",
			 gen, wait_ms, ms->dir);
		break;
	}
}

enum ctl_ack
ctl_wait_ack(const struct tg_mapset *ms, uint64_t gen, unsigned wait_ms, char *msg,
	     size_t msglen)
{
	uint64_t t0 = mono_ns(), deadline = t0 + (uint64_t)wait_ms * 1000000ull;
	struct timespec tick = {0, 2000000};
	struct tg_ack a;
	char pol[160];

	for (;;) {
		uint64_t t = mono_ns();
		bool have = tg_ack_read(ms, &a);

		if (have && a.refused == gen) {
			in_force(&a, pol, sizeof(pol));
			snprintf(msg, msglen,
				 "trackgate pid %" PRIu64 " refused generation %" PRIu64
				 " and keeps %s in force: %.*s",
				 a.pid, gen, pol, WHY(&a));
			return CTL_ACK_REFUSED;
		}
		if (have && a.installed == gen) {
			snprintf(msg, msglen,
				 "generation %" PRIu64 " is in force: trackgate pid %" PRIu64
				 " installed it after %.0f ms",
				 gen, a.pid, (double)(t - t0) / 1e6);
			return CTL_ACK_INSTALLED;
		}
		/* Another publish came after ours and the dataplane went straight to
		 * it: its answer is the answer. */
		if (have && a.installed > gen && a.installed >= a.refused) {
			snprintf(msg, msglen,
				 "generation %" PRIu64 " was superseded by generation %" PRIu64
				 ", which trackgate pid %" PRIu64 " installed",
				 gen, a.installed, a.pid);
			return CTL_ACK_INSTALLED;
		}
		if (have && a.refused > gen) {
			in_force(&a, pol, sizeof(pol));
			snprintf(msg, msglen,
				 "generation %" PRIu64 " was superseded by generation %" PRIu64
				 ", which trackgate pid %" PRIu64 " refused; it keeps %s in force: %.*s",
				 gen, a.refused, a.pid, pol, WHY(&a));
			return CTL_ACK_REFUSED;
		}
		if (t >= deadline)
			break;
		nanosleep(&tick, NULL);
	}
	if (!tg_ack_read(ms, &a)) {
		snprintf(msg, msglen,
			 "no acknowledgement of generation %" PRIu64 " within %u ms: the "
			 "dataplane's answer in %s kept changing while being read",
			 gen, wait_ms, ms->dir);
		return CTL_ACK_NONE;
	}
	no_answer(ms, &a, gen, wait_ms, msg, msglen);
	return CTL_ACK_NONE;
}
