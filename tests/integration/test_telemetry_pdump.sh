#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_telemetry_pdump.sh - the DPDK tools an operator points at a running
# trackgate: dpdk-telemetry.py (/trackgate/stats, /ethdev/stats) and
# dpdk-dumpcap (a pdump secondary process), then a SIGTERM stop.
#
# trackgate replays a tg-gen capture forever (net_pcap0 rx_pcap=...,
# infinite_rx=1) on link kor-us under policy/demo.yaml loaded by tgctl; the
# peers' outputs go to /dev/null (an endless replay would fill a disk).
#
# dpdk-dumpcap attaches as a DPDK secondary process, which needs the
# primary's memory in hugepage files: lib.sh's eal_common uses --no-huge
# (secondaries then fail with "Cannot get hugepage information"), so this
# test runs trackgate on hugepages and skips the dumpcap part when there are
# not enough free ones.
. "$(dirname "$0")/lib.sh"

for t in dpdk-telemetry.py dpdk-dumpcap; do
	command -v $t >/dev/null || { echo "SKIP: no $t"; exit 77; }
done
TG_PID=
tp_cleanup() {
	set +e
	if [ -n "$TG_PID" ] && ps -o stat= -p "$TG_PID" | grep -qv '^Z'; then
		kill -TERM "$TG_PID"; sleep 1; kill -KILL "$TG_PID" 2>/dev/null
	fi
	[ -n "${WD_PID:-}" ] && kill -- -"$WD_PID" 2>/dev/null
	rm -f /dev/hugepages/"$T_PREFIX"map_* "${RX_LINK:-}" 2>/dev/null
}
trap 'rc=$?; tp_cleanup; (exit $rc); t_cleanup' EXIT
setsid bash -c 'sleep 110; echo "# watchdog: test took too long" >&2; kill -TERM '$$ \
	</dev/null >/dev/null 2>&1 &
WD_PID=$!
alive() { ps -o stat= -p "$1" 2>/dev/null | grep -qv '^Z'; }

cd "$T_DIR"
"$TG_GEN" --mix default --count 300 --seed 21 --link kor-us --out in-kor.pcap >/dev/null
expect_rc 0 "tgctl load demo policy" "$TGCTL" load "$TG_SRC/policy/demo.yaml" --bpffs "$T_BPFFS" -q --no-wait

# Hugepages for a pdump-capable primary: ~300 MB at the default sizes.
free_mb=$(awk '/HugePages_Free/ { f = $2 } /Hugepagesize/ { s = $2 } END { print int(f * s / 1024) }' /proc/meminfo)
# Under AddressSanitizer the primary's address space does not match what a
# non-sanitized dpdk-dumpcap maps as a secondary: that part needs the plain build.
if [ "${free_mb:-0}" -ge 600 ] && mountpoint -q /dev/hugepages && [ "$TG_SANITIZED" != 1 ]; then
	EAL="--no-pci --file-prefix $T_PREFIX --log-level=user1,info"
	HUGE=1
else
	echo "# ${free_mb:-0} MB of free hugepages, sanitized build: $TG_SANITIZED: running --no-huge, dpdk-dumpcap part skipped"
	EAL=$(eal_common)
	HUGE=0
fi

# net_pcap keeps only the first 63 characters of its devargs for secondary
# processes (ETH_PCAP_ARG_MAXLEN 64 in DPDK 22.11): a longer
# "rx_pcap=<path>,infinite_rx=1" is cut, and dumpcap's probe of net_pcap0
# fails ("vdev_probe(): failed to initialize net_pcap0 device").  Short path.
RX_LINK=/tmp/tgp$$.pcap
ln -sf "$T_DIR/in-kor.pcap" "$RX_LINK"
"$TRACKGATE" $EAL -l 0 \
	--vdev "net_pcap0,rx_pcap=$RX_LINK,infinite_rx=1" \
	--vdev net_pcap2,tx_pcap=/dev/null --vdev net_pcap3,tx_pcap=/dev/null \
	--vdev net_pcap4,tx_pcap=/dev/null \
	-- --bpffs "$T_BPFFS" --audit "$T_DIR/audit.jsonl" --audit-level off \
	>"$T_DIR/trackgate.log" 2>&1 &
TG_PID=$!
for _ in $(seq 1 100); do
	alive "$TG_PID" || break
	grep -q "worker(s)" trackgate.log && [ -S "/var/run/dpdk/$T_PREFIX/dpdk_telemetry.v2" ] && break
	sleep 0.1
done
if ! alive "$TG_PID" || ! grep -q "worker(s)" trackgate.log; then
	not_ok "trackgate started"; sed 's/^/# /' trackgate.log; exit 1
fi
ok "trackgate started (pid $TG_PID, $([ $HUGE = 1 ] && echo hugepages || echo --no-huge))"
sleep 1

# --- dpdk-telemetry.py: commands on stdin, one JSON object per command -------------
telemetry() { printf '%s\n' "$@" | timeout 10 dpdk-telemetry.py -f "$T_PREFIX" 2>&1; }
telemetry /trackgate/stats /ethdev/list /ethdev/stats,0 /trackgate/stats >tel-1.out
sleep 0.7
telemetry /trackgate/stats >tel-2.out
$PY - tel-1.out tel-2.out <<'EOF' && ok "telemetry: /trackgate/stats has messages, released_by_peer, dropped reasons; counters move; ethdev rx" ||
import json, sys
def objs(path):
    out = []
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out
a, b = objs(sys.argv[1]), objs(sys.argv[2])
err = []
try:
    s1 = a[0]["/trackgate/stats"]; ports = a[1]["/ethdev/list"]
    eth = a[2]["/ethdev/stats"]; s1b = a[3]["/trackgate/stats"]; s2 = b[0]["/trackgate/stats"]
except (IndexError, KeyError) as e:
    print("# unexpected telemetry output:", e, open(sys.argv[1]).read()[:2000]); sys.exit(1)
print("# /trackgate/stats: messages %d released %d by peer %s" % (s1["messages"], s1["released"], s1["released_by_peer"]))
print("# dropped: %s" % {k: v for k, v in s1["dropped"].items() if v})
if s1["messages"] <= 0: err.append("messages not > 0")
if s1["generation"] != 1: err.append("generation %r" % s1["generation"])
rbp = s1["released_by_peer"]
if set(rbp) != {"kor", "jpn", "usa"}: err.append("released_by_peer names %s" % sorted(rbp))
if rbp.get("usa", 0) <= 0: err.append("nothing released to usa")
if sum(rbp.values()) != s1["released"]: err.append("released_by_peer does not sum to released")
for r in ("not_track", "parse", "blocked", "bad_marking", "frag_timeout", "no_policy"):
    if r not in s1["dropped"]: err.append("dropped lacks %s" % r)
if s1["dropped"].get("parse", 0) <= 0 or s1["dropped"].get("blocked", 0) <= 0:
    err.append("the default mix has malformed and blocked messages: parse/blocked must be > 0")
if not (s2["messages"] > s1b["messages"] >= s1["messages"]): err.append("messages do not grow while replaying")
if ports != [0, 1, 2, 3]: err.append("/ethdev/list %s" % ports)
if eth.get("ipackets", 0) <= 0: err.append("/ethdev/stats,0 ipackets %s" % eth.get("ipackets"))
for e in err: print("#   " + e)
sys.exit(1 if err else 0)
EOF
	not_ok "telemetry: /trackgate/stats has messages, released_by_peer, dropped reasons; counters move; ethdev rx"

# /trackgate/latency: the percentiles and the histogram they come from
# (tools/bench --chart draws the whole CDF from it), and scan_skipped.
telemetry /trackgate/latency /trackgate/stats >tel-3.out
$PY - tel-3.out <<'EOF' && ok "telemetry: /trackgate/latency's histogram adds up to its count and agrees with its p50; /trackgate/stats has scan_skipped" ||
import json, sys
o = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
try:
    lat = o[0]["/trackgate/latency"]; st = o[1]["/trackgate/stats"]
except (IndexError, KeyError) as e:
    print("# unexpected telemetry output:", e); sys.exit(1)
h = {int(k): v for k, v in lat["histogram"].items()}
print("# latency: count %d p50 %d ns, %d histogram entries; scan_skipped %d of %d messages"
      % (lat["count"], lat["p50_ns"], len(h), st["scan_skipped"], st["messages"]))
assert lat["count"] > 0 and sum(h.values()) == lat["count"], "histogram does not add up"
seen, p50 = 0, None
for b in sorted(h):
    seen += h[b]
    if p50 is None and seen > lat["count"] // 2:
        p50 = (b + 1) * lat["bucket_ns"]
# buckets merged g at a time when many are in use: p50 lies in its group
ks = sorted(h)
g = min([b - a for a, b in zip(ks, ks[1:])] or [1])
assert lat["p50_ns"] <= p50 < lat["p50_ns"] + g * lat["bucket_ns"], (p50, lat["p50_ns"], g)
assert 0 <= st["scan_skipped"] <= st["messages"]
EOF
	not_ok "telemetry: /trackgate/latency's histogram adds up to its count and agrees with its p50; /trackgate/stats has scan_skipped"

# --- dpdk-dumpcap: a pdump secondary against the running trackgate ------------------
if [ $HUGE = 1 ]; then
	rc=0
	timeout 30 dpdk-dumpcap --file-prefix "$T_PREFIX" -i net_pcap0 -c 50 -w "$T_DIR/cap.pcapng" \
		>dumpcap.log 2>&1 || rc=$?
	check "dpdk-dumpcap -i net_pcap0 -c 50 exits 0 (got $rc)" test "$rc" = 0
	$PY - "$T_DIR/cap.pcapng" "$T_DIR/in-kor.pcap" <<'EOF' && ok "capture has >= 50 packets, all from the replayed input" ||
import sys
from scapy.all import rdpcap, raw
cap = rdpcap(sys.argv[1])
inp = set(raw(p) for p in rdpcap(sys.argv[2]))
foreign = [p for p in cap if raw(p) not in inp]
print("# cap.pcapng: %d packets, %d not in the input" % (len(cap), len(foreign)))
# dumpcap 22.11 checks -c after each burst of 32: 50 asked, 64 written.
sys.exit(0 if 50 <= len(cap) <= 50 + 32 and not foreign else 1)
EOF
		not_ok "capture has >= 50 packets, all from the replayed input"
	sed 's/^/# dumpcap: /' dumpcap.log | grep -v "^# dumpcap: *$" | tail -4
	check "trackgate still running after dumpcap detached" alive "$TG_PID"
	check "trackgate still counting after the capture" \
		bash -c "[ \$(printf '/trackgate/stats\n' | timeout 10 dpdk-telemetry.py -f $T_PREFIX |
			$PY -c 'import json,sys; print(json.loads([l for l in sys.stdin if l.startswith(\"{\")][0])[\"/trackgate/stats\"][\"messages\"])') -gt 0 ]"
else
	echo "# SKIP dpdk-dumpcap: no hugepages for a multi-process primary"
fi

# --- SIGTERM: exit 0, final counters ------------------------------------------------
kill -TERM "$TG_PID"
for _ in $(seq 1 150); do alive "$TG_PID" || break; sleep 0.1; done
rc=0; alive "$TG_PID" && rc=timeout || { wait "$TG_PID" || rc=$?; TG_PID=; }
check "trackgate exits 0 on SIGTERM (got $rc)" test "$rc" = 0
check "final counters printed" grep -Eq "^trackgate: policy generation 1, rx [1-9][0-9]* packets, [1-9][0-9]* messages" trackgate.log
check "final per-peer counters printed" grep -Eq "^  peer usa +released [1-9]" trackgate.log
final=$(sed -n 's/^trackgate: .* packets, \([0-9]*\) messages.*/\1/p' trackgate.log)
check "tgctl stats agrees with the final counters ($final messages)" \
	test "$("$TGCTL" stats --bpffs "$T_BPFFS" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["messages"])')" = "$final"
sed -n '/^trackgate: policy/,$p' trackgate.log | sed 's/^/# /'

done_testing
