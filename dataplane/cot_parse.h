/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cot_parse.h - bounded, allocation-free parser for one Cursor-on-Target
 * <event> (MITRE CoT 2.0 plus the TAK additions), run per packet on the
 * fast path.  Pure C11, no DPDK, no libc locale.
 *
 * The parser is a single forward pass over the payload: every byte is looked
 * at a bounded number of times, nesting is bounded by COT_MAX_DEPTH and
 * nothing is allocated.  It is deliberately stricter than XML 1.0 (it never
 * accepts a document libxml2 rejects): see docs in cot_parse.c for the subset.
 */
#ifndef COT_PARSE_H
#define COT_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define COT_MAX_LINKS 8       /* <link> children of <detail> */
#define COT_MAX_DEPTH 16      /* element nesting, <event> is depth 1 */
#define COT_MAX_MSG 65535     /* payload bytes, TAK header included */
/* The operator's limits (policy settings max_field_bytes and
 * max_remarks_bytes, struct cot_limits): defaults and hard bounds. */
#define COT_MAX_FIELD 256         /* any kept string, decoded bytes: default */
#define COT_FIELD_LIMIT_MIN 64
#define COT_FIELD_LIMIT_MAX 1024
#define COT_MAX_REMARKS 4096      /* text of <remarks>, decoded bytes: default */
#define COT_REMARKS_LIMIT_MAX 16384
/* Decoded bytes per event: room for every kept string at the hard bounds,
 * ten <event> strings, three per <link>, the callsign and the remarks. */
#define COT_DECODE_BUF ((10 + 3 * COT_MAX_LINKS + 1) * COT_FIELD_LIMIT_MAX + COT_REMARKS_LIMIT_MAX)
#define COT_MAX_NAME 128      /* element and attribute names */
#define COT_MAX_ATTRS 64      /* attributes on one element */
#define COT_MAX_SCALAR 64     /* a number or dateTime attribute value */
/* The typed detail elements of a v1 event written as XML (docs/release.md
 * §2): 11 strings at COT_MAX_FIELD, each escaped at most 6 bytes a byte,
 * plus the element and attribute names and 3 numbers. */
#define COT_TAK_TYPED_MAX (11 * COT_FIELD_LIMIT_MAX * 6 + 1024)

enum cot_err {
	COT_OK = 0,
	COT_E_EMPTY,        /* no bytes, or only whitespace */
	COT_E_NOT_XML,      /* does not start with markup; unknown TAK header */
	COT_E_MALFORMED,    /* not well-formed XML (or outside the accepted subset) */
	COT_E_DUP_ATTR,     /* an attribute repeated on one element */
	COT_E_MISSING,      /* a required element/attribute is absent or empty;
			     * the root element is not <event> */
	COT_E_RANGE,        /* a number outside its range, or not finite */
	COT_E_DOCTYPE,      /* <!DOCTYPE or <!ENTITY anywhere */
	COT_E_OVERSIZE,     /* a field, name, attribute count, link count,
			     * the decode buffer or the message over its bound */
	COT_E_BAD_TIME,     /* time/start/stale not an xs:dateTime with zone */
	COT_E_REL_CONFLICT, /* releasableTo and releaseableTo differ */
	COT_E_TAK_VERSION,  /* a TAK protocol header other than 0xbf 0x00 0xbf
			     * (XML) and 0xbf 0x01 0xbf (protobuf) */
	COT_E_DEPTH,        /* nesting deeper than COT_MAX_DEPTH */
	COT_E_DUP_ELEM,     /* a second <point>, <detail>, <track>, <contact>
			     * or <remarks> where only one is meaningful */
	COT_E_BAD_NUMBER,   /* a numeric attribute that is not a decimal number */
	/* TAK Protocol Version 1 (takproto.c; docs/release.md §2) */
	COT_E_PROTOBUF,     /* not a protobuf message: a truncated or over-long
			     * varint, a length past its message, a group or an
			     * unknown wire type, field number 0 */
	COT_E_WIRE_TYPE,    /* a known field with another wire type than its own */
	COT_E_DUP_MARKING,  /* access, caveat or releaseableTo twice in the event */
	COT_E_TAK_CONTROL,  /* a TakMessage with a TakControl and no CotEvent: not
			     * an error of the bytes, never relayed (TG_R_TAK_CONTROL) */
	COT_E_FIELD_LIMIT,  /* a kept string over the field limit (max_field_bytes) */
	COT_E_REMARKS_LIMIT, /* <remarks> over max_remarks_bytes */
	COT_E_COUNT         /* number of codes, not an error */
};

/* Short snake_case name for counters ("dup_attr"); "unknown" if out of range. */
const char *cot_err_name(enum cot_err e);

/*
 * A decoded string.  p points into the payload when the value needed no
 * decoding, else into the event's own buf.  Absent: p == NULL, len == 0;
 * present but empty: p != NULL, len == 0.  Not NUL-terminated.
 */
struct cot_str {
	const char *p;
	uint16_t len;
};

/* cot_event.flags: what optional things were present. */
#define COT_F_HAS_ACCESS (1u << 0)
#define COT_F_HAS_REL (1u << 1)      /* releasableTo or releaseableTo */
#define COT_F_HAS_CAVEAT (1u << 2)
#define COT_F_HAS_DETAIL (1u << 3)
#define COT_F_HAS_QOS (1u << 4)
#define COT_F_HAS_OPEX (1u << 5)
#define COT_F_HAS_TRACK (1u << 6)
#define COT_F_HAS_SLOPE (1u << 7)
#define COT_F_HAS_CONTACT (1u << 8)
#define COT_F_HAS_CALLSIGN (1u << 9)
#define COT_F_HAS_REMARKS (1u << 10)
#define COT_F_TAK_HDR (1u << 11)     /* a TAK v0 header was skipped */
#define COT_F_XML_DECL (1u << 12)
#define COT_F_REL_BOTH (1u << 13)    /* both spellings, same value */
#define COT_F_HAS_COURSE (1u << 14)  /* <track course>; course 0 without it */
#define COT_F_HAS_SPEED (1u << 15)   /* <track speed>; speed 0 without it */

/* cot_event.encoding */
enum cot_encoding {
	COT_ENC_XML = 0,    /* CoT XML, with or without the TAK v0 header */
	COT_ENC_TAKV1 = 1,  /* 0xbf 0x01 0xbf + TakMessage (protobuf) */
	COT_ENC_COUNT
};

/* The encoding a payload announces in its first bytes (release.md §1). */
static inline enum cot_encoding
cot_encoding_of(const uint8_t *p, size_t len)
{
	return len >= 3 && p[0] == 0xbf && p[1] == 0x01 && p[2] == 0xbf ? COT_ENC_TAKV1
									  : COT_ENC_XML;
}

/* What a v1 message carried besides the event's own fields: the Detail's
 * typed messages (written as XML into the detail text by the rest step) and
 * xmlDetail.  Strings point into the payload. */
#define COT_TAK_CONTACT (1u << 0) /* the typed messages, in detail order */
#define COT_TAK_GROUP (1u << 1)
#define COT_TAK_PRECISIONLOCATION (1u << 2)
#define COT_TAK_STATUS (1u << 3)
#define COT_TAK_TAKV (1u << 4)
#define COT_TAK_TRACK (1u << 5)
#define COT_TAK_TYPED 0x3fu
#define COT_TAK_XMLDETAIL (1u << 6)
#define COT_TAK_CONTROL (1u << 7)  /* the TakMessage had a TakControl */
struct cot_tak {
	struct cot_str xml_detail;
	struct cot_str endpoint, callsign;           /* Contact */
	struct cot_str group_name, group_role;       /* Group */
	struct cot_str geopointsrc, altsrc;          /* PrecisionLocation */
	struct cot_str device, platform, os, version; /* Takv */
	double speed, course;                        /* Track */
	uint32_t battery;                            /* Status */
	uint16_t detail_off; /* offset of the Detail's bytes in the payload */
	uint8_t present;     /* COT_TAK_* */
};

/*
 * How a decoded string came about, for the scan prefilter (tg_maps.h
 * pf_match_bytes): the bytes that references and line-end handling produced
 * (bit b of produced[b / 64]), and whether runs of payload text were joined
 * across removed markup (CDATA delimiters, comments).  All zero for a string
 * that is a byte range of the payload.
 */
struct cot_decoded {
	uint64_t produced[4];
	uint8_t joined;
};

/* A <link> child of <detail>.  Every attribute is optional (absent: p ==
 * NULL); real senders write links with only a point or a url. */
struct cot_link {
	struct cot_str uid, relation, type;
};

struct cot_event {
	/* <event> attributes */
	struct cot_str version, uid, type, how, access, qos, opex, caveat, releasable_to;
	int64_t time_ms, start_ms, stale_ms; /* ms since the Unix epoch, UTC */
	/* <point> */
	double lat, lon, hae, ce, le;
	/* <detail> */
	struct cot_str detail;   /* raw bytes between <detail> and </detail>, not decoded */
	struct cot_str callsign; /* <contact callsign=...> */
	struct cot_str remarks;  /* text of <remarks>, entities decoded, CDATA included */
	struct cot_decoded remarks_dec; /* how remarks was decoded */
	uint8_t has_track;
	uint8_t n_links;
	uint16_t err_off;        /* on error: offset in the payload where it was found */
	uint32_t flags;          /* COT_F_* */
	double course, speed, slope; /* <track>; each 0 unless its COT_F_HAS_* flag */
	struct cot_link link[COT_MAX_LINKS];
	uint16_t buf_used;
	uint8_t encoding;        /* enum cot_encoding */
	struct cot_tak tak;      /* COT_ENC_TAKV1 only */
	/* Last, so that cot_parse() need not clear them. */
	char buf[COT_DECODE_BUF];
	/* A v1 event's detail text when it is not xmlDetail as is: xmlDetail
	 * and the typed elements (docs/release.md §2). */
	char tak_detail[COT_MAX_MSG + COT_TAK_TYPED_MAX];
};

/*
 * Parse `len` bytes at `p` (one UDP payload) into `ev`.  An optional TAK
 * protocol header 0xbf 0x00 0xbf (version 0 = XML) is skipped; after 0xbf
 * 0x01 0xbf (version 1) the payload is a TakMessage, decoded by takproto.c
 * into the same event (ev->encoding says which); any other TAK header is
 * COT_E_TAK_VERSION.  The strings in `ev` point into
 * `p` and into `ev`: both must outlive their use.
 *
 * On an error (anything but COT_OK), for the audit log:
 *   - err_off is the offset in `p` where the error was found, always
 *     <= len (0 for len == 0 or p == NULL; COT_MAX_MSG when len is over it);
 *   - ev->uid and ev->type are each either absent (p == NULL, len == 0) or
 *     the value of that <event> attribute in this payload, complete and
 *     decoded, when the parser got past it (a repeated attribute: the first
 *     one).  Never a value left from an earlier call with the same `ev`.  A
 *     present value may be empty and is not checked further: it is what the
 *     sender wrote, for the record, not a field of an accepted event;
 *   - every other field is unspecified.
 */
enum cot_err cot_parse(const uint8_t *p, size_t len, struct cot_event *ev);

/*
 * cot_parse() in two steps, for a caller that may not need the second
 * (docs/release.md §5: a message no peer can receive after its <event>
 * start tag is not read further).  cot_parse_head() parses the prolog and
 * the <event> start tag (every event attribute: uid, type, how, the times,
 * the marking) and leaves its place in `cur`; cot_parse_rest() parses the
 * rest of the document from there.  The head's errors are cot_parse()'s for
 * that part of the payload; head and rest together return exactly what
 * cot_parse() returns (cot_parse() is the two), with the same error
 * contract.  `cur`, `p` and `ev` must stay as they are between the two.
 */
struct cot_cursor {
	uint64_t state[32];
};
enum cot_err cot_parse_head(const uint8_t *p, size_t len, struct cot_event *ev,
			    struct cot_cursor *cur);

/*
 * The operator's limits (docs/policy.md `settings`): a kept string over
 * `field` bytes is COT_E_FIELD_LIMIT, remarks over `remarks` bytes
 * COT_E_REMARKS_LIMIT.  field in COT_FIELD_LIMIT_MIN..COT_FIELD_LIMIT_MAX,
 * remarks at most COT_REMARKS_LIMIT_MAX; cot_parse_head() and cot_parse()
 * use the defaults, COT_MAX_FIELD and COT_MAX_REMARKS.
 */
struct cot_limits {
	uint16_t field;
	uint16_t remarks;
};
enum cot_err cot_parse_head_lim(const uint8_t *p, size_t len, const struct cot_limits *lim,
				struct cot_event *ev, struct cot_cursor *cur);
enum cot_err cot_parse_rest(struct cot_cursor *cur);

#endif /* COT_PARSE_H */
