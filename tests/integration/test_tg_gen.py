#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_tg_gen.py - checks tg-gen, the oracle and compare.py together.

    /usr/bin/python3 tests/integration/test_tg_gen.py --tg-gen build/tools/tg-gen
    meson test -C build tg_gen          # registered in tests/integration/meson.build

Determinism, mix sizes, readability by scapy and tshark, oracle releases to
kor, jpn and usa, the stale check, and that compare.py accepts a perfect
peer output and rejects a wrong one.  Then --encoding takproto-v1 and mixed:
every v1 datagram decoded with python3-protobuf (tests/proto compiled with
protoc) and a wire walker of its own, compared event by event with the same
seed's XML, the hostile v1 cases checked to be what they claim, and the
mixed shares and determinism.  Works in a temporary directory; needs
neither root nor DPDK.  Runs every check and exits non-zero if any failed.
"""

import argparse
import calendar
import filecmp
import json
import math
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ORACLE_DIR = os.path.join(ROOT, "tests", "oracle")
sys.path.insert(0, ORACLE_DIR)
import tgpcap  # noqa: E402

PY = "/usr/bin/python3"
POLICY = os.path.join(ROOT, "policy", "demo.yaml")
failures = 0


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures += 1


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def gen(tg, tmp, name, *args):
    path = os.path.join(tmp, name)
    run([tg, *args, "--out", path])
    return path


def payload_sizes(path, ports=(6969, 4242)):
    return [len(d[4]) for k, d in tgpcap.datagrams(path) if k == "udp" and d[3] in ports]


def udp_payloads(path):
    """Every complete UDP datagram's payload, in capture order (one per message
    that has a payload, whatever its port)."""
    return [d[4] for k, d in tgpcap.datagrams(path) if k == "udp"]


# ---- TAK Protocol Version 1 ------------------------------------------------

V1 = b"\xbf\x01\xbf"
VALID_V1 = {"", "v1-legacy-16-17", "v1-takmessage-3-4", "v1-with-control"}
HOSTILE_V1 = {"v1-f16-varint", "v1-f16-fixed64", "v1-truncated-varint", "v1-length-past-end",
              "v1-varint-11-bytes", "v1-group-nesting", "v1-dup-access", "v1-dup-caveat",
              "v1-dup-releaseableto", "v1-dup-cotevent", "v1-nonfinite-lat", "v1-tak-version",
              "v1-xml-body", "v1-control-only", "v1-empty", "v1-bad-utf8"}


class WireError(Exception):
    pass


def _varint(b, i, end):
    """(value, next offset, length in bytes); WireError past end or > 10 bytes."""
    v = shift = 0
    start = i
    while True:
        if i >= end:
            raise WireError("truncated-varint")
        c = b[i]
        i += 1
        if i - start > 10:
            raise WireError("varint-too-long")
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, i, i - start


def wire(b, i=0, end=None):
    """Walk one message's fields without a schema: [(field, wire type, value)].
    value: int (varint), bytes (64/32-bit, length-delimited) or, for a
    group, how deep it nests.  Raises WireError on any fault of the wire."""
    end = len(b) if end is None else end
    out = []
    while i < end:
        one, i = _one_field(b, i, end)
        out.append(one)
    return out


def _group(b, i, end, f):
    """Skip a group (iteratively: hostile ones nest deep).  Returns (its
    nesting depth, the offset after its end-group key)."""
    stack, deepest = [f], 1
    while stack:
        if i >= end:
            raise WireError("unterminated-group")
        key, i, _ = _varint(b, i, end)
        g, wt = key >> 3, key & 7
        if g == 0:
            raise WireError("field-0")
        if wt == 4:
            if stack.pop() != g:
                raise WireError("group-mismatch")
        elif wt == 3:
            stack.append(g)
            deepest = max(deepest, len(stack))
        elif wt == 0:
            _, i, _ = _varint(b, i, end)
        elif wt in (1, 5):
            i += 8 if wt == 1 else 4
        elif wt == 2:
            n, i, _ = _varint(b, i, end)
            i += n
        else:
            raise WireError("bad-wire-type")
        if i > end:
            raise WireError("length-past-end")
    return deepest, i


def _one_field(b, i, end):
    key, i, _ = _varint(b, i, end)
    f, wt = key >> 3, key & 7
    if f == 0:
        raise WireError("field-0")
    if wt == 0:
        v, i, _ = _varint(b, i, end)
        return (f, 0, v), i
    if wt in (1, 5):
        n = 8 if wt == 1 else 4
        if i + n > end:
            raise WireError("truncated-fixed")
        return (f, wt, b[i:i + n]), i + n
    if wt == 2:
        n, i, _ = _varint(b, i, end)
        if i + n > end:
            raise WireError("length-past-end")
        return (f, 2, b[i:i + n]), i + n
    if wt == 3:
        sub, i = _group(b, i, end, f)
        return (f, 3, sub), i
    raise WireError("bad-wire-type")


def group_depth(fields):
    return max([v for f, wt, v in fields if wt == 3] + [0])


def fields_of(fields, num, wt=None):
    return [v for f, w, v in fields if f == num and (wt is None or w == wt)]


def all_strings(fields, schema_len):
    """Every length-delimited value, walking into the fields schema_len names
    as messages (a dict field -> its own dict)."""
    for f, wt, v in fields:
        if wt != 2:
            continue
        if f in schema_len:
            try:
                yield from all_strings(wire(v), schema_len[f])
            except WireError:
                yield v
        else:
            yield v


# TakMessage 1, 2 -> CotEvent 15 -> Detail 2..7 are messages; the rest strings.
_DETAIL = {2: {}, 3: {}, 4: {}, 5: {}, 6: {}, 7: {}}
SCHEMA_LEN = {1: {}, 2: {15: _DETAIL}}


def iso_ms(s):
    """YYYY-MM-DDThh:mm:ss[.fff]Z -> ms since the epoch."""
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z", s)
    y, mo, d, h, mi, se = (int(x) for x in m.groups()[:6])
    frac = int((m.group(7) or "0")[:3].ljust(3, "0"))
    return calendar.timegm((y, mo, d, h, mi, se)) * 1000 + frac


def xml_event(payload):
    """The fields tg-gen's XML form carries, for comparison with v1."""
    x = payload[3:] if payload.startswith(b"\xbf\x00\xbf") else payload
    ev = ET.fromstring(x)
    pt = ev.find("point")
    det = ev.find("detail")
    contact = det.find("contact") if det is not None else None
    track = det.find("track") if det is not None else None
    rel = ev.get("releasableTo") or ev.get("releaseableTo") or ""
    # the <detail> children as text, minus the typed <contact> and <track>
    m = re.search(rb"<detail>(.*)</detail>", x, re.S)
    xd = m.group(1) if m else b""
    xd = re.sub(rb"^<contact [^>]*/>", b"", xd)
    xd = re.sub(rb"^<track [^>]*/>", b"", xd)
    return {
        "uid": ev.get("uid"), "type": ev.get("type"), "how": ev.get("how"),
        "access": ev.get("access") or "", "caveat": ev.get("caveat") or "",
        "releaseableTo": rel,
        "sendTime": iso_ms(ev.get("time")), "startTime": iso_ms(ev.get("start")),
        "staleTime": iso_ms(ev.get("stale")),
        "lat": float(pt.get("lat")), "lon": float(pt.get("lon")), "hae": float(pt.get("hae")),
        "ce": float(pt.get("ce")), "le": float(pt.get("le")),
        "detail": det is not None and (contact is not None or track is not None or xd != b""),
        "callsign": contact.get("callsign") if contact is not None else None,
        "track": (float(track.get("speed")), float(track.get("course")))
        if track is not None else None,
        "xmlDetail": xd.decode(),
    }


def v1_event(pb, payload, legacy):
    """The same fields from a v1 datagram, decoded by python3-protobuf."""
    tm = (pb["legacy"] if legacy else pb["v1"]).TakMessage()
    tm.ParseFromString(payload[3:])
    e = tm.cotEvent
    d = e.detail
    return tm, {
        "uid": e.uid, "type": e.type, "how": e.how, "access": e.access,
        "caveat": "" if legacy else e.caveat, "releaseableTo": "" if legacy else e.releaseableTo,
        "sendTime": e.sendTime, "startTime": e.startTime, "staleTime": e.staleTime,
        "lat": e.lat, "lon": e.lon, "hae": e.hae, "ce": e.ce, "le": e.le,
        "detail": e.HasField("detail"),
        "callsign": d.contact.callsign if d.HasField("contact") else None,
        "track": (d.track.speed, d.track.course) if d.HasField("track") else None,
        "xmlDetail": d.xmlDetail,
    }


def proto3_canonical(fields, schema_len):
    """No zero varint, +0.0 double or empty string written; fields in order."""
    nums = [f for f, wt, v in fields]
    if nums != sorted(nums):
        return False
    for f, wt, v in fields:
        if wt == 0 and v == 0:
            return False
        if wt == 1 and v == b"\0" * 8:
            return False
        if wt == 2 and f not in schema_len and v == b"":
            return False
        if wt == 2 and f in schema_len and not proto3_canonical(wire(v), schema_len[f]):
            return False
    return True


def compile_protos(tmp):
    out = os.path.join(tmp, "pb")
    os.makedirs(out)
    pdir = os.path.join(ROOT, "tests", "proto")
    run(["protoc", "-I", pdir, "--python_out", out, os.path.join(pdir, "takproto.proto"),
         os.path.join(pdir, "takproto_legacy.proto")])
    sys.path.insert(0, out)
    import takproto_pb2  # noqa: E402
    import takproto_legacy_pb2  # noqa: E402
    return {"v1": takproto_pb2, "legacy": takproto_legacy_pb2}


def hostile_claim(pb, variant, v, x):
    """Is the hostile v1 datagram v what its variant says?  x: the XML the
    same message would be with --encoding xml (unrelated for hostile ones,
    which are built on an event of their own)."""
    from google.protobuf.message import DecodeError

    def pb_ok():
        # libprotobuf logs each invalid UTF-8 string to fd 2: keep it quiet
        sys.stderr.flush()
        saved = os.dup(2)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        try:
            pb["v1"].TakMessage().ParseFromString(v[3:])
            return True
        except DecodeError:
            return False
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(null)

    if variant == "v1-empty":
        return v == V1
    if variant == "v1-tak-version":
        return v[:1] == b"\xbf" and v[:3] != V1
    if not v.startswith(V1):
        return False
    body = v[3:]
    if variant == "v1-xml-body":
        return body.startswith(b"<") and b"<event " in body
    if variant in ("v1-truncated-varint", "v1-length-past-end", "v1-varint-11-bytes"):
        want = {"v1-truncated-varint": "truncated-varint",
                "v1-length-past-end": "length-past-end",
                "v1-varint-11-bytes": "varint-too-long"}[variant]
        try:
            top = wire(body)
            ev = fields_of(top, 2, 2)
            if len(ev) != 1:
                return False
            evf = wire(ev[0])
            det = fields_of(evf, 15, 2)
            for dd in det:
                wire(dd)
            return False
        except WireError as e:
            return str(e) == want and not pb_ok()
    top = wire(body)
    if variant == "v1-control-only":
        tm = pb["v1"].TakMessage()
        tm.ParseFromString(body)
        return tm.HasField("takControl") and not tm.HasField("cotEvent") and \
            [f for f, _, _ in top] == [1]
    if variant == "v1-dup-cotevent":
        return len(fields_of(top, 2, 2)) == 2 and pb_ok()
    evs = fields_of(top, 2, 2)
    if len(evs) != 1:
        return False
    evf = wire(evs[0])
    if variant == "v1-group-nesting":
        return group_depth(evf) >= 3
    if variant in ("v1-dup-access", "v1-dup-caveat", "v1-dup-releaseableto"):
        num = {"v1-dup-access": 2, "v1-dup-caveat": 16, "v1-dup-releaseableto": 17}[variant]
        others = {2, 16, 17} - {num}
        return len(fields_of(evf, num, 2)) == 2 and pb_ok() and \
            all(len(fields_of(evf, o, 2)) <= 1 for o in others)
    if variant == "v1-f16-varint":
        return len(fields_of(evf, 16, 0)) == 1 and len(fields_of(evf, 16, 2)) <= 1
    if variant == "v1-f16-fixed64":
        return len(fields_of(evf, 16, 1)) == 1
    if variant == "v1-nonfinite-lat":
        lat = fields_of(evf, 10, 1)
        return len(lat) == 1 and not math.isfinite(struct.unpack("<d", lat[0])[0])
    if variant == "v1-bad-utf8":
        bad = 0
        for s in all_strings(top, SCHEMA_LEN):
            try:
                s.decode("utf-8")
            except UnicodeDecodeError:
                bad += 1
        return bad == 1 and not pb_ok()
    return False


def check_v1(tg, tmp, pb, mix, seed, link, count):
    """--encoding xml and takproto-v1 of one seed, message by message."""
    base = f"{mix}-{seed}"
    px = gen(tg, tmp, base + "-x.pcap", "--mix", mix, "--count", str(count), "--seed", str(seed),
             "--link", link, "--manifest", os.path.join(tmp, base + "-x.jsonl"))
    pv = gen(tg, tmp, base + "-v.pcap", "--mix", mix, "--count", str(count), "--seed", str(seed),
             "--link", link, "--encoding", "takproto-v1",
             "--manifest", os.path.join(tmp, base + "-v.jsonl"))
    with open(os.path.join(tmp, base + "-x.jsonl")) as f:
        mx = [json.loads(x) for x in f]
    with open(os.path.join(tmp, base + "-v.jsonl")) as f:
        mv = [json.loads(x) for x in f]
    xs, vs = udp_payloads(px), udp_payloads(pv)
    mx = [m for m in mx if m["size"]]
    mv = [m for m in mv if m["size"]]
    check(len(xs) == len(mx) == len(vs) == len(mv) and
          [len(v) for v in vs] == [m["size"] for m in mv],
          f"{mix} v1: one datagram per message ({len(vs)}), sizes as in the manifest")
    stats = {"valid": 0, "same": 0, "canon": 0, "xml_kept": 0, "xml_same": 0, "hostile": 0,
             "claim": 0, "legacy": 0, "t34": 0, "ctl": 0}
    bad_claims = {}
    first_diff = None
    for x, v, a, b in zip(xs, vs, mx, mv):
        var = b["variant"]
        if b["kind"] == "malformed" and var not in HOSTILE_V1:
            stats["xml_kept"] += 1
            stats["xml_same"] += x == v and a["kind"] in ("malformed",) and \
                a["variant"] == var
            continue
        if var in HOSTILE_V1:
            stats["hostile"] += 1
            ok = hostile_claim(pb, var, v, x)
            stats["claim"] += ok
            if not ok:
                bad_claims[var] = bad_claims.get(var, 0) + 1
            continue
        stats["valid"] += 1
        legacy = var == "v1-legacy-16-17"
        try:
            top = wire(v[3:])
            tm, got = v1_event(pb, v, legacy)
        except Exception as e:  # noqa: BLE001
            if first_diff is None:
                first_diff = (a["uid"], repr(e))
            continue
        want = xml_event(x)
        if v.startswith(V1) and got == want:
            stats["same"] += 1
        elif first_diff is None:
            first_diff = (a["uid"], {k: (want[k], got[k]) for k in want if want[k] != got[k]})
        evf = wire(fields_of(top, 2, 2)[0])
        schema = {15: _DETAIL}
        if legacy:
            stats["legacy"] += fields_of(evf, 16, 0) != [] and fields_of(evf, 17, 0) != []
            evf = [t for t in evf if t[0] < 16]
        nums = [f for f, _, _ in top]
        if len(v) > 8292 and nums[-1] == 15:
            nums.pop()  # padding out of the band around 8192 (unknown field 15)
        if var == "v1-takmessage-3-4":
            stats["t34"] += nums == [2, 3, 4]
        elif var == "v1-with-control":
            stats["ctl"] += nums == [1, 2] and tm.HasField("takControl") and \
                tm.takControl.minProtoVersion == 1
        elif nums != [2]:
            continue
        stats["canon"] += proto3_canonical(evf, schema)
    check(stats["valid"] > 0 and stats["same"] == stats["valid"],
          f"{mix} v1: {stats['same']}/{stats['valid']} valid v1 events decode (python3-protobuf) "
          f"to the XML form's fields" + (f"; first difference {first_diff}" if first_diff else ""))
    check(stats["canon"] == stats["valid"],
          f"{mix} v1: {stats['canon']}/{stats['valid']} written as proto3 does "
          "(fields in order, no zero or empty field)")
    check(stats["xml_same"] == stats["xml_kept"],
          f"{mix} v1: the {stats['xml_kept']} malformed-XML messages stay XML, byte for byte")
    nleg = sum(m["variant"] == "v1-legacy-16-17" for m in mv)
    n34 = sum(m["variant"] == "v1-takmessage-3-4" for m in mv)
    nctl = sum(m["variant"] == "v1-with-control" for m in mv)
    check(nleg > 0 and n34 > 0 and nctl > 0 and stats["legacy"] == nleg and
          stats["t34"] == n34 and stats["ctl"] == nctl,
          f"{mix} v1: legacy 16/17 varints ({stats['legacy']}/{nleg}), TakMessage 3/4 "
          f"({stats['t34']}/{n34}), TakControl alongside ({stats['ctl']}/{nctl}) as claimed")
    if mix == "hostile":
        seen = {m["variant"] for m in mv if m["variant"] in HOSTILE_V1}
        check(seen == HOSTILE_V1, f"hostile v1: every hostile case occurs ({len(seen)}/"
              f"{len(HOSTILE_V1)}; missing {sorted(HOSTILE_V1 - seen)})")
        check(stats["claim"] == stats["hostile"] > 0,
              f"hostile v1: {stats['claim']}/{stats['hostile']} hostile datagrams are what they "
              f"claim" + (f"; not: {bad_claims}" if bad_claims else ""))
        share = stats["hostile"] / len(mv)
        check(0.15 <= share <= 0.35, f"hostile v1: {share:.2f} of messages are hostile v1")
    sizes = [len(v) for v in vs]
    check(max(sizes) <= 9300 and not any(8092 <= n <= 8292 for n in sizes),
          f"{mix} v1: sizes {min(sizes)}..{max(sizes)} B, none within 100 B of 8192")
    return px, pv, mx, xs, vs


def check_mixed(tg, tmp, pb):
    args = ["--mix", "default", "--count", "6000", "--seed", "77", "--link", "all"]
    m1 = gen(tg, tmp, "mx1.pcap", *args, "--encoding", "mixed",
             "--manifest", os.path.join(tmp, "mx1.jsonl"))
    m2 = gen(tg, tmp, "mx2.pcap", *args, "--encoding", "mixed")
    px = gen(tg, tmp, "mxx.pcap", *args)
    pv = gen(tg, tmp, "mxv.pcap", *args, "--encoding", "takproto-v1")
    check(filecmp.cmp(m1, m2, shallow=False), "mixed: same arguments give byte-identical pcaps")
    m3 = gen(tg, tmp, "mx3.pcap", "--mix", "default", "--count", "6000", "--seed", "78",
             "--link", "all", "--encoding", "mixed")
    check(not filecmp.cmp(m1, m3, shallow=False), "mixed: another seed gives another pcap")
    ms, xs, vs = udp_payloads(m1), udp_payloads(px), udp_payloads(pv)
    # which one each message is: its v1-mode payload where that differs
    as_v1 = [m == v and v != x for m, x, v in zip(ms, xs, vs)]
    same = sum(m in (x, v) for m, x, v in zip(ms, xs, vs))
    check(len(ms) == len(xs) == len(vs) and same == len(ms),
          "mixed: every message is its xml-mode or its v1-mode payload, byte for byte")
    differ = sum(x != v for x, v in zip(xs, vs))
    share = sum(as_v1) / differ
    check(0.45 <= share <= 0.55,
          f"mixed: {sum(as_v1)}/{differ} = {share:.3f} of the messages v1 can carry are v1")
    with open(os.path.join(tmp, "mx1.jsonl")) as f:
        man = [json.loads(x) for x in f if json.loads(x)["size"]]
    check([m["encoding"] == "takproto-v1" for m in man] == [p.startswith(V1) for p in ms],
          "mixed: the manifest's encoding is the payload's (bf 01 bf: takproto-v1)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tg-gen", default=os.path.join(ROOT, "build-gen", "tools", "tg-gen"))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()
    tg = os.path.abspath(a.tg_gen)
    tmp = tempfile.mkdtemp(prefix="tg-gen-test.")
    try:
        # Determinism.
        p1 = gen(tg, tmp, "d1.pcap", "--count", "5000", "--seed", "42", "--link", "all")
        p2 = gen(tg, tmp, "d2.pcap", "--count", "5000", "--seed", "42", "--link", "all")
        p3 = gen(tg, tmp, "d3.pcap", "--count", "5000", "--seed", "43", "--link", "all")
        check(filecmp.cmp(p1, p2, shallow=False), "same arguments give byte-identical pcaps")
        check(not filecmp.cmp(p1, p3, shallow=False), "another seed gives another pcap")

        # Sizes.
        kor = gen(tg, tmp, "kor.pcap", "--count", "20000", "--seed", "1", "--link", "kor-us",
                  "--manifest", os.path.join(tmp, "kor.jsonl"))
        jpn = gen(tg, tmp, "jpn.pcap", "--count", "20000", "--seed", "2", "--link", "jpn-us")
        s = payload_sizes(kor)
        med = statistics.median(s)
        check(550 <= med <= 750, f"default mix median payload {med} B is near 650 B")
        check(min(s) >= 16 and max(s) <= 9300, f"default sizes {min(s)}..{max(s)} B")
        small = gen(tg, tmp, "small.pcap", "--mix", "small", "--count", "2000", "--seed", "3",
                    "--link", "jpn-us")
        ms = statistics.median(payload_sizes(small))
        check(200 <= ms <= 300, f"small mix median payload {ms} B is near 250 B")
        with open(os.path.join(tmp, "kor.jsonl")) as f:
            man = [json.loads(x) for x in f]
        check(len(man) == 20000 and len({m["uid"] for m in man}) == 20000,
              "manifest: one line and one unique uid per message")

        # Readability.
        from scapy.all import rdpcap  # noqa: E402
        nframes = sum(1 for _ in tgpcap.read_pcap(p1))
        check(len(rdpcap(p1)) == nframes, f"scapy reads all {nframes} frames")
        if shutil.which("tshark"):
            r = run(["tshark", "-r", p1, "-T", "fields", "-e", "frame.number"])
            check(len(r.stdout.split()) == nframes, "tshark reads every frame")
            r = run(["tshark", "-r", p1, "-Y", "ip.flags.mf == 1 || ipv6.fragment", "-T",
                     "fields", "-e", "frame.number"])
            check(len(r.stdout.split()) > 0, "there are IP fragments")
        else:
            print("skip tshark: not installed")

        # Oracle on the demo policy.
        out = os.path.join(tmp, "exp")
        r = run([PY, os.path.join(ORACLE_DIR, "oracle.py"), "--policy", POLICY,
                 "--link", f"kor-us={kor}", "--link", f"jpn-us={jpn}", "--out", out,
                 "--now", "1714564800"])
        summ = json.loads(r.stdout)
        for peer in ("kor", "jpn", "usa"):
            n = summ["peers"][peer]["released"]
            check(n > 0, f"oracle releases {n} messages to {peer}")
        mr = summ["message_reasons"]
        for reason in ("parse", "bad_marking", "blocked", "not_track", "too_big"):
            check(mr.get(reason, 0) > 0, f"oracle sees '{reason}' drops ({mr.get(reason, 0)})")
        check(set(summ["blocked_by"]) >= {"dirty-word", "noforn-caveat", "unflagged-exercise"},
              "every demo block rule fires")
        with open(os.path.join(out, "kor.jsonl")) as f:
            kor_rel = [json.loads(x) for x in f]
        check(all(x["link"] == "jpn-us" for x in kor_rel), "kor never gets its own link's traffic")

        # warnings-only is all valid; hostile is half malformed.
        w = gen(tg, tmp, "w.pcap", "--mix", "warnings-only", "--count", "3000", "--seed", "5",
                "--link", "kor-us")
        h = gen(tg, tmp, "h.pcap", "--mix", "hostile", "--count", "3000", "--seed", "6",
                "--link", "jpn-us")
        rw = json.loads(run([PY, os.path.join(ORACLE_DIR, "oracle.py"), "--policy", POLICY,
                             "--link", f"kor-us={w}", "--now", "1714564800"]).stdout)
        bad = sum(rw["message_reasons"].get(k, 0) for k in ("parse", "bad_marking", "too_big"))
        check(bad == 0 and rw["messages"] == 3000, "warnings-only: 3000 messages, all valid")
        rh = json.loads(run([PY, os.path.join(ORACLE_DIR, "oracle.py"), "--policy", POLICY,
                             "--link", f"jpn-us={h}", "--now", "1714564800"]).stdout)
        # (the "bf 01 bf" + junk ones are "encoding" on a link that takes XML only)
        bad = sum(rh["message_reasons"].get(k, 0) for k in ("parse", "bad_marking", "encoding"))
        check(0.4 <= bad / 3000 <= 0.6, f"hostile: {bad}/3000 malformed")

        # Stale check: a policy that checks stale, an hour after --now.
        import yaml
        with open(POLICY) as f:
            pol = yaml.safe_load(f)
        pol["settings"]["ignore_stale"] = False
        sp = os.path.join(tmp, "stale.yaml")
        with open(sp, "w") as f:
            yaml.safe_dump(pol, f)
        fresh = json.loads(run([PY, os.path.join(ORACLE_DIR, "oracle.py"), "--policy", sp,
                                "--link", f"kor-us={w}", "--now", "1714564890"]).stdout)
        late = json.loads(run([PY, os.path.join(ORACLE_DIR, "oracle.py"), "--policy", sp,
                               "--link", f"kor-us={w}", "--now", "1714568400"]).stdout)
        check(fresh["message_reasons"].get("stale", 0) == 0,
              "stale = now+60 s, checked 90 s later with 30 s tolerance: not stale")
        check(late["message_reasons"].get("stale", 0) == 3000, "an hour later: all stale")

        # compare.py: a perfect usa output passes, a wrong one fails.
        from scapy.all import Ether, IP, UDP, wrpcap  # noqa: E402
        import hashlib
        want = {}
        with open(os.path.join(out, "usa.jsonl")) as f:
            for line in f:
                want[json.loads(line)["sha256"]] = True
        pl = {}
        for src in (kor, jpn):
            for k, d in tgpcap.datagrams(src):
                if k == "udp":
                    hsh = hashlib.sha256(d[4]).hexdigest()
                    if hsh in want:
                        pl[hsh] = d[4]
        check(len(pl) == len(want), "every expected usa release is an input payload")
        eth = Ether(src="02:00:00:00:01:03", dst="02:00:00:00:84:01")
        pk = [eth / IP(src="192.0.2.1", dst="192.0.2.84") / UDP(sport=6969, dport=6970) / p
              for p in pl.values()]
        good = os.path.join(tmp, "usa-good.pcap")
        wrpcap(good, pk)
        cmp = [PY, os.path.join(ORACLE_DIR, "compare.py"), "--expected", out]
        r = subprocess.run(cmp + ["--actual-pcap", f"usa={good}"], capture_output=True)
        check(r.returncode == 0, "compare: exact usa output passes")
        bad_pk = pk[1:] + [eth / IP(src="192.0.2.1", dst="192.0.2.84") / UDP(dport=6970) / b"<event uid='x'/>"]
        badp = os.path.join(tmp, "usa-bad.pcap")
        wrpcap(badp, bad_pk)
        r = subprocess.run(cmp + ["--actual-pcap", f"usa={badp}"], capture_output=True,
                           text=True)
        rep = json.loads(r.stdout) if r.stdout else {}
        u = rep.get("peers", {}).get("usa", {})
        check(r.returncode == 1 and u.get("missed") == 1 and u.get("wrongful") == 1,
              "compare: one missed and one wrongful release are reported, exit 1")

        # TAK Protocol Version 1: the same events as the XML form.
        pb = compile_protos(tmp)
        check_v1(tg, tmp, pb, "default", 11, "kor-us", 6000)
        check_v1(tg, tmp, pb, "small", 12, "jpn-us", 2000)
        check_v1(tg, tmp, pb, "warnings-only", 13, "jpn-us", 2000)
        check_v1(tg, tmp, pb, "hostile", 14, "all", 6000)
        check_mixed(tg, tmp, pb)
    finally:
        if a.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
