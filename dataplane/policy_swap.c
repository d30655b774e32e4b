/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * policy_swap.c - the control thread: off the fast path, it polls the pinned
 * control block, and on a new generation copies the policy out of the maps,
 * deserializes its Hyperscan databases, clones one scratch per worker from a
 * prototype grown for all of them, resolves device names to ports, and
 * publishes the result with one pointer store.  The previous policy is freed
 * after rte_rcu_qsbr_synchronize(): every worker has then passed a quiescent
 * point and holds no reference to it.  It also pushes counters to the stats
 * map every stats interval.  It never compiles a rule.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_thread.h>

#include "audit.h"
#include "dp.h"
#include "marking.h"
#include "tg_mapset.h"
#include "tg_names.h"

static pthread_t ctl_thread;
static struct tg_mapset ctl_maps;
static volatile bool ctl_stop;
static uint64_t ctl_known_gen; /* generation installed or refused last */

void
dp_policy_free(struct dp_policy *p)
{
	if (p == NULL)
		return;
	for (unsigned i = 0; i < DP_MAX_WORKERS; i++)
		if (p->scratch[i])
			hs_free_scratch(p->scratch[i]);
	for (unsigned s = 0; s < TG_HSDB_REFS; s++)
		if (p->db[s])
			hs_free_database(p->db[s]);
	free(p->rules);
	free(p->peer_cnt);
	free(p->rule_hits);
	free(p->rule_hits_reported);
	free(p);
}

struct dp_policy *
dp_policy_build(const struct tg_snapshot *s, char *err, size_t errlen)
{
	struct dp_policy *p = calloc(1, sizeof(*p));
	hs_scratch_t *proto = NULL;
	uint32_t n = s->hdr.n_rules;

	if (p == NULL)
		goto oom;
	p->generation = s->generation;
	p->hdr = s->hdr;
	memcpy(p->links, s->links, sizeof(p->links));
	memcpy(p->peers, s->peers, sizeof(p->peers));
	p->rules = malloc(sizeof(*p->rules) * (n ? n : 1));
	p->peer_cnt = calloc((size_t)dp_n_workers * TG_MAX_PEERS, sizeof(*p->peer_cnt));
	p->rule_hits = calloc((size_t)dp_n_workers * (n ? n : 1), sizeof(uint64_t));
	p->rule_hits_reported = calloc(n ? n : 1, sizeof(uint64_t));
	if (!p->rules || !p->peer_cnt || !p->rule_hits || !p->rule_hits_reported)
		goto oom;
	memcpy(p->rules, s->rules, sizeof(*p->rules) * n);

	/* Rules come sorted by scope, then id; find each scope's range and
	 * check the order the match callback's binary search relies on. */
	for (uint32_t i = 0; i < n; i++) {
		unsigned sc = p->rules[i].scope;

		if (sc >= TG_SCOPE_COUNT || (i > 0 && (p->rules[i - 1].scope > sc ||
						       (p->rules[i - 1].scope == sc &&
							p->rules[i - 1].id >= p->rules[i].id)))) {
			snprintf(err, errlen, "published rules are not sorted by scope and id");
			goto fail;
		}
		if (p->scope_n[sc]++ == 0)
			p->scope_first[sc] = i;
	}

	for (unsigned sc = 0; sc < TG_HSDB_REFS; sc++) {
		const struct tg_hsdb_ref *ref = &s->hdr.hsdb[sc];
		hs_error_t rc;

		if (ref->len == 0)
			continue;
		rc = hs_deserialize_database((const char *)s->hsdb + ref->off, ref->len,
					     &p->db[sc]);
		if (rc != HS_SUCCESS) {
			snprintf(err, errlen,
				 "cannot load the %s rule database (Hyperscan error %d): was it "
				 "compiled by another Hyperscan version or for another CPU?",
				 tg_scope_name(sc % TG_SCOPE_COUNT), rc);
			goto fail;
		}
		if (hs_alloc_scratch(p->db[sc], &proto) != HS_SUCCESS) {
			snprintf(err, errlen, "cannot allocate Hyperscan scratch");
			goto fail;
		}
	}
	for (unsigned wi = 0; proto && wi < dp_n_workers; wi++) {
		if (hs_clone_scratch(proto, &p->scratch[wi]) != HS_SUCCESS) {
			snprintf(err, errlen, "cannot clone Hyperscan scratch");
			goto fail;
		}
	}
	if (proto)
		hs_free_scratch(proto);
	proto = NULL;

	/* Device names to ports: a link or peer whose device this dataplane
	 * does not have is reported, and its peers are counted as peer_down. */
	memset(p->link_of_port, -1, sizeof(p->link_of_port));
	for (unsigned i = 0; i < s->hdr.n_links; i++) {
		uint16_t pid;

		if (rte_eth_dev_get_port_by_name(s->links[i].dev, &pid) != 0) {
			RTE_LOG(WARNING, USER1, "policy gen %lu: link %s: no port %s here\n",
				(unsigned long)p->generation, s->links[i].name, s->links[i].dev);
			continue;
		}
		p->link_of_port[pid] = (int8_t)i;
	}
	for (unsigned i = 0; i < s->hdr.n_peers; i++) {
		uint16_t pid;

		p->peer_port[i] = -1;
		p->peer_pidx[i] = -1;
		fwd_tmpl_build(&p->tmpl[i], &s->peers[i]);
		if (rte_eth_dev_get_port_by_name(s->peers[i].dev, &pid) != 0 ||
		    dp_port_index(pid) < 0) {
			RTE_LOG(WARNING, USER1, "policy gen %lu: peer %s: no port %s here\n",
				(unsigned long)p->generation, s->peers[i].name, s->peers[i].dev);
			continue;
		}
		p->peer_port[i] = (int16_t)pid;
		p->peer_pidx[i] = (int16_t)dp_port_index(pid);
	}
	return p;
oom:
	snprintf(err, errlen, "out of memory building the policy");
fail:
	if (proto)
		hs_free_scratch(proto);
	dp_policy_free(p);
	return NULL;
}

/* Install a new policy: one release store, then wait out every reader of the
 * old one before freeing it. */
static void
policy_install(struct dp_policy *np)
{
	struct dp_policy *old = __atomic_exchange_n(&dp_active, np, __ATOMIC_ACQ_REL);

	dp_audit_note_policy(np);
	if (old) {
		rte_rcu_qsbr_synchronize(dp_qsbr, RTE_QSBR_THRID_INVALID);
		dp_stats_retire_policy(old);
		dp_policy_free(old);
	}
}

static void
policy_poll(uint64_t *known_gen)
{
	struct tg_snapshot snap;
	char err[512];
	int rc = tg_snapshot_read(&ctl_maps, *known_gen, &snap, err, sizeof(err));
	struct dp_policy *np;

	if (rc == 0)
		return;
	if (rc < 0) {
		RTE_LOG(ERR, USER1, "reading the published policy: %s\n", err);
		return;
	}
	np = dp_policy_build(&snap, err, sizeof(err));
	if (np == NULL) {
		/* Keep the policy in force; do not retry this generation. */
		RTE_LOG(ERR, USER1, "policy generation %lu not installed: %s\n",
			(unsigned long)snap.generation, err);
		*known_gen = snap.generation;
		tg_snapshot_free(&snap);
		return;
	}
	*known_gen = snap.generation;
	RTE_LOG(INFO, USER1, "policy generation %lu installed: %u links, %u peers, %u rules\n",
		(unsigned long)snap.generation, snap.hdr.n_links, snap.hdr.n_peers,
		snap.hdr.n_rules);
	tg_snapshot_free(&snap);
	policy_install(np);
}

static void *
control_main(void *arg)
{
	uint64_t next_stats = 0;
	struct timespec tick = {0, 10 * 1000000}; /* 10 ms: swaps land fast */

	(void)arg;
	while (!ctl_stop) {
		uint64_t now = rte_get_tsc_cycles();

		policy_poll(&ctl_known_gen);
		if (now >= next_stats) {
			dp_stats_publish(&ctl_maps);
			next_stats = now + rte_get_tsc_hz() / 1000 * dp_cfg.stats_interval_ms;
		}
		nanosleep(&tick, NULL);
	}
	return NULL;
}

int
dp_control_start(void)
{
	char err[512];
	int rc;

	if (tg_mapset_open(&ctl_maps, dp_cfg.bpffs, err, sizeof(err)) < 0) {
		RTE_LOG(ERR, USER1, "%s\n", err);
		return -1;
	}
	/* Install whatever is published before any packet is received. */
	policy_poll(&ctl_known_gen);
	ctl_stop = false;
	rc = rte_ctrl_thread_create(&ctl_thread, "tg-control", NULL, control_main, NULL);
	if (rc != 0) {
		RTE_LOG(ERR, USER1, "cannot start the control thread: %s\n", strerror(-rc));
		return -1;
	}
	return 0;
}

/* Called after the workers stopped: final counters, then release the policy. */
void
dp_control_stop(void)
{
	struct dp_policy *p;

	ctl_stop = true;
	pthread_join(ctl_thread, NULL);
	dp_stats_publish(&ctl_maps);
	p = __atomic_exchange_n(&dp_active, NULL, __ATOMIC_ACQ_REL);
	if (p) {
		dp_stats_retire_policy(p);
		dp_policy_free(p);
	}
	tg_mapset_close(&ctl_maps);
}
