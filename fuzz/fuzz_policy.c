/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_policy.c - the policy loader (ctrl/policy_parse.c) and compiler
 * (ctrl/policy_compile.c): YAML in, a validated policy or a clean error out.
 *
 * pol_load_buffer() on the input; if it succeeds, the policy's invariants are
 * checked and, for at most FUZZ_MAX_COMPILE rules (to keep exec/s up),
 * pol_compile() runs.  pol_free() always.  Errors are printed nowhere, but
 * each must be well formed: a failure carries at least one error, a success
 * none.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "marking.h"
#include "policy.h"

#define FUZZ_MAX_COMPILE 200

static struct pol_errors errs;

static void
check_errors(const struct pol_errors *e)
{
	FUZZ_CHECK(e->n <= POL_MAX_ERRORS);
	for (unsigned i = 0; i < e->n; i++) {
		FUZZ_CHECK(memchr(e->e[i].file, '\0', sizeof(e->e[i].file)) != NULL);
		FUZZ_CHECK(memchr(e->e[i].msg, '\0', sizeof(e->e[i].msg)) != NULL);
		FUZZ_CHECK(e->e[i].msg[0] != '\0');
	}
}

static uint64_t
nations_mask(uint32_t n)
{
	return n >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << n) - 1;
}

static void
check_policy(const struct pol_policy *p)
{
	const struct tg_slot_hdr *h = &p->hdr;
	uint64_t known;

	FUZZ_CHECK(h->n_links <= TG_MAX_LINKS);
	FUZZ_CHECK(h->n_peers <= TG_MAX_PEERS);
	FUZZ_CHECK(h->n_rules <= TG_MAX_RULES);
	FUZZ_CHECK(h->n_groups <= TG_MAX_GROUPS);
	FUZZ_CHECK(h->n_nations <= TG_MAX_NATIONS);
	FUZZ_CHECK(h->n_classes >= 1 && h->n_classes <= TG_MAX_CLASSES);
	FUZZ_CHECK(h->max_message_bytes <= POL_MAX_MESSAGE_BYTES);
	known = nations_mask(h->n_nations);
	for (uint32_t i = 0; i < h->n_nations; i++)
		FUZZ_CHECK(h->nations[i][3] == '\0' && strlen(h->nations[i]) == 3);
	for (uint32_t i = 0; i < h->n_groups; i++) {
		FUZZ_CHECK((h->groups[i].mask & ~known) == 0);
		FUZZ_CHECK(memchr(h->groups[i].name, '\0', TG_NAME_MAX) != NULL);
	}
	for (uint32_t i = 0; i < h->n_links; i++) {
		const struct tg_link *l = &p->links[i];

		FUZZ_CHECK(memchr(l->name, '\0', TG_NAME_MAX) != NULL);
		FUZZ_CHECK(memchr(l->dev, '\0', TG_DEV_MAX) != NULL);
		FUZZ_CHECK(l->n_udp_ports >= 1 && l->n_udp_ports <= TG_MAX_LINK_PORTS);
		FUZZ_CHECK(p->xdp[i].n_allow <= POL_MAX_PREFIXES);
		FUZZ_CHECK(p->xdp[i].n_block <= POL_MAX_PREFIXES);
		if (l->has_default_marking) {
			struct tg_marking m;

			/* policy.md: NOFORN is refused in a default marking */
			FUZZ_CHECK(!l->default_marking.noforn);
			FUZZ_CHECK((l->default_marking.rel_mask & ~known) == 0);
			FUZZ_CHECK(memchr(l->default_marking_text, '\0', TG_MARKING_MAX) != NULL);
			/* the dataplane's parser agrees with the stored result */
			FUZZ_CHECK(tg_marking_parse(l->default_marking_text,
						    strlen(l->default_marking_text), h, &m) == 0);
			FUZZ_CHECK(m.level == l->default_marking.level &&
				   m.has_rel == l->default_marking.has_rel &&
				   m.rel_mask == l->default_marking.rel_mask);
		}
	}
	for (uint32_t i = 0; i < h->n_peers; i++) {
		const struct tg_peer *pe = &p->peers[i];

		FUZZ_CHECK(pe->nation_idx < h->n_nations);
		FUZZ_CHECK(memcmp(h->nations[pe->nation_idx], pe->nation, 4) == 0);
		FUZZ_CHECK(pe->link_idx == -1 || (pe->link_idx >= 0 && (uint32_t)pe->link_idx <
									    h->n_links));
		FUZZ_CHECK(pe->ip_version == 4 || pe->ip_version == 6);
		FUZZ_CHECK(pe->clearance <= TG_LVL_TOP_SECRET);
		FUZZ_CHECK((pe->classes & ~(uint32_t)nations_mask(h->n_classes)) == 0 ||
			   h->n_classes >= 32);
	}
	for (uint32_t i = 0; i < h->n_rules; i++) {
		const struct tg_rule *r = &p->rules[i];

		FUZZ_CHECK(r->scope < TG_SCOPE_COUNT);
		FUZZ_CHECK(r->action <= TG_ACT_BLOCK);
		FUZZ_CHECK(r->action != TG_ACT_CLASSIFY || r->class_idx < h->n_classes);
		FUZZ_CHECK(p->exprs[i] != NULL);
		fuzz_touch(p->exprs[i], strlen(p->exprs[i]));
		if (i > 0) /* sorted by scope, then id */
			FUZZ_CHECK(p->rules[i - 1].scope < r->scope ||
				   (p->rules[i - 1].scope == r->scope &&
				    p->rules[i - 1].id < r->id));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pol_policy *p = (struct pol_policy *)(uintptr_t)1;
	int rc;

	errs.n = 0;
	errs.dropped = 0;
	rc = pol_load_buffer("fuzz.yaml", (const char *)data, size, &p, &errs);
	FUZZ_CHECK(rc == 0 || rc == -1);
	check_errors(&errs);
	if (rc < 0) {
		FUZZ_CHECK(p == NULL);
		FUZZ_CHECK(errs.n > 0);
		return 0;
	}
	FUZZ_CHECK(p != NULL);
	FUZZ_CHECK(errs.n == 0 && errs.dropped == 0);
	check_policy(p);
	if (p->hdr.n_rules <= FUZZ_MAX_COMPILE) {
		rc = pol_compile(p, &errs);
		FUZZ_CHECK(rc == 0 || rc == -1);
		check_errors(&errs);
		if (rc < 0) {
			FUZZ_CHECK(errs.n > 0);
		} else {
			FUZZ_CHECK(errs.n == 0);
			FUZZ_CHECK(p->hsdb_len == 0 || p->hsdb_blob != NULL);
			for (unsigned s = 0; s < TG_HSDB_REFS; s++)
				FUZZ_CHECK((size_t)p->hdr.hsdb[s].off + p->hdr.hsdb[s].len <=
					   p->hsdb_len);
			if (p->hsdb_len)
				fuzz_touch(p->hsdb_blob, p->hsdb_len);
		}
	}
	pol_free(p);
	return 0;
}
