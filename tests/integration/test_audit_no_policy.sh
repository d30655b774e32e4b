#!/usr/bin/env bash
# test_audit_no_policy.sh - trackgate without a policy says so (issue 11,
# item 7), on the real binaries with net_pcap:
#
# 1. A capture replayed into a trackgate whose bpffs has no policy: nothing
#    released; the log says "no policy loaded" at start; the audit log holds
#    counted no_policy summary records (not one line per frame) whose counts
#    add up to `tgctl stats` dropped.no_policy (= every packet received).
# 2. The capture replayed forever, no policy for 11 s, then `tgctl load`:
#    the log repeats "no policy loaded: N packets dropped since" while it
#    lasts and says when a policy came; one summary per interval, each
#    starting where the one before ended; after SIGTERM the summaries still
#    add up to dropped.no_policy, and decisions under generation 1 follow.
. "$(dirname "$0")/lib.sh"

cd "$T_DIR"
"$TG_GEN" --mix default --count 1000 --seed 81 --link kor-us --out in-kor.pcap >/dev/null

summaries() { # FILE: the no_policy summaries' check, with the stats
	$PY - "$1" stats.json "${2:-}" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
st = json.load(open(sys.argv[2]))
want_rx = sys.argv[3] == "all"
summ = [r for r in recs if r.get("reason") == "no_policy"]
err = []
print("# %d no_policy summary record(s), counts %s; dropped.no_policy %d, rx_packets %d"
      % (len(summ), [r["count"] for r in summ][:8], st["dropped"]["no_policy"], st["rx_packets"]))
if not summ:
    err.append("no no_policy summary record")
if any(r["decision"] != "dropped" or r["generation"] != 0 or not r["count"] > 0 or "since" not in r
       or r["released_to"] for r in summ):
    err.append("a summary record lacks decision/generation/count/since: %s" % summ[0])
if sum(r["count"] for r in summ) != st["dropped"]["no_policy"]:
    err.append("the summaries add up to %d, dropped.no_policy is %d"
               % (sum(r["count"] for r in summ), st["dropped"]["no_policy"]))
if want_rx and st["dropped"]["no_policy"] != st["rx_packets"]:
    err.append("not every packet was dropped as no_policy")
if any(summ[i]["since"] != summ[i - 1]["time"] for i in range(1, len(summ))):
    err.append("summary intervals do not follow each other: %s" % [(r["since"], r["time"]) for r in summ])
if want_rx and st["audit_lost"]:
    err.append("audit_lost %d" % st["audit_lost"])
for e in err:
    print("#   " + e)
sys.exit(1 if err else 0)
EOF
}

# --- 1. a replay without a policy ------------------------------------------
expect_rc 0 "trackgate without a policy runs the capture and exits 0" logged trackgate-1.log \
	"$TRACKGATE" $(eal_common) -l 0 \
	--vdev "net_pcap0,rx_pcap=$T_DIR/in-kor.pcap" $(demo_peer_vdevs out1) \
	-- --bpffs "$T_BPFFS" --audit "$T_DIR/audit-1.jsonl" --exit-when-idle 700
"$TGCTL" stats --bpffs "$T_BPFFS" --json > stats.json
check "the log says at start that no policy is loaded" \
	grep -q "no policy loaded in $T_BPFFS: nothing is released until one is" trackgate-1.log
check "nothing released" \
	$PY -c "import sys; from scapy.utils import rdpcap; sys.exit(sum(len(rdpcap('out1-%s.pcap' % p)) for p in ('kor', 'jpn', 'usa')) != 0)"
check "the audit log: counted summaries that add up to dropped.no_policy (every packet)" \
	summaries audit-1.jsonl all
check "the audit log holds nothing but the summaries" \
	test "$(grep -vc '"reason":"no_policy"' audit-1.jsonl)" = 0

# --- 2. no policy for a while, then one ---------------------------------------
"$TRACKGATE" $(eal_common) -l 0 \
	--vdev "net_pcap0,rx_pcap=$T_DIR/in-kor.pcap,infinite_rx=1" \
	$(demo_null_vdevs) \
	-- --bpffs "$T_BPFFS" --audit "$T_DIR/audit-2.jsonl" --audit-level drops \
	--stats-interval 100 > trackgate-2.log 2>&1 &
TG_PID=$!
T_PIDS+=("$TG_PID")
for _ in $(seq 1 140); do
	grep -q "no policy loaded: [0-9]* packets dropped since" trackgate-2.log && break
	sleep 0.1
done
check "while it lasts the log repeats how many were dropped since when" \
	grep -Eq "no policy loaded: [1-9][0-9]* packets dropped since [0-9T:-]+Z \(no_policy\)" trackgate-2.log
check "a summary was written while it lasted" grep -q '"reason":"no_policy"' audit-2.jsonl
expect_rc 0 "tgctl load while trackgate runs" "$TGCTL" load "$TG_SRC/policy/demo.yaml" --bpffs "$T_BPFFS" -q
for _ in $(seq 1 50); do
	grep -q '"generation":1' audit-2.jsonl && grep -q "in force after" trackgate-2.log && break
	sleep 0.1
done
check "the log says when a policy came" \
	grep -Eq "policy generation 1 in force after [0-9]+ s without a policy: [1-9][0-9]* packets dropped meanwhile" trackgate-2.log
kill -TERM "$TG_PID"
rc=0; wait "$TG_PID" || rc=$?
T_PIDS=()
check "trackgate exits 0 on SIGTERM (got $rc)" test "$rc" = 0
"$TGCTL" stats --bpffs "$T_BPFFS" --json > stats.json
check "the summaries add up to dropped.no_policy, one interval after the other" summaries audit-2.jsonl
check "decisions under generation 1 follow" grep -q '"generation":1' audit-2.jsonl
grep -E "no policy|without a policy" trackgate-*.log | sed 's/^/# /'

done_testing
