/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cot_dump.c - cot_parse() as a filter, for tests/oracle/test_oracle_cot.py,
 * which feeds the same payloads to the oracle's parse_cot() and compares.
 *
 *     cot_dump < records
 *
 * Input: records of a 4-byte big-endian length and that many payload bytes.
 * Output: one JSON object per record, on its own line:
 *     {"err":"ok", ...fields...}  or  {"err":"<cot_err_name>","off":N}
 * "encoding" is "xml" or "takproto-v1" (an accepted event and head only);
 * a v1 event's "detail" is its detail text D (docs/release.md section 2).
 * Strings are hex (null when absent), numbers %.17g, times in ms.  Each
 * payload is copied into a block of exactly its size, so that a read past
 * its end is seen by ASan or valgrind.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/cot_parse.h"
#include "dataplane/cot_write.h"

static struct cot_event ev, hev;

static void
put_str(const char *key, const struct cot_str *s)
{
	printf(",\"%s\":", key);
	if (s->p == NULL) {
		printf("null");
		return;
	}
	putchar('"');
	for (unsigned i = 0; i < s->len; i++)
		printf("%02x", (uint8_t)s->p[i]);
	putchar('"');
}

static void
put_num(const char *key, double v)
{
	printf(",\"%s\":%.17g", key, v);
}

/* The encoding the parser read the payload in (release.md section 1). */
static void
put_enc(const struct cot_event *e)
{
	printf(",\"encoding\":\"%s\"", e->encoding == COT_ENC_TAKV1 ? "takproto-v1" : "xml");
}

static void
dump(void)
{
	printf("{\"err\":\"ok\"");
	put_enc(&ev);
	put_str("version", &ev.version);
	put_str("uid", &ev.uid);
	put_str("type", &ev.type);
	put_str("how", &ev.how);
	put_str("access", &ev.access);
	put_str("qos", &ev.qos);
	put_str("opex", &ev.opex);
	put_str("caveat", &ev.caveat);
	put_str("rel", &ev.releasable_to);
	put_str("callsign", &ev.callsign);
	put_str("remarks", &ev.remarks);
	put_str("detail", &ev.detail);
	printf(",\"time_ms\":%lld,\"start_ms\":%lld,\"stale_ms\":%lld", (long long)ev.time_ms,
	       (long long)ev.start_ms, (long long)ev.stale_ms);
	put_num("lat", ev.lat);
	put_num("lon", ev.lon);
	put_num("hae", ev.hae);
	put_num("ce", ev.ce);
	put_num("le", ev.le);
	printf(",\"track\":");
	if (ev.flags & COT_F_HAS_TRACK) {
		const char *sep = "";

		putchar('{');
		if (ev.flags & COT_F_HAS_COURSE) {
			printf("\"course\":%.17g", ev.course);
			sep = ",";
		}
		if (ev.flags & COT_F_HAS_SPEED) {
			printf("%s\"speed\":%.17g", sep, ev.speed);
			sep = ",";
		}
		if (ev.flags & COT_F_HAS_SLOPE)
			printf("%s\"slope\":%.17g", sep, ev.slope);
		putchar('}');
	} else {
		printf("null");
	}
	printf(",\"links\":[");
	for (unsigned i = 0; i < ev.n_links; i++) {
		printf("%s{\"_\":0", i ? "," : "");
		put_str("uid", &ev.link[i].uid);
		put_str("relation", &ev.link[i].relation);
		put_str("type", &ev.link[i].type);
		putchar('}');
	}
	printf("]");
}

/* cot_parse_head()'s verdict, and the <event> attributes it gives. */
static void
dump_head(enum cot_err err)
{
	if (err != COT_OK) {
		printf(",\"head\":{\"err\":\"%s\"}", cot_err_name(err));
		return;
	}
	printf(",\"head\":{\"err\":\"ok\"");
	put_enc(&hev);
	put_str("uid", &hev.uid);
	put_str("type", &hev.type);
	put_str("how", &hev.how);
	put_str("access", &hev.access);
	put_str("caveat", &hev.caveat);
	put_str("rel", &hev.releasable_to);
	printf(",\"stale_ms\":%lld}", (long long)hev.stale_ms);
}

int
main(void)
{
	uint8_t hdr[4];

	while (fread(hdr, 1, 4, stdin) == 4) {
		size_t n = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
		uint8_t *p = malloc(n ? n : 1);
		enum cot_err err;
		struct cot_cursor cur;

		if (p == NULL || fread(p, 1, n, stdin) != n) {
			fprintf(stderr, "cot_dump: short record\n");
			return 2;
		}
		err = cot_parse(p, n, &ev);
		if (err == COT_OK)
			dump();
		if (err == COT_OK && ev.encoding == COT_ENC_TAKV1) {
			/* the XML a peer with `encoding: xml` gets (release.md §6) */
			static char xml[COT_MAX_MSG + 1];
			struct cot_str x = {xml, 0};
			size_t xn = cot_write_xml(&ev, xml, sizeof(xml) - 1);

			x.len = (uint16_t)xn;
			if (xn > 0 && xn <= UINT16_MAX)
				put_str("xml", &x);
		}
		if (err != COT_OK)
			printf("{\"err\":\"%s\",\"off\":%u", cot_err_name(err), (unsigned)ev.err_off);
		dump_head(cot_parse_head(p, n, &hev, &cur));
		printf("}\n");
		free(p);
	}
	return 0;
}
