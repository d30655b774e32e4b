#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_takproto_oracle.py - the oracle's TAK Protocol Version 1 reading.

    test_takproto_oracle.py [--messages N] [--seed S] [-v]

Checks tests/oracle/takproto.py and the v1 paths of oracle.py against
docs/release.md section 2 and section 6, and against python3-protobuf:

1. N seeded well-formed messages written by python3-protobuf (the schema of
   tests/proto/, compiled with protoc into a temporary directory): random
   field sets, unicode strings, typed detail and xmlDetail, the legacy form
   of CotEvent 16/17 (takproto_legacy.proto), unknown fields, repeated
   scalars (protobuf's last one wins).  The walker must accept each and
   decode exactly what python3-protobuf decodes; oracle.parse_cot() must
   give the expected detail text D (built here by separate code), callsign,
   remarks, links and track; the XML conversion oracle.to_xml() must read
   back, by the XML path, as the same event;
2. hand-built byte strings for every refusal rule of section 2, each with
   the message-level reason and the parse error expected, and a few that
   must be accepted (overlong varints, unknown fields, bounds);
3. a few exact XML conversions (golden bytes) and Oracle.message() verdicts
   under link `encodings` and peer `encoding`.

Deterministic (seeded); exits 1 on any failure.  Needs protoc and
python3-protobuf (Debian: protobuf-compiler, python3-protobuf).
"""

import argparse
import atexit
import hashlib
import importlib
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import oracle  # noqa: E402
import takproto as tp  # noqa: E402
from takproto import f_double, f_fixed32, f_fixed64, f_len, f_varint  # noqa: E402

H = tp.HEADER
FAILS = []


def fail(name, why, payload=None):
    FAILS.append((name, why, payload))


def compile_protos():
    """protoc --python_out of tests/proto/*.proto into a temporary dir."""
    out = tempfile.mkdtemp(prefix="tg-takproto-")
    atexit.register(shutil.rmtree, out, True)
    pdir = os.path.join(ROOT, "tests", "proto")
    protos = sorted(os.path.join(pdir, f) for f in os.listdir(pdir) if f.endswith(".proto"))
    subprocess.run(["protoc", f"-I{pdir}", f"--python_out={out}"] + protos, check=True)
    sys.path.insert(0, out)
    return (importlib.import_module("takproto_pb2"),
            importlib.import_module("takproto_legacy_pb2"))


# --------------------------------------------------------------------------
# python3-protobuf's decoding, as the walker's dicts

SUBS = {"takControl": "TakControl", "cotEvent": "CotEvent", "detail": "Detail",
        "contact": "Contact", "group": "Group", "precisionLocation": "PrecisionLocation",
        "status": "Status", "takv": "Takv", "track": "Track"}


def pb_dict(msg, mname):
    out = {}
    for name, kind in tp.SCHEMA[mname].values():
        if kind.startswith("msg:"):
            out[name] = pb_dict(getattr(msg, name), kind[4:]) if msg.HasField(name) else None
        elif kind in ("str", "bstr", "raw"):
            v = getattr(msg, name)
            out[name] = v if v != "" else None
        else:
            out[name] = getattr(msg, name)
    return out


def strip_legacy(d):
    if isinstance(d, dict):
        return {k: strip_legacy(v) for k, v in d.items() if k != "legacy"}
    return d


def same(a, b):
    """Equal dicts, doubles compared bit for bit (so -0.0 != 0.0)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, bytes) and isinstance(b, str):
        # xmlDetail: the walker keeps its bytes for the XML rules of the rest
        return a == b.encode("utf-8")
    return type(a) == type(b) and a == b


# --------------------------------------------------------------------------
# Generated messages

ALPHA = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_./:,")
         + ["&", "<", ">", '"', "'", "\t", "\n", "\r", "\u00e9", "\u2192", "\U0001f680",
            "\ufdd0", "\ue000", "\ufffd", "\x7f", "\x85", "]]>", "&amp;", "\u00a0"])


def rstr(rng, maxbytes=256, minlen=1):
    n = rng.choice([minlen, minlen, rng.randint(minlen, 12), rng.randint(minlen, 300)])
    s = ""
    for _ in range(n):
        c = rng.choice(ALPHA)
        if len((s + c).encode()) > maxbytes:
            break
        s += c
    if len(s) < minlen:
        s = "x" * minlen
    return s


def rnum(rng, lo, hi):
    r = rng.random()
    if r < 0.15:
        return rng.choice([v for v in (0.0, -0.0, lo, hi, 5e-324, 1e-300, 0.1, 1 / 3)
                           if lo <= v <= hi])
    if r < 0.3:
        return float(rng.randint(int(max(lo, -1e9)), int(min(hi, 1e9))))
    if r < 0.4 and hi > 1e300:
        return rng.choice([1e308, 1.7976931348623157e308, 123456789012345678.0])
    if r < 0.5 and lo < -1e300:
        return -rng.choice([1e308, 1.5e-310, 9.87654321e200])
    x = hi * rng.random() if rng.random() < 0.5 else lo * rng.random()
    return x if lo <= x <= hi else 0.0


BIG = 1.7976931348623157e308
XML_TEXT_ESC = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}


def text_esc(s):
    return "".join(XML_TEXT_ESC.get(c, c) for c in s)


def gen_xml_detail(rng):
    """(xmlDetail, expected: dict of what the XML rules give, set of direct
    child element names)."""
    parts, exp, names = [], {"callsign": None, "remarks": None, "links": [],
                             "track": None}, set()
    pool = ["remarks", "link", "uid", "flow", "nested", "contact", "track", "__group",
            "status", "takv", "precisionlocation", "text", "comment", "cdata-remarks"]
    for _ in range(rng.randint(0, 7)):
        k = rng.choice(pool)
        if k in ("remarks", "cdata-remarks", "contact", "track", "__group", "status", "takv",
                 "precisionlocation") and (k in names or (k == "cdata-remarks"
                                                          and "remarks" in names)):
            continue
        if k == "remarks":
            t = rstr(rng, 600, 0).replace("\r", "")
            parts.append(f"<remarks>{text_esc(t)}</remarks>")
            exp["remarks"] = t
            names.add("remarks")
        elif k == "cdata-remarks":
            parts.append("<remarks>a<!-- c --><![CDATA[<b> & ]]></remarks>")
            exp["remarks"] = "a<b> & "
            names.add("remarks")
        elif k == "link":
            if len(exp["links"]) == 8:
                continue
            u = rstr(rng, 256)
            parts.append(f'<link uid="{tp.escape(u)}" relation="p-p"/>')
            exp["links"].append({"uid": u, "relation": "p-p"})
            names.add("link")
        elif k == "uid":
            parts.append('<uid Droid="VIPER 1"/>')
            names.add("uid")
        elif k == "flow":
            parts.append('<_flow-tags_ TAK-Server-f1a8="2024-05-01T12:00:00Z"/>')
            names.add("_flow-tags_")
        elif k == "nested":
            parts.append('<a><contact callsign="nested"/><track course="999"/><link/></a>')
            names.add("a")
        elif k == "contact":
            c = rstr(rng, 256)
            parts.append(f'<contact endpoint="*:-1:stcp" callsign="{tp.escape(c)}"/>')
            exp["callsign"] = c
            names.add("contact")
        elif k == "track":
            parts.append('<track course="274.1" speed="0.0" slope="-1"/>')
            exp["track"] = {"course": 274.1, "speed": 0.0, "slope": -1.0}
            names.add("track")
        elif k == "text":
            parts.append(text_esc(rstr(rng, 40)))
        elif k == "comment":
            parts.append("<!-- <contact callsign='no'/> -->")
        else:
            parts.append(f"<{k}/>")
            names.add(k)
    return "".join(parts), exp, names


def gen_message(rng, pb, legacy_pb):
    """A well-formed TakMessage (bytes after the header) and what it holds."""
    legacy = rng.random() < 0.2
    m = legacy_pb.TakMessage() if legacy else pb.TakMessage()
    e = m.cotEvent
    e.type = rstr(rng)
    e.uid = rstr(rng)
    e.how = rstr(rng)
    for k in ("access", "qos", "opex") + (() if legacy else ("caveat", "releaseableTo")):
        if rng.random() < 0.5:
            setattr(e, k, rstr(rng))
    if legacy:
        for k in ("submissionTime", "creationTime"):
            if rng.random() < 0.7:
                setattr(e, k, rng.choice([0, 1, 1714564800000, 2 ** 64 - 1]))
    for k in ("sendTime", "startTime", "staleTime"):
        if rng.random() < 0.9:
            setattr(e, k, rng.choice([0, 1, 1714564800000, tp.MAX_TIME,
                                      rng.randint(0, tp.MAX_TIME)]))
    if rng.random() < 0.9:
        e.lat = rnum(rng, -90, 90)
    if rng.random() < 0.9:
        e.lon = rnum(rng, -180, 180)
    if rng.random() < 0.7:
        e.hae = rnum(rng, -BIG, BIG)
    for k in ("ce", "le"):
        if rng.random() < 0.8:
            setattr(e, k, rnum(rng, 0, BIG))
    exp = {"names": set(), "xml": None, "typed": {}}
    if rng.random() < 0.85:
        d = e.detail
        d.SetInParent()
        if rng.random() < 0.7:
            xd, xexp, names = gen_xml_detail(rng)
            d.xmlDetail = xd
            exp["xml"], exp["names"] = xexp, names
        if rng.random() < 0.6:
            d.contact.SetInParent()
            if rng.random() < 0.7:
                d.contact.endpoint = rstr(rng)
            if rng.random() < 0.8:
                d.contact.callsign = rstr(rng)
        if rng.random() < 0.4:
            d.group.SetInParent()
            if rng.random() < 0.8:
                d.group.name = rstr(rng)
            if rng.random() < 0.8:
                d.group.role = rstr(rng)
        if rng.random() < 0.3:
            d.precisionLocation.SetInParent()
            if rng.random() < 0.8:
                d.precisionLocation.geopointsrc = rstr(rng)
            if rng.random() < 0.5:
                d.precisionLocation.altsrc = rstr(rng)
        if rng.random() < 0.4:
            d.status.SetInParent()
            if rng.random() < 0.8:
                d.status.battery = rng.choice([0, 88, 100, 2 ** 32 - 1])
        if rng.random() < 0.3:
            d.takv.SetInParent()
            for k in ("device", "platform", "os", "version"):
                if rng.random() < 0.7:
                    setattr(d.takv, k, rstr(rng))
        if rng.random() < 0.5:
            d.track.SetInParent()
            if rng.random() < 0.8:
                d.track.speed = rnum(rng, 0, BIG)
            if rng.random() < 0.8:
                d.track.course = rnum(rng, 0, 360)
    if rng.random() < 0.2:
        c = m.takControl
        c.SetInParent()
        c.minProtoVersion = rng.choice([0, 1, 2 ** 32 - 1])
        c.maxProtoVersion = rng.choice([0, 1])
        if rng.random() < 0.5:
            c.contactUid = rstr(rng, 1000)
    if not legacy and rng.random() < 0.3:
        m.submissionTime = rng.choice([1, 2 ** 64 - 1])
        m.creationTime = rng.randint(0, 2 ** 40)
    body = m.SerializeToString(deterministic=True)
    return body, m, legacy, exp


def add_unknown(rng, body):
    """Unknown fields (all four wire types) after the TakMessage's own."""
    extra = b""
    for _ in range(rng.randint(1, 4)):
        fnum = rng.choice([5, 18, 99, 1000, 2 ** 29 - 1])
        wt = rng.choice([0, 1, 2, 5])
        if wt == 0:
            extra += f_varint(fnum, rng.choice([0, 1, 2 ** 64 - 1]))
        elif wt == 1:
            extra += f_fixed64(fnum, rng.getrandbits(64))
        elif wt == 2:
            extra += f_len(fnum, bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 20))))
        else:
            extra += f_fixed32(fnum, rng.getrandbits(32))
    return body + extra


def expected_d(m, exp):
    """D from python3-protobuf's message, written here by separate code."""
    if not m.cotEvent.HasField("detail"):
        return None
    d = m.cotEvent.detail

    def esc(s):
        for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"),
                     ("\t", "&#9;"), ("\n", "&#10;"), ("\r", "&#13;")):
            s = s.replace(a, b)
        return s

    def num(x):
        if x == 0:
            return "-0" if str(x).startswith("-") else "0"
        for prec in (15, 17):
            s = format(x, f".{prec}g")
            if float(s) == x:
                return s
        return s

    out = d.xmlDetail
    table = (("contact", "contact", ("endpoint", "callsign")),
             ("group", "__group", ("name", "role")),
             ("precisionLocation", "precisionlocation", ("geopointsrc", "altsrc")),
             ("status", "status", ()), ("takv", "takv", ("device", "platform", "os", "version")),
             ("track", "track", ()))
    for fld, tag, strs in table:
        if not d.HasField(fld) or tag in exp["names"]:
            continue
        sub = getattr(d, fld)
        attrs = [f'{k}="{esc(getattr(sub, k))}"' for k in strs if getattr(sub, k)]
        if fld == "status":
            attrs = [f'battery="{sub.battery}"']
        if fld == "track":
            attrs = [f'speed="{num(sub.speed)}"', f'course="{num(sub.course)}"']
        out += "<" + tag + "".join(" " + a for a in attrs) + "/>"
    return out.encode()


def check_generated(pb, legacy_pb, n, seed, verbose):
    rng = random.Random(seed)
    for i in range(n):
        body, m, legacy, exp = gen_message(rng, pb, legacy_pb)
        name = f"gen {i}{' legacy' if legacy else ''}"
        variant = rng.random()
        if variant < 0.2:
            body = add_unknown(rng, body)
        elif variant < 0.35:
            # a second CotEvent's scalars merged into the first: python3-protobuf
            # merges repeated cotEvent fields, so write them into the one event.
            ev = m.cotEvent
            more = b""
            for fnum in (1, 3, 5, 9):       # type, qos, uid, how
                if rng.random() < 0.5:
                    more += f_len(fnum, rstr(rng))
            for fnum in (6, 8):             # sendTime, staleTime
                if rng.random() < 0.5:
                    more += f_varint(fnum, rng.randint(0, tp.MAX_TIME))
            if rng.random() < 0.5:
                more += f_double(10, rnum(rng, -90, 90))
            evb = ev.SerializeToString(deterministic=True) + more
            m2 = type(m)()
            m2.CopyFrom(m)
            m2.ClearField("cotEvent")
            body = f_len(2, evb) + m2.SerializeToString(deterministic=True)
        payload = H + body
        # python3-protobuf's reading, through the v1 schema
        ref = pb.TakMessage()
        ref.ParseFromString(body)
        want = pb_dict(ref, "TakMessage")
        try:
            got = tp.decode(payload)
        except tp.Refused as e:
            fail(name, f"walker refused a well-formed message: {e.args}", payload)
            continue
        if not same(strip_legacy(got), want):
            fail(name, f"walker {strip_legacy(got)} != python3-protobuf {want}", payload)
            continue
        if legacy:
            ls = {k: getattr(m.cotEvent, k) for k in ("submissionTime", "creationTime")
                  if getattr(m.cotEvent, k)}
            if got["cotEvent"]["legacy"] != ls:
                fail(name, f"legacy 16/17 {got['cotEvent']['legacy']} != {ls}", payload)
            for k in ("caveat", "releaseableTo"):
                if got["cotEvent"][k] is not None:
                    fail(name, f"legacy: {k} read as a marking", payload)
        # the oracle's event: fields, D and what the XML rules read from it
        try:
            f = oracle.parse_cot(payload)
            h = oracle.parse_cot_head(payload)
        except oracle.Bad as e:
            fail(name, f"oracle refused: {e.args}", payload)
            continue
        ev = ref.cotEvent
        for k, pk in (("uid", "uid"), ("type", "type"), ("how", "how"), ("access", "access"),
                      ("qos", "qos"), ("opex", "opex"), ("caveat", "caveat"),
                      ("rel", "releaseableTo")):
            w = getattr(ev, pk) or None
            if f[k] != w or h[k] != w:
                fail(name, f"{k}: {f[k]!r} / head {h[k]!r}, want {w!r}", payload)
        for k, pk in (("time_ms", "sendTime"), ("start_ms", "startTime"),
                      ("stale_ms", "staleTime")):
            if f[k] != getattr(ev, pk) or h[k] != getattr(ev, pk):
                fail(name, f"{k}: {f[k]}, want {getattr(ev, pk)}", payload)
        for k in oracle.POINT_REQUIRED:
            if not same(f[k], getattr(ev, k)):
                fail(name, f"{k}: {f[k]!r}, want {getattr(ev, k)!r}", payload)
        wd = expected_d(ref, exp)
        if f["detail"] != wd:
            fail(name, f"D {f['detail']!r}\n     want {wd!r}", payload)
            continue
        xe = exp["xml"] or {"callsign": None, "remarks": None, "links": [], "track": None}
        d = ref.cotEvent.detail
        has_d = ref.cotEvent.HasField("detail")
        w_call = xe["callsign"]
        if w_call is None and has_d and d.HasField("contact") and "contact" not in exp["names"]:
            w_call = d.contact.callsign or None
        w_track = xe["track"]
        if w_track is None and has_d and d.HasField("track") and "track" not in exp["names"]:
            w_track = {"speed": d.track.speed, "course": d.track.course}
        for k, w in (("callsign", w_call), ("remarks", xe["remarks"]),
                     ("track", w_track)):
            if not same(f[k], w):
                fail(name, f"{k}: {f[k]!r}, want {w!r}", payload)
        wl = [{"uid": x["uid"], "relation": x["relation"]} for x in xe["links"]]
        if f["links"] != wl:
            fail(name, f"links {f['links']} want {wl}", payload)
        # the XML conversion reads back as the same event
        x = oracle.to_xml(f)
        try:
            g = oracle.parse_cot(x)
        except oracle.Bad as e:
            fail(name, f"to_xml() refused by the XML path: {e.args}: {x!r}", payload)
            continue
        for k in ("uid", "type", "how", "access", "qos", "opex", "caveat", "rel", "callsign",
                  "remarks", "detail", "time_ms", "start_ms", "stale_ms", "links", "track",
                  "lat", "lon", "hae", "ce", "le", "version"):
            if not same(f[k], g[k]):
                fail(name, f"to_xml(): {k} {f[k]!r} reads back as {g[k]!r}", payload)
        if g["releasableTo"] != f["rel"] or g["releaseableTo"] is not None:
            fail(name, "to_xml(): the marking is not written as releasableTo", payload)
        if verbose:
            print(f"ok   {name}")


# --------------------------------------------------------------------------
# Hand-built messages: (name, payload, reason, code).  reason None = accepted
# (by the head and by the whole parse); ("head-ok", "parse") = the head
# accepts and the rest (D) is refused.

T0 = 1714564800000


def evb(*extra, type_="a-h-A-W-M-S-S", uid="MW-1", how="m-r", stale=T0 + 30000):
    b = b""
    if type_ is not None:
        b += f_len(1, type_)
    if uid is not None:
        b += f_len(5, uid)
    b += f_varint(6, T0) + f_varint(7, T0)
    if stale is not None:
        b += f_varint(8, stale)
    if how is not None:
        b += f_len(9, how)
    b += f_double(10, 38.5) + f_double(11, 127.0) + f_double(13, 10.0)
    return b + b"".join(extra)


def tm(*ev_extra, tail=b"", **kw):
    return H + f_len(2, evb(*ev_extra, **kw)) + tail


def detail(*fields):
    return f_len(15, b"".join(fields))


def xmld(s):
    return detail(f_len(1, s))


def ctl(*fields):
    return f_len(1, b"".join(fields))


def varint_raw(fnum, raw):
    return tp.enc_key(fnum, 0) + raw


def with_wt(fnum, wt):
    if wt == 0:
        return f_varint(fnum, 1)
    if wt == 1:
        return f_fixed64(fnum, 0)
    if wt == 2:
        return f_len(fnum, b"")
    return f_fixed32(fnum, 0)


def wrong_wire_cases():
    """A known field of each message with each other wire type."""
    out = []
    for mname, fields in tp.SCHEMA.items():
        for fnum, (name, kind) in fields.items():
            want = 2 if kind.startswith("msg:") else tp.WIRE_OF[kind]
            for wt in (0, 1, 2, 5):
                if wt == want:
                    continue
                fld = with_wt(fnum, wt)
                if mname == "CotEvent" and fnum in (16, 17) and wt == 0:
                    code = None  # the legacy timestamp
                else:
                    code = "wire_type"
                if mname == "TakMessage":
                    p = H + fld + f_len(2, evb())
                elif mname == "TakControl":
                    p = H + ctl(fld) + f_len(2, evb())
                elif mname == "CotEvent":
                    p = tm(fld)
                elif mname == "Detail":
                    p = tm(detail(fld))
                else:
                    dfield = {v[1][4:]: k for k, v in tp.SCHEMA["Detail"].items()
                              if v[1].startswith("msg:")}[mname]
                    p = tm(detail(f_len(dfield, fld)))
                out.append((f"wt-{mname}.{name}-as-{wt}", p,
                            None if code is None else "parse", code))
    return out


def bad_utf8_cases():
    out = []
    for nm, raw in (("ff", b"\xff"), ("overlong", b"\xc0\xaf"), ("surrogate", b"\xed\xa0\x80"),
                    ("past-10ffff", b"\xf4\x90\x80\x80"), ("truncated", b"ab\xe2\x82"),
                    ("nul", b"a\x00b"), ("ctl-01", b"\x01"), ("ctl-0b", b"a\x0bb"),
                    ("ctl-1f", b"\x1f"), ("fffe", "\ufffe".encode()),
                    ("ffff", "x\uffff".encode())):
        out.append((f"str-{nm}-type", tm(type_=raw), "parse", "malformed"))
        out.append((f"str-{nm}-access", tm(f_len(2, raw)), "parse", "malformed"))
        out.append((f"str-{nm}-callsign", tm(detail(f_len(2, f_len(2, raw)))), "parse",
                    "malformed"))
        # xmlDetail is XML, read in the rest step (release.md §2): the head
        # accepts it, the whole parse refuses it
        out.append((f"str-{nm}-xmlDetail", tm(detail(f_len(1, b"<x/>" + raw))),
                    ("head-ok", "parse"), None))
        out.append((f"str-{nm}-contactUid", H + ctl(f_len(3, raw)) + f_len(2, evb()),
                    "parse", "malformed"))
    for nm, s in (("tab-lf-cr", "a\tb\nc\rd"), ("del", "a\x7fb"), ("c1", "a\x85b"),
                  ("fdd0", "\ufdd0"), ("fffd", "\ufffd"), ("astral", "\U0010fffd")):
        out.append((f"str-{nm}-ok", tm(f_len(3, s), detail(f_len(2, f_len(2, s)))),
                    None, None))
    return out


def long_d(xmlpad):
    """xmlDetail of xmlpad bytes and typed strings of 256 '"' each, which
    escaping makes six times longer in D."""
    q = b'"' * 256
    typed = b"".join(f_len(f, b"".join(f_len(k, q) for k in range(1, (4 if f == 6 else 2) + 1)))
                     for f in (2, 3, 4, 6))
    return tm(detail(f_len(1, b"x" * xmlpad) + typed))


def hand_cases():
    big = 2 ** 64 - 1
    c = [
        # header and framing
        ("ok-minimal", tm(), None, None),
        # D over 65,535 bytes: refused in the rest step (release.md §2)
        ("d-over-65535", long_d(60000), ("head-ok", "parse"), "oversize"),
        ("d-just-fits", long_d(50000), None, None),
        ("ok-takcontrol-and-event", H + ctl(f_varint(1, 1), f_varint(2, 1)) + f_len(2, evb()),
         None, None),
        ("ok-event-then-takcontrol", H + f_len(2, evb()) + ctl(f_len(3, "x")), None, None),
        ("empty-takmessage", H, "parse", "missing"),
        ("only-submission-time", H + f_varint(3, 5), "parse", "missing"),
        ("takcontrol-only", H + ctl(f_varint(1, 1), f_varint(2, 1)), "tak_control",
         "tak_control"),
        ("takcontrol-only-empty", H + ctl(), "tak_control", "tak_control"),
        ("takcontrol-only-bad-version", H + ctl(f_varint(1, 2 ** 32)), "parse", "range"),
        ("takcontrol-only-then-junk", H + ctl() + b"\x80", "parse", "protobuf"),
        ("v1-then-xml", H + b'<event version="2.0"/>', "parse", "protobuf"),
        ("xml-starting-bf", b"\xbf<event/>", "parse", None),
        ("bf-02-bf", b"\xbf\x02\xbf" + f_len(2, evb()), "parse", None),
        ("bf-81-00-bf", b"\xbf\x81\x00\xbf" + f_len(2, evb()), "parse", None),
        ("bf-01-no-bf", b"\xbf\x01" + f_len(2, evb()), "parse", None),
        ("bf-stream-length", b"\xbf\x10" + f_len(2, evb()), "parse", None),
        ("bf-alone", b"\xbf", "parse", None),
        ("v0-then-protobuf", b"\xbf\x00\xbf" + f_len(2, evb()), "parse", None),
        # varints
        ("varint-truncated-key", H + b"\x92", "parse", "protobuf"),
        ("varint-truncated-length", H + b"\x12\x80", "parse", "protobuf"),
        ("varint-truncated-value", tm(b"\x30\xff\xff"), "parse", "protobuf"),
        ("varint-11-bytes", tm(varint_raw(99, b"\x80" * 10 + b"\x00")), "parse", "protobuf"),
        ("varint-10th-byte-02", tm(varint_raw(99, b"\xff" * 9 + b"\x02")), "parse",
         "protobuf"),
        ("varint-10th-byte-80", tm(varint_raw(99, b"\xff" * 9 + b"\x80\x00")), "parse",
         "protobuf"),
        ("ok-varint-10-bytes-unknown", tm(varint_raw(99, b"\xff" * 9 + b"\x01")), None, None),
        ("ok-varint-overlong-key", H + b"\x92\x00" + tp.enc_varint(len(evb())) + evb(),
         None, None),
        ("ok-varint-overlong-length", H + b"\x12" + bytes([len(evb()) & 0x7F | 0x80,
                                                            len(evb()) >> 7 | 0x80, 0x00])
         + evb(), None, None),
        ("ok-varint-overlong-10-bytes", tm(varint_raw(6, b"\x81" + b"\x80" * 8 + b"\x00")),
         None, None),
        ("time-10-bytes-max", tm(varint_raw(6, b"\xff" * 9 + b"\x01")), "parse", "range"),
        # keys
        ("field-number-0", tm(b"\x00\x00"), "parse", "protobuf"),
        ("field-number-0-len", tm(b"\x02\x00"), "parse", "protobuf"),
        ("field-number-0-top", H + b"\x00\x00" + f_len(2, evb()), "parse", "protobuf"),
        ("key-2^32", tm(tp.enc_varint(2 ** 32) + b"\x00"), "parse", "protobuf"),
        ("key-2^35-overflow", tm(tp.enc_varint(2 ** 35 | 0x12) + b"\x00"), "parse",
         "protobuf"),
        ("ok-key-max", tm(tp.enc_varint((2 ** 29 - 1) << 3) + b"\x00"), None, None),
        ("key-2^64", tm(b"\xff" * 9 + b"\x01" + b"\x00"), "parse", "protobuf"),
        # wire types 3, 4, 6, 7: refused in unknown fields too
        ("wt3-unknown-event", tm(tp.enc_key(99, 3) + tp.enc_key(99, 4)), "parse", "protobuf"),
        ("wt4-unknown-event", tm(tp.enc_key(99, 4)), "parse", "protobuf"),
        ("wt6-unknown-event", tm(tp.enc_key(99, 6) + b"\x00"), "parse", "protobuf"),
        ("wt7-unknown-event", tm(tp.enc_key(99, 7) + b"\x00"), "parse", "protobuf"),
        ("wt3-unknown-top", H + f_len(2, evb()) + tp.enc_key(5, 3) + tp.enc_key(5, 4),
         "parse", "protobuf"),
        ("wt3-known-field", tm(tp.enc_key(1, 3) + tp.enc_key(1, 4)), "parse", "protobuf"),
        ("wt4-unknown-detail", tm(detail(tp.enc_key(9, 4))), "parse", "protobuf"),
        ("wt6-unknown-contact", tm(detail(f_len(2, tp.enc_key(9, 6)))), "parse",
         "protobuf"),
        ("wt7-unknown-takcontrol", H + ctl(tp.enc_key(9, 7)) + f_len(2, evb()), "parse",
         "protobuf"),
        # lengths
        ("length-past-end", H + b"\x12\x05abc", "parse", "protobuf"),
        ("length-past-end-event", H + f_len(2, evb()) [:-1], "parse", "protobuf"),
        ("nested-length-past-parent",
         H + f_len(2, evb(b"\x22\x10")) + f_len(99, b"x" * 20), "parse", "protobuf"),
        ("nested-detail-past-event",
         H + f_len(2, evb(b"\x7a\x08")) + f_len(99, b"x" * 20), "parse", "protobuf"),
        ("fixed64-short", tm(b"\x51" + b"\x00" * 7), "parse", "protobuf"),
        ("fixed32-short-unknown", tm(tp.enc_key(99, 5) + b"\x00" * 3), "parse", "protobuf"),
        ("length-2^64", H + b"\x12" + b"\xff" * 9 + b"\x01", "parse", "protobuf"),
        # CotEvent 16 and 17
        ("legacy-16-17-varint", tm(f_varint(16, T0), f_varint(17, big)), None, None),
        ("legacy-16-varint-twice", tm(f_varint(16, 1), f_varint(16, 2)), None, None),
        ("legacy-16-fixed64", tm(f_fixed64(16, T0)), "parse", "wire_type"),
        ("legacy-17-fixed64", tm(f_fixed64(17, T0)), "parse", "wire_type"),
        ("legacy-16-fixed32", tm(f_fixed32(16, 1)), "parse", "wire_type"),
        ("caveat-string-and-legacy", tm(f_varint(16, 1), f_len(16, "NOFORN")), None, None),
        # duplicates
        ("dup-access", tm(f_len(2, "S"), f_len(2, "S")), "parse", "dup_marking"),
        ("dup-access-empty", tm(f_len(2, ""), f_len(2, "S")), "parse", "dup_marking"),
        ("dup-caveat", tm(f_len(16, "NOFORN"), f_len(16, "")), "parse", "dup_marking"),
        ("dup-releaseableTo", tm(f_len(17, "USA"), f_len(17, "KOR")), "parse",
         "dup_marking"),
        ("ok-access-caveat-rel", tm(f_len(2, "S"), f_len(16, "NOFORN"), f_len(17, "USA")),
         None, None),
        ("dup-cotevent", H + f_len(2, evb()) + f_len(2, evb()), "parse", "dup_elem"),
        ("dup-cotevent-empty", H + f_len(2, evb()) + f_len(2, b""), "parse", "dup_elem"),
        ("dup-takcontrol", H + ctl() + ctl() + f_len(2, evb()), "parse", "dup_elem"),
        ("dup-detail", tm(detail(), detail()), "parse", "dup_elem"),
        ("dup-contact", tm(detail(f_len(2, b""), f_len(2, b""))), "parse", "dup_elem"),
        ("dup-group", tm(detail(f_len(3, b""), f_len(3, b""))), "parse", "dup_elem"),
        ("dup-precisionlocation", tm(detail(f_len(4, b""), f_len(4, b""))), "parse",
         "dup_elem"),
        ("dup-status", tm(detail(f_len(5, b""), f_len(5, b""))), "parse", "dup_elem"),
        ("dup-takv", tm(detail(f_len(6, b""), f_len(6, b""))), "parse", "dup_elem"),
        ("dup-track", tm(detail(f_len(7, b""), f_len(7, b""))), "parse", "dup_elem"),
        ("ok-dup-type-last-wins", tm(f_len(1, "b-t-f")), None, None),
        ("dup-type-last-empty", tm(f_len(1, "")), "parse", "missing"),
        ("ok-dup-xmldetail-last-wins", tm(detail(f_len(1, "<a/>"), f_len(1, "<b/>"))),
         None, None),
        # required strings
        ("missing-type", tm(type_=None), "parse", "missing"),
        ("missing-uid", tm(uid=None), "parse", "missing"),
        ("missing-how", tm(how=None), "parse", "missing"),
        ("empty-uid", tm(uid=""), "parse", "missing"),
        ("ok-uid-blank", tm(uid=" "), None, None),
        # times
        ("ok-time-max", tm(f_varint(6, tp.MAX_TIME)), None, None),
        ("time-max+1", tm(f_varint(7, tp.MAX_TIME + 1)), "parse", "range"),
        ("time-2^63", tm(f_varint(8, 2 ** 63)), "parse", "range"),
        ("ok-no-stale", tm(stale=None), None, None),
        # numbers
        ("ok-lat-90", tm(f_double(10, -90.0), f_double(11, 180.0)), None, None),
        ("ok-course-360", tm(detail(f_len(7, f_double(2, 360.0) + f_double(1, 0.0)))),
         None, None),
        ("ok-ce-minus-zero", tm(f_double(13, -0.0), f_double(14, -0.0)), None, None),
        ("ok-hae-huge", tm(f_double(12, -1.7976931348623157e308)), None, None),
        ("lat-nan", tm(f_double(10, math.nan)), "parse", "range"),
        ("lat-inf", tm(f_double(10, math.inf)), "parse", "range"),
        ("lat-90.000001", tm(f_double(10, 90.000001)), "parse", "range"),
        ("lon-inf", tm(f_double(11, -math.inf)), "parse", "range"),
        ("lon-180.5", tm(f_double(11, -180.5)), "parse", "range"),
        ("hae-nan", tm(f_double(12, math.nan)), "parse", "range"),
        ("hae-inf", tm(f_double(12, math.inf)), "parse", "range"),
        ("ce-negative", tm(f_double(13, -1e-300)), "parse", "range"),
        ("ce-inf", tm(f_double(13, math.inf)), "parse", "range"),
        ("le-nan", tm(f_double(14, -math.nan)), "parse", "range"),
        ("speed-negative", tm(detail(f_len(7, f_double(1, -1.0)))), "parse", "range"),
        ("speed-inf", tm(detail(f_len(7, f_double(1, math.inf)))), "parse", "range"),
        ("course-360.1", tm(detail(f_len(7, f_double(2, 360.1)))), "parse", "range"),
        ("course-negative", tm(detail(f_len(7, f_double(2, -0.5)))), "parse", "range"),
        ("course-nan", tm(detail(f_len(7, f_double(2, math.nan)))), "parse", "range"),
        ("lat-nan-then-ok", tm(f_double(10, math.nan), f_double(10, 1.0)), "parse", "range"),
        ("ok-battery-max", tm(detail(f_len(5, f_varint(1, 2 ** 32 - 1)))), None, None),
        ("battery-2^32", tm(detail(f_len(5, f_varint(1, 2 ** 32)))), "parse", "range"),
        ("min-proto-2^32", H + ctl(f_varint(1, 2 ** 32)) + f_len(2, evb()), "parse",
         "range"),
        ("max-proto-2^64-1", H + ctl(f_varint(2, big)) + f_len(2, evb()), "parse", "range"),
        ("ok-submission-time-max", H + f_varint(3, big) + f_varint(4, big) + f_len(2, evb()),
         None, None),
        # bounds
        ("ok-type-256", tm(type_="t" * 256), None, None),
        ("type-257", tm(type_="t" * 257), "parse", "field_limit"),
        ("ok-uid-256-multibyte", tm(uid="\u00e9" * 128), None, None),
        ("uid-257-multibyte", tm(uid="\u00e9" * 128 + "x"), "parse", "field_limit"),
        ("access-257", tm(f_len(2, "S" + " " * 256)), "parse", "field_limit"),
        ("qos-257", tm(f_len(3, "q" * 257)), "parse", "field_limit"),
        ("opex-257", tm(f_len(4, "o" * 257)), "parse", "field_limit"),
        ("how-257", tm(how="h" * 257), "parse", "field_limit"),
        ("caveat-257", tm(f_len(16, "c" * 257)), "parse", "field_limit"),
        ("rel-257", tm(f_len(17, "USA " * 64 + "K")), "parse", "field_limit"),
        ("ok-callsign-256", tm(detail(f_len(2, f_len(2, "c" * 256)))), None, None),
        ("callsign-257", tm(detail(f_len(2, f_len(2, "c" * 257)))), "parse", "field_limit"),
        ("endpoint-257", tm(detail(f_len(2, f_len(1, "e" * 257)))), "parse", "field_limit"),
        ("group-name-257", tm(detail(f_len(3, f_len(1, "g" * 257)))), "parse", "field_limit"),
        ("group-role-257", tm(detail(f_len(3, f_len(2, "g" * 257)))), "parse", "field_limit"),
        ("altsrc-257", tm(detail(f_len(4, f_len(2, "a" * 257)))), "parse", "field_limit"),
        ("takv-os-257", tm(detail(f_len(6, f_len(3, "o" * 257)))), "parse", "field_limit"),
        ("takv-version-257", tm(detail(f_len(6, f_len(4, "v" * 257)))), "parse",
         "field_limit"),
        ("ok-xmldetail-long", tm(xmld('<x a="' + "y" * 20000 + '"/>')), None, None),
        ("ok-contactuid-long", H + ctl(f_len(3, "u" * 1000)) + f_len(2, evb()), None, None),
        # the rest: D read by the XML rules (the head accepts these)
        ("d-doctype", tm(xmld("<!DOCTYPE x>")), ("head-ok", "parse"), None),
        ("d-pi", tm(xmld("<?x y?>")), ("head-ok", "parse"), None),
        ("d-xml-decl", tm(xmld('<?xml version="1.0"?><x/>')), ("head-ok", "parse"), None),
        ("d-not-well-formed", tm(xmld("<a>")), ("head-ok", "parse"), None),
        ("d-close-detail", tm(xmld("</detail>")), ("head-ok", "parse"), None),
        ("d-close-reopen-detail", tm(xmld("</detail><detail>")), ("head-ok", "parse"), None),
        ("d-close-event", tm(xmld("</detail></event><event>")), ("head-ok", "parse"), None),
        ("d-close-reopen-typed", tm(detail(f_len(1, "</detail><detail>"), f_len(2, b""))),
         ("head-ok", "parse"), None),
        ("d-two-remarks", tm(xmld("<remarks/><remarks/>")), ("head-ok", "parse"), None),
        ("d-two-contacts", tm(xmld("<contact/><contact/>")), ("head-ok", "parse"), None),
        ("d-two-tracks", tm(xmld("<track/><track/>")), ("head-ok", "parse"), None),
        ("ok-d-contact-xml-and-typed", tm(detail(f_len(1, '<contact callsign="x"/>'),
                                                 f_len(2, f_len(2, "y")))), None, None),
        ("ok-d-track-xml-and-typed", tm(detail(f_len(1, '<track course="1"/>'),
                                               f_len(7, f_double(1, 5.0)))), None, None),
        ("d-track-xml-range", tm(xmld('<track course="400"/>')), ("head-ok", "parse"), None),
        ("ok-d-links-8", tm(xmld("<link/>" * 8)), None, None),
        ("d-links-9", tm(xmld("<link/>" * 9)), ("head-ok", "parse"), None),
        ("ok-d-depth-16", tm(xmld("<a>" * 14 + "</a>" * 14)), None, None),
        ("d-depth-17", tm(xmld("<a>" * 15 + "</a>" * 15)), ("head-ok", "parse"), None),
        ("ok-d-remarks-4096", tm(xmld("<remarks>" + "r" * 4096 + "</remarks>")), None, None),
        ("d-remarks-4097", tm(xmld("<remarks>" + "r" * 4097 + "</remarks>")),
         ("head-ok", "parse"), None),
        ("d-remarks-element", tm(xmld("<remarks><b/></remarks>")), ("head-ok", "parse"),
         None),
        ("d-namespace", tm(xmld('<x:y xmlns:x="u"/>')), ("head-ok", "parse"), None),
        ("d-undefined-entity", tm(xmld("&nbsp;")), ("head-ok", "parse"), None),
        ("d-callsign-257", tm(xmld(f'<contact callsign="{"c" * 257}"/>')),
         ("head-ok", "parse"), None),
        ("d-link-uid-257", tm(xmld(f'<link uid="{"u" * 257}"/>')), ("head-ok", "parse"),
         None),
        ("d-cdata-end-in-text", tm(xmld("a]]>b")), ("head-ok", "parse"), None),
        ("ok-d-empty-detail", tm(detail()), None, None),
        ("ok-d-empty-typed", tm(detail(*(f_len(n, b"") for n in range(2, 8)))), None, None),
    ]
    return c + wrong_wire_cases() + bad_utf8_cases()


def check_hand(pb, verbose):
    cases = hand_cases()
    names = [x[0] for x in cases]
    dups = {n for n in names if names.count(n) > 1}
    if dups:
        fail("hand cases", f"duplicate names {sorted(dups)}")
    for name, payload, reason, code in cases:
        why = []
        head_ok, full_ok = reason is None, reason is None
        if reason == ("head-ok", "parse"):
            head_ok, full_ok, reason = True, False, "parse"
        for what, fn, ok in (("head", oracle.parse_cot_head, head_ok),
                             ("parse", oracle.parse_cot, full_ok)):
            try:
                fn(payload)
                got = None
            except oracle.Bad as e:
                got = e.args
            if ok and got is not None:
                why.append(f"{what}: refused {got}, want accepted")
            if not ok and (got is None or got[0] != reason or
                           (code is not None and got[1:2] != (code,))):
                why.append(f"{what}: {got}, want {reason} {code or ''}")
        # whatever the walker accepts, python3-protobuf reads the same way
        if tp.is_v1(payload):
            try:
                got = tp.decode(payload)
            except tp.Refused:
                got = None
            if got is not None:
                ref = pb.TakMessage()
                try:
                    ref.ParseFromString(payload[3:])
                    want = pb_dict(ref, "TakMessage")
                    if not same(strip_legacy(got), want):
                        why.append(f"walker {strip_legacy(got)} != python3-protobuf {want}")
                except Exception as e:  # noqa: BLE001 (DecodeError and friends)
                    # python3-protobuf checks xmlDetail's UTF-8 as it decodes;
                    # the walker leaves that to the rest step, which must refuse
                    if full_ok:
                        why.append(f"python3-protobuf refuses what the walker accepts: {e}")
        if why:
            fail(name, "; ".join(why), payload)
        elif verbose:
            print(f"ok   {name}")
    return len(cases)


# --------------------------------------------------------------------------
# Exact conversions and the decision

GOLDEN = [
    ("golden-minimal", tm(),
     b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
     b'<event version="2.0" uid="MW-1" type="a-h-A-W-M-S-S" how="m-r" '
     b'time="2024-05-01T12:00:00.000Z" start="2024-05-01T12:00:00.000Z" '
     b'stale="2024-05-01T12:00:30.000Z">'
     b'<point lat="38.5" lon="127" hae="0" ce="10" le="0"/></event>'),
    ("golden-full",
     H + ctl(f_varint(1, 1), f_len(3, "peer")) + f_varint(3, 5) + f_len(2, b"".join([
         f_len(1, "a-h"), f_len(2, 'S//REL TO USA, KOR'), f_len(3, "r-e"), f_len(4, "o&p"),
         f_len(5, 'u"<1>'), f_varint(6, 0), f_varint(7, 1), f_varint(8, tp.MAX_TIME),
         f_len(9, "m\tg\n\r"), f_double(10, 0.1), f_double(11, -0.0), f_double(12, 1e21),
         f_double(13, 1 / 3), f_double(14, 5e-324), f_varint(16, 7), f_len(17, "USA"),
         f_len(99, "unknown"),
         detail(f_len(1, '<remarks>x &amp; y</remarks><track course="9"/>'),
                f_len(2, f_len(1, "*:-1:stcp") + f_len(2, "V&1")),
                f_len(3, f_len(2, "Team")), f_len(4, b""),
                f_len(5, f_varint(1, 88)), f_len(6, f_len(3, "31")),
                f_len(7, f_double(1, 0.30000000000000004) + f_double(2, 360.0)))])),
     b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
     b'<event version="2.0" uid="u&quot;&lt;1&gt;" type="a-h" how="m&#9;g&#10;&#13;" '
     b'time="1970-01-01T00:00:00.000Z" start="1970-01-01T00:00:00.001Z" '
     b'stale="9999-12-31T23:59:59.999Z" access="S//REL TO USA, KOR" qos="r-e" '
     b'opex="o&amp;p" releasableTo="USA">'
     b'<point lat="0.1" lon="-0" hae="1e+21" ce="0.33333333333333331" le="4.94065645841247e-324"/>'
     b'<detail><remarks>x &amp; y</remarks><track course="9"/>'
     b'<contact endpoint="*:-1:stcp" callsign="V&amp;1"/><__group role="Team"/>'
     b'<precisionlocation/><status battery="88"/><takv os="31"/></detail></event>'),
    ("golden-caveat", tm(f_len(16, "NOFORN"), f_len(2, "SECRET"), detail()),
     b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
     b'<event version="2.0" uid="MW-1" type="a-h-A-W-M-S-S" how="m-r" '
     b'time="2024-05-01T12:00:00.000Z" start="2024-05-01T12:00:00.000Z" '
     b'stale="2024-05-01T12:00:30.000Z" access="SECRET" caveat="NOFORN">'
     b'<point lat="38.5" lon="127" hae="0" ce="10" le="0"/><detail></detail></event>'),
]

GOLDEN_D = [
    ("d-typed-order", tm(detail(f_len(7, b""), f_len(6, f_len(1, "d") + f_len(4, "v")),
                                f_len(5, b""), f_len(4, f_len(2, "GPS") + f_len(1, "USER")),
                                f_len(3, f_len(1, "Cyan")), f_len(2, b""))),
     b'<contact/><__group name="Cyan"/><precisionlocation geopointsrc="USER" altsrc="GPS"/>'
     b'<status battery="0"/><takv device="d" version="v"/><track speed="0" course="0"/>'),
    ("d-xml-wins", tm(detail(f_len(1, '<__group name="X"/><a><status/></a><Track/>'),
                             f_len(3, f_len(1, "Y")), f_len(5, f_varint(1, 3)),
                             f_len(7, f_double(2, 1.5)))),
     b'<__group name="X"/><a><status/></a><Track/><status battery="3"/>'
     b'<track speed="0" course="1.5"/>'),
    ("d-numbers", tm(detail(f_len(7, f_double(1, 0.1 + 0.2) + f_double(2, 1e-7)))),
     b'<track speed="0.30000000000000004" course="1e-07"/>'),
    ("d-escapes", tm(detail(f_len(2, f_len(2, "a'b\"c<d>e&f\tg\nh\ri")))),
     b'<contact callsign="a\'b&quot;c&lt;d&gt;e&amp;f&#9;g&#10;h&#13;i"/>'),
]

POLICY = """
version: 1
settings: {ignore_stale: true}
links:
  - {name: l-both, port: p0, udp_ports: [6969]}
  - {name: l-xml, port: p1, udp_ports: [6969], encodings: [xml]}
  - {name: l-v1, port: p2, udp_ports: [6969], encodings: [takproto-v1]}
peers:
  - {name: asis, port: q0, nation: USA, clearance: SECRET, receives: [other],
     header: {}}
  - {name: toxml, port: q1, nation: USA, clearance: SECRET, receives: [other],
     encoding: xml, header: {}}
"""


def check_golden_and_decisions(verbose):
    for name, payload, want in GOLDEN:
        try:
            got = oracle.to_xml(oracle.parse_cot(payload))
        except oracle.Bad as e:
            fail(name, f"refused {e.args}", payload)
            continue
        if got != want:
            fail(name, f"to_xml()\n     got  {got!r}\n     want {want!r}", payload)
        elif verbose:
            print(f"ok   {name}")
    for name, payload, want in GOLDEN_D:
        try:
            got = oracle.parse_cot(payload)["detail"]
        except oracle.Bad as e:
            fail(name, f"refused {e.args}", payload)
            continue
        if got != want:
            fail(name, f"D\n     got  {got!r}\n     want {want!r}", payload)
        elif verbose:
            print(f"ok   {name}")

    # Oracle.message(): encodings, tak_control, conversion for encoding: xml
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fp:
        fp.write(POLICY)
    try:
        pol = oracle.Policy(fp.name)
    finally:
        os.unlink(fp.name)
    xml_msg = (b'<event version="2.0" uid="X-1" type="t" how="h" time="2024-05-01T12:00:00Z" '
               b'start="2024-05-01T12:00:00Z" stale="2024-05-01T12:00:30Z">'
               b'<point lat="0" lon="0" hae="0" ce="0" le="0"/></event>')
    v1 = tm(f_len(2, "SECRET//REL TO USA"))
    v1_bad = tm(f_double(10, math.nan))
    v1_ctl = H + ctl(f_varint(1, 1))
    v1_bad_d = tm(f_len(2, "S//REL TO USA"), xmld("<a>"))
    v1_nobody = tm(xmld("<a>"))  # no marking: nobody can receive it, D not read
    v1_conv = oracle.to_xml(oracle.parse_cot(v1))
    sha = lambda b: hashlib.sha256(b).hexdigest()  # noqa: E731
    xml_rel = xml_msg.replace(b'how="h"', b'how="h" access="S//REL TO USA"')
    exp = [  # (link, payload, message reason, releases {peer: sha})
        ("l-both", v1, "accepted", {"asis": sha(v1), "toxml": sha(v1_conv)}),
        ("l-v1", v1, "accepted", {"asis": sha(v1), "toxml": sha(v1_conv)}),
        ("l-xml", v1, "encoding", {}),
        ("l-v1", xml_rel, "encoding", {}),
        ("l-v1", b"\xbf\x02\xbf" + evb(), "encoding", {}),
        ("l-xml", b"\xbf\x02\xbf" + evb(), "parse", {}),
        ("l-xml", xml_rel, "accepted", {"asis": sha(xml_rel), "toxml": sha(xml_rel)}),
        ("l-both", v1_bad, "parse", {}),
        ("l-both", v1_ctl, "tak_control", {}),
        ("l-xml", v1_ctl, "encoding", {}),
        ("l-both", v1_bad_d, "parse", {}),
        ("l-both", v1_nobody, "accepted", {}),
        ("l-both", b"x" * 9000, "too_big", {}),
    ]
    orc = oracle.Oracle(pol, 0)
    want_counts = {"xml": {"messages": 0, "reasons": {}},
                   "takproto-v1": {"messages": 0, "reasons": {}}}
    for i, (link, payload, reason, rel) in enumerate(exp):
        before = {k: len(v) for k, v in orc.releases.items()}
        mr = dict(orc.msg_reasons)
        orc.message(link, ("192.0.2.1", "192.0.2.2", 1, 6969, payload, True))
        got_reason = [k for k in orc.msg_reasons if orc.msg_reasons[k] != mr.get(k, 0)]
        got_rel = {k: v[-1]["sha256"] for k, v in orc.releases.items() if len(v) > before[k]}
        if got_reason != [reason] or got_rel != rel:
            fail(f"decision {i}", f"{link}: reason {got_reason} releases {got_rel}, "
                 f"want {reason} {rel}", payload)
        e = oracle.encoding_of(payload)
        want_counts[e]["messages"] += 1
        want_counts[e]["reasons"][reason] = want_counts[e]["reasons"].get(reason, 0) + 1
    got_counts = orc.summary()["encodings"]
    want_counts = {e: {"messages": v["messages"], "reasons": dict(sorted(v["reasons"].items()))}
                   for e, v in want_counts.items()}
    if got_counts != want_counts:
        fail("summary encodings", f"{got_counts} != {want_counts}")
    if orc.scan_skipped != 1:
        fail("scan_skipped", f"{orc.scan_skipped}, want 1 (v1 with no marking)")
    return len(GOLDEN) + len(GOLDEN_D) + len(exp)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    pb, legacy_pb = compile_protos()
    n_hand = check_hand(pb, a.verbose)
    n_gold = check_golden_and_decisions(a.verbose)
    check_generated(pb, legacy_pb, a.messages, a.seed, a.verbose)
    for name, why, payload in FAILS[:40]:
        print(f"FAIL {name}: {why}")
        if payload is not None:
            print(f"     payload {payload[:300]!r}{' ...' if len(payload) > 300 else ''}")
    print(f"takproto_oracle: {n_hand} hand-built messages, {n_gold} conversions and "
          f"decisions, {a.messages} generated messages; {len(FAILS)} failures")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
