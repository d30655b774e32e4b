#!/usr/bin/env bash
# test_audit_records.sh - audit records and parse counters operators can use
# (issue 11, items 8 and 9), on the real tgctl and trackgate (net_pcap, the
# demo policy).
#
# Input: every tests/data/cot/*.xml as one datagram on kor-us
# (bad-<err>-*.xml must fail with <err>, as in unit/cot_parse), then crafted
# events: a parse error after uid and type, one before uid right after a
# valid event (the record must not show the previous uid), each marking
# source alone and all three together, no marking, a long multi-byte uid and
# a long access (cut at a character boundary, marked truncated), bytes that
# are not UTF-8; then the hostile tg-gen mix.
#
# Checks: each crafted datagram's record has its designed parse_err (name),
# an err_off inside the payload, the uid/type the parser got to, the three
# marking sources separately; every line is valid JSON; `tgctl stats --json`
# parse_err adds up to dropped.parse and equals the audit log's count per
# name; `tgctl stats` prints them under the parse line; /trackgate/stats
# (dpdk-telemetry.py) has parse_err adding up to its dropped.parse.
. "$(dirname "$0")/lib.sh"

cd "$T_DIR"
# tgctl load before trackgate runs: publish only (when tgctl waits for an
# acknowledgement by default).
NO_WAIT=$("$TGCTL" --help 2>&1 | grep -q -- --no-wait && echo --no-wait || true)

$PY - "$TG_SRC/tests/data/cot" crafted.pcap crafted.json <<'EOF'
import json, os, re, sys
from scapy.all import Ether, IP, UDP, wrpcap
src, out, meta = sys.argv[1:]
T = 'time="2024-05-01T12:00:00Z" start="2024-05-01T12:00:00Z" stale="2024-05-01T12:01:00Z"'
PT = '<point lat="37.5" lon="127.0" hae="0" ce="10" le="10"/>'
def ev(uid, attrs="", body=PT, typ="a-h-A-W-M-S-S"):
    u = f' uid="{uid}"' if uid is not None else ""
    return f'<event version="2.0"{u} type="{typ}" how="m-g" {T}{attrs}>{body}</event>'.encode()
items = []  # (name, payload, expectations)
for f in sorted(os.listdir(src)):
    if not f.endswith(".xml"):
        continue
    m = re.match(r"bad-([a-z0-9_]+)", f)
    items.append((f, open(os.path.join(src, f), "rb").read(),
                  {"parse_err": m.group(1) if m else None}))
items += [
    ("ok-prev", ev("PREV-OK"), {"parse_err": None, "uid": "PREV-OK"}),
    # the error comes before uid: the record must not show PREV-OK
    ("err-before-uid", b'<event version="2.0" version="2.0" uid="LATE-UID" type="a-h-A-W-M-S-S" how="m-g" '
     + T.encode() + b'>' + PT.encode() + b'</event>',
     {"parse_err": "dup_attr", "uid": "", "type": ""}),
    ("err-after-uid", ev("ERR-AFTER-UID", body='<point lat="abc" lon="127.0" hae="0" ce="10" le="10"/>'),
     {"parse_err": "bad_number", "uid": "ERR-AFTER-UID", "type": "a-h-A-W-M-S-S"}),
    ("mark-access", ev("MARK-ACCESS", ' access="SECRET//REL TO USA, KOR"'),
     {"parse_err": None, "uid": "MARK-ACCESS", "access": "SECRET//REL TO USA, KOR",
      "caveat": None, "releasable_to": None}),
    ("mark-caveat", ev("MARK-CAVEAT", ' caveat="NOFORN"'),
     {"parse_err": None, "uid": "MARK-CAVEAT", "access": None, "caveat": "NOFORN",
      "releasable_to": None}),
    ("mark-rel", ev("MARK-REL", ' releasableTo="USA KOR"'),
     {"parse_err": None, "uid": "MARK-REL", "access": None, "caveat": None,
      "releasable_to": "USA KOR"}),
    ("mark-all", ev("MARK-ALL", ' access="SECRET" caveat="REL TO USA, KOR" releasableTo="USA KOR"'),
     {"parse_err": None, "uid": "MARK-ALL", "access": "SECRET", "caveat": "REL TO USA, KOR",
      "releasable_to": "USA KOR"}),
    ("mark-none", ev("MARK-NONE"),
     {"parse_err": None, "uid": "MARK-NONE", "access": None, "caveat": None,
      "releasable_to": None}),
    # 150 bytes of Hangul (3 bytes each): kept up to 128 bytes, cut before a character
    ("long-uid", ev("\uac00" * 50), {"parse_err": None, "uid": "\uac00" * 42,
                                       "truncated": {"uid": 150}}),
    ("long-access", ev("LONG-ACCESS", ' access="SECRET//REL TO USA, KOR' + ", KOR" * 40 + '"'),
     {"parse_err": None, "uid": "LONG-ACCESS",
      "truncated": {"access": len("SECRET//REL TO USA, KOR" + ", KOR" * 40)}}),
    # not UTF-8 on the wire: whatever the parser makes of it, the line is JSON
    ("not-utf8-uid", ev("BAD\xff\xfeUTF8").replace("BAD\xff\xfeUTF8".encode(), b"BAD\xff\xfeUTF8"), {}),
    ("not-utf8-access", ev("NOT-UTF8-ACCESS", ' access="SECRET\xc3"').replace(b"\xc3\x83", b"\xc3"), {}),
]
pk = []
for i, (name, payload, exp) in enumerate(items):
    pk.append(Ether(src="02:00:00:00:82:10", dst="02:00:00:00:01:00") /
              IP(src="198.51.100.10", dst="192.0.2.1") / UDP(sport=40000 + i, dport=6969) / payload)
    exp["name"] = name
    exp["len"] = len(payload)
wrpcap(out, pk)
json.dump([e for _, _, e in items], open(meta, "w"))
EOF
"$TG_GEN" --mix hostile --count 400 --seed 51 --link kor-us --out hostile.pcap >/dev/null
$PY -c "
from scapy.utils import rdpcap, wrpcap
wrpcap('in.pcap', list(rdpcap('crafted.pcap')) + list(rdpcap('hostile.pcap')))"

expect_rc 0 "tgctl load demo policy" "$TGCTL" load "$TG_SRC/policy/demo.yaml" --bpffs "$T_BPFFS" -q $NO_WAIT

# One worker on one port: records come in the order of the capture.
expect_rc 0 "trackgate runs the crafted and hostile capture and exits 0" logged trackgate.log \
	"$TRACKGATE" $(eal_common) -l 0 \
	--vdev "net_pcap0,rx_pcap=$T_DIR/in.pcap" $(demo_peer_vdevs out) \
	-- --bpffs "$T_BPFFS" --audit "$T_DIR/audit.jsonl" --exit-when-idle 1000
"$TGCTL" stats --bpffs "$T_BPFFS" --json > stats.json
"$TGCTL" stats --bpffs "$T_BPFFS" > stats.txt

$PY - crafted.json audit.jsonl <<'EOF' && ok "each crafted datagram's record: parse_err, err_off, uid/type as far as parsed, three marking sources, truncation" || not_ok "each crafted datagram's record: parse_err, err_off, uid/type as far as parsed, three marking sources, truncation"
import json, sys
exp = json.load(open(sys.argv[1]))
recs = [json.loads(l) for l in open(sys.argv[2])]
bad = []
for i, e in enumerate(exp):
    r = recs[i]
    name = e["name"]
    want = e.get("parse_err", "?")
    if want is None:
        if r.get("reason") == "parse":
            bad.append(f"{name}: parse_err {r.get('parse_err')}, designed to parse")
    elif want != "?":
        if r.get("reason") != "parse" or r.get("parse_err") != want:
            bad.append(f"{name}: reason {r.get('reason')} parse_err {r.get('parse_err')}, want parse/{want}")
        elif not isinstance(r.get("err_off"), int) or not 0 <= r["err_off"] <= e["len"]:
            bad.append(f"{name}: err_off {r.get('err_off')} not in 0..{e['len']}")
    for k in ("uid", "type", "access", "caveat", "releasable_to", "truncated"):
        if k in e and r.get(k, "<no key>") != e[k]:
            bad.append(f"{name}: {k} {r.get(k, '<no key>')!r}, want {e[k]!r}")
    for k in ("access", "caveat", "releasable_to"):
        if k not in r:
            bad.append(f"{name}: no key {k}")
    if r.get("reason") == "parse" and (r["access"], r["caveat"], r["releasable_to"]) != (None, None, None):
        bad.append(f"{name}: a parse drop shows a marking it cannot know")
print(f"# {len(exp)} crafted datagrams, {sum(1 for e in exp if e.get('parse_err'))} designed parse errors")
for e, r in zip(exp, recs):
    if not e["name"].endswith(".xml"):
        print("#   %-16s " % e["name"] + json.dumps({k: r[k] for k in ("uid", "access", "caveat", "releasable_to", "truncated", "reason", "parse_err", "err_off") if k in r}, ensure_ascii=False))
for b in bad:
    print("# " + b)
sys.exit(1 if bad else 0)
EOF

check "every audit line is one complete JSON object (wire bytes that are not UTF-8 included)" \
	$PY -c "
import json, sys
data = open('audit.jsonl', 'rb').read()
assert data.endswith(b'\n'), 'last line incomplete'
for l in data.split(b'\n')[:-1]:
    o = json.loads(l.decode('utf-8'))   # strict: raises on bytes that are not UTF-8
    assert isinstance(o, dict) and 'decision' in o"

$PY - stats.json audit.jsonl crafted.json <<'EOF' && ok "tgctl stats --json: parse_err adds up to dropped.parse and matches the audit log by name" || not_ok "tgctl stats --json: parse_err adds up to dropped.parse and matches the audit log by name"
import collections, json, sys
st = json.load(open(sys.argv[1]))
recs = [json.loads(l) for l in open(sys.argv[2])]
exp = json.load(open(sys.argv[3]))
pe = st["parse_err"]
inlog = collections.Counter(r["parse_err"] for r in recs if r.get("reason") == "parse")
designed = collections.Counter(e["parse_err"] for e in exp if e.get("parse_err"))
print("# parse_err:", {k: v for k, v in pe.items() if v}, "dropped.parse:", st["dropped"]["parse"])
err = []
if sum(pe.values()) != st["dropped"]["parse"]:
    err.append("parse_err does not add up to dropped.parse")
if st["audit_lost"] != 0:
    err.append("audit records lost")
for k in set(pe) | set(inlog):
    if pe.get(k, 0) != inlog.get(k, 0):
        err.append(f"{k}: stats {pe.get(k, 0)}, audit log {inlog.get(k, 0)}")
for k, n in designed.items():
    if pe.get(k, 0) < n:
        err.append(f"{k}: {pe.get(k, 0)} counted, {n} designed")
for e in err:
    print("#   " + e)
sys.exit(1 if err else 0)
EOF
check "tgctl stats prints the parse errors by name under the parse line" \
	$PY -c "
import re, sys
t = open('stats.txt').read()
m = re.search(r'^  parse +(\d+)\n((?:    \S+ +\d+\n)+)', t, re.M)
assert m, t
assert sum(int(l.split()[1]) for l in m.group(2).splitlines()) == int(m.group(1)), m.group(0)
assert re.search(r'^    malformed +\d+$', m.group(2), re.M), m.group(0)"
check "the exit report lists the parse errors too" grep -Eq "^    parse_err malformed +[1-9]" trackgate.log

# --- telemetry: /trackgate/stats while the capture replays forever ----------
if command -v dpdk-telemetry.py >/dev/null; then
	"$TRACKGATE" $(eal_common) -l 0 \
		--vdev "net_pcap0,rx_pcap=$T_DIR/in.pcap,infinite_rx=1" \
		$(demo_null_vdevs) \
		-- --bpffs "$T_BPFFS" --audit-level off > trackgate-tel.log 2>&1 &
	TG_PID=$!
	T_PIDS+=("$TG_PID")
	for _ in $(seq 1 100); do
		[ -S "/var/run/dpdk/$T_PREFIX/dpdk_telemetry.v2" ] && grep -q "worker(s)" trackgate-tel.log && break
		sleep 0.1
	done
	sleep 1.5
	printf '/trackgate/stats\n' | timeout 10 dpdk-telemetry.py -f "$T_PREFIX" > tel.out 2>&1 || true
	$PY - tel.out <<'EOF' && ok "telemetry /trackgate/stats: parse_err by name adds up to dropped.parse" || not_ok "telemetry /trackgate/stats: parse_err by name adds up to dropped.parse"
import json, sys
lines = [l for l in open(sys.argv[1]) if l.startswith("{")]
if not lines:
    print("# no telemetry output:", open(sys.argv[1]).read()[:500]); sys.exit(1)
s = json.loads(lines[0])["/trackgate/stats"]
pe = s.get("parse_err", {})
print("# telemetry parse_err:", {k: v for k, v in pe.items() if v}, "dropped.parse:", s["dropped"]["parse"])
ok = (s["dropped"]["parse"] > 0 and sum(pe.values()) == s["dropped"]["parse"]
      and pe.get("malformed", 0) > 0 and pe.get("dup_attr", 0) > 0 and pe.get("doctype", 0) > 0)
sys.exit(0 if ok else 1)
EOF
	kill -TERM "$TG_PID"
	rc=0; wait "$TG_PID" || rc=$?
	T_PIDS=()
	check "trackgate exits 0 on SIGTERM after telemetry (got $rc)" test "$rc" = 0
else
	echo "# SKIP telemetry part: no dpdk-telemetry.py"
fi

done_testing
