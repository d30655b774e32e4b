#!/usr/bin/env bash
# test_dataplane_pcap.sh - the real tgctl and trackgate on net_pcap devices:
# mixed track traffic on two links in, one output pcap per peer out.  Checks
# that every peer got exactly what the independent oracle says it must
# (byte-for-byte payloads, no wrongful and no missed release), that every
# header is the peer's (scapy), that the audit log and counters agree, and
# that SIGINT-style teardown exits 0 with final counters.
. "$(dirname "$0")/lib.sh"

COUNT=${TG_TEST_COUNT:-3000}
cd "$T_DIR"
"$TG_GEN" --mix default --count "$COUNT" --seed 11 --link kor-us --out in-kor.pcap
"$TG_GEN" --mix default --count "$COUNT" --seed 12 --link jpn-us --out in-jpn.pcap
# hostile traffic on the same link: half malformed; must never crash or release junk
"$TG_GEN" --mix hostile --count 500 --seed 13 --link kor-us --out in-hostile.pcap
mergecap_py() { $PY - "$@" <<'EOF'
import sys
from scapy.utils import rdpcap, wrpcap
out, *ins = sys.argv[1:]
pk = []
for f in ins:
    pk += list(rdpcap(f))
wrpcap(out, pk)
EOF
}
mergecap_py in-kor-all.pcap in-kor.pcap in-hostile.pcap

expect_rc 0 "tgctl load demo policy" "$TGCTL" load "$TG_SRC/policy/demo.yaml" --bpffs "$T_BPFFS" -q --no-wait

run_trackgate() {
	"$TRACKGATE" $(eal_common) $(lcores_arg) \
		--vdev "net_pcap0,rx_pcap=$T_DIR/in-kor-all.pcap" \
		--vdev "net_pcap1,rx_pcap=$T_DIR/in-jpn.pcap" \
		$(demo_peer_vdevs out) \
		-- --bpffs "$T_BPFFS" --audit "$T_DIR/audit.jsonl" --exit-when-idle 1500 \
		${TG_DP_ARGS:-} "$@"
}
# TG_DP_ARGS: extra trackgate options for a variant of this test (meson.build).
expect_rc 0 "trackgate ${TG_DP_ARGS:+$TG_DP_ARGS }runs the capture and exits 0" logged trackgate.log run_trackgate
check "final counters printed" grep -q "^trackgate: policy generation 1" trackgate.log
# The markings were resolved through the per-worker cache, so the oracle
# comparison below holds for cached resolutions too.
check "the marking cache served the messages" \
	grep -Eq "^  marking cache: hits [1-9][0-9]* misses [1-9]" trackgate.log
# ... and so did the early scopes' cache (type and marking rules).
check "the early-scope cache served the messages" \
	grep -Eq "^  early-scope cache: hits [1-9][0-9]* misses [1-9]" trackgate.log

$PY "$TG_SRC/tests/oracle/oracle.py" --policy "$TG_SRC/policy/demo.yaml" \
	--link kor-us=in-kor-all.pcap --link jpn-us=in-jpn.pcap --out expected > oracle.json
check "every peer got exactly the oracle's releases (payloads byte for byte)" \
	$PY "$TG_SRC/tests/oracle/compare.py" --expected expected \
	--actual-pcap kor=out-kor.pcap --actual-pcap jpn=out-jpn.pcap --actual-pcap usa=out-usa.pcap \
	--report compare.json
check "every header is the peer's (MAC, VLAN, IPv4/IPv6, ports, checksums, MTU)" \
	$PY "$TG_SRC/tests/integration/check_headers.py" "$TG_SRC/policy/demo.yaml" \
	kor=out-kor.pcap jpn=out-jpn.pcap usa=out-usa.pcap

"$TGCTL" stats --bpffs "$T_BPFFS" --json > stats.json
$PY - "$T_DIR" <<'EOF' && ok "counters, audit log and outputs agree" || not_ok "counters, audit log and outputs agree"
import json, sys, os
d = sys.argv[1]
st = json.load(open(os.path.join(d, "stats.json")))
cmp = json.load(open(os.path.join(d, "compare.json")))
audit = [json.loads(l) for l in open(os.path.join(d, "audit.jsonl"))]
errors = []
peers = {p["name"]: p for p in st["peers"]}
for name in ("kor", "jpn", "usa"):
    actual = cmp["peers"][name]["actual"]
    if peers[name]["released"] != actual:
        errors.append(f"{name}: stats say {peers[name]['released']}, output has {actual}")
    in_audit = sum(1 for a in audit if name in a["released_to"])
    if in_audit != actual:
        errors.append(f"{name}: audit says {in_audit}, output has {actual}")
if st["audit_lost"] != 0:
    errors.append("audit records lost")
if len(audit) != st["messages"]:
    errors.append(f"{len(audit)} audit lines for {st['messages']} messages")
blocked = [a for a in audit if a.get("reason") == "blocked"]
if not blocked or not all(a["rules"] for a in blocked):
    errors.append("blocked messages must name the rule that blocked them")
if st["dropped"]["parse"] == 0 or st["dropped"]["blocked"] == 0:
    errors.append("the mix has malformed and blocked messages: counters must show them")
if st["generation"] != 1:
    errors.append("stats name the wrong generation")
for e in errors:
    print("  " + e)
sys.exit(1 if errors else 0)
EOF

# The independent second check: a message that shows a raw-bytes reader a
# different marking (an <event tag smuggled in a comment) is not sent; the
# audit log records both verdicts.  With --no-second-check it is released.
$PY - "$T_DIR/smuggled.pcap" <<'PYEOF'
import sys
from scapy.all import Ether, IP, UDP, wrpcap
cot = ('<!-- <event access="TOP SECRET//REL TO USA" > -->'
       '<event version="2.0" uid="smuggled-1" type="a-h-A-W-M-S-S" how="m-g" '
       'time="2026-01-01T00:00:00Z" start="2026-01-01T00:00:00Z" stale="2026-01-01T00:01:00Z" '
       'access="SECRET//REL TO USA, KOR">'
       '<point lat="37.5" lon="127.0" hae="0" ce="10" le="10"/></event>').encode()
wrpcap(sys.argv[1], [Ether(src="02:00:00:00:82:10", dst="02:00:00:00:01:01") /
                     IP(src="198.51.100.10", dst="192.0.2.1") / UDP(sport=40000, dport=6969) / cot])
PYEOF
run_smuggled() {
	"$TRACKGATE" $(eal_common) $(lcores_arg) \
		--vdev "net_pcap0,rx_pcap=$T_DIR/smuggled.pcap" \
		--vdev "net_pcap4,tx_pcap=$T_DIR/smuggled-usa-$1.pcap" \
		-- --bpffs "$T_BPFFS" --audit "$T_DIR/smuggled-$1.jsonl" --exit-when-idle 500 $2
}
expect_rc 0 "trackgate with the second check" logged smuggled-on.log run_smuggled on ""
check "second check: the disagreement is counted" grep -Eq "dropped check_mismatch +1$" smuggled-on.log
check "second check: the audit log records both verdicts" \
	$PY -c "import json; a=json.loads(open('$T_DIR/smuggled-on.jsonl').readline()); \
assert a['reason']=='check_mismatch' and a['check']['parser']==['kor','usa'] and a['check']['independent']==['usa'] and not a['released_to'], a"
check "second check: nothing was sent" \
	$PY -c "import sys; from scapy.utils import rdpcap; sys.exit(len(rdpcap('$T_DIR/smuggled-usa-on.pcap')) != 0)"
expect_rc 0 "trackgate with --no-second-check" logged smuggled-off.log run_smuggled off --no-second-check
check "without the second check the parser's verdict alone releases it" \
	$PY -c "import sys; from scapy.utils import rdpcap; sys.exit(len(rdpcap('$T_DIR/smuggled-usa-off.pcap')) != 1)"

# No policy: nothing is released, every packet is counted as no_policy.
mkdir -p "$T_BPFFS_MNT/empty"
expect_rc 0 "trackgate without a policy runs" \
	"$TRACKGATE" $(eal_common) $(lcores_arg) \
	--vdev "net_pcap0,rx_pcap=$T_DIR/in-kor.pcap" \
	--vdev "net_pcap2,tx_pcap=$T_DIR/nopol-kor.pcap" \
	-- --bpffs "$T_BPFFS_MNT/empty/tg" --exit-when-idle 500 > nopolicy.log 2>&1
check "without a policy nothing is released" \
	$PY -c "import sys; from scapy.utils import rdpcap; sys.exit(len(rdpcap('$T_DIR/nopol-kor.pcap')) != 0)"
check "without a policy drops are counted as no_policy" grep -q "dropped no_policy" nopolicy.log

# Bad command lines: a clear error and exit 2, never a crash.
expect_rc 2 "unknown option is a usage error" "$TRACKGATE" $(eal_common) -l 0 --vdev net_null0 -- --bogus
expect_rc 2 "bad audit level is a usage error" "$TRACKGATE" $(eal_common) -l 0 --vdev net_null0 -- --audit-level loud

done_testing
