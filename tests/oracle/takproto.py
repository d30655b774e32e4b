# SPDX-License-Identifier: BSD-3-Clause
"""takproto - the oracle's own reading of TAK Protocol Version 1 (protobuf).

Written from docs/release.md section 2 ("TAK Protocol Version 1 (protobuf)")
alone: a strict wire-level walker over the bytes after the mesh header
`bf 01 bf`, the field checks, and the detail text D that the XML rules then
read (oracle.py does that part with expat).  It shares nothing with the
dataplane's decoder (dataplane/takproto.c) and uses no protobuf library:
python3-protobuf is only the encoder the tests cross-check it against
(tests/oracle/test_takproto_oracle.py).

    decode(payload) -> the TakMessage as plain dicts, or raises Refused
    detail_text(detail) -> D (bytes), from a decoded Detail dict

Refused.args = (reason, code): reason is the message-level reason ("parse"
or "tak_control"), code the parse error of release.md section 2 (protobuf,
wire_type, dup_elem, dup_marking, malformed, missing, range, oversize;
"tak_control" for a TakControl-only message).  The oracle counts only the
reason; the code is for the tests.
"""

import math
import re
import struct
import xml.parsers.expat as expat

HEADER = b"\xbf\x01\xbf"
MAX_STR = 256                        # event strings and typed-detail strings, bytes
                                     # (the default of the policy's max_field_bytes)
MAX_TIME = 253402300799999           # 9999-12-31T23:59:59.999Z
U32 = 1 << 32
U64 = 1 << 64

# Wire types
VARINT, I64, LEN, I32 = 0, 1, 2, 5


class Refused(Exception):
    """args = (reason, code, offset in the payload)."""

    @property
    def reason(self):
        return self.args[0]

    @property
    def code(self):
        return self.args[1]


def _fail(code, off):
    raise Refused("parse", code, off)


# --------------------------------------------------------------------------
# The schema (release.md section 2).  Kinds:
#   str      string, UTF-8, XML characters only, no bound
#   bstr     the same, at most MAX_STR bytes
#   time     uint64 varint, ms, at most MAX_TIME
#   u64      uint64 varint, read and ignored
#   u32      uint32 varint, below 2^32
#   dbl      double (64-bit), finite; the range of its name
#   msg:X    embedded message X, at most once in its parent

SCHEMA = {
    "TakMessage": {1: ("takControl", "msg:TakControl"), 2: ("cotEvent", "msg:CotEvent"),
                   3: ("submissionTime", "u64"), 4: ("creationTime", "u64")},
    "TakControl": {1: ("minProtoVersion", "u32"), 2: ("maxProtoVersion", "u32"),
                   3: ("contactUid", "str")},
    "CotEvent": {1: ("type", "bstr"), 2: ("access", "bstr"), 3: ("qos", "bstr"),
                 4: ("opex", "bstr"), 5: ("uid", "bstr"), 6: ("sendTime", "time"),
                 7: ("startTime", "time"), 8: ("staleTime", "time"), 9: ("how", "bstr"),
                 10: ("lat", "dbl"), 11: ("lon", "dbl"), 12: ("hae", "dbl"),
                 13: ("ce", "dbl"), 14: ("le", "dbl"), 15: ("detail", "msg:Detail"),
                 16: ("caveat", "bstr"), 17: ("releaseableTo", "bstr")},
    "Detail": {1: ("xmlDetail", "raw"), 2: ("contact", "msg:Contact"),
               3: ("group", "msg:Group"), 4: ("precisionLocation", "msg:PrecisionLocation"),
               5: ("status", "msg:Status"), 6: ("takv", "msg:Takv"),
               7: ("track", "msg:Track")},
    "Contact": {1: ("endpoint", "bstr"), 2: ("callsign", "bstr")},
    "Group": {1: ("name", "bstr"), 2: ("role", "bstr")},
    "PrecisionLocation": {1: ("geopointsrc", "bstr"), 2: ("altsrc", "bstr")},
    "Status": {1: ("battery", "u32")},
    "Takv": {1: ("device", "bstr"), 2: ("platform", "bstr"), 3: ("os", "bstr"),
             4: ("version", "bstr")},
    "Track": {1: ("speed", "dbl"), 2: ("course", "dbl")},
}
WIRE_OF = {"str": LEN, "bstr": LEN, "raw": LEN, "time": VARINT, "u64": VARINT, "u32": VARINT,
           "dbl": I64}
MARKINGS = ("access", "caveat", "releaseableTo")
LEGACY = {16: "submissionTime", 17: "creationTime"}   # CotEvent 16/17 as varints


def _default(kind):
    if kind in ("str", "bstr", "raw") or kind.startswith("msg:"):
        return None
    if kind == "dbl":
        return 0.0
    return 0


# Strings: XML 1.0 characters (#x9 | #xA | #xD | [#x20-#xD7FF] |
# [#xE000-#xFFFD] | [#x10000-#x10FFFF]); valid UTF-8 already excludes
# surrogates and code points past U+10FFFF.
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _string(b, s, e, bound):
    raw = bytes(b[s:e])
    if bound is not None and len(raw) > bound:
        _fail("field_limit", s)    # the length says so before any byte is read
    try:
        txt = raw.decode("utf-8", "strict")
    except UnicodeDecodeError:
        _fail("malformed", s)
    if _NOT_XML_CHAR.search(txt):
        _fail("malformed", s)
    return txt if raw else None    # length 0 is absent


def _double_ok(name, x):
    if not math.isfinite(x):
        return False
    if name == "lat":
        return abs(x) <= 90
    if name == "lon":
        return abs(x) <= 180
    if name in ("ce", "le", "speed"):
        return x >= 0
    if name == "course":
        return 0 <= x <= 360
    return True                    # hae: finite only


# --------------------------------------------------------------------------
# The wire

def read_varint(b, i, end):
    """(value, next offset).  At most 10 bytes, the 10th 0 or 1; overlong
    encodings are read by value."""
    v = 0
    for n in range(10):
        if i >= end:
            _fail("protobuf", i)
        c = b[i]
        if n == 9 and c > 1:
            _fail("protobuf", i)
        v |= (c & 0x7F) << (7 * n)
        i += 1
        if c < 0x80:
            return v, i
    raise AssertionError("unreachable")


def read_field(b, i, end):
    """One field at b[i:end]: (field number, wire type, value, key offset,
    next offset).  value: an int (varint), the 8 or 4 bytes (64/32-bit), or
    (start, end) of a length-delimited field's bytes."""
    k0 = i
    key, i = read_varint(b, i, end)
    if key >= U32:
        _fail("protobuf", k0)
    fnum, wt = key >> 3, key & 7
    if fnum < 1 or wt not in (VARINT, I64, LEN, I32):
        _fail("protobuf", k0)
    if wt == VARINT:
        v, i = read_varint(b, i, end)
    elif wt == I64:
        if end - i < 8:
            _fail("protobuf", i)
        v, i = bytes(b[i:i + 8]), i + 8
    elif wt == I32:
        if end - i < 4:
            _fail("protobuf", i)
        v, i = bytes(b[i:i + 4]), i + 4
    else:
        n, j = read_varint(b, i, end)
        if n > end - j:
            _fail("protobuf", i)
        v, i = (j, j + n), j + n
    return fnum, wt, v, k0, i


def _message(b, s, e, mname, field_limit=MAX_STR):
    """Decode message mname at b[s:e] into a dict of its known fields."""
    schema = SCHEMA[mname]
    out = {name: _default(kind) for name, kind in schema.values()}
    seen_msg, seen_mark = set(), set()
    if mname == "CotEvent":
        out["legacy"] = {}         # 16/17 met as varints (read, ignored)
    i = s
    while i < e:
        # A field, key and value, is read whole before its meaning is
        # judged (release.md §2): a wrong wire type whose value is also cut
        # short is a protobuf fault.
        k0 = i
        fnum, wt, v, _, i = read_field(b, k0, e)
        ent = schema.get(fnum)
        if ent is not None:
            name, kind = ent
            want = LEN if kind.startswith("msg:") else WIRE_OF[kind]
            legacy = mname == "CotEvent" and fnum in LEGACY and wt == VARINT
            if wt != want and not legacy:
                _fail("wire_type", k0)
            if kind.startswith("msg:"):
                if name in seen_msg:
                    _fail("dup_elem", k0)
                seen_msg.add(name)
            elif mname == "CotEvent" and name in MARKINGS and not legacy:
                if name in seen_mark:
                    _fail("dup_marking", k0)
                seen_mark.add(name)
        if ent is None:
            continue               # unknown: skipped by its wire type
        if legacy:
            out["legacy"][LEGACY[fnum]] = v
            continue
        if kind.startswith("msg:"):
            out[name] = _message(b, v[0], v[1], kind[4:], field_limit)
        elif kind in ("str", "bstr"):
            out[name] = _string(b, v[0], v[1], field_limit if kind == "bstr" else None)
        elif kind == "raw":
            # xmlDetail: XML, whose bytes the rest step reads (release.md §2)
            out[name] = bytes(b[v[0]:v[1]]) or None
        elif kind == "time":
            if v > MAX_TIME:
                _fail("range", k0)
            out[name] = v
        elif kind == "u32":
            if v >= U32:
                _fail("range", k0)
            out[name] = v
        elif kind == "u64":
            out[name] = v
        else:  # dbl
            x = struct.unpack("<d", v)[0]
            if not _double_ok(name, x):
                _fail("range", k0)
            out[name] = x
    if mname == "CotEvent":
        for k in ("type", "uid", "how"):
            if out[k] is None:
                _fail("missing", e)
    return out


def is_v1(payload):
    return bytes(payload[:3]) == HEADER


def decode(payload, field_limit=MAX_STR):
    """The TakMessage behind the header, as dicts (absent strings and
    messages None, absent numbers 0), or Refused.  A message without
    cotEvent is refused: tak_control with takControl, parse (missing)
    without."""
    if not is_v1(payload):
        raise ValueError("not a TAK Protocol Version 1 payload")
    b = memoryview(payload)
    m = _message(b, 3, len(b), "TakMessage", field_limit)
    if m["cotEvent"] is None:
        if m["takControl"] is not None:
            raise Refused("tak_control", "tak_control", len(b))
        _fail("missing", len(b))
    return m


# --------------------------------------------------------------------------
# The detail text D (release.md section 2, "The event's detail")

TYPED = (  # (Detail field, element name, attributes: (field, name, kind))
    ("contact", "contact", (("endpoint", "s"), ("callsign", "s"))),
    ("group", "__group", (("name", "s"), ("role", "s"))),
    ("precisionLocation", "precisionlocation", (("geopointsrc", "s"), ("altsrc", "s"))),
    ("status", "status", (("battery", "u"),)),
    ("takv", "takv", (("device", "s"), ("platform", "s"), ("os", "s"), ("version", "s"))),
    ("track", "track", (("speed", "d"), ("course", "d"))),
)


def escape(s):
    """An attribute value, escaped as release.md section 2 says."""
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;")
            .replace("\r", "&#13;"))


def fmt_num(x):
    """printf %.15g, or %.17g if that does not read back as x; -0 for -0.0."""
    if x == 0 and math.copysign(1.0, x) < 0:
        return "-0"
    s = "%.15g" % x
    if float(s) != x:
        s = "%.17g" % x
    return s


def xml_children(xml_detail):
    """Names of the direct child elements of xmlDetail read as the content
    of an element.  Reading stops at the first fault; such a D is refused by
    the XML rules in any case (the typed elements appended after it are
    complete, balanced and cannot end an open construct)."""
    names = []
    depth = [0]
    p = expat.ParserCreate(encoding="UTF-8")

    def start(name, attrs):
        if depth[0] == 1:
            names.append(name)
        depth[0] += 1

    def end(name):
        depth[0] -= 1

    p.StartElementHandler = start
    p.EndElementHandler = end
    try:
        p.Parse(b"<x>" + xml_detail + b"</x>", True)
    except expat.ExpatError:
        pass
    return set(names)


def typed_element(tag, attrs, msg):
    parts = []
    for fld, kind in attrs:
        v = msg[fld]
        if kind == "s":
            if v is not None:
                parts.append(f'{fld}="{escape(v)}"')
        elif kind == "u":
            parts.append(f'{fld}="{v:d}"')
        else:
            parts.append(f'{fld}="{fmt_num(v)}"')
    return "<" + " ".join([tag] + parts) + "/>"


def detail_text(detail):
    """D: xmlDetail, then each typed message on the wire whose element name
    is not a direct child element of xmlDetail, in schema order."""
    xd = detail["xmlDetail"] or b""
    over = xml_children(xd) if xd else set()
    out = [xd]
    for fld, tag, attrs in TYPED:
        if detail[fld] is not None and tag not in over:
            out.append(typed_element(tag, attrs, detail[fld]).encode("utf-8"))
    return b"".join(out)


# --------------------------------------------------------------------------
# A minimal encoder for hand-built test messages (tests only)

def enc_varint(v):
    out = bytearray()
    while True:
        c = v & 0x7F
        v >>= 7
        if v:
            out.append(c | 0x80)
        else:
            out.append(c)
            return bytes(out)


def enc_key(fnum, wt):
    return enc_varint(fnum << 3 | wt)


def f_varint(fnum, v):
    return enc_key(fnum, VARINT) + enc_varint(v)


def f_len(fnum, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return enc_key(fnum, LEN) + enc_varint(len(data)) + data


def f_double(fnum, x):
    return enc_key(fnum, I64) + struct.pack("<d", x)


def f_fixed32(fnum, v):
    return enc_key(fnum, I32) + struct.pack("<I", v)


def f_fixed64(fnum, v):
    return enc_key(fnum, I64) + struct.pack("<Q", v)
