/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pol_errors.c - collecting, ordering and printing a policy's problems
 * (pol_errors.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "pol_errors.h"

void
pol_error_vadd(struct pol_errors *errs, const char *file, unsigned int line,
	       unsigned int col, const char *fmt, va_list ap)
{
	struct pol_error *e;

	if (errs->n >= POL_MAX_ERRORS) {
		errs->dropped++;
		return;
	}
	e = &errs->e[errs->n++];
	snprintf(e->file, sizeof(e->file), "%s", file);
	e->line = line;
	e->col = col;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

void
pol_error_add(struct pol_errors *errs, const char *file, unsigned int line,
	      unsigned int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pol_error_vadd(errs, file, line, col, fmt, ap);
	va_end(ap);
}

void
pol_errors_sort(struct pol_errors *errs, unsigned int from)
{
	unsigned int i, j;
	struct pol_error tmp;

	for (i = from + 1; i < errs->n; i++) {
		for (j = i; j > from; j--) {
			struct pol_error *a = &errs->e[j - 1], *b = &errs->e[j];

			if (a->line < b->line || (a->line == b->line && a->col <= b->col))
				break;
			tmp = *a;
			*a = *b;
			*b = tmp;
		}
	}
}

void
pol_errors_print(const struct pol_errors *errs, FILE *f)
{
	unsigned int i;

	for (i = 0; i < errs->n; i++) {
		const struct pol_error *e = &errs->e[i];

		if (e->line == 0)
			fprintf(f, "%s: error: %s\n", e->file, e->msg);
		else
			fprintf(f, "%s:%u:%u: error: %s\n", e->file, e->line, e->col, e->msg);
	}
	if (errs->dropped)
		fprintf(f, "(%u more errors not shown)\n", errs->dropped);
}
