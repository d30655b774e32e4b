#!/usr/bin/env bash
# test_udp_checksum.sh - trackgate verifies the UDP checksum of every
# datagram it would release (docs/release.md §1) and does not pass on a
# damaged payload under a fresh checksum of its own.  Crafted datagrams on
# the demo policy: good, damaged by one bit (an access level "S" read as
# "U": UNCLASSIFIED, which the second check would agree with), zero over
# IPv4 (no checksum: accepted) and over IPv6 (not allowed), whole and
# fragmented, IPv4 and IPv6.  Every damaged one is counted as bad_checksum
# and reaches no peer; every other one gets the oracle's verdict.
. "$(dirname "$0")/lib.sh"
cd "$T_DIR"

"$TG_GEN" --mix default --count 50 --seed 31 --link kor-us --out background.pcap

$PY - "$T_DIR" <<'PYEOF'
import json, sys
from scapy.all import (Ether, IP, IPv6, IPv6ExtHdrFragment, UDP, Raw, fragment, fragment6,
                       rdpcap, wrpcap)
d = sys.argv[1]
tmpl = next(p for p in rdpcap(d + "/background.pcap")
            if IP in p and UDP in p and not p[IP].flags.MF and p[IP].frag == 0)
EV = ('<event version="2.0" uid="{uid}" type="a-h-A-W-M-S-S" how="m-r" '
      'time="2024-05-01T12:00:00.000Z" start="2024-05-01T12:00:00.000Z" '
      'stale="2024-05-01T12:00:30.000Z" access="S//REL TO USA, KOR, JPN">'
      '<point lat="38.9" lon="127.0" hae="25000.0" ce="500.0" le="800.0"/>'
      '<detail><track course="135.5" speed="1700.0"/><remarks>{pad}</remarks></detail></event>')
eth = Ether(src=tmpl[Ether].src, dst=tmpl[Ether].dst)
sport, dport = tmpl[UDP].sport, tmpl[UDP].dport
v4 = dict(src=tmpl[IP].src, dst=tmpl[IP].dst)
v6 = dict(src="fd00:10::1", dst="fd00:20::1")

def dgram(uid, v, big=False):
    payload = EV.format(uid=uid, pad="x" * (2400 if big else 10)).encode()
    ip = IP(**v4, id=len(uid) * 7 + 1) if v == 4 else IPv6(**v6)
    return ip / UDP(sport=sport, dport=dport) / Raw(payload)

def damage(pkt):
    """Flip the bit that turns access="S//..." into "U//..." after the
    checksum was computed (the checksum field keeps its value)."""
    pkt = pkt.__class__(bytes(pkt))  # freeze the computed checksum
    raw = bytes(pkt[Raw].load)
    i = raw.index(b'access="S') + len(b'access="')
    pkt[Raw].load = raw[:i] + bytes([raw[i] ^ 0x06]) + raw[i + 1:]
    return pkt

out, bad = [], []
def add(uid, pkts, is_bad):
    out.extend(eth / p for p in pkts)
    if is_bad:
        bad.append(uid)

for v in (4, 6):
    g = dgram("CK-good-v%d" % v, v)
    add("CK-good-v%d" % v, [g], False)
    add("CK-flip-v%d" % v, [damage(dgram("CK-flip-v%d" % v, v))], True)
    z = dgram("CK-zero-v%d" % v, v)
    z[UDP].chksum = 0
    add("CK-zero-v%d" % v, [z], v == 6)
    # fragmented: the damage sits in the second fragment
    for name, dmg in (("CK-frag-good-v%d" % v, False), ("CK-frag-flip-v%d" % v, True)):
        p = dgram(name, v, big=True)
        if dmg:
            p = p.__class__(bytes(p))
            raw = bytes(p[Raw].load)
            p[Raw].load = raw[:2000] + bytes([raw[2000] ^ 0x01]) + raw[2001:]
        else:
            p = p.__class__(bytes(p))
        if v == 4:
            frags = fragment(p, fragsize=1400)
        else:
            p = IPv6(bytes(p)[:40]) / IPv6ExtHdrFragment(id=0x1234 + dmg) / p[UDP]
            p[IPv6].nh = 44
            frags = fragment6(p, 1400)
        add(name, frags, dmg)
wrpcap(d + "/in.pcap", out + list(rdpcap(d + "/background.pcap")))
json.dump(bad, open(d + "/bad.json", "w"))
PYEOF

expect_rc 0 "tgctl load demo policy" "$TGCTL" load "$TG_SRC/policy/demo.yaml" --bpffs "$T_BPFFS" -q --no-wait
expect_rc 0 "trackgate runs the capture and exits 0" logged trackgate.log \
	"$TRACKGATE" $(eal_common) $(lcores_arg) \
	--vdev "net_pcap0,rx_pcap=$T_DIR/in.pcap" $(demo_peer_vdevs out) \
	-- --bpffs "$T_BPFFS" --audit "$T_DIR/audit.jsonl" --exit-when-idle 1500

"$TGCTL" stats --bpffs "$T_BPFFS" --json > stats.json
$PY - "$T_DIR" <<'PYEOF' && ok "every damaged datagram is counted as bad_checksum and audited nowhere" || not_ok "every damaged datagram is counted as bad_checksum and audited nowhere"
import json, sys
d = sys.argv[1]
bad = json.load(open(d + "/bad.json"))
st = json.load(open(d + "/stats.json"))
n = st["dropped"].get("bad_checksum", 0)
uids = {json.loads(l).get("uid") for l in open(d + "/audit.jsonl")}
seen = [u for u in bad if u in uids]
print("# bad_checksum %d, damaged datagrams %d, of them in the audit log: %s" % (n, len(bad), seen))
sys.exit(0 if n == len(bad) and not seen else 1)
PYEOF
$PY - "$T_DIR" <<'PYEOF' && ok "the good, zero-v4 and fragmented good datagrams were released" || not_ok "the good, zero-v4 and fragmented good datagrams were released"
import json, sys
d = sys.argv[1]
rel = {json.loads(l)["uid"] for l in open(d + "/audit.jsonl")
       if json.loads(l).get("decision") == "released"}
want = {"CK-good-v4", "CK-good-v6", "CK-zero-v4", "CK-frag-good-v4", "CK-frag-good-v6"}
print("# released of the crafted:", sorted(u for u in rel if u.startswith("CK-")))
sys.exit(0 if want <= rel and not any(u.startswith("CK-") and u not in want for u in rel) else 1)
PYEOF

$PY "$TG_SRC/tests/oracle/oracle.py" --policy "$TG_SRC/policy/demo.yaml" \
	--link kor-us=in.pcap --out expected > oracle.json
check "the oracle counts the same bad_checksum drops" \
	$PY -c "import json,sys; a=json.load(open('oracle.json'))['message_reasons'].get('bad_checksum',0); b=len(json.load(open('bad.json'))); sys.exit(a!=b)"
check "every peer got exactly the oracle's releases" \
	$PY "$TG_SRC/tests/oracle/compare.py" --expected expected \
	--actual-pcap kor=out-kor.pcap --actual-pcap jpn=out-jpn.pcap --actual-pcap usa=out-usa.pcap \
	--report compare.json
done_testing
