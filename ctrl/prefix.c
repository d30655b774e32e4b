/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * prefix.c - the one parser of source prefixes: the policy loader reports
 * its failures at file:line:col, the XDP test tools call it directly.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "prefix.h"

int
ctl_prefix_parse(const char *text, struct ctl_prefix *out)
{
	char buf[CTL_PREFIX_TEXT_MAX + 1];
	char *slash, *end;
	unsigned long len;
	unsigned int max;
	size_t n = strlen(text);

	memset(out, 0, sizeof(*out));
	if (n > CTL_PREFIX_TEXT_MAX)
		return -EINVAL;
	memcpy(buf, text, n + 1);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
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
	if (slash != NULL) {
		/* digits only: strtoul would take a sign or leading blanks */
		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || errno != 0 || len > max)
			return -EINVAL;
	}
	out->len = (uint8_t)len;
	return 0;
}

bool
ctl_prefix_has_host_bits(const struct ctl_prefix *p)
{
	unsigned int i, max = p->family == 4 ? 32 : 128;

	for (i = p->len; i < max; i++)
		if (p->addr[i / 8] & (0x80u >> (i % 8)))
			return true;
	return false;
}
