#!/usr/bin/env bash
# test_explain.sh - `tgctl explain` (docs/tgctl.md) gives exactly the
# dataplane's decisions: the real trackgate runs captures with the audit
# log at its default level (a record per message), `tgctl explain --pcap`
# runs the same captures with no dataplane, and every record must be equal
# key for key (explain_vs_audit.py):
#   - the demo traffic (default mix on kor-us, half TAK Protocol v1) and the
#     hostile mix (malformed XML, fragments, checksums) on jpn-us;
#   - the register of controls (test_controls.sh's cases, XML and v1);
#   - a policy explain was not given (jpn's clearance lowered) disagrees,
#     so the comparison can fail.
# Then the text output of single messages (--xml, stdin), and the command
# line's errors and exit codes.
. "$(dirname "$0")/lib.sh"

cd "$T_DIR"
N=${TG_TEST_COUNT:-3000}
DEMO=$TG_SRC/policy/demo.yaml
CMP="$PY $TG_SRC/tests/integration/explain_vs_audit.py"

# run_dp TAG POLICY LINK=PCAP...: POLICY loaded (a new generation in the
# test's one map directory), trackgate (one worker: each port's order is
# kept) on the inputs, audit log TAG-audit.jsonl.
run_dp() {
	local tag=$1 pol=$2 maps=$T_BPFFS vdevs=() spec in0=empty.pcap in1=empty.pcap
	shift 2
	# the demo's links: kor-us on net_pcap0, jpn-us on net_pcap1
	for spec in "$@"; do
		case ${spec%%=*} in
		kor-us) in0=${spec#*=} ;;
		jpn-us) in1=${spec#*=} ;;
		esac
	done
	[ -f empty.pcap ] || $PY -c 'from scapy.all import wrpcap; wrpcap("empty.pcap", [])' 2>/dev/null
	vdevs=(--vdev "net_pcap0,rx_pcap=$T_DIR/$in0" --vdev "net_pcap1,rx_pcap=$T_DIR/$in1")
	"$TGCTL" load "$pol" --bpffs "$maps" -q --no-wait &&
	"$TRACKGATE" $(eal_common) -l 0 "${vdevs[@]}" $(demo_peer_vdevs "$tag") \
		-- --bpffs "$maps" --audit "$T_DIR/$tag-audit.jsonl" --exit-when-idle 1500 \
		> "$tag-trackgate.log" 2>&1
}
# explain_all TAG POLICY LINK=PCAP...: explain's JSON of each input
explain_all() {
	local tag=$1 pol=$2 spec
	shift 2
	for spec in "$@"; do
		"$TGCTL" explain "$pol" --pcap "${spec#*=}" --link "${spec%%=*}" --json \
			> "$tag-explain-${spec%%=*}.jsonl" || return 1
	done
}
# cmp_args TAG LINK=PCAP...
cmp_args() {
	local tag=$1 spec
	shift
	echo "--audit $tag-audit.jsonl"
	for spec in "$@"; do echo "--explain ${spec%%=*}=$tag-explain-${spec%%=*}.jsonl"; done
}

# ---- 1. the demo traffic, and hostile traffic ----
"$TG_GEN" --mix default --count "$N" --seed 1 --link kor-us --encoding mixed --out kor.pcap >/dev/null
"$TG_GEN" --mix hostile --count "$N" --seed 2 --link jpn-us --out jpn.pcap >/dev/null
"$TG_GEN" --mix default --count "$N" --seed 3 --link jpn-us --out jpn-default.pcap >/dev/null
demo_in=(kor-us=kor.pcap jpn-us=jpn.pcap)
expect_rc 0 "trackgate runs the demo traffic and the hostile mix" run_dp demo "$DEMO" "${demo_in[@]}"
expect_rc 0 "tgctl explain runs the same captures" explain_all demo "$DEMO" "${demo_in[@]}"
check "explain agrees with the dataplane on every message (demo + hostile)" \
	$CMP $(cmp_args demo "${demo_in[@]}")
expect_rc 0 "trackgate runs jpn-us's default mix" run_dp jd "$DEMO" jpn-us=jpn-default.pcap
expect_rc 0 "tgctl explain runs it" explain_all jd "$DEMO" jpn-us=jpn-default.pcap
check "explain agrees on jpn-us's default mix" $CMP $(cmp_args jd jpn-us=jpn-default.pcap)
check "the demo run withheld, dropped and released (the comparison covers each)" \
	$PY -c '
import json, sys
d = {json.loads(l)["decision"] for l in open("demo-audit.jsonl")}
sys.exit(0 if d >= {"released", "withheld", "dropped"} else 1)'

# The comparison fails when explain decides under another policy.
$PY -c '
import sys, yaml
p = yaml.safe_load(sys.stdin)
for peer in p["peers"]:
    if peer["name"] == "jpn":
        peer["clearance"] = "CONFIDENTIAL"
yaml.safe_dump(p, open("lowered.yaml", "w"), sort_keys=False)' < "$DEMO"
expect_rc 0 "tgctl explain under a lowered jpn clearance" explain_all low lowered.yaml kor-us=kor.pcap
cp demo-audit.jsonl low-audit.jsonl
expect_rc 1 "... and the comparison tells the two apart" logged low-cmp.log \
	$CMP $(cmp_args low kor-us=kor.pcap)
check "... on the releases to jpn" grep -q "jpn.*clearance" low-cmp.log

# ---- 2. the register of controls ----
$PY - "$DEMO" <<'EOF'
import sys, yaml
p = yaml.safe_load(open(sys.argv[1]))
p["controls"] = [
    {"name": "PROPIN", "aliases": ["PROPRIETARY", "PROP INFO"], "effect": "pass"},
    {"name": "ORCON", "effect": {"peers": ["usa"]}},
    {"name": "LIMDIS", "effect": {"nations": ["USA", "KOR"]}},
    {"name": "EXERCISE", "effect": "block"},
    {"name": "NOFORN", "aliases": ["NOFORN-US"], "effect": {"peers": ["usa"]}},
]
p["rules"] = [r for r in p["rules"] if (r.get("action") or {}).get("block") != "noforn-caveat"]
yaml.safe_dump(p, open("controls.yaml", "w"), sort_keys=False)
EOF
$PY - "$TG_SRC/tests/integration" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from events import xml, v1, frames
from scapy.all import wrpcap


cases = [("pass", "SECRET//REL TO USA, KOR, JPN//PROPIN", None),
         ("alias", "SECRET//REL TO USA, KOR, JPN", "proprietary"),
         ("peers", "SECRET//REL TO USA, KOR, JPN//ORCON", None),
         ("nations", "SECRET//REL TO USA, KOR, JPN", "LIMDIS"),
         ("block", "SECRET//REL TO USA, KOR, JPN//EXERCISE", None),
         ("noforn", "SECRET//REL TO USA, KOR, JPN//NOFORN-US", None),
         ("undeclared", "SECRET//REL TO USA, KOR, JPN//IMCON", None)]
pls = []
for enc in (xml, v1):
    for name, acc, cav in cases:
        pls.append(enc(f"{enc.__name__}-{name}", acc, cav))
        open(f"{enc.__name__}-{name}.msg", "wb").write(pls[-1])
wrpcap("controls.pcap", frames(pls))
EOF
expect_rc 0 "trackgate runs the controls cases" run_dp ctl controls.yaml kor-us=controls.pcap
expect_rc 0 "tgctl explain runs them" explain_all ctl controls.yaml kor-us=controls.pcap
check "explain agrees with the dataplane on every control, XML and v1" \
	$CMP $(cmp_args ctl kor-us=controls.pcap)

# ---- 3. one message, in words ----
x() { "$TGCTL" explain controls.yaml --link kor-us "$@"; }
expect_rc 0 "explain --xml: a blocked message" logged block.txt x --xml xml-block.msg
check "... names the control that blocked it" \
	grep -q "dropped for every peer: blocked (control EXERCISE)" block.txt
expect_rc 0 "explain --xml: a v1 message for usa only" logged peers.txt x --xml v1-peers.msg
check "... usa released, converted to XML (usa has encoding: xml)" \
	grep -Eq "^  usa +released \(converted to XML\)" peers.txt
check "... jpn withheld: not_releasable (ORCON admits usa only)" \
	grep -Eq "^  jpn +withheld +not_releasable" peers.txt
check "... kor withheld: not_releasable (step 5 comes before echo)" \
	grep -Eq "^  kor +withheld +not_releasable" peers.txt
check "... the marking as resolved, with its controls" \
	grep -q "marking   SECRET, releasable to KOR, JPN, USA (REL TO list); controls ORCON; controls allow only usa" peers.txt
check "... the second check's reading" grep -q "second    SECRET, .*admits usa; agrees$" peers.txt
expect_rc 0 "explain --xml - (stdin)" logged stdin.txt x --xml - < v1-peers.msg
check "... says what the file did" \
	cmp <(grep -v '^message' stdin.txt) <(grep -v '^message' peers.txt)
expect_rc 0 "explain --xml twice, --json" logged two.jsonl x --xml xml-pass.msg --xml xml-undeclared.msg --json
check "... one record per message, in order, with the audit keys and more" $PY -c '
import json, sys
r = [json.loads(l) for l in open("two.jsonl")]
ok = (len(r) == 2 and r[0]["uid"] == "xml-pass" and r[0]["released_to"] == ["jpn", "usa"]
      and r[0]["marking"]["controls"] == ["PROPIN"]
      and r[1]["reason"] == "bad_marking" and r[1]["marking"] is None
      and all(k in r[0] for k in ("rules_all", "classes", "second_check", "peers", "file")))
sys.exit(0 if ok else 1)'
expect_rc 0 "explain with --now: a stale message" logged stale.txt \
	"$TGCTL" explain lowered.yaml --link kor-us --xml xml-pass.msg --now 2030-01-01T00:00:00Z
no_match() { ! grep -q "$@"; }
check "... ignore_stale: true in the demo: not stale" no_match "stale" stale.txt
sed 's/ignore_stale: true/ignore_stale: false/' controls.yaml > strict.yaml
expect_rc 0 "explain, stale_tolerance_s 30, --now a minute after stale" logged stale2.txt \
	"$TGCTL" explain strict.yaml --link kor-us --xml xml-pass.msg --now 1714564921
check "... dropped as stale" grep -q "dropped for every peer: stale" stale2.txt
expect_rc 0 "... --now within the tolerance" logged stale3.txt \
	"$TGCTL" explain strict.yaml --link kor-us --xml xml-pass.msg --now 1714564889.5
check "... released" grep -Eq "^  jpn +released" stale3.txt

# ---- 4. the command line ----
expect_rc 2 "explain without messages" logged u1.log "$TGCTL" explain controls.yaml --link kor-us
expect_rc 2 "explain with --xml and --pcap" logged u2.log x --xml xml-pass.msg --pcap kor.pcap
expect_rc 2 "explain: two links, no --link" logged u3.log "$TGCTL" explain controls.yaml --xml xml-pass.msg
check "... says which option is missing" grep -q "with --link NAME" u3.log
expect_rc 2 "explain --link that the policy has not" logged u4.log \
	"$TGCTL" explain controls.yaml --link nowhere --xml xml-pass.msg
expect_rc 2 "explain --now nonsense" logged u5.log x --xml xml-pass.msg --now yesterday
expect_rc 2 "explain --now pcap without --pcap" logged u6.log x --xml xml-pass.msg --now pcap
expect_rc 2 "--xml on another command" logged u7.log "$TGCTL" check controls.yaml --xml xml-pass.msg
expect_rc 3 "explain --xml of a missing file" logged u8.log x --xml /nonexistent
head -c 70000 /dev/zero > big.msg
expect_rc 2 "explain --xml of more than a UDP payload" logged u9.log x --xml big.msg
expect_rc 1 "explain under an invalid policy" logged u10.log \
	"$TGCTL" explain "$TG_SRC/tests/policies/bad-control-dup-name.yaml" --xml xml-pass.msg
expect_rc 3 "explain --pcap of a file that is no capture" logged u11.log x --pcap xml-pass.msg
done_testing
