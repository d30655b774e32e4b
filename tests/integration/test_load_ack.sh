#!/usr/bin/env bash
# test_load_ack.sh - `tgctl load` and `tgctl rollback` wait for the running
# trackgate to acknowledge the generation they published (tg_ctl.ack;
# docs/tgctl.md, "Acknowledgement"):
#   - no dataplane: exit 5 after --wait-ms (default 3000), saying none has
#     attached; --no-wait publishes and exits 0; bad --wait-ms is a usage error;
#   - a running trackgate: exit 0, "generation N is in force: trackgate pid P";
#   - a generation trackgate refuses (its compiled rules damaged in the maps:
#     the first 4 KiB of the previous slot's databases zeroed with bpftool,
#     then `tgctl rollback` to it): exit 6, the reason, and the generation it
#     keeps in force; `tgctl rollback` again recovers;
#   - a load superseded by another before trackgate (frozen) saw it: exit 0,
#     naming the generation installed instead;
#   - trackgate stopped, or killed: exit 5, saying which.
. "$(dirname "$0")/lib.sh"

cd "$T_DIR"
# Every port on net_null: this test needs a running dataplane, not traffic.
sed -e 's/port: net_pcap\([0-4]\)$/port: net_null\1/' "$TG_SRC/policy/demo.yaml" > A.yaml
sed -e 's/receives: \[warning, space\]/receives: [space]/' A.yaml > B.yaml
check "A and B differ, both on net_null" \
	bash -c "! cmp -s A.yaml B.yaml && [ \$(grep -c 'port: net_null' A.yaml) = 5 ]"

# run CMD...: RC, out, err, MS (wall time)
run() {
	local t0
	t0=$(date +%s%N)
	RC=0
	"$@" > out 2> err || RC=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
	head -q -n 2 out err | sed 's/^/# /'
}
gen_now() { "$TGCTL" stats --bpffs "$T_BPFFS" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["generation"])'; }
# stats_gen N: the stats map says generation N, a few stats intervals on
stats_gen() { sleep 0.3; [ "$(gen_now)" = "$1" ]; }

# ---- no dataplane --------------------------------------------------------------
run "$TGCTL" load A.yaml --bpffs "$T_BPFFS" --wait-ms 400
check "no dataplane, --wait-ms 400: exit 5 after 400..2500 ms ($MS ms)" \
	test "$RC" = 5 -a "$MS" -ge 400 -a "$MS" -lt 2500
check "it was published (generation 1) and says so on stdout" \
	grep -q "^A.yaml: published as generation 1 " out
check "stderr: no dataplane acknowledged generation 1, none has attached, use --no-wait" \
	grep -q "^tgctl: no dataplane acknowledged generation 1 within 400 ms: none has attached to $T_BPFFS (to publish before trackgate starts, use --no-wait)" err
run "$TGCTL" load A.yaml --bpffs "$T_BPFFS" -q
check "no dataplane, default wait: exit 5 after 3000..6000 ms ($MS ms)" \
	test "$RC" = 5 -a "$MS" -ge 3000 -a "$MS" -lt 6000
check "-q: nothing on stdout, the error on stderr" \
	bash -c "[ ! -s out ] && grep -q 'acknowledged generation 2 within 3000 ms' err"
run "$TGCTL" rollback --bpffs "$T_BPFFS" --wait-ms 300
check "rollback with no dataplane: exit 5" \
	bash -c "[ $RC = 5 ] && grep -q 'acknowledged generation 3 within 300 ms' err"
run "$TGCTL" load A.yaml --bpffs "$T_BPFFS" --no-wait
check "--no-wait: exit 0 at once ($MS ms), generation 4" \
	bash -c "[ $RC = 0 ] && [ $MS -lt 2000 ] && grep -q 'published as generation 4 ' out && [ ! -s err ]"
for bad in "--wait-ms 0" "--wait-ms abc" "--wait-ms 12x" "--wait-ms -5" "--wait-ms 3600001" \
	"--no-wait --wait-ms 100"; do
	# shellcheck disable=SC2086
	run "$TGCTL" load A.yaml --bpffs "$T_BPFFS" $bad
	check "load $bad: usage error (exit 2), nothing published" \
		bash -c "[ $RC = 2 ] && grep -q 'usage: tgctl' err && '$TGCTL' show --bpffs '$T_BPFFS' | grep -q '^generation  *4\$'"
done
run "$TGCTL" --help
check "--help names --wait-ms, --no-wait and exit codes 5 and 6" \
	bash -c "grep -q -- '--wait-ms N' out && grep -q -- '--no-wait' out && grep -q '5 published but no trackgate installed it' out && grep -q '6 published but trackgate refused it' out"

# ---- a running dataplane ---------------------------------------------------------
start_tg() {
	"$TRACKGATE" $(eal_common) -l 0 \
		$(demo_null_vdevs) \
		--vdev net_null3,no-rx=1 --vdev net_null4,no-rx=1 \
		-- --bpffs "$T_BPFFS" --audit /dev/null --stats-interval 100 >> trackgate.log 2>&1 &
	TG_PID=$!
	T_PIDS+=("$TG_PID")
	for _ in $(seq 200); do
		grep -q "policy maps in" trackgate.log && return 0
		sleep 0.05
	done
	return 1
}
check "trackgate starts" start_tg
check "it installed generation 4 at start" grep -q "policy generation 4 installed" trackgate.log

run "$TGCTL" load B.yaml --bpffs "$T_BPFFS"
check "load B: exit 0 ($MS ms)" test "$RC" = 0
check "load B: 'generation 5 is in force: trackgate pid $TG_PID installed it after N ms'" \
	grep -q "^generation 5 is in force: trackgate pid $TG_PID installed it after [0-9]* ms\$" out
check "stats: generation 5" stats_gen 5
run "$TGCTL" -q load A.yaml --bpffs "$T_BPFFS"
check "-q load A: exit 0, silent (generation 6)" bash -c "[ $RC = 0 ] && [ ! -s out ] && [ ! -s err ]"
run "$TGCTL" rollback --bpffs "$T_BPFFS"
check "rollback: exit 0, generation 7 (B) is in force in trackgate pid $TG_PID" \
	bash -c "[ $RC = 0 ] && grep -q '^generation 7 is in force: trackgate pid $TG_PID' out"

# ---- a generation the dataplane refuses -------------------------------------------
# Generation 7 is active; the other slot holds A (generation 6), the rollback
# target.  Zero the first chunk of that slot's compiled rules: its first
# database (offset 0) no longer deserializes.
active=$(bpftool -j map lookup pinned "$T_BPFFS/tg_ctl" key 0 0 0 0 |
	$PY -c 'import json,sys; v=json.load(sys.stdin)["value"]; print(int(v[24], 16))')
check "generation 7 is in slot 0" test "$active" = 0
# tg_hsdb: 8192 chunks of 4 KiB per slot; slot 1 starts at key 8192
bpftool map update pinned "$T_BPFFS/tg_hsdb" key 0x00 0x20 0x00 0x00 \
	value $(printf '0 %.0s' $(seq 4096))
run "$TGCTL" rollback --bpffs "$T_BPFFS"
check "rollback to the damaged slot: exit 6 (refused)" test "$RC" = 6
check "stderr: trackgate pid $TG_PID refused generation 8, keeps 7, and why" \
	grep -q "^tgctl: trackgate pid $TG_PID refused generation 8 and keeps generation 7 in force: cannot load the [a-z]* rule database (Hyperscan error -\?[0-9]*)" err
check "trackgate logged the refusal" grep -q "policy generation 8 not installed" trackgate.log
check "stats: still generation 7" stats_gen 7
run "$TGCTL" rollback --bpffs "$T_BPFFS"
check "rollback again (to B, intact): exit 0, generation 9 in force" \
	bash -c "[ $RC = 0 ] && grep -q '^generation 9 is in force: trackgate pid $TG_PID' out"

# ---- superseded before the dataplane saw it -----------------------------------------
# trackgate frozen: a waiting load of A (generation 10), then B published
# over it (11); thawed, trackgate goes straight to 11, which answers for 10.
kill -STOP "$TG_PID"
"$TGCTL" load A.yaml --bpffs "$T_BPFFS" --wait-ms 20000 > sup.out 2> sup.err &
SUP=$!
T_PIDS+=("$SUP")
for _ in $(seq 200); do grep -q "published as generation 10" sup.out && break; sleep 0.05; done
run "$TGCTL" load B.yaml --bpffs "$T_BPFFS" --no-wait
kill -CONT "$TG_PID"
rc=0; wait "$SUP" || rc=$?
T_PIDS=("$TG_PID")
sed 's/^/# /' sup.out sup.err
check "a load superseded while it waited: exit 0, says generation 11 was installed instead" \
	bash -c "[ $rc = 0 ] && grep -q '^generation 10 was superseded by generation 11, which trackgate pid $TG_PID installed\$' sup.out"
check "trackgate never installed generation 10" bash -c "! grep -q 'policy generation 10 installed' trackgate.log"

# ---- the dataplane stopped, or killed ------------------------------------------------
kill -INT "$TG_PID"
rc=0; wait "$TG_PID" || rc=$?
T_PIDS=()
check "trackgate exits 0 on SIGINT" test "$rc" = 0
run "$TGCTL" load A.yaml --bpffs "$T_BPFFS" --wait-ms 300
check "load after trackgate stopped: exit 5, says pid $TG_PID stopped" \
	bash -c "[ $RC = 5 ] && grep -q 'acknowledged generation 12 within 300 ms: the last one attached to $T_BPFFS, pid $TG_PID, stopped [0-9]* s ago' err"
: > trackgate.log
check "trackgate starts again" start_tg
check "it installed generation 12" grep -q "policy generation 12 installed" trackgate.log
kill -KILL "$TG_PID"
wait "$TG_PID" 2>/dev/null || true
T_PIDS=()
sleep 2.2
run "$TGCTL" load B.yaml --bpffs "$T_BPFFS" --wait-ms 300
check "load after trackgate was killed: exit 5, 'last seen N s ago (did it die?)'" \
	bash -c "[ $RC = 5 ] && grep -q 'acknowledged generation 13 within 300 ms: the last one attached to $T_BPFFS, pid $TG_PID, was last seen [0-9]* s ago (did it die?)' err"

done_testing
