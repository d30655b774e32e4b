#!/usr/bin/env bash
# test_controls.sh - the operator's register of dissemination controls
# (docs/policy.md `controls`, release.md §3) through the real tgctl and
# trackgate, in XML and TAK Protocol v1, against the oracle: pass controls
# released as if absent, peers: and nations: narrowing step 5, a block
# control withholding from everyone before any scan (audited with its
# name), a declared NOFORN that keeps its USA floor, aliases and blank runs,
# and undeclared controls still bad; both mechanisms agree (no
# check_mismatch).
. "$(dirname "$0")/lib.sh"

cd "$T_DIR"
$PY - "$TG_SRC/policy/demo.yaml" <<'EOF'
import sys, yaml
p = yaml.safe_load(open(sys.argv[1]))
p["controls"] = [
    {"name": "PROPIN", "aliases": ["PROPRIETARY", "PROP INFO"], "effect": "pass"},
    {"name": "ORCON", "effect": {"peers": ["usa"]}},
    {"name": "LIMDIS", "effect": {"nations": ["USA", "KOR"]}},
    {"name": "EXERCISE", "effect": "block"},
    {"name": "NOFORN", "aliases": ["NOFORN-US"], "effect": {"peers": ["usa"]}},
]
# the demo blocks NOFORN caveats by rule: keep that rule out of the way
p["rules"] = [r for r in p["rules"] if (r.get("action") or {}).get("block") != "noforn-caveat"]
yaml.safe_dump(p, open("policy.yaml", "w"), sort_keys=False)
EOF
$PY - "$TG_SRC/tests/integration" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from events import xml, v1, frames
from scapy.all import wrpcap


cases = [("pass", "SECRET//REL TO USA, KOR, JPN//PROPIN", None),
         ("alias", "SECRET//REL TO USA, KOR, JPN", "proprietary"),
         ("blanks", "SECRET//REL TO USA, KOR, JPN//Prop \t Info", None),
         ("peers", "SECRET//REL TO USA, KOR, JPN//ORCON", None),
         ("nations", "SECRET//REL TO USA, KOR, JPN", "LIMDIS"),
         ("block", "SECRET//REL TO USA, KOR, JPN//EXERCISE", None),
         ("block-caveat", "SECRET//REL TO USA, KOR, JPN", "PROPIN//EXERCISE"),
         ("noforn", "SECRET//REL TO USA, KOR, JPN//NOFORN-US", None),
         ("several", "SECRET//REL TO USA, KOR, JPN//ORCON//LIMDIS", None),
         ("undeclared", "SECRET//REL TO USA, KOR, JPN//IMCON", None),
         ("rel-still-a-list", "SECRET//REL TO USA, JPN", None)]
pls = []
for enc in (xml, v1):
    for name, acc, cav in cases:
        pls.append(enc(f"{enc.__name__}-{name}", acc, cav))
wrpcap("in.pcap", frames(pls))
EOF

expect_rc 0 "tgctl check" logged check.log "$TGCTL" check policy.yaml
check "tgctl check warns about the pass control no marking rule matches" \
	grep -q "warning: control PROPIN is pass and no marking rule matches it" check.log
check "... and lists each control's effect" grep -q "control ORCON: peers" check.log
expect_rc 0 "tgctl load" "$TGCTL" load policy.yaml --bpffs "$T_BPFFS" -q --no-wait
expect_rc 0 "trackgate runs the capture" logged trackgate.log \
	"$TRACKGATE" $(eal_common) -l 0 --vdev "net_pcap0,rx_pcap=$T_DIR/in.pcap" \
	$(demo_peer_vdevs out) -- --bpffs "$T_BPFFS" --audit "$T_DIR/audit.jsonl" \
	--exit-when-idle 1500
$PY "$TG_SRC/tests/oracle/oracle.py" --policy policy.yaml --link kor-us=in.pcap \
	--out expected > oracle.json
check "every peer got exactly the oracle's releases" \
	$PY "$TG_SRC/tests/oracle/compare.py" --expected expected \
	--actual-pcap kor=out-kor.pcap --actual-pcap jpn=out-jpn.pcap --actual-pcap usa=out-usa.pcap \
	--report compare.json

$PY - <<'EOF' && ok "each control decided as declared, in both encodings, as the oracle says" || not_ok "each control decided as declared, in both encodings, as the oracle says"
import json, re
log = open("trackgate.log").read()
st = json.load(open("oracle.json"))
bad = []
# who gets what (kor sits behind kor-us: echo whenever releasable)
want = {"pass": {"jpn", "usa"}, "alias": {"jpn", "usa"}, "blanks": {"jpn", "usa"},
        "peers": {"usa"}, "nations": {"usa"}, "block": None, "block-caveat": None,
        "noforn": {"usa"}, "several": {"usa"}, "undeclared": "bad_marking",
        "rel-still-a-list": {"jpn", "usa"}}
got = {}
for line in open("audit.jsonl"):
    a = json.loads(line)
    enc, _, name = a["uid"].partition("-")
    got[(enc, name)] = (a["decision"], a.get("reason"), set(a.get("released_to") or []),
                        a.get("control"))
for enc in ("xml", "v1"):
    for name, w in want.items():
        g = got.get((enc, name))
        if g is None:
            bad.append(f"{enc} {name}: no audit record")
        elif w is None:
            if g[1] != "blocked" or g[3] != "EXERCISE":
                bad.append(f"{enc} {name}: {g}, want blocked by control EXERCISE")
        elif w == "bad_marking":
            if g[1] != "bad_marking":
                bad.append(f"{enc} {name}: {g}, want bad_marking")
        elif g[2] != w:
            bad.append(f"{enc} {name}: released to {sorted(g[2])}, want {sorted(w)}")
for name, p in st["peers"].items():
    m = re.search(r"^  peer %s +released (\d+) +bytes \d+(.*)$" % name, log, re.M)
    gotc = m and {"released": int(m.group(1)),
                  **{k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}}
    if gotc != {"released": p["released"], **p["withheld"]}:
        bad.append(f"{name}: trackgate {gotc} oracle {p}")
if "check_mismatch" in log:
    bad.append("the two mechanisms disagreed (check_mismatch)")
if st["blocked_by"].get("control:EXERCISE") != 4:
    bad.append(f"oracle blocked_by {st['blocked_by']}")
for b in bad:
    print("# " + b)
assert not bad
EOF
done_testing
