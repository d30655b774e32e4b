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
 *
 * It answers the publisher through tg_ctl.ack (tg_maps.h): the generation it
 * installed or refused, its pid, and a heartbeat on every pass.  Every
 * DP_PIN_CHECK_MS it checks that the maps pinned in the bpffs directory are
 * still the ones it holds; if the directory was removed, emptied, unmounted
 * or replaced, it says so and attaches to the maps pinned there as soon as a
 * whole set is (docs/tgctl.md, "The bpffs directory removed or replaced").
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_thread.h>

#include "audit.h"
#include "tg_clock.h"
#include "dp.h"
#include "policy_swap.h"
#include "ports.h"
#include "stats.h"
#include "marking.h"
#include "tg_mapset.h"
#include "tg_names.h"

/* How often the maps pinned in the bpffs directory are compared with the
 * ones held (3 syscalls per map), and how often a directory that holds no
 * usable maps is reported again. */
#define DP_PIN_CHECK_MS 500
#define DP_PIN_WARN_MS 5000

/* The policy's limits are the parser's (docs/policy.md `settings`). */
_Static_assert(TG_FIELD_LIMIT_DEFAULT == COT_MAX_FIELD && TG_FIELD_LIMIT_MIN == COT_FIELD_LIMIT_MIN &&
		       TG_FIELD_LIMIT_MAX == COT_FIELD_LIMIT_MAX &&
		       TG_REMARKS_LIMIT_DEFAULT == COT_MAX_REMARKS &&
		       TG_REMARKS_LIMIT_MAX == COT_REMARKS_LIMIT_MAX,
	       "tg_maps.h and cot_parse.h disagree on the parser's limits");

static pthread_t ctl_thread;
/* The maps attached to; a re-attach replaces the contents, never the
 * object.  stats.c writes and retires through it (dp_stats_*(&ctl_maps)). */
static struct tg_mapset ctl_maps;
static bool ctl_stop; /* __atomic only */
static uint64_t ctl_known_gen; /* generation of ctl_maps installed or refused last */
static struct tg_ack ctl_ack;  /* what this dataplane tells ctl_maps' publishers */
static uint64_t pins_lost_tsc; /* when the maps held stopped being pinned; 0: they are */
static uint64_t pins_warn_tsc; /* when to say again that they still are not */

static uint64_t
ms_cycles(uint64_t ms)
{
	return rte_get_tsc_hz() / 1000 * ms;
}

/* "policy generation 3 (sha256:0123456789abcdef)", or that there is none. */
static const char *
policy_desc(char *buf, size_t len)
{
	const struct dp_policy *p = __atomic_load_n(&dp_active, __ATOMIC_ACQUIRE);
	int n;

	if (p == NULL) {
		snprintf(buf, len, "no policy (every message is dropped as no_policy)");
		return buf;
	}
	n = snprintf(buf, len, "policy generation %lu (sha256:", (unsigned long)p->generation);
	for (int i = 0; i < 8 && n > 0 && (size_t)n < len; i++)
		n += snprintf(buf + n, len - (size_t)n, "%02x", p->hdr.digest[i]);
	if (n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ")");
	return buf;
}

/* The acknowledgement, with a fresh heartbeat, into the maps attached to. */
static void
ack_publish(void)
{
	ctl_ack.heartbeat_ns = tg_realtime_ns();
	tg_ack_write(&ctl_maps, &ctl_ack);
}

/* A fresh acknowledgement for maps just attached to: nothing of theirs
 * installed or refused yet; the policy in force, if any, is foreign. */
static void
ack_attach(void)
{
	const struct dp_policy *p = __atomic_load_n(&dp_active, __ATOMIC_ACQUIRE);

	memset(&ctl_ack, 0, sizeof(ctl_ack));
	ctl_ack.pid = (uint64_t)getpid();
	ctl_ack.state = TG_ACK_RUNNING;
	if (p != NULL) {
		ctl_ack.foreign_gen = p->generation;
		memcpy(ctl_ack.digest, p->hdr.digest, sizeof(ctl_ack.digest));
	}
	ack_publish();
}

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
	for (unsigned i = 0; i < DP_MAX_WORKERS; i++)
		comb_state_free(p->comb_state[i]);
	free(p->comb_words);
	free(p->rules);
	free(p->peer_cnt);
	free(p->rule_hits);
	free(p->rule_hits_reported);
	free(p);
}

struct dp_policy *
dp_policy_build_core(const struct tg_snapshot *s, char *err, size_t errlen)
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
	for (unsigned i = 0; i < TG_MAX_PEERS; i++)
		p->peers[i].index = (uint8_t)i; /* what release_marking() reads a control's peers by */
	p->rules = malloc(sizeof(*p->rules) * (n ? n : 1));
	p->peer_cnt = calloc((size_t)dp_n_workers * TG_MAX_PEERS, sizeof(*p->peer_cnt));
	p->rule_hits = calloc((size_t)dp_n_workers * (n ? n : 1), sizeof(uint64_t));
	p->rule_hits_reported = calloc(n ? n : 1, sizeof(uint64_t));
	if (!p->rules || !p->peer_cnt || !p->rule_hits || !p->rule_hits_reported)
		goto oom;
	memcpy(p->rules, s->rules, sizeof(*p->rules) * n);

	/* What the fast path indexes, shifts or narrows with, checked once here
	 * (tgctl writes nothing else; a map written by other hands is refused). */
	if (s->hdr.max_field_bytes < TG_FIELD_LIMIT_MIN ||
	    s->hdr.max_field_bytes > TG_FIELD_LIMIT_MAX ||
	    s->hdr.max_remarks_bytes > TG_REMARKS_LIMIT_MAX) {
		snprintf(err, errlen, "published max_field_bytes %u or max_remarks_bytes %u out of "
			 "range", s->hdr.max_field_bytes, s->hdr.max_remarks_bytes);
		goto fail;
	}
	if (s->hdr.max_message_bytes < 1 || s->hdr.max_message_bytes > 65507) {
		snprintf(err, errlen, "published max_message_bytes %u is not in 1..65507",
			 s->hdr.max_message_bytes);
		goto fail;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (p->rules[i].action > TG_ACT_BLOCK ||
		    (p->rules[i].action == TG_ACT_CLASSIFY &&
		     p->rules[i].class_idx >= s->hdr.n_classes)) {
			snprintf(err, errlen, "published rule %u has an unknown action or class",
				 p->rules[i].id);
			goto fail;
		}
	}
	for (unsigned i = 0; i < s->hdr.n_peers; i++) {
		const struct tg_peer *pe = &s->peers[i];

		if ((pe->ip_version != 4 && pe->ip_version != 6) || pe->mtu < 68 ||
		    pe->link_idx >= (int)s->hdr.n_links || pe->link_idx < -1 ||
		    pe->encoding > TG_PEER_ENC_XML) {
			snprintf(err, errlen, "published peer %u has an impossible IP version, MTU, "
				 "link or encoding", i);
			goto fail;
		}
	}
	for (unsigned i = 0; i < s->hdr.n_links; i++)
		if (s->links[i].encodings == 0 || (s->links[i].encodings & ~TG_ENC_F_ALL)) {
			snprintf(err, errlen, "published link %u accepts no known encoding", i);
			goto fail;
		}

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
	p->late_classes = tg_late_classes(p->rules, n);
	p->limits.field = s->hdr.max_field_bytes;
	p->limits.remarks = s->hdr.max_remarks_bytes;

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
	/* The combinations (lib/comb.h): a table of their own, checked whole,
	 * and one evaluation state per worker. */
	if (s->hdr.comb.len != 0) {
		const struct tg_hsdb_ref *ref = &s->hdr.comb;
		size_t nw = ref->len / sizeof(uint32_t);

		if (ref->len % sizeof(uint32_t) || ref->off % 8 ||
		    (size_t)ref->off + ref->len > s->hsdb_len) {
			snprintf(err, errlen, "published combinations lie outside the rule region");
			goto fail;
		}
		p->comb_words = malloc(ref->len);
		if (p->comb_words == NULL)
			goto oom;
		memcpy(p->comb_words, (const uint8_t *)s->hsdb + ref->off, ref->len);
		if (comb_table_load(&p->comb, p->comb_words, nw, n, err, errlen) < 0)
			goto fail;
		for (uint32_t k = 0; k < p->comb.n_combs; k++)
			if (p->comb.combs[k].rule >= n ||
			    !(p->rules[p->comb.combs[k].rule].flags & TG_RF_COMBINATION) ||
			    p->comb.combs[k].group >= TG_HSDB_REFS) {
				snprintf(err, errlen, "published combination %u names rule %u, "
					 "which is no combination", k, p->comb.combs[k].rule);
				goto fail;
			}
		for (unsigned wi = 0; wi < dp_n_workers; wi++) {
			p->comb_state[wi] = comb_state_new(n, p->comb.n_combs);
			if (p->comb_state[wi] == NULL)
				goto oom;
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
	memset(p->link_of_port, -1, sizeof(p->link_of_port));
	for (unsigned i = 0; i < s->hdr.n_peers; i++) {
		p->peer_port[i] = -1;
		p->peer_pidx[i] = -1;
		fwd_tmpl_build(&p->tmpl[i], &s->peers[i]);
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

void
dp_policy_bind_offline(struct dp_policy *p)
{
	const char *dev[TG_MAX_LINKS + TG_MAX_PEERS];
	unsigned n = 0;

	/* A port id of its own for each distinct device name, as if every
	 * device were there: echo by port (release.h) still sees that a peer
	 * and a link share a device. */
	for (unsigned i = 0; i < p->hdr.n_links + p->hdr.n_peers; i++) {
		const char *d = i < p->hdr.n_links ? p->links[i].dev
						   : p->peers[i - p->hdr.n_links].dev;
		unsigned k = 0;

		while (k < n && strncmp(dev[k], d, TG_DEV_MAX) != 0)
			k++;
		if (k == n)
			dev[n++] = d;
		if (i < p->hdr.n_links)
			p->link_of_port[k] = (int8_t)i;
		else
			p->peer_port[i - p->hdr.n_links] = (int16_t)k;
	}
}

struct dp_policy *
dp_policy_build(const struct tg_snapshot *s, char *err, size_t errlen)
{
	struct dp_policy *p = dp_policy_build_core(s, err, errlen);

	if (p == NULL)
		return NULL;
	/* Device names to ports: a link or peer whose device this dataplane
	 * does not have is reported, and its peers are counted as peer_down. */
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
		dp_stats_retire_policy(&ctl_maps, old);
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
		/* Keep the policy in force; do not retry this generation; tell
		 * the publisher why. */
		RTE_LOG(ERR, USER1, "policy generation %lu not installed: %s\n",
			(unsigned long)snap.generation, err);
		*known_gen = snap.generation;
		ctl_ack.refused = snap.generation;
		snprintf(ctl_ack.refused_why, sizeof(ctl_ack.refused_why), "%.*s",
			 (int)sizeof(ctl_ack.refused_why) - 1, err);
		ack_publish();
		tg_snapshot_free(&snap);
		return;
	}
	*known_gen = snap.generation;
	RTE_LOG(INFO, USER1, "policy generation %lu installed: %u links, %u peers, %u rules\n",
		(unsigned long)snap.generation, snap.hdr.n_links, snap.hdr.n_peers,
		snap.hdr.n_rules);
	tg_snapshot_free(&snap);
	policy_install(np);
	/* After the grace period: no worker uses the previous policy any more. */
	ctl_ack.installed = np->generation;
	ctl_ack.foreign_gen = 0;
	memcpy(ctl_ack.digest, np->hdr.digest, sizeof(ctl_ack.digest));
	ack_publish();
}

/* Attach to `nm` (the maps now pinned in the bpffs directory) in place of
 * the ones held: their generations, their acknowledgement, their stats. */
static void
maps_switch(struct tg_mapset *nm, const char *what)
{
	struct tg_mapset old = ctl_maps;
	struct tg_ctl_view v;
	char desc[96];

	ctl_maps = *nm;
	tg_mapset_close(&old);
	pins_lost_tsc = 0;
	RTE_LOG(WARNING, USER1,
		"bpffs %s: the maps trackgate held were removed or replaced there (%s): "
		"attached to the maps pinned there now\n",
		dp_cfg.bpffs, what);
	ack_attach();
	/* Generations count again from the new maps' own. */
	ctl_known_gen = 0;
	policy_poll(&ctl_known_gen);
	if (!tg_ctl_read(&ctl_maps, &v))
		RTE_LOG(WARNING, USER1,
			"bpffs %s: no policy is published in the new maps: %s stays in force "
			"until one is (tgctl load)\n",
			dp_cfg.bpffs, policy_desc(desc, sizeof(desc)));
	/* `tgctl stats` on the new maps sees this dataplane at once. */
	dp_stats_publish(&ctl_maps);
}

/* Are the maps pinned in the bpffs directory still the ones held?  If not,
 * attach to the ones there; if there are none (or none usable), keep the
 * policy in force and say so, now and every DP_PIN_WARN_MS. */
static void
pins_check(uint64_t now)
{
	char what[TG_PATH_MAX + 96], err[512], desc[96];
	struct tg_mapset nm;
	bool absent;
	enum tg_pins st = tg_mapset_pins(&ctl_maps, what, sizeof(what));

	if (st == TG_PINS_SAME) {
		if (pins_lost_tsc != 0)
			RTE_LOG(WARNING, USER1,
				"bpffs %s: the maps trackgate holds are pinned there again\n",
				dp_cfg.bpffs);
		pins_lost_tsc = 0;
		return;
	}
	if (tg_mapset_attach(&nm, dp_cfg.bpffs, &absent, err, sizeof(err)) == 0) {
		maps_switch(&nm, what);
		return;
	}
	if (pins_lost_tsc != 0 && now < pins_warn_tsc)
		return;
	policy_desc(desc, sizeof(desc));
	if (pins_lost_tsc == 0) {
		pins_lost_tsc = now;
		RTE_LOG(WARNING, USER1,
			"bpffs %s: the maps trackgate reads are no longer pinned there (%s); "
			"%s stays in force until maps are pinned there again (tgctl load "
			"creates them)\n",
			dp_cfg.bpffs, what, desc);
	} else {
		RTE_LOG(WARNING, USER1,
			"bpffs %s: still no maps trackgate can attach to, for %lu s; %s stays "
			"in force\n",
			dp_cfg.bpffs, (unsigned long)((now - pins_lost_tsc) / rte_get_tsc_hz()),
			desc);
	}
	if (!absent)
		RTE_LOG(ERR, USER1, "bpffs %s: the maps pinned there cannot be used: %s\n",
			dp_cfg.bpffs, err);
	pins_warn_tsc = now + ms_cycles(DP_PIN_WARN_MS);
}

static void *
control_main(void *arg)
{
	uint64_t next_stats = 0, next_pins = 0;
	struct timespec tick = {0, 10 * 1000000}; /* 10 ms: swaps land fast */

	(void)arg;
	while (!__atomic_load_n(&ctl_stop, __ATOMIC_ACQUIRE)) {
		uint64_t now = rte_get_tsc_cycles();

		if (now >= next_pins) {
			pins_check(now);
			next_pins = now + ms_cycles(DP_PIN_CHECK_MS);
		}
		policy_poll(&ctl_known_gen);
		ack_publish(); /* the heartbeat */
		if (now >= next_stats) {
			dp_stats_publish(&ctl_maps);
			next_stats = now + ms_cycles(dp_cfg.stats_interval_ms);
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
	/* No lock is ever taken here: do not keep the bpffs mount busy. */
	tg_mapset_drop_dir(&ctl_maps);
	ack_attach();
	/* Install whatever is published before any packet is received. */
	policy_poll(&ctl_known_gen);
	__atomic_store_n(&ctl_stop, false, __ATOMIC_RELEASE);
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

	__atomic_store_n(&ctl_stop, true, __ATOMIC_RELEASE);
	pthread_join(ctl_thread, NULL);
	ctl_ack.state = TG_ACK_STOPPED;
	ack_publish();
	dp_stats_publish(&ctl_maps);
	p = __atomic_exchange_n(&dp_active, NULL, __ATOMIC_ACQ_REL);
	if (p) {
		dp_stats_retire_policy(&ctl_maps, p);
		dp_policy_free(p);
	}
	tg_mapset_close(&ctl_maps);
}
