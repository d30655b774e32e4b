#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# tools/pktgen/run.sh - pktgen-dpdk replays a bench pcap over net_memif into
# trackgate; trackgate's own counters say what it forwarded.
#
#   tools/pktgen/run.sh [--rules 10|1000|10000] [--seconds S] [--build DIR]
#                       [--pktgen PATH] [--rates P[,P...]] [--mix MIX]
#                       [--count N] [--encoding xml|takproto-v1|mixed]
#                       [--no-huge] [--keep]
#
#   --rules N      generated rules on top of the demo policy's (default 1000),
#                  made as tools/bench makes them (tools/gen-rules.py --seed 1)
#   --seconds S    length of each measuring window (default 10, at most 60)
#   --build DIR    trackgate's meson build dir (default build-bench)
#   --pktgen PATH  pktgen's program (default /tmp/pktgen-build/build/app/pktgen,
#                  what tools/pktgen/build.sh builds; build.sh --timer-sleep
#                  into another BUILD_DIR gives the variant that leaves pktgen's
#                  TX lcore its CPU)
#   --rates LIST   pktgen loads in % of the memif port's line rate (default 100)
#   --mix, --count the tg-gen pcap (default: default, 5000 messages, seed 1)
#   --encoding E   its encoding (tg-gen --encoding; default xml): the same
#                  events as TAK Protocol v1, or half and half
#   --no-huge      trackgate on 4 KiB pages too (default: hugepages if 768 MB
#                  of them are free)
#   --keep         keep the scratch directory (logs, pcap, policy)
#
# Set-up (docs/benchmarking.md, tools/pktgen/README.md): pktgen's two net_memif
# ports are the servers (socket files): port 0 replays the pcap into
# trackgate's link kor-us, port 1 receives what trackgate releases to the usa
# peer; the other peers and link are null devices.  pktgen runs under script(1)
# (it wants a terminal) with tools/pktgen/trackgate-rate.lua; trackgate is
# started only once pktgen runs the script (a DPDK 22.11 memif client that
# connects before the server's port is up does not retry), and stopped before
# pktgen quits (a memif client whose server goes away can crash).  On 2 CPUs
# pktgen's two lcores share CPU 0 with trackgate's main lcore (which sleeps);
# trackgate's worker has CPU 1.  The policy goes to a private bpffs in a
# private mount namespace, as tools/bench does it.
#
# Reports, per load and over the window the Lua script measures: pktgen's tx
# pps and trackgate's rx_packets, messages and released per second from
# `tgctl stats --json`, and what share of the window each side's worker
# thread actually ran (/proc).  pktgen's RX count on port 1 is shown but is
# wrong for trackgate's multi-segment frames; trackgate's opackets on
# net_memif1 is right.
# Run throughput measurements one at a time: flock /tmp/tg-bench.lock tools/pktgen/run.sh
#
# Exit: 0 ran, 1 a run failed (logs kept), 2 usage, 3 something to build or
# install first, 77 not root.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$SRC/tools/pktgen
PY=/usr/bin/python3

RULES=1000 SECONDS_=10 BUILD=$SRC/build-bench PKTGEN=/tmp/pktgen-build/build/app/pktgen
RATES=100 MIX=default COUNT=5000 ENCODING=xml NOHUGE=0 KEEP=0

usage() { awk 'NR > 2 && /^#/ { sub(/^# ?/, ""); print; next } NR > 2 { exit }' "${BASH_SOURCE[0]}"; }
die() { local rc=$1; shift; echo "pktgen-run: error: $*" >&2; exit "$rc"; }
say() { echo "pktgen-run: $*" >&2; }
need_arg() { if [ $# -lt 2 ] || [ -z "$2" ]; then die 2 "$1 needs a value (--help)"; fi; }

ARGS=("$@")
while [ $# -gt 0 ]; do
	case "$1" in
	-h|--help) usage; exit 0 ;;
	--rules) need_arg "$@"; RULES=$2; shift 2 ;;
	--seconds) need_arg "$@"; SECONDS_=$2; shift 2 ;;
	--build) need_arg "$@"; BUILD=$2; shift 2 ;;
	--pktgen) need_arg "$@"; PKTGEN=$2; shift 2 ;;
	--rates) need_arg "$@"; RATES=$2; shift 2 ;;
	--mix) need_arg "$@"; MIX=$2; shift 2 ;;
	--count) need_arg "$@"; COUNT=$2; shift 2 ;;
	--encoding) need_arg "$@"; ENCODING=$2; shift 2 ;;
	--no-huge) NOHUGE=1; shift ;;
	--keep) KEEP=1; shift ;;
	*) die 2 "unknown argument '$1' (--help)" ;;
	esac
done
case "$RULES" in 0|10|1000|10000) ;; *) die 2 "--rules: 0, 10, 1000 or 10000, not '$RULES'" ;; esac
if ! [[ "$SECONDS_" =~ ^[0-9]+$ ]] || [ "$SECONDS_" -lt 1 ] || [ "$SECONDS_" -gt 60 ]; then
	die 2 "--seconds: 1..60, not '$SECONDS_'"
fi
[[ "$RATES" =~ ^[0-9]+(,[0-9]+)*$ ]] || die 2 "--rates: percentages separated by commas, not '$RATES'"
for r in ${RATES//,/ }; do
	if [ "$r" -lt 1 ] || [ "$r" -gt 100 ]; then die 2 "--rates: each load in 1..100, not '$r'"; fi
done
case "$MIX" in default|warnings-only|small|hostile) ;; *) die 2 "--mix: default, warnings-only, small or hostile" ;; esac
if ! [[ "$COUNT" =~ ^[0-9]+$ ]] || [ "$COUNT" -lt 1 ]; then die 2 "--count: a positive number"; fi
case "$ENCODING" in xml|takproto-v1|mixed) ;; *) die 2 "--encoding: xml, takproto-v1 or mixed" ;; esac

[ -d "$BUILD" ] || die 3 "no build dir $BUILD (meson setup $BUILD --buildtype=release && ninja -C $BUILD)"
BUILD=$(cd "$BUILD" && pwd)
TRACKGATE=$BUILD/dataplane/trackgate TGCTL=$BUILD/ctrl/tgctl TG_GEN=$BUILD/tools/tg-gen
for exe in "$TRACKGATE" "$TGCTL" "$TG_GEN"; do
	[ -x "$exe" ] || die 3 "$exe is not built (ninja -C $BUILD)"
done
[ -x "$PKTGEN" ] || die 3 "no pktgen at $PKTGEN: build it with tools/pktgen/build.sh" \
	"PKTGEN_SOURCE (a Pktgen-DPDK clone at tag pktgen-23.03.0), or give --pktgen PATH"
PKTGEN=$(cd "$(dirname "$PKTGEN")" && pwd)/$(basename "$PKTGEN")
command -v script >/dev/null || die 3 "script(1) is needed (apt-get install bsdutils)"
[ "$(id -u)" = 0 ] || die 77 "needs root (bpffs mount, DPDK)"

# A private mount namespace: the bpffs and hugetlbfs mounts go away with it.
if [ -z "${TG_PKTGEN_IN_NS:-}" ]; then
	export TG_PKTGEN_IN_NS=1
	exec unshare --mount --propagation private -- "$0" "${ARGS[@]}"
fi

TMP=$(mktemp -d /tmp/tg-pktgen.XXXXXX)
PFX_PG=tgp-pg-$$ PFX_TG=tgp-tg-$$
PG_PID='' TG_PID='' OK=0
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$TG_PID" ] && kill -0 "$TG_PID" 2>/dev/null; then
		kill -INT "$TG_PID" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$TG_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$TG_PID" 2>/dev/null || true
	fi
	[ -z "$TG_PID" ] || wait "$TG_PID" 2>/dev/null || true
	# pktgen runs in its own session under script(1): its process group is $PG_PID.
	if [ -n "$PG_PID" ] && kill -0 -- "-$PG_PID" 2>/dev/null; then
		kill -TERM -- "-$PG_PID" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 -- "-$PG_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL -- "-$PG_PID" 2>/dev/null || true
	fi
	[ -z "$PG_PID" ] || wait "$PG_PID" 2>/dev/null || true
	rm -f "$TMP/in.sock" "$TMP/out.sock"
	rm -rf "/var/run/dpdk/$PFX_PG" "/var/run/dpdk/$PFX_TG"
	if mountpoint -q "$TMP/huge" 2>/dev/null; then
		rm -f "$TMP/huge/"* 2>/dev/null || true
		umount "$TMP/huge" || true
	fi
	mountpoint -q "$TMP/bpffs" 2>/dev/null && { umount "$TMP/bpffs" || true; }
	if [ "$KEEP" = 1 ] || [ "$OK" != 1 ]; then
		say "scratch kept in $TMP"
	else
		rm -rf "$TMP"
	fi
	[ "$OK" = 1 ] || [ "$rc" != 0 ] || rc=1
	exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

fail() { say "$*"; exit 1; }
tail_log() { say "--- last lines of $1:"; tail -n "${2:-15}" "$1" | tr -d '\r' | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' >&2 || true; }

# ---- the policy, the pcap, the bpffs
mkdir "$TMP/bpffs"
mount -t bpf bpf "$TMP/bpffs"
BPFFS=$TMP/bpffs/trackgate
PCAP=$TMP/bench-$MIX.pcap
"$TG_GEN" --mix "$MIX" --count "$COUNT" --seed 1 --link kor-us --encoding "$ENCODING" \
	--out "$PCAP" > "$TMP/tg-gen.log" 2>&1 ||
	{ tail_log "$TMP/tg-gen.log"; fail "tg-gen failed"; }
# As tools/bench --memif: the link on the memif from pktgen, the usa peer on
# the memif back to it, the other peers and the other link on null devices,
# no XDP rate limit.
POLICY=$TMP/bench-memif.yaml
N_RULES=$("$PY" - "$SRC" "$RULES" "$POLICY" <<'EOF'
import subprocess, sys, yaml, os
src, rules, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
base = os.path.join(src, "policy", "demo.yaml")
if rules > 0:
    gen = out + ".gen.yaml"
    subprocess.run(["/usr/bin/python3", os.path.join(src, "tools", "gen-rules.py"), "--count",
                    str(rules), "--base", base, "--out", gen, "--seed", "1"], check=True,
                   stdout=subprocess.DEVNULL)
    base = gen
p = yaml.safe_load(open(base))
for link in p["links"]:
    link.pop("rate", None)
p["links"][0]["port"] = "net_memif0"
for link in p["links"][1:]:
    link["port"] = "net_null2"
peers = ["net_null0", "net_null1", "net_memif1"]
for i, peer in enumerate(p["peers"]):
    peer["port"] = peers[i % len(peers)]
yaml.safe_dump(p, open(out, "w"), sort_keys=False)
print(len(p["rules"]))
EOF
) || fail "could not make the bench policy"
"$TGCTL" load "$POLICY" --bpffs "$BPFFS" --no-wait > "$TMP/tgctl-load.log" 2>&1 ||
	{ tail_log "$TMP/tgctl-load.log"; fail "tgctl load failed"; }
say "policy: $RULES generated rules on the demo policy ($N_RULES in all), loaded into $BPFFS"

# ---- memory
PG_MEM=(--no-huge -m 4096)   # pktgen: five 24,576-mbuf pools of 10 KiB per port
TG_MEM=(--no-huge -m 2048) MEM_DESC="trackgate --no-huge -m 2048"
if [ "$NOHUGE" = 0 ]; then
	free_mb=$(awk '/^HugePages_Free:/ { f = $2 } /^Hugepagesize:/ { s = $2 }
		END { print int(f * s / 1024) }' /proc/meminfo)
	if [ "$free_mb" -ge 768 ]; then
		mkdir "$TMP/huge"
		mount -t hugetlbfs nodev "$TMP/huge"
		TG_MEM=(--huge-dir "$TMP/huge") MEM_DESC="trackgate on hugepages ($free_mb MB free)"
	else
		say "only $free_mb MB of hugepages free: trackgate on 4 KiB pages (expect lower rates)"
	fi
fi

# ---- pktgen (the memif servers) with the Lua script
# pktgen quits only when told (the file $TMP/quit), after trackgate has
# stopped: a DPDK 22.11 memif client whose server goes away can crash in its
# RX/TX burst (seen here: trackgate's worker, SIGSEGV in librte_net_memif).
LUA=$TMP/run.lua
cat > "$LUA" <<EOF
TX_PORT = "0"; RX_PORT = "1"
RATES = {$RATES}; SECONDS = $SECONDS_; SETTLE_MS = 2000; WAIT_LINK_MS = 60000
QUIT_WHEN_DONE = false
dofile("$HERE/trackgate-rate.lua")
local waited = 0
while waited < 120000 do
    local f = io.open("$TMP/quit", "r")
    if f then f:close(); break end
    pktgen.delay(100)
    waited = waited + 100
end
pktgen.quit()
EOF
memif() { echo "net_memif$1,role=$2,socket=$TMP/$3.sock,socket-abstract=no"; }
PG_CMD=("$PKTGEN" --lcores "0@0,1@0" "${PG_MEM[@]}" --no-pci --file-prefix "$PFX_PG"
	--vdev "$(memif 0 server in)" --vdev "$(memif 1 server out)" --
	-P -m "1.[0-1]" -s "0:$PCAP" -f "$LUA")
printf -v PG_LINE '%q ' "${PG_CMD[@]}"
say "pktgen: ${PG_CMD[*]}"
PG_LOG=$TMP/pktgen.log
(cd "$TMP" && exec setsid script -qfec "$PG_LINE" "$PG_LOG" < /dev/null > /dev/null 2>&1) &
PG_PID=$!

# wait_log FILE PATTERN SECONDS: until PATTERN is in FILE; fails if pktgen ends
wait_log() {
	local t_end=$((SECONDS + $3))
	while [ $SECONDS -lt $t_end ]; do
		grep -q -a -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$PG_PID" 2>/dev/null || { grep -q -a -- "$2" "$1" 2>/dev/null; return; }
		sleep 0.2
	done
	return 1
}
wait_log "$PG_LOG" "trackgate-rate: pcap replay" 90 ||
	{ tail_log "$PG_LOG" 25; fail "pktgen did not start its script (log: $PG_LOG)"; }
if ! [ -S "$TMP/in.sock" ] || ! [ -S "$TMP/out.sock" ]; then
	tail_log "$PG_LOG"; fail "pktgen's memif sockets are not there"
fi

# ---- trackgate (the memif clients): main lcore on CPU 0, worker on CPU 1
TG_CMD=("$TRACKGATE" -l 0-1 "${TG_MEM[@]}" --no-pci --file-prefix "$PFX_TG"
	--vdev "$(memif 0 client in)" --vdev "$(memif 1 client out)"
	--vdev "net_null0,no-rx=1" --vdev "net_null1,no-rx=1" --vdev "net_null2,no-rx=1" --
	--bpffs "$BPFFS" --audit-level off --stage-cycles --stats-interval 100)
say "trackgate: ${TG_CMD[*]}"
"${TG_CMD[@]}" > "$TMP/trackgate.log" 2>&1 < /dev/null &
TG_PID=$!
# This script's own polling (grep, tgctl) goes to CPU 0 with the main lcores:
# CPU 1 is the measured worker's.
if [ "$(nproc)" -ge 2 ]; then taskset -pc 0 $$ > /dev/null 2>&1 || true; fi

wait_log "$PG_LOG" "trackgate-rate: links up" 70 ||
	{ tail_log "$TMP/trackgate.log"; tail_log "$PG_LOG"; fail "the memif links did not come up"; }

# worker_ticks PID: CPU clock ticks its DPDK worker lcore threads have used
# ("rte-worker-N" in DPDK 22.11).  On a shared machine the TSC runs on while
# a worker is descheduled: the report says what share of the window each
# side's worker actually ran.
worker_ticks() {
	local t n=0 comm
	for t in /proc/"$1"/task/*; do
		comm=$(cat "$t/comm" 2>/dev/null) || continue
		case "$comm" in
		rte-worker*|lcore-worker*) n=$((n + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "$t/stat"))) ;;
		esac
	done
	echo "$n"
}
PKTGEN_PID=''
stats() {
	"$TGCTL" stats --json --bpffs "$BPFFS" > "$1" 2>/dev/null || return
	echo "$(date +%s.%N) $(worker_ticks "$TG_PID") $(worker_ticks "$PKTGEN_PID")" > "$1.t"
}
PKTGEN_PID=$(pgrep -P "$PG_PID" | head -1) || true
RES=()
for r in ${RATES//,/ }; do
	wait_log "$PG_LOG" "trackgate-rate: window rate=$r " 30 ||
		{ tail_log "$PG_LOG"; fail "pktgen did not start the $r % window"; }
	stats "$TMP/s-$r-0.json" || fail "tgctl stats failed"
	wait_log "$PG_LOG" "trackgate-rate: window end rate=${r}[^0-9]" $((SECONDS_ + 30)) ||
		{ tail_log "$PG_LOG"; fail "pktgen did not end the $r % window"; }
	stats "$TMP/s-$r-1.json" || fail "tgctl stats failed"
	wait_log "$PG_LOG" "^RESULT rate=$r " 30 ||
		{ tail_log "$PG_LOG"; fail "pktgen gave no result for $r %"; }
	kill -0 "$TG_PID" 2>/dev/null || { tail_log "$TMP/trackgate.log"; fail "trackgate ended"; }
	RES+=("$r")
done

# trackgate first (pktgen has stopped sending), then pktgen
wait_log "$PG_LOG" "trackgate-rate: done" 30 || true
kill -INT "$TG_PID" 2>/dev/null || true
for _ in $(seq 200); do kill -0 "$TG_PID" 2>/dev/null || break; sleep 0.1; done
tg_rc=0
wait "$TG_PID" 2>/dev/null || tg_rc=$?
TG_PID=''
touch "$TMP/quit"
for _ in $(seq 100); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
[ "$tg_rc" = 0 ] || { tail_log "$TMP/trackgate.log"; fail "trackgate exited with $tg_rc"; }

# ---- report
"$PY" - "$TMP" "$N_RULES" "$RULES" "$MIX" "$COUNT" "$MEM_DESC" "$(git -C "$SRC" describe --always --dirty 2>/dev/null || echo '?')" "${RES[@]}" <<'EOF' || fail "no report"
import json, re, sys, os, struct
tmp, n_rules, rules, mix, count, mem, commit = sys.argv[1:8]
rates = sys.argv[8:]
strip = lambda s: re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", s).replace("\r", "")
pg = strip(open(os.path.join(tmp, "pktgen.log"), errors="replace").read())
tg = open(os.path.join(tmp, "trackgate.log"), errors="replace").read()
# mean frame length of the pcap
with open(os.path.join(tmp, "bench-%s.pcap" % mix), "rb") as f:
    hdr = f.read(24); e = "<" if struct.unpack("<I", hdr[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    n = tot = 0
    while True:
        rec = f.read(16)
        if len(rec) < 16: break
        _, _, incl, orig = struct.unpack(e + "IIII", rec); f.seek(incl, 1); n += 1; tot += orig
mean = tot / n if n else 0
print()
print("pktgen-dpdk -> net_memif -> trackgate: mix %s (%s messages, %d frames, mean %.0f B), "
      "%s generated rules (%s in the policy), commit %s, %d CPUs, %s" % (mix, count, n, mean, rules, n_rules, commit,
                                                     os.cpu_count(), mem))
m = re.search(r"cycles/message:((?:\s+[a-z_]+ \d+)+)", tg)
print("%5s %13s %16s %11s %11s %8s %13s %15s %6s %6s %19s" % ("load%", "pktgen tx pps",
      "trackgate rx pps", "messages/s", "released/s", "rx Gbps", "usa opackets", "pktgen port1 rx",
      "tg CPU", "pg CPU", "rx pps per tg CPU-s"))
out = []
for r in rates:
    s0 = json.load(open(os.path.join(tmp, "s-%s-0.json" % r)))
    s1 = json.load(open(os.path.join(tmp, "s-%s-1.json" % r)))
    t0, tg0, pg0 = (float(x) for x in open(os.path.join(tmp, "s-%s-0.json.t" % r)).read().split())
    t1, tg1, pg1 = (float(x) for x in open(os.path.join(tmp, "s-%s-1.json.t" % r)).read().split())
    dt = t1 - t0
    hz = os.sysconf("SC_CLK_TCK")
    tg_cpu, pg_cpu = (tg1 - tg0) / hz / dt, (pg1 - pg0) / hz / dt
    d = {k: (s1[k] - s0[k]) / dt for k in ("rx_packets", "messages", "released")}
    po = {p["port"]: p for p in s1["ports"]}
    pz = {p["port"]: p for p in s0["ports"]}
    usa = (po["net_memif1"]["opackets"] - pz["net_memif1"]["opackets"]) if "net_memif1" in po else -1
    res = re.search(r"^RESULT rate=%s tx_pps=(\d+) rx_pps=(\d+).*?opackets=(\d+) ipackets=(\d+)" % r,
                    pg, re.M)
    tx_pps, rx_pps, opk, ipk = (int(x) for x in res.groups()) if res else (0, 0, 0, 0)
    per_cpu = d["rx_packets"] / tg_cpu if tg_cpu > 0 else 0
    print("%5s %13.0f %16.0f %11.0f %11.0f %8.2f %13d %15d %5.0f%% %5.0f%% %19.0f" % (
        r, tx_pps, d["rx_packets"], d["messages"], d["released"], d["rx_packets"] * mean * 8 / 1e9,
        usa, ipk, 100 * tg_cpu, 100 * pg_cpu, per_cpu))
    out.append("TRACKGATE_RESULT rate=%s window_s=%.2f pktgen_tx_pps=%d tg_rx_pps=%.0f "
               "tg_messages_ps=%.0f tg_released_ps=%.0f tg_usa_opackets=%d pktgen_port1_ipackets=%d "
               "tg_worker_cpu=%.2f pktgen_worker_cpu=%.2f tg_rx_pps_per_cpu=%.0f"
               % (r, dt, tx_pps, d["rx_packets"], d["messages"], d["released"], usa, ipk, tg_cpu,
                  pg_cpu, per_cpu))
if m:
    print("trackgate stage cycles/message:" + m.group(1))
print("(trackgate's counters from tgctl stats --json over the window pktgen measured; "
      "pktgen's port-1 RX count is wrong for trackgate's multi-segment frames: "
      "usa opackets is what trackgate sent it.  tg/pg CPU: share of the window trackgate's "
      "worker and pktgen's TX/RX lcore actually ran; the last column is trackgate's rx rate "
      "per second its worker ran, as tools/bench's Mpps/CPU)")
for l in out:
    print(l)
EOF
OK=1
