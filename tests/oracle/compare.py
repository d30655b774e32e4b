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

A sanitized copy (release.md section 6) is the oracle's expected payload
for its peer, so it is compared byte for byte like any other.  With
--explain-sanitized (and an oracle run with --keep-sanitized, which writes
DIR/sanitized/<sha256>), every mismatch whose expected payload is a
sanitized copy also names the first differing field: "event@lat",
"detail/contact@endpoint", "cotEvent.ce", ... (first_difference below).

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
import xml.parsers.expat as expat

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


def _xml_items(xml):
    """A CoT XML payload as a list of (path, what, value): start tags with
    their attributes in order, text (merged, CDATA included), comments and
    processing instructions, so two documents can be compared item by item."""
    items, path, text = [], [], []
    p = expat.ParserCreate(encoding="UTF-8")
    p.ordered_attributes = True

    def flush():
        if text:
            items.append(("/".join(path), "text", "".join(text)))
            text.clear()

    def start(name, attrs):
        flush()
        path.append(name)
        items.append(("/".join(path), "start", None))
        for i in range(0, len(attrs), 2):
            items.append(("/".join(path) + "@" + attrs[i], "attribute", attrs[i + 1]))
        items.append(("/".join(path), "attributes end", None))

    def end(name):
        flush()
        items.append(("/".join(path), "end", None))
        path.pop()

    p.StartElementHandler = start
    p.EndElementHandler = end
    p.CharacterDataHandler = text.append
    p.CommentHandler = lambda d: (flush(), items.append(("/".join(path), "comment", d)))
    p.ProcessingInstructionHandler = lambda t, d: (flush(), items.append(
        ("/".join(path), "processing instruction", t + " " + d)))
    p.StartCdataSectionHandler = lambda: (flush(), items.append(("/".join(path), "CDATA", None)))
    body = xml[3:] if xml[:3] == b"\xbf\x00\xbf" else xml
    try:
        p.Parse(body, True)
    except expat.ExpatError as e:
        items.append(("/".join(path), "not well-formed", str(e)))
    return items


def _diff_items(a, b, prefix=""):
    for x, y in zip(a, b):
        if x != y:
            if x[0] == y[0] and x[1] == y[1]:
                return f"{prefix}{x[0]} ({x[1]}): expected {x[2]!r}, actual {y[2]!r}"
            return (f"{prefix}{x[0] or '/'}: expected {x[1]} {x[0]!r}, "
                    f"actual {y[1]} {y[0]!r}")
    if len(a) != len(b):
        more, who = (a, "expected") if len(a) > len(b) else (b, "actual")
        x = more[min(len(a), len(b))]
        return f"{prefix}{x[0] or '/'}: only {who} has {x[1]} {x[2]!r}"
    return None


def _byte_diff(a, b):
    n = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
    return (f"bytes differ at offset {n} (expected {len(a)} bytes, actual {len(b)}): "
            f"expected {a[max(0, n - 16):n + 24]!r}, actual {b[max(0, n - 16):n + 24]!r}")


V1_EVENT = ("type", "access", "qos", "opex", "uid", "sendTime", "startTime", "staleTime",
            "how", "lat", "lon", "hae", "ce", "le", "caveat", "releaseableTo")


def first_difference(expected, actual):
    """The first field in which a released payload differs from the expected
    one (a sanitized copy, or any CoT XML / TAK v1 payload), as a string;
    None if the bytes are equal."""
    if expected == actual:
        return None
    ev, av = takproto.is_v1(expected), takproto.is_v1(actual)
    if ev != av:
        return (f"encoding: expected {'takproto-v1' if ev else 'xml'}, "
                f"actual {'takproto-v1' if av else 'xml'}")
    if ev:
        try:
            ed = takproto.decode(expected)
        except takproto.Refused as e:
            return f"expected payload refused by takproto: {e.args}"
        try:
            ad = takproto.decode(actual)
        except takproto.Refused as e:
            return f"actual payload refused by takproto: {e.args[:2]} at offset {e.args[2]}"
        for k in ("takControl", "submissionTime", "creationTime"):
            if ed[k] != ad[k]:
                return f"TakMessage.{k}: expected {ed[k]!r}, actual {ad[k]!r}"
        ee, ae = ed["cotEvent"], ad["cotEvent"]
        for k in V1_EVENT:
            if ee[k] != ae[k] or (isinstance(ee[k], float) and str(ee[k]) != str(ae[k])):
                return f"cotEvent.{k}: expected {ee[k]!r}, actual {ae[k]!r}"
        if (ee["detail"] is None) != (ae["detail"] is None):
            return (f"cotEvent.detail: expected {'none' if ee['detail'] is None else 'one'}, "
                    f"actual {'none' if ae['detail'] is None else 'one'}")
        if ee["detail"] is not None:
            for k in ("contact", "group", "precisionLocation", "status", "takv", "track"):
                if ee["detail"][k] != ae["detail"][k]:
                    return (f"cotEvent.detail.{k}: expected {ee['detail'][k]!r}, "
                            f"actual {ae['detail'][k]!r}")
            ex, ax = ee["detail"]["xmlDetail"] or b"", ae["detail"]["xmlDetail"] or b""
            if ex != ax:
                d = _diff_items(_xml_items(b"<detail>" + ex + b"</detail>"),
                                _xml_items(b"<detail>" + ax + b"</detail>"),
                                "cotEvent.detail.xmlDetail: ")
                return d or "cotEvent.detail.xmlDetail: " + _byte_diff(ex, ax)
        if ee.get("legacy") != ae.get("legacy"):
            return f"cotEvent legacy 16/17: expected {ee.get('legacy')}, actual {ae.get('legacy')}"
        return "same fields, different encoding: " + _byte_diff(expected, actual)
    d = _diff_items(_xml_items(expected), _xml_items(actual))
    return d or "same XML items, different bytes: " + _byte_diff(expected, actual)


def compare_peer(expected_path, pcap_path, copies_dir=None):
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
    got_bytes = {}     # payloads that were not expected (--explain-sanitized)
    other = collections.Counter()
    for kind, val in tgpcap.datagrams(pcap_path):
        if kind != "udp":
            other[val] += 1
            continue
        payload = val[4]
        h = hashlib.sha256(payload).hexdigest()
        got[h] += 1
        got_uid.setdefault(h, payload_uid(payload))
        if copies_dir is not None and h not in want:
            got_bytes.setdefault(h, payload)

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
            m = {"uid": u, "actual_sha256": h, "expected_sha256": by_uid[u]}
            for eh in by_uid[u] if copies_dir is not None else ():
                path = os.path.join(copies_dir, eh)
                if os.path.exists(path):
                    with open(path, "rb") as f:
                        m["first_difference"] = first_difference(f.read(), got_bytes[h])
                    break
            mismatch.append(m)
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
    ap.add_argument("--explain-sanitized", action="store_true",
                    help="name the first differing field of a mismatched sanitized copy "
                         "(needs oracle.py --keep-sanitized)")
    a = ap.parse_args(argv)
    report, bad = {"peers": {}}, False
    for spec in a.actual_pcap:
        peer, _, path = spec.partition("=")
        exp = os.path.join(a.expected, f"{peer}.jsonl")
        if not path or not os.path.exists(exp):
            print(f"compare: --actual-pcap {spec}: no {exp}", file=sys.stderr)
            return 2
        try:
            r = compare_peer(exp, path, os.path.join(a.expected, "sanitized")
                             if a.explain_sanitized else None)
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
