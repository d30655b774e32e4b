#!/usr/bin/env bash
# scripts/test.sh - every test, in three phases:
#   1. the normal build: cmocka unit tests and the integration tests that run
#      the real tgctl and trackgate on real bpffs mounts and DPDK devices;
#   2. the same suites built with AddressSanitizer + UBSan (shorter soak);
#   3. each libFuzzer harness for a bounded time, plus its regression inputs.
# Installs what it needs, builds, runs.  Needs root.  Extra arguments go to
# the first `meson test` (e.g. a test name).  TG_SKIP_ASAN=1 / TG_SKIP_FUZZ=1
# skip phases 2 / 3; TG_FUZZ_SECONDS sets the time per harness (default 30:
# seven harnesses and the package test fit CI's 30 minutes; the long runs
# are tools/fuzz-run --seconds N, docs/testing.md).
# The last line is `tests: N passed, N failed, N skipped`; a test that skips
# (exit 77: not root, no bpffs, ...) is counted apart, and under CI=true any
# skip fails the run (exit 1), so that a CI run that tested nothing is red.
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/scripts/deps.sh" || exit 1

passed=0
failed=0
skipped=0
# meson's summary: "Ok: N", "Fail: N", "Timeout: N", "Unexpected Pass: N",
# "Skipped: N"
tally() {
	local log=$1 ok fail to up sk
	ok=$(awk '/^Ok:/ {print $2}' "$log" | tail -1)
	fail=$(awk '/^Fail:/ {print $2}' "$log" | tail -1)
	to=$(awk '/^Timeout:/ {print $2}' "$log" | tail -1)
	up=$(awk '/^Unexpected Pass:/ {print $3}' "$log" | tail -1)
	sk=$(awk '/^Skipped:/ {print $2}' "$log" | tail -1)
	passed=$((passed + ${ok:-0}))
	failed=$((failed + ${fail:-0} + ${to:-0} + ${up:-0}))
	skipped=$((skipped + ${sk:-0}))
}
phase() { printf '\n==== %s\n' "$*"; }

phase "1/3 build and test"
log1=$(mktemp)
if "$src/scripts/build.sh" "$src/build"; then
	meson test -C "$src/build" --print-errorlogs --num-processes 1 "$@" 2>&1 | tee "$log1"
	tally "$log1"
else
	echo "build failed"; failed=$((failed + 1))
fi

if [ "${TG_SKIP_ASAN:-0}" != 1 ] && [ $# = 0 ]; then
	phase "2/3 AddressSanitizer + UBSan build, same suites"
	log2=$(mktemp)
	asan=$src/build-asan
	[ -f "$asan/build.ninja" ] ||
		meson setup "$asan" "$src" -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	if ninja -C "$asan"; then
		TG_SANITIZED=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		LSAN_OPTIONS=suppressions=$src/tests/lsan.supp:print_suppressions=0 \
		TG_SOAK_PACKETS=2000000 TG_SCALE_MESSAGES=20000 TG_TEST_COUNT=1500 \
			meson test -C "$asan" --print-errorlogs --num-processes 1 \
			--timeout-multiplier 3 2>&1 | tee "$log2"
		tally "$log2"
	else
		echo "sanitizer build failed"; failed=$((failed + 1))
	fi
fi

if [ "${TG_SKIP_FUZZ:-0}" != 1 ] && [ $# = 0 ] && [ -x "$src/tools/fuzz-run" ]; then
	phase "3/3 fuzzing, ${TG_FUZZ_SECONDS:-30} s per harness"
	if "$src/tools/fuzz-run" --seconds "${TG_FUZZ_SECONDS:-30}"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
fi

echo
if [ "$skipped" != 0 ] && [ "${CI:-}" = true ]; then
	echo "CI=true: $skipped skipped test(s) fail the run (run as root, see docs/testing.md)"
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] || exit 1
if [ "$skipped" != 0 ] && [ "${CI:-}" = true ]; then
	exit 1
fi
exit 0
