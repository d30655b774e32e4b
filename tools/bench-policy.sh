#!/bin/bash
# tools/bench-policy.sh - how long tgctl takes to check and to load policies
# of 10, 1000 and 10000 rules (tools/gen-rules.py on policy/demo.yaml), and
# how big the compiled rules are.  (The demo's 9 rules come on top of N.)  Prints a table; asserts nothing.
#
#   tools/bench-policy.sh [BUILD_DIR] [COUNT...]    (as root: load needs bpffs)
#
# BUILD_DIR defaults to $TG_BUILD or ./build.  The loads go to a private bpffs
# on a temporary directory, inside a private mount namespace (the script
# re-executes itself under unshare -m), so nothing is left behind.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-${TG_BUILD:-$SRC/build}}
shift || true
COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(10 1000 10000)
BUILD=$(cd "$BUILD" && pwd)
TGCTL=$BUILD/ctrl/tgctl
PY=/usr/bin/python3

[ -x "$TGCTL" ] || { echo "bench-policy: no $TGCTL (build first: ninja -C $BUILD)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench-policy: run as root (tgctl load needs a bpffs mount)" >&2; exit 2; }

if [ -z "${TG_BENCH_IN_NS:-}" ]; then
	export TG_BENCH_IN_NS=1
	exec unshare --mount --propagation private -- "$0" "$BUILD" "${COUNTS[@]}"
fi

TMP=$(mktemp -d /tmp/tg-bench-policy.XXXXXX)
trap 'umount "$TMP/bpffs" 2>/dev/null || true; rm -rf "$TMP"' EXIT
mkdir "$TMP/bpffs"
mount -t bpf bpf "$TMP/bpffs"
BPFFS=$TMP/bpffs/trackgate

# secs CMD...: run, print wall seconds; the command's stdout goes to $TMP/out
secs() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >"$TMP/out" 2>"$TMP/err" || { echo "bench-policy: failed: $* : $(head -3 "$TMP/err")" >&2; exit 1; }
	t1=$(date +%s%N)
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f", d / 1e9 }'
}

printf '# tgctl %s, %s, %s CPUs\n' "$TGCTL" "$(uname -r)" "$(nproc)"
printf '%8s %10s %10s %10s %14s %12s\n' rules file_kb check_s load_s compiled_bytes generation
for n in "${COUNTS[@]}"; do
	f=$TMP/rules-$n.yaml
	"$PY" "$SRC/tools/gen-rules.py" --count "$n" --base "$SRC/policy/demo.yaml" --out "$f" >/dev/null
	c=$(secs "$TGCTL" check "$f")
	# "FILE: ok: 2 links, 3 peers, N rules, B bytes of compiled rules"
	bytes=$(sed -n 's/.* rules, \([0-9]*\) bytes of compiled rules$/\1/p' "$TMP/out")
	rules=$(sed -n 's/.* peers, \([0-9]*\) rules, .*/\1/p' "$TMP/out")
	l=$(secs "$TGCTL" load "$f" --bpffs "$BPFFS" --no-wait)
	gen=$(sed -n 's/.*published as generation \([0-9]*\) .*/\1/p' "$TMP/out")
	printf '%8s %10s %10s %10s %14s %12s\n' "${rules:-?}" \
		$(($(stat -c %s "$f") / 1024)) "$c" "$l" "${bytes:-?}" "${gen:-?}"
done
echo "# limit: $((32 << 20)) compiled bytes per slot (TG_HSDB_SLOT_BYTES), 16384 rules"
