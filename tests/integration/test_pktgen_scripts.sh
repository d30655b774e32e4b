#!/bin/bash
# test_pktgen_scripts.sh - tools/pktgen/build.sh and run.sh without pktgen-dpdk
# (CI cannot fetch it): their syntax (bash -n, shellcheck when installed),
# --help, every usage and missing-input error with its exit code, and
# build.sh's source handling for real on stand-in trees made from the
# patch's own context lines: a source tree patched in place (once, then
# "already applied"), one it does not fit (exit 4), a git directory with
# the tag checked out into the build dir, a sample pcap missing from it
# (left out) and a source file missing (refused); the optional timer-sleep
# patch put in and taken out again.  The full build and the
# pktgen -> trackgate run are done by hand (tools/pktgen/README.md).
# shellcheck source=/dev/null
. "$(dirname "$0")/lib.sh"

PG=$TG_SRC/tools/pktgen
BUILD_SH=$PG/build.sh
RUN_SH=$PG/run.sh
PATCH=$PG/pktgen-23.03.0-trackgate.patch
PATCH_TIMER=$PG/pktgen-23.03.0-timer-sleep.patch
export TG_PKTGEN_NO_APT=1   # never install anything from a test

# has LOG TEXT: LOG contains TEXT (fixed string)
has() { grep -qF -- "$2" "$1"; }
# rc_and CMD...: run with stdout in $T_DIR/out, stderr in $T_DIR/err; echo the exit code
rc_of() { local rc=0; "$@" > "$T_DIR/out" 2> "$T_DIR/err" || rc=$?; echo "$rc"; }

# ---- syntax
check "build.sh parses (bash -n)" bash -n "$BUILD_SH"
check "run.sh parses (bash -n)" bash -n "$RUN_SH"
if command -v shellcheck > /dev/null; then
	check "shellcheck: build.sh, run.sh and this test are clean" \
		shellcheck -x "$BUILD_SH" "$RUN_SH" "$0"
else
	ok "shellcheck not installed: skipped"
fi
check "build.sh and run.sh are executable" test -x "$BUILD_SH" -a -x "$RUN_SH"

# ---- build.sh: help and usage errors
rc=$(rc_of "$BUILD_SH" --help)
check "build.sh --help: exit 0, says what SOURCE is" \
	test "$rc" = 0 -a -n "$(grep -F 'SOURCE is either' "$T_DIR/out")"
rc=$(rc_of "$BUILD_SH")
check "build.sh without SOURCE: exit 2, says what to give and where to get it" \
	test "$rc" = 2 -a -n "$(grep -F 'no pktgen-dpdk SOURCE given' "$T_DIR/err")" \
	-a -n "$(grep -F 'git clone --branch pktgen-23.03.0' "$T_DIR/err")"
rc=$(rc_of "$BUILD_SH" "$T_DIR/nowhere")
check "build.sh on a missing path: exit 2, names it" \
	test "$rc" = 2 -a -n "$(grep -F "$T_DIR/nowhere does not exist" "$T_DIR/err")"
mkdir "$T_DIR/empty"
rc=$(rc_of "$BUILD_SH" "$T_DIR/empty" "$T_DIR/b-empty")
check "build.sh on a directory that is no pktgen source: exit 2, nothing built" \
	test "$rc" = 2 -a -n "$(grep -F 'neither a pktgen-dpdk source tree' "$T_DIR/err")" \
	-a ! -e "$T_DIR/b-empty"
rc=$(rc_of "$BUILD_SH" --bogus "$T_DIR/empty")
check "build.sh with an unknown option: exit 2" test "$rc" = 2

# ---- stand-in pktgen trees: the patches' context and removed lines, where
# the patches expect them (this is what the patches need of pktgen's files)
preimage() {  # preimage DIR: writes every file the patches touch, as before them
	local d=$1
	mkdir -p "$d"
	awk -v d="$d" '
		/^diff --git / { inhunk = 0; next }
		/^--- a\// { file = d "/" substr($2, 3); n = split(file, parts, "/")
			dir = substr(file, 1, length(file) - length(parts[n]) - 1)
			system("mkdir -p \"" dir "\""); printf "" > file; next }
		/^\+\+\+ / { next }
		/^@@/ { inhunk = 1; next }
		inhunk && /^[ -]/ { print substr($0, 2) >> file }
		inhunk && /^$/ { print "" >> file }
	' "$PATCH" "$PATCH_TIMER"
	echo "project('pktgen', 'C')" > "$d/meson.build"
	echo 23.03.0 > "$d/VERSION"
}
check "the patch touches exactly lib/lua/meson.build and app/pktgen-port-cfg.c" \
	test "$(grep '^+++ b/' "$PATCH" | sort | tr '\n' ' ')" = \
	"+++ b/app/pktgen-port-cfg.c +++ b/lib/lua/meson.build "
preimage "$T_DIR/tree"
check "the optional patch touches only app/pktgen.c" \
	test "$(grep '^+++ b/' "$PATCH_TIMER")" = "+++ b/app/pktgen.c"
for p in "$PATCH" "$PATCH_TIMER"; do
	check "$(basename "$p"): the hunks fit their own context (patch --dry-run)" \
		patch -d "$T_DIR/tree" -p1 --dry-run -s -f -i "$p"
	if command -v git > /dev/null; then
		check "$(basename "$p"): git apply --check agrees" git -C "$T_DIR/tree" apply --check "$p"
	fi
done

# ---- build.sh --prepare-only on a source tree
before=$(md5sum < "$T_DIR/tree/app/pktgen-port-cfg.c")
rc=$(rc_of "$BUILD_SH" --prepare-only "$T_DIR/tree" "$T_DIR/b-tree")
check "source tree: exit 0, stdout is the tree" \
	test "$rc" = 0 -a "$(cat "$T_DIR/out")" = "$T_DIR/tree"
check "source tree: patched in place (-ENOTSUP tolerated, lua gets dpdk)" \
	test -n "$(grep -F 'ret == -ENOTSUP' "$T_DIR/tree/app/pktgen-port-cfg.c")" \
	-a -n "$(grep -F 'lua_dep, dpdk]' "$T_DIR/tree/lib/lua/meson.build")"
after=$(md5sum < "$T_DIR/tree/app/pktgen-port-cfg.c")
rc=$(rc_of "$BUILD_SH" --prepare-only "$T_DIR/tree" "$T_DIR/b-tree")
check "source tree again: exit 0, 'already applied', the file unchanged" \
	test "$rc" = 0 -a -n "$(grep -F 'patch already applied' "$T_DIR/err")" \
	-a "$(md5sum < "$T_DIR/tree/app/pktgen-port-cfg.c")" = "$after" -a "$before" != "$after"
timer_before=$(md5sum < "$T_DIR/tree/app/pktgen.c")
rc=$(rc_of "$BUILD_SH" --timer-sleep --prepare-only "$T_DIR/tree" "$T_DIR/b-tree")
check "--timer-sleep: the timer thread sleeps instead of spinning" \
	test "$rc" = 0 -a -n "$(grep -F 'rte_delay_us_sleep(1000);' "$T_DIR/tree/app/pktgen.c")" \
	-a -z "$(grep -F 'rte_pause();' "$T_DIR/tree/app/pktgen.c")"
rc=$(rc_of "$BUILD_SH" --prepare-only "$T_DIR/tree" "$T_DIR/b-tree")
check "without --timer-sleep again: that change taken out, the rest kept" \
	test "$rc" = 0 -a "$(md5sum < "$T_DIR/tree/app/pktgen.c")" = "$timer_before" \
	-a -n "$(grep -F 'ret == -ENOTSUP' "$T_DIR/tree/app/pktgen-port-cfg.c")"
check "no .orig/.rej files left" test -z "$(find "$T_DIR/tree" -name '*.orig' -o -name '*.rej')"

preimage "$T_DIR/other"
sed -i 's/rte_eth_dev_set_mtu(pid, pktgen.eth_mtu)/rte_eth_dev_set_mtu(pid, 1500)/' \
	"$T_DIR/other/app/pktgen-port-cfg.c"
rc=$(rc_of "$BUILD_SH" --prepare-only "$T_DIR/other" "$T_DIR/b-other")
check "a tree the patch does not fit: exit 4, says so, the tree untouched" \
	test "$rc" = 4 -a -n "$(grep -F 'does not apply' "$T_DIR/err")" \
	-a -z "$(grep -F 'ENOTSUP' "$T_DIR/other/app/pktgen-port-cfg.c")"

preimage "$T_DIR/old"
echo 22.11.0 > "$T_DIR/old/VERSION"
rc=$(rc_of "$BUILD_SH" --prepare-only "$T_DIR/old")
check "another pktgen version: exit 2, names both versions" \
	test "$rc" = 2 -a -n "$(grep -F 'is pktgen-dpdk 22.11.0; this build needs 23.03.0' "$T_DIR/err")"

rc=$(rc_of "$BUILD_SH" --prepare-only "$T_DIR/tree" "$TG_SRC/build-pktgen-test-never")
check "a BUILD_DIR inside trackgate's tree: exit 2, not created" \
	test "$rc" = 2 -a -n "$(grep -F "inside trackgate's tree" "$T_DIR/err")" \
	-a ! -e "$TG_SRC/build-pktgen-test-never"

# ---- build.sh --prepare-only on a git directory (bare or a clone's .git)
if command -v git > /dev/null; then
	g() { git -C "$T_DIR/repo" -c user.name=t -c user.email=t@example.org "$@"; }
	preimage "$T_DIR/repo"
	mkdir -p "$T_DIR/repo/pcap"
	head -c 4096 /dev/urandom > "$T_DIR/repo/pcap/sample.pcap"
	git init -q "$T_DIR/repo"
	g add -A && g commit -q -m stand-in && g tag pktgen-23.03.0
	rc=$(rc_of "$BUILD_SH" --prepare-only "$T_DIR/repo/.git" "$T_DIR/b-git")
	check "a clone's .git: the tag checked out into BUILD_DIR/src and patched" \
		test "$rc" = 0 -a "$(cat "$T_DIR/out")" = "$T_DIR/b-git/src" \
		-a -n "$(grep -sF 'ret == -ENOTSUP' "$T_DIR/b-git/src/app/pktgen-port-cfg.c")" \
		-a -f "$T_DIR/b-git/src/pcap/sample.pcap"
	check "the tag's commit is not the upstream one: a warning, not an error" \
		has "$T_DIR/err" "warning: pktgen-23.03.0 is"
	check "the clone itself is untouched" \
		test -z "$(grep -F 'ENOTSUP' "$T_DIR/repo/app/pktgen-port-cfg.c")"
	rc=$(rc_of "$BUILD_SH" --prepare-only "$T_DIR/repo/.git" "$T_DIR/b-git")
	check "again: not checked out twice, already patched" \
		test "$rc" = 0 -a -n "$(grep -F 'checked out before' "$T_DIR/err")" \
		-a -n "$(grep -F 'patch already applied' "$T_DIR/err")"

	git clone -q --bare "$T_DIR/repo" "$T_DIR/bare.git"
	blob() { git --git-dir="$T_DIR/bare.git" rev-parse "pktgen-23.03.0:$1"; }
	loose() { local s; s=$(blob "$1"); echo "$T_DIR/bare.git/objects/${s:0:2}/${s:2}"; }
	# a clone packs its objects: unpack them so one can be taken away
	git --git-dir="$T_DIR/bare.git" repack -a -d -q
	mkdir "$T_DIR/unpacked.git"
	git init -q --bare "$T_DIR/unpacked.git"
	for p in "$T_DIR/bare.git/objects/pack/"*.pack; do
		git --git-dir="$T_DIR/unpacked.git" unpack-objects -q < "$p"
	done
	git --git-dir="$T_DIR/unpacked.git" tag pktgen-23.03.0 "$(git --git-dir="$T_DIR/bare.git" rev-parse pktgen-23.03.0)"
	rm -rf "$T_DIR/bare.git"; mv "$T_DIR/unpacked.git" "$T_DIR/bare.git"
	rm -f "$(loose pcap/sample.pcap)"
	rc=$(rc_of "$BUILD_SH" --prepare-only "$T_DIR/bare.git" "$T_DIR/b-bare")
	check "a bare git dir lacking a sample pcap: it is left out, the rest patched" \
		test "$rc" = 0 -a -n "$(grep -F 'pcap/sample.pcap is not in' "$T_DIR/err")" \
		-a ! -e "$T_DIR/b-bare/src/pcap/sample.pcap" \
		-a -n "$(grep -sF 'ret == -ENOTSUP' "$T_DIR/b-bare/src/app/pktgen-port-cfg.c")"
	rm -f "$(loose VERSION)"
	rc=$(rc_of "$BUILD_SH" --prepare-only "$T_DIR/bare.git" "$T_DIR/b-bare2")
	check "a git dir lacking a source file: exit 2, names it, no half tree left" \
		test "$rc" = 2 -a -n "$(grep -F 'lacks VERSION' "$T_DIR/err")" \
		-a ! -e "$T_DIR/b-bare2/src"
	g tag -d pktgen-23.03.0 > /dev/null
	rc=$(rc_of "$BUILD_SH" --prepare-only "$T_DIR/repo/.git" "$T_DIR/b-notag")
	check "a git dir without the tag: exit 2, says to fetch the tags" \
		test "$rc" = 2 -a -n "$(grep -F 'git fetch --tags' "$T_DIR/err")"
else
	ok "git not installed: the git-directory cases skipped"
fi

# ---- run.sh: help, usage errors, what is missing
rc=$(rc_of "$RUN_SH" --help)
check "run.sh --help: exit 0, lists the options" \
	test "$rc" = 0 -a -n "$(grep -F -- '--rules N' "$T_DIR/out")" \
	-a -n "$(grep -F -- '--pktgen PATH' "$T_DIR/out")"
for bad in "--rules 7" "--seconds 0" "--seconds 61" "--rates 0" "--rates 10,x" "--mix nope" "--encoding json" \
	   "--count 0" "--rules" "--frobnicate"; do
	# shellcheck disable=SC2086  # the words are the arguments
	rc=$(rc_of "$RUN_SH" $bad)
	check "run.sh $bad: exit 2 with a reason" \
		test "$rc" = 2 -a -n "$(grep -F 'pktgen-run: error:' "$T_DIR/err")"
done
rc=$(rc_of "$RUN_SH" --build "$T_DIR/nowhere")
check "run.sh without trackgate's build dir: exit 3, says how to build" \
	test "$rc" = 3 -a -n "$(grep -F 'meson setup' "$T_DIR/err")"
rc=$(rc_of "$RUN_SH" --build "$TG_BUILD" --pktgen "$T_DIR/no-pktgen")
check "run.sh without pktgen: exit 3, points at build.sh" \
	test "$rc" = 3 -a -n "$(grep -F 'tools/pktgen/build.sh' "$T_DIR/err")"

done_testing
