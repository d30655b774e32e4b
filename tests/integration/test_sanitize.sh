#!/usr/bin/env bash
# test_sanitize.sh - per-peer sanitized copies (docs/release.md §6, §7;
# docs/policy.md `sanitize`) through the real tgctl and trackgate, under the
# demo policy (kor and jpn drop __sensor, takv and _flow-tags_; jpn also
# gets warnings coarsened to 3 decimals):
#   - the demo traffic (kor-us half TAK v1, jpn-us XML) and crafted hostile
#     details (CDATA holding <__sensor>, escaped names, names in comments
#     and attribute values, 15 levels of nesting, a detail of nothing but
#     dropped elements, typed v1 takv, xmlDetail holding __sensor);
#   - every peer's output equals the independent oracle's byte for byte
#     (tests/oracle/sanitize.py writes the copies with its own code);
#   - no dropped name survives as a tag in anything kor or jpn received;
#   - every copy was confirmed by the second check (no sanitize_check);
#   - the audit record of each release names the copy's steps, and its
#     SHA-256 is that of the payload the peer received;
#   - usa (no sanitize) still gets the original bytes;
#   - under a policy whose set_attribute widens the marking, every copy is
#     withheld as sanitize_check (the second check is not a formality).
. "$(dirname "$0")/lib.sh"

cd "$T_DIR"
N=${TG_TEST_COUNT:-3000}
DEMO=$TG_SRC/policy/demo.yaml
"$TG_GEN" --mix default --count "$N" --seed 11 --link kor-us --encoding mixed --out kor.pcap >/dev/null
"$TG_GEN" --mix default --count "$N" --seed 12 --link jpn-us --out jpn.pcap >/dev/null

# Crafted details, on kor-us: XML and v1, all warnings releasable to jpn and usa.
$PY - "$TG_SRC/tests/integration" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from events import xml as event_xml, v1 as event_v1, frames, f_len
from scapy.all import wrpcap, rdpcap

A = "SECRET//REL TO USA, KOR, JPN"


def xml(uid, detail, lat="37.876543", lon="124.694449"):
    return event_xml(uid, A, detail=detail, lat=lat, lon=lon, ce="12.5")


def v1(uid, xml_detail, typed=b""):
    return event_v1(uid, A, xml_detail=xml_detail, typed=typed, lat=-0.0004, lon=26.15,
                    hae=0.0, ce=12.5, le=0.0)


deep = "".join(f"<l{i}>" for i in range(14)) + "<__sensor/>" + \
    "".join(f"</l{i}>" for i in reversed(range(14)))
cases = [
    ("cdata", xml("x-cdata", "<remarks><![CDATA[<__sensor id='1'/>]]></remarks>")),
    ("escaped", xml("x-escaped", "<remarks>&lt;__sensor&gt; &amp;lt;takv&amp;gt;</remarks>")),
    ("comment", xml("x-comment", "<!-- <__sensor/> --><contact callsign='A'/>")),
    ("attr-value", xml("x-attr", "<note text='&lt;__sensor/&gt;' who='__sensor'/>")),
    ("deep", xml("x-deep", deep)),
    ("nothing-left", xml("x-nothing", "<__sensor><x/></__sensor><takv os='x'/>"
                         "<_flow-tags_ a='1'/>")),
    ("named-like", xml("x-like", "<__sensors/><takvx/><sensor/>")),
    ("halves", xml("x-halves", "<a/>", lat="-0.0004", lon="26.15")),
    ("v1-xmldetail", v1("v-xml", "<__sensor type='SBIRS'/><a b='1'/>")),
    ("v1-typed-takv", v1("v-typed", "<a/>", f_len(6, f_len(1, "DELL") + f_len(3, "Win"))
                         + f_len(2, f_len(2, "TN 9")))),
]
pk = frames([pl for _, pl in cases])
wrpcap("crafted.pcap", pk)
# the crafted messages after the generated ones, on the same link
wrpcap("kor-all.pcap", list(rdpcap("kor.pcap")) + pk)
EOF

expect_rc 0 "tgctl check lists each peer's steps" logged check.log "$TGCTL" check "$DEMO"
check "... kor: every release" grep -q "peer kor sanitizes every release: drop_elements __sensor,takv,_flow-tags_" check.log
check "... jpn: warnings coarsened" grep -q "peer jpn sanitizes releases of class warning: coarsen_point 3 decimals, ce at least 150 m" check.log
expect_rc 0 "tgctl load" "$TGCTL" load "$DEMO" --bpffs "$T_BPFFS" -q --no-wait
expect_rc 0 "trackgate runs the demo traffic and the crafted details" logged trackgate.log \
	"$TRACKGATE" $(eal_common) -l 0 --vdev "net_pcap0,rx_pcap=$T_DIR/kor-all.pcap" \
	--vdev "net_pcap1,rx_pcap=$T_DIR/jpn.pcap" $(demo_peer_vdevs out) \
	-- --bpffs "$T_BPFFS" --audit "$T_DIR/audit.jsonl" --exit-when-idle 1500
$PY "$TG_SRC/tests/oracle/oracle.py" --policy "$DEMO" --link kor-us=kor-all.pcap \
	--link jpn-us=jpn.pcap --out expected > oracle.json
check "every peer got exactly the oracle's bytes (sanitized copies included)" \
	$PY "$TG_SRC/tests/oracle/compare.py" --expected expected --explain-sanitized \
	--actual-pcap kor=out-kor.pcap --actual-pcap jpn=out-jpn.pcap --actual-pcap usa=out-usa.pcap \
	--report compare.json

# payloads(PEER): every UDP payload the peer received, fragments reassembled
cat > payloads.py <<EOF
import sys
sys.path.insert(0, "$TG_SRC/tests/oracle")
import tgpcap


def payloads(peer):
    return [v[4]
            for kind, v in tgpcap.datagrams(f"out-{peer}.pcap") if kind == "udp"]
EOF
$PY - <<'EOF' && ok "no dropped name survives; every copy confirmed, audited with its steps and digest" || not_ok "no dropped name survives; every copy confirmed, audited with its steps and digest"
import hashlib, json, re
from payloads import payloads
bad = []
tag = re.compile(rb"<(__sensor|takv|_flow-tags_)[ \t\r\n/>]")
digests = {}
for peer in ("kor", "jpn", "usa"):
    got = payloads(peer)
    digests[peer] = {hashlib.sha256(pl).hexdigest() for pl in got}
    if peer != "usa":
        for pl in got:
            if tag.search(pl):
                bad.append(f"{peer}: a dropped name in {pl[:200]!r}")
        if not got:
            bad.append(f"{peer}: received nothing")
log = open("trackgate.log").read()
if "sanitize_check" in log or "sanitize=" in log:
    bad.append("a copy was withheld (sanitize / sanitize_check in the counters)")
# the per-peer counter of copies sent equals the oracle's count
oracle = json.load(open("oracle.json"))
for peer in ("kor", "jpn"):
    m = re.search(r"^  peer %s +released \d+ +bytes \d+ +sanitized (\d+)" % peer, log, re.M)
    want = oracle["peers"][peer].get("sanitized")
    if not m or int(m.group(1)) != want:
        bad.append(f"{peer}: trackgate sanitized {m and m.group(1)}, oracle {want}")
n_copies = {"kor": 0, "jpn": 0}
usa_sensor = 0
for line in open("audit.jsonl"):
    r = json.loads(line)
    for c in r.get("sanitized", []):
        if "sha256" not in c:
            bad.append(f"{r['uid']}: copy not sent: {c}")
            continue
        for peer in c["peers"]:
            n_copies[peer] += 1
            if c["sha256"] not in digests[peer]:
                bad.append(f"{r['uid']}: {peer}'s copy digest {c['sha256'][:16]} not received")
            if not any("drop_elements __sensor,takv,_flow-tags_" in s for s in c["steps"]):
                bad.append(f"{r['uid']}: steps {c['steps']}")
    if "jpn" in r.get("released_to", []) and not any(
            "jpn" in c["peers"] for c in r.get("sanitized", [])):
        bad.append(f"{r['uid']}: released to jpn without a copy")
for peer, n in n_copies.items():
    if n < 50:
        bad.append(f"{peer}: only {n} copies audited")
# usa has no sanitize: its payloads are the originals, __sensor included
usa = payloads("usa")
if not any(b"<__sensor" in pl for pl in usa):
    bad.append("usa received no __sensor at all: is it sanitized?")
for b in bad[:20]:
    print("# " + b)
print(f"# copies audited: {n_copies}")
assert not bad
EOF

# The crafted cases, one by one, in jpn's copies (XML, and v1 as received).
$PY - <<'EOF' && ok "crafted details: CDATA and escaped names stay text, nesting and emptiness handled, -0" || not_ok "crafted details: CDATA and escaped names stay text, nesting and emptiness handled, -0"
import re
from payloads import payloads
got = {}
for pl in payloads("jpn"):
    m = re.search(rb'uid="([^"]+)"', pl) or re.search(rb"\x2a.(v-[a-z]+)", pl)
    if m and (m.group(1).startswith(b"x-") or m.group(1).startswith(b"v-")):
        got[m.group(1).decode()] = pl
want = {
    "x-cdata": b"<detail><remarks>&lt;__sensor id='1'/&gt;</remarks></detail>",
    "x-escaped": b"<detail><remarks>&lt;__sensor&gt; &amp;lt;takv&amp;gt;</remarks></detail>",
    "x-comment": b'<detail><contact callsign="A"/></detail>',
    "x-attr": b'<detail><note text="&lt;__sensor/&gt;" who="__sensor"/></detail>',
    "x-nothing": b"<detail></detail>",
    "x-like": b"<detail><__sensors/><takvx/><sensor/></detail>",
    "x-halves": b'<point lat="-0" lon="26.15" hae="0" ce="150" le="0"/>',
}
bad = []
for uid, frag in want.items():
    if uid not in got:
        bad.append(f"{uid}: not received")
    elif frag not in got[uid]:
        bad.append(f"{uid}: {frag!r} not in {got[uid]!r}")
if "x-deep" in got and (b"__sensor" in got["x-deep"] or b"<l13/>" not in got["x-deep"]):
    bad.append(f"x-deep: {got['x-deep']!r}")
for uid in ("v-xml", "v-typed"):
    pl = got.get(uid)
    if pl is None:
        bad.append(f"{uid}: not received")
    elif not pl.startswith(b"\xbf\x01\xbf") or b"__sensor" in pl or b"DELL" in pl:
        bad.append(f"{uid}: {pl!r}")
for b in bad:
    print("# " + b)
assert not bad
EOF

# A set_attribute that widens what the original allows: the writer writes
# it, the second check refuses every such copy (tgctl cannot know the
# message's marking, so this is the dataplane's to catch).
$PY - "$DEMO" <<'EOF'
import sys, yaml
p = yaml.safe_load(open(sys.argv[1]))
for peer in p["peers"]:
    if peer["name"] == "jpn":
        peer["sanitize"] = {"set_attribute": {"access": "SECRET//REL TO USA, KOR, JPN"},
                            "drop_elements": ["__sensor"]}
yaml.safe_dump(p, open("widen.yaml", "w"), sort_keys=False)
EOF
$PY - <<'EOF'
from scapy.all import Ether, IP, UDP, wrpcap
T = ('time="2024-05-01T12:00:00Z" start="2024-05-01T12:00:00Z" stale="2024-05-01T12:01:00Z"')
pl = (f'<event version="2.0" uid="narrow" type="a-h-A-W-M-S-S" how="m-r" {T} '
      f'access="SECRET//REL TO USA, JPN"><point lat="1" lon="1" hae="0" ce="0" le="0"/>'
      f'<detail><__sensor/></detail></event>').encode()
wrpcap("narrow.pcap", [Ether() / IP(src="198.51.100.7", dst="192.0.2.1") / UDP(sport=4000, dport=6969) / pl])
EOF
expect_rc 0 "tgctl load (set_attribute access wider than some messages)" \
	"$TGCTL" load widen.yaml --bpffs "$T_BPFFS" -q --no-wait
expect_rc 0 "trackgate runs a message marked narrower" logged widen.log \
	"$TRACKGATE" $(eal_common) -l 0 --vdev "net_pcap0,rx_pcap=$T_DIR/narrow.pcap" \
	--vdev "net_pcap1,rx_pcap=$T_DIR/narrow.pcap" $(demo_peer_vdevs w) \
	-- --bpffs "$T_BPFFS" --audit "$T_DIR/widen.jsonl" --exit-when-idle 1500
check "... jpn's copy withheld as sanitize_check (its marking would admit kor)" \
	grep -Eq "peer jpn .*sanitize_check=1" widen.log
check "... audited with the failed property" grep -q '"check":"marking"' widen.jsonl
check "... usa still released" grep -Eq "peer usa +released 2 " widen.log
done_testing
