# SPDX-License-Identifier: BSD-3-Clause
"""sanitize - the oracle's own reading of per-peer sanitized copies.

Written from docs/release.md section 6 ("Sanitized copies"), the
"Sanitized copies" paragraph of section 7 and docs/policy.md `### sanitize`
alone; it shares nothing with dataplane/sanitize.c or ctrl/.

    parse_peer_sanitize(value, peer, classes, mctx, bad) -> [Entry], or SanitizeError
    combine(entries, classes) -> Steps or None (no entry applies)
    rewrite_detail(content, steps) -> D' (bytes)
    copy_xml(f, steps) / copy_v1(f, steps) -> the copy's exact bytes

f is oracle.parse_cot()'s field dict of the original message.

Readings taken where the spec leaves room (each also in the report of
issue 16; search for "READING"):

- coarsen_point rounds with exactly
      p = 10.0 ** N
      r = math.floor(abs(x) * p + 0.5) / p
      r = -r if x < 0 else r
  in IEEE double arithmetic (x * p rounded once, + 0.5 rounded once, floor,
  one correctly rounded division).  So a small negative value becomes -0.0,
  written "-0" (takproto.fmt_num).  ce' = max(ce, float(min_ce)).
- The copy's numbers, times and escaping are those of oracle.to_xml()
  (takproto.fmt_num, takproto.escape, oracle._iso_ms).
- An empty detail is written <detail></detail> (the template's
  <detail>D'</detail> with D' empty), never <detail/>.
- TAK v1 copy: cotEvent's times (6, 7, 8) and doubles (10..14) are always
  written, also when 0 (only string fields are "left out when absent or
  empty"); detail (15) is written when the event has one, holding xmlDetail
  (1) only when D' is not empty (a string field left out when empty), so an
  empty D' is the empty message `7a 00`.
- Text is escaped & < > only (as the spec says), so a CR that was written
  &#13; in the original becomes a raw CR in the copy, which an XML reader
  reads as LF.
- The XML copy of a message that came with the TAK v0 header (bf 00 bf)
  starts with the XML declaration, without the header (the template).
- One copy per (combined steps, output encoding); the second check's
  property (a) is judged per copy: a copy whose marking fails to admit any
  of its peers is withheld from all of them (oracle.Oracle._copies).
- A peer whose entries apply never gets the plain conversion, so `convert`
  is not checked for it; only the copy's own bound (`sanitize`).
"""

import math
import re
import xml.parsers.expat as expat

import takproto

MAX_ENTRIES = 4            # per peer
MAX_NAMES = 16             # drop_elements, drop_attributes
MAX_NAME_BYTES = 31
MAX_DISTINCT = 16          # distinct entries in the whole policy
MAX_SET_BYTES = 127
MAX_MIN_CE = 1e7
NOT_INSIDE_DETAIL = ("event", "point", "detail")
XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9._-]*\Z")
ENTRY_KEYS = ("classes", "drop_elements", "drop_attributes", "drop_remarks",
              "coarsen_point", "set_attribute")
STEP_KEYS = ENTRY_KEYS[1:]
SET_KEYS = ("access", "caveat", "releasableTo", "qos", "opex")
MARKING_KEYS = ("access", "caveat", "releasableTo")


class SanitizeError(Exception):
    """A sanitize entry tgctl refuses (oracle.py turns it into PolicyError)."""


class Steps:
    """One combined set of steps (release.md section 6).  Hashable: peers
    whose combined steps are equal share one copy."""

    __slots__ = ("elements", "attributes", "remarks", "coarsen", "set")

    def __init__(self, elements=(), attributes=(), remarks=False, coarsen=None, set_=None):
        self.elements = frozenset(elements)          # names
        self.attributes = frozenset(attributes)      # (element, attribute)
        self.remarks = bool(remarks)
        self.coarsen = coarsen                       # None or (decimals, min_ce float)
        self.set = tuple(sorted((set_ or {}).items()))

    def key(self):
        return (self.elements, self.attributes, self.remarks, self.coarsen, self.set)

    def __eq__(self, o):
        return isinstance(o, Steps) and self.key() == o.key()

    def __hash__(self):
        return hash(self.key())

    def dropped_elements(self):
        """drop_elements, with remarks under drop_remarks (release.md
        section 6 step 3: drop_elements: [remarks] says the same)."""
        return self.elements | ({"remarks"} if self.remarks else frozenset())

    def describe(self):
        d = {}
        if self.elements:
            d["drop_elements"] = sorted(self.elements)
        if self.attributes:
            d["drop_attributes"] = sorted(f"{e}@{a}" for e, a in self.attributes)
        if self.remarks:
            d["drop_remarks"] = True
        if self.coarsen is not None:
            d["coarsen_point"] = {"decimals": self.coarsen[0], "min_ce": self.coarsen[1]}
        if self.set:
            d["set_attribute"] = dict(self.set)
        return d


class Entry:
    """One `sanitize:` entry of a peer, validated."""

    def __init__(self, classes, steps):
        self.classes = classes          # None (every message) or a frozenset
        self.steps = steps              # a Steps of this entry alone

    def applies(self, classes):
        return self.classes is None or bool(self.classes & classes)

    def key(self):
        return (self.classes, self.steps.key())


# --------------------------------------------------------------------------
# The policy (docs/policy.md `sanitize`)

def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _names(v, what, where):
    if not isinstance(v, list) or not v:
        raise SanitizeError(f"{where}: {what} must be a non-empty list")
    if len(v) > MAX_NAMES:
        raise SanitizeError(f"{where}: {what}: at most {MAX_NAMES} names")
    return v


def _xml_name(n, where):
    if not isinstance(n, str) or not XML_NAME.match(n) or len(n.encode()) > MAX_NAME_BYTES:
        raise SanitizeError(f"{where}: bad XML name {n!r}")
    return n


def _check_marking(key, value, peer, mctx, bad, where):
    """A set marking must parse as in a message and leave this peer's
    nation (and the peer itself) in (docs/policy.md): every copy would fail
    the second check otherwise.  mctx is oracle's MarkingCtx, bad the
    exception class its parse() raises for a bad marking."""
    args = {"access": (value, None, None), "caveat": (None, value, None),
            "releasableTo": (None, None, value)}[key]
    try:
        _, lists, noforn, ctl = mctx.parse(*args)
    except bad:
        raise SanitizeError(f"{where}: set_attribute {key}: bad marking {value!r}") from None
    nation = peer["nation"]
    if any(nation not in s for s in lists) or (noforn and nation != "USA") or \
            (ctl["nations"] is not None and nation not in ctl["nations"]):
        raise SanitizeError(f"{where}: set_attribute {key} {value!r} leaves out "
                            f"this peer's nation {nation}")
    # READING: a declared control that leaves this peer out by name, or
    # blocks, fails every copy in the same way: refused too.
    if ctl["peers"] is not None and peer["name"] not in ctl["peers"]:
        raise SanitizeError(f"{where}: set_attribute {key} {value!r} leaves out this peer")
    if ctl["blocked"] is not None:
        raise SanitizeError(f"{where}: set_attribute {key} {value!r} carries the block "
                            f"control {ctl['blocked']}")


def _entry(d, where, peer, classes, mctx, bad):
    if not isinstance(d, dict):
        raise SanitizeError(f"{where}: an entry is a mapping")
    for k in d:
        if k not in ENTRY_KEYS:
            raise SanitizeError(f"{where}: unknown key {k!r}")
    for k, v in d.items():
        if v is None:
            raise SanitizeError(f"{where}: {k}: empty value")
    # READING: a step is a step key that is present (drop_remarks: false
    # included): such an entry applies, and its peer gets a canonical copy.
    if not any(k in d for k in STEP_KEYS):
        raise SanitizeError(f"{where}: an entry must hold at least one step")
    cls = None
    if "classes" in d:
        v = d["classes"]
        if not isinstance(v, list) or not v:
            raise SanitizeError(f"{where}: classes must be a non-empty list")
        for c in v:
            if not isinstance(c, str) or (c != "other" and c not in classes):
                raise SanitizeError(f"{where}: classes: {c!r} is no class of the rules")
        cls = frozenset(v)
    elems, attrs, remarks, coarsen, sets = set(), set(), False, None, {}
    if "drop_elements" in d:
        for n in _names(d["drop_elements"], "drop_elements", where):
            _xml_name(n, where)
            if n in NOT_INSIDE_DETAIL:
                raise SanitizeError(f"{where}: drop_elements: {n} is not inside <detail>")
            elems.add(n)
    if "drop_attributes" in d:
        for n in _names(d["drop_attributes"], "drop_attributes", where):
            if not isinstance(n, str) or n.count("@") != 1:
                raise SanitizeError(f"{where}: drop_attributes: want element@attribute, "
                                    f"not {n!r}")
            e, a = n.split("@")
            _xml_name(e, where)
            _xml_name(a, where)
            # READING: the refusal of drop_elements applies here too.
            if e in NOT_INSIDE_DETAIL:
                raise SanitizeError(f"{where}: drop_attributes: {e} is not inside <detail>")
            attrs.add((e, a))
    if "drop_remarks" in d:
        if not isinstance(d["drop_remarks"], bool):
            raise SanitizeError(f"{where}: drop_remarks must be true or false")
        remarks = d["drop_remarks"]
    if "coarsen_point" in d:
        c = d["coarsen_point"]
        if not isinstance(c, dict):
            raise SanitizeError(f"{where}: coarsen_point must be a mapping")
        for k in c:
            if k not in ("decimals", "min_ce"):
                raise SanitizeError(f"{where}: coarsen_point: unknown key {k!r}")
        n = c.get("decimals")
        if not _is_int(n) or not 0 <= n <= 6:
            raise SanitizeError(f"{where}: coarsen_point: decimals must be 0..6")
        m = c.get("min_ce", 0)
        if isinstance(m, bool) or not isinstance(m, (int, float)) or \
                not math.isfinite(m) or not 0 <= m <= MAX_MIN_CE:
            raise SanitizeError(f"{where}: coarsen_point: min_ce must be 0..1e7")
        coarsen = (n, float(m))
    if "set_attribute" in d:
        s = d["set_attribute"]
        if not isinstance(s, dict) or not s:
            raise SanitizeError(f"{where}: set_attribute must be a non-empty mapping")
        for k, v in s.items():
            if k not in SET_KEYS:
                raise SanitizeError(f"{where}: set_attribute: {k!r} cannot be set")
            # READING: the value is a YAML string (a number or boolean is
            # refused, as docs/policy.md's "a string" reads).
            if not isinstance(v, str) or len(v.encode()) > MAX_SET_BYTES:
                raise SanitizeError(f"{where}: set_attribute {k}: a string of at most "
                                    f"{MAX_SET_BYTES} bytes")
            if k in MARKING_KEYS:
                _check_marking(k, v, peer, mctx, bad, where)
            sets[k] = v
    return Entry(cls, Steps(elems, attrs, remarks, coarsen, sets))


def parse_peer_sanitize(value, peer, classes, mctx, bad=Exception):
    """The peer's validated entries (a list of at most 4, or one mapping)."""
    where = f"peer {peer['name']}: sanitize"
    if isinstance(value, dict):
        value = [value]
    # READING: an empty list is refused (an empty value, docs/policy.md
    # "General rules").
    if not isinstance(value, list) or not value:
        raise SanitizeError(f"{where}: a list of 1..{MAX_ENTRIES} entries or one mapping")
    if len(value) > MAX_ENTRIES:
        raise SanitizeError(f"{where}: at most {MAX_ENTRIES} entries")
    entries = [_entry(d, f"{where}[{i}]", peer, classes, mctx, bad) for i, d in enumerate(value)]
    sets = {}
    for e in entries:
        for k, v in e.steps.set:
            if k in sets and sets[k] != v:
                raise SanitizeError(f"{where}: two entries set {k} to different values")
            sets[k] = v
    return entries


def check_distinct(all_entries):
    """At most 16 distinct entries in the whole policy (READING: distinct =
    different classes or steps, names compared as sets)."""
    n = len({e.key() for e in all_entries})
    if n > MAX_DISTINCT:
        raise SanitizeError(f"sanitize: {n} distinct entries, at most {MAX_DISTINCT}")


def combine(entries, classes):
    """The combined steps of the entries that apply to a message of these
    final classes, or None when none applies (release.md section 6)."""
    app = [e for e in entries if e.applies(classes)]
    if not app:
        return None
    elems, attrs, remarks, sets = set(), set(), False, {}
    decimals, min_ce = None, None
    for e in app:
        s = e.steps
        elems |= s.elements
        attrs |= s.attributes
        remarks = remarks or s.remarks
        if s.coarsen is not None:
            n, m = s.coarsen
            decimals = n if decimals is None else min(decimals, n)
            min_ce = m if min_ce is None else max(min_ce, m)
        sets.update(dict(s.set))
    coarsen = None if decimals is None else (decimals, min_ce)
    return Steps(elems, attrs, remarks, coarsen, sets)


# --------------------------------------------------------------------------
# Numbers

def round_half_away(x, n):
    """x rounded to n decimals, halves away from zero, bit for bit as the
    dataplane computes it (READING, see the module docstring):
        p = 10.0 ** n; r = floor(|x| * p + 0.5) / p; r = -r if x < 0."""
    p = 10.0 ** n
    r = math.floor(abs(x) * p + 0.5) / p
    return -r if x < 0 else r


def point_of(f, steps):
    """(lat, lon, hae, ce, le) of the copy."""
    lat, lon, hae, ce, le = f["lat"], f["lon"], f["hae"], f["ce"], f["le"]
    if steps.coarsen is not None:
        n, m = steps.coarsen
        lat, lon = round_half_away(lat, n), round_half_away(lon, n)
        ce = max(ce, m)
    return lat, lon, hae, ce, le


# --------------------------------------------------------------------------
# D': the detail in canonical form (release.md section 6)

def escape_text(s):
    """Text: & < >, and a CR (only a reference can make one: an XML reader
    would turn a raw one into LF) as &#13; (release.md section 6)."""
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;"))


_WRAP = "trackgate-d"   # the wrapper element (a parsed detail is balanced inside it)


def rewrite_detail(content, steps):
    """D' of the detail content (bytes): read as XML (the content of an
    element), the drops applied, written back canonically.  Iterative: a
    deep detail does not recurse.  Raises ValueError if the content is not
    well-formed (a parsed message's detail always is)."""
    drop_e = steps.dropped_elements()
    drop_a = {}
    for e, a in steps.attributes:
        drop_a.setdefault(e, set()).add(a)
    # frames: [start tag text, parts]; frame 0 is the wrapper
    stack = [[None, []]]
    skip = [0]
    p = expat.ParserCreate(encoding="UTF-8")
    p.ordered_attributes = True

    wrapped = [False]

    def start(name, attrs):
        if not wrapped[0]:
            wrapped[0] = True   # the wrapper
            return
        if skip[0]:
            skip[0] += 1
            return
        if name in drop_e:
            skip[0] = 1
            return
        gone = drop_a.get(name, ())
        out = ["<", name]
        for i in range(0, len(attrs), 2):
            k, v = attrs[i], attrs[i + 1]
            if k not in gone:
                out.append(f' {k}="{takproto.escape(v)}"')
        stack.append(["".join(out), []])

    def end(name):
        if skip[0]:
            skip[0] -= 1
            return
        if len(stack) == 1:
            return              # the wrapper's end
        tag, parts = stack.pop()
        if parts:
            s = tag + ">" + "".join(parts) + "</" + name + ">"
        else:
            s = tag + "/>"
        stack[-1][1].append(s)

    def text(data):
        if not skip[0] and data:
            stack[-1][1].append(escape_text(data))

    p.StartElementHandler = start
    p.EndElementHandler = end
    p.CharacterDataHandler = text
    p.CommentHandler = lambda data: None          # comments: left out
    p.ProcessingInstructionHandler = _refuse_pi   # none in a parsed message
    doc = b"<" + _WRAP.encode() + b">" + bytes(content) + b"</" + _WRAP.encode() + b">"
    try:
        p.Parse(doc, True)
    except expat.ExpatError as e:
        raise ValueError(f"detail content is not well-formed: {e}") from None
    return "".join(stack[0][1]).encode("utf-8")


def _refuse_pi(target, data):
    raise ValueError("processing instruction in detail")


# --------------------------------------------------------------------------
# The copies

XML_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
POINT = ("lat", "lon", "hae", "ce", "le")


def marking_of(f, steps):
    """(access, caveat, releasableTo) of the copy: the original's (the XML
    spelling releasableTo or releaseableTo, f["rel"]) or the set values."""
    s = dict(steps.set)
    return (s.get("access", f["access"]), s.get("caveat", f["caveat"]),
            s.get("releasableTo", f["rel"]))


def copy_xml(f, steps, iso_ms):
    """The XML copy (release.md section 6), bytes.  iso_ms is oracle._iso_ms
    (ms -> YYYY-MM-DDThh:mm:ss.mmmZ)."""
    esc, num = takproto.escape, takproto.fmt_num
    s = dict(steps.set)
    a = [f'version="{esc(f["version"])}"'] + [f'{k}="{esc(f[k])}"' for k in ("uid", "type", "how")]
    a += [f'{k}="{iso_ms(f[m])}"' for k, m in (("time", "time_ms"), ("start", "start_ms"),
                                               ("stale", "stale_ms"))]
    for name, k in (("access", "access"), ("qos", "qos"), ("opex", "opex"),
                    ("caveat", "caveat"), ("releasableTo", "rel")):
        v = s.get(name, f[k])
        if v is not None:
            a.append(f'{name}="{esc(v)}"')
    pt = " ".join(f'{k}="{num(v)}"' for k, v in zip(POINT, point_of(f, steps)))
    out = XML_DECL + ("<event " + " ".join(a) + "><point " + pt + "/>").encode("utf-8")
    if f["detail"] is not None:
        out += b"<detail>" + rewrite_detail(f["detail"], steps) + b"</detail>"
    return out + b"</event>"


def copy_v1(f, steps):
    """The TAK Protocol v1 copy (release.md section 6), bytes."""
    s = dict(steps.set)
    f_len, f_varint, f_double = takproto.f_len, takproto.f_varint, takproto.f_double

    def string(num, v):
        return f_len(num, v) if v else b""   # absent or empty: left out

    lat, lon, hae, ce, le = point_of(f, steps)
    ev = b"".join((
        string(1, f["type"]), string(2, s.get("access", f["access"])),
        string(3, s.get("qos", f["qos"])), string(4, s.get("opex", f["opex"])),
        string(5, f["uid"]),
        f_varint(6, f["time_ms"]), f_varint(7, f["start_ms"]), f_varint(8, f["stale_ms"]),
        string(9, f["how"]),
        f_double(10, lat), f_double(11, lon), f_double(12, hae), f_double(13, ce),
        f_double(14, le),
    ))
    if f["detail"] is not None:
        ev += f_len(15, string(1, rewrite_detail(f["detail"], steps)))
    ev += string(16, s.get("caveat", f["caveat"]))
    ev += string(17, s.get("releasableTo", f["rel"]))
    return takproto.HEADER + f_len(2, ev)


def copy_for(f, steps, peer_encoding, iso_ms):
    """The copy a peer gets: XML for XML input and for a peer with
    `encoding: xml`, TAK v1 for v1 input otherwise."""
    if f["encoding"] == "takproto-v1" and peer_encoding != "xml":
        return copy_v1(f, steps)
    return copy_xml(f, steps, iso_ms)
