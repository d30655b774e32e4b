#!/bin/bash
# tests/integration/test_publish_atomicity.sh - a publish is atomic from a
# reader's point of view (publish_stress.c):
#   1. the real ctl_publish() publishing thousands of synthetic policies (up
#      to ~32 MiB of database each) under a reader checking every snapshot;
#   2. the same broken on purpose (writer-torn): the reader must notice, or
#      part 1 proves nothing;
#   3. two concurrent `tgctl load` loops of two real policies under the reader;
#   4. a writer SIGKILLed half-way through a large publish: the old policy
#      stays active and readable, and the next `tgctl load` works.
# PUBLISH_STRESS_N: synthetic publishes (3000, fewer if 15 s pass first on a
# busy machine); PUBLISH_STRESS_LOADS: loads per tgctl loop (100, fewer if
# 25 s pass first).  Every assertion uses the counts actually done.
# TG_DEMO_POLICY overrides policy/demo.yaml.
. "$(dirname "$0")/lib.sh"

STRESS=$TG_BUILD/tests/integration/publish_stress
# meson sets MALLOC_PERTURB_: glibc then fills every malloc and free, and
# tg_snapshot_read() mallocs 33 MiB per attempt - the reader becomes too slow
# to ever finish a copy between two publishes of this writer (starved, not
# torn).  Readers here measure atomicity, not glibc.
unset MALLOC_PERTURB_
N=${PUBLISH_STRESS_N:-3000}
LOADS=${PUBLISH_STRESS_LOADS:-100}
DEMO=${TG_DEMO_POLICY:-$TG_SRC/policy/demo.yaml}

# field NAME FILE: NAME=value from a publish_stress summary line
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" "$2" | tail -1; }
show_field() {
	"$TGCTL" show --bpffs "$2" 2>/dev/null | awk -v f="$1" '$1 == f { print $2; exit }'
}
# reader_start DIR OUT [POLICY...]: a background reader (stopped by reader_stop)
reader_start() {
	local dir=$1 out=$2; shift 2
	"$STRESS" reader "$dir" 80 "$@" >"$out" 2>"$out.err" &
	READER=$!
	T_PIDS+=("$READER")
}
reader_stop() {
	READER_RC=0
	kill -TERM "$READER" 2>/dev/null || true
	wait "$READER" || READER_RC=$?
	cat "$1.err" >&2
	echo "# reader: $(cat "$1")"
}

# ---- 1. the real ctl_publish under a checking reader -----------------------
D1=$T_BPFFS_MNT/stress
reader_start "$D1" "$T_DIR/r1"
W_RC=0
"$STRESS" writer "$D1" "$N" 15 500 >"$T_DIR/w1" 2>"$T_DIR/w1.err" || W_RC=$?
reader_stop "$T_DIR/r1"
cat "$T_DIR/w1.err" >&2
echo "# writer: $(cat "$T_DIR/w1")"
N=$(field published "$T_DIR/w1")
check "writer: $N publishes through ctl_publish (exit $W_RC)" test "$W_RC" = 0 -a "${N:-0}" -ge 500
check "reader: exit 0 (exit $READER_RC)" test "$READER_RC" = 0
check "reader: no torn or invalid snapshot" test "$(field torn "$T_DIR/r1")" = 0
snaps=$(field snapshots "$T_DIR/r1")
check "reader: checked a fair number of snapshots ($snaps)" test "${snaps:-0}" -ge 50
check "reader: saw the final generation $N" test "$(field last_gen "$T_DIR/r1")" = "$N"
check "tgctl show: generation $N, a synthetic policy" \
	test "$(show_field generation "$D1"):$(show_field source "$D1")" = "$N:publish_stress:k=$N"
echo "# publishes/second: $(field per_second "$T_DIR/w1") ($(field blob_mib "$T_DIR/w1") MiB of database in $(field seconds "$T_DIR/w1") s)"

# ---- 2. negative control: a broken publish is caught -----------------------
D2=$T_BPFFS_MNT/torn
reader_start "$D2" "$T_DIR/r2"
"$STRESS" writer-torn "$D2" 600 10 500 >/dev/null 2>&1 || true
reader_stop "$T_DIR/r2" 2>/dev/null
torn=$(field torn "$T_DIR/r2")
check "negative control: the reader catches an unprotected publish (torn=$torn, exit $READER_RC)" \
	test "${torn:-0}" -gt 0 -a "$READER_RC" = 1

# ---- 3. two tgctl load loops at once, under the reader ---------------------
# tgctl load also pins the XDP pre-filter maps and links them from the parent
# directory (ctrl/xdp_publish.h): one parent per trackgate directory.
D3=$T_BPFFS_MNT/loads/trackgate
BIG=$T_DIR/rules-300.yaml
"$PY" "$TG_SRC/tools/gen-rules.py" --count 300 --base "$DEMO" --out "$BIG" >/dev/null
reader_start "$D3" "$T_DIR/r3" "$DEMO" "$BIG"
load_loop() { # POLICY TAG
	local fails=0 n=0 end=$((SECONDS + 25))
	while [ $n -lt "$LOADS" ] && [ $SECONDS -lt $end ]; do
		"$TGCTL" -q load "$1" --bpffs "$D3" --no-wait 2>>"$T_DIR/loop-$2.err" || fails=$((fails + 1))
		n=$((n + 1))
	done
	echo "$n $fails" >"$T_DIR/loop-$2.count"
}
t0=$(date +%s.%N)
load_loop "$DEMO" a &
LA=$!
load_loop "$BIG" b &
LB=$!
T_PIDS+=("$LA" "$LB")
wait "$LA" "$LB"
t1=$(date +%s.%N)
reader_stop "$T_DIR/r3"
read -r na fa <"$T_DIR/loop-a.count"
read -r nb fb <"$T_DIR/loop-b.count"
cat "$T_DIR"/loop-*.err >&2
echo "# $((na + nb)) tgctl loads (2 loops at once) in $(echo "$t1 - $t0" | bc) s"
# What is checked is that concurrent loads never tear a snapshot and never
# fail, not how many a busy machine manages in 25 s: a handful of each
# interleaved with the other loop is enough.
check "loop demo.yaml: $na loads, none failed" test "$fa" = 0 -a "$na" -ge 3
check "loop rules-300.yaml: $nb loads, none failed" test "$fb" = 0 -a "$nb" -ge 3
gen=$(show_field generation "$D3")
check "final generation $gen = $((na + nb)) publishes" test "$gen" = $((na + nb))
check "reader: exit 0, no torn snapshot" test "$READER_RC" = 0 -a "$(field torn "$T_DIR/r3")" = 0
real=$(field real "$T_DIR/r3")
check "reader: every snapshot was one of the two policies, byte for byte ($real)" \
	test "${real:-0}" -ge 10 -a "$(field synthetic "$T_DIR/r3")" = 0
check "reader: saw the final generation" test "$(field last_gen "$T_DIR/r3")" = "$gen"

# ---- 4. a writer killed mid-publish ----------------------------------------
D4=$T_BPFFS_MNT/crash/trackgate
"$STRESS" writer "$D4" 5 >/dev/null 2>&1
OLD_DIGEST=$(show_field digest "$D4")
check "5 synthetic policies published" test "$(show_field generation "$D4")" = 5
"$STRESS" writer-crash "$D4" >"$T_DIR/crash.out" 2>&1 &
CRASH=$!
T_PIDS+=("$CRASH")
for _ in $(seq 1000); do
	grep -q half-written "$T_DIR/crash.out" && break
	kill -0 "$CRASH" 2>/dev/null || break
	sleep 0.01
done
check "writer-crash: half the database written" grep -q half-written "$T_DIR/crash.out"
kill -KILL "$CRASH"
wait "$CRASH" 2>/dev/null || true
check "reader after the crash: generation 5, consistent" \
	bash -c "'$STRESS' check '$D4' | grep -q 'last_gen=5 '"
t0=$(date +%s.%N)
"$TGCTL" show --bpffs "$D4" >"$T_DIR/show4" 2>&1 || true
t1=$(date +%s.%N)
check "tgctl show after the crash: still generation 5, same digest" \
	test "$(awk '$1 == "generation" || $1 == "digest" { printf "%s:", $2 }' "$T_DIR/show4")" = "5:$OLD_DIGEST:"
echo "# tgctl show after the crash took $(echo "$t1 - $t0" | bc) s"
RC=0
"$TGCTL" rollback --bpffs "$D4" 2>"$T_DIR/rb.err" || RC=$?
check "rollback into the half-written slot is refused (exit 4)" test "$RC" = 4
RC=0
timeout 30 "$TGCTL" load "$DEMO" --bpffs "$D4" --no-wait >"$T_DIR/load4.out" 2>&1 || RC=$?
sed "s/^/# /" "$T_DIR/load4.out"
check "tgctl load after the crash: exit 0 (lock released)" test "$RC" = 0
check "now generation 6, the demo policy" \
	test "$(show_field generation "$D4"):$(show_field digest "$D4")" = "6:sha256:$(sha256sum <"$DEMO" | cut -d' ' -f1)"
check "reader: generation 6 is demo.yaml byte for byte" \
	bash -c "'$STRESS' check '$D4' '$DEMO' | grep -q 'last_gen=6 .*real=1'"
RC=0
"$TGCTL" rollback --bpffs "$D4" --no-wait >/dev/null 2>&1 || RC=$?
check "rollback: the policy from before the crash is back (generation 7)" \
	test "$RC:$(show_field generation "$D4"):$(show_field digest "$D4")" = "0:7:$OLD_DIGEST"

done_testing
