#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_xdp_veth.sh - the XDP pre-filter in front of a real net_af_xdp port.
#
# Two network namespaces joined by a veth pair; dpdk-testpmd (rxonly) stands in
# for the trackgate dataplane on the DUT side, loading xdp_prefilter.bpf.o
# through the PMD's xdp_prog= devarg exactly as trackgate will.  Runs in a
# private mount namespace with its own bpffs on /sys/fs/bpf, so the host's
# bpffs is never touched.  Asserts:
#   - the PMD's program uses trackgate's maps (pinned in /sys/fs/bpf/trackgate,
#     reached through the /sys/fs/bpf/<name> symlinks ctl_xdp_prepare makes);
#   - track UDP from an allowed source reaches the DPDK port;
#   - ARP, ping and a TCP connection still work through the same interface;
#   - a blocked and a not-allowed source are dropped in XDP (counters move,
#     DPDK sees nothing);
#   - a flooding source is held to its rate while another source gets through;
#   - a publish that widens allow_sources takes effect at once.
#
# usage: test_xdp_veth.sh <xdp_prefilter.bpf.o> <xdp_publish_cli>
# exit 0 pass, 1 fail, 77 skipped (not root, no dpdk-testpmd).
set -u

OBJ=$(realpath "${1:?usage: $0 xdp_prefilter.bpf.o xdp_publish_cli}")
CLI=$(realpath "${2:?usage: $0 xdp_prefilter.bpf.o xdp_publish_cli}")
PY=/usr/bin/python3

if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root"; exit 77; fi
command -v dpdk-testpmd >/dev/null || { echo "SKIP: no dpdk-testpmd"; exit 77; }

# Private mount namespace: a fresh bpffs on /sys/fs/bpf, gone when we exit.
if [ -z "${TG_XDP_TEST_NS:-}" ]; then
	TG_XDP_TEST_NS=1 exec timeout -k 5 90 unshare -m --propagation private "$0" "$@"
fi
mount -t bpf bpf /sys/fs/bpf || { echo "SKIP: cannot mount bpffs"; exit 77; }

ID=tgx$$
DUT=${ID}d PEER=${ID}p
DIF=${ID}a PIF=${ID}b       # veth ends: DUT side, peer side
BPFFS=/sys/fs/bpf/trackgate
WORK=$(mktemp -d /tmp/tg_xdp_veth.XXXXXX)
TESTPMD_PID=
FAILS=0

cleanup() {
	set +e
	exec 9>&- 2>/dev/null
	if [ -n "$TESTPMD_PID" ] && kill -0 "$TESTPMD_PID" 2>/dev/null; then
		kill "$TESTPMD_PID"; sleep 0.5; kill -9 "$TESTPMD_PID" 2>/dev/null
	fi
	[ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null
	ip netns del "$DUT" 2>/dev/null
	ip netns del "$PEER" 2>/dev/null
	rm -rf "$WORK" /var/run/dpdk/"$ID"
}
trap cleanup EXIT INT TERM

in_dut() { nsenter --net=/run/netns/"$DUT" "$@"; }
in_peer() { nsenter --net=/run/netns/"$PEER" "$@"; }
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; FAILS=$((FAILS + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

# --- topology ---------------------------------------------------------------
ip netns add "$DUT" && ip netns add "$PEER" || exit 1
ip link add "$DIF" netns "$DUT" type veth peer name "$PIF" netns "$PEER" || exit 1
in_dut ip link set lo up
in_dut ip addr add 192.0.2.1/24 dev "$DIF"
in_dut ip addr add 198.51.100.1/24 dev "$DIF"
in_dut ip link set "$DIF" up
in_peer ip link set lo up
for a in 198.51.100.10 198.51.100.20 198.51.100.66 192.0.2.2; do
	in_peer ip addr add "$a/24" dev "$PIF"
done
in_peer ip link set "$PIF" up

# --- maps and policy (tgctl's part) ------------------------------------------
publish() { # allow list
	in_dut "$CLI" publish "$BPFFS" kor-us "$DIF" 6969,4242 100 50 "$1" 198.51.100.66/32
}
in_dut "$CLI" prepare "$BPFFS" || exit 1
publish 198.51.100.0/24 || exit 1

verdict() { in_dut "$CLI" stats "$BPFFS" | awk -v k="$1" '$1 == k { print $2 }'; }

# --- the DPDK side -----------------------------------------------------------
start_testpmd() {
	rm -f "$WORK/in"; mkfifo "$WORK/in"
	in_dut stdbuf -oL dpdk-testpmd --no-pci --no-huge -m 1024 --file-prefix "$ID" -l 0-1 \
		--vdev "net_af_xdp0,iface=$DIF,xdp_prog=$OBJ,start_queue=0,queue_count=1" \
		--vdev net_null0,no-rx=1 -- -i --forward-mode=rxonly --port-topology=chained \
		<"$WORK/in" >"$WORK/testpmd.log" 2>&1 &
	TESTPMD_PID=$!
	exec 9>"$WORK/in"
	echo start >&9
	for _ in $(seq 1 100); do
		grep -q "packet forwarding packets/burst" "$WORK/testpmd.log" && break
		kill -0 "$TESTPMD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q "packet forwarding packets/burst" "$WORK/testpmd.log"; then
		echo "testpmd did not start:"; cat "$WORK/testpmd.log"; exit 1
	fi
}
stop_testpmd() {
	echo quit >&9
	exec 9>&-
	wait "$TESTPMD_PID" 2>/dev/null
	TESTPMD_PID=
}
prog_maps() { # map ids of the program attached to $DIF, and its mode
	local id
	id=$(in_dut ip -j link show "$DIF" | $PY -c 'import json,sys; x=json.load(sys.stdin)[0]["xdp"]; print(x["prog"]["id"], x["mode"])' 2>/dev/null)
	[ -n "$id" ] || return 0
	echo "${id% *} mode=${id#* }" $(bpftool -j prog show id "${id% *}" | $PY -c 'import json,sys; print(" ".join(map(str, json.load(sys.stdin)["map_ids"])))')
}
start_testpmd

# DPDK RX packets of port 0 (the af_xdp port).
rx_n=0
dpdk_rx() {
	local before
	before=$(grep -c "RX-packets:" "$WORK/testpmd.log")
	echo "show port stats 0" >&9
	for _ in $(seq 1 50); do
		[ "$(grep -c "RX-packets:" "$WORK/testpmd.log")" -gt "$before" ] && break
		sleep 0.05
	done
	grep -o "RX-packets: *[0-9]*" "$WORK/testpmd.log" | tail -1 | awk '{ print $2 }'
}

# The program the PMD attached uses trackgate's maps, not copies.
read -r PROG_ID PROG_MODE PROG_MAPS <<<"$(prog_maps)"
CTL_ID=$(bpftool -j map show pinned "$BPFFS/tg_xdp_ctl" | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])')
VERDICT_ID=$(bpftool -j map show pinned "$BPFFS/tg_xdp_verdicts" | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])')
echo "     xdp prog id $PROG_ID ($PROG_MODE: 1 native, 2 generic) uses maps [$PROG_MAPS]; trackgate's tg_xdp_ctl is $CTL_ID, tg_xdp_verdicts $VERDICT_ID"
check "PMD attached the pre-filter" test -n "$PROG_ID"
check "the PMD's program uses trackgate's pinned maps" \
	bash -c "echo ' $PROG_MAPS ' | grep -q ' $CTL_ID ' && echo ' $PROG_MAPS ' | grep -q ' $VERDICT_ID '"
check "/sys/fs/bpf/tg_xdp_ctl is a symlink into trackgate's dir" \
	test "$(readlink /sys/fs/bpf/tg_xdp_ctl)" = trackgate/tg_xdp_ctl

# --- traffic -------------------------------------------------------------------
send() { # src count [dport]
	in_peer $PY - "$1" "$2" "${3:-6969}" <<'EOF'
import socket, sys, time
src, n, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
msg = b'<event version="2.0" uid="t" type="a-h-A-W-M-S-S" how="m-g"/>'
t0 = time.monotonic()
for _ in range(n):
    s.sendto(msg, ("192.0.2.1", port))
print("%.3f" % (time.monotonic() - t0))
EOF
}

# Warm up ARP (ARP passes XDP to the kernel, which answers).
send 198.51.100.10 1 9 >/dev/null
sleep 0.3
rx0=$(dpdk_rx); redir0=$(verdict redirect)
send 198.51.100.10 20 >/dev/null
sleep 0.5
rx1=$(dpdk_rx); redir1=$(verdict redirect)
check "allowed track UDP reaches DPDK (rx $rx0 -> $rx1)" test "$((rx1 - rx0))" -eq 20
check "redirect counter moved by 20 ($redir0 -> $redir1)" test "$((redir1 - redir0))" -eq 20

# ping and TCP through the same interface, from a source that is allowed and
# from one that is blocked for track traffic.
ping_ok() {
	in_peer $PY - "$1" <<'EOF'
import os, socket, struct, sys, time
src = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.bind((src, 0)); s.settimeout(2)
def csum(b):
    b += b'\0' * (len(b) & 1); v = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    v = (v >> 16) + (v & 0xffff); v += v >> 16; return ~v & 0xffff
ident = os.getpid() & 0xffff
pkt = struct.pack('!BBHHH', 8, 0, 0, ident, 1) + b'trackgate'
pkt = pkt[:2] + struct.pack('!H', csum(pkt)) + pkt[4:]
s.sendto(pkt, ('198.51.100.1', 0))
end = time.time() + 2
while time.time() < end:
    data, addr = s.recvfrom(1500)
    icmp = data[(data[0] & 15) * 4:]
    if icmp[0] == 0 and struct.unpack('!H', icmp[4:6])[0] == ident:
        sys.exit(0)
sys.exit(1)
EOF
}
in_dut $PY - <<'EOF' &
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.51.100.1", 2222)); s.listen(4); s.settimeout(20)
try:
    while True:
        c, _ = s.accept(); c.sendall(c.recv(64).upper()); c.close()
except socket.timeout:
    pass
EOF
SERVER_PID=$!
sleep 0.3
tcp_ok() {
	in_peer $PY - "$1" <<'EOF'
import socket, sys
c = socket.create_connection(("198.51.100.1", 2222), timeout=2, source_address=(sys.argv[1], 0))
c.sendall(b"hello"); sys.exit(0 if c.recv(64) == b"HELLO" else 1)
EOF
}
check "ping from 198.51.100.10" ping_ok 198.51.100.10
check "ping from blocked 198.51.100.66" ping_ok 198.51.100.66
check "TCP from 198.51.100.10" tcp_ok 198.51.100.10
check "TCP from blocked 198.51.100.66" tcp_ok 198.51.100.66
check "UDP to another port goes to the kernel, not DPDK" \
	test "$(send 198.51.100.10 5 5353 >/dev/null; sleep 0.3; dpdk_rx)" -eq "$rx1"

# Blocked and not-allowed sources: dropped in XDP.
b0=$(verdict drop_blocked); n0=$(verdict drop_not_allowed)
send 198.51.100.66 10 >/dev/null
send 192.0.2.2 10 >/dev/null
sleep 0.5
rx2=$(dpdk_rx)
check "blocked source dropped in XDP ($b0 -> $(verdict drop_blocked))" \
	test "$(($(verdict drop_blocked) - b0))" -eq 10
check "not-allowed source dropped in XDP ($n0 -> $(verdict drop_not_allowed))" \
	test "$(($(verdict drop_not_allowed) - n0))" -eq 10
check "DPDK saw none of them (rx $rx1 -> $rx2)" test "$rx2" -eq "$rx1"

# Widen allow_sources: at once.
publish 198.51.100.0/24,192.0.2.0/24 || bad "publish"
send 192.0.2.2 10 >/dev/null
sleep 0.5
rx3=$(dpdk_rx)
check "newly allowed source reaches DPDK right after publish (rx $rx2 -> $rx3)" \
	test "$((rx3 - rx2))" -eq 10

# Flood from one source at 100 pps / burst 50.
r0=$(verdict drop_rate)
secs=$(send 198.51.100.20 3000)
sleep 0.5
rx4=$(dpdk_rx); r1=$(verdict drop_rate)
limit=$($PY -c "print(int(50 + 100 * ($secs + 0.6) + 2))")
echo "     flood: 3000 sent in ${secs}s, $((rx4 - rx3)) reached DPDK (limit $limit), $((r1 - r0)) rate-dropped"
check "flooder held to its rate" test "$((rx4 - rx3))" -le "$limit" -a "$((rx4 - rx3))" -ge 50
check "rate drops counted" test "$((r1 - r0 + rx4 - rx3))" -eq 3000
send 198.51.100.10 10 >/dev/null
sleep 0.5
rx5=$(dpdk_rx)
check "another source still gets through during the flood (rx $rx4 -> $rx5)" \
	test "$((rx5 - rx4))" -eq 10

# --- shutdown: the PMD detaches its program; the maps stay pinned ----------------
stop_testpmd
check "program detached when the port closed" \
	bash -c "! nsenter --net=/run/netns/$DUT ip link show $DIF | grep -q 'prog/xdp'"
check "maps survive the dataplane (redirects still counted: $(verdict redirect))" \
	test "$(verdict redirect)" -ge 60

# Restart the dataplane: the same maps are reused, not recreated.
start_testpmd
read -r PROG2_ID _ PROG2_MAPS <<<"$(prog_maps)"
check "restarted PMD reuses the same maps (prog $PROG2_ID maps [$PROG2_MAPS])" \
	bash -c "echo ' $PROG2_MAPS ' | grep -q ' $CTL_ID ' && echo ' $PROG2_MAPS ' | grep -q ' $VERDICT_ID '"
send 198.51.100.10 5 >/dev/null
sleep 0.5
check "policy still in force after the restart (rx $(dpdk_rx))" test "$(dpdk_rx)" -eq 5
stop_testpmd

echo "     verdicts:"; in_dut "$CLI" stats "$BPFFS" | sed 's/^/       /'
if [ "$FAILS" -ne 0 ]; then
	echo "$FAILS check(s) failed; testpmd log:"; cat "$WORK/testpmd.log"
	exit 1
fi
echo "all checks passed"
