/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tg_mapset.c - trackgate's pinned maps: the one pinned-map layer (tg_pin_*:
 * the bpffs checks, create/reuse/refuse by a spec table, pins 0600, undo on
 * failure), used for the policy maps here and the XDP pre-filter's maps in
 * ctrl/xdp_publish.c; and the policy maps' mmap and seqcount protocol.
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
#include <stddef.h>
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

/* ---- the generic pinned-map layer ---- */

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

static int
pin_path(char *out, size_t outlen, const char *dir, const char *name, char *err, size_t errlen)
{
	int n = snprintf(out, outlen, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= outlen) {
		seterr(err, errlen, "%s/%s: path too long", dir, name);
		return -ENAMETOOLONG;
	}
	return 0;
}

bool
tg_pin_is_bpffs(const char *path)
{
	struct statfs sfs;

	return statfs(path, &sfs) == 0 && (unsigned long)sfs.f_type == BPF_FS_MAGIC;
}

int
tg_pin_check_bpffs(const char *dir, char *err, size_t errlen)
{
	char anc[TG_PATH_MAX];
	struct stat st;
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(anc)) {
		seterr(err, errlen, "bpffs directory path too long or empty: '%s'", dir);
		return -ENAMETOOLONG;
	}
	/* The nearest existing ancestor decides where a new directory would go. */
	memcpy(anc, dir, len + 1);
	while (stat(anc, &st) < 0) {
		char *slash = strrchr(anc, '/');

		if (errno != ENOENT || strcmp(anc, ".") == 0) {
			int rc = -errno;

			seterr(err, errlen, "%s: %s", anc, strerror(-rc));
			return rc;
		}
		if (slash == NULL) /* relative: the working directory */
			snprintf(anc, sizeof(anc), ".");
		else if (slash == anc)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	if (!tg_pin_is_bpffs(anc)) {
		seterr(err, errlen,
		       "%s is not on a bpf filesystem (mount one: mount -t bpf bpf /sys/fs/bpf)",
		       dir);
		return -ENOTDIR;
	}
	return 0;
}

int
tg_pin_make_dir(const char *dir, char *err, size_t errlen)
{
	char tmp[TG_PATH_MAX];
	size_t len = strlen(dir);
	/* What it creates is on the bpffs the nearest existing ancestor is on. */
	int rc = tg_pin_check_bpffs(dir, err, errlen);

	if (rc < 0)
		return rc;
	memcpy(tmp, dir, len + 1);
	for (char *p = tmp + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST) {
			rc = -errno;
			seterr(err, errlen, "cannot create %s: %s", tmp, strerror(-rc));
			return rc;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	return 0;
}

static size_t
spec_bytes(const struct tg_pin_spec *s)
{
	size_t stride = (s->value_size + 7) & ~(size_t)7;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (stride * s->max_entries + page - 1) & ~(page - 1);
}

int
tg_pin_map_id(int fd, uint32_t *id)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return -errno;
	*id = info.id;
	return 0;
}

int
tg_pin_check(int fd, const struct tg_pin_spec *s, const char *path, uint32_t *id, char *err,
	     size_t errlen)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info), have = 0, want = 0;
	const char *what = NULL;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
		int rc = -errno;

		seterr(err, errlen, "%s: cannot query map: %s", path, strerror(-rc));
		return rc;
	}
	if (id != NULL)
		*id = info.id;
	if (info.type != s->type)
		what = "type", have = info.type, want = s->type;
	else if (info.key_size != s->key_size)
		what = "key size", have = info.key_size, want = s->key_size;
	else if (info.value_size != s->value_size)
		what = "value size", have = info.value_size, want = s->value_size;
	else if (info.max_entries != s->max_entries)
		what = "max_entries", have = info.max_entries, want = s->max_entries;
	else if (info.map_flags != s->flags)
		what = "flags", have = info.map_flags, want = s->flags;
	if (what == NULL)
		return 0;
	seterr(err, errlen,
	       strcmp(what, "flags") == 0
		       ? "%s: pinned map has another definition (%s %#x, this build expects %#x): "
			 "it was made by a different trackgate version; stop trackgate and remove "
			 "it, with the rest of its directory and any symlinks to it"
		       : "%s: pinned map has another definition (%s %u, this build expects %u): "
			 "it was made by a different trackgate version; stop trackgate and remove "
			 "it, with the rest of its directory and any symlinks to it",
	       path, what, have, want);
	return -EEXIST;
}

/* Pin fd at path, readable by root only. */
static int
pin_private(int fd, const char *path, char *err, size_t errlen)
{
	int rc;

	if (bpf_obj_pin(fd, path) < 0) {
		rc = -errno;
		seterr(err, errlen, "cannot pin %s: %s", path, strerror(-rc));
		return rc;
	}
	if (chmod(path, 0600) < 0) {
		rc = -errno;
		seterr(err, errlen, "chmod 0600 %s: %s", path, strerror(-rc));
		unlink(path);
		return rc;
	}
	return 0;
}

int
tg_pin_open(const char *dir, const struct tg_pin_spec *s, const char *adopt_dir, bool create,
	    uint32_t *id, bool *pinned, char *err, size_t errlen)
{
	char path[TG_PATH_MAX + 32], apath[TG_PATH_MAX + 32];
	struct stat st;
	int fd, rc;

	*pinned = false;
	rc = pin_path(path, sizeof(path), dir, s->name, err, errlen);
	if (rc < 0)
		return rc;
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		rc = tg_pin_check(fd, s, path, id, err, errlen);
		if (rc < 0) {
			close(fd);
			return rc;
		}
		return fd;
	}
	if ((errno == ENOENT || errno == ENOTDIR) && !create) {
		seterr(err, errlen, "%s is not pinned", path);
		return -ENOENT;
	}
	if (errno != ENOENT) {
		rc = -errno;
		seterr(err, errlen, "cannot open pinned map %s: %s", path, strerror(-rc));
		return rc;
	}
	if (adopt_dir != NULL) {
		rc = pin_path(apath, sizeof(apath), adopt_dir, s->name, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (adopt_dir != NULL && lstat(apath, &st) == 0 && !S_ISLNK(st.st_mode)) {
		/* Pinned there by another loader first (libbpf's pin root): take it. */
		fd = bpf_obj_get(apath);
		if (fd < 0) {
			rc = -errno;
			seterr(err, errlen, "cannot open pinned map %s: %s", apath, strerror(-rc));
			return rc;
		}
		rc = tg_pin_check(fd, s, apath, id, err, errlen);
	} else {
		LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = s->flags);

		fd = bpf_map_create(s->type, s->name, s->key_size, s->value_size, s->max_entries,
				    &opts);
		if (fd < 0) {
			rc = -errno;
			seterr(err, errlen, "cannot create map %s (%zu bytes): %s", s->name,
			       spec_bytes(s), strerror(-rc));
			return rc;
		}
		rc = tg_pin_check(fd, s, path, id, err, errlen);
	}
	if (rc == 0)
		rc = pin_private(fd, path, err, errlen);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	*pinned = true;
	return fd;
}

void
tg_pin_unpin(const char *dir, const struct tg_pin_spec *s)
{
	char path[TG_PATH_MAX + 32];

	if (pin_path(path, sizeof(path), dir, s->name, NULL, 0) == 0)
		unlink(path);
}

int
tg_pin_open_set(const char *dir, const struct tg_pin_spec *specs, size_t n,
		const char *adopt_dir, bool create, int fds[], uint32_t ids[], bool pinned[],
		char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++)
		fds[i] = -1;
	for (size_t i = 0; i < n; i++) {
		int fd = tg_pin_open(dir, &specs[i], adopt_dir, create, &ids[i], &pinned[i], err,
				     errlen);

		if (fd < 0) {
			tg_pin_close_set(dir, specs, i, fds, pinned);
			return fd;
		}
		fds[i] = fd;
	}
	return 0;
}

void
tg_pin_close_set(const char *dir, const struct tg_pin_spec *specs, size_t n, int fds[],
		 const bool unpin[])
{
	for (size_t i = 0; i < n; i++) {
		if (unpin != NULL && unpin[i])
			tg_pin_unpin(dir, &specs[i]);
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/* ---- trackgate's policy maps (tg_maps.h) ---- */

/* Where each map of the set lives in struct tg_mapset. */
struct map_slot {
	size_t fd_off;  /* offsetof(struct tg_mapset, X_fd) */
	size_t ptr_off; /* offsetof(struct tg_mapset, X), or NOT_MAPPED */
};

#define NOT_MAPPED SIZE_MAX

static const struct tg_pin_spec map_defs[] = {
	{TG_MAP_CTL, BPF_MAP_TYPE_ARRAY, 4, sizeof(struct tg_ctl), 1, BPF_F_MMAPABLE},
	{TG_MAP_LINKS, BPF_MAP_TYPE_ARRAY, 4, sizeof(struct tg_link), TG_SLOTS * TG_MAX_LINKS,
	 BPF_F_MMAPABLE},
	{TG_MAP_PEERS, BPF_MAP_TYPE_ARRAY, 4, sizeof(struct tg_peer), TG_SLOTS * TG_MAX_PEERS,
	 BPF_F_MMAPABLE},
	{TG_MAP_RULES, BPF_MAP_TYPE_ARRAY, 4, sizeof(struct tg_rule), TG_SLOTS * TG_MAX_RULES,
	 BPF_F_MMAPABLE},
	{TG_MAP_HSDB, BPF_MAP_TYPE_ARRAY, 4, TG_HSDB_CHUNK, TG_SLOTS * TG_HSDB_SLOT_CHUNKS,
	 BPF_F_MMAPABLE},
	{TG_MAP_STATS, BPF_MAP_TYPE_ARRAY, 4, sizeof(struct tg_stats), 1, BPF_F_MMAPABLE},
	{TG_MAP_RULE_HITS, BPF_MAP_TYPE_HASH, 4, 8, 2 * TG_MAX_RULES, 0},
};

static const struct map_slot map_slots[] = {
	{offsetof(struct tg_mapset, ctl_fd), offsetof(struct tg_mapset, ctl)},
	{offsetof(struct tg_mapset, links_fd), offsetof(struct tg_mapset, links)},
	{offsetof(struct tg_mapset, peers_fd), offsetof(struct tg_mapset, peers)},
	{offsetof(struct tg_mapset, rules_fd), offsetof(struct tg_mapset, rules)},
	{offsetof(struct tg_mapset, hsdb_fd), offsetof(struct tg_mapset, hsdb)},
	{offsetof(struct tg_mapset, stats_fd), offsetof(struct tg_mapset, stats)},
	{offsetof(struct tg_mapset, hits_fd), NOT_MAPPED},
};

#define N_MAPS (sizeof(map_defs) / sizeof(map_defs[0]))
_Static_assert(N_MAPS == TG_MAPSET_MAPS, "TG_MAPSET_MAPS is the number of map_defs");
_Static_assert(N_MAPS == sizeof(map_slots) / sizeof(map_slots[0]), "a slot per map_def");

static int *
fd_slot(struct tg_mapset *ms, size_t i)
{
	return (int *)((char *)ms + map_slots[i].fd_off);
}

static void **
ptr_slot(struct tg_mapset *ms, size_t i)
{
	return (void **)((char *)ms + map_slots[i].ptr_off);
}

/* Open every map of the set (creating the missing ones if `create`) and mmap
 * the arrays.  On failure nothing stays open, and what this call pinned is
 * unpinned again. */
static int
mapset_open_maps(struct tg_mapset *ms, bool create, char *err, size_t errlen)
{
	int fds[N_MAPS];
	bool pinned[N_MAPS];
	int rc = tg_pin_open_set(ms->dir, map_defs, N_MAPS, NULL, create, fds, ms->map_id,
				 pinned, err, errlen);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < N_MAPS; i++)
		*fd_slot(ms, i) = fds[i];
	for (size_t i = 0; i < N_MAPS; i++) {
		void *p;

		if (map_slots[i].ptr_off == NOT_MAPPED)
			continue;
		p = mmap(NULL, spec_bytes(&map_defs[i]), PROT_READ | PROT_WRITE, MAP_SHARED,
			 fds[i], 0);
		if (p == MAP_FAILED) {
			rc = -errno;
			seterr(err, errlen, "cannot mmap %s/%s: %s", ms->dir, map_defs[i].name,
			       strerror(-rc));
			for (size_t j = 0; j < N_MAPS; j++)
				if (pinned[j])
					tg_pin_unpin(ms->dir, &map_defs[j]);
			tg_mapset_close(ms);
			return rc;
		}
		*ptr_slot(ms, i) = p;
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
		*fd_slot(ms, i) = -1;
	if (dlen >= sizeof(ms->dir)) {
		seterr(err, errlen, "bpffs directory path too long: %s", dir);
		return -ENAMETOOLONG;
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
		return -EPROTO;
	}
	return 0;
}

int
tg_mapset_open(struct tg_mapset *ms, const char *dir, char *err, size_t errlen)
{
	int rc = mapset_init(ms, dir, err, errlen);

	if (rc < 0)
		return rc;
	rc = tg_pin_make_dir(dir, err, errlen);
	if (rc < 0)
		return rc;
	ms->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ms->dir_fd < 0) {
		rc = -errno;
		seterr(err, errlen, "cannot open %s: %s", dir, strerror(-rc));
		return rc;
	}

	/* Creation must not race another tgctl or dataplane creating the same set. */
	if (tg_mapset_lock(ms, true) < 0) {
		rc = -errno;
		seterr(err, errlen, "cannot lock %s: %s", dir, strerror(-rc));
		goto fail;
	}
	rc = mapset_open_maps(ms, true, err, errlen);
	if (rc == 0 && ms->ctl->magic == 0) {
		ms->ctl->abi = TG_MAPS_ABI;
		__atomic_store_n(&ms->ctl->magic, TG_MAPS_MAGIC, __ATOMIC_RELEASE);
	} else if (rc == 0) {
		rc = ctl_check_abi(ms, err, errlen);
	}
	tg_mapset_unlock(ms);
	if (rc == 0)
		return 0;
fail:
	tg_mapset_close(ms);
	return rc;
}

int
tg_mapset_attach(struct tg_mapset *ms, const char *dir, bool *absent, char *err,
		 size_t errlen)
{
	int rc;

	*absent = false;
	rc = mapset_init(ms, dir, err, errlen);
	if (rc < 0)
		return rc;
	rc = mapset_open_maps(ms, false, err, errlen);
	if (rc < 0) {
		*absent = rc == -ENOENT;
		return rc;
	}
	/* tg_mapset_open sets the magic last, under the directory lock. */
	if (__atomic_load_n(&ms->ctl->magic, __ATOMIC_ACQUIRE) == 0) {
		seterr(err, errlen, "%s/%s is not initialised yet", dir, TG_MAP_CTL);
		*absent = true;
		rc = -ENOENT;
	} else {
		rc = ctl_check_abi(ms, err, errlen);
	}
	if (rc < 0)
		tg_mapset_close(ms);
	return rc;
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
		uint32_t id = 0;
		int fd, rc;

		snprintf(path, sizeof(path), "%s/%s", ms->dir, map_defs[i].name);
		fd = bpf_obj_get(path);
		if (fd < 0) {
			if (st == TG_PINS_SAME)
				seterr(what, whatlen, "%s: %s", path, strerror(errno));
			st = TG_PINS_ABSENT;
			continue;
		}
		rc = tg_pin_map_id(fd, &id);
		if (rc < 0)
			seterr(what, whatlen, "%s: cannot query it: %s", path, strerror(-rc));
		else if (id != ms->map_id[i])
			seterr(what, whatlen, "%s is map id %u, trackgate holds map id %u", path, id,
			       ms->map_id[i]);
		if (rc < 0 || id != ms->map_id[i])
			st = TG_PINS_REPLACED;
		close(fd);
	}
	return st;
}

void
tg_mapset_close(struct tg_mapset *ms)
{
	for (size_t i = 0; i < N_MAPS; i++) {
		int *fd = fd_slot(ms, i);

		if (map_slots[i].ptr_off != NOT_MAPPED && *ptr_slot(ms, i) != NULL) {
			munmap(*ptr_slot(ms, i), spec_bytes(&map_defs[i]));
			*ptr_slot(ms, i) = NULL;
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

static uint64_t
next_generation(const struct tg_mapset *ms)
{
	struct tg_ctl_view v;
	uint64_t g = tg_ctl_read(ms, &v) ? v.generation : 0;

	/* A slot written by a tgctl that died before its flip counts too. */
	for (int i = 0; i < TG_SLOTS; i++) {
		uint64_t sg = __atomic_load_n(&ms->ctl->slot[i].generation, __ATOMIC_RELAXED);

		if (sg > g)
			g = sg;
	}
	return g + 1;
}

int
tg_pub_check(const struct tg_pub_policy *p, char *err, size_t errlen)
{
	const struct tg_slot_hdr *h = p->hdr;

	if (p->hsdb_len > TG_HSDB_SLOT_BYTES) {
		seterr(err, errlen, "compiled rules take %zu bytes; the map holds %u per policy",
		       p->hsdb_len, TG_HSDB_SLOT_BYTES);
		return -E2BIG;
	}
	if (h->n_rules > TG_MAX_RULES || h->n_links > TG_MAX_LINKS || h->n_peers > TG_MAX_PEERS) {
		seterr(err, errlen, "policy tables exceed the map sizes");
		return -E2BIG;
	}
	return 0;
}

int
tg_pub_policy(struct tg_mapset *ms, const struct tg_pub_policy *p, uint64_t *gen, char *err,
	      size_t errlen)
{
	unsigned slot = tg_pub_inactive_slot(ms);
	struct tg_slot_hdr *sh = &ms->ctl->slot[slot];
	const struct tg_slot_hdr *h = p->hdr;
	int rc = tg_pub_check(p, err, errlen);

	if (rc < 0)
		return rc;
	*gen = next_generation(ms);
	tg_pub_slot_begin(ms, slot);
	/* Everything after the seqcount comes from the policy. */
	memcpy((char *)sh + sizeof(sh->seq), (const char *)h + sizeof(h->seq),
	       sizeof(*sh) - sizeof(sh->seq));
	sh->published_ns = p->published_ns;
	memset(&ms->links[slot * TG_MAX_LINKS], 0, sizeof(struct tg_link) * TG_MAX_LINKS);
	memcpy(&ms->links[slot * TG_MAX_LINKS], p->links, sizeof(struct tg_link) * h->n_links);
	memset(&ms->peers[slot * TG_MAX_PEERS], 0, sizeof(struct tg_peer) * TG_MAX_PEERS);
	memcpy(&ms->peers[slot * TG_MAX_PEERS], p->peers, sizeof(struct tg_peer) * h->n_peers);
	if (h->n_rules)
		memcpy(&ms->rules[(size_t)slot * TG_MAX_RULES], p->rules,
		       sizeof(struct tg_rule) * h->n_rules);
	if (p->hsdb_len)
		memcpy(ms->hsdb + (size_t)slot * TG_HSDB_SLOT_BYTES, p->hsdb, p->hsdb_len);
	tg_pub_slot_end(ms, slot, *gen);
	tg_pub_flip(ms, slot, *gen);
	return 0;
}

int
tg_pub_rollback(struct tg_mapset *ms, uint64_t *gen, char *err, size_t errlen)
{
	const struct tg_slot_hdr *sh;
	struct tg_ctl_view v;
	uint64_t seq;

	if (!tg_ctl_read(ms, &v)) {
		seterr(err, errlen, "no policy has been published in %s", ms->dir);
		return -ENOENT;
	}
	sh = &ms->ctl->slot[v.active_slot ^ 1];
	seq = seq_read_begin(&sh->seq);
	if (sh->generation == 0 || (seq & 1)) {
		seterr(err, errlen, "there is no previous policy to roll back to");
		return -ENOENT;
	}
	*gen = next_generation(ms);
	/* Re-stamp the slot with its new generation, under its seqcount, so a
	 * reader's "slot generation == control generation" check still holds. */
	tg_pub_slot_begin(ms, v.active_slot ^ 1);
	tg_pub_slot_end(ms, v.active_slot ^ 1, *gen);
	tg_pub_flip(ms, v.active_slot ^ 1, *gen);
	return 0;
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
	for (int i = 0; i <= TG_HSDB_REFS; i++) {
		const struct tg_hsdb_ref *r = i < TG_HSDB_REFS ? &h->hsdb[i] : &h->comb;

		if ((uint64_t)r->off + r->len > TG_HSDB_SLOT_BYTES || (r->off & 7)) {
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

	for (int i = 0; i <= TG_HSDB_REFS; i++) {
		const struct tg_hsdb_ref *r = i < TG_HSDB_REFS ? &h->hsdb[i] : &h->comb;
		size_t e = (size_t)r->off + r->len;

		if (r->len && e > end)
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

/* ---- the single-writer blocks: the acknowledgement and the stats ----
 * Both start with their seqcount (uint64_t seq) and have one writer. */
_Static_assert(offsetof(struct tg_ack, seq) == 0, "tg_ack starts with its seqcount");
_Static_assert(offsetof(struct tg_stats, seq) == 0, "tg_stats starts with its seqcount");

static void
seq_store(void *dst, const void *src, size_t size)
{
	seq_write_begin(dst);
	memcpy((char *)dst + sizeof(uint64_t), (const char *)src + sizeof(uint64_t),
	       size - sizeof(uint64_t));
	seq_write_end(dst);
}

static bool
seq_load(void *dst, const void *src, size_t size)
{
	for (int attempt = 0; attempt < 10000; attempt++) {
		uint64_t s = seq_read_begin(src);

		memcpy(dst, src, size);
		if (!seq_read_retry(src, s))
			return true;
		sched_yield();
	}
	return false;
}

void
tg_ack_write(struct tg_mapset *ms, const struct tg_ack *src)
{
	seq_store(&ms->ctl->ack, src, sizeof(*src));
}

bool
tg_ack_read(const struct tg_mapset *ms, struct tg_ack *dst)
{
	return seq_load(dst, &ms->ctl->ack, sizeof(*dst));
}

void
tg_stats_write(struct tg_mapset *ms, const struct tg_stats *src)
{
	seq_store(ms->stats, src, sizeof(*src));
}

bool
tg_stats_read(const struct tg_mapset *ms, struct tg_stats *dst)
{
	return seq_load(dst, ms->stats, sizeof(*dst));
}

int
tg_rule_hits_add(struct tg_mapset *ms, uint32_t rule_id, uint64_t delta)
{
	uint64_t v = 0;

	if (bpf_map_lookup_elem(ms->hits_fd, &rule_id, &v) < 0 && errno != ENOENT)
		return -errno;
	v += delta;
	return bpf_map_update_elem(ms->hits_fd, &rule_id, &v, BPF_ANY);
}

int
tg_rule_hits_each(const struct tg_mapset *ms,
		  int (*fn)(uint32_t rule_id, uint64_t hits, void *arg), void *arg, char *err,
		  size_t errlen)
{
	uint32_t key, next, *prev = NULL;
	int rc;

	while (bpf_map_get_next_key(ms->hits_fd, prev, &next) == 0) {
		uint64_t v;

		if (bpf_map_lookup_elem(ms->hits_fd, &next, &v) == 0) {
			rc = fn(next, v, arg);
			if (rc != 0)
				return rc;
		} else if (errno != ENOENT) { /* ENOENT: deleted since, skip it */
			rc = -errno;
			seterr(err, errlen, "cannot read %s/%s[%u]: %s", ms->dir, TG_MAP_RULE_HITS,
			       next, strerror(-rc));
			return rc;
		}
		key = next;
		prev = &key;
	}
	if (errno != ENOENT) {
		rc = -errno;
		seterr(err, errlen, "cannot walk %s/%s: %s", ms->dir, TG_MAP_RULE_HITS,
		       strerror(-rc));
		return rc;
	}
	return 0;
}
