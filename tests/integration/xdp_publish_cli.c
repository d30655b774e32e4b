/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp_publish_cli.c - test helper standing in for tgctl: drives
 * ctrl/xdp_publish.c from the command line.  Built for tests only.
 *
 *   xdp_publish_cli prepare <bpffs_dir>
 *   xdp_publish_cli publish <bpffs_dir> <link> <iface> <ports> <pps> <burst> <allow> <block>
 *       ports: 6969,4242   allow/block: 198.51.100.0/24,2001:db8::/32 or - for none
 *   xdp_publish_cli unpublish <bpffs_dir>
 *   xdp_publish_cli stats <bpffs_dir>        one "name value" line per verdict
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xdp_publish.h"

static int
prefixes(const char *arg, struct ctl_prefix *out, uint16_t *n)
{
	char buf[4096], *tok, *save = NULL;

	*n = 0;
	if (strcmp(arg, "-") == 0)
		return 0;
	snprintf(buf, sizeof(buf), "%s", arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n >= XDP_LINK_MAX_PREFIXES || ctl_prefix_parse(tok, &out[*n])) {
			fprintf(stderr, "bad or too many prefixes at '%s'\n", tok);
			return -1;
		}
		(*n)++;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct xdp_link_cfg l;
	uint64_t v[XDP_V_COUNT];
	char err[512], buf[256], *tok, *save = NULL;
	unsigned i;

	if (argc >= 3 && strcmp(argv[1], "prepare") == 0) {
		if (ctl_xdp_prepare(argv[2], NULL, err, sizeof(err)))
			goto fail;
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "unpublish") == 0) {
		if (ctl_xdp_publish(argv[2], NULL, 0, err, sizeof(err)))
			goto fail;
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "stats") == 0) {
		if (ctl_xdp_read_verdicts(argv[2], v, err, sizeof(err)))
			goto fail;
		for (i = 0; i < XDP_V_COUNT; i++)
			printf("%s %llu\n", ctl_xdp_verdict_name(i), (unsigned long long)v[i]);
		return 0;
	}
	if (argc == 10 && strcmp(argv[1], "publish") == 0) {
		snprintf(l.name, sizeof(l.name), "%s", argv[3]);
		snprintf(l.iface, sizeof(l.iface), "%s", argv[4]);
		snprintf(buf, sizeof(buf), "%s", argv[5]);
		for (tok = strtok_r(buf, ",", &save); tok && l.n_udp_ports < 8;
		     tok = strtok_r(NULL, ",", &save))
			l.udp_ports[l.n_udp_ports++] = (uint16_t)atoi(tok);
		l.rate_pps = (uint32_t)strtoul(argv[6], NULL, 10);
		l.rate_burst = (uint32_t)strtoul(argv[7], NULL, 10);
		if (prefixes(argv[8], l.allow, &l.n_allow) || prefixes(argv[9], l.block, &l.n_block))
			return 2;
		if (ctl_xdp_publish(argv[2], &l, 1, err, sizeof(err)))
			goto fail;
		return 0;
	}
	fprintf(stderr, "usage: see the header of xdp_publish_cli.c\n");
	return 2;
fail:
	fprintf(stderr, "%s: %s\n", argv[1], err);
	return 1;
}
