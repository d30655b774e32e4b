#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""compare.py - compares what peers actually received with the oracle's
expected releases.

    compare.py --expected DIR --actual-pcap kor=out-kor.pcap \\
               --actual-pcap jpn=out-jpn.pcap --actual-pcap usa=out-usa.pcap

DIR is an oracle.py --out directory.  Each peer's output pcap is decoded and
reassembled (tgpcap.py), every UDP payload hashed, and the multiset of hashes
compared with DIR/<peer>.jsonl (for a peer with `encoding: xml`, a TAK
Protocol Version 1 message is expected as the exact bytes of its XML
conversion, oracle.to_xml(), so the conversion is checked byte for byte):

  wrongful   released but not expected (the serious one for a guard)
  missed     expected but not released
  mismatch   a payload with an expected uid but different bytes
  duplicate  an expected payload released more often than expected

Prints a JSON report (and writes it with --report FILE); exits 1 on any
difference, 2 on bad input, 0 when every listed peer matches exactly.
"""

import argparse
import collections
import hashlib
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import takproto  # noqa: E402
import tgpcap  # noqa: E402

UID_RE = re.compile(rb'<event\b[^>]*?\suid\s*=\s*(["\'])(.*?)\1', re.S)
SHOW = 20  # examples listed per category


def payload_uid(payload):
    """The event uid of a released payload: CoT XML (as received or a
    conversion, release.md section 6) or TAK Protocol Version 1."""
    if takproto.is_v1(payload):
        try:
            return takproto.decode(payload)["cotEvent"]["uid"]
        except takproto.Refused:
            return None
    m = UID_RE.search(payload[:4096])
    return m.group(2).decode("utf-8", "replace") if m else None


def compare_peer(expected_path, pcap_path):
    exp = []
    with open(expected_path) as f:
        for line in f:
            if line.strip():
                exp.append(json.loads(line))
    want = collections.Counter(e["sha256"] for e in exp)
    uid_of = {e["sha256"]: e["uid"] for e in exp}
    by_uid = collections.defaultdict(list)
    for e in exp:
        by_uid[e["uid"]].append(e["sha256"])

    got = collections.Counter()
    got_uid = {}
    other = collections.Counter()
    for kind, val in tgpcap.datagrams(pcap_path):
        if kind != "udp":
            other[val] += 1
            continue
        payload = val[4]
        h = hashlib.sha256(payload).hexdigest()
        got[h] += 1
        got_uid.setdefault(h, payload_uid(payload))

    wrongful, missed, mismatch, duplicate = [], [], [], []
    extra = {h: n for h, n in got.items() if h not in want}
    lost = {h: n for h, n in want.items() if h not in got}
    for h, n in got.items():
        if h in want and n > want[h]:
            duplicate.append({"uid": uid_of[h], "sha256": h, "expected": want[h], "actual": n})
        elif h in want and n < want[h]:
            missed.append({"uid": uid_of[h], "sha256": h, "count": want[h] - n})
    lost_uids = {uid_of[h] for h in lost}
    for h, n in extra.items():
        u = got_uid.get(h)
        if u is not None and u in lost_uids:
            mismatch.append({"uid": u, "actual_sha256": h, "expected_sha256": by_uid[u]})
            for eh in by_uid[u]:
                lost.pop(eh, None)
        else:
            wrongful.append({"uid": u, "sha256": h, "count": n})
    for h, n in lost.items():
        missed.append({"uid": uid_of[h], "sha256": h, "count": n})
    key = lambda r: (str(r.get("uid")), r.get("sha256", r.get("actual_sha256")))  # noqa: E731
    for lst in (wrongful, missed, mismatch, duplicate):
        lst.sort(key=key)
    return {
        "expected": sum(want.values()),
        "actual": sum(got.values()),
        "not_udp_frames": dict(other),
        "wrongful": len(wrongful), "missed": len(missed),
        "mismatch": len(mismatch), "duplicate": len(duplicate),
        "examples": {"wrongful": wrongful[:SHOW], "missed": missed[:SHOW],
                     "mismatch": mismatch[:SHOW], "duplicate": duplicate[:SHOW]},
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--expected", required=True, help="oracle.py --out directory")
    ap.add_argument("--actual-pcap", action="append", required=True, metavar="PEER=PCAP",
                    help="what one peer received (repeatable)")
    ap.add_argument("--report", help="also write the JSON report here")
    a = ap.parse_args(argv)
    report, bad = {"peers": {}}, False
    for spec in a.actual_pcap:
        peer, _, path = spec.partition("=")
        exp = os.path.join(a.expected, f"{peer}.jsonl")
        if not path or not os.path.exists(exp):
            print(f"compare: --actual-pcap {spec}: no {exp}", file=sys.stderr)
            return 2
        try:
            r = compare_peer(exp, path)
        except (OSError, ValueError) as e:
            print(f"compare: {e}", file=sys.stderr)
            return 2
        report["peers"][peer] = r
        if r["wrongful"] or r["missed"] or r["mismatch"] or r["duplicate"]:
            bad = True
    unchecked = sorted(f[:-6] for f in os.listdir(a.expected)
                       if f.endswith(".jsonl") and f[:-6] not in report["peers"])
    report["unchecked_peers"] = unchecked
    report["ok"] = not bad
    text = json.dumps(report, indent=2, sort_keys=True)
    print(text)
    if a.report:
        with open(a.report, "w") as f:
            f.write(text + "\n")
    for peer, r in report["peers"].items():
        print(f"compare: {peer}: expected {r['expected']} actual {r['actual']} "
              f"wrongful {r['wrongful']} missed {r['missed']} mismatch {r['mismatch']} "
              f"duplicate {r['duplicate']}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
