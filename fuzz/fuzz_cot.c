/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_cot.c - the CoT parser alone (dataplane/cot_parse.c).
 *
 * cot_parse() on the input; on COT_OK every returned string is read byte by
 * byte (it must lie inside the payload or the event's decode buffer) and the
 * documented bounds of docs/release.md §2 are checked.  On an error, err_off
 * must lie inside the payload.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "cot_parse.h"
#include "fuzz_common.h"

static struct cot_event ev;

static void
check_str(const struct cot_str *s, const uint8_t *p, size_t n, size_t max, int required)
{
	const char *cp = (const char *)p;

	if (s->p == NULL) {
		FUZZ_CHECK(s->len == 0);
		FUZZ_CHECK(!required);
		return;
	}
	FUZZ_CHECK(!required || s->len > 0);
	FUZZ_CHECK(s->len <= max);
	/* inside the payload, or inside the used part of the decode buffer */
	if (s->p >= cp && s->p <= cp + n) {
		FUZZ_CHECK((size_t)(s->p - cp) + s->len <= n);
	} else {
		FUZZ_CHECK(s->p >= ev.buf && s->p <= ev.buf + COT_DECODE_BUF);
		FUZZ_CHECK((size_t)(s->p - ev.buf) + s->len <= ev.buf_used);
	}
	fuzz_touch(s->p, s->len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum cot_err e = cot_parse(data, size, &ev);

	FUZZ_CHECK((unsigned)e < COT_E_COUNT);
	FUZZ_CHECK(cot_err_name(e) != NULL);
	if (e != COT_OK) {
		FUZZ_CHECK(size == 0 || size > COT_MAX_MSG || ev.err_off <= size);
		return 0;
	}
	FUZZ_CHECK(size <= COT_MAX_MSG);
	FUZZ_CHECK(ev.buf_used <= COT_DECODE_BUF);

	check_str(&ev.version, data, size, COT_MAX_FIELD, 1);
	check_str(&ev.uid, data, size, COT_MAX_FIELD, 1);
	check_str(&ev.type, data, size, COT_MAX_FIELD, 1);
	check_str(&ev.how, data, size, COT_MAX_FIELD, 1);
	check_str(&ev.access, data, size, COT_MAX_FIELD, 0);
	check_str(&ev.qos, data, size, COT_MAX_FIELD, 0);
	check_str(&ev.opex, data, size, COT_MAX_FIELD, 0);
	check_str(&ev.caveat, data, size, COT_MAX_FIELD, 0);
	check_str(&ev.releasable_to, data, size, COT_MAX_FIELD, 0);
	check_str(&ev.callsign, data, size, COT_MAX_FIELD, 0);
	check_str(&ev.remarks, data, size, COT_MAX_REMARKS, 0);
	/* the raw <detail> bytes are never decoded: always inside the payload */
	if (ev.detail.p != NULL)
		FUZZ_CHECK(ev.detail.p >= (const char *)data &&
			   ev.detail.p + ev.detail.len <= (const char *)data + size);
	check_str(&ev.detail, data, size, COT_MAX_MSG, 0);

	FUZZ_CHECK(ev.n_links <= COT_MAX_LINKS);
	for (unsigned i = 0; i < ev.n_links; i++) {
		check_str(&ev.link[i].uid, data, size, COT_MAX_FIELD, 0);
		check_str(&ev.link[i].relation, data, size, COT_MAX_FIELD, 0);
		check_str(&ev.link[i].type, data, size, COT_MAX_FIELD, 0);
	}

	/* flags agree with the strings they announce */
	FUZZ_CHECK(!!(ev.flags & COT_F_HAS_ACCESS) == (ev.access.p != NULL));
	FUZZ_CHECK(!!(ev.flags & COT_F_HAS_CAVEAT) == (ev.caveat.p != NULL));
	FUZZ_CHECK(!!(ev.flags & COT_F_HAS_REL) == (ev.releasable_to.p != NULL));
	FUZZ_CHECK(!(ev.flags & COT_F_HAS_CALLSIGN) || ev.callsign.p != NULL);

	/* ranges (release.md §2) */
	FUZZ_CHECK(isfinite(ev.lat) && isfinite(ev.lon) && isfinite(ev.hae) && isfinite(ev.ce) &&
		   isfinite(ev.le));
	FUZZ_CHECK(ev.lat >= -90.0 && ev.lat <= 90.0);
	FUZZ_CHECK(ev.lon >= -180.0 && ev.lon <= 180.0);
	FUZZ_CHECK(ev.ce >= 0.0 && ev.le >= 0.0);
	if (ev.flags & COT_F_HAS_TRACK) {
		FUZZ_CHECK(isfinite(ev.course) && isfinite(ev.speed));
		FUZZ_CHECK(ev.course >= 0.0 && ev.course <= 360.0 && ev.speed >= 0.0);
	}
	if (ev.flags & COT_F_TAK_HDR)
		FUZZ_CHECK(size >= 3 && data[0] == 0xbf && data[1] == 0x00 && data[2] == 0xbf);
	return 0;
}
