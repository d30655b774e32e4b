/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tg_clock.h - the two clocks tgctl, the dataplane's control threads and the
 * tools read: wall time for what operators see (stats, audit records, the
 * acknowledgement), monotonic time for intervals.  Off the fast path
 * (workers use the TSC).
 */
#ifndef TG_CLOCK_H
#define TG_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define TG_NS_PER_S UINT64_C(1000000000)

static inline uint64_t
tg_clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * TG_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* CLOCK_REALTIME, ns since the Unix epoch */
static inline uint64_t
tg_realtime_ns(void)
{
	return tg_clock_ns(CLOCK_REALTIME);
}

/* CLOCK_MONOTONIC, ns */
static inline uint64_t
tg_monotonic_ns(void)
{
	return tg_clock_ns(CLOCK_MONOTONIC);
}

/* A CLOCK_REALTIME time as ISO 8601 UTC: 2026-12-01T18:06:03Z, or with
 * millis 2026-12-01T18:06:03.123Z (the audit log's). */
static inline void
tg_format_utc(uint64_t ns, bool millis, char *buf, size_t cap)
{
	time_t t = (time_t)(ns / TG_NS_PER_S);
	struct tm tm;
	size_t n;

	gmtime_r(&t, &tm);
	n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	if (millis)
		snprintf(buf + n, cap - n, ".%03uZ", (unsigned)(ns / 1000000 % 1000));
	else
		snprintf(buf + n, cap - n, "Z");
}

#endif /* TG_CLOCK_H */
