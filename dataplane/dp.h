/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp.h - the types the parts of the dataplane share (configuration, ports,
 * the runtime policy, the worker) and the process-wide state.  Each .c
 * file's functions are declared in its own header.
 *
 *   main.c          command line, EAL, ports, lcore launch, ordered teardown
 *   dp_globals.c    the process-wide state below and its defaults
 *   ports.[ch]      port and mempool set-up, RX queue assignment
 *   policy_swap.[ch] control thread: new generation -> runtime policy -> RCU
 *                   swap; the acknowledgement; the bpffs directory watched
 *   worker.[ch]     the per-lcore loop: rx -> frame -> decide -> forward
 *   decide.[ch]     one message's decision (also `tgctl explain`'s)
 *   pkt_parse.[ch]  Ethernet/VLAN/IP/UDP: frame -> message
 *   reassembly.[ch] IP fragments -> datagram, every drop counted by datagram
 *   cot_parse.[ch]  the CoT parser (cot_names.h: its error names)
 *   takproto.[ch]   TAK Protocol v1 (protobuf): the decoder cot_parse calls
 *   cot_write.[ch]  CoT XML written from a v1 event (its detail text, and
 *                   the conversion for peers with `encoding: xml`)
 *   classify.[ch]   Hyperscan scans of one message (payload, then fields);
 *                   scan_match.h: what a match means, scan_prefilter.h: when
 *                   a field's prefiltered database runs, scope_text.h
 *   release.h       the per-peer decision (docs/release.md §5), pure
 *   second_check.[ch] the independent re-derivation of releasability
 *   sanitize.[ch]   a peer's sanitized copy (release.md §6)
 *   sanitize_check.[ch] its second check, with its own code (release.md §7)
 *   exact_cache.[ch] per-worker result tables on exact keys, for:
 *   marking_cache.[ch] marking resolutions, and
 *   early_cache.[ch] verdicts of the early scopes
 *   hdr_build.[ch]  a peer's Ethernet/VLAN/IP/UDP header and checksums
 *   forward.[ch]    payload clones, fragmentation, buffered TX
 *   stats.[ch]      per-lcore counters -> stats map, telemetry, exit report
 *   audit.[ch]      audit records, their ring and the writer thread
 */
#ifndef DP_H
#define DP_H

#include <stdbool.h>
#include <stdint.h>

#include <hs/hs.h>
#include <rte_common.h>
#include <rte_ip_frag.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_spinlock.h>

#include "comb.h"
#include "cot_parse.h"
#include "hdr_build.h"
#include "marking_cache.h"
#include "sanitize.h"
#include "sanitize_check.h"
#include "tg_maps.h"

#define DP_MAX_WORKERS 64
#define DP_MAX_PORTS 32
#define DP_MAX_RXQ_PER_WORKER 64
#define DP_BURST 32
#define DP_TX_BURST 32
#define DP_MAX_FRAGS 8 /* fragments per released datagram per peer */
#define DP_UDP_PAYLOAD_MAX 65507 /* the largest UDP payload over IPv4 */
#define DP_MK_CACHE_ENTRIES 1024 /* marking resolutions per worker */
#define DP_EARLY_CACHE_ENTRIES 4096 /* early-scope verdicts per worker */

enum dp_audit_level { DP_AUDIT_OFF = 0, DP_AUDIT_DROPS, DP_AUDIT_ALL };

struct dp_config {
	const char *bpffs;
	const char *audit_path;
	enum dp_audit_level audit_level;
	bool second_check;        /* issue 6: independent re-check before TX */
	unsigned stats_interval_ms;
	unsigned frag_timeout_ms;
	unsigned frag_max_flows;
	unsigned nb_rxd, nb_txd;
	unsigned tx_drain_us;     /* flush TX once the oldest buffered release is this old */
	bool stage_cycles;        /* keep per-stage TSC counters */
	bool exit_when_idle;      /* pcap replays: quit once input is drained */
	unsigned idle_exit_ms;
};

/* A port as the dataplane found it at start-up. */
struct dp_port {
	uint16_t port_id;
	char dev[TG_DEV_MAX];
	uint16_t nb_rxq, nb_txq;
	bool multiseg_tx;   /* else frames are linearised before TX */
	bool tx_shared;     /* fewer TX queues than workers: TX takes tx_lock */
	rte_spinlock_t tx_lock;
};

/* Per (worker, peer) counters; live in the policy whose indices they use. */
struct dp_peer_cnt {
	uint64_t released;
	uint64_t bytes;
	uint64_t sanitized; /* sanitized copies handed to TX (release.md §6) */
	uint64_t withheld[TG_R_COUNT];
};

/* The policy as workers use it: immutable once published to them. */
struct dp_policy {
	uint64_t generation;
	struct tg_slot_hdr hdr;
	struct tg_link links[TG_MAX_LINKS];
	struct tg_peer peers[TG_MAX_PEERS];
	struct tg_rule *rules;               /* sorted by scope, then id */
	uint32_t scope_first[TG_SCOPE_COUNT]; /* rules[] range of each scope */
	uint32_t scope_n[TG_SCOPE_COUNT];
	uint32_t late_classes;               /* tg_late_classes() of rules */
	struct cot_limits limits;            /* hdr.max_field_bytes, max_remarks_bytes */
	hs_database_t *db[TG_HSDB_REFS];       /* as in tg_slot_hdr.hsdb */
	hs_scratch_t *scratch[DP_MAX_WORKERS];
	uint32_t *comb_words;                  /* tg_slot_hdr.comb, NULL: none */
	struct comb_table comb;                /* points into comb_words */
	struct comb_state *comb_state[DP_MAX_WORKERS];
	int8_t link_of_port[RTE_MAX_ETHPORTS];  /* -1: no link on this port */
	int16_t peer_port[TG_MAX_PEERS];        /* port id, -1: device absent */
	int16_t peer_pidx[TG_MAX_PEERS];        /* index into dp_ports[] */
	struct fwd_tmpl tmpl[TG_MAX_PEERS];
	/* Counters that only mean something for this policy's indices; folded
	 * into per-name totals when the policy is retired. */
	struct dp_peer_cnt *peer_cnt;           /* [n_workers][TG_MAX_PEERS] */
	uint64_t *rule_hits;                    /* [n_workers][n_rules] */
	uint64_t *rule_hits_reported;           /* [n_rules] */
};

/* Per-lcore counters: written by one worker, read racily by the control thread. */
struct dp_counters {
	uint64_t rx_packets;
	uint64_t messages;
	uint64_t audit_lost;
	uint64_t reason[TG_R_COUNT];
	uint64_t parse_err[COT_E_COUNT];
	uint64_t prefilter_scanned[TG_SCOPE_COUNT]; /* see tg_stats */
	uint64_t prefilter_skipped[TG_SCOPE_COUNT];
	uint64_t scan_skipped; /* see tg_stats */
	uint64_t enc_messages[COT_ENC_COUNT];          /* see tg_stats */
	uint64_t enc_reason[COT_ENC_COUNT][TG_R_COUNT];
	uint64_t converted;
	uint64_t cycles[5]; /* parse, scan, decide, forward, second check */
	uint64_t cycles_msgs;
} __rte_cache_aligned;

/* Hub transit latency, RX burst to TX burst, in DP_LAT_BUCKET_NS buckets;
 * the last bucket holds everything slower. */
#define DP_LAT_BUCKETS 2048
#define DP_LAT_BUCKET_NS 100
struct dp_latency {
	uint64_t bucket[DP_LAT_BUCKETS];
} __rte_cache_aligned;

struct dp_txbuf {
	uint16_t n;
	uint8_t peer[DP_TX_BURST];   /* peer index | DP_TXTAG_COUNT */
	uint32_t bytes[DP_TX_BURST];
	uint64_t rx_tsc[DP_TX_BURST]; /* when the message's last frame arrived */
	struct rte_mbuf *m[DP_TX_BURST];
};
#define DP_TXTAG_COUNT 0x80 /* this frame carries a whole message (count it) */

struct dp_rxq {
	uint16_t port_id, queue_id;
};

struct dp_worker {
	unsigned idx;       /* 0..n_workers-1: RCU thread id, TX queue, scratch */
	unsigned lcore_id;
	unsigned n_rxq;
	struct dp_rxq rxq[DP_MAX_RXQ_PER_WORKER];
	struct dp_txbuf tx[DP_MAX_PORTS];
	struct rte_ip_frag_tbl *frag_tbl;
	struct mk_cache *mk_cache;       /* NULL: every marking resolved */
	struct early_cache *early_cache; /* NULL: the early scopes are always scanned */
	struct rte_ip_frag_death_row death_row; /* empty between calls (reassembly.c) */
	uint32_t frag_refused[256];  /* datagrams refused for room, by key hash */
	uint64_t iter;      /* passes of dp_worker_iterate() */
	uint64_t last_rx_tsc;
	uint64_t rx_tsc;    /* TSC right after the current RX burst */
	uint64_t tx_oldest_tsc; /* rx_tsc of the oldest frame buffered for TX */
	bool tx_pending;        /* some tx[].n != 0 */
	uint16_t ip_id;
	uint32_t frag_id;
	struct dp_counters cnt;
	struct dp_latency lat;
	struct cot_event ev;
	struct cot_cursor cursor; /* where cot_parse_head() left ev's payload */
	uint8_t linbuf[65536] __rte_aligned(64);
	char xmlbuf[DP_UDP_PAYLOAD_MAX]; /* a v1 message converted to XML (release.md §6) */
	char sanbuf[DP_SAN_COPIES][DP_UDP_PAYLOAD_MAX]; /* sanitized copies (release.md §6) */
	char san_detail[65536];                       /* a copy's detail on the way */
	uint8_t scs_scratch[SCS_SCRATCH];             /* the second check of a copy */
	char fieldbuf[3 * TG_FIELD_LIMIT_MAX + 3]; /* the marking scope's text */
} __rte_cache_aligned;

/* ---- global state (dp_globals.c) ---- */
extern struct dp_config dp_cfg;
extern struct dp_port dp_ports[DP_MAX_PORTS];
extern unsigned dp_n_ports;
extern struct dp_worker *dp_workers[DP_MAX_WORKERS];
extern unsigned dp_n_workers;
extern bool dp_quit; /* set by a signal: __atomic loads and stores only */
extern struct dp_policy *dp_active; /* RCU-protected: __atomic loads */
extern struct rte_rcu_qsbr *dp_qsbr;
extern struct rte_mempool *dp_pool_rx, *dp_pool_hdr, *dp_pool_indirect, *dp_pool_linear;
extern struct rte_mempool *dp_pool_copy; /* payloads the dataplane writes */
extern uint64_t dp_lat_cycles_per_bucket;
extern uint64_t dp_tx_drain_cycles;

#endif /* DP_H */
