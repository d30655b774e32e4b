#!/usr/bin/env bash
# test_release_scale.sh - release correctness at scale: TG_SCALE_MESSAGES
# messages (default 60,000 for CI; the full run is 1,000,000:
#   TG_SCALE_MESSAGES=1000000 meson test -C build release_scale --timeout-multiplier 10
# ) of mixed markings, classes, caveats, dirty words, malformed and fragmented
# traffic on both links, generated reproducibly (fixed seeds), run through the
# real trackgate on net_pcap devices, and every peer's output compared with
# the independent oracle: zero wrongful releases and zero missed releases.
. "$(dirname "$0")/lib.sh"

N=${TG_SCALE_MESSAGES:-60000}
cd "$T_DIR"
# Per link: 60% default mix, 20% hostile (50% malformed), 20% warnings only.
# kor-us (which accepts both encodings) sends about half of everything as
# TAK Protocol v1, hostile v1 included; jpn-us (XML only, demo.yaml) sends
# XML, except its hostile mix, whose v1 datagrams it must count as
# `encoding`.
for link in kor-us jpn-us; do
	s=$([ $link = kor-us ] && echo 100 || echo 200)
	enc=$([ $link = kor-us ] && echo mixed || echo xml)
	henc=$([ $link = kor-us ] && echo mixed || echo takproto-v1)
	"$TG_GEN" --mix default --count $((N * 3 / 10)) --seed $((s + 1)) --link $link \
		--encoding $enc --out d-$link.pcap
	"$TG_GEN" --mix hostile --count $((N / 10)) --seed $((s + 2)) --link $link \
		--encoding $henc --out h-$link.pcap
	"$TG_GEN" --mix warnings-only --count $((N / 10)) --seed $((s + 3)) --link $link \
		--encoding $enc --out w-$link.pcap
	mergecap -a -F pcap -w in-$link.pcap d-$link.pcap h-$link.pcap w-$link.pcap
	rm -f d-$link.pcap h-$link.pcap w-$link.pcap
done

# run_policy TAG POLICY: the pcaps through trackgate and the oracle under
# POLICY, compared release by release and counter by counter.
run_policy() {
local tag=$1 policy=$2
expect_rc 0 "$tag: tgctl load" "$TGCTL" load "$policy" --bpffs "$T_BPFFS" -q --no-wait
SECONDS=0
expect_rc 0 "$tag: trackgate decides $N messages" \
	"$TRACKGATE" $(eal_common) -l 0 \
	--vdev "net_pcap0,rx_pcap=$T_DIR/in-kor-us.pcap" \
	--vdev "net_pcap1,rx_pcap=$T_DIR/in-jpn-us.pcap" \
	$(demo_peer_vdevs "out-$tag") \
	-- --bpffs "$T_BPFFS" --audit-level drops --audit "$T_DIR/audit-$tag.jsonl" \
	--exit-when-idle 2000 > "trackgate-$tag.log" 2>&1
echo "# trackgate: ${SECONDS}s"
grep -E "^trackgate: policy|^  (dropped|peer)" "trackgate-$tag.log" | sed 's/^/# /'

SECONDS=0
$PY "$TG_SRC/tests/oracle/oracle.py" --policy "$policy" \
	--link kor-us=in-kor-us.pcap --link jpn-us=in-jpn-us.pcap --out "expected-$tag" > "oracle-$tag.json"
echo "# oracle: ${SECONDS}s"
check "$tag: zero wrongful and zero missed releases for every peer" \
	$PY "$TG_SRC/tests/oracle/compare.py" --expected "expected-$tag" \
	--actual-pcap kor="out-$tag-kor.pcap" --actual-pcap jpn="out-$tag-jpn.pcap" --actual-pcap usa="out-$tag-usa.pcap" \
	--report "compare-$tag.json"
$PY - "oracle-$tag.json" "compare-$tag.json" <<'EOF' && ok "$tag: the run exercised every kind of decision" || not_ok "$tag: the run exercised every kind of decision"
import json
import sys
st = json.load(open(sys.argv[1]))
cmp = json.load(open(sys.argv[2]))
print("# releases checked: " + ", ".join(f"{p} {v['actual']}" for p, v in cmp["peers"].items()))
need = ["parse", "blocked", "bad_marking"]
r = st["message_reasons"]
missing = [k for k in need if not r.get(k)]
withheld = set()
for p in st["peers"].values():
    withheld |= {k for k, v in p["withheld"].items() if v}
missing += [k for k in ("class", "clearance", "not_releasable", "echo") if k not in withheld]
assert not missing, missing
EOF
# Why, not only what: every peer's withheld reasons, the messages decided
# before the late scan and the blocked ones, as the dataplane counted them
# (its exit report) and as the oracle derives them from release.md §5.
$PY - "oracle-$tag.json" "trackgate-$tag.log" <<'EOF' && ok "$tag: the dataplane's reasons equal the oracle's, per peer and per reason" || not_ok "$tag: the dataplane's reasons equal the oracle's, per peer and per reason"
import json, re, sys
st = json.load(open(sys.argv[1]))
log = open(sys.argv[2]).read()
bad = []
for name, want in st["peers"].items():
    m = re.search(r"^  peer %s +released (\d+) +bytes \d+(.*)$" % re.escape(name), log, re.M)
    if not m:
        bad.append(f"{name}: no exit report line")
        continue
    got = {"released": int(m.group(1))}
    got.update({k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))})
    exp = {"released": want["released"], **want["withheld"]}
    if got != exp:
        bad.append(f"{name}: trackgate {got} oracle {exp}")
m = re.search(r"decided before the late scan (\d+)", log)
if not m or int(m.group(1)) != st["scan_skipped"]:
    bad.append(f"scan_skipped: trackgate {m and m.group(1)} oracle {st['scan_skipped']}")
m = re.search(r"^  dropped blocked +(\d+)", log, re.M)
if int(m.group(1) if m else 0) != st["message_reasons"].get("blocked", 0):
    bad.append(f"blocked: trackgate {m and m.group(1)} oracle {st['message_reasons'].get('blocked')}")
# messages and message-level drops by encoding (release.md §1)
for enc, want in st["encodings"].items():
    m = re.search(r"^  encoding %s +messages (\d+)(.*)$" % re.escape(enc), log, re.M)
    if not m:
        bad.append(f"encoding {enc}: no exit report line")
        continue
    got = {"messages": int(m.group(1)),
           **{k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}}
    exp = {"messages": want["messages"],
           **{k: v for k, v in want["reasons"].items() if k != "accepted"}}
    if got != exp:
        bad.append(f"encoding {enc}: trackgate {got} oracle {exp}")
    print(f"# {enc}: {want['messages']} messages, {want['reasons']}")
print("# decided before the late scan: %d of %d accepted messages" %
      (st["scan_skipped"], st["message_reasons"].get("accepted", 0)))
for b in bad:
    print("# " + b)
assert not bad
EOF
}

run_policy demo "$TG_SRC/policy/demo.yaml"

# The demo's classes all come from type rules, so no late scope can make a
# peer eligible.  This variant has a late class (a callsign rule gives
# missile tracks the class `space`, which usa receives) and a peer that
# receives `other` (jpn), so the decision before the late scan has real
# work: usa needs the late scan whenever its marking admits a message, jpn
# only when no early rule classified it, kor never (release.md §5).
LATE=$T_DIR/demo-late.yaml
$PY - "$TG_SRC/policy/demo.yaml" "$LATE" <<'EOF'
import sys, yaml
p = yaml.safe_load(open(sys.argv[1]))
for peer in p["peers"]:
    if peer["name"] == "jpn":
        peer["receives"] = ["warning", "other"]
p["rules"].append({"id": 400, "name": "missile-track-callsign", "scope": "callsign",
                   "match": "^(TRACK|TN|TRK-|SBIRS-TN) ?[0-9]", "action": {"classify": "space"}})
yaml.safe_dump(p, open(sys.argv[2], "w"), sort_keys=False)
EOF
run_policy late "$LATE"
done_testing
