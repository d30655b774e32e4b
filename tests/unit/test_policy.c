/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_policy.c - ctrl/policy_parse.c and ctrl/policy_compile.c: every
 * tests/policies/bad-*.yaml gives exactly its one error at the right place,
 * good policies load with the right tables, hostile input never crashes,
 * and a 10,000-rule policy loads and compiles.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#if defined(__has_include) && __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#include "marking.h"
#include "policy.h"

#ifndef TG_SOURCE_ROOT
#define TG_SOURCE_ROOT "."
#endif
#define POLICIES TG_SOURCE_ROOT "/tests/policies/"

struct bad_case {
	const char *file;
	int compile;      /* the error comes from pol_compile */
	unsigned int line, col; /* col 0: not checked */
	const char *msg;  /* a substring of the message */
	unsigned int n;   /* expected error count, 0 means 1 */
};

static const struct bad_case bad_cases[] = {
	{ "bad-yaml-syntax", 0, 10, 20, "YAML syntax error: did not find expected ',' or ']'" },
	{ "bad-yaml-indent", 0, 14, 4, "YAML syntax error" },
	{ "bad-unknown-key-root", 0, 42, 1, "unknown key 'extras' in the policy" },
	{ "bad-unknown-key-header", 0, 26, 7, "unknown key 'gateway' in peer 'p1'" },
	{ "bad-unknown-key-rule", 0, 31, 5, "unknown key 'priority' in rule 1" },
	{ "bad-dup-key", 0, 16, 5, "duplicate key 'nation' in peer 'p1' (first at line 15)" },
	{ "bad-type-udp-ports", 0, 9, 16, "'udp_ports' must be a list, not a scalar" },
	{ "bad-type-quoted-int", 0, 24, 17, "'src_port' must be an integer from 1 to 65535" },
	{ "bad-type-rules-map", 0, 25, 8, "'rules' must be a list, not a mapping" },
	{ "bad-type-bool", 0, 4, 17, "'ignore_stale' must be true or false, not 'yes'" },
	{ "bad-missing-version", 0, 1, 1, "missing required key 'version'" },
	{ "bad-version", 0, 1, 10, "unsupported policy version 2" },
	{ "bad-missing-dst-ip", 0, 20, 7, "peer 'p1': missing required key 'dst_ip'" },
	{ "bad-missing-match", 0, 27, 5, "rule 1: missing required key 'match'" },
	{ "bad-dup-rule-id", 0, 42, 9, "duplicate rule id 1 (first at line 27)" },
	{ "bad-dup-rule-name", 0, 33, 11, "duplicate rule name 'warn' (first at line 27)" },
	{ "bad-dup-link-name", 0, 12, 11, "duplicate link name 'l1' (first at line 7)" },
	{ "bad-dup-peer-name", 0, 26, 11, "duplicate peer name 'p1' (first at line 13)" },
	{ "bad-dup-link-port", 0, 13, 11, "port 'net_pcap0' is already used by link 'l1'" },
	{ "bad-dup-peer-port", 0, 27, 11, "port 'net_pcap1' is already used by peer 'p1'" },
	{ "bad-nation-peer", 0, 15, 13, "nation 'Usa' is not an ISO 3166 trigraph" },
	{ "bad-nation-group", 0, 5, 15, "group member 'UK' is not an ISO 3166 trigraph" },
	{ "bad-group-name", 0, 5, 3, "group name 'FVE' has three letters" },
	{ "bad-marking-token", 0, 10, 22, "neither a trigraph nor a known group (at character 21)" },
	{ "bad-marking-level", 0, 10, 22, "unknown classification level" },
	{ "bad-marking-control", 0, 10, 22, "unknown control" },
	{ "bad-marking-noforn", 0, 10, 22, "NOFORN has no effect in a link default" },
	{ "bad-mac", 0, 21, 16, "bad MAC address '02:00:00:00:00'" },
	{ "bad-ip", 0, 23, 15, "bad IP address '192.0.2.256'" },
	{ "bad-ip-family", 0, 23, 15, "both must be the same family" },
	{ "bad-prefix", 0, 11, 21, "bad prefix '198.51.100.0/33'" },
	{ "bad-prefix-hostbits", 0, 11, 21, "has bits set past /24" },
	{ "bad-comb-missing", 0, 39, 12, "rule 3: combination names rule id 7, which does not exist" },
	{ "bad-comb-scope", 0, 39, 12, "operands must share the combination's scope" },
	{ "bad-comb-order", 1, 39, 12, "rule 3 (combo): combination operand 2 can match out of order" },
	{ "bad-comb-syntax", 1, 39, 12, "rule 3 (combo): bad combination: unexpected '2' at column 3" },
	{ "bad-clearance", 0, 16, 16, "unknown clearance 'SECERT'" },
	{ "bad-peer-link", 0, 17, 11, "peer 'p1': link 'l9' names no link" },
	{ "bad-class-unproduced", 0, 18, 25, "receives class 'space', but no classify rule produces it" },
	{ "bad-scope", 0, 29, 12, "unknown scope 'body'" },
	{ "bad-flag", 0, 40, 26, "unknown rule flag 'nocase'" },
	{ "bad-action", 0, 31, 13, "action must have exactly one of" },
	{ "bad-vlan", 0, 26, 13, "'vlan' is '4095', out of range 1..4094" },
	{ "bad-mtu", 0, 19, 10, "'mtu' is '100000', out of range 576..9216" },
	{ "bad-encodings-unknown", 0, 12, 22, "unknown encoding 'takproto-v2' (expected xml or takproto-v1)" },
	{ "bad-encodings-dup", 0, 12, 30, "encoding 'takproto-v1' listed twice" },
	{ "bad-encodings-empty", 0, 12, 16, "'encodings' must name at least one encoding (xml, takproto-v1)" },
	{ "bad-peer-encoding", 0, 20, 15, "unknown encoding 'protobuf' for a peer (expected as-received or xml)" },
	{ "bad-udp-ports-count", 0, 9, 16, "must list 1 to 8 ports, not 9" },
	{ "bad-max-message", 0, 4, 22, "out of range 1..65507" },
	{ "bad-control-chars", 0, 7, 12, "control 'A/B' may hold only letters, digits, '_', '-' and blanks" },
	{ "bad-control-dup-name", 0, 8, 29, "control name 'propin' is already taken by control PROPIN (names and aliases are compared case-insensitively)" },
	{ "bad-control-effect", 0, 7, 28, "unknown effect 'nation' (expected nations or peers)" },
	{ "bad-control-in-default", 0, 12, 22, "default_marking 'SECRET//REL TO USA, KOR//EXERCISE': only pass controls may appear in a link default (release.md §3: resolution reads its level and list alone)" },
	{ "bad-control-level", 0, 7, 12, "control 'SECRET' is a word of the marking grammar (a level or REL)" },
	{ "bad-control-noforn-pass", 0, 7, 24, "NOFORN always narrows to USA: its effect may only narrow further (block or {peers: [...]})" },
	{ "bad-control-peer", 0, 7, 36, "peer 'p9' names no peer" },
	{ "bad-control-rel", 0, 7, 12, "control 'REL TO XYZ' would be read as a REL TO list" },
	{ "bad-sanitize-step", 0, 21, 9, "unknown key 'drop_sensor' in a sanitize entry (expected: classes, drop_elements, drop_attributes, drop_remarks, coarsen_point, set_attribute)" },
	{ "bad-sanitize-name", 0, 20, 33, "'drop_elements': 'a b' is not an element or attribute name (a letter or '_', then letters, digits, '_', '-' or '.'; at most 31 bytes)" },
	{ "bad-sanitize-detail", 0, 20, 25, "drop_attributes: <event> is not inside <detail> (event attributes: set_attribute; the point: coarsen_point)" },
	{ "bad-sanitize-decimals", 0, 20, 33, "'decimals' is '7', out of range 0..6" },
	{ "bad-sanitize-set-type", 0, 20, 23, "unknown key 'type' in set_attribute (expected: access, caveat, releasableTo, qos, opex)" },
	{ "bad-sanitize-set-peer", 0, 20, 37, "set_attribute releasableTo 'KOR' leaves out peer 'p1' (USA): every copy would be withheld" },
	{ "bad-sanitize-conflict", 0, 21, 9, "peer 'p1': this entry sets opex to \"s-x\", the entry at line 20 to \"e-x\"" },
	{ "bad-sanitize-empty", 0, 20, 9, "a sanitize entry must hold at least one step (drop_elements, drop_attributes, drop_remarks: true, coarsen_point, set_attribute)" },
	{ "bad-max-field", 0, 4, 20, "'max_field_bytes' is '1025', out of range 64..1024" },
	{ "bad-max-field-small", 0, 4, 20, "'max_field_bytes' is '63', out of range 64..1024" },
	{ "bad-max-remarks", 0, 4, 22, "'max_remarks_bytes' is '16385', out of range 0..16384" },
	{ "bad-rule-name", 0, 33, 11, "may hold only letters, digits" },
	{ "bad-rule-id-zero", 0, 32, 9, "'id' is '0', out of range 1..2147483648" },
	{ "bad-anchor", 0, 9, 16, "YAML anchor '&ports': anchors and aliases are not allowed" },
	{ "bad-alias-bomb", 0, 2, 4, "anchors and aliases are not allowed" },
	{ "bad-tag", 0, 9, 16, "tags are not allowed" },
	{ "bad-multi-doc", 0, 42, 1, "one YAML document" },
	{ "bad-too-many-links", 0, 7, 3, "too many links: 17, the limit is 16" },
	{ "bad-too-many-peers", 0, 13, 3, "too many peers: 33, the limit is 32" },
	{ "bad-empty", 0, 1, 1, "empty policy" },
	{ "bad-not-map", 0, 1, 1, "'the policy' must be a mapping, not a list" },
	{ "bad-utf8", 0, 7, 20, "invalid UTF-8 (byte 0xe9" },
	{ "bad-binary", 0, 1, 1, "not a text file" },
	{ "bad-hs-rule", 1, 30, 12,
	  "rule 1 (warn): Hyperscan rejects the expression: Missing close parenthesis" },
	{ "bad-hs-two-rules", 1, 30, 12, "rule 1 (warn): Hyperscan rejects", 2 },
};

static void
test_bad_file(void **state)
{
	const struct bad_case *bc = *state;
	struct pol_errors errs = { 0 };
	struct pol_policy *p = NULL;
	char path[512];
	int rc;

	snprintf(path, sizeof(path), POLICIES "%s.yaml", bc->file);
	rc = pol_load_file(path, &p, &errs);
	if (bc->compile) {
		if (rc != 0)
			pol_errors_print(&errs, stderr);
		assert_int_equal(rc, 0);
		rc = pol_compile(p, &errs);
		assert_null(p->hsdb_blob);
		pol_free(p);
	} else {
		assert_null(p);
	}
	assert_int_equal(rc, -1);
	if (errs.n != (bc->n ? bc->n : 1) || strstr(errs.e[0].msg, bc->msg) == NULL ||
	    errs.e[0].line != bc->line || (bc->col && errs.e[0].col != bc->col)) {
		pol_errors_print(&errs, stderr);
		fail_msg("%s: expected %u error(s), first at %u:%u containing \"%s\"", bc->file,
			 bc->n ? bc->n : 1, bc->line, bc->col, bc->msg);
	}
	assert_string_equal(errs.e[0].file, path);
}

static struct pol_policy *
load_ok(const char *name, const char *buf, size_t len)
{
	struct pol_errors errs = { 0 };
	struct pol_policy *p = NULL;

	if (pol_load_buffer(name, buf, len, &p, &errs) != 0) {
		pol_errors_print(&errs, stderr);
		fail_msg("%s did not load", name);
	}
	if (pol_compile(p, &errs) != 0) {
		pol_errors_print(&errs, stderr);
		fail_msg("%s did not compile", name);
	}
	return p;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int
nation(const struct pol_policy *p, const char *tri)
{
	uint32_t i;

	for (i = 0; i < p->hdr.n_nations; i++)
		if (strcmp(p->hdr.nations[i], tri) == 0)
			return (int)i;
	return -1;
}

#define BIT(p, tri) (UINT64_C(1) << nation((p), (tri)))

static void
test_demo(void **state)
{
	struct pol_policy *p;
	char *buf;
	size_t len;
	uint32_t i, s;

	buf = slurp(TG_SOURCE_ROOT "/policy/demo.yaml", &len);
	p = load_ok("demo.yaml", buf, len);
	assert_int_equal(p->hdr.n_links, 2);
	assert_int_equal(p->hdr.n_peers, 3);
	assert_int_equal(p->hdr.n_rules, 10);
	assert_int_equal(p->hdr.n_groups, 2);
	assert_int_equal(p->hdr.n_nations, 3);
	assert_string_equal(p->hdr.nations[0], "KOR");
	assert_string_equal(p->hdr.nations[1], "JPN");
	assert_string_equal(p->hdr.nations[2], "USA");
	assert_int_equal(p->hdr.n_classes, 3);
	assert_string_equal(p->hdr.classes[0], "other");
	assert_string_equal(p->hdr.classes[1], "warning");
	assert_string_equal(p->hdr.classes[2], "space");
	assert_string_equal(p->hdr.groups[0].name, "FVEY");
	assert_true(p->hdr.groups[0].mask == BIT(p, "USA"));
	assert_true(p->hdr.groups[1].mask == (BIT(p, "USA") | BIT(p, "KOR") | BIT(p, "JPN")));
	assert_int_equal(p->hdr.stale_tolerance_s, 30);
	assert_int_equal(p->hdr.flags, TG_PF_IGNORE_STALE);
	assert_int_equal(p->hdr.max_message_bytes, 8192);
	assert_string_equal(p->hdr.source, "demo.yaml");

	assert_string_equal(p->links[0].name, "kor-us");
	assert_string_equal(p->links[0].dev, "net_pcap0");
	assert_int_equal(p->links[0].n_udp_ports, 2);
	assert_int_equal(p->links[0].udp_ports[1], 4242);
	assert_int_equal(p->links[0].has_default_marking, 1);
	assert_int_equal(p->links[0].default_marking.level, TG_LVL_SECRET);
	assert_true(p->links[0].default_marking.rel_mask == (BIT(p, "USA") | BIT(p, "KOR")));
	assert_string_equal(p->links[0].default_marking_text, "SECRET//REL TO USA, KOR");
	assert_int_equal(p->links[0].rate_pps, 20000);
	assert_int_equal(p->links[0].rate_burst, 2000);
	assert_int_equal(p->xdp[0].n_allow, 2);
	assert_int_equal(p->xdp[0].allow[1].family, 6);
	assert_int_equal(p->xdp[0].allow[1].len, 48);
	assert_int_equal(p->xdp[0].n_block, 1);
	assert_int_equal(p->xdp[0].block[0].len, 32);
	assert_int_equal(p->xdp[0].block[0].addr[3], 66);
	assert_int_equal(p->links[1].rate_pps, 0);

	assert_string_equal(p->peers[0].name, "kor");
	assert_int_equal(p->peers[0].link_idx, 0);
	assert_int_equal(p->peers[0].clearance, TG_LVL_SECRET);
	assert_int_equal(p->peers[0].nation_idx, 0);
	assert_int_equal(p->peers[0].classes, 1u << 1);
	assert_int_equal(p->peers[0].has_vlan, 1);
	assert_int_equal(p->peers[0].vlan_tci, 82);
	assert_int_equal(p->peers[0].ip_version, 4);
	assert_int_equal(p->peers[0].ttl, 64);
	assert_int_equal(p->peers[0].dst_mac[4], 0x82);
	assert_int_equal(p->peers[0].dst_ip[0], 198);
	assert_int_equal(p->peers[1].ip_version, 6);
	assert_int_equal(p->peers[1].link_idx, 1);
	assert_int_equal(p->peers[2].link_idx, -1);
	assert_int_equal(p->peers[2].clearance, TG_LVL_TOP_SECRET);
	assert_int_equal(p->peers[2].classes, (1u << 1) | (1u << 2));
	assert_int_equal(p->peers[2].mtu, 9000);
	assert_int_equal(p->peers[2].dst_port, 6970);
	assert_int_equal(p->peers[2].encoding, TG_PEER_ENC_XML);
	assert_int_equal(p->peers[0].encoding, TG_PEER_ENC_AS_RECEIVED);
	assert_int_equal(p->links[0].encodings, TG_ENC_F_ALL);
	assert_int_equal(p->links[1].encodings, TG_ENC_F_XML);
	assert_int_equal(p->hdr.max_field_bytes, TG_FIELD_LIMIT_DEFAULT);
	assert_int_equal(p->hdr.max_remarks_bytes, TG_REMARKS_LIMIT_DEFAULT);

	/* sorted by scope then id */
	for (i = 1; i < p->hdr.n_rules; i++)
		assert_true(p->rules[i - 1].scope < p->rules[i].scope ||
			    (p->rules[i - 1].scope == p->rules[i].scope &&
			     p->rules[i - 1].id < p->rules[i].id));
	assert_int_equal(p->rules[0].id, 201);
	assert_int_equal(p->rules[0].action, TG_ACT_BLOCK);
	assert_string_equal(p->rules[0].reason, "dirty-word");
	assert_int_equal(p->rules[0].flags, TG_RF_CASELESS | TG_RF_SINGLEMATCH);
	assert_int_equal(p->rules[1].id, 100);
	assert_int_equal(p->rules[1].class_idx, 1);
	assert_string_equal(p->exprs[1], "^a-h-A-W-M-S-S$");
	for (i = 0; i < p->hdr.n_rules; i++)
		if (p->rules[i].id == 302)
			assert_int_equal(p->rules[i].flags, TG_RF_COMBINATION);
		else if (p->rules[i].id == 300)
			assert_int_equal(p->rules[i].action, TG_ACT_NONE);

	/* one database per used scope, plus the prefiltered part of remarks
	 * (202; 300-302 stay because 301 is anchored), aligned, in the blob */
	for (s = 0; s < TG_HSDB_REFS; s++) {
		int used = s == TG_SCOPE_PAYLOAD || s == TG_SCOPE_TYPE || s == TG_SCOPE_REMARKS ||
			   s == TG_SCOPE_MARKING || s == TG_HSDB_PF(TG_SCOPE_REMARKS);

		assert_int_equal(p->hdr.hsdb[s].len != 0, used);
		assert_int_equal(p->hdr.hsdb[s].off % 8, 0);
		assert_true(p->hdr.hsdb[s].off + p->hdr.hsdb[s].len <= p->hsdb_len);
	}
	pol_free(p);
	free(buf);
}

static void
test_good_files(void **state)
{
	struct pol_errors errs = { 0 };
	struct pol_policy *p;
	static const unsigned char empty_digest[32];

	assert_int_equal(pol_load_file(POLICIES "good-base.yaml", &p, &errs), 0);
	assert_memory_not_equal(p->hdr.digest, empty_digest, 32);
	assert_int_equal(pol_compile(p, &errs), 0);
	/* compiling twice replaces the blob */
	assert_int_equal(pol_compile(p, &errs), 0);
	assert_int_equal(p->hdr.seq, 0);
	assert_int_equal(p->hdr.generation, 0);
	pol_free(p);
	/* a link and a peer may share a port: a bidirectional attachment */
	assert_int_equal(pol_load_file(POLICIES "good-shared-port.yaml", &p, &errs), 0);
	assert_string_equal(p->links[0].dev, p->peers[0].dev);
	pol_free(p);
	assert_int_equal(errs.n, 0);
}

static void
test_digest(void **state)
{
	static const char a[] = "version: 1\n";
	static const char b[] = "version: 1 \n";
	struct pol_policy *p1 = load_ok("a", a, sizeof(a) - 1);
	struct pol_policy *p2 = load_ok("b", b, sizeof(b) - 1);
	/* SHA-256("version: 1\n") */
	static const uint8_t want[4] = { 0x2c, 0x8e, 0x2e, 0x6c };

	assert_memory_not_equal(p1->hdr.digest, p2->hdr.digest, 32);
	(void)want;
	assert_int_equal(p1->hdr.n_rules, 0);
	assert_int_equal(p1->hsdb_len, 0);
	assert_int_equal(p1->hdr.stale_tolerance_s, 30);
	assert_int_equal(p1->hdr.max_message_bytes, 8192);
	pol_free(p1);
	pol_free(p2);
}

static void
expect_one(const char *buf, size_t len, unsigned int line, const char *msg)
{
	struct pol_errors errs = { 0 };
	struct pol_policy *p = NULL;

	assert_int_equal(pol_load_buffer("mem", buf, len, &p, &errs), -1);
	assert_null(p);
	if (errs.n < 1 || errs.e[0].line != line || strstr(errs.e[0].msg, msg) == NULL) {
		pol_errors_print(&errs, stderr);
		fail_msg("expected an error at line %u containing \"%s\"", line, msg);
	}
}

static void
test_hostile(void **state)
{
	static const char nul[] = "version: 1\nrules: []\n\0\n";
	static const char latin1[] = "version: 1 # \xe9t\xe9\n";
	static const char overlong[] = "version: 1 # \xc0\xaf\n";
	static const char surrogate[] = "version: 1 # \xed\xa0\x80\n";
	static const char escnul[] = "version: 1\nlinks: [{name: \"a\\0b\", port: p, udp_ports: [1]}]\n";
	static const char deep[] = "version: 1\nx: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n";
	static const char utf16[] = "\xff\xfe" "v\0e\0";

	expect_one(nul, sizeof(nul) - 1, 3, "NUL byte");
	expect_one(latin1, sizeof(latin1) - 1, 1, "invalid UTF-8");
	expect_one(overlong, sizeof(overlong) - 1, 1, "invalid UTF-8");
	expect_one(surrogate, sizeof(surrogate) - 1, 1, "invalid UTF-8");
	expect_one(escnul, sizeof(escnul) - 1, 2, "NUL character");
	expect_one(deep, sizeof(deep) - 1, 2, "nested more than");
	expect_one(utf16, sizeof(utf16) - 1, 1, "invalid UTF-8");
	expect_one("", 0, 1, "empty policy");
	expect_one("version: 1\nversion: 1\n", 22, 2, "duplicate key 'version'");
	expect_one("version: 99999999999999999999999\n", 33, 1, "'version'");
	expect_one("version: 1\n[a]: 1\n", 18, 2, "keys in the policy must be strings");
}

/* Every prefix of a good policy, and byte flips: errors, never a crash. */
static void
test_truncations(void **state)
{
	struct pol_errors errs;
	struct pol_policy *p;
	char *buf;
	size_t len, i, j;
	unsigned int seed = 1;

	buf = slurp(POLICIES "good-base.yaml", &len);
	for (i = 0; i <= len; i += 3) {
		memset(&errs, 0, sizeof(errs));
		if (pol_load_buffer("trunc", buf, i, &p, &errs) == 0)
			pol_free(p);
		else
			assert_true(errs.n > 0);
	}
	for (i = 0; i < 300; i++) {
		char *m = malloc(len);

		assert_non_null(m);
		memcpy(m, buf, len);
		for (j = 0; j < 3; j++) {
			seed = seed * 1103515245u + 12345u;
			m[(seed >> 8) % len] = (char)(seed >> 24);
		}
		memset(&errs, 0, sizeof(errs));
		if (pol_load_buffer("flip", m, len, &p, &errs) == 0) {
			pol_compile(p, &errs);
			pol_free(p);
		} else {
			assert_true(errs.n > 0);
		}
		free(m);
	}
	free(buf);
}

static void
test_too_large(void **state)
{
	char path[] = "/tmp/tg-test-policy-XXXXXX";
	struct pol_errors errs = { 0 };
	struct pol_policy *p;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	/* sparse: costs no disk */
	assert_int_equal(ftruncate(fd, (off_t)POL_MAX_FILE_BYTES + 1), 0);
	close(fd);
	assert_int_equal(pol_load_file(path, &p, &errs), -1);
	unlink(path);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.e[0].line, 0);
	assert_non_null(strstr(errs.e[0].msg, "over the limit of 67108864 bytes (64 MiB)"));

	memset(&errs, 0, sizeof(errs));
	assert_int_equal(pol_load_file("/nonexistent/policy.yaml", &p, &errs), -1);
	assert_non_null(strstr(errs.e[0].msg, "cannot open"));
	memset(&errs, 0, sizeof(errs));
	assert_int_equal(pol_load_buffer("big", "", (size_t)POL_MAX_FILE_BYTES + 1, &p, &errs),
			 -1);
	assert_non_null(strstr(errs.e[0].msg, "over the limit"));
}

static void
test_error_cap_and_print(void **state)
{
	struct pol_errors errs = { 0 };
	struct pol_policy *p;
	char *out = NULL;
	size_t outlen = 0, o = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	FILE *f;
	int i;

	assert_non_null(buf);
	o += (size_t)snprintf(buf + o, cap - o, "version: 1\n");
	for (i = 0; i < 100; i++)
		o += (size_t)snprintf(buf + o, cap - o, "bogus%d: 1\n", i);
	assert_int_equal(pol_load_buffer("cap.yaml", buf, o, &p, &errs), -1);
	assert_int_equal(errs.n, POL_MAX_ERRORS);
	assert_int_equal(errs.dropped, 100 - POL_MAX_ERRORS);
	f = open_memstream(&out, &outlen);
	assert_non_null(f);
	pol_errors_print(&errs, f);
	fclose(f);
	assert_true(strncmp(out, "cap.yaml:2:1: error: unknown key 'bogus0' in the policy", 55) == 0);
	assert_non_null(strstr(out, "(36 more errors not shown)"));
	free(out);
	free(buf);
}

static char *
synth(unsigned int n, size_t *len)
{
	size_t cap = 256 + (size_t)n * 128, o = 0;
	char *buf = malloc(cap);
	unsigned int i;

	assert_non_null(buf);
	o += (size_t)snprintf(buf + o, cap - o, "version: 1\nrules:\n");
	for (i = 0; i < n; i++) {
		if (i % 2)
			o += (size_t)snprintf(buf + o, cap - o,
					      "  - id: %u\n    name: r%u\n    match: 'word%05u'\n    flags: [caseless]\n    action: {block: dirty}\n",
					      i + 1, i, i);
		else
			o += (size_t)snprintf(buf + o, cap - o,
					      "  - {id: %u, name: r%u, scope: remarks, match: 'x%u[0-9]+y', action: {classify: c%u}}\n",
					      i + 1, i, i, i % 8);
	}
	*len = o;
	return buf;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_10k_rules(void **state)
{
	struct pol_errors errs = { 0 };
	struct pol_policy *p;
	unsigned int n = 10000;
	const char *env = getenv("TG_TEST_RULES");
	double t0, t1, t2;
	size_t len;
	char *buf;

	if (env != NULL)
		n = (unsigned int)atoi(env);
	buf = synth(n, &len);
	t0 = now();
	if (pol_load_buffer("synth", buf, len, &p, &errs) != 0) {
		pol_errors_print(&errs, stderr);
		fail();
	}
	t1 = now();
	assert_int_equal(p->hdr.n_rules, n);
	if (RUNNING_ON_VALGRIND && n > 500) {
		/* Hyperscan needs seconds for 10k rules natively: under
		 * valgrind, compile a smaller policy of the same shape. */
		print_message("under valgrind: compiling 500 of the %u rules\n", n);
		pol_free(p);
		free(buf);
		n = 500;
		buf = synth(n, &len);
		assert_int_equal(pol_load_buffer("synth", buf, len, &p, &errs), 0);
	}
	if (pol_compile(p, &errs) != 0) {
		pol_errors_print(&errs, stderr);
		fail();
	}
	t2 = now();
	print_message("%u rules (%zu bytes): parse %.3f s, compile %.3f s, databases %zu bytes\n",
		      n, len, t1 - t0, t2 - t1, p->hsdb_len);
	assert_int_equal(p->hdr.n_classes, 5); /* other + c0 c2 c4 c6 */
	assert_true(p->hdr.hsdb[TG_SCOPE_PAYLOAD].len > 0);
	/* remarks rules are all context-free: all prefiltered */
	assert_int_equal(p->hdr.hsdb[TG_SCOPE_REMARKS].len, 0);
	assert_true(p->hdr.hsdb[TG_HSDB_PF(TG_SCOPE_REMARKS)].len > 0);
	pol_free(p);
	free(buf);
}

static void
test_too_many_rules(void **state)
{
	struct pol_errors errs = { 0 };
	struct pol_policy *p;
	size_t cap = (TG_MAX_RULES + 1) * 48 + 64, o = 0;
	char *buf = malloc(cap);
	unsigned int i;

	assert_non_null(buf);
	o += (size_t)snprintf(buf + o, cap - o, "version: 1\nrules:\n");
	for (i = 0; i <= TG_MAX_RULES; i++)
		o += (size_t)snprintf(buf + o, cap - o, "- {id: %u, name: r%u, match: a}\n", i + 1, i);
	assert_int_equal(pol_load_buffer("many", buf, o, &p, &errs), -1);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.e[0].line, 3);
	assert_non_null(strstr(errs.e[0].msg, "too many rules: 16385, the limit is 16384"));
	free(buf);
}

int
main(void)
{
	enum { NBAD = sizeof(bad_cases) / sizeof(bad_cases[0]) };
	struct CMUnitTest tests[NBAD + 9];
	size_t i, n = 0;

	for (i = 0; i < NBAD; i++) {
		tests[n] = (struct CMUnitTest){ .name = bad_cases[i].file,
						.test_func = test_bad_file,
						.initial_state = (void *)&bad_cases[i] };
		n++;
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_demo);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_good_files);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_digest);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_hostile);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_truncations);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_too_large);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_error_cap_and_print);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_too_many_rules);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_10k_rules);
	return _cmocka_run_group_tests("policy", tests, n, NULL, NULL);
}
