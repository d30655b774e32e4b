/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * audit.c - the audit log.  Records come from a mempool (per-lcore cache, so
 * a worker's get is lock-free), travel on a multi-producer rte_ring, and are
 * formatted as JSON lines by a writer thread that workers never wait for.
 * The writer resolves peer and link names through a small table of recent
 * policy generations, kept by the control thread.
 *
 * Every record that does not reach the file whole is counted: a worker
 * counts a record it could not get or enqueue (its audit_lost), the writer
 * counts what it could not write (audit_writer_lost, added by stats.c).
 * The writer formats records into a batch of whole lines and writes the
 * batch with write(2); when the file takes only part of it (a full disk),
 * the lines it took whole stay, the partial line is cut off with ftruncate,
 * and the rest are lost.  So after a clean exit the log ends with a whole
 * line.  The first failure is logged with its cause, later ones at most
 * every AUDIT_LOG_EVERY_S with the count since.
 */
#include "audit.h"
#include "msg.h"
#include "tg_clock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_thread.h>

#include "cot_names.h"
#include "dp.h"
#include "sanitize_check.h"
#include "tg_names.h"

#define AUDIT_RING_SIZE 16384
#define AUDIT_DEQ_BURST 64
#define AUDIT_GENS 8
#define AUDIT_BATCH (64 * 1024)   /* bytes written per write(2), at most */
#define AUDIT_BATCH_LINES 1024
#define AUDIT_FLUSH_NS (50ull * 1000000) /* a busy writer still writes this often */
#define AUDIT_LOG_EVERY_S 10      /* write failures: one log line per this, at most */
#define AUDIT_SUMMARIES 16        /* summary records waiting for the writer */

static struct rte_ring *audit_ring;
static struct rte_mempool *audit_pool;
static int audit_fd = -1;
static bool audit_stdout;       /* "-": fd 1, never reopened or closed */
static pthread_t audit_thread;
static bool audit_stop; /* __atomic only */

/* Between threads: __atomic only. */
static uint64_t audit_writer_lost;  /* records not written, summaries not queued */
static int audit_reopen_req;        /* set by the SIGHUP handler */
static uint64_t audit_sync_req, audit_sync_done;

/* Names of recent generations, for the writer. */
static pthread_mutex_t names_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	uint64_t gen;
	unsigned n_peers, n_links;
	char peer[TG_MAX_PEERS][TG_NAME_MAX];
	char link[TG_MAX_LINKS][TG_NAME_MAX];
	char san[TG_MAX_SAN][512]; /* each sanitize entry's steps in words */
} names[AUDIT_GENS];

/* Summary records from the control thread, for the writer. */
static pthread_mutex_t sum_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dp_audit_rec sum_q[AUDIT_SUMMARIES];
static unsigned sum_n;

/* The writer's own state. */
static struct {
	char buf[AUDIT_BATCH];
	size_t len;
	unsigned n;                        /* lines in buf */
	uint32_t end[AUDIT_BATCH_LINES];   /* offset just past each line's '\n' */
	uint64_t last_flush_ns;
	bool tail_broken;      /* a partial line could not be cut off */
	int open_errno;        /* why audit_fd is -1 after a failed reopen */
	/* failures */
	bool failing;          /* the last write lost records */
	bool logged;           /* a failure was logged in this run */
	uint64_t last_log_ns;
	uint64_t unreported;   /* lost since the last log line */
	uint64_t streak;       /* lost since writing last worked */
} wr;

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
	/* The strings are not cleared: str[] says how much of them is valid. */
	memset(r, 0, offsetof(struct dp_audit_rec, uid));
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
	for (unsigned k = 0; k < p->hdr.n_sanitize && k < TG_MAX_SAN; k++)
		san_describe(&p->hdr.sanitize[k], names[s].san[k], sizeof(names[s].san[k]));
	pthread_mutex_unlock(&names_lock);
}

/* Keep at most cap bytes of a wire string, cut before a UTF-8 character
 * rather than inside it; remember its presence and its whole length. */
static void
copy_wire(char *dst, size_t cap, struct dp_audit_strlen *m, const struct cot_str *s)
{
	size_t len;

	if (s->p == NULL)
		return; /* m is zero: absent */
	len = s->len;
	m->present = 1;
	m->wire = s->len;
	if (len > cap) {
		len = cap;
		for (unsigned k = 0; k < 3 && len > 0 && ((uint8_t)s->p[len] & 0xc0) == 0x80; k++)
			len--;
	}
	memcpy(dst, s->p, len);
	m->len = (uint8_t)len;
}

void
dp_audit_fill(struct dp_audit_rec *r, const struct dp_policy *pol, const struct dp_msg_ctx *c,
	      uint64_t now_ns)
{
	const struct cot_event *ev = c->ev;

	r->kind = DP_AUDIT_DECISION;
	r->ts_ns = now_ns;
	r->generation = pol ? pol->generation : 0;
	r->released = c->released;
	r->link_idx = c->link_idx < 0 ? 0xff : (uint8_t)c->link_idx;
	r->port_id = c->port_id;
	r->reason = (uint8_t)c->reason;
	r->scanned = c->scanned;
	r->encoding = (uint8_t)c->enc;
	r->control[0] = '\0';
	if (c->block_control && c->block_control <= pol->hdr.n_controls)
		memcpy(r->control, pol->hdr.controls[c->block_control - 1].name, TG_NAME_MAX);
	r->n_ids = c->cr.n_ids;
	memcpy(r->ids, c->cr.ids, sizeof(r->ids));
	if (c->reason == TG_R_CHECK_MISMATCH) {
		r->check_parser = c->checks[0];
		r->check_independent = c->checks[1];
		r->check_failed = (uint8_t)c->checks[2];
		r->n_peers = (uint8_t)pol->hdr.n_peers;
	}
	if (c->reason == TG_R_RELEASED) {
		r->n_peers = (uint8_t)pol->hdr.n_peers;
		memcpy(r->peer_reason, c->peer_reason, pol->hdr.n_peers);
		r->n_copies = c->n_copies;
		for (unsigned g = 0; g < c->n_copies && g < DP_SAN_COPIES; g++) {
			r->copy[g].peers = c->copy[g].peers;
			r->copy[g].entries = c->copy[g].entries;
			r->copy[g].v1 = c->copy[g].v1;
			r->copy[g].fail = c->copy[g].fail;
			/* sent to at least one of its peers: its length and digest */
			r->copy[g].len = (c->released & c->copy[g].peers) ? c->copy[g].len : 0;
			memcpy(r->copy[g].sha256, c->copy[g].sha256, 32);
		}
	}
	r->parse_err = (uint8_t)c->parse_err;
	if (ev == NULL)
		;
	else if (c->parse_err != COT_OK) {
		/* What the parser got to before the error (cot_parse.h: uid and
		 * type are the values parsed, or absent); the marking is not
		 * known. */
		r->err_off = ev->err_off;
		copy_wire(r->uid, sizeof(r->uid), &r->str[DP_AS_UID], &ev->uid);
		copy_wire(r->type, sizeof(r->type), &r->str[DP_AS_TYPE], &ev->type);
	} else {
		copy_wire(r->uid, sizeof(r->uid), &r->str[DP_AS_UID], &ev->uid);
		copy_wire(r->type, sizeof(r->type), &r->str[DP_AS_TYPE], &ev->type);
		copy_wire(r->access, sizeof(r->access), &r->str[DP_AS_ACCESS], &ev->access);
		copy_wire(r->caveat, sizeof(r->caveat), &r->str[DP_AS_CAVEAT], &ev->caveat);
		copy_wire(r->releasable_to, sizeof(r->releasable_to), &r->str[DP_AS_REL],
			  &ev->releasable_to);
	}
}

void
dp_audit_message(struct dp_worker *w, const struct dp_policy *pol, const struct dp_msg_ctx *c,
		 uint64_t now_ns)
{
	struct dp_audit_rec *r;

	if (!dp_audit_wants(c->released != 0, c->reason != TG_R_RELEASED))
		return;
	r = dp_audit_get(w);
	if (r == NULL)
		return;
	dp_audit_fill(r, pol, c, now_ns);
	dp_audit_put(w, r);
}

int
dp_audit_summary(int reason, uint64_t count, uint64_t since_ns, uint64_t now_ns)
{
	struct dp_audit_rec *r;

	if (audit_ring == NULL || dp_cfg.audit_level == DP_AUDIT_OFF)
		return -1;
	pthread_mutex_lock(&sum_lock);
	if (sum_n == AUDIT_SUMMARIES) {
		pthread_mutex_unlock(&sum_lock);
		__atomic_fetch_add(&audit_writer_lost, 1, __ATOMIC_RELAXED);
		return -1;
	}
	r = &sum_q[sum_n];
	memset(r, 0, offsetof(struct dp_audit_rec, uid));
	r->kind = DP_AUDIT_SUMMARY;
	r->reason = (uint8_t)reason;
	r->count = count;
	r->since_ns = since_ns;
	r->ts_ns = now_ns;
	r->link_idx = 0xff;
	__atomic_store_n(&sum_n, sum_n + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&sum_lock);
	return 0;
}

uint64_t
dp_audit_lost(void)
{
	return __atomic_load_n(&audit_writer_lost, __ATOMIC_RELAXED);
}

void
dp_audit_request_reopen(void)
{
	__atomic_store_n(&audit_reopen_req, 1, __ATOMIC_RELAXED);
}

void
dp_audit_sync(unsigned timeout_ms)
{
	struct timespec tick = {0, 1000000};
	uint64_t want, deadline;

	if (audit_ring == NULL)
		return;
	want = __atomic_add_fetch(&audit_sync_req, 1, __ATOMIC_ACQ_REL);
	deadline = tg_monotonic_ns() + (uint64_t)timeout_ms * 1000000;
	while (__atomic_load_n(&audit_sync_done, __ATOMIC_ACQUIRE) < want) {
		if (tg_monotonic_ns() > deadline) {
			RTE_LOG(WARNING, USER1,
				"audit log: the writer did not catch up within %u ms; the counters "
				"may miss records it loses later\n",
				timeout_ms);
			return;
		}
		nanosleep(&tick, NULL);
	}
}

/* ---- the writer -------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if none. */
static unsigned
utf8_seq(const uint8_t *s, size_t n)
{
	uint8_t c = s[0], lo = 0x80, hi = 0xbf;
	unsigned len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (unsigned i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* A JSON string from bytes that came off the wire: not trusted to be UTF-8.
 * Each byte that does not belong to a valid UTF-8 character becomes U+FFFD,
 * so the line stays valid JSON and the rest of the string stays readable. */
static json_t *
wire_json(const char *p, size_t len)
{
	char buf[3 * 256];
	size_t o = 0;

	if (len > 256)
		len = 256;
	for (size_t i = 0; i < len;) {
		unsigned k = utf8_seq((const uint8_t *)p + i, len - i);

		if (k == 0) {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(buf + o, p + i, k);
			o += k;
			i += k;
		}
	}
	return json_stringn(buf, o);
}

static json_t *
rec_str(const struct dp_audit_rec *r, enum dp_audit_str which, const char *s, bool null_if_absent)
{
	const struct dp_audit_strlen *m = &r->str[which];

	if (!m->present)
		return null_if_absent ? json_null() : json_string("");
	return wire_json(s, m->len);
}

static json_t *
summary_json(const struct dp_audit_rec *r)
{
	char when[48], since[48];

	tg_format_utc(r->ts_ns, true, when, sizeof(when));
	tg_format_utc(r->since_ns, true, since, sizeof(since));
	/* The keys every record has, so that readers need no special case. */
	return json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:I, s:s, s:[], s:{}, s:[]}", "time",
			 when, "generation", (json_int_t)r->generation, "uid", "", "type", "",
			 "decision", "dropped", "reason", tg_reason_name(r->reason), "count",
			 (json_int_t)r->count, "since", since, "released_to", "withheld",
			 "rules");
}

json_t *
dp_audit_json(const struct dp_audit_rec *r)
{
	static const char *const str_key[DP_AS_COUNT] = {
		"uid", "type", "access", "caveat", "releasable_to",
	};
	char when[48];
	json_t *o = json_object(), *to = json_array(), *withheld = json_object(), *rules,
	       *trunc = NULL;
	unsigned s = (unsigned)(r->generation % AUDIT_GENS);
	bool known;

	tg_format_utc(r->ts_ns, true, when, sizeof(when));
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
	/* Sanitized copies: each one's peers and steps, and the length and
	 * SHA-256 of what was sent, or why it was not. */
	if (r->n_copies) {
		json_t *ca = json_array();

		for (unsigned g = 0; g < r->n_copies && g < DP_SAN_COPIES; g++) {
			const struct dp_audit_copy *cp = &r->copy[g];
			json_t *co = json_object(), *pa = json_array(), *sa = json_array();
			char hex[65];

			for (unsigned i = 0; i < r->n_peers && i < TG_MAX_PEERS; i++)
				if ((cp->peers >> i) & 1)
					json_array_append_new(
						pa, json_string(known && i < names[s].n_peers
									? names[s].peer[i]
									: "?"));
			for (unsigned k = 0; k < TG_MAX_SAN; k++)
				if ((cp->entries >> k) & 1)
					json_array_append_new(sa, json_string(known ? names[s].san[k]
										    : "?"));
			json_object_set_new(co, "peers", pa);
			json_object_set_new(co, "steps", sa);
			json_object_set_new(co, "encoding",
					    json_string(tg_encoding_name(cp->v1 ? 1 : 0)));
			if (cp->len) {
				for (unsigned b = 0; b < 32; b++)
					snprintf(hex + 2 * b, 3, "%02x", cp->sha256[b]);
				json_object_set_new(co, "bytes", json_integer(cp->len));
				json_object_set_new(co, "sha256", json_string(hex));
			} else if (cp->fail) {
				json_object_set_new(co, "check", json_string(scs_name(cp->fail)));
			}
			json_array_append_new(ca, co);
		}
		json_object_set_new(o, "sanitized", ca);
	}
	pthread_mutex_unlock(&names_lock);

	/* uid and type are "" when unknown (as they always were); the three
	 * sources of the marking are null when absent (the link's default
	 * marking applies) or not known (a parse drop). */
	json_object_set_new(o, "uid", rec_str(r, DP_AS_UID, r->uid, false));
	json_object_set_new(o, "type", rec_str(r, DP_AS_TYPE, r->type, false));
	json_object_set_new(o, "access", rec_str(r, DP_AS_ACCESS, r->access, true));
	json_object_set_new(o, "caveat", rec_str(r, DP_AS_CAVEAT, r->caveat, true));
	json_object_set_new(o, "releasable_to",
			    rec_str(r, DP_AS_REL, r->releasable_to, true));
	for (unsigned i = 0; i < DP_AS_COUNT; i++) {
		if (r->str[i].wire <= r->str[i].len)
			continue;
		if (trunc == NULL)
			trunc = json_object();
		json_object_set_new(trunc, str_key[i], json_integer(r->str[i].wire));
	}
	if (trunc)
		json_object_set_new(o, "truncated", trunc);
	json_object_set_new(o, "decision",
			    json_string(r->reason != TG_R_RELEASED ? "dropped"
					: r->released		 ? "released"
								 : "withheld"));
	if (r->kind != DP_AUDIT_SUMMARY)
		json_object_set_new(o, "encoding", json_string(tg_encoding_name(r->encoding)));
	if (r->kind != DP_AUDIT_SUMMARY && r->control[0])
		json_object_set_new(o, "control", json_stringn(r->control,
							       strnlen(r->control, TG_NAME_MAX)));
	if (r->reason != TG_R_RELEASED)
		json_object_set_new(o, "reason", json_string(tg_reason_name(r->reason)));
	else /* false: no peer could receive it, the late scopes were not scanned */
		json_object_set_new(o, "scanned", json_boolean(r->scanned));
	if (r->reason == TG_R_PARSE) {
		json_object_set_new(o, "parse_err",
				    json_string(r->parse_err ? cot_err_str(r->parse_err)
							     : "unknown"));
		json_object_set_new(o, "err_off", json_integer(r->err_off));
	}
	json_object_set_new(o, "released_to", to);
	json_object_set_new(o, "withheld", withheld);
	rules = json_array();
	for (unsigned i = 0; i < r->n_ids && i < DP_MAX_AUDIT_RULES; i++)
		json_array_append_new(rules, json_integer(r->ids[i]));
	json_object_set_new(o, "rules", rules);
	return o;
}

/* n records did not reach the file (err: why).  Counted at once; logged
 * the first time, then at most every AUDIT_LOG_EVERY_S. */
static void
writer_lost(uint64_t n, int err)
{
	uint64_t now = tg_monotonic_ns();

	__atomic_fetch_add(&audit_writer_lost, n, __ATOMIC_RELAXED);
	wr.failing = true;
	wr.unreported += n;
	wr.streak += n;
	if (wr.logged && now - wr.last_log_ns < AUDIT_LOG_EVERY_S * TG_NS_PER_S)
		return;
	if (!wr.logged)
		RTE_LOG(ERR, USER1,
			"audit log %s: cannot write: %s; %" PRIu64 " record(s) lost, and every "
			"record until writing works again is counted as lost (audit_lost)\n",
			dp_cfg.audit_path, strerror(err), n);
	else
		RTE_LOG(ERR, USER1,
			"audit log %s: %" PRIu64 " more record(s) not written in the last %u s: %s\n",
			dp_cfg.audit_path, wr.unreported,
			(unsigned)((now - wr.last_log_ns) / TG_NS_PER_S), strerror(err));
	wr.logged = true;
	wr.last_log_ns = now;
	wr.unreported = 0;
}

/* The file took only the first `partial` bytes of a line: cut them off, so
 * that the log ends with a whole line.  With O_APPEND our bytes are the last
 * in the file and the offset is just past them. */
static void
cut_partial(size_t partial)
{
	off_t end = lseek(audit_fd, 0, SEEK_CUR);
	int err;

	if (end < 0)
		err = errno;
	else if (end < (off_t)partial)
		err = EINVAL;
	else if (ftruncate(audit_fd, end - (off_t)partial) == 0)
		return;
	else
		err = errno;
	RTE_LOG(ERR, USER1,
		"audit log %s: cannot cut off a partial record of %zu bytes: %s; the next "
		"record starts on a new line\n",
		dp_cfg.audit_path, partial, strerror(err));
	wr.tail_broken = true;
}

/* Write the batch: whole lines reach the file, or are counted as lost. */
static void
flush_batch(void)
{
	size_t off = 0, keep;
	unsigned whole = 0;
	int err = 0;

	if (wr.n == 0)
		return;
	wr.last_flush_ns = tg_monotonic_ns();
	if (audit_fd < 0) {
		writer_lost(wr.n, wr.open_errno ? wr.open_errno : EBADF);
		goto done;
	}
	if (wr.tail_broken) {
		ssize_t k = write(audit_fd, "\n", 1);

		if (k != 1) {
			writer_lost(wr.n, k < 0 ? errno : EIO);
			goto done;
		}
		wr.tail_broken = false;
	}
	while (off < wr.len) {
		ssize_t k = write(audit_fd, wr.buf + off, wr.len - off);

		if (k > 0) {
			off += (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		err = k < 0 ? errno : EIO; /* no progress: a full disk says ENOSPC next */
		break;
	}
	while (whole < wr.n && wr.end[whole] <= off)
		whole++;
	keep = whole ? wr.end[whole - 1] : 0;
	if (off > keep)
		cut_partial(off - keep);
	if (whole < wr.n) {
		writer_lost(wr.n - whole, err);
	} else if (wr.failing) {
		RTE_LOG(NOTICE, USER1,
			"audit log %s: writing again; %" PRIu64 " record(s) were lost (audit_lost)%s\n",
			dp_cfg.audit_path, wr.streak,
			wr.unreported ? ", some of them not reported before" : "");
		wr.failing = false;
		wr.streak = 0;
		wr.unreported = 0;
	}
done:
	wr.len = 0;
	wr.n = 0;
}

/* One line into the batch (the batch is written first when it is full). */
static void
append_json(json_t *o)
{
	if (o == NULL) {
		writer_lost(1, ENOMEM);
		return;
	}
	for (;;) {
		size_t room = AUDIT_BATCH - wr.len;
		size_t need = json_dumpb(o, wr.buf + wr.len, room, JSON_COMPACT);

		if (need == 0) {
			writer_lost(1, ENOMEM);
			break;
		}
		if (need < room && wr.n < AUDIT_BATCH_LINES) {
			wr.buf[wr.len + need] = '\n';
			wr.len += need + 1;
			wr.end[wr.n++] = (uint32_t)wr.len;
			break;
		}
		if (wr.n == 0) { /* larger than a batch: not with fixed-size records */
			writer_lost(1, EMSGSIZE);
			break;
		}
		flush_batch();
	}
	json_decref(o);
}

static void
reopen(void)
{
	int fd;

	flush_batch(); /* what is formatted goes to the file it was meant for */
	if (audit_stdout)
		return;
	fd = open(dp_cfg.audit_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (audit_fd >= 0 && close(audit_fd) < 0)
		RTE_LOG(ERR, USER1, "audit log %s: closing the old file: %s\n", dp_cfg.audit_path,
			strerror(errno));
	audit_fd = fd;
	wr.tail_broken = false;
	if (fd < 0) {
		wr.open_errno = errno;
		RTE_LOG(ERR, USER1,
			"audit log %s: cannot reopen it (SIGHUP): %s; records are counted as lost "
			"(audit_lost) until a SIGHUP reopens it\n",
			dp_cfg.audit_path, strerror(wr.open_errno));
		return;
	}
	wr.open_errno = 0;
	RTE_LOG(INFO, USER1, "audit log %s reopened (SIGHUP)\n", dp_cfg.audit_path);
}

static void
take_summaries(void)
{
	static struct dp_audit_rec q[AUDIT_SUMMARIES];
	unsigned n;

	if (__atomic_load_n(&sum_n, __ATOMIC_ACQUIRE) == 0)
		return;
	pthread_mutex_lock(&sum_lock);
	n = sum_n;
	memcpy(q, sum_q, n * sizeof(q[0]));
	sum_n = 0;
	pthread_mutex_unlock(&sum_lock);
	for (unsigned i = 0; i < n; i++)
		append_json(summary_json(&q[i]));
}

static unsigned
drain(void)
{
	void *recs[AUDIT_DEQ_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(audit_ring, recs, AUDIT_DEQ_BURST, NULL);

	for (unsigned i = 0; i < n; i++)
		append_json(dp_audit_json(recs[i]));
	if (n)
		rte_mempool_put_bulk(audit_pool, recs, n);
	return n;
}

static void *
audit_main(void *arg)
{
	struct timespec idle = {0, 2 * 1000000};

	(void)arg;
	wr.last_flush_ns = tg_monotonic_ns();
	for (;;) {
		/* Read before looking at the ring: when the ring is then found
		 * empty, everything enqueued before these were set is handled. */
		bool stopping = __atomic_load_n(&audit_stop, __ATOMIC_ACQUIRE);
		uint64_t sync = __atomic_load_n(&audit_sync_req, __ATOMIC_ACQUIRE);

		if (__atomic_exchange_n(&audit_reopen_req, 0, __ATOMIC_ACQ_REL))
			reopen();
		take_summaries();
		if (drain() > 0) {
			if (tg_monotonic_ns() - wr.last_flush_ns >= AUDIT_FLUSH_NS)
				flush_batch();
			continue;
		}
		flush_batch();
		__atomic_store_n(&audit_sync_done, sync, __ATOMIC_RELEASE);
		if (stopping)
			break;
		nanosleep(&idle, NULL);
	}
	return NULL;
}

int
dp_audit_start(void)
{
	int rc;

	if (dp_cfg.audit_path == NULL || dp_cfg.audit_level == DP_AUDIT_OFF)
		return 0;
	audit_stdout = strcmp(dp_cfg.audit_path, "-") == 0;
	audit_fd = audit_stdout ? STDOUT_FILENO
				: open(dp_cfg.audit_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
				       0666);
	if (audit_fd < 0) {
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
	__atomic_store_n(&audit_stop, false, __ATOMIC_RELEASE);
	rc = rte_ctrl_thread_create(&audit_thread, "tg-audit", NULL, audit_main, NULL);
	if (rc != 0) {
		RTE_LOG(ERR, USER1, "cannot start the audit writer: %s\n", strerror(-rc));
		rte_ring_free(audit_ring);
		audit_ring = NULL;
		return -1;
	}
	return 0;
}

void
dp_audit_stop(void)
{
	if (audit_ring == NULL)
		return;
	__atomic_store_n(&audit_stop, true, __ATOMIC_RELEASE);
	pthread_join(audit_thread, NULL);
	if (wr.unreported)
		RTE_LOG(ERR, USER1,
			"audit log %s: %" PRIu64 " more record(s) not written since the last report "
			"(%" PRIu64 " lost by the writer in all)\n",
			dp_cfg.audit_path, wr.unreported, dp_audit_lost());
	if (audit_fd >= 0 && !audit_stdout && close(audit_fd) < 0)
		RTE_LOG(ERR, USER1, "audit log %s: close: %s\n", dp_cfg.audit_path,
			strerror(errno));
	audit_fd = -1;
	rte_ring_free(audit_ring);
	rte_mempool_free(audit_pool);
	audit_ring = NULL;
}
