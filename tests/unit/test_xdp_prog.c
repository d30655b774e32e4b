/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_xdp_prog.c - deterministic verdict tests of the XDP pre-filter with
 * BPF_PROG_TEST_RUN, through the real publish path (ctrl/xdp_publish.c) and
 * the real map-reuse path (libbpf pin root + the symlinks ctl_xdp_prepare
 * makes), on a private bpffs in a private mount namespace: nothing touches
 * the host's /sys/fs/bpf.
 *
 * usage: test_xdp_prog <xdp_prefilter.bpf.o>     (root; exit 77 = skipped)
 *
 * cmocka: the set-up (private bpffs, maps prepared, the object loaded) is the
 * group set-up; the cases run in order, each on what the previous one
 * published.
 *
 * Redirects are seen through the verdict counter: in a test run xsks_map is
 * empty, so bpf_redirect_map() returns its XDP_PASS fallback and the program
 * counts no_xsk - the "would redirect" decision.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stddef.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>
#include <linux/bpf.h>

#include "xdp_publish.h"

/* Frames are built at arbitrary offsets: store without alignment assumptions. */
static inline void
put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* An assertion with a message: cmocka's fail_msg() names the case. */
#define CHECK(cond, ...)                                                                    \
	do {                                                                                \
		if (!(cond))                                                                \
			fail_msg(__VA_ARGS__);                                              \
	} while (0)

static char root[128], tgdir[256];
static const char *obj_path;
static struct bpf_object *obj;
static struct xdp_link_cfg links[2];
static int prog_fd;
static unsigned lo_ifindex;

/* ---- frames ---- */

struct frame {
	uint8_t b[256];
	size_t len;
};

static uint8_t *
put_eth(struct frame *f, uint16_t type, int vlan)
{
	uint8_t *p = f->b;

	memset(f->b, 0, sizeof(f->b));
	memcpy(p, "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(p + 6, "\x02\x00\x00\x00\x00\x02", 6);
	p += 12;
	if (vlan) {
		put16(p, htons(ETH_P_8021Q));
		put16(p + 2, htons(82));
		p += 4;
	}
	put16(p, htons(type));
	return p + 2;
}

/* IPv4 + 8 bytes of L4 (+ 8 payload).  frag: host-order frag_off field. */
static void
v4(struct frame *f, int vlan, const char *src, uint8_t proto, uint16_t sport, uint16_t dport,
   uint16_t frag)
{
	uint8_t *ip = put_eth(f, ETH_P_IP, vlan), *l4 = ip + 20;

	ip[0] = 0x45;
	put16(ip + 2, htons(36));
	put16(ip + 6, htons(frag));
	ip[8] = 64;
	ip[9] = proto;
	inet_pton(AF_INET, src, ip + 12);
	inet_pton(AF_INET, "192.0.2.1", ip + 16);
	put16(l4, htons(sport));
	put16(l4 + 2, htons(dport));
	put16(l4 + 4, htons(16));
	if (proto == IPPROTO_ICMP)
		l4[0] = 8; /* echo request */
	f->len = (size_t)(l4 + 16 - f->b);
}

/* IPv6 + optional fragment header (frag: host-order offset|M) + UDP/TCP/ICMPv6. */
static void
v6(struct frame *f, int vlan, const char *src, uint8_t proto, uint16_t dport, int with_frag,
   uint16_t frag)
{
	uint8_t *ip = put_eth(f, ETH_P_IPV6, vlan), *l4 = ip + 40;

	ip[0] = 0x60;
	put16(ip + 4, htons(16 + (with_frag ? 8 : 0)));
	ip[6] = with_frag ? 44 : proto;
	ip[7] = 64;
	inet_pton(AF_INET6, src, ip + 8);
	inet_pton(AF_INET6, "2001:db8:1::1", ip + 24);
	if (with_frag) {
		l4[0] = proto;
		put16(l4 + 2, htons(frag));
		put32(l4 + 4, htonl(0x1234));
		l4 += 8;
	}
	put16(l4, htons(6969));
	put16(l4 + 2, htons(dport));
	f->len = (size_t)(l4 + 16 - f->b);
}

static void
arp(struct frame *f)
{
	uint8_t *p = put_eth(f, ETH_P_ARP, 0);

	memset(p, 0x11, 28);
	f->len = (size_t)(p + 28 - f->b);
}

/* ---- running ---- */

static void
verdicts(uint64_t out[XDP_V_COUNT])
{
	char err[256];

	if (ctl_xdp_read_verdicts(tgdir, out, err, sizeof(err)))
		fail_msg("read verdicts: %s", err);
}

/* Run f `repeat` times in one BPF_PROG_TEST_RUN; return the action of the last
 * run and the verdict counter deltas. */
static int
run(const struct frame *f, unsigned repeat, uint64_t delta[XDP_V_COUNT])
{
	struct xdp_md ctx = { .data_end = (uint32_t)f->len, .ingress_ifindex = lo_ifindex,
			      .rx_queue_index = 0 };
	uint64_t before[XDP_V_COUNT], after[XDP_V_COUNT];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->b, .data_size_in = (uint32_t)f->len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat);
	unsigned v;

	verdicts(before);
	if (bpf_prog_test_run_opts(prog_fd, &opts))
		fail_msg("bpf_prog_test_run_opts: %s", strerror(errno));
	verdicts(after);
	for (v = 0; v < XDP_V_COUNT; v++)
		delta[v] = after[v] - before[v];
	return (int)opts.retval;
}

/* One frame, one run: expect this action and exactly this one verdict. */
static void
expect(const char *what, const struct frame *f, int action, unsigned verdict)
{
	uint64_t d[XDP_V_COUNT];
	int ret = run(f, 1, d);
	unsigned v;

	CHECK(ret == action, "%s: action %d, want %d", what, ret, action);
	for (v = 0; v < XDP_V_COUNT; v++)
		CHECK(d[v] == (v == verdict), "%s: verdict %s moved by %llu", what,
		      ctl_xdp_verdict_name(v), (unsigned long long)d[v]);
}

/* ---- policy ---- */

static void
prefix(struct ctl_prefix *p, const char *text)
{
	if (ctl_prefix_parse(text, p))
		fail_msg("bad prefix %s", text);
}

static void
demo_link(struct xdp_link_cfg *l)
{
	memset(l, 0, sizeof(*l));
	strcpy(l->name, "kor-us");
	strcpy(l->iface, "lo");
	l->udp_ports[0] = 6969;
	l->udp_ports[1] = 4242;
	l->n_udp_ports = 2;
	prefix(&l->allow[l->n_allow++], "198.51.100.0/24");
	prefix(&l->allow[l->n_allow++], "2001:db8:82::/48");
	prefix(&l->block[l->n_block++], "198.51.100.66/32");
	prefix(&l->block[l->n_block++], "2001:db8:82:66::/64");
}

static void
publish(const struct xdp_link_cfg *links, unsigned n)
{
	char err[512];
	int rc = ctl_xdp_publish(tgdir, links, n, err, sizeof(err));

	if (rc)
		fail_msg("publish: %s", err);
}

static unsigned
count_entries(const char *name, unsigned key_size)
{
	char path[PATH_MAX];
	uint8_t cur[64], next[64];
	void *prev = NULL;
	unsigned n = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tgdir, name);
	fd = bpf_obj_get(path);
	while (fd >= 0 && bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(cur, next, key_size);
		prev = cur;
		n++;
	}
	if (fd >= 0)
		close(fd);
	return n;
}

static uint32_t
id_of(int fd)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* ---- setup ---- */

static struct bpf_object *
load(const char *obj_path, const char *pin_root)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = pin_root);
	struct bpf_object *obj = bpf_object__open_file(obj_path, &oo);

	if (!obj)
		return NULL;
	if (bpf_object__load(obj)) {
		bpf_object__close(obj);
		return NULL;
	}
	return obj;
}

static void
cleanup(void)
{
	if (root[0]) {
		umount2(root, MNT_DETACH);
		rmdir(root);
	}
}

static int
quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

/* The object's maps are the ones ctl_xdp_prepare() pinned; a changed map
 * definition is refused, by us and by libbpf. */
static void
test_reuse_and_mismatch(void **state)
{
	char path[1024], err[512], bad[512];
	struct bpf_object *other;
	struct bpf_map *m;
	int fd, rc;

	(void)state;
	CHECK(ctl_xdp_prepare(tgdir, NULL, err, sizeof(err)) == 0, "prepare twice: %s", err);

	/* The object's pinned maps are trackgate's maps (through the symlinks). */
	bpf_object__for_each_map(m, obj) {
		if (!strcmp(bpf_map__name(m), "xsks_map"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", tgdir, bpf_map__name(m));
		fd = bpf_obj_get(path);
		CHECK(fd >= 0 && id_of(fd) == id_of(bpf_map__fd(m)),
		      "map %s is not reused from %s", bpf_map__name(m), path);
		if (fd >= 0)
			close(fd);
	}

	/* A map whose definition changed: a clear error, from us and from libbpf. */
	snprintf(bad, sizeof(bad), "%s/badroot", root);
	mkdir(bad, 0700);
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "tg_xdp_ifc", sizeof(struct tg_xdp_ifc_key),
			    sizeof(struct tg_xdp_ifc) + 8, TG_XDP_MAX_IFACES, NULL);
	snprintf(path, sizeof(path), "%s/tg_xdp_ifc", bad);
	CHECK(fd >= 0 && bpf_obj_pin(fd, path) == 0, "pin bad map: %s", strerror(errno));
	close(fd);
	snprintf(path, sizeof(path), "%s/trackgate", bad);
	rc = ctl_xdp_prepare(path, NULL, err, sizeof(err));
	CHECK(rc == -EEXIST && strstr(err, "value size") && strstr(err, "tg_xdp_ifc"),
	      "prepare over a changed map: rc %d, err '%s'", rc, err);
	if (rc)
		printf("  (expected) %s\n", err);
	fflush(stdout);
	libbpf_set_print(quiet);
	other = load(obj_path, bad);
	libbpf_set_print(NULL);
	if (other)
		bpf_object__close(other);
	CHECK(other == NULL, "libbpf reused a map whose definition changed");
}

/* ---- the cases, in order ---- */

/* Nothing published yet: the program stays out of the way. */
static void
test_before_publish(void **state)
{
	struct frame f;

	(void)state;
	v4(&f, 0, "198.51.100.10", IPPROTO_UDP, 6969, 6969, 0);
	expect("udp before publish", &f, XDP_PASS, TG_XDP_V_PASS_NO_CONFIG);
}

/* The demo link: tracks, blocked and not allowed sources, other traffic. */
static void
test_verdicts(void **state)
{
	struct frame f;

	(void)state;
	demo_link(&links[0]);
	publish(links, 1);

	v4(&f, 0, "198.51.100.10", IPPROTO_UDP, 6969, 6969, 0);
	expect("ipv4 track", &f, XDP_PASS, TG_XDP_V_NO_XSK);
	v4(&f, 0, "198.51.100.10", IPPROTO_UDP, 6969, 4242, 0);
	expect("ipv4 track, second port", &f, XDP_PASS, TG_XDP_V_NO_XSK);
	v4(&f, 1, "198.51.100.10", IPPROTO_UDP, 6969, 6969, 0);
	expect("vlan ipv4 track", &f, XDP_PASS, TG_XDP_V_NO_XSK);
	v6(&f, 0, "2001:db8:82::5", IPPROTO_UDP, 6969, 0, 0);
	expect("ipv6 track", &f, XDP_PASS, TG_XDP_V_NO_XSK);
	v6(&f, 1, "2001:db8:82::5", IPPROTO_UDP, 6969, 0, 0);
	expect("vlan ipv6 track", &f, XDP_PASS, TG_XDP_V_NO_XSK);

	v4(&f, 0, "198.51.100.66", IPPROTO_UDP, 6969, 6969, 0);
	expect("ipv4 blocked", &f, XDP_DROP, TG_XDP_V_DROP_BLOCKED);
	v4(&f, 1, "198.51.100.66", IPPROTO_UDP, 6969, 6969, 0);
	expect("vlan ipv4 blocked", &f, XDP_DROP, TG_XDP_V_DROP_BLOCKED);
	v6(&f, 0, "2001:db8:82:66::9", IPPROTO_UDP, 6969, 0, 0);
	expect("ipv6 blocked", &f, XDP_DROP, TG_XDP_V_DROP_BLOCKED);
	v4(&f, 0, "203.0.113.5", IPPROTO_UDP, 6969, 6969, 0);
	expect("ipv4 not allowed", &f, XDP_DROP, TG_XDP_V_DROP_NOT_ALLOWED);
	v6(&f, 0, "2001:db8:81::1", IPPROTO_UDP, 6969, 0, 0);
	expect("ipv6 not allowed", &f, XDP_DROP, TG_XDP_V_DROP_NOT_ALLOWED);

	v4(&f, 0, "203.0.113.5", IPPROTO_UDP, 5353, 53, 0);
	expect("other udp port", &f, XDP_PASS, TG_XDP_V_PASS_NOT_TRACK);
	v6(&f, 0, "2001:db8:81::1", IPPROTO_UDP, 53, 0, 0);
	expect("ipv6 other udp port", &f, XDP_PASS, TG_XDP_V_PASS_NOT_TRACK);
	arp(&f);
	expect("arp", &f, XDP_PASS, TG_XDP_V_PASS_NOT_TRACK);
	v4(&f, 0, "203.0.113.5", IPPROTO_ICMP, 0, 0, 0);
	expect("icmp", &f, XDP_PASS, TG_XDP_V_PASS_NOT_TRACK);
	v4(&f, 0, "198.51.100.66", IPPROTO_TCP, 40000, 22, 0);
	expect("tcp ssh from a blocked source", &f, XDP_PASS, TG_XDP_V_PASS_NOT_TRACK);
	v4(&f, 0, "198.51.100.10", IPPROTO_TCP, 40000, 6969, 0);
	expect("tcp to the track port", &f, XDP_PASS, TG_XDP_V_PASS_NOT_TRACK);
	v6(&f, 0, "2001:db8:81::1", 58 /* ICMPv6 */, 0, 0, 0);
	expect("icmpv6", &f, XDP_PASS, TG_XDP_V_PASS_NOT_TRACK);
}

/* Fragments: first fragments by port, later ones by protocol. */
static void
test_fragments(void **state)
{
	struct frame f;

	(void)state;
	v4(&f, 0, "198.51.100.10", IPPROTO_UDP, 6969, 6969, 0x2000 /* MF */);
	expect("ipv4 first fragment", &f, XDP_PASS, TG_XDP_V_NO_XSK);
	v4(&f, 0, "198.51.100.10", IPPROTO_UDP, 0x3c3f, 0x786d, 185);
	expect("ipv4 last fragment", &f, XDP_PASS, TG_XDP_V_NO_XSK);
	v4(&f, 0, "198.51.100.66", IPPROTO_UDP, 0, 0, 0x2000 | 185);
	expect("ipv4 middle fragment, blocked", &f, XDP_DROP, TG_XDP_V_DROP_BLOCKED);
	v4(&f, 0, "198.51.100.10", IPPROTO_ICMP, 0, 0, 185);
	expect("ipv4 icmp fragment", &f, XDP_PASS, TG_XDP_V_PASS_NOT_TRACK);
	v6(&f, 0, "2001:db8:82::5", IPPROTO_UDP, 6969, 1, 0x0001 /* offset 0, M */);
	expect("ipv6 first fragment", &f, XDP_PASS, TG_XDP_V_NO_XSK);
	v6(&f, 0, "2001:db8:82::5", IPPROTO_UDP, 1234, 1, 1480 /* offset 185*8 */);
	expect("ipv6 later fragment", &f, XDP_PASS, TG_XDP_V_NO_XSK);
	v6(&f, 0, "2001:db8:81::1", IPPROTO_UDP, 1234, 1, 1480);
	expect("ipv6 later fragment, not allowed", &f, XDP_DROP, TG_XDP_V_DROP_NOT_ALLOWED);
}

/* Truncated: UDP says IPv4 but the frame ends inside the UDP header. */
static void
test_truncated(void **state)
{
	struct frame f;

	(void)state;
	v4(&f, 0, "198.51.100.10", IPPROTO_UDP, 6969, 6969, 0);
	f.len = 14 + 20 + 4;
	expect("truncated udp", &f, XDP_PASS, TG_XDP_V_PASS_MALFORMED);
	v6(&f, 1, "2001:db8:82::5", IPPROTO_UDP, 6969, 0, 0);
	f.len = 14 + 4 + 30;
	expect("truncated vlan ipv6", &f, XDP_PASS, TG_XDP_V_PASS_MALFORMED);
}

/* Republish with a rate limit and a wider allow list: takes effect at once,
 * and the old slot is gone.  Burst 5 at 1 pps: 20 back-to-back packets in
 * one test run (microseconds) give exactly 5 through and 15 dropped.
 * Another source is unaffected. */
static void
test_republish_rate(void **state)
{
	struct frame f;
	uint64_t d[XDP_V_COUNT];
	int ret;

	(void)state;
	links[0].rate_pps = 1;
	links[0].rate_burst = 5;
	prefix(&links[0].allow[links[0].n_allow++], "203.0.113.0/24");
	publish(links, 1);
	CHECK(count_entries(TG_XDP_MAP_IFC, sizeof(struct tg_xdp_ifc_key)) == 1,
	      "old interface entry left behind");
	CHECK(count_entries(TG_XDP_MAP_ALLOW, sizeof(struct tg_xdp_lpm_key)) == 3,
	      "allow trie holds %u entries, want 3",
	      count_entries(TG_XDP_MAP_ALLOW, sizeof(struct tg_xdp_lpm_key)));
	v4(&f, 0, "203.0.113.5", IPPROTO_UDP, 6969, 6969, 0);
	expect("newly allowed source", &f, XDP_PASS, TG_XDP_V_NO_XSK);

	v4(&f, 0, "198.51.100.20", IPPROTO_UDP, 6969, 6969, 0);
	ret = run(&f, 20, d);
	CHECK(ret == XDP_DROP, "flood: last action %d", ret);
	CHECK(d[TG_XDP_V_NO_XSK] == 5 && d[TG_XDP_V_DROP_RATE] == 15,
	      "flood: %llu through, %llu rate-dropped; want 5 and 15",
	      (unsigned long long)d[TG_XDP_V_NO_XSK], (unsigned long long)d[TG_XDP_V_DROP_RATE]);
	v6(&f, 0, "2001:db8:82::20", IPPROTO_UDP, 6969, 0, 0);
	ret = run(&f, 7, d);
	CHECK(d[TG_XDP_V_NO_XSK] == 5 && d[TG_XDP_V_DROP_RATE] == 2,
	      "ipv6 flood: %llu through, %llu dropped", (unsigned long long)d[TG_XDP_V_NO_XSK],
	      (unsigned long long)d[TG_XDP_V_DROP_RATE]);
	v4(&f, 0, "198.51.100.21", IPPROTO_UDP, 6969, 6969, 0);
	expect("other source during a flood", &f, XDP_PASS, TG_XDP_V_NO_XSK);
	v4(&f, 0, "198.51.100.20", IPPROTO_UDP, 6969, 6969, 0);
	expect("flooder still held", &f, XDP_DROP, TG_XDP_V_DROP_RATE);
}

/* Bad input is refused and leaves the active config alone. */
static void
test_refused_publish(void **state)
{
	struct frame f;
	char err[512] = "";

	(void)state;
	memset(&links[1], 0, sizeof(links[1]));
	strcpy(links[1].name, "ghost");
	strcpy(links[1].iface, "no-such-if0");
	CHECK(ctl_xdp_publish(tgdir, links, 2, err, sizeof(err)) == -ENODEV &&
		      strstr(err, "no-such-if0"),
	      "unknown interface accepted: %s", err);
	v4(&f, 0, "198.51.100.66", IPPROTO_UDP, 6969, 6969, 0);
	expect("config intact after a refused publish", &f, XDP_DROP, TG_XDP_V_DROP_BLOCKED);
}

/* No links: back to passing everything. */
static void
test_unpublish(void **state)
{
	struct frame f;

	(void)state;
	publish(links, 0);
	v4(&f, 0, "198.51.100.66", IPPROTO_UDP, 6969, 6969, 0);
	expect("after unpublish", &f, XDP_PASS, TG_XDP_V_PASS_NO_CONFIG);
	CHECK(count_entries(TG_XDP_MAP_BLOCK, sizeof(struct tg_xdp_lpm_key)) == 0,
	      "block trie not emptied");
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(ctl_xdp_verdict_name(TG_XDP_V_DROP_RATE), "drop_rate");
	assert_string_equal(ctl_xdp_verdict_name(99), "?");
}

/* trackgate's dir first, as in production; then load as the PMD does. */
static int
setup(void **state)
{
	char err[512];

	(void)state;
	if (ctl_xdp_prepare(tgdir, NULL, err, sizeof(err))) {
		fprintf(stderr, "prepare: %s\n", err);
		return -1;
	}
	obj = load(obj_path, root);
	if (!obj) {
		fprintf(stderr, "cannot load %s\n", obj_path);
		return -1;
	}
	prog_fd = bpf_program__fd(bpf_object__next_program(obj, NULL));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (obj)
		bpf_object__close(obj);
	obj = NULL;
	return 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reuse_and_mismatch),
		cmocka_unit_test(test_before_publish),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_republish_rate),
		cmocka_unit_test(test_refused_publish),
		cmocka_unit_test(test_unpublish),
		cmocka_unit_test(test_names),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s xdp_prefilter.bpf.o\n", argv[0]);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: needs root (BPF_PROG_TEST_RUN, bpffs)\n");
		return 77;
	}
	obj_path = argv[1];
	/* Private mount namespace and bpffs: the host's /sys/fs/bpf is untouched. */
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		fprintf(stderr, "SKIP: cannot make a private mount namespace: %s\n",
			strerror(errno));
		return 77;
	}
	snprintf(root, sizeof(root), "/tmp/tg_xdp_test.XXXXXX");
	if (!mkdtemp(root) || mount("bpf", root, "bpf", 0, NULL)) {
		fprintf(stderr, "SKIP: cannot mount bpffs: %s\n", strerror(errno));
		return 77;
	}
	atexit(cleanup);
	snprintf(tgdir, sizeof(tgdir), "%s/trackgate", root);
	lo_ifindex = if_nametoindex("lo");
	return cmocka_run_group_tests(tests, setup, teardown);
}
