#!/usr/bin/env bash
# scripts/demo.sh - the main job on the embedded default: the demo hub.
#
# Generates track traffic for the Korea–US and Japan–US links (tools/tg-gen),
# validates and publishes policy/demo.yaml with tgctl, runs trackgate on
# net_pcap devices (two links in, KOR/JPN/USA peers out), prints per-peer
# release counts, checks every release against the independent oracle and
# every decision against `tgctl explain`, and says where the output pcaps and
# the audit log are.  Needs root (bpffs, DPDK);
# everything it mounts lives in a private mount namespace.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/scripts/deps.sh"
"$src/scripts/build.sh" "$src/build" >/dev/null

if [ -z "${TG_DEMO_NS:-}" ]; then
	export TG_DEMO_NS=1
	exec unshare --mount --propagation private -- "$0" "$@"
fi

B=$src/build
out=${TG_DEMO_OUT:-$src/out/demo}
count=${TG_DEMO_COUNT:-5000}
rm -rf "$out"; mkdir -p "$out/bpffs"
mount -t bpf bpf "$out/bpffs"
trap 'umount "$out/bpffs" 2>/dev/null || true; rmdir "$out/bpffs" 2>/dev/null || true' EXIT
maps=$out/bpffs/trackgate

echo "== traffic: $count messages per link (tools/tg-gen, mix 'default', seeded; kor-us half TAK Protocol v1)"
"$B/tools/tg-gen" --mix default --count "$count" --seed 1 --link kor-us --encoding mixed \
	--out "$out/in-kor-us.pcap"
"$B/tools/tg-gen" --mix default --count "$count" --seed 2 --link jpn-us --out "$out/in-jpn-us.pcap"

echo "== policy: policy/demo.yaml"
"$B/ctrl/tgctl" check "$src/policy/demo.yaml"
"$B/ctrl/tgctl" load "$src/policy/demo.yaml" --bpffs "$maps" --no-wait

echo "== trackgate: kor-us + jpn-us in, kor/jpn/usa out (net_pcap)"
"$B/dataplane/trackgate" --no-pci --no-huge -m 1024 --file-prefix tg-demo-$$ -l 0 \
	--log-level=user1,notice \
	--vdev "net_pcap0,rx_pcap=$out/in-kor-us.pcap" \
	--vdev "net_pcap1,rx_pcap=$out/in-jpn-us.pcap" \
	--vdev "net_pcap2,tx_pcap=$out/out-kor.pcap" \
	--vdev "net_pcap3,tx_pcap=$out/out-jpn.pcap" \
	--vdev "net_pcap4,tx_pcap=$out/out-usa.pcap" \
	-- --bpffs "$maps" --audit "$out/audit.jsonl" --exit-when-idle 1000 \
	| grep -v '^EAL\|^TELEMETRY'

echo "== tgctl stats"
"$B/ctrl/tgctl" stats --bpffs "$maps"

echo "== oracle: every release checked against tests/oracle (independent of the dataplane)"
/usr/bin/python3 "$src/tests/oracle/oracle.py" --policy "$src/policy/demo.yaml" \
	--link "kor-us=$out/in-kor-us.pcap" --link "jpn-us=$out/in-jpn-us.pcap" \
	--out "$out/expected" >/dev/null
/usr/bin/python3 "$src/tests/oracle/compare.py" --expected "$out/expected" \
	--actual-pcap "kor=$out/out-kor.pcap" --actual-pcap "jpn=$out/out-jpn.pcap" \
	--actual-pcap "usa=$out/out-usa.pcap" --report "$out/oracle-report.json" > /dev/null

echo "== tgctl explain: the same captures through the same decision code, no dataplane"
for l in kor-us jpn-us; do
	"$B/ctrl/tgctl" explain "$src/policy/demo.yaml" --pcap "$out/in-$l.pcap" --link "$l" \
		--json > "$out/explain-$l.jsonl"
done
/usr/bin/python3 "$src/tests/integration/explain_vs_audit.py" --quiet --audit "$out/audit.jsonl" \
	--explain "kor-us=$out/explain-kor-us.jsonl" --explain "jpn-us=$out/explain-jpn-us.jsonl"

echo
echo "output pcaps:  $out/out-kor.pcap $out/out-jpn.pcap $out/out-usa.pcap"
echo "audit log:     $out/audit.jsonl ($(wc -l < "$out/audit.jsonl") decisions)"
echo "oracle report: $out/oracle-report.json"
