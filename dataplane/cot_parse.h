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
#define COT_DECODE_BUF 16384  /* decoded bytes per event: room for every kept string */
#define COT_MAX_DEPTH 16      /* element nesting, <event> is depth 1 */
#define COT_MAX_MSG 65535     /* payload bytes, TAK header included */
#define COT_MAX_FIELD 256     /* any kept string attribute, decoded bytes */
#define COT_MAX_REMARKS 4096  /* text of <remarks>, decoded bytes */
#define COT_MAX_NAME 128      /* element and attribute names */
#define COT_MAX_ATTRS 64      /* attributes on one element */
#define COT_MAX_SCALAR 64     /* a number or dateTime attribute value */

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
	COT_E_TAK_V1,       /* TAK protocol header of version 1 (protobuf) */
	COT_E_DEPTH,        /* nesting deeper than COT_MAX_DEPTH */
	COT_E_DUP_ELEM,     /* a second <point>, <detail>, <track>, <contact>
			     * or <remarks> where only one is meaningful */
	COT_E_BAD_NUMBER,   /* a numeric attribute that is not a decimal number */
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
	/* Last, so that cot_parse() need not clear it. */
	char buf[COT_DECODE_BUF];
};

/*
 * Parse `len` bytes at `p` (one UDP payload) into `ev`.  An optional TAK
 * protocol header 0xbf 0x00 0xbf (version 0 = XML) is skipped; 0xbf 0x01 0xbf
 * (version 1, protobuf) returns COT_E_TAK_V1.  The strings in `ev` point into
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
enum cot_err cot_parse_rest(struct cot_cursor *cur);

#endif /* COT_PARSE_H */
