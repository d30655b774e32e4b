/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * reassembly.c - IP reassembly with DPDK's rte_ip_frag, and an honest count
 * of what it drops.
 *
 * rte_ip_frag hands back every fragment it lets go on a "death row" that the
 * caller frees, sized for one RX burst (RTE_IP_FRAG_DEATH_ROW_MBUF_LEN).
 * Here the row is emptied after every call, so no pattern of traffic, on any
 * number of queues, can overflow it, and what each call put there is known
 * to belong to that call.  DPDK 22.11 lets fragments go in these cases
 * (lib/ip_frag, ip_frag_find and ip_frag_process):
 *   - looking up a fragment's datagram deletes at most one timed-out entry
 *     (a stale entry in the bucket, the oldest entry of a full table, or the
 *     datagram's own entry when it has timed out): its fragments, one run on
 *     the row, are a datagram that timed out;
 *   - no room for the datagram: the fragment alone goes on the row (the
 *     table did not delete anything in that call);
 *   - a duplicate first or last fragment, more fragments than an entry
 *     holds, fragments adding up to more than the datagram, or pieces that
 *     do not join: every fragment of the datagram, the new one included.
 * So one call frees the fragments of at most two datagrams, and each
 * datagram's fragments are consecutive on the row.  The datagram of the
 * fragment just offered is the run that contains it: alone, the table was
 * full; with others, the set was inconsistent (overlap).  Any other run is a
 * timeout.  Runs are told apart by the datagram key in their L3 headers
 * (fragments on the row are never adjusted; entries in one table have
 * distinct keys).  A datagram refused for lack of room is refused once per
 * fragment: the worker remembers the last refusals by key (frag_refused),
 * so that it is counted once while fewer than a few hundred other refusals
 * came between its fragments.
 */
#include "reassembly.h"

#include <string.h>

#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>

#include "dp.h"

/* The key rte_ip_frag files a fragment under, from its L3 header (which
 * fragments on the death row still hold): source, destination and id, and
 * for IPv4 the protocol.  Word-aligned for rte_hash_crc. */
struct frag_key {
	uint32_t w[10];
};

static void
frag_key(const struct rte_mbuf *m, struct frag_key *k)
{
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);

	memset(k, 0, sizeof(*k));
	if ((p[0] >> 4) == 4) {
		memcpy(k->w, p + 12, 8);   /* source, destination */
		memcpy(&k->w[2], p + 4, 2); /* id */
		k->w[3] = p[9];             /* protocol */
	} else {
		memcpy(k->w, p + 8, 32);    /* source, destination */
		memcpy(&k->w[8], p + sizeof(struct rte_ipv6_hdr) + 4, 4); /* fragment id */
		k->w[9] = 6;
	}
}

/* The fragments of a datagram the table had no room for are counted once
 * (frag_table_full), not once per fragment. */
static void
count_table_full(struct dp_worker *w, const struct frag_key *k)
{
	uint32_t h = rte_hash_crc(k, sizeof(*k), 0) | 1; /* 0: an empty slot */
	uint32_t *slot = &w->frag_refused[h % RTE_DIM(w->frag_refused)];

	if (*slot != h) {
		*slot = h;
		w->cnt.reason[TG_R_FRAG_TABLE_FULL]++;
	}
}

/* Count the datagrams on the death row (see the top of the file), free
 * them, and leave the row empty.  `offered` is the fragment of this call:
 * if it is on the row, its datagram was dropped (NULL for expiry). */
static void
settle(struct dp_worker *w, const struct rte_mbuf *offered, unsigned timeout_reason)
{
	struct rte_ip_frag_death_row *dr = &w->death_row;
	uint32_t i = 0;

	while (i < dr->cnt) {
		struct frag_key k, kj;
		uint32_t j = i + 1;
		bool has_offered = dr->row[i] == offered;

		frag_key(dr->row[i], &k);
		for (; j < dr->cnt; j++) {
			frag_key(dr->row[j], &kj);
			if (memcmp(&k, &kj, sizeof(k)) != 0)
				break;
			has_offered |= dr->row[j] == offered;
		}
		if (!has_offered)
			w->cnt.reason[timeout_reason]++;
		else if (j - i == 1)
			count_table_full(w, &k);
		else
			w->cnt.reason[TG_R_FRAG_OVERLAP]++;
		i = j;
	}
	rte_ip_frag_free_death_row(dr, 3);
}

struct rte_mbuf *
dp_reasm_ipv4(struct dp_worker *w, struct rte_mbuf *m, uint64_t tsc, struct rte_ipv4_hdr *ip)
{
	struct rte_mbuf *r = rte_ipv4_frag_reassemble_packet(w->frag_tbl, &w->death_row, m, tsc, ip);

	if (w->death_row.cnt)
		settle(w, m, TG_R_FRAG_TIMEOUT);
	return r;
}

struct rte_mbuf *
dp_reasm_ipv6(struct dp_worker *w, struct rte_mbuf *m, uint64_t tsc, struct rte_ipv6_hdr *ip,
	      struct rte_ipv6_fragment_ext *fh)
{
	struct rte_mbuf *r =
		rte_ipv6_frag_reassemble_packet(w->frag_tbl, &w->death_row, m, tsc, ip, fh);

	if (w->death_row.cnt)
		settle(w, m, TG_R_FRAG_TIMEOUT);
	return r;
}

/* rte_ip_frag_table_del_expired_entries() stops while the row has room for
 * a whole entry less than it might need: call it until it frees nothing. */
static void
expire_all(struct dp_worker *w, uint64_t tsc, unsigned reason)
{
	for (;;) {
		rte_ip_frag_table_del_expired_entries(w->frag_tbl, &w->death_row, tsc);
		if (w->death_row.cnt == 0)
			return;
		settle(w, NULL, reason);
	}
}

void
dp_reasm_expire(struct dp_worker *w, uint64_t tsc)
{
	expire_all(w, tsc, TG_R_FRAG_TIMEOUT);
}

int
dp_reasm_create(struct dp_worker *w, uint32_t flows, uint64_t timeout_cycles, int socket)
{
	/* rte_ip_frag_table_create() wants bucket_entries * buckets >= flows */
	w->frag_tbl = rte_ip_frag_table_create(flows, 8, flows, timeout_cycles, socket);
	memset(&w->death_row, 0, sizeof(w->death_row));
	return w->frag_tbl ? 0 : -1;
}

void
dp_reasm_destroy(struct dp_worker *w)
{
	if (w->frag_tbl == NULL)
		return;
	/* Every entry is older than "the end of time": each is a datagram that
	 * was still waiting for fragments when trackgate stopped. */
	expire_all(w, UINT64_MAX - (UINT64_MAX >> 2), TG_R_FRAG_UNFINISHED);
	rte_ip_frag_table_destroy(w->frag_tbl);
	w->frag_tbl = NULL;
}
