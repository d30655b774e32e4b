/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * reassembly.h - IP reassembly in each worker's own, bounded rte_ip_frag
 * table, with every fragment the table lets go accounted for by datagram
 * (docs/release.md §1).  See reassembly.c.
 */
#ifndef DP_REASSEMBLY_H
#define DP_REASSEMBLY_H

#include <stdint.h>

struct dp_worker;
struct rte_mbuf;
struct rte_ipv4_hdr;
struct rte_ipv6_hdr;
struct rte_ipv6_fragment_ext;

/* The worker's table: `flows` datagrams at most, each `timeout_cycles` TSC
 * cycles from its first fragment.  0 or -1 (rte_errno set). */
int dp_reasm_create(struct dp_worker *w, uint32_t flows, uint64_t timeout_cycles, int socket);

/* Count every datagram still incomplete as frag_unfinished, free its
 * fragments and the table.  Call once the worker has stopped. */
void dp_reasm_destroy(struct dp_worker *w);

/*
 * Offer one fragment (m->l2_len and m->l3_len set, the headers in its first
 * segment, Ethernet padding trimmed) to the table at time `tsc`.  Returns
 * the reassembled datagram (a chain starting with the first fragment), or
 * NULL: then m is no longer the caller's, because the table holds it, or
 * because it was freed with its datagram and counted (frag_table_full,
 * frag_overlap).  Datagrams the table timed out on the way are counted as
 * frag_timeout.  The table's death row is empty again on return.
 */
struct rte_mbuf *dp_reasm_ipv4(struct dp_worker *w, struct rte_mbuf *m, uint64_t tsc,
			       struct rte_ipv4_hdr *ip);
struct rte_mbuf *dp_reasm_ipv6(struct dp_worker *w, struct rte_mbuf *m, uint64_t tsc,
			       struct rte_ipv6_hdr *ip, struct rte_ipv6_fragment_ext *fh);

/* Time out, count (frag_timeout) and free datagrams older than the timeout. */
void dp_reasm_expire(struct dp_worker *w, uint64_t tsc);

#endif /* DP_REASSEMBLY_H */
