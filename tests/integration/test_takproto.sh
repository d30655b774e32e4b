#!/usr/bin/env bash
# test_takproto.sh - TAK Protocol Version 1 through the real tgctl and
# trackgate (docs/release.md §1, §2, §6), on the edges the generated traffic
# does not reach, each compared with the independent oracle:
#   - a v1 message on a link that accepts XML only: `encoding`;
#   - TakControl-only messages: `tak_control`, never relayed;
#   - markings with whitespace other than blanks, raw in v1 and as character
#     references in XML: bad, in the dataplane and the oracle alike;
#   - a v1 message whose XML conversion is over 65,507 bytes (fragmented on
#     the way in): the as-received peer gets the v1 bytes, the `encoding: xml`
#     peer nothing (`convert`);
#   - releases to the `encoding: xml` peer are the oracle's conversion,
#     byte for byte, and carry the markings; the audit records and telemetry
#     say the encoding.
. "$(dirname "$0")/lib.sh"

cd "$T_DIR"
# The demo policy, with room for large messages: 65,507-byte datagrams, and
# jpn's MTU 9000 so that one leaves in at most 8 fragments (release.md §6).
$PY - "$TG_SRC/policy/demo.yaml" policy.yaml <<'EOF'
import sys, yaml
p = yaml.safe_load(open(sys.argv[1]))
p["settings"]["max_message_bytes"] = 65507
for peer in p["peers"]:
    if peer["name"] == "jpn":
        peer["mtu"] = 9000
yaml.safe_dump(p, open(sys.argv[2], "w"), sort_keys=False)
EOF
$PY - "$TG_SRC/tests/oracle" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from takproto import f_len, f_varint, f_double
from scapy.all import Ether, IP, UDP, fragment, wrpcap

H = b"\xbf\x01\xbf"
T0 = 1714564800000


def event(uid, *extra, access="SECRET//REL TO USA, JPN"):
    ev = (f_len(1, "a-h-A-W-M-S-S") + (f_len(2, access) if access is not None else b"")
          + f_len(5, uid) + f_varint(6, T0) + f_varint(7, T0) + f_varint(8, T0 + 60000)
          + f_len(9, "m-r") + f_double(10, 38.8976763) + f_double(11, 127.0365181)
          + f_double(13, 50.0))
    return H + f_len(2, ev + b"".join(extra))


def frames(src, payloads):
    out = []
    for pl in payloads:
        p = Ether() / IP(src=src, dst="192.0.2.1", id=len(out) + 1) / UDP(sport=4000, dport=6969) / pl
        # at most 8 fragments a datagram (the reassembly table's bound)
        out += fragment(p, fragsize=8192) if len(pl) > 1400 else [p]
    return out


kor = [event("V1-OK", f_len(15, f_len(1, "<remarks>boost phase</remarks>")
                            + f_len(2, f_len(2, "EAGLE 1"))
                            + f_len(7, f_double(1, 2100.5) + f_double(2, 87.25))),
             f_len(16, "FOUO"), f_len(17, "USA JPN")),
       H + f_len(1, f_varint(1, 1) + f_varint(2, 1) + f_len(3, "ANDROID-1")),
       H + f_len(1, f_varint(1, 1)) + f_len(1, b""),  # two TakControls: dup_elem (parse)
       H + f_len(1, f_varint(1, 1) + f_varint(2, 1)),
       # xmlDetail so large that its conversion does not fit a UDP datagram
       event("V1-HUGE", f_len(15, f_len(1, "<x>" + "&amp;" * 13040 + "</x>")))]
for i, acc in enumerate(["SECRET\n//REL TO USA, JPN", "SECRET//REL TO USA,\u00a0JPN",
                         "SECRET//REL TO USA, JPN\r", "SECRET //REL\tTO USA, JPN"]):
    kor.append(event("V1-WS-%d" % i, access=acc))
    ref = acc.replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    kor.append(('<event version="2.0" uid="XML-WS-%d" type="a-h-A-W-M-S-S" how="m-r" '
                'time="2024-05-01T12:00:00Z" start="2024-05-01T12:00:00Z" '
                'stale="2024-05-01T12:01:00Z" access="%s"><point lat="1" lon="1" hae="0" '
                'ce="0" le="0"/></event>' % (i, ref)).encode())
assert 65000 < len(kor[4]) <= 65507, len(kor[4])
wrpcap("in-kor.pcap", frames("198.51.100.7", kor))
wrpcap("in-jpn.pcap", frames("203.0.113.9", [event("V1-ON-XML-LINK")]))
EOF

expect_rc 0 "tgctl load" "$TGCTL" load policy.yaml --bpffs "$T_BPFFS" -q --no-wait
# Telemetry is read while trackgate waits for its exit: it stays up 6 s idle.
"$TRACKGATE" $(eal_common) -l 0 --telemetry \
	--vdev "net_pcap0,rx_pcap=$T_DIR/in-kor.pcap" --vdev "net_pcap1,rx_pcap=$T_DIR/in-jpn.pcap" \
	$(demo_peer_vdevs out) \
	-- --bpffs "$T_BPFFS" --audit "$T_DIR/audit.jsonl" --exit-when-idle 6000 > trackgate.log 2>&1 &
tg=$!
sock=/var/run/dpdk/$T_PREFIX/dpdk_telemetry.v2
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
sleep 3 # the control thread publishes the counters about once a second
$PY - "$sock" > telemetry.json <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.recv(16384)
s.send(b"/trackgate/stats")
print(s.recv(65536).decode())
EOF
expect_rc 0 "trackgate exits 0" wait $tg

$PY "$TG_SRC/tests/oracle/oracle.py" --policy policy.yaml \
	--link kor-us=in-kor.pcap --link jpn-us=in-jpn.pcap --out expected > oracle.json
check "every peer got exactly the oracle's releases, the XML conversions byte for byte" \
	$PY "$TG_SRC/tests/oracle/compare.py" --expected expected \
	--actual-pcap kor=out-kor.pcap --actual-pcap jpn=out-jpn.pcap --actual-pcap usa=out-usa.pcap \
	--report compare.json

$PY - <<'EOF' && ok "counters, oracle, audit, telemetry and outputs say the same" || not_ok "counters, oracle, audit, telemetry and outputs say the same"
import json, re
from scapy.all import rdpcap
from scapy.layers.inet import UDP
log = open("trackgate.log").read()
st = json.load(open("oracle.json"))
bad = []
def want(cond, what):
    if not cond:
        bad.append(what)
# the oracle's counts, and the edges this test is for
r = st["message_reasons"]
want(r.get("encoding") == 1, f"oracle: one encoding drop, got {r}")
want(r.get("tak_control") == 2, f"oracle: two tak_control, got {r}")
want(r.get("bad_marking") == 6, f"oracle: six bad markings, got {r}")
want(st["peers"]["usa"]["withheld"].get("convert") == 1, f"oracle: usa convert {st['peers']}")
for name, reason in (("encoding", 1), ("tak_control", 2), ("bad_marking", 6)):
    m = re.search(r"^  dropped %s +(\d+)" % name, log, re.M)
    want(m and int(m.group(1)) == reason, f"trackgate dropped {name}: {m and m.group(1)}")
for name, p in st["peers"].items():
    m = re.search(r"^  peer %s +released (\d+) +bytes \d+(.*)$" % name, log, re.M)
    got = m and {"released": int(m.group(1)),
                 **{k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}}
    want(got == {"released": p["released"], **p["withheld"]}, f"{name}: {got} vs {p}")
for enc, e in st["encodings"].items():
    m = re.search(r"^  encoding %s +messages (\d+)" % enc, log, re.M)
    want(m and int(m.group(1)) == e["messages"], f"encoding {enc}: {m and m.group(1)} vs {e}")
want(re.search(r"^  converted to XML 2$", log, re.M), "two conversions (V1-OK, V1-WS-3)")
# usa got the converted warning, markings kept; jpn the v1 bytes, huge one included
usa = [bytes(p[UDP].payload) for p in rdpcap("out-usa.pcap") if UDP in p]
want(len(usa) == 3 and any(b'uid="V1-OK"' in x and b'access="SECRET//REL TO USA, JPN"' in x
                           and b'caveat="FOUO"' in x and b'releasableTo="USA JPN"' in x
                           and b'<contact callsign="EAGLE 1"/>' in x for x in usa),
     f"usa: {[x[:120] for x in usa]}")
n = json.load(open("compare.json"))["peers"]["jpn"]["actual"]
want(n == 4, f"jpn: V1-OK, V1-HUGE, V1-WS-3, XML-WS-3, got {n}")
# the audit records name the encoding
enc, on_jpn = {}, []
for line in open("audit.jsonl"):
    a = json.loads(line)
    enc[a.get("uid")] = (a.get("encoding"), a.get("decision"), a.get("reason"))
    if a.get("link") == "jpn-us":
        on_jpn.append((a.get("encoding"), a.get("reason")))
want(enc.get("V1-OK", (0,))[0] == "takproto-v1" and enc.get("XML-WS-0", (0,))[0] == "xml",
     f"audit: {enc}")
# dropped before it was parsed: no uid, but the link and the encoding
want(on_jpn == [("takproto-v1", "encoding")], f"audit on jpn-us: {on_jpn}")
# telemetry splits messages by encoding
t = json.load(open("telemetry.json"))["/trackgate/stats"]
want(t.get("messages_takproto_v1") == st["encodings"]["takproto-v1"]["messages"] and
     t.get("messages_xml") == st["encodings"]["xml"]["messages"] and t.get("converted") == 2,
     f"telemetry: { {k: v for k, v in t.items() if 'xml' in k or 'tak' in k or k == 'converted'} }")
for b in bad:
    print("# " + b)
assert not bad
EOF
done_testing
