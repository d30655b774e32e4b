/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_common.h - small helpers shared by the libFuzzer harnesses.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An invariant of the code under test: report and abort (libFuzzer then
 * saves the input as a crash). */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Read every byte of [p, p+n) so that ASan checks the whole range. */
static inline void
fuzz_touch(const void *p, size_t n)
{
	const volatile uint8_t *b = (const volatile uint8_t *)p;
	uint8_t x = 0;

	for (size_t i = 0; i < n; i++)
		x ^= b[i];
	(void)x;
}

/* An exact-size heap copy of n bytes (so reads one past the end hit an ASan
 * redzone); NULL for n == 0 is never returned: at least one byte is
 * allocated, but only n are meaningful. */
static inline uint8_t *
fuzz_dup(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	if (d == NULL)
		abort();
	if (n)
		memcpy(d, p, n);
	return d;
}

#endif /* FUZZ_COMMON_H */
