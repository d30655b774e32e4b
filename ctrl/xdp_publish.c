/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp_publish.c - tgctl's side of the XDP pre-filter (bpf/xdp_prefilter.bpf.c):
 * owns the pre-filter's pinned maps in trackgate's bpffs directory (creation,
 * definition checks, the /sys/fs/bpf/<name> symlinks the PMD's libbpf follows),
 * the double-buffered publish of the links' source filters and rates, and
 * reading the verdict counters.  The map contract is bpf/tg_xdp.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdp_publish.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

/* After the flip, how long before the old slot's entries are deleted: an XDP
 * program run reads active_slot once and finishes within microseconds, so
 * none can still be using the old slot after this. */
#define XDP_OLD_SLOT_GRACE_US 10000

struct xdp_map_spec {
	const char *name;
	enum bpf_map_type type;
	uint32_t key_size, value_size, max_entries, flags;
};

/* Must match the definitions in xdp_prefilter.bpf.c: libbpf refuses to reuse
 * a pinned map whose type, sizes or flags differ. */
static const struct xdp_map_spec xdp_maps[] = {
	{ TG_XDP_MAP_CTL, BPF_MAP_TYPE_ARRAY, sizeof(uint32_t), sizeof(struct tg_xdp_ctl), 1, 0 },
	{ TG_XDP_MAP_IFC, BPF_MAP_TYPE_HASH, sizeof(struct tg_xdp_ifc_key),
	  sizeof(struct tg_xdp_ifc), TG_XDP_MAX_IFACES, 0 },
	{ TG_XDP_MAP_ALLOW, BPF_MAP_TYPE_LPM_TRIE, sizeof(struct tg_xdp_lpm_key),
	  sizeof(struct tg_xdp_lpm_val), TG_XDP_LPM_ENTRIES, BPF_F_NO_PREALLOC },
	{ TG_XDP_MAP_BLOCK, BPF_MAP_TYPE_LPM_TRIE, sizeof(struct tg_xdp_lpm_key),
	  sizeof(struct tg_xdp_lpm_val), TG_XDP_LPM_ENTRIES, BPF_F_NO_PREALLOC },
	{ TG_XDP_MAP_RATE, BPF_MAP_TYPE_LRU_HASH, sizeof(struct tg_xdp_rate_key),
	  sizeof(struct tg_xdp_rate), TG_XDP_RATE_ENTRIES, 0 },
	{ TG_XDP_MAP_VERDICTS, BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(uint32_t), sizeof(uint64_t),
	  TG_XDP_VERDICT_SLOTS, 0 },
};

#define XDP_N_MAPS (sizeof(xdp_maps) / sizeof(xdp_maps[0]))

static const char *const xdp_verdict_names[TG_XDP_V_COUNT] = {
	[TG_XDP_V_REDIRECT] = "redirect",
	[TG_XDP_V_NO_XSK] = "no_xsk",
	[TG_XDP_V_PASS_NOT_TRACK] = "pass_not_track",
	[TG_XDP_V_PASS_NO_CONFIG] = "pass_no_config",
	[TG_XDP_V_PASS_MALFORMED] = "pass_malformed",
	[TG_XDP_V_DROP_BLOCKED] = "drop_blocked",
	[TG_XDP_V_DROP_NOT_ALLOWED] = "drop_not_allowed",
	[TG_XDP_V_DROP_RATE] = "drop_rate",
};

static int
fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc < 0 ? rc : -EINVAL;
}

const char *
ctl_xdp_verdict_name(unsigned v)
{
	return v < TG_XDP_V_COUNT ? xdp_verdict_names[v] : "?";
}

int
ctl_xdp_parse_prefix(const char *text, struct xdp_prefix *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash, *end;
	unsigned max;
	long len;

	if (strlen(text) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = 6;
		max = 128;
	} else {
		return -EINVAL;
	}
	len = max;
	if (slash) {
		errno = 0;
		len = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || len < 0 || len > (long)max)
			return -EINVAL;
	}
	out->len = (uint8_t)len;
	return 0;
}

static int
path_join(char *out, size_t outlen, const char *dir, const char *name)
{
	int n = snprintf(out, outlen, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

static int
map_id(int fd, struct bpf_map_info *info)
{
	uint32_t len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

static int
check_def(int fd, const struct xdp_map_spec *s, const char *path, char *err, size_t errlen)
{
	struct bpf_map_info info;
	const char *what = NULL;
	uint32_t have = 0, want = 0;

	if (map_id(fd, &info))
		return fail(err, errlen, -errno, "%s: cannot read map info: %s", path,
			    strerror(errno));
	if (info.type != (uint32_t)s->type)
		what = "type", have = info.type, want = s->type;
	else if (info.key_size != s->key_size)
		what = "key size", have = info.key_size, want = s->key_size;
	else if (info.value_size != s->value_size)
		what = "value size", have = info.value_size, want = s->value_size;
	else if (info.max_entries != s->max_entries)
		what = "max_entries", have = info.max_entries, want = s->max_entries;
	else if (info.map_flags != s->flags)
		what = "flags", have = info.map_flags, want = s->flags;
	if (what)
		return fail(err, errlen, -EEXIST,
			    "pinned map %s has %s %u but this build (XDP ABI %d) expects %u: "
			    "the map definition changed; stop trackgate, remove the old pins "
			    "(%s and its /sys/fs/bpf symlink) and start it again",
			    path, what, have, TG_XDP_ABI, want, path);
	return 0;
}

static int
create_map(const struct xdp_map_spec *s, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = s->flags);
	int fd = bpf_map_create(s->type, s->name, s->key_size, s->value_size, s->max_entries,
				&opts);

	if (fd < 0)
		return fail(err, errlen, -errno, "cannot create map %s: %s", s->name,
			    strerror(errno));
	return fd;
}

/* Open trackgate's map s in dir, adopting a map libbpf pinned at root/<name>
 * (the PMD started before any prepare) or creating it.  Returns an fd. */
static int
open_or_create(const char *dir, const char *root, const struct xdp_map_spec *s, char *err,
	       size_t errlen)
{
	char path[PATH_MAX], rpath[PATH_MAX];
	struct stat st;
	int fd, rc;

	if (path_join(path, sizeof(path), dir, s->name) ||
	    path_join(rpath, sizeof(rpath), root, s->name))
		return fail(err, errlen, -ENAMETOOLONG, "%s: path too long", dir);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		rc = check_def(fd, s, path, err, errlen);
		if (rc) {
			close(fd);
			return rc;
		}
		return fd;
	}
	if (errno != ENOENT)
		return fail(err, errlen, -errno, "cannot open pinned map %s: %s", path,
			    strerror(errno));
	if (lstat(rpath, &st) == 0 && !S_ISLNK(st.st_mode)) {
		fd = bpf_obj_get(rpath);
		if (fd < 0)
			return fail(err, errlen, -errno, "cannot open pinned map %s: %s", rpath,
				    strerror(errno));
		rc = check_def(fd, s, rpath, err, errlen);
		if (rc) {
			close(fd);
			return rc;
		}
	} else {
		fd = create_map(s, err, errlen);
		if (fd < 0)
			return fd;
	}
	if (bpf_obj_pin(fd, path)) {
		rc = -errno;
		close(fd);
		return fail(err, errlen, rc, "cannot pin map at %s: %s", path, strerror(-rc));
	}
	return fd;
}

/* Make root/<name> lead to trackgate's map (id): a symlink into dir. */
static int
link_into_root(const char *dir, const char *root, int rel, const struct xdp_map_spec *s, int fd,
	       char *err, size_t errlen)
{
	char rpath[PATH_MAX], target[PATH_MAX], cur[PATH_MAX];
	struct bpf_map_info mine, theirs;
	const char *base = strrchr(dir, '/');
	struct stat st;
	ssize_t n;
	int ofd, rc;

	if (path_join(rpath, sizeof(rpath), root, s->name) ||
	    path_join(target, sizeof(target), rel && base ? base + 1 : dir, s->name))
		return fail(err, errlen, -ENAMETOOLONG, "%s: path too long", root);
	if (map_id(fd, &mine))
		return fail(err, errlen, -errno, "%s/%s: cannot read map info", dir, s->name);

	if (lstat(rpath, &st)) {
		if (errno != ENOENT)
			return fail(err, errlen, -errno, "%s: %s", rpath, strerror(errno));
		goto make_link;
	}
	if (S_ISLNK(st.st_mode)) {
		n = readlink(rpath, cur, sizeof(cur) - 1);
		if (n >= 0) {
			cur[n] = '\0';
			if (strcmp(cur, target) == 0)
				return 0;
		}
	}
	ofd = bpf_obj_get(rpath);
	if (ofd < 0) {
		if (S_ISLNK(st.st_mode) && errno == ENOENT) {
			unlink(rpath); /* dangling: an old directory's link */
			goto make_link;
		}
		return fail(err, errlen, -errno, "%s exists but is not a BPF map: %s", rpath,
			    strerror(errno));
	}
	rc = map_id(ofd, &theirs);
	close(ofd);
	if (rc)
		return fail(err, errlen, rc, "%s: cannot read map info", rpath);
	if (theirs.id != mine.id)
		return fail(err, errlen, -EEXIST,
			    "%s is map id %u, not trackgate's %s/%s (id %u): another loader owns "
			    "that name; stop it or remove %s",
			    rpath, theirs.id, dir, s->name, mine.id, rpath);
	if (S_ISLNK(st.st_mode))
		return 0; /* another spelling of the same path */
	/* A second pin of our own map (adopted from libbpf): make it a link. */
	if (unlink(rpath))
		return fail(err, errlen, -errno, "cannot replace %s: %s", rpath, strerror(errno));
make_link:
	if (symlink(target, rpath))
		return fail(err, errlen, -errno, "cannot link %s -> %s: %s", rpath, target,
			    strerror(errno));
	return 0;
}

static void
parent_dir(const char *dir, char *out, size_t outlen)
{
	char *slash;
	size_t n;

	snprintf(out, outlen, "%s", dir);
	n = strlen(out);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	slash = strrchr(out, '/');
	if (!slash)
		snprintf(out, outlen, ".");
	else if (slash == out)
		out[1] = '\0';
	else
		*slash = '\0';
}

int
ctl_xdp_prepare(const char *bpffs_dir, const char *pin_root, char *err, size_t errlen)
{
	char dir[PATH_MAX], parent[PATH_MAX], root[PATH_MAX];
	struct statfs sfs;
	unsigned i;
	int fd, rc, rel;

	snprintf(dir, sizeof(dir), "%s", bpffs_dir);
	for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--)
		dir[n - 1] = '\0';
	parent_dir(dir, parent, sizeof(parent));
	snprintf(root, sizeof(root), "%s", pin_root ? pin_root : parent);
	rel = strcmp(root, parent) == 0;

	if (mkdir(dir, 0700) && errno != EEXIST)
		return fail(err, errlen, -errno, "cannot create %s: %s (is bpffs mounted? "
			    "mount -t bpf bpf /sys/fs/bpf)", dir, strerror(errno));
	if (statfs(dir, &sfs))
		return fail(err, errlen, -errno, "%s: %s", dir, strerror(errno));
	if ((unsigned long)sfs.f_type != BPF_FS_MAGIC)
		return fail(err, errlen, -ENOTDIR, "%s is not on a bpf filesystem: "
			    "mount -t bpf bpf /sys/fs/bpf", dir);
	if (statfs(root, &sfs) || (unsigned long)sfs.f_type != BPF_FS_MAGIC)
		return fail(err, errlen, -ENOTDIR, "pin root %s is not a mounted bpf filesystem "
			    "(the af_xdp PMD pins under /sys/fs/bpf)", root);

	for (i = 0; i < XDP_N_MAPS; i++) {
		fd = open_or_create(dir, root, &xdp_maps[i], err, errlen);
		if (fd < 0)
			return fd;
		rc = link_into_root(dir, root, rel, &xdp_maps[i], fd, err, errlen);
		close(fd);
		if (rc)
			return rc;
	}
	return 0;
}

static int
open_map(const char *dir, const struct xdp_map_spec *s, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int fd, rc;

	if (path_join(path, sizeof(path), dir, s->name))
		return fail(err, errlen, -ENAMETOOLONG, "%s: path too long", dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return fail(err, errlen, -errno, "cannot open %s: %s (has trackgate or "
			    "`tgctl load` prepared the XDP maps?)", path, strerror(errno));
	rc = check_def(fd, s, path, err, errlen);
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

/* Delete every entry of slot `slot` from a map whose key starts with it:
 * tg_xdp_ifc (u32 slot) or an LPM trie (u8 slot after prefixlen). */
static int
purge_slot(int fd, const struct xdp_map_spec *s, uint32_t slot, char *err, size_t errlen)
{
	size_t ksz = s->key_size, n = 0, i;
	uint8_t *keys, cur[64], next[64];
	void *prev = NULL;
	int rc = 0;

	keys = malloc((size_t)s->max_entries * ksz);
	if (!keys)
		return fail(err, errlen, -ENOMEM, "out of memory purging %s", s->name);
	while (n < s->max_entries && bpf_map_get_next_key(fd, prev, next) == 0) {
		uint32_t kslot;

		if (s->type == BPF_MAP_TYPE_LPM_TRIE)
			kslot = ((struct tg_xdp_lpm_key *)next)->slot;
		else
			kslot = ((struct tg_xdp_ifc_key *)next)->slot;
		if (kslot == slot)
			memcpy(keys + n++ * ksz, next, ksz);
		memcpy(cur, next, ksz);
		prev = cur;
	}
	for (i = 0; i < n; i++) {
		if (bpf_map_delete_elem(fd, keys + i * ksz) && errno != ENOENT) {
			rc = fail(err, errlen, -errno, "cannot delete from %s: %s", s->name,
				  strerror(errno));
			break;
		}
	}
	free(keys);
	return rc;
}

static void
prefix_key(struct tg_xdp_lpm_key *k, uint32_t slot, uint32_t link, const struct xdp_prefix *p)
{
	unsigned i, bits = p->len;

	memset(k, 0, sizeof(*k));
	k->prefixlen = TG_XDP_LPM_HDR_BITS + p->len;
	k->slot = (uint8_t)slot;
	k->link_idx = (uint8_t)link;
	k->family = p->family;
	for (i = 0; i < 16; i++) {
		if (bits >= 8)
			k->addr[i] = p->addr[i];
		else if (bits > 0)
			k->addr[i] = p->addr[i] & (uint8_t)(0xff << (8 - bits));
		bits = bits >= 8 ? bits - 8 : 0;
	}
}

static int
check_prefix(const struct xdp_link_cfg *l, const char *list, const struct xdp_prefix *p,
	     char *err, size_t errlen)
{
	if ((p->family == 4 && p->len <= 32) || (p->family == 6 && p->len <= 128))
		return 0;
	return fail(err, errlen, -EINVAL, "link %s: %s prefix with family %u length %u is invalid",
		    l->name, list, p->family, p->len);
}

static int
write_prefixes(int fd, uint32_t slot, uint32_t link, const struct xdp_link_cfg *l,
	       const struct xdp_prefix *list, unsigned n, const char *what, char *err,
	       size_t errlen)
{
	struct tg_xdp_lpm_key k;
	struct tg_xdp_lpm_val v;
	unsigned i;

	for (i = 0; i < n; i++) {
		prefix_key(&k, slot, link, &list[i]);
		v.index = i;
		/* BPF_ANY: a duplicate prefix in the policy is not an error. */
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
			return fail(err, errlen, -errno, "link %s: cannot write %s prefix %u: %s",
				    l->name, what, i, strerror(errno));
	}
	return 0;
}

static int
validate_links(const struct xdp_link_cfg *links, unsigned n_links, uint32_t ifindex[],
	       char *err, size_t errlen)
{
	unsigned i, j;
	int rc;

	if (n_links > TG_XDP_MAX_LINKS)
		return fail(err, errlen, -E2BIG, "%u links, the XDP pre-filter holds at most %d",
			    n_links, TG_XDP_MAX_LINKS);
	for (i = 0; i < n_links; i++) {
		const struct xdp_link_cfg *l = &links[i];

		ifindex[i] = 0;
		if (l->iface[0] == '\0')
			continue;
		if (l->n_udp_ports > TG_XDP_MAX_PORTS || l->n_allow > TG_XDP_MAX_PREFIXES ||
		    l->n_block > TG_XDP_MAX_PREFIXES)
			return fail(err, errlen, -E2BIG, "link %s: more than %d ports or %d "
				    "prefixes", l->name, TG_XDP_MAX_PORTS, TG_XDP_MAX_PREFIXES);
		ifindex[i] = if_nametoindex(l->iface);
		if (ifindex[i] == 0)
			return fail(err, errlen, -ENODEV, "link %s: xdp_iface %.16s: %s", l->name,
				    l->iface, strerror(errno));
		for (j = 0; j < i; j++)
			if (ifindex[j] == ifindex[i])
				return fail(err, errlen, -EINVAL, "links %s and %s both name "
					    "xdp_iface %.16s", links[j].name, l->name, l->iface);
		for (j = 0; j < l->n_allow; j++)
			if ((rc = check_prefix(l, "allow", &l->allow[j], err, errlen)))
				return rc;
		for (j = 0; j < l->n_block; j++)
			if ((rc = check_prefix(l, "block", &l->block[j], err, errlen)))
				return rc;
	}
	return 0;
}

static void
ifc_value(const struct xdp_link_cfg *l, uint32_t link, struct tg_xdp_ifc *v)
{
	unsigned i;

	memset(v, 0, sizeof(*v));
	v->link_idx = link;
	v->flags = l->n_allow ? TG_XDP_IFC_HAS_ALLOW : 0;
	v->n_udp_ports = l->n_udp_ports;
	for (i = 0; i < l->n_udp_ports; i++)
		v->udp_ports[i] = htons(l->udp_ports[i]);
	if (l->rate_pps) {
		uint64_t burst = l->rate_burst ? l->rate_burst : l->rate_pps;

		v->cost_ns = 1000000000ull / l->rate_pps;
		if (v->cost_ns == 0)
			v->cost_ns = 1;
		v->depth_ns = burst * v->cost_ns;
	}
}

int
ctl_xdp_publish(const char *bpffs_dir, const struct xdp_link_cfg *links, unsigned n_links,
		char *err, size_t errlen)
{
	enum { M_CTL, M_IFC, M_ALLOW, M_BLOCK, M_N };
	uint32_t ifindex[TG_XDP_MAX_LINKS];
	int fd[M_N] = { -1, -1, -1, -1 };
	uint32_t zero = 0, old_slot, new_slot = 0, i;
	struct tg_xdp_ctl ctl;
	struct timespec now;
	int rc, flipped = 0;

	rc = validate_links(links, n_links, ifindex, err, errlen);
	if (rc)
		return rc;
	rc = ctl_xdp_prepare(bpffs_dir, NULL, err, errlen);
	if (rc)
		return rc;
	for (i = 0; i < M_N; i++) {
		fd[i] = open_map(bpffs_dir, &xdp_maps[i], err, errlen);
		if (fd[i] < 0) {
			rc = fd[i];
			goto out;
		}
	}
	if (bpf_map_lookup_elem(fd[M_CTL], &zero, &ctl)) {
		rc = fail(err, errlen, -errno, "cannot read %s: %s", TG_XDP_MAP_CTL,
			  strerror(errno));
		goto out;
	}
	if (ctl.magic != TG_XDP_MAGIC) {
		memset(&ctl, 0, sizeof(ctl));
		ctl.magic = TG_XDP_MAGIC;
		ctl.abi = TG_XDP_ABI;
	} else if (ctl.abi != TG_XDP_ABI) {
		rc = fail(err, errlen, -EPROTO, "%s/%s has XDP ABI %u, this tgctl writes %d",
			  bpffs_dir, TG_XDP_MAP_CTL, ctl.abi, TG_XDP_ABI);
		goto out;
	}
	old_slot = ctl.active_slot & 1;
	new_slot = old_slot ^ 1;

	/* Leftovers of an interrupted publish. */
	for (i = M_IFC; i <= M_BLOCK; i++)
		if ((rc = purge_slot(fd[i], &xdp_maps[i], new_slot, err, errlen)))
			goto out;

	/* Prefixes first, then the interface entries that make them reachable. */
	for (i = 0; i < n_links; i++) {
		const struct xdp_link_cfg *l = &links[i];
		struct tg_xdp_ifc_key ik = { .slot = new_slot, .ifindex = ifindex[i] };
		struct tg_xdp_ifc iv;

		if (!ifindex[i])
			continue;
		rc = write_prefixes(fd[M_ALLOW], new_slot, i, l, l->allow, l->n_allow, "allow",
				    err, errlen);
		if (!rc)
			rc = write_prefixes(fd[M_BLOCK], new_slot, i, l, l->block, l->n_block,
					    "block", err, errlen);
		if (rc)
			goto out;
		ifc_value(l, i, &iv);
		if (bpf_map_update_elem(fd[M_IFC], &ik, &iv, BPF_ANY)) {
			rc = fail(err, errlen, -errno, "link %s: cannot write %s: %s", l->name,
				  TG_XDP_MAP_IFC, strerror(errno));
			goto out;
		}
	}

	/* The flip: from here on every packet uses the new slot. */
	clock_gettime(CLOCK_REALTIME, &now);
	ctl.active_slot = new_slot;
	ctl.generation++;
	ctl.published_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	if (bpf_map_update_elem(fd[M_CTL], &zero, &ctl, BPF_ANY)) {
		rc = fail(err, errlen, -errno, "cannot write %s: %s", TG_XDP_MAP_CTL,
			  strerror(errno));
		goto out;
	}
	flipped = 1;
	usleep(XDP_OLD_SLOT_GRACE_US);
	for (i = M_IFC; i <= M_BLOCK; i++)
		if ((rc = purge_slot(fd[i], &xdp_maps[i], old_slot, err, errlen)))
			goto out;
out:
	if (rc && !flipped && fd[M_BLOCK] >= 0) {
		char ignored[8];

		/* Leave nothing half-written behind; the active slot is untouched. */
		for (i = M_IFC; i <= M_BLOCK; i++)
			purge_slot(fd[i], &xdp_maps[i], new_slot, ignored, sizeof(ignored));
	}
	for (i = 0; i < M_N; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	return rc;
}

int
ctl_xdp_read_verdicts(const char *bpffs_dir, uint64_t out[], char *err, size_t errlen)
{
	const struct xdp_map_spec *s = &xdp_maps[XDP_N_MAPS - 1];
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;
	uint32_t v;
	int fd, c, rc = 0;

	if (ncpu <= 0)
		return fail(err, errlen, ncpu, "cannot count possible CPUs");
	fd = open_map(bpffs_dir, s, err, errlen);
	if (fd < 0)
		return fd;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals) {
		close(fd);
		return fail(err, errlen, -ENOMEM, "out of memory");
	}
	for (v = 0; v < TG_XDP_V_COUNT; v++) {
		out[v] = 0;
		if (bpf_map_lookup_elem(fd, &v, vals)) {
			rc = fail(err, errlen, -errno, "cannot read %s[%u]: %s", s->name, v,
				  strerror(errno));
			break;
		}
		for (c = 0; c < ncpu; c++)
			out[v] += vals[c];
	}
	free(vals);
	close(fd);
	return rc;
}
