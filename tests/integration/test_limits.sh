#!/usr/bin/env bash
# test_limits.sh - the operator's size limits (docs/policy.md `settings`:
# max_field_bytes, max_remarks_bytes; release.md §2 "Bounds") through the
# real tgctl and trackgate, in XML and TAK Protocol v1, each side of each
# bound, under the demo's defaults and under raised limits, against the
# oracle; the parse drops say which limit (field_limit, remarks_limit).
. "$(dirname "$0")/lib.sh"

cd "$T_DIR"
$PY - "$TG_SRC/policy/demo.yaml" <<'EOF'
import sys, yaml
p = yaml.safe_load(open(sys.argv[1]))
p["settings"]["max_message_bytes"] = 65507
for peer in p["peers"]:  # a 16 KiB warning leaves in at most 8 fragments
    peer["mtu"] = 9000
yaml.safe_dump(p, open("default.yaml", "w"), sort_keys=False)
p["settings"]["max_field_bytes"] = 1024
p["settings"]["max_remarks_bytes"] = 16384
yaml.safe_dump(p, open("raised.yaml", "w"), sort_keys=False)
EOF
$PY - "$TG_SRC/tests/oracle" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from takproto import f_len, f_varint, f_double
from scapy.all import Ether, IP, UDP, fragment, wrpcap

T = ('time="2024-05-01T12:00:00Z" start="2024-05-01T12:00:00Z" '
     'stale="2024-05-01T12:01:00Z"')
ACC = "SECRET//REL TO USA, JPN"


def xml(uid, callsign="C", remarks="r"):
    return (f'<event version="2.0" uid="{uid}" type="a-h-A-W-M-S-S" how="m-r" {T} '
            f'access="{ACC}"><point lat="1" lon="1" hae="0" ce="0" le="0"/><detail>'
            f'<contact callsign="{callsign}"/><remarks>{remarks}</remarks></detail>'
            f'</event>').encode()


def v1(uid, callsign="C", remarks="r"):
    ev = (f_len(1, "a-h-A-W-M-S-S") + f_len(2, ACC) + f_len(5, uid)
          + f_varint(6, 1714564800000) + f_varint(7, 1714564800000)
          + f_varint(8, 1714564860000) + f_len(9, "m-r") + f_double(10, 1.0)
          + f_double(11, 1.0)
          + f_len(15, f_len(1, f"<remarks>{remarks}</remarks>")
                  + f_len(2, f_len(2, callsign))))
    return b"\xbf\x01\xbf" + f_len(2, ev)


msgs, keys = [], []
for enc in (xml, v1):
    t = enc.__name__
    for n in (256, 257, 1024, 1025):
        msgs.append(enc(f"{t}-uid-{n}-" + "u" * (n - len(f"{t}-uid-{n}-"))))
        keys.append(f"{t}-uid-{n}")
        msgs.append(enc(f"{t}-cs-{n}", callsign="c" * n))
        keys.append(f"{t}-cs-{n}")
    for n in (4096, 4097, 16384, 16385):
        msgs.append(enc(f"{t}-rm-{n}", remarks="r" * n))
        keys.append(f"{t}-rm-{n}")
open("keys.txt", "w").write("\n".join(keys) + "\n")
out = []
for i, pl in enumerate(msgs):
    p = Ether() / IP(src="198.51.100.7", dst="192.0.2.1", id=i + 1) / UDP(sport=4000, dport=6969) / pl
    out += fragment(p, fragsize=8192) if len(pl) > 1400 else [p]
wrpcap("in.pcap", out)
EOF

# run TAG POLICY: the pcap through trackgate and the oracle
run() {
	local tag=$1 policy=$2
	expect_rc 0 "$tag: tgctl load" "$TGCTL" load "$policy" --bpffs "$T_BPFFS" -q --no-wait
	expect_rc 0 "$tag: trackgate runs the capture" logged "tg-$tag.log" \
		"$TRACKGATE" $(eal_common) -l 0 --vdev "net_pcap0,rx_pcap=$T_DIR/in.pcap" \
		--vdev "net_pcap1,rx_pcap=$T_DIR/in.pcap" $(demo_peer_vdevs "$tag") \
		-- --bpffs "$T_BPFFS" --audit "$T_DIR/audit-$tag.jsonl" --exit-when-idle 1500
	$PY "$TG_SRC/tests/oracle/oracle.py" --policy "$policy" --link kor-us=in.pcap --link jpn-us=in.pcap \
		--out "expected-$tag" > "oracle-$tag.json"
	check "$tag: every peer got exactly the oracle's releases" \
		$PY "$TG_SRC/tests/oracle/compare.py" --expected "expected-$tag" \
		--actual-pcap kor="$tag-kor.pcap" --actual-pcap jpn="$tag-jpn.pcap" \
		--actual-pcap usa="$tag-usa.pcap" --report "compare-$tag.json"
}
run default default.yaml
run raised raised.yaml

$PY - <<'EOF' && ok "each limit drops exactly what is over it, and says which" || not_ok "each limit drops exactly what is over it, and says which"
import json, re
bad = []
want = {  # uid -> (decision under the defaults, under the raised limits)
}
for t in ("xml", "v1"):
    for n, d, r in ((256, None, None), (257, "field_limit", None), (1024, "field_limit", None),
                    (1025, "field_limit", "field_limit")):
        want[f"{t}-uid-{n}"] = (d, r)
        want[f"{t}-cs-{n}"] = (d, r)
    for n, d, r in ((4096, None, None), (4097, "remarks_limit", None),
                    (16384, "remarks_limit", None), (16385, "remarks_limit", "remarks_limit")):
        want[f"{t}-rm-{n}"] = (d, r)
keys = open("keys.txt").read().split()
for i, tag in enumerate(("default", "raised")):
    # kor-us's records in message order (a uid over its limit is not in
    # its record: it was never read whole)
    recs = [json.loads(line) for line in open(f"audit-{tag}.jsonl")]
    recs = [a for a in recs if a.get("link") == "kor-us"]
    if len(recs) != len(keys):
        bad.append(f"{tag}: {len(recs)} kor-us records for {len(keys)} messages")
    got = {}
    for k, a in zip(keys, recs):
        got[k] = a.get("parse_err") if a.get("reason") == "parse" else (
            None if a["decision"] == "released" else a.get("reason"))
    for k, w in want.items():
        if got.get(k, "missing") != w[i]:
            bad.append(f"{tag}: {k}: {got.get(k, 'missing')}, want {w[i]}")
    log = open(f"tg-{tag}.log").read()
    for code in ("field_limit", "remarks_limit"):
        n = sum(1 for w in want.values() if w[i] == code)
        m = re.search(r"^    parse_err %s +(\d+)" % code, log, re.M)
        # the capture ran on both links: jpn-us is XML only, so its v1
        # messages are `encoding`, its XML ones decided as on kor-us
        xml_n = sum(1 for k, w in want.items() if w[i] == code and k.startswith("xml"))
        if not m or int(m.group(1)) != n + xml_n:
            bad.append(f"{tag}: parse_err {code} {m and m.group(1)}, want {n + xml_n}")
    st = json.load(open(f"oracle-{tag}.json"))
    if st["message_reasons"].get("parse", 0) != sum(1 for w in want.values() if w[i]) + sum(
            1 for k, w in want.items() if w[i] and k.startswith("xml")):
        bad.append(f"{tag}: oracle parse {st['message_reasons']}")
for b in bad:
    print("# " + b)
assert not bad
EOF
done_testing
