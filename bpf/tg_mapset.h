/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tg_mapset.h - userspace access to trackgate's pinned maps.
 *
 * Two layers.  tg_pin_*: any set of pinned maps described by a spec table
 * (the policy maps of tg_maps.h below, the XDP pre-filter's in
 * ctrl/xdp_publish.c): created and pinned (0600) if absent, reused if present
 * and identical in definition, refused with a clear error if a map of that
 * name exists with another definition, and only on a bpf filesystem.
 * tg_mapset_*, tg_pub_*, tg_snapshot_*...: the policy maps (tg_maps.h).  The
 * arrays are mmaped; the helpers here are the only way either side touches
 * them, so the publish protocol lives in one file.
 *
 * Errors: tg_pin_*, tg_mapset_open/attach and tg_pub_* return 0 (or an fd)
 * or a negative errno, and fill `err` with one message naming the path and,
 * where there is one, the fix.
 */
#ifndef TG_MAPSET_H
#define TG_MAPSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tg_maps.h"

/* ---- generic pinned maps ---- */

/* What a pinned map must be: compared with what the kernel reports. */
struct tg_pin_spec {
	const char *name; /* the map's name and its pin file name */
	uint32_t type;    /* enum bpf_map_type */
	uint32_t key_size, value_size, max_entries, flags;
};

/* Whether `path` is on a bpf filesystem (statfs: BPF_FS_MAGIC). */
bool tg_pin_is_bpffs(const char *path);
/* Whether `dir`, or the nearest ancestor of it that exists, is on a bpf
 * filesystem: checked before anything is created.  -ENOTDIR if not. */
int tg_pin_check_bpffs(const char *dir, char *err, size_t errlen);
/* tg_pin_check_bpffs, then mkdir -p (0700). */
int tg_pin_make_dir(const char *dir, char *err, size_t errlen);

/* The kernel id of the map `fd`; 0 or -errno. */
int tg_pin_map_id(int fd, uint32_t *id);
/* Does the map `fd` (pinned at `path`) match `s`?  Its id goes to *id (may
 * be NULL).  -EEXIST with err naming the first difference. */
int tg_pin_check(int fd, const struct tg_pin_spec *s, const char *path, uint32_t *id, char *err,
		 size_t errlen);

/*
 * An fd on dir/<s->name>, after tg_pin_check.  If nothing is pinned there:
 * -ENOENT unless `create`; with `create` the map pinned at adopt_dir/<name>
 * by another loader (not a symlink; adopt_dir may be NULL) is taken, or a new
 * map created, and pinned there 0600; *pinned says this call pinned it.
 */
int tg_pin_open(const char *dir, const struct tg_pin_spec *s, const char *adopt_dir, bool create,
		uint32_t *id, bool *pinned, char *err, size_t errlen);
/* Remove dir/<s->name> (undoing a pin of this process). */
void tg_pin_unpin(const char *dir, const struct tg_pin_spec *s);

/* tg_pin_open for specs[0..n): fds[], ids[], pinned[] filled.  On failure
 * nothing is left open and nothing this call pinned stays pinned. */
int tg_pin_open_set(const char *dir, const struct tg_pin_spec *specs, size_t n,
		    const char *adopt_dir, bool create, int fds[], uint32_t ids[], bool pinned[],
		    char *err, size_t errlen);
/* Close fds[0..n) (set to -1); unpin those with unpin[i] (unpin may be NULL). */
void tg_pin_close_set(const char *dir, const struct tg_pin_spec *specs, size_t n, int fds[],
		      const bool unpin[]);

/* ---- trackgate's policy maps (tg_maps.h) ---- */

#define TG_MAPSET_MAPS 7 /* tg_ctl ... tg_rule_hits */

struct tg_mapset {
	int dir_fd;            /* -1 once dropped (tg_mapset_attach, tg_mapset_drop_dir) */
	int ctl_fd, links_fd, peers_fd, rules_fd, hsdb_fd, stats_fd, hits_fd;
	uint32_t map_id[TG_MAPSET_MAPS]; /* kernel ids of the maps opened, in pin order */
	struct tg_ctl *ctl;
	struct tg_link *links; /* [TG_SLOTS * TG_MAX_LINKS] */
	struct tg_peer *peers; /* [TG_SLOTS * TG_MAX_PEERS] */
	struct tg_rule *rules; /* [TG_SLOTS * TG_MAX_RULES] */
	uint8_t *hsdb;         /* [TG_SLOTS * TG_HSDB_SLOT_BYTES] */
	struct tg_stats *stats;
	char dir[TG_PATH_MAX];
};

/* Open (creating if needed) every map in `dir`; mkdir -p's the directory,
 * which must be on a bpf filesystem.  0 or -errno with `err` set; on failure
 * the maps this call created are unpinned again. */
int tg_mapset_open(struct tg_mapset *ms, const char *dir, char *err, size_t errlen);
void tg_mapset_close(struct tg_mapset *ms);

/*
 * Open the maps pinned in `dir` as they are: create nothing, take no lock,
 * and keep no fd on the directory.  For the dataplane re-attaching to a
 * directory that was removed or replaced under it.  0, or -errno with `err`
 * set and *absent true if the set is not (yet) there: a map is not pinned, or
 * tg_ctl was not initialised yet (a tgctl is creating the set).  *absent
 * false: something is pinned there that this build cannot use.
 */
int tg_mapset_attach(struct tg_mapset *ms, const char *dir, bool *absent, char *err,
		     size_t errlen);
/* Close the directory fd tg_mapset_open keeps for tg_mapset_lock: a reader
 * that never locks must not keep the bpffs mount busy. */
void tg_mapset_drop_dir(struct tg_mapset *ms);

enum tg_pins {
	TG_PINS_SAME,     /* every map pinned in ms->dir is the one ms holds */
	TG_PINS_ABSENT,   /* some are not pinned there (any pinned are ms's) */
	TG_PINS_REPLACED, /* at least one pinned there is another map */
};
/* Compare the maps pinned in ms->dir with those ms holds (by kernel map id:
 * about 3 syscalls per map).  `what` says what differs first. */
enum tg_pins tg_mapset_pins(const struct tg_mapset *ms, char *what, size_t whatlen);

/* Serialise writers (tgctl runs) on the bpffs directory: flock(LOCK_EX). */
int tg_mapset_lock(struct tg_mapset *ms, bool wait);
void tg_mapset_unlock(struct tg_mapset *ms);

/* --- the writer side (hold the lock) --- */

/* One policy as a slot holds it. */
struct tg_pub_policy {
	const struct tg_slot_hdr *hdr; /* seq and generation are ignored */
	uint64_t published_ns;         /* CLOCK_REALTIME, replaces hdr->published_ns */
	const struct tg_link *links;   /* hdr->n_links */
	const struct tg_peer *peers;   /* hdr->n_peers */
	const struct tg_rule *rules;   /* hdr->n_rules */
	const uint8_t *hsdb;           /* the slot's databases, hsdb_len bytes */
	size_t hsdb_len;
};

/* Does `p` fit the maps?  0 or -E2BIG with err set; touches no map. */
int tg_pub_check(const struct tg_pub_policy *p, char *err, size_t errlen);
/* Write `p` into the inactive slot as the next generation (*gen), then flip
 * to it: readers see the old policy or the new one, never a mixture. */
int tg_pub_policy(struct tg_mapset *ms, const struct tg_pub_policy *p, uint64_t *gen, char *err,
		  size_t errlen);
/* Make the inactive slot (the previous policy) active again as the next
 * generation (*gen).  -ENOENT with err set if there is none. */
int tg_pub_rollback(struct tg_mapset *ms, uint64_t *gen, char *err, size_t errlen);

/* The steps of tg_pub_policy, for tests that stop half-way. */

/* Slot to write the next policy into: the one not active. */
unsigned tg_pub_inactive_slot(const struct tg_mapset *ms);
/* Mark `slot` as being written (readers will reject copies of it). */
void tg_pub_slot_begin(struct tg_mapset *ms, unsigned slot);
/* Mark `slot` complete as generation `gen`. */
void tg_pub_slot_end(struct tg_mapset *ms, unsigned slot, uint64_t gen);
/* Make `slot` the active policy as generation `gen`: the last write. */
void tg_pub_flip(struct tg_mapset *ms, unsigned slot, uint64_t gen);

/* --- the reader side --- */

struct tg_ctl_view {
	uint64_t generation;
	unsigned active_slot;
};
/* Consistent read of the control block; false if nothing published. */
bool tg_ctl_read(const struct tg_mapset *ms, struct tg_ctl_view *v);

/* A private copy of one published policy. */
struct tg_snapshot {
	uint64_t generation;
	struct tg_slot_hdr hdr;
	struct tg_link links[TG_MAX_LINKS];
	struct tg_peer peers[TG_MAX_PEERS];
	struct tg_rule *rules; /* malloc'd, hdr.n_rules */
	uint8_t *hsdb;         /* malloc'd, 8-byte aligned, hsdb_len bytes */
	size_t hsdb_len;
};

/*
 * Copy the active policy if its generation differs from `known_gen`.
 * Returns 1 with `snap` filled (free with tg_snapshot_free), 0 if nothing new
 * or nothing published, -1 if the copy raced a writer too often or the
 * published data is inconsistent (err set).  Retries torn copies itself.
 */
int tg_snapshot_read(const struct tg_mapset *ms, uint64_t known_gen, struct tg_snapshot *snap,
		     char *err, size_t errlen);
/* Same, for a given slot regardless of which is active (tgctl show/rollback). */
int tg_snapshot_read_slot(const struct tg_mapset *ms, unsigned slot, struct tg_snapshot *snap,
			  char *err, size_t errlen);
void tg_snapshot_free(struct tg_snapshot *snap);

/* --- the dataplane's acknowledgement (tg_ctl.ack: dataplane writes, tgctl reads) --- */
void tg_ack_write(struct tg_mapset *ms, const struct tg_ack *src);
/* Consistent copy; false if it kept changing while read. */
bool tg_ack_read(const struct tg_mapset *ms, struct tg_ack *dst);

/* --- stats (dataplane writes, tgctl reads) --- */
void tg_stats_write(struct tg_mapset *ms, const struct tg_stats *src);
bool tg_stats_read(const struct tg_mapset *ms, struct tg_stats *dst);
int tg_rule_hits_add(struct tg_mapset *ms, uint32_t rule_id, uint64_t delta);
/* Call fn for every rule with hits (any order) until it returns non-zero,
 * which is returned; 0 when all were seen, -errno with err set. */
int tg_rule_hits_each(const struct tg_mapset *ms,
		      int (*fn)(uint32_t rule_id, uint64_t hits, void *arg), void *arg, char *err,
		      size_t errlen);

#endif /* TG_MAPSET_H */
