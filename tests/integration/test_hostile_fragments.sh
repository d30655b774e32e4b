#!/usr/bin/env bash
# test_hostile_fragments.sh - what an attacker on a link can do with IP
# fragments, against the real trackgate on the demo policy and the demo's
# lcore layout (one worker polling both links), and how each datagram lost
# is counted (docs/release.md §1, issue 11):
#   - three fragments adding up to 65,536 + N bytes, IPv4 and IPv6, carrying
#     a releasable warning followed by padding: rte_ip_frag writes the
#     length in 16 bits; trackgate crashed in TX.  Now frag_bad_length,
#     released to no one;
#   - a flood on both links at once: 40 datagrams per link held without
#     their last fragment, then a duplicate first fragment of each, so that
#     one pass over the two RX queues frees 2 x 160 fragments: the death row
#     (room for 288) overflowed into the worker and counters became
#     pointers.  Now 80 frag_overlap, every mbuf back, rx_packets exact;
#   - an identical duplicate of a middle fragment before the datagram
#     completed (frag_overlap), datagrams still incomplete at exit
#     (frag_unfinished), a good fragmented warning (released);
#   - a second run with a 16-datagram table and a short timeout: 20
#     incomplete datagrams of three fragments give 4 frag_table_full and 16
#     frag_timeout (datagrams, not fragments).
. "$(dirname "$0")/lib.sh"
cd "$T_DIR"

$PY - "$T_DIR" <<'PYEOF'
import sys
from scapy.all import (Ether, IP, IPv6, IPv6ExtHdrFragment, UDP, Raw, fragment, fragment6,
                       raw, wrpcap)
d = sys.argv[1]
EV = ('<event version="2.0" uid="{uid}" type="a-h-A-W-M-S-S" how="m-r" '
      'time="2024-05-01T12:00:00.000Z" start="2024-05-01T12:00:00.000Z" '
      'stale="2024-05-01T12:00:30.000Z" access="S//REL TO USA, KOR, JPN">'
      '<point lat="38.9" lon="127.0" hae="25000.0" ce="500.0" le="800.0"/>'
      '<detail><track course="135.5" speed="1700.0"/><remarks>{pad}</remarks></detail></event>')
eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
v4 = dict(src="10.1.0.1", dst="10.1.0.2")
v6 = dict(src="fd00:10::1", dst="fd00:20::1")
DPORT = 6969

def frags4(payload_bytes, ident, sizes, udp_len, chksum=0):
    """IPv4 fragments of one UDP datagram whose header says udp_len."""
    whole = raw(UDP(sport=40000, dport=DPORT, len=udp_len, chksum=chksum)) + payload_bytes
    out, off = [], 0
    for i, n in enumerate(sizes):
        piece = whole[off:off + n]
        last = i == len(sizes) - 1
        out.append(eth / IP(**v4, id=ident, proto=17, flags=0 if last else "MF", frag=off // 8)
                   / Raw(piece))
        off += n
    return out

def frags6(payload_bytes, ident, sizes, udp_len, chksum):
    whole = raw(UDP(sport=40000, dport=DPORT, len=udp_len, chksum=chksum)) + payload_bytes
    out, off = [], 0
    for i, n in enumerate(sizes):
        piece = whole[off:off + n]
        last = i == len(sizes) - 1
        out.append(eth / IPv6(**v6, nh=44) /
                   IPv6ExtHdrFragment(nh=17, id=ident, m=0 if last else 1, offset=off // 8) /
                   Raw(piece))
        off += n
    return out

def csum16(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s

link0, link1 = [], []

# 1. oversized: a warning of E bytes, padding to 65,536 + E + 8 UDP bytes.
# The IP length rte_ip_frag writes in 16 bits then says E + 8 bytes of UDP:
# the UDP length field says the same (so a receiver that trusts the IP
# length finds a consistent datagram holding exactly the warning), and the
# checksum covers those E + 8 bytes (IPv6 must have one; IPv4 says "none").
ev = EV.format(uid="FR-oversize-v4", pad="x").encode()
total = 65536 + len(ev) + 8                    # UDP bytes on the wire
pay = ev + b" " * (total - 8 - len(ev))
link0 += frags4(pay, 0x4242, [21848, 21848, total - 2 * 21848], (len(ev) + 8) & 0xffff)
ev6 = EV.format(uid="FR-oversize-v6", pad="x").encode()
total6 = 65536 + len(ev6) + 8
pay6 = ev6 + b" " * (total6 - 8 - len(ev6))
vis = len(ev6) + 8                             # what the truncated length leaves
ph = (bytes.fromhex("fd000010" + "00" * 11 + "01") + bytes.fromhex("fd000020" + "00" * 11 + "01")
      + vis.to_bytes(4, "big") + b"\0\0\0\x11")
hdr = raw(UDP(sport=40000, dport=DPORT, len=vis, chksum=0))
ck = (~csum16(ph + hdr + ev6)) & 0xffff or 0xffff
link0 += frags6(pay6, 0x4243, [21848, 21848, total6 - 2 * 21848], vis, ck)

# 2. the flood on both links: 40 datagrams of 8 pieces per link, 7 held,
# then a duplicate first piece of each, after all the held ones.
flood = []
for link, base in ((link0, 1000), (link1, 2000)):
    held, dup = [], []
    for i in range(40):
        body = raw(UDP(sport=40000, dport=DPORT, len=64, chksum=0)) + b"f" * 56
        pieces = [eth / IP(**v4, id=base + i, proto=17, flags="MF", frag=k) / Raw(body[8 * k:8 * k + 8])
                  for k in range(7)]
        held += pieces
        dup.append(pieces[0])
    # enough plain frames in between that the duplicates of both links are
    # read in the same pass: each link's queue is read 32 frames at a time
    link += held + dup

# 3. a duplicate middle piece before completion; incomplete ones; a good one
good = IP(**v4, id=77) / UDP(sport=40000, dport=DPORT) / Raw(EV.format(uid="FR-good", pad="y" * 3000).encode())
gf = fragment(good, fragsize=1480)
link1 += [eth / f for f in gf]
dupm = IP(**v4, id=78) / UDP(sport=40000, dport=DPORT) / Raw(EV.format(uid="FR-dupmid", pad="z" * 3000).encode())
df = fragment(dupm, fragsize=1480)
link1 += [eth / df[0], eth / df[1], eth / df[1], eth / df[2]]
for i in range(5):
    inc = IP(**v4, id=500 + i) / UDP(sport=40000, dport=DPORT) / Raw(b"q" * 3000)
    link1 += [eth / f for f in fragment(inc, fragsize=1480)[:2]]
wrpcap(d + "/link0.pcap", link0)
wrpcap(d + "/link1.pcap", link1)
open(d + "/frames", "w").write("%d\n" % (len(link0) + len(link1)))

# run B: 20 incomplete datagrams (2 of 3 pieces) for a 16-datagram table
b = []
for i in range(20):
    inc = IP(**v4, id=900 + i) / UDP(sport=40000, dport=DPORT) / Raw(b"t" * 3000)
    b += [eth / f for f in fragment(inc, fragsize=1480)[:2]]
wrpcap(d + "/tablefull.pcap", b)
PYEOF

expect_rc 0 "tgctl load demo policy" "$TGCTL" load "$TG_SRC/policy/demo.yaml" --bpffs "$T_BPFFS" -q \
	--no-wait

# The demo's layout: one worker (the main lcore) polls both links.
expect_rc 0 "trackgate survives oversized reassemblies and a two-link fragment flood, exits 0, no mbuf leaked" \
	logged run-a.log "$TRACKGATE" $(eal_common) -l 0 \
	--vdev "net_pcap0,rx_pcap=$T_DIR/link0.pcap" --vdev "net_pcap1,rx_pcap=$T_DIR/link1.pcap" \
	$(demo_peer_vdevs a) \
	-- --bpffs "$T_BPFFS" --audit "$T_DIR/audit-a.jsonl" --exit-when-idle 1500 \
	--frag-timeout 60000
"$TGCTL" stats --bpffs "$T_BPFFS" --json > stats-a.json
check "no LEAK reported at exit" bash -c "! grep -q LEAK run-a.log"

$PY - "$T_DIR" <<'PYEOF' && ok "run A: each datagram counted once under its own reason" || not_ok "run A: each datagram counted once under its own reason"
import json, sys
d = sys.argv[1]
st = json.load(open(d + "/stats-a.json"))
dr = st["dropped"]
frames = int(open(d + "/frames").read())
want = {"frag_bad_length": 2, "frag_overlap": 81, "frag_unfinished": 5, "frag_timeout": 0,
        "frag_table_full": 0}
got = {k: dr.get(k, 0) for k in want}
print("# rx_packets %d of %d frames; %s" % (st["rx_packets"], frames, got))
sys.exit(0 if got == want and st["rx_packets"] == frames else 1)
PYEOF

$PY - "$T_DIR" <<'PYEOF' && ok "the oversized warnings reach no peer; the good one every peer but its own link's" || not_ok "the oversized warnings reach no peer; the good one every peer but its own link's"
import json, sys
from scapy.all import rdpcap, Raw
d = sys.argv[1]
seen = {}
for peer in ("kor", "jpn", "usa"):
    data = b"".join(bytes(p[Raw].load) for p in rdpcap("%s/a-%s.pcap" % (d, peer)) if Raw in p)
    seen[peer] = [u for u in ("FR-oversize-v4", "FR-oversize-v6", "FR-good", "FR-dupmid")
                  if u.encode() in data]
rel = {json.loads(l)["uid"]: json.loads(l)["decision"] for l in open(d + "/audit-a.jsonl")
       if json.loads(l).get("uid", "").startswith("FR-")}
print("# on the peer links:", seen, "audited:", rel)
# FR-good came in on jpn-us: the JPN peer sits behind it (echo)
want = {"kor": ["FR-good"], "jpn": [], "usa": ["FR-good"]}
sys.exit(0 if seen == want and rel == {"FR-good": "released"} else 1)
PYEOF

expect_rc 0 "run B (16-datagram table, 300 ms timeout) exits 0" \
	logged run-b.log "$TRACKGATE" $(eal_common) -l 0 \
	--vdev "net_pcap0,rx_pcap=$T_DIR/tablefull.pcap" $(demo_peer_vdevs b) \
	-- --bpffs "$T_BPFFS" --exit-when-idle 1500 --frag-flows 16 --frag-timeout 300
"$TGCTL" stats --bpffs "$T_BPFFS" --json > stats-b.json
check "run B: 4 frag_table_full, 16 frag_timeout (datagrams), none unfinished" \
	$PY -c "
import json, sys
dr = json.load(open('stats-b.json'))['dropped']
got = [dr.get(k, 0) for k in ('frag_table_full', 'frag_timeout', 'frag_unfinished', 'frag_overlap')]
print('# table_full, timeout, unfinished, overlap:', got)
sys.exit(got != [4, 16, 0, 0])"
done_testing
