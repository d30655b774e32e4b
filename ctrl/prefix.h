/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * prefix.h - an IPv4 or IPv6 source prefix as the policy (allow_sources,
 * block_sources) and the XDP pre-filter's tables (xdp_publish.c) hold it,
 * and the one parser of its text form.
 */
#ifndef CTL_PREFIX_H
#define CTL_PREFIX_H

#include <stdbool.h>
#include <stdint.h>

/* Longest text ctl_prefix_parse() reads, NUL excluded; longer is an error. */
#define CTL_PREFIX_TEXT_MAX 63

struct ctl_prefix {
	uint8_t family;   /* 4 or 6 */
	uint8_t len;      /* prefix length in bits */
	uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes */
};

/*
 * Parse "198.51.100.0/24", "2001:db8::/32" or a bare address (a host: /32 or
 * /128) into *out.  Bits past the length are kept as written: see
 * ctl_prefix_has_host_bits().  0 or -EINVAL.
 */
int ctl_prefix_parse(const char *text, struct ctl_prefix *out);

/* Whether any address bit past the prefix length is set. */
bool ctl_prefix_has_host_bits(const struct ctl_prefix *p);

#endif /* CTL_PREFIX_H */
