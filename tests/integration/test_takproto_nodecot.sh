#!/usr/bin/env bash
# test_takproto_nodecot.sh - TAK Protocol Version 1 through the real tgctl and
# trackgate, checked against an independent TAK library: npm
# @tak-ps/node-cot, pinned in tests/conformance/nodecot/package-lock.json.
#
# tests/conformance/nodecot/gen.mjs writes missile-warning events as CoT XML
# and encodes them with node-cot's to_proto() (plus the 0xbf 0x01 0xbf mesh
# header).  node-cot's .proto has no CotEvent fields 16/17, so the caveat and
# releaseableTo fields, a takControl, legacy varint 16/17 and the negative
# cases are made by the test's own small encoder (each case says so).  Both
# go to trackgate on net_pcap devices under tests/policies/takproto-nodecot.yaml:
# a peer with `encoding: as-received` (usa-raw) and one with `encoding: xml`
# (kor-xml).  check.mjs then reads what each peer received:
#   - as-received: every v1 and XML release byte for byte its input, read
#     back with CoT.from_proto() / new CoT();
#   - xml: each v1 conversion read with node-cot's new CoT() and compared
#     field by field with node-cot's reading of the original XML (type, uid,
#     how, access, the instants, point doubles, contact, track, remarks,
#     __group, status, takv, links, sensor); caveat and releasableTo read by
#     our own parsing too; no takControl; byte for byte docs/release.md §6;
#   - exactly the expected releases per peer (markings in 16/17 narrow them;
#     a <contact> in xmlDetail wins over the typed one for a callsign rule),
#     the drops (dup_marking, tak_control, dup_elem, wire_type, encoding,
#     blocked, node-cot's own unescaped to_xml()) in tgctl stats (also by
#     encoding, and the conversions) and the audit log.
# kor-xml has mtu 576, so the conversions leave in fragments (reassembled
# here, headers checked by check_headers.py).  protoc cross-reads our own
# encoder's bytes.  node-cot's quirks are normalised by name and listed in
# the output; check.mjs --simulate first runs the whole comparison on
# outputs made by our own reading of release.md §6, without trackgate.  Then
# every mutation check.mjs knows (a flipped bit, a lost attribute, a number
# one ulp off, a missed or wrongful release, ...) is applied to the real
# outputs and must make the check fail.
#
# node-cot is installed with `npm ci` (package.json + package-lock.json
# copied) into the build directory, never into the source tree; reinstalled
# only when the lockfile changes.  No node/npm, or no registry: skip (77).
. "$(dirname "$0")/lib.sh"

NC_SRC=$TG_SRC/tests/conformance/nodecot
NC_DIR=$TG_BUILD/conformance-nodecot
POLICY=$TG_SRC/tests/policies/takproto-nodecot.yaml

for tool in node npm; do
	command -v "$tool" > /dev/null || { echo "SKIP: $tool not installed (Debian: nodejs npm)"; exit 77; }
done
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || { echo "SKIP: node $(node --version) is older than 20"; exit 77; }

# ---- node-cot, from the lockfile, into the build directory
mkdir -p "$NC_DIR"
cp "$NC_SRC/package.json" "$NC_SRC/package-lock.json" "$NC_SRC"/*.mjs "$NC_DIR/"
if ! cmp -s "$NC_SRC/package-lock.json" "$NC_DIR/.installed-lock.json" || [ ! -d "$NC_DIR/node_modules/@tak-ps/node-cot" ]; then
	t0=$(date +%s%N)
	if ! (cd "$NC_DIR" && npm ci --ignore-scripts --no-audit --no-fund) > "$T_DIR/npm-ci.log" 2>&1; then
		tail -20 "$T_DIR/npm-ci.log"
		echo "SKIP: npm ci failed (is the npm registry reachable?)"
		exit 77
	fi
	cp "$NC_SRC/package-lock.json" "$NC_DIR/.installed-lock.json"
	echo "# npm ci: node-cot $(node -p "require('$NC_DIR/node_modules/@tak-ps/node-cot/package.json').version") installed in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
else
	echo "# node-cot already installed from this lockfile in $NC_DIR"
fi
check "node-cot is the pinned 12.23.0" \
	test "$(node -p "require('$NC_DIR/node_modules/@tak-ps/node-cot/package.json').version")" = 12.23.0

cd "$T_DIR"
# ---- the harness alone, against our own reading of release.md §6
expect_rc 0 "gen.mjs writes the cases" logged gen.log node "$NC_DIR/gen.mjs" "$T_DIR/cases.json"
cat gen.log
expect_rc 0 "check.mjs passes outputs made from docs/release.md by our own code (--simulate, no trackgate)" \
	logged simulate.log node "$NC_DIR/check.mjs" --cases cases.json --simulate

# Our own encoder's bytes (16/17, takControl, the variations) read by an
# independent protobuf reader too: protoc with the project's schema.
if command -v protoc > /dev/null; then
	check "protoc reads every v1 case as a TakMessage, with the caveat and releaseableTo of its XML" \
		$PY - "$T_DIR/cases.json" "$TG_SRC/tests/proto" <<'PROTOC'
import json, re, subprocess, sys
cases = json.load(open(sys.argv[1]))["cases"]
bad = 0
for c in cases:
    if c["encoding"] != "takproto-v1":
        continue
    p = subprocess.run(["protoc", "-I", sys.argv[2], "--decode", "trackgate.takproto.v1.TakMessage",
                        "takproto.proto"], input=bytes.fromhex(c["payload"])[3:], capture_output=True)
    if c.get("protoc_refuses"):
        if not p.returncode:
            print(f"  {c['name']}: protoc reads what it must refuse"); bad += 1
        continue
    if p.returncode:
        print(f"  {c['name']}: protoc: {p.stderr.decode().strip()}"); bad += 1; continue
    if not c["xml"]:
        continue
    out = p.stdout.decode()
    a = dict(re.findall(r'\s(caveat|releasableTo)="([^"]*)"', c["xml"].split("<point")[0]))
    for xml_name, pb_name in (("caveat", "caveat"), ("releasableTo", "releaseableTo")):
        n = len(re.findall(rf'^\s*{pb_name}: ', out, re.M))
        if xml_name in a and (n != 1 or f'{pb_name}: "{a[xml_name]}"' not in out):
            print(f"  {c['name']}: protoc does not show {pb_name} {a[xml_name]!r} once"); bad += 1
        if xml_name not in a and n:
            print(f"  {c['name']}: protoc shows a {pb_name} the XML does not have"); bad += 1
sys.exit(1 if bad else 0)
PROTOC
else
	echo "# protoc not installed (protobuf-compiler): our encoder's bytes not cross-read"
fi

# ---- the cases as pcaps, one per link
$PY - "$T_DIR/cases.json" <<'EOF'
import json, sys
from scapy.all import Ether, IP, UDP, wrpcap
cases = json.load(open(sys.argv[1]))["cases"]
links = {"kor-us": ("in-kor.pcap", "198.51.100.10"), "xml-only": ("in-xmlonly.pcap", "203.0.113.10")}
out = {name: [] for name in links}
for i, c in enumerate(cases):
    path, src = links[c["link"]]
    out[c["link"]].append(Ether(src="02:00:00:00:82:10", dst="02:00:00:00:01:01") /
                          IP(src=src, dst="192.0.2.1", id=i + 1) /
                          UDP(sport=40000 + i, dport=6969) / bytes.fromhex(c["payload"]))
for name, (path, _) in links.items():
    wrpcap(path, out[name])
EOF

expect_rc 0 "tgctl check the policy" logged tgctl-check.log "$TGCTL" check "$POLICY"
expect_rc 0 "tgctl load the policy" "$TGCTL" load "$POLICY" --bpffs "$T_BPFFS" -q --no-wait

run_trackgate() {
	"$TRACKGATE" $(eal_common) $(lcores_arg) \
		--vdev "net_pcap0,rx_pcap=$T_DIR/in-kor.pcap" \
		--vdev "net_pcap1,tx_pcap=$T_DIR/out-usa-raw.pcap" \
		--vdev "net_pcap2,tx_pcap=$T_DIR/out-kor-xml.pcap" \
		--vdev "net_pcap3,rx_pcap=$T_DIR/in-xmlonly.pcap" \
		-- --bpffs "$T_BPFFS" --audit "$T_DIR/audit.jsonl" --exit-when-idle 1000
}
expect_rc 0 "trackgate runs the cases and exits 0" logged trackgate.log run_trackgate
"$TGCTL" stats --bpffs "$T_BPFFS" > stats.txt 2>&1 || true
"$TGCTL" stats --bpffs "$T_BPFFS" --json > stats.json
sed 's/^/# /' stats.txt

# ---- what each peer received, as UDP payloads
check "every header is the peer's (MAC, VLAN, IPv4, ports, checksums)" \
	$PY "$TG_SRC/tests/integration/check_headers.py" "$POLICY" \
	usa-raw=out-usa-raw.pcap kor-xml=out-kor-xml.pcap
# usa-raw has mtu 9000: whole datagrams; kor-xml has mtu 576: most
# conversions leave in IPv4 fragments, put back together here (in order of
# their last fragment; check_headers.py has checked lengths and checksums).
check "the UDP payloads of both outputs read back (kor-xml's fragments reassembled)" \
	$PY - <<'EOF'
import json, struct, sys
from scapy.all import PcapReader, IP
peers, frags, nfrag = {}, {}, 0
for name in ("usa-raw", "kor-xml"):
    peers[name] = []
    for p in PcapReader(f"out-{name}.pcap"):
        ip = p[IP]
        data = bytes(ip.payload)[: ip.len - ip.ihl * 4]
        if ip.flags.MF or ip.frag:
            nfrag += 1
            if name == "usa-raw":
                sys.exit("usa-raw: a fragment, with mtu 9000")
            key = (ip.src, ip.dst, ip.id)
            frags.setdefault(key, []).append((ip.frag * 8, data))
            if ip.flags.MF:
                continue
            parts = sorted(frags.pop(key))
            data, off = b"", 0
            for o, d in parts:
                if o != off:
                    sys.exit(f"{name}: fragments of {key} leave a gap at {off}")
                data += d
                off += len(d)
        ulen = struct.unpack("!H", data[4:6])[0]
        if ulen != len(data):
            sys.exit(f"{name}: UDP length {ulen} for {len(data)} bytes")
        peers[name].append(data[8:].hex())
if frags:
    sys.exit(f"incomplete datagrams: {list(frags)}")
if not nfrag:
    sys.exit("kor-xml got no fragment: the mtu 576 path was not taken")
print(f"# {nfrag} fragments reassembled")
json.dump({"peers": peers}, open("released.json", "w"))
EOF

# ---- node-cot reads it back
expect_rc 0 "trackgate's v1 and XML releases agree with node-cot $(node -p "require('$NC_DIR/node_modules/@tak-ps/node-cot/package.json').version")" \
	logged check.log node "$NC_DIR/check.mjs" --cases cases.json --out released.json \
	--stats stats.json --audit audit.jsonl
sed "s/^/    /" check.log

# ---- the check can fail: each mutation of the real outputs must be caught
for m in $(node "$NC_DIR/check.mjs" --list-mutations); do
	expect_rc 1 "check.mjs catches: $(node "$NC_DIR/check.mjs" --list-mutations --describe "$m")" \
		logged "mutate-$m.log" node "$NC_DIR/check.mjs" --cases cases.json --out released.json \
		--stats stats.json --audit audit.jsonl --mutate "$m"
done

done_testing
