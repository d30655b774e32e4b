/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * publish.c - tgctl's publishing of a policy into the pinned maps, and its
 * wait for the dataplane's acknowledgement.  The publish protocol itself
 * (write the inactive slot under its seqcount, then flip) is tg_mapset's
 * (tg_pub_policy, tg_pub_rollback): this file only hands it the tables.
 */
#include "publish.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "policy.h"
#include "tg_clock.h"

/* The policy's tables as tg_mapset publishes them. */
static struct tg_pub_policy
pub_tables(const struct pol_policy *p)
{
	return (struct tg_pub_policy){
		.hdr = &p->hdr,
		.published_ns = tg_realtime_ns(),
		.links = p->links,
		.peers = p->peers,
		.rules = p->rules,
		.hsdb = p->hsdb_blob,
		.hsdb_len = p->hsdb_len,
	};
}

int
ctl_publish_check(const struct pol_policy *p, char *err, size_t errlen)
{
	struct tg_pub_policy t = pub_tables(p);

	return tg_pub_check(&t, err, errlen);
}

uint64_t
ctl_publish(struct tg_mapset *ms, const struct pol_policy *p, char *err, size_t errlen)
{
	struct tg_pub_policy t = pub_tables(p);
	uint64_t gen;

	if (tg_pub_policy(ms, &t, &gen, err, errlen) < 0)
		return 0;
	return gen;
}

uint64_t
ctl_rollback(struct tg_mapset *ms, char *err, size_t errlen)
{
	uint64_t gen;

	if (tg_pub_rollback(ms, &gen, err, errlen) < 0)
		return 0;
	return gen;
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
	double age = ((double)tg_realtime_ns() - (double)a->heartbeat_ns) / 1e9;
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
	uint64_t t0 = tg_monotonic_ns(), deadline = t0 + (uint64_t)wait_ms * 1000000ull;
	struct timespec tick = {0, 2000000};
	struct tg_ack a;
	char pol[160];

	for (;;) {
		uint64_t t = tg_monotonic_ns();
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
