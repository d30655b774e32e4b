#!/usr/bin/env bash
# test_bpffs_replaced.sh - the bpffs directory removed, unmounted or replaced
# while trackgate forwards (docs/tgctl.md, "The bpffs directory removed or
# replaced").  trackgate runs under policy A (all three peers) on endless
# inputs; then:
#   1. rm -r the directory: within a second trackgate says so, names the
#      directory and keeps A in force (and says so again every 5 s);
#   2. `tgctl load B` (B revokes peer kor) creates new maps there and waits:
#      trackgate attaches to them, installs B and acknowledges it, so the load
#      exits 0 saying generation 1 is in force; `tgctl stats` shows trackgate's
#      pid and generation 1, and kor's port sends nothing more;
#   3. umount the bpffs and mount a fresh one, then `tgctl load A`: attached
#      and installed again, kor receives again;
#   4. rm -r, then `tgctl show` creates an empty set: trackgate attaches, A
#      stays in force (kor still receives), the log and `tgctl show` say that
#      the policy in force came from the removed maps.
. "$(dirname "$0")/lib.sh"

cd "$T_DIR"
"$TG_GEN" --mix default --count 400 --seed 31 --link kor-us --out in-kor.pcap
"$TG_GEN" --mix default --count 400 --seed 32 --link jpn-us --out in-jpn.pcap

# Peers on net_null: their ports' TX counters (rte_eth_stats, in `tgctl
# stats`) count the frames that really left for each peer.
demo_policy_null_peers A.yaml
# B: peer kor revoked (its whole entry removed).
$PY - <<'EOF'
s = open("A.yaml").read()
i = s.index("  - name: kor\n")
j = s.index("  - name: jpn\n")
open("B.yaml", "w").write(s[:i] + s[j:])
EOF
check "B has no peer kor" bash -c "! grep -q 'name: kor\$' B.yaml && grep -q 'name: jpn\$' B.yaml"
expect_rc 0 "tgctl check B" "$TGCTL" check B.yaml -q

# stats: "pid generation kor_tx jpn_tx usa_tx kor_released" (creates the maps
# if the directory is gone: only call it while a set is pinned there)
stats() {
	"$TGCTL" stats --bpffs "$T_BPFFS" --json | $PY -c '
import json, sys
j = json.load(sys.stdin)
tx = {p["port"]: p["opackets"] for p in j["ports"]}
rel = {p["name"]: p["released"] for p in j["peers"]}
print(j["pid"], j["generation"], tx.get("net_null0", 0), tx.get("net_null1", 0),
      tx.get("net_null2", 0), rel.get("kor", 0))'
}
# wait_log PATTERN SECONDS: echo how long PATTERN took to appear in the log
wait_log() {
	local t0 t
	t0=$(date +%s%N)
	while :; do
		if grep -q -- "$1" trackgate.log; then
			echo $((($(date +%s%N) - t0) / 1000000))
			return 0
		fi
		t=$((($(date +%s%N) - t0) / 1000000))
		[ "$t" -ge $(($2 * 1000)) ] && return 1
		sleep 0.02
	done
}
# wait_stats PYEXPR SECONDS: until PYEXPR holds over the stats (s = list of ints)
wait_stats() {
	local end=$((SECONDS + $2)) s
	while [ $SECONDS -lt $end ]; do
		s=$(stats 2>/dev/null) || s=""
		if [ -n "$s" ] && $PY -c "s = [int(x) for x in '$s'.split()]; exit(0 if ($1) else 1)"; then
			return 0
		fi
		sleep 0.1
	done
	echo "# stats: $s" >&2
	return 1
}

expect_rc 0 "load A before trackgate starts (--no-wait)" \
	"$TGCTL" load A.yaml --bpffs "$T_BPFFS" -q --no-wait
"$TRACKGATE" $(eal_common) $(lcores_arg) \
	--vdev "net_pcap0,rx_pcap=$T_DIR/in-kor.pcap,infinite_rx=1" \
	--vdev "net_pcap1,rx_pcap=$T_DIR/in-jpn.pcap,infinite_rx=1" \
	$(demo_null_vdevs) \
	-- --bpffs "$T_BPFFS" --audit /dev/null --stats-interval 100 \
	> trackgate.log 2>&1 &
TG_PID=$!
T_PIDS+=("$TG_PID")

check "trackgate runs A and forwards to kor" \
	wait_stats "s[0] == $TG_PID and s[1] == 1 and s[2] > 100" 20
read -r _ _ kor0 _ _ _ <<<"$(stats)"
sleep 0.5
read -r _ _ kor1 _ _ _ <<<"$(stats)"
check "under A kor's port keeps sending ($kor0 -> $kor1)" test "$kor1" -gt "$kor0"

# ---- 1. the directory removed ------------------------------------------------
rm -r "$T_BPFFS"
if ms=$(wait_log "bpffs $T_BPFFS: the maps trackgate reads are no longer pinned there" 2); then
	ok "rm -r: trackgate says the maps are gone, naming the directory, after $ms ms"
	echo "# detection after rm -r: $ms ms"
else
	not_ok "rm -r: trackgate says the maps are gone within 2 s"
fi
check "it keeps policy generation 1 in force and says so" \
	grep -q "policy generation 1 (sha256:[0-9a-f]*) stays in force until maps are pinned there again" trackgate.log
check "still gone after 5.5 s: said again" \
	bash -c "sleep 5.5; grep -q 'bpffs $T_BPFFS: still no maps trackgate can attach to, for [0-9]* s; policy generation 1' trackgate.log"
check "trackgate still running" kill -0 "$TG_PID"

# ---- 2. a new policy loaded into the new directory ---------------------------
RC=0
"$TGCTL" load B.yaml --bpffs "$T_BPFFS" > loadB.out 2> loadB.err || RC=$?
sed 's/^/# /' loadB.out loadB.err
check "load B into the new directory: exit 0 (trackgate acknowledged it)" test "$RC" = 0
check "load B says generation 1 is in force in trackgate pid $TG_PID" \
	grep -q "^generation 1 is in force: trackgate pid $TG_PID installed it after [0-9]* ms" loadB.out
check "trackgate logs the re-attach, naming the directory" \
	grep -q "bpffs $T_BPFFS: the maps trackgate held were removed or replaced there (.*): attached to the maps pinned there now" trackgate.log
check "stats: trackgate's pid and generation 1 in the new maps" \
	wait_stats "s[0] == $TG_PID and s[1] == 1" 2
sleep 0.3 # a stats interval or two: counters of the last frames under A
read -r _ _ kor2 jpn2 usa2 korrel2 <<<"$(stats)"
sleep 1.5
read -r _ _ kor3 jpn3 usa3 korrel3 <<<"$(stats)"
check "kor revoked: its port, which sent $kor2 frames under A, sent nothing more ($kor3), no release counted ($korrel2 -> $korrel3)" \
	test "$kor2" -gt 0 -a "$kor3" = "$kor2" -a "$korrel3" = "$korrel2"
check "the others still receive (jpn $jpn2 -> $jpn3, usa $usa2 -> $usa3)" \
	test "$jpn3" -gt "$jpn2" -a "$usa3" -gt "$usa2"

# ---- 3. the bpffs unmounted and a fresh one mounted --------------------------
check "umount the bpffs under a running trackgate (it keeps no fd on it)" umount "$T_BPFFS_MNT"
mount -t bpf bpf "$T_BPFFS_MNT"
RC=0
"$TGCTL" load A.yaml --bpffs "$T_BPFFS" > loadA.out 2> loadA.err || RC=$?
sed 's/^/# /' loadA.out loadA.err
check "load A into the fresh bpffs: exit 0, generation 1 in force in trackgate pid $TG_PID" \
	bash -c "[ $RC = 0 ] && grep -q '^generation 1 is in force: trackgate pid $TG_PID' loadA.out"
check "two re-attaches logged" \
	test "$(grep -c 'attached to the maps pinned there now' trackgate.log)" = 2
check "stats: trackgate's pid and generation 1 in the fresh maps" \
	wait_stats "s[0] == $TG_PID and s[1] == 1" 2
read -r _ _ kor4 _ _ _ <<<"$(stats)"
check "kor receives again under A" wait_stats "s[2] > $kor4" 3

# ---- 4. replaced by an empty set: A stays in force, and that is visible ------
rm -r "$T_BPFFS"
wait_log "no longer pinned there" 2 > /dev/null || true
RC=0
"$TGCTL" show --bpffs "$T_BPFFS" > /dev/null 2>&1 || RC=$?
check "tgctl show creates an empty set: exit 4 (nothing published)" test "$RC" = 4
check "trackgate attaches to the empty set (3rd re-attach)" \
	bash -c "for i in \$(seq 100); do [ \$(grep -c 'attached to the maps pinned there now' trackgate.log) = 3 ] && exit 0; sleep 0.02; done; exit 1"
check "it logs that A (generation 1 of the removed maps) stays in force" \
	grep -q "bpffs $T_BPFFS: no policy is published in the new maps: policy generation 1 (sha256:[0-9a-f]*) stays in force until one is" trackgate.log
RC=0
"$TGCTL" show --bpffs "$T_BPFFS" > show.out 2> show.err || RC=$?
sed 's/^/# /' show.err
check "tgctl show: exit 4 and says trackgate enforces the removed maps' policy" \
	bash -c "[ $RC = 4 ] && grep -q 'trackgate pid $TG_PID enforces the policy it read from maps since removed or replaced (generation 1 there, sha256:$(sha256sum < A.yaml | cut -c1-16))' show.err"
check "stats: trackgate's pid in the empty set" wait_stats "s[0] == $TG_PID" 2
read -r _ _ kor5 _ _ _ <<<"$(stats)"
check "kor still receives under A" wait_stats "s[2] > $kor5" 3

kill -INT "$TG_PID"
rc=0; wait "$TG_PID" || rc=$?
T_PIDS=()
check "trackgate exits 0 on SIGINT" [ "$rc" = 0 ]
check "no error logged" bash -c "! grep -E '^USER1: .*(cannot|not installed)' trackgate.log"

done_testing
