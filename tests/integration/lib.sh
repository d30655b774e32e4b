# tests/integration/lib.sh - what every integration test shares.
#
# Each test runs as root in its own mount namespace with a private bpffs, its
# own DPDK --file-prefix and its own scratch directory, and cleans up what it
# started (trap).  Source it first thing:  . "$(dirname "$0")/lib.sh"
#
# Environment: TG_BUILD (the meson build dir, default ./build), TG_KEEP=1 to
# keep the scratch directory for a post-mortem.
set -euo pipefail

TG_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TG_BUILD=${TG_BUILD:-$TG_SRC/build}
TGCTL=$TG_BUILD/ctrl/tgctl
TRACKGATE=$TG_BUILD/dataplane/trackgate
TG_GEN=$TG_BUILD/tools/tg-gen
PY=/usr/bin/python3
# Set by scripts/test.sh for the AddressSanitizer build: checks that cannot
# hold under ASan (address-space limits, RSS growth, non-ASan secondaries)
# are skipped, and say so.
TG_SANITIZED=${TG_SANITIZED:-0}

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: integration tests need root (bpffs, DPDK)"; exit 77
fi

# Re-run this script inside a private mount namespace, so the bpffs mount and
# anything else mounted here disappear with the test.
if [ -z "${TG_IN_NS:-}" ]; then
	export TG_IN_NS=1
	exec unshare --mount --propagation private -- "$0" "$@"
fi

T_NAME=$(basename "$0" .sh)
T_DIR=$(mktemp -d "/tmp/tg-$T_NAME.XXXXXX")
T_PREFIX="tg-$T_NAME-$$"
T_BPFFS_MNT=$T_DIR/bpffs
T_BPFFS=$T_BPFFS_MNT/trackgate
mkdir -p "$T_BPFFS_MNT"
mount -t bpf bpf "$T_BPFFS_MNT"

T_PIDS=()
t_cleanup() {
	local rc=$?
	for p in "${T_PIDS[@]:-}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
	umount "$T_BPFFS_MNT" 2>/dev/null || true
	rm -rf "/var/run/dpdk/$T_PREFIX"* 2>/dev/null || true
	if [ "${TG_KEEP:-0}" = 1 ] || [ $rc != 0 ]; then
		echo "# scratch kept in $T_DIR"
	else
		rm -rf "$T_DIR"
	fi
	exit $rc
}
trap t_cleanup EXIT

T_FAILS=0
T_PASSES=0
ok() { T_PASSES=$((T_PASSES + 1)); echo "ok - $*"; }
not_ok() { T_FAILS=$((T_FAILS + 1)); echo "not ok - $*"; }
# check "description" command...: passes if the command exits 0
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
# expect_rc N "description" command...
expect_rc() {
	local want=$1 d=$2 got=0; shift 2
	"$@" || got=$?
	if [ "$got" = "$want" ]; then ok "$d"; else not_ok "$d (exit $got, wanted $want)"; fi
}
done_testing() {
	echo "$T_PASSES passed, $T_FAILS failed"
	[ "$T_FAILS" = 0 ]
}

# logged LOG CMD...: run CMD with its output in LOG, so that a check around
# it (expect_rc 0 "..." logged x.log cmd) still prints its ok/not ok line.
logged() { local log=$1; shift; "$@" > "$log" 2>&1; }

# The demo policy's three peers (net_pcap2..4) as tx_pcap devices writing
# $T_DIR/PREFIX-kor.pcap, -jpn.pcap and -usa.pcap.
demo_peer_vdevs() {
	local p=$1 peer i=2
	for peer in kor jpn usa; do
		echo "--vdev net_pcap$i,tx_pcap=$T_DIR/$p-$peer.pcap"
		i=$((i + 1))
	done
}

# demo_policy_null_peers OUT: policy/demo.yaml with its three peers on
# net_null0..2 (outputs not written; the ports' TX counters still count).
demo_policy_null_peers() {
	sed -e 's/port: net_pcap2/port: net_null0/; s/port: net_pcap3/port: net_null1/' \
	    -e 's/port: net_pcap4/port: net_null2/' "$TG_SRC/policy/demo.yaml" > "$1"
}

# The same three peers as net_null devices (vdev arguments for trackgate).
demo_null_vdevs() { echo "--vdev net_null0,no-rx=1 --vdev net_null1,no-rx=1 --vdev net_null2,no-rx=1"; }

# EAL arguments every trackgate/testpmd in a test gets: no PCI, no hugepages,
# a private prefix.
eal_common() { echo "--no-pci --no-huge -m 1024 --file-prefix $T_PREFIX --log-level=user1,info"; }

# The lcore layout for trackgate: TG_WORKERS=1 (default) runs the single
# main lcore as the worker; TG_WORKERS=N runs N worker lcores besides main,
# spread over this machine's CPUs (several lcores may share one CPU).
lcores_arg() {
	local n=${TG_WORKERS:-1} cpus list i
	if [ "$n" -le 1 ]; then echo "-l 0"; return; fi
	cpus=$(nproc)
	list="0@0"
	for i in $(seq 1 "$n"); do list="$list,$i@$(( (i % (cpus > 1 ? cpus - 1 : 1)) + (cpus > 1 ? 1 : 0) ))"; done
	echo "--lcores $list"
}
