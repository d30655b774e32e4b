/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * publish_stress - is a publish atomic from a reader's point of view?
 *
 *   publish_stress writer DIR N [MAX_SECONDS [PAUSE_US]]
 *                                      publish N synthetic policies through
 *                                      the real ctl_publish() (fewer if
 *                                      MAX_SECONDS pass first), sleeping
 *                                      PAUSE_US after each
 *   publish_stress reader DIR SECONDS [POLICY...]
 *                                      loop tg_snapshot_read() for SECONDS (or
 *                                      until SIGTERM/SIGINT) and check every
 *                                      snapshot is one whole policy
 *   publish_stress check DIR [POLICY...]
 *                                      one snapshot, checked; prints its
 *                                      generation
 *   publish_stress writer-torn DIR N [MAX_SECONDS [PAUSE_US]]
 *                                      the same with a deliberately broken
 *                                      publish (flip, then write the slot
 *                                      unprotected): the reader must fail
 *   publish_stress writer-crash DIR    begin a publish of a large synthetic
 *                                      policy, write half of it, print
 *                                      "half-written", then keep writing
 *                                      slowly until killed (SIGKILL it)
 *
 * A synthetic policy encodes one integer k - the generation it is published
 * as - in every field: counts, names, ids, ports, the database references and
 * every byte of the database blob (whose size varies with k, up to ~32 MiB).
 * A snapshot mixing two publishes, or any field of the wrong generation,
 * therefore fails the check.  Snapshots whose digest is that of one of the
 * POLICY files given to the reader are instead compared byte for byte with
 * that policy as loaded and compiled here (tgctl load loops).
 *
 * The writer prints "published=N seconds=S per_second=R blob_mib=M last_gen=G".
 * The reader prints one summary line:
 *   snapshots=N generations=N torn=N read_errors=N last_gen=G synthetic=N real=N
 * and exits 1 if any snapshot was torn or invalid, 2 on usage/setup errors.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "policy.h"
#include "publish.h"
#include "tg_mapset.h"

#define MIB (1u << 20)

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the synthetic policy for k ---- */

static uint32_t
syn_rules(uint32_t k)
{
	if (k % 5 == 0)
		return TG_MAX_RULES;
	return (k * 97u) % 3000u + 1u;
}

static size_t
syn_hsdb_len(uint32_t k)
{
	if (k % 17 == 0)
		return 0;
	if (k % 10 == 0) /* large: 8 .. 32 MiB */
		return 8u * MIB + ((size_t)k * 40993u) % (24u * MIB);
	return ((size_t)k * 7919u) % MIB + 1;
}

static uint64_t
syn_word(uint32_t k, size_t w)
{
	return ((uint64_t)k * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)w * 0xC2B2AE3D27D4EB4Full) ^
	       ((uint64_t)k << 40);
}

static void
syn_blob_fill(uint32_t k, uint8_t *b, size_t len)
{
	size_t w, nw = len / 8;

	for (w = 0; w < nw; w++) {
		uint64_t v = syn_word(k, w);
		memcpy(b + 8 * w, &v, 8);
	}
	if (len % 8) {
		uint64_t v = syn_word(k, nw);
		memcpy(b + 8 * nw, &v, len % 8);
	}
}

/* Offset of the first byte that differs from k's blob, or len if none. */
static size_t
syn_blob_check(uint32_t k, const uint8_t *b, size_t len)
{
	size_t w, nw = len / 8;

	for (w = 0; w < nw; w++) {
		uint64_t v = syn_word(k, w);
		if (memcmp(b + 8 * w, &v, 8) != 0)
			return 8 * w;
	}
	if (len % 8) {
		uint64_t v = syn_word(k, nw);
		if (memcmp(b + 8 * nw, &v, len % 8) != 0)
			return 8 * nw;
	}
	return len;
}

/* Everything but the blob bytes; p->rules must hold TG_MAX_RULES. */
static void
syn_build(uint32_t k, struct pol_policy *p)
{
	struct tg_slot_hdr *h = &p->hdr;
	struct tg_rule *rules = p->rules;
	size_t len = syn_hsdb_len(k);

	memset(p, 0, sizeof(*p));
	p->rules = rules;
	h->digest[0] = 0x5e; /* real SHA-256 digests will not look like this */
	h->digest[1] = 0x5e;
	for (int i = 2; i < 32; i++)
		h->digest[i] = (uint8_t)(k * 31u + (unsigned)i * 7u);
	memcpy(h->digest + 24, &k, sizeof(k));
	snprintf(h->source, sizeof(h->source), "publish_stress:k=%u", k);
	h->n_links = 1 + k % TG_MAX_LINKS;
	h->n_peers = 1 + (k / 3) % TG_MAX_PEERS;
	h->n_rules = syn_rules(k);
	h->n_groups = k % (TG_MAX_GROUPS + 1);
	h->n_nations = k % (TG_MAX_NATIONS + 1);
	h->n_classes = 1 + k % TG_MAX_CLASSES;
	h->stale_tolerance_s = k; /* the decoder reads k from here */
	h->flags = k & 1;
	h->max_message_bytes = k ^ 0x5a5a5a5au;
	h->max_field_bytes = (uint16_t)~k;
	h->max_remarks_bytes = (uint16_t)(~k >> 16);
	for (int i = 0; i < TG_MAX_NATIONS; i++)
		snprintf(h->nations[i], sizeof(h->nations[i]), "%03u", (k + (unsigned)i) % 1000);
	for (int i = 0; i < TG_MAX_CLASSES; i++)
		snprintf(h->classes[i], sizeof(h->classes[i]), "c%u.%d", k, i);
	for (int i = 0; i < TG_MAX_GROUPS; i++) {
		snprintf(h->groups[i].name, sizeof(h->groups[i].name), "g%u.%d", k, i);
		h->groups[i].mask = (uint64_t)k * 0x100000001ull + (uint64_t)i;
	}
	if (len) {
		uint32_t half = (uint32_t)(len / 2) & ~7u;

		h->hsdb[0].off = 0;
		h->hsdb[0].len = half;
		h->hsdb[1 + k % (TG_SCOPE_COUNT - 1)].off = half;
		h->hsdb[1 + k % (TG_SCOPE_COUNT - 1)].len = (uint32_t)(len - half);
	}
	for (uint32_t i = 0; i < h->n_links; i++) {
		struct tg_link *l = &p->links[i];

		snprintf(l->name, sizeof(l->name), "L%u.%u", k, i);
		snprintf(l->dev, sizeof(l->dev), "net_stress%u_%u", k, i);
		l->n_udp_ports = 1 + k % TG_MAX_LINK_PORTS;
		for (int j = 0; j < TG_MAX_LINK_PORTS; j++)
			l->udp_ports[j] = (uint16_t)(k + (unsigned)j);
		l->has_default_marking = 1;
		l->rate_pps = k;
		l->rate_burst = i;
		l->default_marking.rel_mask = k;
		snprintf(l->default_marking_text, sizeof(l->default_marking_text), "k=%u", k);
	}
	for (uint32_t i = 0; i < h->n_peers; i++) {
		struct tg_peer *q = &p->peers[i];

		snprintf(q->name, sizeof(q->name), "P%u.%u", k, i);
		snprintf(q->dev, sizeof(q->dev), "net_peer%u_%u", k, i);
		snprintf(q->nation, sizeof(q->nation), "%03u", k % 1000);
		q->classes = k;
		q->link_idx = (int16_t)(k & 0x7fff);
		q->mtu = (uint16_t)k;
		q->src_port = (uint16_t)k;
		q->dst_port = (uint16_t)i;
		memcpy(q->src_ip, &k, sizeof(k));
		memcpy(q->dst_ip + 12, &k, sizeof(k));
	}
	for (uint32_t i = 0; i < h->n_rules; i++) {
		struct tg_rule *r = &p->rules[i];

		memset(r, 0, sizeof(*r));
		r->id = k;
		r->line = i;
		r->scope = (uint8_t)(k % TG_SCOPE_COUNT);
		r->flags = k;
		snprintf(r->name, sizeof(r->name), "R%u.%u", k, i);
		snprintf(r->reason, sizeof(r->reason), "k%u", k);
	}
	p->hsdb_len = len;
}

static bool
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* ---- real policies (tgctl load) ---- */

struct real {
	const char *path;
	struct pol_policy *p;
};

static int
real_load(struct real *r, const char *path)
{
	struct pol_errors *errs = calloc(1, sizeof(*errs));

	r->path = path;
	r->p = NULL;
	if (errs == NULL)
		return -1;
	if (pol_load_file(path, &r->p, errs) < 0 || pol_compile(r->p, errs) < 0) {
		pol_errors_print(errs, stderr);
		free(errs);
		return -1;
	}
	free(errs);
	return 0;
}

/* ---- checking a snapshot ---- */

struct checker {
	struct pol_policy exp; /* scratch for the synthetic expectation */
	struct real *reals;
	int n_reals;
	unsigned long synthetic, real;
};

/* Zero what follows the NUL of each class name: policy_parse.c copies class
 * names with whatever its stack held after the NUL (reported), so those bytes
 * differ between two loads of one file. */
static void
hdr_normalise(struct tg_slot_hdr *h)
{
	for (int i = 0; i < TG_MAX_CLASSES; i++) {
		size_t n = strnlen(h->classes[i], TG_NAME_MAX);

		memset(h->classes[i] + n, 0, TG_NAME_MAX - n);
	}
}

static int
check_real(const struct real *r, const struct tg_snapshot *s, char *why, size_t wl)
{
	const struct pol_policy *p = r->p;
	size_t off = offsetof(struct tg_slot_hdr, digest);
	struct tg_slot_hdr a = s->hdr, b = p->hdr;

	hdr_normalise(&a);
	hdr_normalise(&b);
	if (memcmp((const char *)&a + off, (const char *)&b + off, sizeof(a) - off) != 0) {
		const uint8_t *x = (const uint8_t *)&a, *y = (const uint8_t *)&b;
		size_t i = off;

		while (i < sizeof(a) && x[i] == y[i])
			i++;
		snprintf(why, wl, "header differs from %s at byte %zu of %zu", r->path, i,
			 sizeof(a));
		return -1;
	}
	if (memcmp(s->links, p->links, sizeof(struct tg_link) * p->hdr.n_links) != 0 ||
	    !all_zero(&s->links[p->hdr.n_links],
		      sizeof(struct tg_link) * (TG_MAX_LINKS - p->hdr.n_links))) {
		snprintf(why, wl, "links differ from %s", r->path);
		return -1;
	}
	if (memcmp(s->peers, p->peers, sizeof(struct tg_peer) * p->hdr.n_peers) != 0 ||
	    !all_zero(&s->peers[p->hdr.n_peers],
		      sizeof(struct tg_peer) * (TG_MAX_PEERS - p->hdr.n_peers))) {
		snprintf(why, wl, "peers differ from %s", r->path);
		return -1;
	}
	if (memcmp(s->rules, p->rules, sizeof(struct tg_rule) * p->hdr.n_rules) != 0) {
		snprintf(why, wl, "rules differ from %s", r->path);
		return -1;
	}
	if (s->hsdb_len > p->hsdb_len || memcmp(s->hsdb, p->hsdb_blob, s->hsdb_len) != 0) {
		snprintf(why, wl, "compiled rules differ from %s (%zu bytes, expected %zu)",
			 r->path, s->hsdb_len, p->hsdb_len);
		return -1;
	}
	return 0;
}

static int
check_synthetic(struct checker *c, const struct tg_snapshot *s, char *why, size_t wl)
{
	uint32_t k = s->hdr.stale_tolerance_s;
	struct pol_policy *e = &c->exp;
	size_t off = offsetof(struct tg_slot_hdr, digest), bad;

	if (k == 0 || s->generation != k) {
		snprintf(why, wl, "generation %" PRIu64 " carries policy k=%u", s->generation, k);
		return -1;
	}
	syn_build(k, e);
	if (memcmp((const char *)&s->hdr + off, (const char *)&e->hdr + off,
		   sizeof(s->hdr) - off) != 0) {
		snprintf(why, wl, "k=%u: header is not all k's", k);
		return -1;
	}
	if (memcmp(s->links, e->links, sizeof(s->links)) != 0) {
		snprintf(why, wl, "k=%u: links are not all k's", k);
		return -1;
	}
	if (memcmp(s->peers, e->peers, sizeof(s->peers)) != 0) {
		snprintf(why, wl, "k=%u: peers are not all k's", k);
		return -1;
	}
	if (memcmp(s->rules, e->rules, sizeof(struct tg_rule) * e->hdr.n_rules) != 0) {
		for (uint32_t i = 0; i < e->hdr.n_rules; i++)
			if (memcmp(&s->rules[i], &e->rules[i], sizeof(struct tg_rule)) != 0) {
				snprintf(why, wl, "k=%u: rule %u is id %u line %u, not k's", k, i,
					 s->rules[i].id, s->rules[i].line);
				break;
			}
		return -1;
	}
	if (s->hsdb_len != e->hsdb_len) {
		snprintf(why, wl, "k=%u: %zu database bytes, expected %zu", k, s->hsdb_len,
			 e->hsdb_len);
		return -1;
	}
	bad = syn_blob_check(k, s->hsdb, s->hsdb_len);
	if (bad != s->hsdb_len) {
		snprintf(why, wl, "k=%u: database byte %zu of %zu is not k's", k, bad, s->hsdb_len);
		return -1;
	}
	return 0;
}

static int
check_snapshot(struct checker *c, const struct tg_snapshot *s, char *why, size_t wl)
{
	for (int i = 0; i < c->n_reals; i++)
		if (memcmp(s->hdr.digest, c->reals[i].p->hdr.digest, 32) == 0) {
			c->real++;
			return check_real(&c->reals[i], s, why, wl);
		}
	c->synthetic++;
	return check_synthetic(c, s, why, wl);
}

static int
checker_init(struct checker *c, char **policies, int n)
{
	memset(c, 0, sizeof(*c));
	c->exp.rules = calloc(TG_MAX_RULES, sizeof(struct tg_rule));
	c->reals = calloc((size_t)n + 1, sizeof(*c->reals));
	if (c->exp.rules == NULL || c->reals == NULL)
		return -1;
	for (int i = 0; i < n; i++) {
		if (real_load(&c->reals[i], policies[i]) < 0) {
			fprintf(stderr, "publish_stress: %s does not load\n", policies[i]);
			return -1;
		}
		c->n_reals++;
	}
	return 0;
}

static void
checker_free(struct checker *c)
{
	for (int i = 0; i < c->n_reals; i++)
		pol_free(c->reals[i].p);
	free(c->reals);
	free(c->exp.rules);
}

static int
open_dir(struct tg_mapset *ms, const char *dir)
{
	char err[512];

	if (tg_mapset_open(ms, dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "publish_stress: %s\n", err);
		return -1;
	}
	return 0;
}

/* ---- modes ---- */

static uint64_t
next_gen(const struct tg_mapset *ms)
{
	uint64_t g = ms->ctl->generation;

	for (int i = 0; i < TG_SLOTS; i++)
		if (ms->ctl->slot[i].generation > g)
			g = ms->ctl->slot[i].generation;
	return g + 1;
}

/* torn: a deliberately broken publish (flip first, then write the slot with
 * no seqcount) - the negative control that shows the reader catches tears. */
static int
do_writer(const char *dir, long n, double max_s, long pause_us, bool torn)
{
	struct tg_mapset ms;
	struct pol_policy *p = calloc(1, sizeof(*p));
	uint8_t *blob = malloc(TG_HSDB_SLOT_BYTES);
	uint64_t bytes = 0;
	double t0, dt;
	char err[512];

	if (p == NULL || blob == NULL || (p->rules = calloc(TG_MAX_RULES, sizeof(struct tg_rule))) == NULL)
		return 2;
	if (open_dir(&ms, dir) < 0)
		return 2;
	t0 = now_s();
	long i;

	for (i = 0; i < n && !stop && (max_s <= 0 || now_s() - t0 < max_s); i++) {
		uint64_t gen, want;

		if (tg_mapset_lock(&ms, true) < 0) {
			perror("publish_stress: lock");
			return 2;
		}
		want = next_gen(&ms);
		if (want > UINT32_MAX) {
			fprintf(stderr, "publish_stress: generation %" PRIu64 " too large\n", want);
			return 2;
		}
		syn_build((uint32_t)want, p);
		syn_blob_fill((uint32_t)want, blob, p->hsdb_len);
		p->hsdb_blob = blob;
		if (torn) {
			unsigned slot = tg_pub_inactive_slot(&ms);
			struct tg_slot_hdr *sh = &ms.ctl->slot[slot];

			tg_pub_slot_begin(&ms, slot);
			tg_pub_slot_end(&ms, slot, want);
			tg_pub_flip(&ms, slot, want);
			memcpy((char *)sh + 2 * sizeof(uint64_t), (const char *)&p->hdr + 2 * sizeof(uint64_t),
			       sizeof(*sh) - 2 * sizeof(uint64_t));
			/* Hold the tear open (new header, old tables) long enough that
			 * a polling reader sees it every time, not by luck. */
			usleep(5000);
			memcpy(&ms.links[slot * TG_MAX_LINKS], p->links, sizeof(p->links));
			memcpy(&ms.peers[slot * TG_MAX_PEERS], p->peers, sizeof(p->peers));
			memcpy(&ms.rules[(size_t)slot * TG_MAX_RULES], p->rules,
			       sizeof(struct tg_rule) * p->hdr.n_rules);
			memcpy(ms.hsdb + (size_t)slot * TG_HSDB_SLOT_BYTES, p->hsdb_blob, p->hsdb_len);
			gen = want;
		} else {
			gen = ctl_publish(&ms, p, err, sizeof(err));
		}
		tg_mapset_unlock(&ms);
		if (gen != want) {
			fprintf(stderr, "publish_stress: publish %ld: got generation %" PRIu64
					" (expected %" PRIu64 "): %s\n",
				i, gen, want, gen ? "" : err);
			return 1;
		}
		bytes += p->hsdb_len;
		if (pause_us > 0) {
			/* Let readers run: back to back, a writer of 32 MiB policies
			 * can starve a reader on a busy machine (nothing torn, but
			 * nothing read either). */
			struct timespec ts = {pause_us / 1000000, (pause_us % 1000000) * 1000};

			nanosleep(&ts, NULL);
		}
	}
	dt = now_s() - t0;
	printf("published=%ld seconds=%.2f per_second=%.0f blob_mib=%.0f last_gen=%" PRIu64 "\n",
	       i, dt, i / dt, bytes / (double)MIB, ms.ctl->generation);
	tg_mapset_close(&ms);
	free(p->rules);
	free(p);
	free(blob);
	return 0;
}

static int
do_writer_crash(const char *dir)
{
	struct tg_mapset ms;
	struct pol_policy *p = calloc(1, sizeof(*p));
	uint8_t *blob = malloc(TG_HSDB_SLOT_BYTES);
	uint32_t k = 1000000; /* large, so a leak of it is obvious */
	unsigned slot;
	uint8_t *dst;

	if (p == NULL || blob == NULL || (p->rules = calloc(TG_MAX_RULES, sizeof(struct tg_rule))) == NULL)
		return 2;
	if (open_dir(&ms, dir) < 0)
		return 2;
	while (syn_hsdb_len(k) < 16u * MIB)
		k++;
	syn_build(k, p);
	syn_blob_fill(k, blob, p->hsdb_len);
	if (tg_mapset_lock(&ms, true) < 0)
		return 2;
	/* What ctl_publish does, stopped half-way through the blob. */
	slot = tg_pub_inactive_slot(&ms);
	tg_pub_slot_begin(&ms, slot);
	{
		struct tg_slot_hdr *sh = &ms.ctl->slot[slot];

		memcpy((char *)sh + sizeof(sh->seq), (const char *)&p->hdr + sizeof(sh->seq),
		       sizeof(*sh) - sizeof(sh->seq));
	}
	memcpy(&ms.links[slot * TG_MAX_LINKS], p->links, sizeof(p->links));
	memcpy(&ms.peers[slot * TG_MAX_PEERS], p->peers, sizeof(p->peers));
	memcpy(&ms.rules[(size_t)slot * TG_MAX_RULES], p->rules,
	       sizeof(struct tg_rule) * p->hdr.n_rules);
	dst = ms.hsdb + (size_t)slot * TG_HSDB_SLOT_BYTES;
	memcpy(dst, blob, p->hsdb_len / 2);
	printf("half-written slot %u k=%u\n", slot, k);
	fflush(stdout);
	/* Keep writing, slowly, until killed. */
	for (size_t off = p->hsdb_len / 2;; off = p->hsdb_len / 2) {
		for (; off < p->hsdb_len; off += TG_HSDB_CHUNK) {
			size_t n = p->hsdb_len - off < TG_HSDB_CHUNK ? p->hsdb_len - off : TG_HSDB_CHUNK;
			struct timespec ts = {0, 1000000};

			memcpy(dst + off, blob + off, n);
			nanosleep(&ts, NULL);
		}
	}
}

struct reader {
	struct tg_mapset ms;
	struct checker c;
	unsigned long snaps, torn, read_errors, idle;
	uint64_t last;
};

/* One tg_snapshot_read(), checked: 1 got one, 0 nothing new, -1 read error. */
static int
read_one(struct reader *r)
{
	struct tg_snapshot s;
	char err[512], why[512];
	int rc = tg_snapshot_read(&r->ms, r->last, &s, err, sizeof(err));

	if (rc == 0) {
		r->idle++;
		return 0;
	}
	if (rc < 0) {
		if (r->read_errors++ < 5)
			fprintf(stderr, "# reader: read failed: %s\n", err);
		return -1;
	}
	r->snaps++;
	if (s.generation <= r->last) {
		r->torn++;
		fprintf(stderr, "not ok: generation went from %" PRIu64 " to %" PRIu64 "\n", r->last,
			s.generation);
	} else if (check_snapshot(&r->c, &s, why, sizeof(why)) < 0) {
		if (r->torn++ < 10)
			fprintf(stderr, "not ok: torn/invalid snapshot of generation %" PRIu64 ": %s\n",
				s.generation, why);
	}
	r->last = s.generation;
	tg_snapshot_free(&s);
	return 1;
}

static int
do_reader(const char *dir, double secs, char **policies, int n_pol, bool once)
{
	struct reader *r = calloc(1, sizeof(*r));
	double t0;

	if (r == NULL || checker_init(&r->c, policies, n_pol) < 0)
		return 2;
	if (open_dir(&r->ms, dir) < 0)
		return 2;
	t0 = now_s();
	if (once) {
		if (read_one(r) != 1) {
			fprintf(stderr, "publish_stress: no policy could be read in %s\n", dir);
			return 1;
		}
	} else {
		/* Poll like a dataplane's control thread, only much more often. */
		struct timespec idle = {0, 100000};

		while (!stop && now_s() - t0 < secs)
			if (read_one(r) == 0)
				nanosleep(&idle, NULL);
		/* Told to stop (the writers are done): pick up the final publish. */
		read_one(r);
	}
	/* Distinct generations: every accepted snapshot had a new one (known_gen). */
	printf("snapshots=%lu generations=%lu torn=%lu read_errors=%lu last_gen=%" PRIu64
	       " synthetic=%lu real=%lu seconds=%.1f\n",
	       r->snaps, r->snaps, r->torn, r->read_errors, r->last, r->c.synthetic, r->c.real,
	       now_s() - t0);
	tg_mapset_close(&r->ms);
	int rc = r->torn ? 1 : 0;

	checker_free(&r->c);
	free(r);
	return rc;
}

static void
usage(void)
{
	fputs("usage: publish_stress writer DIR N [MAX_SECONDS [PAUSE_US]]\n"
	      "       publish_stress reader DIR SECONDS [POLICY...]\n"
	      "       publish_stress check DIR [POLICY...]\n"
	      "       publish_stress writer-torn DIR N [MAX_SECONDS [PAUSE_US]]\n"
	      "       publish_stress writer-crash DIR\n",
	      stderr);
}

int
main(int argc, char **argv)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (argc >= 4 && argc <= 6 &&
	    (strcmp(argv[1], "writer") == 0 || strcmp(argv[1], "writer-torn") == 0))
		return do_writer(argv[2], strtol(argv[3], NULL, 10),
				 argc >= 5 ? strtod(argv[4], NULL) : 0,
				 argc >= 6 ? strtol(argv[5], NULL, 10) : 0,
				 strcmp(argv[1], "writer-torn") == 0);
	if (argc >= 4 && strcmp(argv[1], "reader") == 0)
		return do_reader(argv[2], strtod(argv[3], NULL), argv + 4, argc - 4, false);
	if (argc >= 3 && strcmp(argv[1], "check") == 0) {
		int rc = do_reader(argv[2], 0, argv + 3, argc - 3, true);
		return rc;
	}
	if (argc == 3 && strcmp(argv[1], "writer-crash") == 0)
		return do_writer_crash(argv[2]);
	usage();
	return 2;
}
