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
for link in kor-us jpn-us; do
	s=$([ $link = kor-us ] && echo 100 || echo 200)
	"$TG_GEN" --mix default --count $((N * 3 / 10)) --seed $((s + 1)) --link $link --out d-$link.pcap
	"$TG_GEN" --mix hostile --count $((N / 10)) --seed $((s + 2)) --link $link --out h-$link.pcap
	"$TG_GEN" --mix warnings-only --count $((N / 10)) --seed $((s + 3)) --link $link --out w-$link.pcap
	mergecap -a -F pcap -w in-$link.pcap d-$link.pcap h-$link.pcap w-$link.pcap
	rm -f d-$link.pcap h-$link.pcap w-$link.pcap
done

expect_rc 0 "tgctl load demo policy" "$TGCTL" load "$TG_SRC/policy/demo.yaml" --bpffs "$T_BPFFS" -q --no-wait
SECONDS=0
expect_rc 0 "trackgate decides $N messages" \
	"$TRACKGATE" $(eal_common) -l 0 \
	--vdev "net_pcap0,rx_pcap=$T_DIR/in-kor-us.pcap" \
	--vdev "net_pcap1,rx_pcap=$T_DIR/in-jpn-us.pcap" \
	$(demo_peer_vdevs out) \
	-- --bpffs "$T_BPFFS" --audit-level drops --audit "$T_DIR/audit.jsonl" \
	--exit-when-idle 2000 > trackgate.log 2>&1
echo "# trackgate: ${SECONDS}s"
grep -E "^trackgate: policy|^  (dropped|peer)" trackgate.log | sed 's/^/# /'

SECONDS=0
$PY "$TG_SRC/tests/oracle/oracle.py" --policy "$TG_SRC/policy/demo.yaml" \
	--link kor-us=in-kor-us.pcap --link jpn-us=in-jpn-us.pcap --out expected > oracle.json
echo "# oracle: ${SECONDS}s"
check "zero wrongful and zero missed releases for every peer" \
	$PY "$TG_SRC/tests/oracle/compare.py" --expected expected \
	--actual-pcap kor=out-kor.pcap --actual-pcap jpn=out-jpn.pcap --actual-pcap usa=out-usa.pcap \
	--report compare.json
$PY - <<'EOF' && ok "the run exercised every kind of decision" || not_ok "the run exercised every kind of decision"
import json
st = json.load(open("oracle.json"))
cmp = json.load(open("compare.json"))
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
$PY - <<'EOF' && ok "the dataplane's reasons equal the oracle's, per peer and per reason" || not_ok "the dataplane's reasons equal the oracle's, per peer and per reason"
import json, re
st = json.load(open("oracle.json"))
log = open("trackgate.log").read()
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
print("# decided before the late scan: %d of %d accepted messages" %
      (st["scan_skipped"], st["message_reasons"].get("accepted", 0)))
for b in bad:
    print("# " + b)
assert not bad
EOF
done_testing
