#!/usr/bin/env bash
# test_soak.sh - resource safety over a long run: at least TG_SOAK_PACKETS
# packets (default 10 million) of default and hostile (50% malformed) traffic,
# with ten policy swaps spread over the run and the audit log on.  Afterwards
# every mempool must be back to zero in use (trackgate checks and reports it
# at exit), the process RSS must not have grown after warm-up, and the audit
# ring must have stayed bounded (losses are counted, never waited for).
. "$(dirname "$0")/lib.sh"

TARGET=${TG_SOAK_PACKETS:-10000000}
SWAPS=10
cd "$T_DIR"
"$TG_GEN" --mix default --count 2000 --seed 31 --link kor-us --out in-kor.pcap
"$TG_GEN" --mix hostile --count 2000 --seed 32 --link jpn-us --out in-jpn.pcap
demo_policy_null_peers A.yaml
sed -e 's/receives: \[warning, space\]/receives: [space]/' A.yaml > B.yaml

expect_rc 0 "load A" "$TGCTL" load A.yaml --bpffs "$T_BPFFS" -q --no-wait
"$TRACKGATE" $(eal_common) -l 0 \
	--vdev "net_pcap0,rx_pcap=$T_DIR/in-kor.pcap,infinite_rx=1" \
	--vdev "net_pcap1,rx_pcap=$T_DIR/in-jpn.pcap,infinite_rx=1" \
	$(demo_null_vdevs) \
	-- --bpffs "$T_BPFFS" --audit /dev/null --audit-level all --stats-interval 100 \
	--frag-flows 256 > trackgate.log 2>&1 &
TG_PID=$!
T_PIDS+=("$TG_PID")

rx() { "$TGCTL" stats --bpffs "$T_BPFFS" --json | $PY -c "import json,sys; print(json.load(sys.stdin)['rx_packets'])"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$TG_PID/status"; }

deadline=$((SECONDS + 600))
swaps=0
rss_warm=""
while :; do
	n=$(rx)
	# swap k happens once k/(SWAPS+1) of the target has gone through
	if [ "$swaps" -lt "$SWAPS" ] && [ "$n" -ge $((TARGET * (swaps + 1) / (SWAPS + 1))) ]; then
		f=$([ $((swaps % 2)) = 0 ] && echo B.yaml || echo A.yaml)
		"$TGCTL" load "$f" --bpffs "$T_BPFFS" -q || not_ok "swap $((swaps + 1))"
		swaps=$((swaps + 1))
		[ "$swaps" = 2 ] && rss_warm=$(rss_kb)
	fi
	[ "$n" -ge "$TARGET" ] && [ "$swaps" = "$SWAPS" ] && break
	if [ $SECONDS -ge $deadline ] || ! kill -0 "$TG_PID" 2>/dev/null; then
		not_ok "reached $TARGET packets (stopped at $n)"; break
	fi
	sleep 0.2
done
rss_end=$(rss_kb)
"$TGCTL" stats --bpffs "$T_BPFFS" --json > stats.json
kill -INT "$TG_PID"
rc=0; wait "$TG_PID" || rc=$?
T_PIDS=()

check "trackgate exits 0 after $(rx 2>/dev/null || echo "$TARGET") packets" [ "$rc" = 0 ]
check "ten policy swaps while forwarding" [ "$swaps" = "$SWAPS" ]
check "all $((SWAPS + 1)) generations installed" \
	bash -c "[ \$(grep -c 'policy generation [0-9]* installed' trackgate.log) = $((SWAPS + 1)) ]"
check "every mempool back to zero in use" \
	bash -c "grep -c 'in use at exit' trackgate.log | grep -qv '^0$' && ! grep -q LEAK trackgate.log && ! grep 'in use at exit' trackgate.log | grep -qv ' 0 of '"
echo "# RSS after warm-up ${rss_warm} kB, at the end ${rss_end} kB"
if [ "$TG_SANITIZED" = 1 ]; then
	ok "RSS check skipped: ASan's quarantine grows RSS by design # SKIP sanitized build"
else
	check "RSS does not grow after warm-up (< 8 MiB)" [ $((rss_end - rss_warm)) -lt 8192 ]
fi
$PY - <<'EOF' && ok "counters account for the run" || not_ok "counters account for the run"
import json
st = json.load(open("stats.json"))
print("# rx %d messages %d released %d audit_lost %d parse %d frag_timeout %d"
      % (st["rx_packets"], st["messages"], st["released"], st["audit_lost"],
         st["dropped"]["parse"], st["dropped"]["frag_timeout"]))
assert st["messages"] > 0 and st["released"] > 0 and st["dropped"]["parse"] > 0
EOF
grep "in use at exit" trackgate.log | sed 's/^/# /'

done_testing
