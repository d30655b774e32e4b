/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp_publish.c - tgctl's side of the XDP pre-filter (bpf/xdp_prefilter.bpf.c):
 * the pre-filter's pinned maps in trackgate's bpffs directory (defined by the
 * compiled program, pinned through tg_mapset.h's tg_pin layer; here the
 * /sys/fs/bpf/<name> symlinks the PMD's libbpf follows), the double-buffered
 * publish of the links' source filters and rates, and reading the verdict
 * counters.  The map contract is bpf/tg_xdp.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tg_mapset.h"
#include "xdp_prefilter.skel.h"
#include "xdp_publish.h"

/* After the flip, how long before the old slot's entries are deleted: an XDP
 * program run reads active_slot once and finishes within microseconds, so
 * none can still be using the old slot after this. */
#define XDP_OLD_SLOT_GRACE_US 10000

/* The pre-filter's pinned maps, in the order of xdp_map_names. */
enum xdp_map { XM_CTL, XM_IFC, XM_ALLOW, XM_BLOCK, XM_RATE, XM_VERDICTS, XM_N };

static const char *const xdp_map_names[XM_N] = {
	[XM_CTL] = TG_XDP_MAP_CTL,
	[XM_IFC] = TG_XDP_MAP_IFC,
	[XM_ALLOW] = TG_XDP_MAP_ALLOW,
	[XM_BLOCK] = TG_XDP_MAP_BLOCK,
	[XM_RATE] = TG_XDP_MAP_RATE,
	[XM_VERDICTS] = TG_XDP_MAP_VERDICTS,
};

/* Their definitions, read from the compiled program (xdp_prefilter.bpf.o,
 * built into this binary by its skeleton): each map is defined once, in
 * xdp_prefilter.bpf.c, and libbpf's reuse of the pins checks the same. */
static struct tg_pin_spec xdp_maps[XM_N];

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

static int
path_join(char *out, size_t outlen, const char *dir, const char *name)
{
	int n = snprintf(out, outlen, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/* Fill xdp_maps from the object's map definitions (once). */
static int
xdp_specs(char *err, size_t errlen)
{
	static bool done;
	struct xdp_prefilter *skel;
	int rc = 0;

	if (done)
		return 0;
	skel = xdp_prefilter__open();
	if (skel == NULL)
		return fail(err, errlen, -errno, "cannot open the XDP pre-filter object built "
			    "into this program: %s", strerror(errno));
	const struct bpf_map *m[XM_N] = {
		[XM_CTL] = skel->maps.tg_xdp_ctl,
		[XM_IFC] = skel->maps.tg_xdp_ifc,
		[XM_ALLOW] = skel->maps.tg_xdp_allow,
		[XM_BLOCK] = skel->maps.tg_xdp_block,
		[XM_RATE] = skel->maps.tg_xdp_rate,
		[XM_VERDICTS] = skel->maps.tg_xdp_verdicts,
	};

	for (unsigned i = 0; i < XM_N && rc == 0; i++) {
		/* The names are tg_xdp.h's, and libbpf must pin each by name. */
		if (strcmp(bpf_map__name(m[i]), xdp_map_names[i]) != 0 ||
		    bpf_map__pin_path(m[i]) == NULL) {
			rc = fail(err, errlen, -EPROTO, "xdp_prefilter.bpf.o: map %s is not "
				  "%s pinned by name (tg_xdp.h)", bpf_map__name(m[i]),
				  xdp_map_names[i]);
			break;
		}
		xdp_maps[i] = (struct tg_pin_spec){
			.name = xdp_map_names[i],
			.type = bpf_map__type(m[i]),
			.key_size = bpf_map__key_size(m[i]),
			.value_size = bpf_map__value_size(m[i]),
			.max_entries = bpf_map__max_entries(m[i]),
			.flags = bpf_map__map_flags(m[i]),
		};
	}
	xdp_prefilter__destroy(skel);
	done = rc == 0;
	return rc;
}

/* Make root/<name> lead to trackgate's map `fd`: a symlink into dir.  With
 * !apply only say whether that will work (fd -1: not pinned in dir yet, the
 * map pinned at root/<name> by libbpf, if any, is to be adopted). */
static int
link_into_root(const char *dir, const char *root, int rel, const struct tg_pin_spec *s, int fd,
	       bool apply, char *err, size_t errlen)
{
	char rpath[PATH_MAX], target[PATH_MAX], cur[PATH_MAX];
	const char *base = strrchr(dir, '/');
	uint32_t mine = 0, theirs; /* no map has id 0 */
	struct stat st;
	ssize_t n;
	int ofd, rc;

	if (path_join(rpath, sizeof(rpath), root, s->name) ||
	    path_join(target, sizeof(target), rel && base ? base + 1 : dir, s->name))
		return fail(err, errlen, -ENAMETOOLONG, "%s: path too long", root);
	rc = fd >= 0 ? tg_pin_map_id(fd, &mine) : 0;
	if (rc)
		return fail(err, errlen, rc, "%s/%s: cannot read map info: %s", dir, s->name,
			    strerror(-rc));

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
			if (apply)
				unlink(rpath); /* dangling: an old directory's link */
			goto make_link;
		}
		return fail(err, errlen, -errno, "%s exists but is not a BPF map: %s", rpath,
			    strerror(errno));
	}
	if (fd < 0 && !S_ISLNK(st.st_mode)) {
		rc = tg_pin_check(ofd, s, rpath, NULL, err, errlen); /* to be adopted */
		close(ofd);
		return rc;
	}
	rc = tg_pin_map_id(ofd, &theirs);
	close(ofd);
	if (rc)
		return fail(err, errlen, rc, "%s: cannot read map info: %s", rpath, strerror(-rc));
	if (theirs != mine)
		return fail(err, errlen, -EEXIST,
			    "%s is map id %u, not trackgate's %s/%s: another loader owns that "
			    "name; stop it or remove %s",
			    rpath, theirs, dir, s->name, rpath);
	if (S_ISLNK(st.st_mode) || !apply)
		return 0; /* another spelling of the same path */
	/* A second pin of our own map (adopted from libbpf): make it a link. */
	if (unlink(rpath))
		return fail(err, errlen, -errno, "cannot replace %s: %s", rpath, strerror(errno));
make_link:
	if (apply && symlink(target, rpath))
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

/* The directory (no trailing '/'), the pin root (pin_root, NULL = the
 * parent) and whether the root is the parent; and both checked, before
 * anything is created. */
static int
xdp_paths(const char *bpffs_dir, const char *pin_root, char dir[PATH_MAX], char root[PATH_MAX],
	  int *rel, char *err, size_t errlen)
{
	char parent[PATH_MAX];
	int rc;

	snprintf(dir, PATH_MAX, "%s", bpffs_dir);
	for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--)
		dir[n - 1] = '\0';
	parent_dir(dir, parent, sizeof(parent));
	snprintf(root, PATH_MAX, "%s", pin_root ? pin_root : parent);
	*rel = strcmp(root, parent) == 0;

	rc = tg_pin_check_bpffs(dir, err, errlen);
	if (rc)
		return rc;
	/* The parent is made with the directory if it does not exist yet. */
	if (*rel ? tg_pin_check_bpffs(root, NULL, 0) == 0 : tg_pin_is_bpffs(root))
		return 0;
	if (*rel)
		return fail(err, errlen, -ENOTDIR,
			    "%s cannot hold trackgate's maps: the XDP pre-filter's maps are linked "
			    "from its parent %s (libbpf's pin root for the af_xdp PMD), which is not "
			    "a bpf filesystem; give a directory inside the bpffs mount instead, e.g. "
			    "--bpffs %s/trackgate",
			    dir, root, strcmp(dir, "/") == 0 ? "" : dir);
	return fail(err, errlen, -ENOTDIR, "pin root %s is not a mounted bpf filesystem "
		    "(the af_xdp PMD pins under /sys/fs/bpf): mount -t bpf bpf %s", root, root);
}

int
ctl_xdp_prepare(const char *bpffs_dir, const char *pin_root, char *err, size_t errlen)
{
	char dir[PATH_MAX], root[PATH_MAX];
	uint32_t ids[XM_N];
	bool pinned[XM_N];
	int fds[XM_N], rc, rel;

	rc = xdp_specs(err, errlen);
	if (!rc)
		rc = xdp_paths(bpffs_dir, pin_root, dir, root, &rel, err, errlen);
	if (!rc)
		rc = tg_pin_make_dir(dir, err, errlen);
	if (!rc)
		rc = tg_pin_open_set(dir, xdp_maps, XM_N, root, true, fds, ids, pinned, err,
				     errlen);
	if (rc)
		return rc;
	for (unsigned i = 0; i < XM_N && !rc; i++)
		rc = link_into_root(dir, root, rel, &xdp_maps[i], fds[i], true, err, errlen);
	/* On failure, what this call pinned goes again. */
	tg_pin_close_set(dir, xdp_maps, XM_N, fds, rc ? pinned : NULL);
	return rc;
}

static int validate_links(const struct xdp_link_cfg *links, unsigned n_links, uint32_t ifindex[],
			  char *err, size_t errlen);

int
ctl_xdp_check(const char *bpffs_dir, const struct xdp_link_cfg *links, unsigned n_links,
	      char *err, size_t errlen)
{
	char dir[PATH_MAX], root[PATH_MAX];
	uint32_t ifindex[TG_XDP_MAX_LINKS];
	int rc, rel;

	rc = xdp_specs(err, errlen);
	if (!rc)
		rc = xdp_paths(bpffs_dir, NULL, dir, root, &rel, err, errlen);
	if (!rc)
		rc = validate_links(links, n_links, ifindex, err, errlen);
	/* The maps already pinned, and the names in the pin root. */
	for (unsigned i = 0; i < XM_N && !rc; i++) {
		bool pinned;
		int fd = tg_pin_open(dir, &xdp_maps[i], NULL, false, NULL, &pinned, err, errlen);

		if (fd < 0 && fd != -ENOENT)
			return fd;
		rc = link_into_root(dir, root, rel, &xdp_maps[i], fd, false, err, errlen);
		if (fd >= 0)
			close(fd);
	}
	return rc;
}

static int
open_map(const char *dir, enum xdp_map m, char *err, size_t errlen)
{
	bool pinned;
	int rc;

	rc = xdp_specs(err, errlen);
	if (rc)
		return rc;
	rc = tg_pin_open(dir, &xdp_maps[m], NULL, false, NULL, &pinned, err, errlen);
	if (rc == -ENOENT)
		return fail(err, errlen, rc, "%s/%s is not pinned (has trackgate or `tgctl load` "
			    "prepared the XDP maps?)", dir, xdp_maps[m].name);
	return rc;
}

/* Delete every entry of slot `slot` from a map whose key starts with it:
 * tg_xdp_ifc (u32 slot) or an LPM trie (u8 slot after prefixlen). */
static int
purge_slot(int fd, const struct tg_pin_spec *s, uint32_t slot, char *err, size_t errlen)
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
prefix_key(struct tg_xdp_lpm_key *k, uint32_t slot, uint32_t link, const struct ctl_prefix *p)
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
check_prefix(const struct xdp_link_cfg *l, const char *list, const struct ctl_prefix *p,
	     char *err, size_t errlen)
{
	if ((p->family == 4 && p->len <= 32) || (p->family == 6 && p->len <= 128))
		return 0;
	return fail(err, errlen, -EINVAL, "link %s: %s prefix with family %u length %u is invalid",
		    l->name, list, p->family, p->len);
}

static int
write_prefixes(int fd, uint32_t slot, uint32_t link, const struct xdp_link_cfg *l,
	       const struct ctl_prefix *list, unsigned n, const char *what, char *err,
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
	enum { M_N = XM_BLOCK + 1 }; /* the maps a publish writes: XM_CTL..XM_BLOCK */
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
		fd[i] = open_map(bpffs_dir, (enum xdp_map)i, err, errlen);
		if (fd[i] < 0) {
			rc = fd[i];
			goto out;
		}
	}
	if (bpf_map_lookup_elem(fd[XM_CTL], &zero, &ctl)) {
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
	for (i = XM_IFC; i <= XM_BLOCK; i++)
		if ((rc = purge_slot(fd[i], &xdp_maps[i], new_slot, err, errlen)))
			goto out;

	/* Prefixes first, then the interface entries that make them reachable. */
	for (i = 0; i < n_links; i++) {
		const struct xdp_link_cfg *l = &links[i];
		struct tg_xdp_ifc_key ik = { .slot = new_slot, .ifindex = ifindex[i] };
		struct tg_xdp_ifc iv;

		if (!ifindex[i])
			continue;
		rc = write_prefixes(fd[XM_ALLOW], new_slot, i, l, l->allow, l->n_allow, "allow",
				    err, errlen);
		if (!rc)
			rc = write_prefixes(fd[XM_BLOCK], new_slot, i, l, l->block, l->n_block,
					    "block", err, errlen);
		if (rc)
			goto out;
		ifc_value(l, i, &iv);
		if (bpf_map_update_elem(fd[XM_IFC], &ik, &iv, BPF_ANY)) {
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
	if (bpf_map_update_elem(fd[XM_CTL], &zero, &ctl, BPF_ANY)) {
		rc = fail(err, errlen, -errno, "cannot write %s: %s", TG_XDP_MAP_CTL,
			  strerror(errno));
		goto out;
	}
	flipped = 1;
	usleep(XDP_OLD_SLOT_GRACE_US);
	for (i = XM_IFC; i <= XM_BLOCK; i++)
		if ((rc = purge_slot(fd[i], &xdp_maps[i], old_slot, err, errlen)))
			goto out;
out:
	if (rc && !flipped && fd[XM_BLOCK] >= 0) {
		char ignored[8];

		/* Leave nothing half-written behind; the active slot is untouched. */
		for (i = XM_IFC; i <= XM_BLOCK; i++)
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
	const struct tg_pin_spec *s = &xdp_maps[XM_VERDICTS];
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;
	uint32_t v;
	int fd, c, rc = 0;

	if (ncpu <= 0)
		return fail(err, errlen, ncpu, "cannot count possible CPUs");
	fd = open_map(bpffs_dir, XM_VERDICTS, err, errlen);
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
