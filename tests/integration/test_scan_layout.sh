#!/usr/bin/env bash
# test_scan_layout.sh - the one-pass scan (docs/release.md §4) in the real
# dataplane: a policy with prefiltered and always-scanned remarks and detail
# rules, and crafted messages that put each trigger inside its field, outside
# it (elsewhere in the payload, where only the candidate matches), behind an
# entity reference (decoded text the payload scan cannot see), joined across
# a comment or CDATA, next to references that produce bytes no prefiltered
# rule can match (the field scan is then skipped), and split between the
# field and the rest.  Every message's verdict in the audit log
# must be the designed one, and every peer's output must equal the
# independent oracle's, which scans each scope on its own text.
. "$(dirname "$0")/lib.sh"
cd "$T_DIR"

"$TG_GEN" --mix default --count 400 --seed 21 --link kor-us --out background.pcap

$PY - "$TG_SRC/policy/demo.yaml" "$T_DIR" <<'EOF'
import sys, yaml
from scapy.all import Ether, IP, UDP, Raw, rdpcap, wrpcap
src, d = sys.argv[1], sys.argv[2]
pol = yaml.safe_load(open(src))
pol["rules"] += [
    {"id": 900, "name": "gold-falcon", "scope": "remarks", "match": r"GOLD\s+FALCON",
     "action": {"block": "dirty-word"}},
    {"id": 901, "name": "silver-hawk", "scope": "detail", "match": "SILVER HAWK",
     "flags": ["caseless"], "action": {"block": "dirty-word"}},
    {"id": 902, "name": "green-start", "scope": "remarks", "match": "^GREEN",
     "action": {"block": "anchored"}},
    {"id": 903, "name": "iron", "scope": "remarks", "match": "IRON"},
    {"id": 904, "name": "anvil", "scope": "remarks", "match": "ANVIL"},
    {"id": 905, "name": "iron-anvil", "scope": "remarks", "match": "903 & 904",
     "flags": ["combination"], "action": {"block": "combination"}},
]
yaml.safe_dump(pol, open(d + "/policy.yaml", "w"), sort_keys=False)

EV = ('<?xml version="1.0" encoding="UTF-8"?>'
      '<event version="2.0" uid="{uid}" type="a-h-A-W-M-S-S" how="m-r" '
      'time="2024-05-01T12:00:00.000Z" start="2024-05-01T12:00:00.000Z" '
      'stale="2024-05-01T12:00:30.000Z" access="SECRET//REL TO USA, KOR">'
      '<point lat="38.9" lon="127.0" hae="25000.0" ce="500.0" le="800.0"/>'
      '<detail><track course="135.5" speed="1700.0"/><contact callsign="{cs}"/>'
      '<remarks>{rem}</remarks></detail></event>')
# uid suffix, callsign, remarks, expected verdict (None = not dropped)
CASES = [
    ("gold-in-remarks", "T1", "seen GOLD FALCON now", "blocked"),
    ("gold-decoded", "T1", "seen GOLD&#9;FALCON now", "blocked"),
    ("gold-in-callsign", "GOLD FALCON", "nothing here", None),
    ("gold-split", "GOLD", "FALCON later", None),
    ("hawk-in-callsign", "SILVER HAWK", "plain", "blocked"),
    ("hawk-in-remarks", "T1", "silver hawk", "blocked"),
    ("green-start", "T1", "GREEN light", "blocked"),
    ("green-later", "T1", "light GREEN", None),
    ("green-decoded", "T1", "&#71;REEN light", "blocked"),
    ("iron-anvil", "T1", "IRON and ANVIL", "blocked"),
    ("iron-only", "ANVIL", "IRON alone", None),
    ("clean", "T1", "track steady", None),
    # decoded remarks that the payload scan cannot vouch for: a trigger only
    # after joining across removed markup, or through a produced byte that a
    # prefiltered rule can match
    ("gold-comment", "T1", "seen GOLD<!-- x --> FALCON", "blocked"),
    ("gold-cdata", "T1", "seen GOLD <![CDATA[FALCON]]> now", "blocked"),
    ("gold-lf", "T1", "GOLD&#10;FALCON", "blocked"),
    ("iron-letter", "T1", "IR&#79;N and ANVIL", "blocked"),
    # decoded, but only bytes no prefiltered rule can match were produced:
    # the payload scan's candidates decide (the field scan is skipped)
    ("gold-amp", "T1", "GOLD &amp; FALCON", None),
    ("gold-amp-real", "T1", "GOLD FALCON &amp; more", "blocked"),
    ("iron-amp-anvil", "T1", "IRON &lt;&amp;&gt; ANVIL", "blocked"),
    ("amp-clean", "T1", "track &amp; steady", None),
]
tmpl = next(p for p in rdpcap(d + "/background.pcap")
            if IP in p and UDP in p and p[UDP].dport in (6969, 4242) and not p[IP].flags.MF
            and p[IP].frag == 0)
out, exp = [], {}
for k in range(3):  # a few copies, so a verdict is not one lucky packet
    for name, cs, rem, verdict in CASES:
        uid = "SCAN-%s-%d" % (name, k)
        # only the uid differs between copies (and it never holds a trigger)
        payload = EV.format(uid=uid, cs=cs, rem=rem).encode()
        p = (Ether(src=tmpl[Ether].src, dst=tmpl[Ether].dst) /
             IP(src=tmpl[IP].src, dst=tmpl[IP].dst) /
             UDP(sport=tmpl[UDP].sport, dport=tmpl[UDP].dport) / Raw(payload))
        out.append(p)
        exp[uid] = verdict
# the uid attribute is payload bytes outside every field: triggers there
# must fire candidates and still not count
for name, trig, verdict in [("uid-gold", "GOLD FALCON", None), ("uid-hawk", "SILVER HAWK", None),
                            ("uid-iron", "IRON ANVIL", None)]:
    uid = "SCAN-%s %s" % (name, trig)
    payload = EV.format(uid=uid, cs="T1", rem="quiet").encode()
    out.append(Ether(src=tmpl[Ether].src, dst=tmpl[Ether].dst) /
               IP(src=tmpl[IP].src, dst=tmpl[IP].dst) /
               UDP(sport=tmpl[UDP].sport, dport=tmpl[UDP].dport) / Raw(payload))
    exp[uid] = verdict
wrpcap(d + "/crafted.pcap", out)
wrpcap(d + "/in.pcap", out + list(rdpcap(d + "/background.pcap")))
import json
json.dump(exp, open(d + "/expected-verdicts.json", "w"))
EOF

expect_rc 0 "tgctl check the scan policy" logged check.out "$TGCTL" check "$T_DIR/policy.yaml"
check "tgctl splits remarks: 202 900 903-905 prefiltered; 300-302 (301 anchored) and 902 not" \
	grep -q "remarks: 5 of 9 rules prefiltered by the payload scan, 4 scanned on every message" check.out
check "detail fully prefiltered" grep -q "detail: 1 of 1 rules prefiltered" check.out
expect_rc 0 "tgctl load the scan policy" "$TGCTL" load "$T_DIR/policy.yaml" --bpffs "$T_BPFFS" -q --no-wait

expect_rc 0 "trackgate runs the capture and exits 0" logged trackgate.log \
	"$TRACKGATE" $(eal_common) $(lcores_arg) \
	--vdev "net_pcap0,rx_pcap=$T_DIR/in.pcap" $(demo_peer_vdevs out) \
	-- --bpffs "$T_BPFFS" --audit "$T_DIR/audit.jsonl" --exit-when-idle 1500

$PY - "$T_DIR" <<'EOF' && ok "every crafted message got its designed verdict" || not_ok "every crafted message got its designed verdict"
import json, sys
d = sys.argv[1]
exp = json.load(open(d + "/expected-verdicts.json"))
got = {}
for l in open(d + "/audit.jsonl"):
    r = json.loads(l)
    if r.get("uid", "").startswith("SCAN-"):
        got.setdefault(r["uid"], []).append(r.get("reason"))
bad = []
for uid, v in exp.items():
    reasons = got.get(uid)
    if not reasons:
        bad.append("%s: no audit record" % uid)
    elif any(x != v for x in reasons):
        bad.append("%s: %s, designed %s" % (uid, reasons, v))
print("# %d crafted messages, %d blocked by design" % (len(exp), sum(1 for v in exp.values() if v)))
for b in bad:
    print("# " + b)
sys.exit(1 if bad else 0)
EOF

# The prefilter counters: "SILVER HAWK" (any case) is the only detail
# candidate, in 7 crafted messages (3 callsign, 3 remarks, 1 uid), each of
# which reaches the detail scan; every other message skips it.
"$TGCTL" stats --bpffs "$T_BPFFS" --json > stats.json
"$TGCTL" stats --bpffs "$T_BPFFS" > stats.txt
$PY - stats.json <<'EOF' && ok "prefilter counters: detail scanned exactly for its 7 candidates" || not_ok "prefilter counters: detail scanned exactly for its 7 candidates ($(grep -A3 prefilter stats.txt))"
import json, sys
pf = json.load(open(sys.argv[1]))["prefilter"]
det, rem = pf["detail"], pf["remarks"]
print("# prefilter:", pf)
sys.exit(0 if det["scanned"] == 7 and det["skipped"] > 100 and rem["scanned"] > 0
         and rem["skipped"] > 100 else 1)
EOF
check "tgctl stats prints the prefilter table" grep -q "^  detail  *scanned  *7  skipped" stats.txt

$PY "$TG_SRC/tests/oracle/oracle.py" --policy "$T_DIR/policy.yaml" \
	--link kor-us=in.pcap --out expected > oracle.json
check "every peer got exactly the oracle's releases" \
	$PY "$TG_SRC/tests/oracle/compare.py" --expected expected \
	--actual-pcap kor=out-kor.pcap --actual-pcap jpn=out-jpn.pcap --actual-pcap usa=out-usa.pcap \
	--report compare.json
done_testing
