#!/usr/bin/env bash
# scripts/deps.sh - install what trackgate needs from Debian 12, if missing.
# Idempotent: checks each package first, runs apt-get only when something is absent.
set -euo pipefail

PKGS=(
	build-essential pkg-config meson ninja-build
	libdpdk-dev dpdk dpdk-dev          # DPDK 22.11: libraries, PMDs, testpmd, telemetry, dumpcap
	libbpf-dev bpftool clang llvm      # pinned maps, the XDP program
	libhyperscan-dev libyaml-dev libjansson-dev libssl-dev libpcap-dev libcmocka-dev
	libxml2-dev                        # the differential fuzz target
	python3-scapy python3-yaml tshark  # test traffic and its oracle
	python3-protobuf protobuf-compiler # the oracle's TAK Protocol v1 cross-check (tests/proto)
	python3-matplotlib                 # tools/bench --chart
	shellcheck                         # integration/pktgen_scripts lints tools/pktgen/*.sh
	iproute2 util-linux procps ethtool  # ethtool: TX checksum offload off on test veths
	rt-tests                           # oslat: tools/bench --memif measures the CPU jitter floor
	lua5.4                             # runs tools/pktgen/trackgate-rate.lua against a pktgen stub
	debhelper dpkg-dev fakeroot lintian # package/deb: builds and checks the Debian package
	mmdebstrap systemd man-db          # package/deb: a Debian 12 root to install it in, unit and man checks
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
	log=$(mktemp /tmp/trackgate-deps.XXXXXX.log)
	{
		$SUDO apt-get update -q &&
		# tshark asks whether non-root users may capture: answer no, non-interactively.
		echo "wireshark-common wireshark-common/install-setuid boolean false" |
			$SUDO debconf-set-selections &&
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
			"${missing[@]}"
	} > "$log" 2>&1 || { cat "$log"; echo "deps: apt-get failed (log: $log)"; exit 1; }
	echo "deps: done (log: $log)"
fi
