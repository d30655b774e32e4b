/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * audit.c - the audit log.  Records come from a mempool (per-lcore cache, so
 * a worker's get is lock-free), travel on a multi-producer rte_ring, and are
 * formatted as JSON lines by a writer thread that workers never wait for.
 * The writer resolves peer and link names through a small table of recent
 * policy generations, kept by the control thread.
 */
#include "audit.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_thread.h>

#include "dp.h"
#include "tg_names.h"

#define AUDIT_RING_SIZE 16384
#define AUDIT_DEQ_BURST 64
#define AUDIT_GENS 8

static struct rte_ring *audit_ring;
static struct rte_mempool *audit_pool;
static FILE *audit_file;
static pthread_t audit_thread;
static volatile bool audit_stop;

/* Names of recent generations, for the writer. */
static pthread_mutex_t names_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	uint64_t gen;
	unsigned n_peers, n_links;
	char peer[TG_MAX_PEERS][TG_NAME_MAX];
	char link[TG_MAX_LINKS][TG_NAME_MAX];
} names[AUDIT_GENS];

bool
dp_audit_wants(bool released_any, bool message_level_drop)
{
	if (audit_ring == NULL || dp_cfg.audit_level == DP_AUDIT_OFF)
		return false;
	if (dp_cfg.audit_level == DP_AUDIT_ALL)
		return true;
	/* DROPS: messages dropped or blocked, or released to no one. */
	return message_level_drop || !released_any;
}

struct dp_audit_rec *
dp_audit_get(struct dp_worker *w)
{
	void *r;

	if (rte_mempool_get(audit_pool, &r) < 0) {
		w->cnt.audit_lost++;
		return NULL;
	}
	memset(r, 0, sizeof(struct dp_audit_rec));
	return r;
}

void
dp_audit_put(struct dp_worker *w, struct dp_audit_rec *r)
{
	if (rte_ring_mp_enqueue(audit_ring, r) < 0) {
		rte_mempool_put(audit_pool, r);
		w->cnt.audit_lost++;
	}
}

void
dp_audit_note_policy(const struct dp_policy *p)
{
	unsigned s = (unsigned)(p->generation % AUDIT_GENS);

	pthread_mutex_lock(&names_lock);
	names[s].gen = p->generation;
	names[s].n_peers = p->hdr.n_peers;
	names[s].n_links = p->hdr.n_links;
	for (unsigned i = 0; i < p->hdr.n_peers; i++)
		memcpy(names[s].peer[i], p->peers[i].name, TG_NAME_MAX);
	for (unsigned i = 0; i < p->hdr.n_links; i++)
		memcpy(names[s].link[i], p->links[i].name, TG_NAME_MAX);
	pthread_mutex_unlock(&names_lock);
}

static void
copy_str(char *dst, size_t cap, const char *p, size_t len)
{
	if (p == NULL)
		len = 0;
	if (len >= cap)
		len = cap - 1;
	if (len)
		memcpy(dst, p, len);
	dst[len] = '\0';
}

void
dp_audit_message(struct dp_worker *w, const struct dp_policy *pol, uint16_t port_id, int link_idx,
		 int reason, const struct dp_class_result *cr, uint32_t released,
		 const uint8_t *peer_reason, const struct cot_event *ev, enum cot_err parse_err,
		 uint64_t now_ns, const uint32_t *checks)
{
	struct dp_audit_rec *r;

	if (!dp_audit_wants(released != 0, reason != TG_R_RELEASED))
		return;
	r = dp_audit_get(w);
	if (r == NULL)
		return;
	r->ts_ns = now_ns;
	r->generation = pol ? pol->generation : 0;
	r->released = released;
	r->link_idx = link_idx < 0 ? 0xff : (uint8_t)link_idx;
	r->port_id = port_id;
	r->reason = (uint8_t)reason;
	if (cr) {
		r->n_ids = cr->n_ids;
		memcpy(r->ids, cr->ids, sizeof(r->ids));
	}
	if (checks) {
		r->check_parser = checks[0];
		r->check_independent = checks[1];
		r->check_failed = (uint8_t)checks[2];
		r->n_peers = (uint8_t)pol->hdr.n_peers;
	}
	if (peer_reason) {
		r->n_peers = (uint8_t)pol->hdr.n_peers;
		memcpy(r->peer_reason, peer_reason, pol->hdr.n_peers);
	}
	r->parse_err = (uint8_t)parse_err;
	if (ev && parse_err == COT_OK) {
		size_t n;

		copy_str(r->uid, sizeof(r->uid), ev->uid.p, ev->uid.len);
		copy_str(r->type, sizeof(r->type), ev->type.p, ev->type.len);
		copy_str(r->marking, sizeof(r->marking), ev->access.p, ev->access.len);
		n = strlen(r->marking);
		if (ev->releasable_to.p && n + 8 < sizeof(r->marking)) {
			memcpy(r->marking + n, " | rel: ", 8);
			copy_str(r->marking + n + 8, sizeof(r->marking) - n - 8,
				 ev->releasable_to.p, ev->releasable_to.len);
		}
	}
	dp_audit_put(w, r);
}

/* A JSON string from bytes that came off the wire: not trusted to be UTF-8. */
static json_t *
wire_string(const char *s)
{
	json_t *j = json_string(s);
	char buf[256];
	size_t i;

	if (j)
		return j;
	for (i = 0; s[i] && i < sizeof(buf) - 1; i++)
		buf[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	buf[i] = '\0';
	return json_string(buf);
}

static void
write_record(const struct dp_audit_rec *r)
{
	char when[48];
	time_t t = (time_t)(r->ts_ns / 1000000000ull);
	struct tm tm;
	json_t *o = json_object(), *to = json_array(), *withheld = json_object(), *rules;
	unsigned s = (unsigned)(r->generation % AUDIT_GENS);
	bool known;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%03uZ",
		 (unsigned)(r->ts_ns / 1000000 % 1000));
	json_object_set_new(o, "time", json_string(when));
	json_object_set_new(o, "generation", json_integer((json_int_t)r->generation));

	pthread_mutex_lock(&names_lock);
	known = r->generation != 0 && names[s].gen == r->generation;
	if (known && r->link_idx < names[s].n_links)
		json_object_set_new(o, "link", json_string(names[s].link[r->link_idx]));
	else
		json_object_set_new(o, "port", json_integer(r->port_id));
	for (unsigned i = 0; i < r->n_peers && i < TG_MAX_PEERS; i++) {
		char idx[8];
		const char *name = known && i < names[s].n_peers ? names[s].peer[i] : idx;

		snprintf(idx, sizeof(idx), "#%u", i);
		if (r->reason != TG_R_RELEASED)
			break; /* dropped before any per-peer decision */
		if (r->released & (1u << i))
			json_array_append_new(to, json_string(name));
		else
			json_object_set_new(withheld, name,
					    json_string(tg_reason_name(r->peer_reason[i])));
	}
	if (r->reason == TG_R_CHECK_MISMATCH) {
		json_t *pa = json_array(), *ia = json_array();

		for (unsigned i = 0; i < r->n_peers && i < TG_MAX_PEERS; i++) {
			const char *name = known && i < names[s].n_peers ? names[s].peer[i] : "?";

			if (r->check_parser & (1u << i))
				json_array_append_new(pa, json_string(name));
			if (r->check_independent & (1u << i))
				json_array_append_new(ia, json_string(name));
		}
		json_object_set_new(o, "check",
				    json_pack("{s:o, s:o, s:b}", "parser", pa, "independent", ia,
					      "independent_unreadable", r->check_failed != 0));
	}
	pthread_mutex_unlock(&names_lock);

	json_object_set_new(o, "uid", wire_string(r->uid));
	json_object_set_new(o, "type", wire_string(r->type));
	json_object_set_new(o, "marking", wire_string(r->marking));
	json_object_set_new(o, "decision",
			    json_string(r->reason != TG_R_RELEASED ? "dropped"
					: r->released		 ? "released"
								 : "withheld"));
	if (r->reason != TG_R_RELEASED)
		json_object_set_new(o, "reason", json_string(tg_reason_name(r->reason)));
	json_object_set_new(o, "released_to", to);
	json_object_set_new(o, "withheld", withheld);
	rules = json_array();
	for (unsigned i = 0; i < r->n_ids && i < DP_MAX_AUDIT_RULES; i++)
		json_array_append_new(rules, json_integer(r->ids[i]));
	json_object_set_new(o, "rules", rules);
	json_dumpf(o, audit_file, JSON_COMPACT);
	fputc('\n', audit_file);
	json_decref(o);
}

static unsigned
drain(void)
{
	void *recs[AUDIT_DEQ_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(audit_ring, recs, AUDIT_DEQ_BURST, NULL);

	for (unsigned i = 0; i < n; i++)
		write_record(recs[i]);
	if (n)
		rte_mempool_put_bulk(audit_pool, recs, n);
	return n;
}

static void *
audit_main(void *arg)
{
	struct timespec idle = {0, 2 * 1000000};

	(void)arg;
	while (!audit_stop) {
		if (drain() == 0) {
			fflush(audit_file);
			nanosleep(&idle, NULL);
		}
	}
	while (drain() > 0)
		;
	fflush(audit_file);
	return NULL;
}

int
dp_audit_start(void)
{
	int rc;

	if (dp_cfg.audit_path == NULL || dp_cfg.audit_level == DP_AUDIT_OFF)
		return 0;
	audit_file = strcmp(dp_cfg.audit_path, "-") == 0 ? stdout : fopen(dp_cfg.audit_path, "a");
	if (audit_file == NULL) {
		RTE_LOG(ERR, USER1, "cannot open audit log %s: %s\n", dp_cfg.audit_path,
			strerror(errno));
		return -1;
	}
	audit_pool = rte_mempool_create("tg_audit", AUDIT_RING_SIZE * 2 - 1,
					sizeof(struct dp_audit_rec), 256, 0, NULL, NULL, NULL,
					NULL, (int)rte_socket_id(), 0);
	audit_ring = rte_ring_create("tg_audit", AUDIT_RING_SIZE, (int)rte_socket_id(),
				     RING_F_SC_DEQ);
	if (audit_pool == NULL || audit_ring == NULL) {
		RTE_LOG(ERR, USER1, "cannot create the audit ring: %s\n",
			rte_strerror(rte_errno));
		return -1;
	}
	audit_stop = false;
	rc = rte_ctrl_thread_create(&audit_thread, "tg-audit", NULL, audit_main, NULL);
	if (rc != 0) {
		RTE_LOG(ERR, USER1, "cannot start the audit writer: %s\n", strerror(-rc));
		return -1;
	}
	return 0;
}

void
dp_audit_stop(void)
{
	if (audit_ring == NULL)
		return;
	audit_stop = true;
	pthread_join(audit_thread, NULL);
	if (audit_file && audit_file != stdout)
		fclose(audit_file);
	audit_file = NULL;
	rte_ring_free(audit_ring);
	rte_mempool_free(audit_pool);
	audit_ring = NULL;
}
