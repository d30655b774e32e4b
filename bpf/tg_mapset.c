/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tg_mapset.c - create/reuse, mmap and seqcount-protect trackgate's pinned maps.
 *
 * Owns the publish protocol described in tg_maps.h: writers bump a slot's
 * seqcount to odd, write, bump to even, then flip the control block; readers
 * copy and re-check.  Nothing else in the tree touches the mappings directly.
 */
#include "tg_mapset.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/magic.h>

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

struct map_def {
	const char *name;
	enum bpf_map_type type;
	uint32_t key_size, value_size, max_entries, flags;
	size_t fd_off;   /* offsetof(struct tg_mapset, X_fd) */
	size_t ptr_off;  /* offsetof(struct tg_mapset, X), or SIZE_MAX if not mmaped */
};

#define NOT_MAPPED SIZE_MAX

static const struct map_def map_defs[] = {
	{TG_MAP_CTL, BPF_MAP_TYPE_ARRAY, 4, sizeof(struct tg_ctl), 1, BPF_F_MMAPABLE,
	 offsetof(struct tg_mapset, ctl_fd), offsetof(struct tg_mapset, ctl)},
	{TG_MAP_LINKS, BPF_MAP_TYPE_ARRAY, 4, sizeof(struct tg_link), TG_SLOTS * TG_MAX_LINKS,
	 BPF_F_MMAPABLE, offsetof(struct tg_mapset, links_fd), offsetof(struct tg_mapset, links)},
	{TG_MAP_PEERS, BPF_MAP_TYPE_ARRAY, 4, sizeof(struct tg_peer), TG_SLOTS * TG_MAX_PEERS,
	 BPF_F_MMAPABLE, offsetof(struct tg_mapset, peers_fd), offsetof(struct tg_mapset, peers)},
	{TG_MAP_RULES, BPF_MAP_TYPE_ARRAY, 4, sizeof(struct tg_rule), TG_SLOTS * TG_MAX_RULES,
	 BPF_F_MMAPABLE, offsetof(struct tg_mapset, rules_fd), offsetof(struct tg_mapset, rules)},
	{TG_MAP_HSDB, BPF_MAP_TYPE_ARRAY, 4, TG_HSDB_CHUNK, TG_SLOTS * TG_HSDB_SLOT_CHUNKS,
	 BPF_F_MMAPABLE, offsetof(struct tg_mapset, hsdb_fd), offsetof(struct tg_mapset, hsdb)},
	{TG_MAP_STATS, BPF_MAP_TYPE_ARRAY, 4, sizeof(struct tg_stats), 1, BPF_F_MMAPABLE,
	 offsetof(struct tg_mapset, stats_fd), offsetof(struct tg_mapset, stats)},
	{TG_MAP_RULE_HITS, BPF_MAP_TYPE_HASH, 4, 8, 2 * TG_MAX_RULES, 0,
	 offsetof(struct tg_mapset, hits_fd), NOT_MAPPED},
};

#define N_MAPS (sizeof(map_defs) / sizeof(map_defs[0]))
_Static_assert(N_MAPS == TG_MAPSET_MAPS, "TG_MAPSET_MAPS is the number of map_defs");

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static size_t
map_bytes(const struct map_def *d)
{
	size_t stride = (d->value_size + 7) & ~(size_t)7;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (stride * d->max_entries + page - 1) & ~(page - 1);
}

static int *
fd_slot(struct tg_mapset *ms, const struct map_def *d)
{
	return (int *)((char *)ms + d->fd_off);
}

static void **
ptr_slot(struct tg_mapset *ms, const struct map_def *d)
{
	return (void **)((char *)ms + d->ptr_off);
}

static int
mkdir_p(const char *dir)
{
	char tmp[TG_PATH_MAX];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, dir, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Reuse a pinned map if its definition matches; refuse if it does not.
 * Its kernel id goes to *id. */
static int
map_check(int fd, const struct map_def *d, const char *path, uint32_t *id, char *err,
	  size_t errlen)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
		seterr(err, errlen, "%s: cannot query map: %s", path, strerror(errno));
		return -1;
	}
	*id = info.id;
	if (info.type != d->type || info.key_size != d->key_size ||
	    info.value_size != d->value_size || info.max_entries != d->max_entries ||
	    info.map_flags != d->flags) {
		seterr(err, errlen,
		       "%s: pinned map has another definition (type %u key %u value %u entries %u "
		       "flags %#x; this build expects %u/%u/%u/%u/%#x): it was made by a different "
		       "trackgate version; stop the dataplane and remove the directory",
		       path, info.type, info.key_size, info.value_size, info.max_entries,
		       info.map_flags, d->type, d->key_size, d->value_size, d->max_entries,
		       d->flags);
		return -1;
	}
	return 0;
}

/* Open map `i` of the set: reuse the pinned one, or (`create`) create and
 * pin it if there is none.  *absent: it is not pinned and was not created. */
static int
map_open_one(struct tg_mapset *ms, size_t i, bool create, bool *absent, char *err,
	     size_t errlen)
{
	const struct map_def *d = &map_defs[i];
	char path[TG_PATH_MAX + 32];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", ms->dir, d->name);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		if (map_check(fd, d, path, &ms->map_id[i], err, errlen) < 0) {
			close(fd);
			return -1;
		}
	} else if ((errno == ENOENT || errno == ENOTDIR) && !create) {
		seterr(err, errlen, "%s is not pinned", path);
		*absent = true;
		return -1;
	} else if (errno == ENOENT) {
		LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = d->flags);

		fd = bpf_map_create(d->type, d->name, d->key_size, d->value_size, d->max_entries,
				    &opts);
		if (fd < 0) {
			seterr(err, errlen, "cannot create map %s (%zu bytes): %s", d->name,
			       map_bytes(d), strerror(errno));
			return -1;
		}
		if (bpf_obj_pin(fd, path) < 0) {
			seterr(err, errlen, "cannot pin %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (chmod(path, 0600) < 0) {
			seterr(err, errlen, "chmod 0600 %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (map_check(fd, d, path, &ms->map_id[i], err, errlen) < 0) {
			close(fd);
			return -1;
		}
	} else {
		seterr(err, errlen, "cannot open pinned map %s: %s", path, strerror(errno));
		return -1;
	}
	*fd_slot(ms, d) = fd;
	if (d->ptr_off != NOT_MAPPED) {
		void *p = mmap(NULL, map_bytes(d), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

		if (p == MAP_FAILED) {
			seterr(err, errlen, "cannot mmap %s: %s", path, strerror(errno));
			return -1;
		}
		*ptr_slot(ms, d) = p;
	}
	return 0;
}

/* An empty set for `dir`: every fd -1, nothing mapped. */
static int
mapset_init(struct tg_mapset *ms, const char *dir, char *err, size_t errlen)
{
	size_t dlen = strlen(dir);

	memset(ms, 0, sizeof(*ms));
	ms->dir_fd = -1;
	for (size_t i = 0; i < N_MAPS; i++)
		*fd_slot(ms, &map_defs[i]) = -1;
	if (dlen >= sizeof(ms->dir)) {
		seterr(err, errlen, "bpffs directory path too long: %s", dir);
		return -1;
	}
	memcpy(ms->dir, dir, dlen + 1);
	return 0;
}

/* The control block of a set just opened: of this ABI? */
static int
ctl_check_abi(const struct tg_mapset *ms, char *err, size_t errlen)
{
	if (ms->ctl->magic != TG_MAPS_MAGIC || ms->ctl->abi != TG_MAPS_ABI) {
		seterr(err, errlen,
		       "%s holds maps of another trackgate version (magic %#x abi %u, expected "
		       "abi %u); stop the dataplane and remove the directory",
		       ms->dir, ms->ctl->magic, ms->ctl->abi, TG_MAPS_ABI);
		return -1;
	}
	return 0;
}

int
tg_mapset_open(struct tg_mapset *ms, const char *dir, char *err, size_t errlen)
{
	struct statfs sfs;
	bool absent = false;
	int rc;

	if (mapset_init(ms, dir, err, errlen) < 0)
		return -1;

	rc = mkdir_p(dir);
	if (rc < 0) {
		seterr(err, errlen, "cannot create %s: %s", dir, strerror(-rc));
		return -1;
	}
	if (statfs(dir, &sfs) < 0 || sfs.f_type != BPF_FS_MAGIC) {
		seterr(err, errlen,
		       "%s is not on a bpf filesystem (mount one: mount -t bpf bpf /sys/fs/bpf)",
		       dir);
		return -1;
	}
	ms->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ms->dir_fd < 0) {
		seterr(err, errlen, "cannot open %s: %s", dir, strerror(errno));
		return -1;
	}

	/* Creation must not race another tgctl or dataplane creating the same set. */
	if (tg_mapset_lock(ms, true) < 0) {
		seterr(err, errlen, "cannot lock %s: %s", dir, strerror(errno));
		goto fail;
	}
	for (size_t i = 0; i < N_MAPS; i++) {
		if (map_open_one(ms, i, true, &absent, err, errlen) < 0) {
			tg_mapset_unlock(ms);
			goto fail;
		}
	}
	if (ms->ctl->magic == 0) {
		ms->ctl->abi = TG_MAPS_ABI;
		__atomic_store_n(&ms->ctl->magic, TG_MAPS_MAGIC, __ATOMIC_RELEASE);
	} else if (ctl_check_abi(ms, err, errlen) < 0) {
		tg_mapset_unlock(ms);
		goto fail;
	}
	tg_mapset_unlock(ms);
	return 0;
fail:
	tg_mapset_close(ms);
	return -1;
}

int
tg_mapset_attach(struct tg_mapset *ms, const char *dir, bool *absent, char *err,
		 size_t errlen)
{
	*absent = false;
	if (mapset_init(ms, dir, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < N_MAPS; i++)
		if (map_open_one(ms, i, false, absent, err, errlen) < 0)
			goto fail;
	/* tg_mapset_open sets the magic last, under the directory lock. */
	if (__atomic_load_n(&ms->ctl->magic, __ATOMIC_ACQUIRE) == 0) {
		seterr(err, errlen, "%s/%s is not initialised yet", dir, TG_MAP_CTL);
		*absent = true;
		goto fail;
	}
	if (ctl_check_abi(ms, err, errlen) < 0)
		goto fail;
	return 0;
fail:
	tg_mapset_close(ms);
	return -1;
}

void
tg_mapset_drop_dir(struct tg_mapset *ms)
{
	if (ms->dir_fd >= 0)
		close(ms->dir_fd);
	ms->dir_fd = -1;
}

enum tg_pins
tg_mapset_pins(const struct tg_mapset *ms, char *what, size_t whatlen)
{
	enum tg_pins st = TG_PINS_SAME;

	for (size_t i = 0; i < N_MAPS && st != TG_PINS_REPLACED; i++) {
		char path[TG_PATH_MAX + 32];
		struct bpf_map_info info;
		uint32_t len = sizeof(info);
		int fd, rc;

		snprintf(path, sizeof(path), "%s/%s", ms->dir, map_defs[i].name);
		fd = bpf_obj_get(path);
		if (fd < 0) {
			if (st == TG_PINS_SAME)
				seterr(what, whatlen, "%s: %s", path, strerror(errno));
			st = TG_PINS_ABSENT;
			continue;
		}
		memset(&info, 0, sizeof(info));
		rc = bpf_obj_get_info_by_fd(fd, &info, &len);
		if (rc < 0)
			seterr(what, whatlen, "%s: cannot query it: %s", path, strerror(errno));
		else if (info.id != ms->map_id[i])
			seterr(what, whatlen, "%s is map id %u, trackgate holds map id %u", path,
			       info.id, ms->map_id[i]);
		if (rc < 0 || info.id != ms->map_id[i])
			st = TG_PINS_REPLACED;
		close(fd);
	}
	return st;
}

void
tg_mapset_close(struct tg_mapset *ms)
{
	for (size_t i = 0; i < N_MAPS; i++) {
		const struct map_def *d = &map_defs[i];
		int *fd = fd_slot(ms, d);

		if (d->ptr_off != NOT_MAPPED && *ptr_slot(ms, d) != NULL) {
			munmap(*ptr_slot(ms, d), map_bytes(d));
			*ptr_slot(ms, d) = NULL;
		}
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
	if (ms->dir_fd >= 0)
		close(ms->dir_fd);
	ms->dir_fd = -1;
}

int
tg_mapset_lock(struct tg_mapset *ms, bool wait)
{
	int rc;

	do {
		rc = flock(ms->dir_fd, LOCK_EX | (wait ? 0 : LOCK_NB));
	} while (rc < 0 && errno == EINTR);
	return rc;
}

void
tg_mapset_unlock(struct tg_mapset *ms)
{
	flock(ms->dir_fd, LOCK_UN);
}

/* ---- seqcount primitives ---- */

static void
seq_write_begin(uint64_t *seq)
{
	uint64_t s = __atomic_load_n(seq, __ATOMIC_RELAXED);

	/* Never leave a writer's odd count behind: a crashed tgctl leaves the slot
	 * odd, and the next writer must still produce an odd value here. */
	__atomic_store_n(seq, (s | 1) == s ? s + 2 : s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void
seq_write_end(uint64_t *seq)
{
	uint64_t s = __atomic_load_n(seq, __ATOMIC_RELAXED);

	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(seq, s + 1, __ATOMIC_RELAXED);
}

static uint64_t
seq_read_begin(const uint64_t *seq)
{
	return __atomic_load_n(seq, __ATOMIC_ACQUIRE);
}

static bool
seq_read_retry(const uint64_t *seq, uint64_t start)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return (start & 1) || __atomic_load_n(seq, __ATOMIC_RELAXED) != start;
}

/* ---- writer ---- */

unsigned
tg_pub_inactive_slot(const struct tg_mapset *ms)
{
	struct tg_ctl_view v;

	if (!tg_ctl_read(ms, &v))
		return 0;
	return v.active_slot ^ 1;
}

void
tg_pub_slot_begin(struct tg_mapset *ms, unsigned slot)
{
	seq_write_begin(&ms->ctl->slot[slot].seq);
}

void
tg_pub_slot_end(struct tg_mapset *ms, unsigned slot, uint64_t gen)
{
	ms->ctl->slot[slot].generation = gen;
	seq_write_end(&ms->ctl->slot[slot].seq);
}

void
tg_pub_flip(struct tg_mapset *ms, unsigned slot, uint64_t gen)
{
	seq_write_begin(&ms->ctl->seq);
	ms->ctl->active_slot = slot;
	ms->ctl->generation = gen;
	seq_write_end(&ms->ctl->seq);
}

/* ---- reader ---- */

bool
tg_ctl_read(const struct tg_mapset *ms, struct tg_ctl_view *v)
{
	for (;;) {
		uint64_t s = seq_read_begin(&ms->ctl->seq);

		v->generation = ms->ctl->generation;
		v->active_slot = ms->ctl->active_slot & 1;
		if (!seq_read_retry(&ms->ctl->seq, s))
			break;
		sched_yield();
	}
	return v->generation != 0;
}

void
tg_snapshot_free(struct tg_snapshot *snap)
{
	free(snap->rules);
	free(snap->hsdb);
	snap->rules = NULL;
	snap->hsdb = NULL;
}

static int
snapshot_validate(const struct tg_snapshot *s, char *err, size_t errlen)
{
	const struct tg_slot_hdr *h = &s->hdr;

	if (h->n_links > TG_MAX_LINKS || h->n_peers > TG_MAX_PEERS ||
	    h->n_rules > TG_MAX_RULES || h->n_groups > TG_MAX_GROUPS ||
	    h->n_nations > TG_MAX_NATIONS || h->n_classes > TG_MAX_CLASSES) {
		seterr(err, errlen, "published policy has out-of-range table counts");
		return -1;
	}
	for (int i = 0; i < TG_HSDB_REFS; i++) {
		if ((uint64_t)h->hsdb[i].off + h->hsdb[i].len > TG_HSDB_SLOT_BYTES ||
		    (h->hsdb[i].off & 7)) {
			seterr(err, errlen, "published policy has a bad database reference");
			return -1;
		}
	}
	return 0;
}

static size_t
hsdb_end(const struct tg_slot_hdr *h)
{
	size_t end = 0;

	for (int i = 0; i < TG_HSDB_REFS; i++) {
		size_t e = (size_t)h->hsdb[i].off + h->hsdb[i].len;

		if (h->hsdb[i].len && e > end)
			end = e;
	}
	return end;
}

/* Room for what the header says, grown when a newer header says more. */
static int
snapshot_reserve(struct tg_snapshot *snap, size_t *rules_cap, size_t *hsdb_cap, size_t n_rules,
		 size_t hsdb_len)
{
	if (n_rules > *rules_cap || snap->rules == NULL) {
		void *p = realloc(snap->rules, sizeof(struct tg_rule) * (n_rules ? n_rules : 1));

		if (p == NULL)
			return -1;
		snap->rules = p;
		*rules_cap = n_rules;
	}
	if (hsdb_len > *hsdb_cap || snap->hsdb == NULL) {
		void *p = aligned_alloc(8, hsdb_len ? (hsdb_len + 7) & ~(size_t)7 : 8);

		if (p == NULL)
			return -1;
		free(snap->hsdb);
		snap->hsdb = p;
		*hsdb_cap = hsdb_len;
	}
	return 0;
}

/* One attempt at copying `slot` into buffers of the given capacity;
 * 1 ok, 0 torn or too small (retry), -1 error. */
static int
snapshot_try(const struct tg_mapset *ms, unsigned slot, struct tg_snapshot *snap,
	     size_t rules_cap, size_t hsdb_cap, char *err, size_t errlen)
{
	const struct tg_slot_hdr *sh = &ms->ctl->slot[slot];
	uint64_t s = seq_read_begin(&sh->seq);
	size_t end;

	if (s & 1)
		return 0;
	memcpy(&snap->hdr, sh, sizeof(snap->hdr));
	snap->generation = snap->hdr.generation;
	if (snapshot_validate(snap, err, errlen) < 0)
		return seq_read_retry(&sh->seq, s) ? 0 : -1;
	end = hsdb_end(&snap->hdr);
	if (snap->hdr.n_rules > rules_cap || end > hsdb_cap)
		return 0; /* a newer policy than the buffers were sized for */
	memcpy(snap->links, &ms->links[slot * TG_MAX_LINKS], sizeof(snap->links));
	memcpy(snap->peers, &ms->peers[slot * TG_MAX_PEERS], sizeof(snap->peers));
	memcpy(snap->rules, &ms->rules[(size_t)slot * TG_MAX_RULES],
	       snap->hdr.n_rules * sizeof(struct tg_rule));
	memcpy(snap->hsdb, ms->hsdb + (size_t)slot * TG_HSDB_SLOT_BYTES, end);
	snap->hsdb_len = end;
	return seq_read_retry(&sh->seq, s) ? 0 : 1;
}

int
tg_snapshot_read_slot(const struct tg_mapset *ms, unsigned slot, struct tg_snapshot *snap,
		      char *err, size_t errlen)
{
	const struct tg_slot_hdr *sh;
	size_t rules_cap = 0, hsdb_cap = 0;
	uint64_t odd_seq = 0;
	unsigned odd_same = 0;

	memset(snap, 0, sizeof(*snap));
	if (slot >= TG_SLOTS) {
		seterr(err, errlen, "no slot %u", slot);
		return -1;
	}
	sh = &ms->ctl->slot[slot];
	for (int attempt = 0; attempt < 10000; attempt++) {
		uint64_t seq = __atomic_load_n(&sh->seq, __ATOMIC_ACQUIRE);
		struct timespec ts = {0, 200000};
		int rc;

		if (seq & 1) {
			/* Being written, or abandoned by a writer that died: a live
			 * writer finishes in milliseconds; a dead one never does. */
			if (seq == odd_seq && ++odd_same > 50) {
				seterr(err, errlen,
					 "policy slot %u is incomplete (a tgctl died while writing it)",
					 slot);
				tg_snapshot_free(snap);
				return -1;
			}
			odd_seq = seq;
			nanosleep(&ts, NULL);
			continue;
		}
		/* Size the copy from the header as it reads now (clamped); the
		 * consistent copy below re-checks it. */
		size_t n_rules = sh->n_rules < TG_MAX_RULES ? sh->n_rules : TG_MAX_RULES;
		size_t end = hsdb_end(sh);

		if (end > TG_HSDB_SLOT_BYTES)
			end = TG_HSDB_SLOT_BYTES;
		if (snapshot_reserve(snap, &rules_cap, &hsdb_cap, n_rules, end) < 0) {
			seterr(err, errlen, "out of memory copying the policy");
			tg_snapshot_free(snap);
			return -1;
		}
		rc = snapshot_try(ms, slot, snap, rules_cap, hsdb_cap, err, errlen);
		if (rc == 1 && snap->generation != 0)
			return 1;
		if (rc == 1) {
			tg_snapshot_free(snap); /* never published: nothing to hand back */
			return 0;
		}
		if (rc < 0) {
			tg_snapshot_free(snap);
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	seterr(err, errlen, "policy slot %u kept changing while being read", slot);
	tg_snapshot_free(snap);
	return -1;
}

int
tg_snapshot_read(const struct tg_mapset *ms, uint64_t known_gen, struct tg_snapshot *snap,
		 char *err, size_t errlen)
{
	for (int attempt = 0; attempt < 100; attempt++) {
		struct tg_ctl_view v;
		int rc;

		memset(snap, 0, sizeof(*snap));
		if (!tg_ctl_read(ms, &v) || v.generation == known_gen)
			return 0;
		rc = tg_snapshot_read_slot(ms, v.active_slot, snap, err, errlen);
		if (rc < 0)
			return -1;
		/* The slot must be the one the control block named for that
		 * generation; otherwise a flip and a rewrite happened meanwhile. */
		if (rc == 1 && snap->generation == v.generation)
			return 1;
		tg_snapshot_free(snap);
	}
	seterr(err, errlen, "policy kept changing while being read");
	return -1;
}

/* ---- the dataplane's acknowledgement ---- */

void
tg_ack_write(struct tg_mapset *ms, const struct tg_ack *src)
{
	struct tg_ack *a = &ms->ctl->ack;

	seq_write_begin(&a->seq);
	memcpy((char *)a + sizeof(a->seq), (const char *)src + sizeof(src->seq),
	       sizeof(*a) - sizeof(a->seq));
	seq_write_end(&a->seq);
}

bool
tg_ack_read(const struct tg_mapset *ms, struct tg_ack *dst)
{
	const struct tg_ack *a = &ms->ctl->ack;

	for (int attempt = 0; attempt < 10000; attempt++) {
		uint64_t s = seq_read_begin(&a->seq);

		memcpy(dst, a, sizeof(*dst));
		if (!seq_read_retry(&a->seq, s))
			return true;
		sched_yield();
	}
	return false;
}

/* ---- stats ---- */

void
tg_stats_write(struct tg_mapset *ms, const struct tg_stats *src)
{
	seq_write_begin(&ms->stats->seq);
	memcpy((char *)ms->stats + sizeof(uint64_t), (const char *)src + sizeof(uint64_t),
	       sizeof(*src) - sizeof(uint64_t));
	seq_write_end(&ms->stats->seq);
}

bool
tg_stats_read(const struct tg_mapset *ms, struct tg_stats *dst)
{
	for (int attempt = 0; attempt < 10000; attempt++) {
		uint64_t s = seq_read_begin(&ms->stats->seq);

		memcpy(dst, ms->stats, sizeof(*dst));
		if (!seq_read_retry(&ms->stats->seq, s))
			return true;
		sched_yield();
	}
	return false;
}

int
tg_rule_hits_add(struct tg_mapset *ms, uint32_t rule_id, uint64_t delta)
{
	uint64_t v = 0;

	if (bpf_map_lookup_elem(ms->hits_fd, &rule_id, &v) < 0 && errno != ENOENT)
		return -1;
	v += delta;
	return bpf_map_update_elem(ms->hits_fd, &rule_id, &v, BPF_ANY);
}
