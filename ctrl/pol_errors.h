/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pol_errors.h - the list of problems found in a policy: the loader
 * (policy_parse.c), the compiler (policy_compile.c) and tgctl append to it,
 * tgctl prints it.  Every problem is "file:line:col: error: what", and all
 * of them (up to POL_MAX_ERRORS) are kept rather than just the first.
 */
#ifndef TG_POL_ERRORS_H
#define TG_POL_ERRORS_H

#include <stdarg.h>
#include <stdio.h>

#define POL_MAX_ERRORS 64

struct pol_error {
	char file[256];
	unsigned int line, col; /* 1-based; line 0 = the file as a whole */
	char msg[512];
};

struct pol_errors {
	unsigned int n;
	unsigned int dropped; /* errors beyond POL_MAX_ERRORS, not stored */
	struct pol_error e[POL_MAX_ERRORS];
};

/* Append an error (printf format); used by the loader and by tgctl. */
void pol_error_add(struct pol_errors *errs, const char *file, unsigned int line,
		   unsigned int col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* The same with a va_list, for the loader's own reporting helpers. */
void pol_error_vadd(struct pol_errors *errs, const char *file, unsigned int line,
		    unsigned int col, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

/* Order errors[from..] by line and column (stable). */
void pol_errors_sort(struct pol_errors *errs, unsigned int from);

/* One "file:line:col: error: msg" line per error. */
void pol_errors_print(const struct pol_errors *errs, FILE *f);

#endif /* TG_POL_ERRORS_H */
