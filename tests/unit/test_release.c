/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_release.c - release_decide() (dataplane/release.h), the per-peer
 * decision of docs/release.md §5 steps 4-8, as a table of cases:
 *
 *   4. clearance      the level is known and at or below the peer's clearance
 *   5. not_releasable the peer's nation is in the releasability
 *   6. echo           the peer's link is not the message's link, and the
 *                     peer's port is not the port the message came in on
 *   7. class          one of the message's classes is in the peer's receives
 *   8. peer_down      the peer's device is present
 *
 * A hand-written table names each step on its own and at its boundaries;
 * then every subset of failing steps (each failure made in every way it can
 * be: an unknown or a too high level, echo by link or by port) must give the
 * first failing step in that order.  Dropping a step, or swapping two, fails
 * the second part.
 *
 * release_possible(), the decision before the late scan, is checked for
 * soundness by exhaustion: whenever it says a peer cannot receive the
 * message, no outcome of the late scan lets release_decide() release it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "release.h"
#include "tg_names.h"

/* Classes: bit 0 other, 1 warning, 2 space.  Nations: 0 USA, 1 KOR, 2 JPN. */
#define C_OTHER (1u << 0)
#define C_WARN (1u << 1)
#define C_SPACE (1u << 2)
#define N_USA (UINT64_C(1) << 0)
#define N_KOR (UINT64_C(1) << 1)
#define N_JPN (UINT64_C(1) << 2)

/* The peer of every case: KOR at SECRET, receives warnings, behind link 0,
 * on port 5 (unless a case says otherwise). */
static struct tg_peer
kor_peer(void)
{
	struct tg_peer p;

	memset(&p, 0, sizeof(p));
	strcpy(p.name, "kor");
	strcpy(p.nation, "KOR");
	p.nation_idx = 1;
	p.clearance = TG_LVL_SECRET;
	p.classes = C_WARN;
	p.link_idx = 0;
	return p;
}

/* A message that passes every step for kor_peer(): a SECRET warning
 * releasable to USA and KOR, in on link 1, port 2. */
static struct dp_msg
good_msg(void)
{
	return (struct dp_msg){.link_idx = 1, .port_id = 2, .classes = C_WARN,
			       .level = TG_LVL_SECRET, .rel_mask = N_USA | N_KOR};
}

struct tcase {
	const char *what;
	/* changes to the peer and the message of the base case */
	int16_t peer_link;
	uint8_t clearance, nation_idx;
	uint32_t peer_classes;
	int peer_port;
	int link_idx;
	uint16_t port_id;
	uint32_t classes;
	uint8_t level;
	uint64_t rel_mask;
	uint32_t peer_deny;  /* peers a declared control excludes (kor_peer is index 3) */
	enum tg_reason want;
};

/* Fields left out of an initialiser below are those of the base case: each
 * case starts with BASE and overrides what it changes. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
#define BASE .peer_link = 0, .clearance = TG_LVL_SECRET, .nation_idx = 1, .peer_classes = C_WARN, \
	     .peer_port = 5, .link_idx = 1, .port_id = 2, .classes = C_WARN,                     \
	     .level = TG_LVL_SECRET, .rel_mask = N_USA | N_KOR

static const struct tcase table[] = {
	{"released", BASE, .want = TG_R_RELEASED},
	/* 3. class */
	{"class: no class the peer receives", BASE, .classes = C_SPACE, .want = TG_R_CLASS},
	{"class: 'other' only", BASE, .classes = C_OTHER, .want = TG_R_CLASS},
	{"class: one of several", BASE, .classes = C_SPACE | C_WARN, .want = TG_R_RELEASED},
	{"class: peer receives several", BASE, .peer_classes = C_WARN | C_SPACE, .classes = C_SPACE,
	 .want = TG_R_RELEASED},
	{"class: peer receives 'other'", BASE, .peer_classes = C_OTHER, .classes = C_OTHER,
	 .want = TG_R_RELEASED},
	{"class: peer receives nothing", BASE, .peer_classes = 0, .want = TG_R_CLASS},
	/* 4. clearance */
	{"clearance: UNCLASSIFIED", BASE, .level = TG_LVL_UNCLASSIFIED, .want = TG_R_RELEASED},
	{"clearance: CONFIDENTIAL", BASE, .level = TG_LVL_CONFIDENTIAL, .want = TG_R_RELEASED},
	{"clearance: equal", BASE, .level = TG_LVL_SECRET, .want = TG_R_RELEASED},
	{"clearance: one above", BASE, .level = TG_LVL_TOP_SECRET, .want = TG_R_CLEARANCE},
	{"clearance: unknown level", BASE, .level = TG_LVL_NONE, .want = TG_R_CLEARANCE},
	{"clearance: unknown level, TOP SECRET peer", BASE, .clearance = TG_LVL_TOP_SECRET,
	 .level = TG_LVL_NONE, .want = TG_R_CLEARANCE},
	/* an unknown level is refused for itself, not for being high: even by
	 * a peer whose clearance byte is as high as it goes */
	{"clearance: unknown level, clearance 255", BASE, .clearance = 255, .level = TG_LVL_NONE,
	 .want = TG_R_CLEARANCE},
	{"clearance: TOP SECRET peer", BASE, .clearance = TG_LVL_TOP_SECRET,
	 .level = TG_LVL_TOP_SECRET, .want = TG_R_RELEASED},
	{"clearance: UNCLASSIFIED peer, CONFIDENTIAL", BASE, .clearance = TG_LVL_UNCLASSIFIED,
	 .level = TG_LVL_CONFIDENTIAL, .want = TG_R_CLEARANCE},
	{"clearance: level between known ones", BASE, .clearance = TG_LVL_TOP_SECRET, .level = 4,
	 .want = TG_R_CLEARANCE},
	/* 5. not_releasable */
	{"releasable: nation missing", BASE, .rel_mask = N_USA | N_JPN, .want = TG_R_NOT_RELEASABLE},
	{"releasable: to nobody", BASE, .rel_mask = 0, .want = TG_R_NOT_RELEASABLE},
	{"releasable: to the peer only", BASE, .rel_mask = N_KOR, .want = TG_R_RELEASED},
	{"releasable: nation 63", BASE, .nation_idx = 63, .rel_mask = UINT64_C(1) << 63,
	 .want = TG_R_RELEASED},
	{"releasable: nation index out of range", BASE, .nation_idx = TG_MAX_NATIONS,
	 .rel_mask = ~UINT64_C(0), .want = TG_R_NOT_RELEASABLE},
	{"releasable: nation index 255", BASE, .nation_idx = 255, .rel_mask = ~UINT64_C(0),
	 .want = TG_R_NOT_RELEASABLE},
	/* 6. echo */
	{"echo: by link", BASE, .link_idx = 0, .want = TG_R_ECHO},
	{"echo: by port", BASE, .peer_port = 2, .want = TG_R_ECHO},
	{"echo: by link and port", BASE, .link_idx = 0, .peer_port = 2, .want = TG_R_ECHO},
	{"echo: peer behind no link", BASE, .peer_link = -1, .link_idx = 0, .want = TG_R_RELEASED},
	{"echo: peer behind no link, same port", BASE, .peer_link = -1, .peer_port = 2,
	 .want = TG_R_ECHO},
	{"echo: port 0", BASE, .peer_port = 0, .port_id = 0, .want = TG_R_ECHO},
	/* peer_down */
	{"peer_down", BASE, .peer_port = -1, .want = TG_R_PEER_DOWN},
	{"peer_down, message on port 0", BASE, .peer_port = -1, .port_id = 0,
	 .want = TG_R_PEER_DOWN},
	{"peer_down, message on port 65535", BASE, .peer_port = -1, .port_id = 65535,
	 .want = TG_R_PEER_DOWN},
	/* the order, by hand (the exhaustive version is below) */
	{"clearance before class", BASE, .classes = C_SPACE, .level = TG_LVL_NONE,
	 .want = TG_R_CLEARANCE},
	{"clearance before releasability", BASE, .level = TG_LVL_TOP_SECRET, .rel_mask = 0,
	 .want = TG_R_CLEARANCE},
	{"releasability before echo", BASE, .rel_mask = N_JPN, .link_idx = 0,
	 .want = TG_R_NOT_RELEASABLE},
	/* a declared `peers:` control (release.md §3): part of step 5 */
	{"controls: the peer excluded", BASE, .peer_deny = 1u << 3, .want = TG_R_NOT_RELEASABLE},
	{"controls: another peer excluded", BASE, .peer_deny = ~(1u << 3), .want = TG_R_RELEASED},
	{"controls: excluded, before echo", BASE, .peer_deny = 1u << 3, .link_idx = 0,
	 .want = TG_R_NOT_RELEASABLE},
	{"clearance before controls", BASE, .peer_deny = 1u << 3, .level = TG_LVL_NONE,
	 .want = TG_R_CLEARANCE},
	{"echo before class", BASE, .link_idx = 0, .classes = C_SPACE, .want = TG_R_ECHO},
	{"class before peer_down", BASE, .classes = C_SPACE, .peer_port = -1, .want = TG_R_CLASS},
	{"echo before peer_down", BASE, .link_idx = 0, .peer_port = -1, .want = TG_R_ECHO},
	{"everything wrong", BASE, .classes = C_OTHER, .level = TG_LVL_NONE, .rel_mask = 0,
	 .link_idx = 0, .peer_port = -1, .want = TG_R_CLEARANCE},
};
#pragma GCC diagnostic pop

static enum tg_reason
decide(const struct tcase *c)
{
	struct tg_peer p = kor_peer();
	struct dp_msg m = good_msg();

	p.link_idx = c->peer_link;
	p.clearance = c->clearance;
	p.nation_idx = c->nation_idx;
	p.classes = c->peer_classes;
	m.link_idx = c->link_idx;
	m.port_id = c->port_id;
	m.classes = c->classes;
	m.level = c->level;
	m.rel_mask = c->rel_mask;
	m.peer_deny = c->peer_deny;
	p.index = 3;
	return release_decide(&p, c->peer_port, &m);
}

static void
test_table(void **state)
{
	unsigned bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		enum tg_reason got = decide(&table[i]);

		if (got != table[i].want) {
			print_error("%s: %s, want %s\n", table[i].what, tg_reason_name(got),
				    tg_reason_name(table[i].want));
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* ---- every subset of failing steps ---- */

enum step { S_CLEARANCE, S_RELEASABLE, S_ECHO, S_CLASS, S_PEER_DOWN, S_COUNT };

static const enum tg_reason step_reason[S_COUNT] = {
	TG_R_CLEARANCE, TG_R_NOT_RELEASABLE, TG_R_ECHO, TG_R_CLASS, TG_R_PEER_DOWN,
};

/* Ways each step can fail (variant v of step s). */
static const unsigned n_ways[S_COUNT] = {2, 2, 3, 2, 1};

/* Make step s fail in way v; false if that way cannot be combined with the
 * others already made (echo by port needs the peer's port). */
static bool
break_step(enum step s, unsigned v, unsigned set, struct tg_peer *p, int *peer_port,
	   struct dp_msg *m)
{
	switch (s) {
	case S_CLASS:
		m->classes = v ? C_SPACE : C_OTHER;
		return true;
	case S_CLEARANCE:
		m->level = v ? TG_LVL_NONE : TG_LVL_TOP_SECRET;
		return true;
	case S_RELEASABLE:
		if (v)
			p->nation_idx = TG_MAX_NATIONS + 1;
		else
			m->rel_mask = N_USA | N_JPN;
		return true;
	case S_ECHO:
		if (v == 0) {
			m->link_idx = p->link_idx;
			return true;
		}
		if (set & (1u << S_PEER_DOWN))
			return false; /* a peer without a port shares none */
		*peer_port = m->port_id;
		if (v == 2)
			m->link_idx = p->link_idx;
		return true;
	case S_PEER_DOWN:
		*peer_port = -1;
		return true;
	default:
		return false;
	}
}

static void
test_order(void **state)
{
	unsigned cases = 0, bad = 0;

	(void)state;
	for (unsigned set = 0; set < (1u << S_COUNT); set++) {
		/* every combination of ways: a mixed-radix counter over the steps */
		unsigned total = 1;

		for (unsigned s = 0; s < S_COUNT; s++)
			if (set & (1u << s))
				total *= n_ways[s];
		for (unsigned k = 0; k < total; k++) {
			struct tg_peer p = kor_peer();
			struct dp_msg m = good_msg();
			int peer_port = 5;
			enum tg_reason want = TG_R_RELEASED, got;
			unsigned rest = k;
			bool ok = true;

			/* peer_down first: echo by port looks at it */
			for (int s = S_COUNT - 1; s >= 0; s--) {
				if (!(set & (1u << s)))
					continue;
				ok = break_step((enum step)s, rest % n_ways[s], set, &p, &peer_port,
						 &m) && ok;
				rest /= n_ways[s];
			}
			if (!ok)
				continue;
			for (unsigned s = 0; s < S_COUNT; s++)
				if (set & (1u << s)) {
					want = step_reason[s];
					break;
				}
			got = release_decide(&p, peer_port, &m);
			cases++;
			if (got != want) {
				print_error("failing steps 0x%x (way %u): %s, want %s\n", set, k,
					    tg_reason_name(got), tg_reason_name(want));
				bad++;
			}
		}
	}
	assert_int_equal(bad, 0);
	/* every subset was tried, most in several ways */
	assert_true(cases > 100);
}

/* The decision reads nothing but what it is given: the same inputs give the
 * same answer, and the peer and the message are left as they were. */
static void
test_pure(void **state)
{
	struct tg_peer p = kor_peer(), p0;
	struct dp_msg m = good_msg(), m0;

	(void)state;
	p0 = p;
	m0 = m;
	for (int i = 0; i < 3; i++)
		assert_int_equal(release_decide(&p, 5, &m), TG_R_RELEASED);
	assert_memory_equal(&p, &p0, sizeof(p));
	assert_memory_equal(&m, &m0, sizeof(m));
}

/*
 * Before the late scan: over four classes (bit 0 `other`), every peer
 * `receives`, every early class set, every set of classes the late rules
 * can add, and every subset of those that the late scan then finds.  When
 * release_possible() says no, the final classes (early plus late found, or
 * `other` when both are empty) must share nothing with the peer; and it must
 * say yes whenever they do not (no message is withheld that could go).
 */
static void
test_possible_sound(void **state)
{
	unsigned cases = 0, bad = 0, skipped = 0;

	(void)state;
	for (uint32_t recv = 0; recv < 16; recv++)
		for (uint32_t early = 0; early < 16; early += 2) /* no rule adds `other` here */
			for (uint32_t late = 0; late < 16; late += 2)
				for (uint32_t found = 0; found < 16; found += 2) {
					struct tg_peer p = kor_peer();
					uint32_t fin;
					bool poss, can;

					if (found & ~late)
						continue;
					p.classes = recv;
					fin = (early | found) ? (early | found) : DP_CLASS_OTHER;
					poss = release_possible(&p, early, late);
					can = (fin & recv) != 0;
					cases++;
					skipped += !poss;
					if (!poss && can) {
						print_error("receives 0x%x early 0x%x late 0x%x found "
							    "0x%x: withheld before the scan, but the "
							    "final classes 0x%x reach the peer\n",
							    recv, early, late, found, fin);
						bad++;
					}
				}
	assert_int_equal(bad, 0);
	assert_true(cases > 1000);
	assert_true(skipped > 100); /* it does decide early, not always say "maybe" */
	/* and a few by hand */
	struct tg_peer p = kor_peer();

	p.classes = C_WARN;
	assert_false(release_possible(&p, C_SPACE, 0));
	assert_true(release_possible(&p, C_SPACE, C_WARN));
	assert_true(release_possible(&p, C_WARN, 0));
	p.classes = C_OTHER;
	assert_true(release_possible(&p, 0, 0));
	assert_true(release_possible(&p, 0, C_WARN));
	assert_false(release_possible(&p, C_WARN, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_possible_sound),
		cmocka_unit_test(test_pure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
