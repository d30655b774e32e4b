/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tg_maps.h - the contract between tgctl (writer) and trackgate (reader).
 *
 * Every map here is a pinned BPF array in the trackgate bpffs directory
 * (default /sys/fs/bpf/trackgate).  All are BPF_F_MMAPABLE so both sides map
 * them and use plain loads/stores; the publish protocol below makes that safe.
 *
 * Double buffer: every policy table has two slots.  tgctl writes the slot that
 * is not active, bumping that slot's seqcount to odd before and to even after;
 * then it flips tg_ctl.active_slot and tg_ctl.generation (under tg_ctl.seq).
 * A reader copies a slot and accepts the copy only if the slot seqcount was
 * even and unchanged across the copy and the control block still names it.
 *
 * Sizes are fixed here because a pinned map's definition cannot change under
 * a running reader; changing any of them bumps TG_MAPS_ABI.
 */
#ifndef TG_MAPS_H
#define TG_MAPS_H

#include <stdint.h>

#define TG_MAPS_MAGIC 0x54524b47u /* "TRKG" */
#define TG_MAPS_ABI 9

#define TG_DEFAULT_BPFFS "/sys/fs/bpf/trackgate"

/* Map names: also their pin file names in the bpffs directory. */
#define TG_MAP_CTL "tg_ctl"
#define TG_MAP_LINKS "tg_links"
#define TG_MAP_PEERS "tg_peers"
#define TG_MAP_RULES "tg_rules"
#define TG_MAP_HSDB "tg_hsdb"
#define TG_MAP_STATS "tg_stats"
#define TG_MAP_RULE_HITS "tg_rule_hits"

#define TG_SLOTS 2
#define TG_MAX_LINKS 16
#define TG_MAX_PEERS 32
#define TG_MAX_GROUPS 64
#define TG_MAX_NATIONS 64 /* nations that peers have: a nation set is a u64 */
#define TG_MAX_CLASSES 32 /* a class set is a u32 */
#define TG_MAX_RULES 16384
#define TG_MAX_LINK_PORTS 8
#define TG_NAME_MAX 32
#define TG_DEV_MAX 64
#define TG_MARKING_MAX 128
#define TG_PATH_MAX 256

/* Serialized Hyperscan databases: 4 KiB chunks, 32 MiB per slot. */
#define TG_HSDB_CHUNK 4096
#define TG_HSDB_SLOT_BYTES (32u << 20)
#define TG_HSDB_SLOT_CHUNKS (TG_HSDB_SLOT_BYTES / TG_HSDB_CHUNK)

/* What a rule is matched against.  PAYLOAD is the whole UDP payload; the
 * others are one field of the parsed CoT event.  At most two databases per
 * scope (TG_HSDB_REFS), so a packet is scanned a bounded number of times
 * whatever the rule count. */
enum tg_scope {
	TG_SCOPE_PAYLOAD = 0,
	TG_SCOPE_TYPE,
	TG_SCOPE_HOW,
	TG_SCOPE_UID,
	TG_SCOPE_CALLSIGN,
	TG_SCOPE_REMARKS,
	TG_SCOPE_DETAIL,
	TG_SCOPE_MARKING, /* access, then caveat, then releasableTo, '\n'-joined */
	TG_SCOPE_COUNT
};

/*
 * The early scopes: short fields of the event, scanned for every message
 * before the decision (docs/release.md §5).  The payload and the other
 * fields are scanned only when some peer can still receive the message,
 * which depends on the classes the late scopes' rules can add.
 */
#define TG_EARLY_SCOPES                                                                   \
	((1u << TG_SCOPE_TYPE) | (1u << TG_SCOPE_HOW) | (1u << TG_SCOPE_UID) |             \
	 (1u << TG_SCOPE_MARKING))

enum tg_action {
	TG_ACT_NONE = 0, /* operand of combinations only (HS_FLAG_QUIET) */
	TG_ACT_CLASSIFY,
	TG_ACT_BLOCK,
};

/* Rule flags, mapped to Hyperscan flags by tgctl. */
#define TG_RF_CASELESS (1u << 0)
#define TG_RF_DOTALL (1u << 1)
#define TG_RF_SINGLEMATCH (1u << 2)
#define TG_RF_COMBINATION (1u << 3)
#define TG_RF_MULTILINE (1u << 4)

/* Classification levels, ordered. */
enum tg_level {
	TG_LVL_UNCLASSIFIED = 0,
	TG_LVL_CONFIDENTIAL = 1,
	TG_LVL_SECRET = 2,
	TG_LVL_TOP_SECRET = 3,
	TG_LVL_NONE = 0xff, /* no classification known */
};

/* A parsed marking: resolved against the policy's nation table and its
 * register of controls (tg_slot_hdr.controls). */
struct tg_marking {
	uint8_t level;     /* enum tg_level, TG_LVL_NONE if absent */
	uint8_t has_rel;   /* a REL TO list was present */
	uint8_t noforn;    /* NOFORN caveat present */
	uint8_t blocked;   /* 1 + index of the first `block` control, 0: none */
	uint32_t peer_mask; /* `peers:` controls: bit i = peers[i]; ~0: no restriction */
	uint64_t rel_mask; /* bit i = nations[i] */
	uint64_t controls; /* declared controls carried: bit i = controls[i] */
	uint64_t ctl_nations; /* `nations:` controls, intersected; ~0: no restriction */
};

/*
 * Message encodings (docs/release.md §1): the index of a message's encoding
 * is dataplane/cot_parse.h's enum cot_encoding; a link accepts a set of them.
 */
#define TG_ENC_COUNT 2           /* xml, takproto-v1 */
#define TG_ENC_F_XML (1u << 0)
#define TG_ENC_F_TAKV1 (1u << 1)
#define TG_ENC_F_ALL (TG_ENC_F_XML | TG_ENC_F_TAKV1)

/* What a peer gets (release.md §6). */
enum tg_peer_encoding {
	TG_PEER_ENC_AS_RECEIVED = 0, /* the bytes that arrived */
	TG_PEER_ENC_XML = 1,         /* v1 converted to CoT XML, XML as is */
};

struct tg_link {
	char name[TG_NAME_MAX];
	char dev[TG_DEV_MAX]; /* DPDK device name, e.g. net_pcap0, 0000:3b:00.0 */
	uint16_t udp_ports[TG_MAX_LINK_PORTS];
	uint8_t n_udp_ports;
	uint8_t has_default_marking;
	uint8_t encodings;   /* TG_ENC_F_*: the encodings the link accepts */
	uint8_t pad;
	uint32_t rate_pps;   /* XDP per-source rate, 0 = unlimited */
	uint32_t rate_burst; /* XDP token bucket depth */
	struct tg_marking default_marking;
	char default_marking_text[TG_MARKING_MAX];
};

struct tg_peer {
	char name[TG_NAME_MAX];
	char dev[TG_DEV_MAX];
	char nation[4];      /* ISO 3166 trigraph, NUL-terminated */
	uint8_t nation_idx;  /* index into tg_slot_hdr.nations */
	uint8_t clearance;   /* enum tg_level */
	uint8_t ip_version;  /* 4 or 6 */
	uint8_t has_vlan;
	uint32_t classes;    /* bit i = tg_slot_hdr.classes[i] */
	int16_t link_idx;    /* the link this peer sits behind, -1 = none */
	uint16_t vlan_tci;
	uint16_t mtu;        /* L3 MTU of the peer link */
	uint16_t src_port;
	uint16_t dst_port;
	uint8_t ttl;
	uint8_t dscp;
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
	uint8_t src_ip[16];  /* IPv4 in the first 4 bytes, network order */
	uint8_t dst_ip[16];
	uint8_t encoding;    /* enum tg_peer_encoding */
	uint8_t index;       /* its position in peers[]: set by the dataplane */
	uint16_t sanitize;   /* its `sanitize` entries: bit i = tg_slot_hdr.sanitize[i] */
};

struct tg_rule {
	uint32_t id;       /* operator's id; also the Hyperscan expression id */
	uint8_t action;    /* enum tg_action */
	uint8_t scope;     /* enum tg_scope */
	uint8_t class_idx; /* for TG_ACT_CLASSIFY */
	uint8_t pad;
	uint32_t flags;    /* TG_RF_* */
	uint32_t line;     /* line in the policy file, for audit and show */
	char name[TG_NAME_MAX];
	char reason[TG_NAME_MAX]; /* for TG_ACT_BLOCK */
};

struct tg_group {
	char name[TG_NAME_MAX];
	uint64_t mask; /* over nations[]; members no peer has are dropped */
};

/*
 * The operator's register of dissemination controls (docs/policy.md
 * `controls`, release.md §3).  A control set is a u64: at most 64 controls.
 * Names (and aliases) are canonical: upper case, words joined by one space.
 */
#define TG_MAX_CONTROLS 64
#define TG_MAX_CONTROL_NAMES 128
enum tg_ctl_effect {
	TG_CE_PASS = 0, /* recorded, no effect */
	TG_CE_BLOCK,    /* released to no one */
	TG_CE_NATIONS,  /* releasability intersected with `nations` */
	TG_CE_PEERS,    /* only the peers in `peers` */
};
enum tg_ctl_builtin {
	TG_CB_NONE = 0,
	TG_CB_NOFORN, /* NOFORN / NF declared: its USA narrowing stays, whatever the effect */
	TG_CB_FOUO,
};
struct tg_control {
	char name[TG_NAME_MAX];
	uint8_t effect;  /* enum tg_ctl_effect */
	uint8_t builtin; /* enum tg_ctl_builtin */
	uint8_t pad[2];
	uint32_t peers;  /* TG_CE_PEERS: bit i = peers[i] */
	uint64_t nations; /* TG_CE_NATIONS: over nations[] */
};
struct tg_control_name {
	char name[TG_NAME_MAX];
	uint8_t control; /* index into controls[] */
	uint8_t pad[7];
};

/*
 * Per-peer sanitization (docs/policy.md `sanitize`, release.md §6): the
 * policy's distinct entries; a peer's entries are a u16 over them.  Names
 * are XML names, NUL-terminated; values NUL-terminated.
 */
#define TG_MAX_SAN 16
#define TG_SAN_MAX_NAMES 16   /* element names, and element@attribute pairs, per entry */
#define TG_SAN_NAME_MAX 32
#define TG_SAN_VALUE_MAX 128
#define TG_SAN_DECIMALS_MAX 6
#define TG_SAN_NO_COARSEN 0xff
#define TG_SAN_MIN_CE_MAX 1e7
enum tg_san_attr { /* what set_attribute may set: <event> attributes */
	TG_SA_ACCESS = 0,
	TG_SA_CAVEAT,
	TG_SA_RELEASABLE_TO,
	TG_SA_QOS,
	TG_SA_OPEX,
	TG_SA_COUNT
};
struct tg_sanitize {
	uint32_t classes;     /* applies to messages with one of these classes; 0: to every one */
	uint8_t n_elems, n_attrs;
	uint8_t decimals;     /* coarsen_point's; TG_SAN_NO_COARSEN: no coarsen_point */
	uint8_t drop_remarks;
	uint8_t set_mask;     /* bit a: set_attribute of enum tg_san_attr a */
	uint8_t pad[7];
	double min_ce;        /* coarsen_point's, metres */
	char elems[TG_SAN_MAX_NAMES][TG_SAN_NAME_MAX];
	char attrs[TG_SAN_MAX_NAMES][2][TG_SAN_NAME_MAX]; /* element, attribute */
	char set[TG_SA_COUNT][TG_SAN_VALUE_MAX];
};

struct tg_hsdb_ref {
	uint32_t off; /* byte offset into the slot's tg_hsdb region */
	uint32_t len; /* 0 = no database here */
};

/*
 * Hyperscan expression ids are rule indices: rules[id] is the rule a match
 * reports (ids at or above TG_CAND_ID_BASE are candidates, below).
 * Combinations are not compiled into Hyperscan: their operands are plain
 * patterns, and the dataplane evaluates the combinations from their
 * matches (tg_slot_hdr.comb).
 *
 * The databases of a slot (docs/release.md §4, "one pass over the payload"):
 *   hsdb[s]             the rules of scope s scanned for every message; for
 *                       PAYLOAD also one candidate pattern per prefiltered
 *                       rule of the field scopes (ids TG_CAND_ID_BASE | ...);
 *   hsdb[TG_HSDB_PF(s)] the prefiltered rules of field scope s: scanned over
 *                       the field only when the payload scan reported one of
 *                       their candidates, or when the field's text is not a
 *                       byte range of the payload (entities decoded) and
 *                       the decoding may have made a match: it joined text
 *                       across removed markup, or produced a byte that is
 *                       in pf_match_bytes[s].
 * tgctl only prefilters rules whose verdict on a field implies a match of
 * their candidate on any text containing the field (no anchors, no word
 * boundaries; combinations false when no operand matched).
 * pf_match_bytes[s] holds every byte a match of a prefiltered rule of scope
 * s can contain (ctrl/pattern_bytes.c, a superset; all 256 bits when the
 * scope is not split).
 */
#define TG_HSDB_REFS (2 * TG_SCOPE_COUNT)
#define TG_HSDB_PF(s) (TG_SCOPE_COUNT + (s))
#define TG_CAND_ID_BASE 0xC0000000u /* above every rule id (at most 2^31) */
#define TG_CAND_ID(scope, n) (TG_CAND_ID_BASE | ((uint32_t)(scope) << 24) | ((n) & 0xffffffu))
#define TG_CAND_SCOPE(id) (((id) >> 24) & 0x3fu)

/* Everything small about one published policy, plus where the big tables are. */
struct tg_slot_hdr {
	uint64_t seq;          /* seqcount: odd while tgctl writes this slot */
	uint64_t generation;   /* generation this slot was published as */
	uint64_t published_ns; /* CLOCK_REALTIME */
	uint8_t digest[32];    /* SHA-256 of the policy file bytes */
	char source[TG_PATH_MAX];
	uint32_t n_links, n_peers, n_rules, n_groups, n_nations, n_classes;
	uint32_t stale_tolerance_s; /* how far in the past `stale` may be */
	uint32_t flags;             /* TG_PF_* */
	uint32_t max_message_bytes; /* reassembled datagram limit */
	uint16_t max_field_bytes;   /* a kept string's limit (TG_FIELD_LIMIT_*) */
	uint16_t max_remarks_bytes; /* <remarks>' limit (TG_REMARKS_LIMIT_*) */
	char nations[TG_MAX_NATIONS][4];
	char classes[TG_MAX_CLASSES][TG_NAME_MAX];
	struct tg_group groups[TG_MAX_GROUPS];
	uint32_t n_controls, n_control_names;
	struct tg_control controls[TG_MAX_CONTROLS];
	struct tg_control_name control_names[TG_MAX_CONTROL_NAMES];
	uint32_t n_sanitize, pad_san;
	struct tg_sanitize sanitize[TG_MAX_SAN];
	uint64_t pf_match_bytes[TG_SCOPE_COUNT][4]; /* bit b of [b / 64]: byte b */
	struct tg_hsdb_ref hsdb[TG_HSDB_REFS];
	/* The combinations, evaluated by the dataplane (lib/comb.h): a table
	 * of uint32_t in the same region, after the databases; len 0: none. */
	struct tg_hsdb_ref comb;
};

#define TG_PF_IGNORE_STALE (1u << 0) /* replayed captures: do not check stale */

/* The parser's limits the policy sets (docs/policy.md `settings`; the
 * dataplane's parser is sized for the maxima, dataplane/cot_parse.h). */
#define TG_FIELD_LIMIT_DEFAULT 256
#define TG_FIELD_LIMIT_MIN 64
#define TG_FIELD_LIMIT_MAX 1024
#define TG_REMARKS_LIMIT_DEFAULT 4096
#define TG_REMARKS_LIMIT_MAX 16384

enum tg_ack_state {
	TG_ACK_NONE = 0, /* no dataplane ever attached to these maps */
	TG_ACK_RUNNING,  /* attached; heartbeat_ns says how recently it looked */
	TG_ACK_STOPPED,  /* it stopped (cleanly) at heartbeat_ns */
};

/*
 * The dataplane's answer to the publisher (docs/tgctl.md, "Acknowledgement").
 * Written only by the control thread of the dataplane attached to these maps,
 * under its own seqcount; read by `tgctl load` and `tgctl rollback`, which
 * wait until `installed` or `refused` reaches the generation they published.
 * Generations are those of THESE maps: a dataplane that re-attaches to a
 * replaced directory starts again from installed = refused = 0.
 */
struct tg_ack {
	uint64_t seq;          /* seqcount: odd while the dataplane writes */
	uint64_t pid;          /* the dataplane attached here, 0 = none ever */
	uint64_t heartbeat_ns; /* CLOCK_REALTIME of its last look at these maps */
	uint64_t installed;    /* last generation it installed (RCU swap done), 0 = none */
	uint64_t refused;      /* last generation it refused, 0 = none */
	uint64_t foreign_gen;  /* != 0: the policy in force was read from maps since
				* removed or replaced (its generation there) */
	uint32_t state;        /* enum tg_ack_state */
	uint32_t pad;
	uint8_t digest[32];    /* SHA-256 of the policy in force, all zero = none */
	char refused_why[256]; /* why `refused` was refused */
};

/* Value of tg_ctl[0]. */
struct tg_ctl {
	uint32_t magic; /* TG_MAPS_MAGIC once initialised */
	uint32_t abi;   /* TG_MAPS_ABI */
	uint64_t seq;   /* seqcount over generation/active_slot/prev_slot */
	uint64_t generation; /* 0 = nothing published yet */
	uint32_t active_slot;
	uint32_t pad;
	struct tg_slot_hdr slot[TG_SLOTS];
	struct tg_ack ack;     /* written by the dataplane, never by tgctl */
};

/*
 * Drop and withhold reasons.  Message-level reasons apply to every peer;
 * peer-level reasons say why one peer did not get a message others may have.
 */
enum tg_reason {
	TG_R_RELEASED = 0,
	/* message level */
	TG_R_NOT_TRACK,      /* not UDP to a link port: ARP, TCP, other ports */
	TG_R_NO_LINK,        /* arrived on a port no link names */
	TG_R_BAD_L2L3,       /* truncated or bad Ethernet/IP/UDP */
	TG_R_BAD_CHECKSUM,   /* UDP checksum wrong (or absent over IPv6) */
	TG_R_FRAG_TIMEOUT,   /* a datagram's fragments did not all arrive in time */
	TG_R_FRAG_ERROR,     /* a fragment no datagram can be built from (bad length) */
	TG_R_FRAG_TABLE_FULL, /* no room for another datagram in the reassembly table */
	TG_R_FRAG_OVERLAP,   /* overlapping, duplicate or too many fragments */
	TG_R_FRAG_BAD_LENGTH, /* reassembled over 65,535 bytes, or its lengths disagree */
	TG_R_FRAG_UNFINISHED, /* a datagram still incomplete when trackgate stopped */
	TG_R_TOO_BIG,        /* datagram over max_message_bytes */
	TG_R_NO_POLICY,
	TG_R_PARSE,          /* CoT parse failure (details in parse counters) */
	TG_R_STALE,          /* stale time already past */
	TG_R_BAD_MARKING,    /* marking present but unparseable / conflicting */
	TG_R_BLOCKED,        /* a block rule matched */
	TG_R_SCAN_ERROR,     /* Hyperscan returned an error */
	TG_R_CHECK_MISMATCH, /* independent second check disagreed */
	TG_R_ENCODING,       /* an encoding the link does not accept */
	TG_R_TAK_CONTROL,    /* a TAK v1 TakControl without an event: never relayed */
	/* peer level */
	TG_R_CLASS,          /* message class not one the peer receives */
	TG_R_CLEARANCE,      /* classification above peer clearance */
	TG_R_NOT_RELEASABLE, /* peer nation not in releasability */
	TG_R_ECHO,           /* peer is the link the message came in on */
	TG_R_PEER_DOWN,      /* peer's device not present in this dataplane */
	TG_R_TX_FULL,        /* TX queue full: dropped after retry */
	TG_R_NO_MBUF,        /* header/clone mbuf allocation failed */
	TG_R_TX_INVALID,     /* a frame for the peer failed the length checks
			      * before TX (never expected: a fault upstream) */
	TG_R_CONVERT,        /* no copy in the peer's encoding: no buffer for it,
			      * or over 65,507 bytes */
	TG_R_SANITIZE,       /* no sanitized copy: no buffer for it, over 65,507
			      * bytes, or too many distinct step sets in one message */
	TG_R_SANITIZE_CHECK, /* the second check did not confirm the sanitized copy */
	TG_R_COUNT
};
/* The message-level reasons are TG_R_MSG_FIRST..TG_R_MSG_LAST, the peer-level
 * ones TG_R_PEER_FIRST..TG_R_COUNT - 1. */
#define TG_R_MSG_FIRST TG_R_NOT_TRACK
#define TG_R_MSG_LAST TG_R_TAK_CONTROL
#define TG_R_PEER_FIRST TG_R_CLASS

/* Room for the CoT parser's error counters (dataplane/cot_parse.h enum
 * cot_err) in tg_stats; the dataplane checks that they fit. */
#define TG_PARSE_ERR_MAX 48

#define TG_STATS_MAX_PORTS 32

/* Value of tg_stats[0]: written by the dataplane's control thread about
 * once a second (seqcount like the slots), read by `tgctl stats`. */
struct tg_stats {
	uint64_t seq;
	uint64_t updated_ns;   /* CLOCK_REALTIME of the last update, 0 = never */
	uint64_t started_ns;
	uint64_t pid;
	uint64_t generation;   /* policy generation the dataplane runs */
	uint64_t rx_packets;
	uint64_t messages;     /* complete UDP datagrams on link ports */
	uint64_t released;     /* (message, peer) pairs sent */
	uint64_t audit_lost;
	uint64_t reason[TG_R_COUNT];  /* message-level: counted once per message */
	uint32_t n_peers, n_ports;
	struct {
		char name[TG_NAME_MAX];
		uint64_t released;
		uint64_t bytes;
		uint64_t sanitized;            /* of released: as a sanitized copy */
		uint64_t withheld[TG_R_COUNT]; /* peer-level reasons */
	} peer[TG_MAX_PEERS];
	struct {
		char dev[TG_DEV_MAX];
		uint64_t ipackets, opackets, ibytes, obytes, imissed, ierrors, oerrors;
	} port[TG_STATS_MAX_PORTS];
	/* Per scope with a prefiltered database (release.md §4): messages for
	 * which it ran, and for which the payload scan let it be skipped. */
	uint64_t prefilter_scanned[TG_SCOPE_COUNT];
	uint64_t prefilter_skipped[TG_SCOPE_COUNT];
	/* Parse drops by the parser's error (enum cot_err; names from
	 * dataplane/cot_names.h, [0] counts codes out of range): their sum
	 * is reason[TG_R_PARSE]. */
	uint64_t parse_err[TG_PARSE_ERR_MAX];
	/* Messages decided before the late scopes were scanned: no peer could
	 * receive them whatever those scopes' rules say (release.md §5). */
	uint64_t scan_skipped;
	/* Messages and their message-level drops by encoding (enum
	 * cot_encoding order: xml, takproto-v1), and the XML copies made for
	 * peers with `encoding: xml`. */
	uint64_t enc_messages[TG_ENC_COUNT];
	uint64_t enc_reason[TG_ENC_COUNT][TG_R_COUNT];
	uint64_t converted;
};

/* mmaped array elements are strided by round_up(value_size, 8): keep every
 * value a multiple of 8 so a C array over the mapping lines up. */
_Static_assert(sizeof(struct tg_link) % 8 == 0, "tg_link stride");
_Static_assert(sizeof(struct tg_peer) % 8 == 0, "tg_peer stride");
_Static_assert(sizeof(struct tg_rule) % 8 == 0, "tg_rule stride");
_Static_assert(sizeof(struct tg_ctl) % 8 == 0, "tg_ctl stride");
_Static_assert(sizeof(struct tg_stats) % 8 == 0, "tg_stats stride");

/*
 * The classes that rules of the late scopes can add to a message: a peer
 * that receives none of them (and not `other` when an early rule already
 * classified the message) can be decided before the late scan
 * (docs/release.md §5).  A fact of the published rules, so tgctl (which
 * reports it) and the dataplane (which relies on it) derive it alike.
 */
static inline uint32_t
tg_late_classes(const struct tg_rule *r, uint32_t n)
{
	uint32_t c = 0;

	for (uint32_t i = 0; i < n; i++)
		if (r[i].action == TG_ACT_CLASSIFY && r[i].scope < TG_SCOPE_COUNT &&
		    !(TG_EARLY_SCOPES & (1u << r[i].scope)) && r[i].class_idx < TG_MAX_CLASSES)
			c |= 1u << r[i].class_idx;
	return c;
}

#endif /* TG_MAPS_H */
