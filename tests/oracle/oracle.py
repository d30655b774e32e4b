#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""oracle.py - the independent release oracle of trackgate.

Reads a policy YAML and one input pcap per link and computes, from
docs/release.md alone, exactly which messages each peer must receive.  It
shares no code with the C dataplane: its own pcap decoding and reassembly
(tgpcap.py), Python's expat for CoT (a DOCTYPE refused as expat meets it),
Python `re` for the rules, and its own evaluator for Hyperscan logical
combinations.

    oracle.py --policy policy/demo.yaml --link kor-us=in-kor.pcap \\
              --link jpn-us=in-jpn.pcap --out DIR [--now EPOCH]

writes DIR/<peer>.jsonl (one {"uid","sha256","link"} line per expected
release, sorted) and DIR/summary.json (counts per reason, and per encoding).
See docs/traffic.md for every option and for the readings of the spec taken
here.

TAK Protocol Version 1 (release.md sections 1, 2 and 6): takproto.py, its
own protobuf walker, decodes the head; the detail text D is read here by the
same expat rules as an XML <detail>.  A link's `encodings` is checked after
too_big and before parsing (reason `encoding`); a TakControl-only message is
`tak_control`; a peer with `encoding: xml` is expected to get the exact
bytes of to_xml() for a v1 message (sha256 of the conversion).

Sanitized copies (release.md section 6, docs/policy.md `sanitize`):
sanitize.py, written from the spec alone, validates a peer's `sanitize:`
entries, combines those that apply to a message's final classes and writes
the copy's exact bytes (XML, or TAK v1 for v1 input unless the peer has
`encoding: xml`); that copy is the peer's expected payload (its line in
<peer>.jsonl carries "sanitized": true).  A copy longer than a UDP payload
is withheld as `sanitize`, one whose marking fails the second check's
property (a) as `sanitize_check`.  summary.json gives every peer with
`sanitize:` a "sanitized" count (releases that were copies); peers without
it are reported exactly as before.  --keep-sanitized also writes each copy
to DIR/sanitized/<sha256> (compare.py --explain-sanitized reads them).
"""

import argparse
import calendar
import collections
import datetime
import hashlib
import ipaddress
import json
import math
import os
import re
import sys
import time
import xml.parsers.expat as expat

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sanitize  # noqa: E402
import takproto  # noqa: E402
import tgpcap  # noqa: E402

import yaml  # noqa: E402

LEVELS = {
    "UNCLASSIFIED": 0, "U": 0,
    "CONFIDENTIAL": 1, "C": 1,
    "SECRET": 2, "S": 2,
    "TOP SECRET": 3, "TS": 3,
}
LEVEL_NAMES = ["UNCLASSIFIED", "CONFIDENTIAL", "SECRET", "TOP SECRET"]
SCOPES = ("payload", "type", "how", "uid", "callsign", "remarks", "detail", "marking")
# release.md section 5: the scopes matched for every message; the others only
# when some peer can still receive it.
EARLY_SCOPES = frozenset(("type", "how", "uid", "marking"))
LATE_SCOPES = frozenset(SCOPES) - EARLY_SCOPES
FLAG_RE = {"caseless": re.I, "dotall": re.S, "multiline": re.M}
KNOWN_FLAGS = set(FLAG_RE) | {"single-match", "combination"}
TOKEN_OK = re.compile(r"[A-Za-z0-9_-]+\Z")
TIME_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
                     r"(?:\.([0-9]+))?(Z|[+-][0-9]{2}:[0-9]{2})\Z")
REGEX_META = set("\\.^$*+?{}[]|()")


class Bad(Exception):
    """A message-level drop; args[0] is the reason."""


class PolicyError(Exception):
    pass


# --------------------------------------------------------------------------
# Markings (release.md section 3)

BLANKS = re.compile(r"[ \t]+")


def _norm(s):
    """Blanks (space, tab) collapsed and trimmed, upper case.  Any other
    whitespace (a line break, U+00A0, ...) is an ordinary character, which
    no level, control or token accepts (release.md section 3)."""
    return BLANKS.sub(" ", s).strip(" ").upper()


class MarkingCtx:
    def __init__(self, groups, controls=(), peer_names=()):
        self.groups = {g.upper(): set(m.upper() for m in members)
                       for g, members in groups.items()}
        # The register (release.md section 3): every name and alias,
        # normalised, to its control: {"name", "effect", "set", "noforn"}.
        self.controls = {}
        for c in controls:
            names = [_norm(str(c["name"]))] + [_norm(str(a)) for a in c.get("aliases") or []]
            eff = c.get("effect")
            ent = {"name": names[0], "effect": None, "set": None,
                   "noforn": any(n in ("NOFORN", "NF") for n in names)}
            if eff in ("pass", "block"):
                ent["effect"] = eff
            elif isinstance(eff, dict) and list(eff) == ["nations"]:
                ent["effect"] = "nations"
                ent["set"] = set()
                for t in eff["nations"]:
                    u = str(t).upper()
                    ent["set"] |= self.groups[u] if u in self.groups else {u}
            elif isinstance(eff, dict) and list(eff) == ["peers"]:
                ent["effect"] = "peers"
                ent["set"] = set(eff["peers"])
                if not ent["set"] <= set(peer_names):
                    raise PolicyError(f"control {names[0]}: unknown peers")
            else:
                raise PolicyError(f"control {names[0]}: bad effect {eff!r}")
            for n in names:
                if n in self.controls:
                    raise PolicyError(f"control name {n} twice")
                self.controls[n] = ent

    def resolve(self, tokens):
        """Nation set of a REL TO / releasableTo token list."""
        out = set()
        for t in tokens:
            if not TOKEN_OK.match(t):
                raise Bad("bad_marking")
            u = t.upper()
            if u in self.groups:
                out |= self.groups[u]
            elif len(u) == 3 and u.isalpha():
                out.add(u)
            # anything else names no nation and no group: ignored
        return out

    def control(self, text):
        """One control: ("rel", set) | ("noforn", None) | ("fouo", None) |
        ("ctl", register entry)."""
        c = _norm(text)
        if not re.match(r"REL( |\Z)", c) and c in self.controls:
            return ("ctl", self.controls[c])
        if c in ("NOFORN", "NF"):
            return ("noforn", None)
        if c == "FOUO":
            return ("fouo", None)
        m = re.match(r"REL TO (.*)\Z", c) or re.match(r"REL (?!TO\Z)(.*)\Z", c)
        if not m:
            raise Bad("bad_marking")
        items = [x.strip(" ") for x in m.group(1).split(",")]
        if any(x == "" for x in items):
            raise Bad("bad_marking")
        return ("rel", self.resolve(items))

    def parse(self, access, caveat, rel):
        """Returns (level or None, [nation sets], noforn, controls) of what
        the message itself carries; controls = {"blocked": the first block
        control's name or None, "peers": the peers the controls allow or
        None, "nations": the nations they allow or None}."""
        level, lists, noforn = None, [], False
        ctl = {"blocked": None, "peers": None, "nations": None}

        def apply(e):
            nonlocal noforn
            if e["noforn"]:
                noforn = True          # the floor, whatever the effect
            if e["effect"] == "block" and ctl["blocked"] is None:
                ctl["blocked"] = e["name"]
            elif e["effect"] in ("peers", "nations"):
                k = e["effect"]
                ctl[k] = set(e["set"]) if ctl[k] is None else ctl[k] & e["set"]

        if access is not None:
            parts = access.split("//")
            lv = _norm(parts[0])
            if lv not in LEVELS:
                raise Bad("bad_marking")
            level = LEVELS[lv]
            for p in parts[1:]:
                kind, val = self.control(p)
                if kind == "rel":
                    lists.append(val)
                elif kind == "noforn":
                    noforn = True
                elif kind == "ctl":
                    apply(val)
        if caveat is not None and _norm(caveat) != "":
            for p in caveat.split("//"):
                kind, val = self.control(p)
                if kind == "rel":
                    lists.append(val)
                elif kind == "noforn":
                    noforn = True
                elif kind == "ctl":
                    apply(val)
        if rel is not None:
            toks = [t for t in re.split(r"[ \t,]+", rel) if t]
            lists.append(self.resolve(toks))
        return level, lists, noforn, ctl


# --------------------------------------------------------------------------
# Rules (release.md section 4)

class CombExpr:
    """A Hyperscan logical combination: ids, ! & | and parentheses,
    precedence ! > & > |."""

    def __init__(self, text):
        self.toks = re.findall(r"\d+|[!&|()]|\S", text)
        self.pos = 0
        self.tree = self._or()
        if self.pos != len(self.toks):
            raise PolicyError(f"combination '{text}': trailing '{self.toks[self.pos]}'")
        self.ids = set()
        self._collect(self.tree)

    def _peek(self):
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def _or(self):
        node = self._and()
        while self._peek() == "|":
            self.pos += 1
            node = ("|", node, self._and())
        return node

    def _and(self):
        node = self._not()
        while self._peek() == "&":
            self.pos += 1
            node = ("&", node, self._not())
        return node

    def _not(self):
        t = self._peek()
        if t == "!":
            self.pos += 1
            return ("!", self._not())
        if t == "(":
            self.pos += 1
            node = self._or()
            if self._peek() != ")":
                raise PolicyError("combination: missing ')'")
            self.pos += 1
            return node
        if t is not None and t.isdigit():
            self.pos += 1
            return ("id", int(t))
        raise PolicyError(f"combination: unexpected '{t}'")

    def _collect(self, n):
        if n[0] == "id":
            self.ids.add(n[1])
        else:
            for c in n[1:]:
                self._collect(c)

    def eval(self, true_ids, n=None):
        n = self.tree if n is None else n
        op = n[0]
        if op == "id":
            return n[1] in true_ids
        if op == "!":
            return not self.eval(true_ids, n[1])
        if op == "&":
            return self.eval(true_ids, n[1]) and self.eval(true_ids, n[2])
        return self.eval(true_ids, n[1]) or self.eval(true_ids, n[2])


class Rule:
    def __init__(self, d, classes):
        self.id = int(d["id"])
        self.name = d.get("name", str(self.id))
        self.scope = d.get("scope", "payload")
        if self.scope not in SCOPES:
            raise PolicyError(f"rule {self.id}: unknown scope '{self.scope}'")
        flags = d.get("flags") or []
        for f in flags:
            if f not in KNOWN_FLAGS:
                raise PolicyError(f"rule {self.id}: unknown flag '{f}'")
        self.combination = "combination" in flags
        act = d.get("action") or {}
        self.classify = act.get("classify")
        self.block = act.get("block")
        if self.classify:
            classes.add(self.classify)
        pat = str(d["match"])
        self.pattern = pat
        if self.combination:
            self.expr = CombExpr(pat)
            return
        reflags = 0
        for f in flags:
            reflags |= FLAG_RE.get(f, 0)
        self.caseless = bool(reflags & re.I)
        # A pure literal is found with bytes.find: same answer, 50x faster.
        self.literal = None
        if not any(ch in REGEX_META for ch in pat):
            lit = pat.encode()
            self.literal = lit.lower() if self.caseless else lit
        try:
            self.rx = re.compile(pat.encode(), reflags)
        except re.error as e:
            raise PolicyError(f"rule {self.id}: pattern '{pat}': {e}") from None

    def first_end(self, data, data_lower):
        """End offset of the first match, or None.  Exact for patterns whose
        matches all have one length (literals, the demo rules); for others
        the end of the leftmost match."""
        if self.literal is not None:
            i = (data_lower if self.caseless else data).find(self.literal)
            return None if i < 0 else i + len(self.literal)
        m = self.rx.search(data)
        return None if m is None else m.end()


ENCODINGS = ("xml", "takproto-v1")
PEER_ENCODINGS = ("as-received", "xml")


def _encodings(link):
    """A link's `encodings` (docs/policy.md): default both."""
    e = link.get("encodings")
    if e is None:
        return set(ENCODINGS)
    if not isinstance(e, list) or not e or len(set(e)) != len(e) or \
            any(x not in ENCODINGS for x in e):
        raise PolicyError(f"link {link.get('name')}: bad encodings {e!r}")
    return set(e)


def _peer_encoding(peer):
    e = peer.get("encoding", "as-received")
    if e not in PEER_ENCODINGS:
        raise PolicyError(f"peer {peer.get('name')}: bad encoding {e!r}")
    return e


class Policy:
    def __init__(self, path, apply_sources=False):
        with open(path, "rb") as f:
            doc = yaml.safe_load(f)
        s = doc.get("settings") or {}
        self.stale_tolerance = int(s.get("stale_tolerance_s", 0))
        self.ignore_stale = bool(s.get("ignore_stale", False))
        self.max_bytes = int(s.get("max_message_bytes", 8192))
        self.limits = Limits(int(s.get("max_field_bytes", MAX_FIELD)),
                             int(s.get("max_remarks_bytes", MAX_REMARKS)))
        if not (64 <= self.limits.field <= 1024 and 0 <= self.limits.remarks <= 16384):
            raise PolicyError(f"settings: limits out of range {self.limits}")
        self.mctx = MarkingCtx(doc.get("groups") or {}, doc.get("controls") or [],
                               [p["name"] for p in doc.get("peers") or []])
        self.classes = set()
        self.rules = [Rule(r, self.classes) for r in doc.get("rules") or []]
        ids = [r.id for r in self.rules]
        if len(ids) != len(set(ids)):
            raise PolicyError("duplicate rule ids")
        self.by_id = {r.id: r for r in self.rules}
        for r in self.rules:
            if r.combination:
                for i in r.expr.ids:
                    if i not in self.by_id:
                        raise PolicyError(f"rule {r.id}: combination names unknown id {i}")
                    if self.by_id[i].scope != r.scope:
                        raise PolicyError(f"rule {r.id}: operand {i} is in scope "
                                          f"'{self.by_id[i].scope}', not '{r.scope}'")
                    if self.by_id[i].combination:
                        raise PolicyError(f"rule {r.id}: nested combination {i}")
        self.plain_by_scope = {sc: [r for r in self.rules if r.scope == sc and not r.combination]
                               for sc in SCOPES}
        self.combos = [r for r in self.rules if r.combination]
        # The classes rules of the late scopes can add (release.md section 5).
        self.late_classes = {r.classify for r in self.rules
                             if r.classify and r.scope in LATE_SCOPES}
        self.links = {}
        for l in doc.get("links") or []:
            dm = l.get("default_marking")
            d = (None, [], False, {"blocked": None, "peers": None, "nations": None})
            if dm is not None:
                try:
                    d = self.mctx.parse(dm, None, None)
                except Bad:
                    raise PolicyError(f"link {l['name']}: bad default_marking '{dm}'")
            self.links[l["name"]] = {
                "port": l.get("port"),
                "udp_ports": set(int(p) for p in l.get("udp_ports") or []),
                "default": d,
                "allow": [ipaddress.ip_network(n) for n in l.get("allow_sources") or []],
                "block": [ipaddress.ip_network(n) for n in l.get("block_sources") or []],
                "encodings": _encodings(l),
            }
        self.peers = []
        for p in doc.get("peers") or []:
            clr = _norm(str(p.get("clearance", "")))
            if clr not in LEVELS:
                raise PolicyError(f"peer {p['name']}: bad clearance '{p.get('clearance')}'")
            self.peers.append({
                "name": p["name"], "port": p.get("port"), "nation": str(p["nation"]).upper(),
                "clearance": LEVELS[clr], "link": p.get("link"),
                "receives": set(p.get("receives") or []),
                "encoding": _peer_encoding(p),
                "sanitize": None,
            })
        # docs/policy.md `sanitize` (release.md section 6, "Sanitized
        # copies"): each peer's validated entries, or None without the key.
        entries = []
        for raw, peer in zip(doc.get("peers") or [], self.peers):
            if "sanitize" not in raw:
                continue
            try:
                peer["sanitize"] = sanitize.parse_peer_sanitize(
                    raw["sanitize"], peer, self.classes, self.mctx, Bad)
            except sanitize.SanitizeError as e:
                raise PolicyError(str(e)) from None
            entries += peer["sanitize"]
        try:
            sanitize.check_distinct(entries)
        except sanitize.SanitizeError as e:
            raise PolicyError(str(e)) from None
        self.apply_sources = apply_sources


# --------------------------------------------------------------------------
# CoT parsing (release.md section 2)
#
# pyexpat itself rather than ElementTree, so that the oracle sees everything
# section 2 speaks of: the XML declaration, a DOCTYPE declaration (refused as
# expat reports its start, before any entity is declared), processing
# instructions, and the byte offsets of the raw <detail> content.

TAK_V0 = b"\xbf\x00\xbf"
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9._-]*\Z")
NUM_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")

# Bounds from docs/release.md section 2: over any of them the message is
# `parse`, never truncated.
MAX_FIELD = 256      # a kept string attribute, decoded UTF-8 bytes (default)
MAX_SCALAR = 64      # a number or dateTime attribute, decoded bytes
MAX_REMARKS = 4096   # text of <remarks>, decoded UTF-8 bytes (default)
MAX_DEPTH = 16
MAX_ATTRS = 64
MAX_LINKS = 8
MAX_NAME = 128
EVENT_STR = ("version", "uid", "type", "how", "access", "qos", "opex", "caveat",
             "releasableTo", "releaseableTo")
EVENT_TIME = ("time", "start", "stale")
EVENT_NONEMPTY = ("version", "uid", "type", "how")
POINT_REQUIRED = ("lat", "lon", "hae", "ce", "le")
TRACK_NUM = ("course", "speed", "slope")
LINK_STR = ("uid", "relation", "type")
ONCE_IN_DETAIL = ("track", "contact", "remarks")


def _epoch_ms(s):
    """xs:dateTime with a zone -> ms since the epoch (fraction truncated)."""
    if len(s.encode()) > MAX_SCALAR:
        raise Bad("parse")
    m = TIME_RE.match(s)
    if not m:
        raise Bad("parse")
    y, mo, d, h, mi, se = (int(m.group(i)) for i in range(1, 7))
    if not (y >= 1 and 1 <= mo <= 12 and h <= 23 and mi <= 59 and se <= 59):
        raise Bad("parse")
    if not 1 <= d <= calendar.monthrange(y, mo)[1]:
        raise Bad("parse")
    ms = int((m.group(7) + "00")[:3]) if m.group(7) is not None else 0
    off = 0
    tz = m.group(8)
    if tz != "Z":
        oh, om = int(tz[1:3]), int(tz[4:6])
        if oh > 14 or om > 59 or (oh == 14 and om != 0):
            raise Bad("parse")
        off = (oh * 60 + om) * (1 if tz[0] == "+" else -1)
    days = (datetime.date(y, mo, d) - datetime.date(1970, 1, 1)).days
    return (days * 86400 + h * 3600 + mi * 60 + se - off * 60) * 1000 + ms


def _num(s):
    """An xs:double without blanks, finite."""
    if len(s.encode()) > MAX_SCALAR or not NUM_RE.match(s):
        raise Bad("parse")
    x = float(s)
    if not math.isfinite(x):
        raise Bad("parse")
    return x


# The operator's limits (docs/policy.md `settings`): a kept string over
# `field` bytes is parse (field_limit), remarks over `remarks` parse
# (remarks_limit).
Limits = collections.namedtuple("Limits", "field remarks")
DEFAULT_LIMITS = Limits(MAX_FIELD, MAX_REMARKS)


def _kept(s, bound, code="field_limit"):
    if len(s.encode()) > bound:
        raise Bad("parse", code)
    return s


def _start_tag_end(xml, i):
    """(offset past the start tag at xml[i], whether it is an empty-element
    tag).  expat has read the tag, so it is well-formed."""
    q = None
    for j in range(i + 1, len(xml)):
        c = xml[j]
        if q is not None:
            if c == q:
                q = None
        elif c in (0x22, 0x27):
            q = c
        elif c == 0x3e:
            return j + 1, xml[j - 1] == 0x2f
    raise Bad("parse")


class _CotReader:
    """expat handlers that build the fields of one event, or raise Bad."""

    def __init__(self, xml, parser, lim=DEFAULT_LIMITS):
        self.xml, self.p, self.lim = xml, parser, lim
        self.kinds = []          # open elements: "event", "point", ..., "other"
        self.seen = set()        # point, detail and the ONCE_IN_DETAIL kinds met
        self.detail_from = None
        self.detail_empty = False
        self.remarks_parts = None
        self.f = {"callsign": None, "remarks": None, "detail": None, "track": None,
                  "links": []}

    @staticmethod
    def _bad(*_):
        raise Bad("parse")

    def decl(self, version, encoding, standalone):
        if version != "1.0" or (encoding is not None and encoding.lower() != "utf-8"):
            raise Bad("parse")

    def start(self, name, attrs):
        if len(self.kinds) == MAX_DEPTH:
            raise Bad("parse")
        for n in (name, *attrs):
            if len(n) > MAX_NAME or not NAME_RE.match(n):
                raise Bad("parse")
        if "xmlns" in attrs or len(attrs) > MAX_ATTRS:
            raise Bad("parse")
        parent = self.kinds[-1] if self.kinds else None
        f = self.f
        kind = "other"
        if parent is None:
            if name != "event":
                raise Bad("parse")
            kind = "event"
            self._event(attrs)
        elif parent == "event":
            if name not in ("point", "detail"):
                raise Bad("parse")
            kind = name
            if kind in self.seen:
                raise Bad("parse")
            if kind == "point":
                for k in POINT_REQUIRED:
                    if k not in attrs:
                        raise Bad("parse")
                lat, lon, hae, ce, le = (_num(attrs[k]) for k in POINT_REQUIRED)
                if abs(lat) > 90 or abs(lon) > 180 or ce < 0 or le < 0:
                    raise Bad("parse")
                f.update(lat=lat, lon=lon, hae=hae, ce=ce, le=le)
            else:
                at = self.p.CurrentByteIndex
                self.detail_from, self.detail_empty = _start_tag_end(self.xml, at)
        elif parent == "detail" and name in ONCE_IN_DETAIL + ("link",):
            kind = name
            if kind in self.seen:
                raise Bad("parse")
            if kind == "track":
                t = {k: _num(attrs[k]) for k in TRACK_NUM if k in attrs}
                if not 0 <= t.get("course", 0) <= 360 or t.get("speed", 0) < 0:
                    raise Bad("parse")
                f["track"] = t
            elif kind == "contact":
                if "callsign" in attrs:
                    f["callsign"] = _kept(attrs["callsign"], self.lim.field)
            elif kind == "remarks":
                self.remarks_parts = []
            else:
                if len(f["links"]) == MAX_LINKS:
                    raise Bad("parse")
                f["links"].append({k: _kept(attrs[k], self.lim.field) for k in LINK_STR
                                   if k in attrs})
        elif parent == "remarks":
            raise Bad("parse")  # the remarks are text only
        if kind in ("point", "detail") + ONCE_IN_DETAIL:
            self.seen.add(kind)
        self.kinds.append(kind)

    def _event(self, a):
        f = self.f
        for k in EVENT_NONEMPTY + EVENT_TIME:
            if not a.get(k):
                raise Bad("parse")
        for k in EVENT_STR:
            f[k] = _kept(a[k], self.lim.field) if k in a else None
        f["time_ms"], f["start_ms"], f["stale_ms"] = (_epoch_ms(a[k]) for k in EVENT_TIME)
        r1, r2 = f["releasableTo"], f["releaseableTo"]
        if r1 is not None and r2 is not None and r1 != r2:
            raise Bad("parse")
        f["rel"] = r1 if r1 is not None else r2

    def end(self, name):
        kind = self.kinds.pop()
        if kind == "detail":
            at = self.p.CurrentByteIndex
            self.f["detail"] = b"" if self.detail_empty else self.xml[self.detail_from:at]
        elif kind == "remarks":
            r = "".join(self.remarks_parts)
            self.f["remarks"] = _kept(r, self.lim.remarks, "remarks_limit")
            self.remarks_parts = None
        elif kind == "event" and "point" not in self.seen:
            raise Bad("parse")

    def text(self, data):
        if self.remarks_parts is not None and self.kinds[-1] == "remarks":
            self.remarks_parts.append(data)


def _xml_of(payload):
    """The XML behind the optional TAK v0 header; Bad for any other TAK version."""
    if payload[:3] == TAK_V0:
        return payload[3:]
    if payload[:1] == b"\xbf":
        raise Bad("parse")  # TAK protocol v1 (protobuf) or unknown version
    return payload


def _utf8_only(xml):
    """UTF-8 only: expat would honour a UTF-16 byte order mark (or read "<\\0"
    as UTF-16) whatever encoding it is told; NUL is no XML character."""
    if b"\x00" in xml:
        raise Bad("parse")
    try:
        xml.decode("utf-8")
    except UnicodeDecodeError:
        raise Bad("parse")


def _reader(xml, lim=DEFAULT_LIMITS):
    """An expat parser of xml with a _CotReader's handlers."""
    p = expat.ParserCreate(encoding="UTF-8")
    r = _CotReader(xml, p, lim)
    p.XmlDeclHandler = r.decl
    p.StartDoctypeDeclHandler = r._bad
    p.EntityDeclHandler = r._bad
    p.ProcessingInstructionHandler = r._bad
    p.StartElementHandler = r.start
    p.EndElementHandler = r.end
    p.CharacterDataHandler = r.text
    return p, r


def parse_cot(payload, lim=DEFAULT_LIMITS):
    """Returns the parsed fields of a CoT payload or raises Bad.

    Strings are str (decoded); callsign, remarks and detail are None when
    absent; detail is the raw bytes between <detail ...> and </detail>.
    encoding is "xml" or "takproto-v1"; a v1 event's detail is its detail
    text D (release.md section 2), read by the same XML rules."""
    if takproto.is_v1(payload):
        f, ev = _v1_head(payload, lim)
        if ev["detail"] is not None:
            d = takproto.detail_text(ev["detail"])
            r = _read_detail(d, lim)
            if len(d) > 65535:
                # a field's text is at most 65,535 bytes; escaping the typed
                # elements can make D longer than the message (release.md §2)
                raise Bad("parse", "oversize")
            for k in ("callsign", "remarks", "track", "links"):
                f[k] = r[k]
            f["detail"] = d
        return f
    xml = _xml_of(payload)
    _utf8_only(xml)
    p, r = _reader(xml, lim)
    try:
        p.Parse(xml, True)
    except expat.ExpatError:
        raise Bad("parse")
    f = r.f
    f["stale"] = f["stale_ms"] / 1000.0
    f["encoding"] = "xml"
    return f


class _Head(Exception):
    """Raised by the start handler of <event> when only the head is wanted."""


def parse_cot_head(payload, lim=DEFAULT_LIMITS):
    """The fields of the <event> start tag of a CoT payload, or Bad: what
    parse_cot() checks of the payload up to and including that tag, and
    nothing after it (release.md section 5: a message no peer can receive
    after its start tag is not read further).  For a TAK Protocol Version 1
    payload the head is the whole protobuf decoding: everything but the XML
    reading of its detail text D."""
    if takproto.is_v1(payload):
        return _v1_head(payload, lim)[0]
    xml = _xml_of(payload)
    p, r = _reader(xml, lim)
    end = None

    def start(name, attrs):
        nonlocal end
        at = p.CurrentByteIndex
        r.start(name, attrs)          # the checks of the full parse, <event>'s included
        end, empty = _start_tag_end(xml, at)
        if empty:
            raise Bad("parse")        # <event .../>: no <point>
        raise _Head()

    p.StartElementHandler = start
    try:
        p.Parse(xml, True)
    except _Head:
        pass
    except expat.ExpatError:
        raise Bad("parse")
    if end is None:
        raise Bad("parse")
    _utf8_only(xml[:end])  # parse_cot()'s byte checks, on the part that was read
    f = r.f
    f["stale"] = f["stale_ms"] / 1000.0
    f["encoding"] = "xml"
    return f


# --------------------------------------------------------------------------
# TAK Protocol Version 1 (release.md section 2): the protobuf walk is
# takproto.py's; the detail text D is read here, as the content of <detail>,
# by the XML reader above.

def encoding_of(payload):
    """release.md section 1: takproto-v1 iff the payload starts bf 01 bf."""
    return "takproto-v1" if takproto.is_v1(payload) else "xml"


def _v1_head(payload, lim=DEFAULT_LIMITS):
    """(the head fields, the decoded CotEvent) of a v1 payload, or Bad:
    "parse" (args[1] the parse error) or "tak_control"."""
    if len(payload) > 65535:
        raise Bad("parse", "oversize")  # the message bound, before any byte is read
    try:
        m = takproto.decode(payload, lim.field)
    except takproto.Refused as e:
        raise Bad(e.reason, e.code) from None
    ev = m["cotEvent"]
    f = {"encoding": "takproto-v1", "version": "2.0", "callsign": None, "remarks": None,
         "detail": None, "track": None, "links": []}
    for k in ("uid", "type", "how", "access", "qos", "opex", "caveat", "releaseableTo"):
        f[k] = ev[k]
    f["releasableTo"] = None
    f["rel"] = ev["releaseableTo"]
    f["time_ms"], f["start_ms"], f["stale_ms"] = ev["sendTime"], ev["startTime"], ev["staleTime"]
    for k in POINT_REQUIRED:
        f[k] = ev[k]
    f["stale"] = f["stale_ms"] / 1000.0
    return f, ev


# D is read inside this document.  Nothing in it can change a verdict on D:
# its event and point are valid, <detail> is at depth 2 as in a real event,
# and the reading must find <detail> opening right before D and closing
# right after it (a D that closes </detail> itself is refused).
_D_PRE = (b'<event version="2.0" uid="u" type="t" how="h" time="1970-01-01T00:00:00Z" '
          b'start="1970-01-01T00:00:00Z" stale="1970-01-01T00:00:00Z">'
          b'<point lat="0" lon="0" hae="0" ce="0" le="0"/><detail>')
_D_POST = b"</detail></event>"


def _read_detail(d, lim=DEFAULT_LIMITS):
    """The fields the XML rules give D read as the content of <detail>."""
    doc = _D_PRE + d + _D_POST
    _utf8_only(doc)
    p, r = _reader(doc, lim)
    try:
        p.Parse(doc, True)
    except expat.ExpatError:
        raise Bad("parse", "detail_xml") from None
    if r.detail_from != len(_D_PRE) or r.f["detail"] != d:
        raise Bad("parse", "detail_xml")
    return r.f


XML_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
UDP_PAYLOAD_MAX = 65507  # the largest UDP payload over IPv4


def _iso_ms(ms):
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ms)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (t.year, t.month, t.day, t.hour,
                                                     t.minute, t.second, ms % 1000)


def to_xml(f):
    """The XML conversion of a parsed v1 event (release.md section 6), bytes."""
    esc, num = takproto.escape, takproto.fmt_num
    a = ['version="2.0"'] + [f'{k}="{esc(f[k])}"' for k in ("uid", "type", "how")]
    a += [f'{k}="{_iso_ms(f[m])}"' for k, m in (("time", "time_ms"), ("start", "start_ms"),
                                                ("stale", "stale_ms"))]
    for k, name in (("access", "access"), ("qos", "qos"), ("opex", "opex"),
                    ("caveat", "caveat"), ("rel", "releasableTo")):
        if f[k] is not None:
            a.append(f'{name}="{esc(f[k])}"')
    pt = " ".join(f'{k}="{num(f[k])}"' for k in POINT_REQUIRED)
    out = XML_DECL + ("<event " + " ".join(a) + "><point " + pt + "/>").encode("utf-8")
    if f["detail"] is not None:
        out += b"<detail>" + f["detail"] + b"</detail>"
    return out + b"</event>"


# --------------------------------------------------------------------------
# The decision (release.md section 5)

class Oracle:
    def __init__(self, policy, now, comb_eod=False):
        self.p = policy
        self.now = now
        self.comb_eod = comb_eod
        self.msg_reasons = {}
        self.block_reasons = {}
        self.rule_hits = {}
        self.peer_stats = {p["name"]: {"released": 0, "withheld": {}} for p in policy.peers}
        for peer in policy.peers:
            if peer["sanitize"] is not None:
                # release.md section 6: releases that were sanitized copies
                self.peer_stats[peer["name"]]["sanitized"] = 0
        # sha256 -> bytes of every sanitized copy expected (keep_copies only)
        self.keep_copies = False
        self.copies = {}
        self.releases = {p["name"]: [] for p in policy.peers}
        self.messages = 0
        self.scan_skipped = 0
        # release.md section 1: messages and their message-level reasons by encoding
        self.by_encoding = {e: {"messages": 0, "reasons": {}} for e in ENCODINGS}
        self._enc = None

    def _reason(self, k):
        """Count a message-level reason of the current message."""
        self._count(self.msg_reasons, k)
        self._count(self.by_encoding[self._enc]["reasons"], k)

    def _count(self, d, k, n=1):
        d[k] = d.get(k, 0) + n

    def matched_rules(self, payload, f, scopes):
        """Ids of every rule of the given scopes that matched the message."""
        p = self.p
        enc = lambda s: s.encode("utf-8") if isinstance(s, str) else s  # noqa: E731
        data = {
            "payload": payload, "type": enc(f["type"]), "how": enc(f["how"]),
            "uid": enc(f["uid"]), "callsign": enc(f["callsign"] or ""),
            "remarks": enc(f["remarks"] or ""), "detail": f["detail"] or b"",
            "marking": enc("\n".join(x or "" for x in (f["access"], f["caveat"], f["rel"]))),
        }
        hits, ends = set(), {}
        for sc in SCOPES:
            if sc not in scopes:
                continue
            rules = p.plain_by_scope[sc]
            if not rules:
                continue
            buf = data[sc]
            low = buf.lower()
            for r in rules:
                e = r.first_end(buf, low)
                if e is not None:
                    hits.add(r.id)
                    ends[r.id] = e
        for c in p.combos:
            if c.scope not in scopes:
                continue
            if self.comb_eod:
                ok = c.expr.eval(hits)
            else:
                ok = self._hs_combination(c, ends)
            if ok:
                hits.add(c.id)
        return hits

    @staticmethod
    def _hs_combination(c, ends):
        """Hyperscan semantics: the combination is evaluated at every offset
        where an operand matches, with each operand true iff it has matched
        at or before that offset; it matches if true at any such offset.  A
        combination true with no operand matched (purely negative) is also
        checked once at the end of the data."""
        offs = sorted(set(ends[i] for i in c.expr.ids if i in ends))
        for o in offs:
            if c.expr.eval({i for i in c.expr.ids if i in ends and ends[i] <= o}):
                return True
        if c.expr.eval(set()):
            return c.expr.eval({i for i in c.expr.ids if i in ends})
        return False

    def message(self, link_name, dgram):
        p = self.p
        link = p.links[link_name]
        src, _, _, dport, payload, checksum_ok = dgram
        if dport not in link["udp_ports"]:
            self._count(self.msg_reasons, "not_track")
            return
        if not checksum_ok:
            self._count(self.msg_reasons, "bad_checksum")
            return
        self.messages += 1
        enc = self._enc = encoding_of(payload)
        self.by_encoding[enc]["messages"] += 1
        try:
            if p.apply_sources:
                ip = ipaddress.ip_address(src)
                if any(ip in n for n in link["block"]) or (
                        link["allow"] and not any(ip in n for n in link["allow"])):
                    raise Bad("source_blocked")
            if len(payload) > p.max_bytes:
                raise Bad("too_big")
            if enc not in link["encodings"]:
                raise Bad("encoding")
            f = parse_cot_head(payload, p.limits)  # Bad("tak_control") for a TakControl-only v1
            if not p.ignore_stale and self.now - f["stale"] > p.stale_tolerance:
                raise Bad("stale")
            level, lists, noforn, ctl = p.mctx.parse(f["access"], f["caveat"], f["rel"])
        except Bad as e:
            self._reason(e.args[0])
            return
        dlevel, dlists, dnoforn, _ = link["default"]
        if level is None:
            level = dlevel
        if lists:
            rel = set.intersection(*lists)
        else:
            rel = set.intersection(*dlists) if dlists else set()
            noforn = noforn or dnoforn
        if noforn:
            rel &= {"USA"}
        if ctl["nations"] is not None:
            rel &= ctl["nations"]
        if ctl["blocked"] is not None:
            # a declared block control: nobody, before any rule is scanned
            self._reason("blocked")
            self._count(self.block_reasons, "control:" + ctl["blocked"])
            return

        # Steps 2 and 3: the early scopes' rules; a block among them blocks.
        hits = self.matched_rules(payload, f, EARLY_SCOPES)
        if self._blocked(hits):
            return
        early = {p.by_id[i].classify for i in hits if p.by_id[i].classify}

        def by_marking(peer):
            """Steps 4-6: what the marking and the link say."""
            if level is None or level > peer["clearance"]:
                return "clearance"
            if peer["nation"] not in rel:
                return "not_releasable"
            if ctl["peers"] is not None and peer["name"] not in ctl["peers"]:
                return "not_releasable"
            if peer["link"] == link_name or (peer["port"] is not None
                                             and peer["port"] == link["port"]):
                return "echo"
            return None

        # Step 3: can any peer still receive it, whatever the late rules say?
        why = {peer["name"]: by_marking(peer) for peer in p.peers}
        possible = [peer for peer in p.peers if why[peer["name"]] is None and (
            peer["receives"] & (early | p.late_classes)
            or (not early and "other" in peer["receives"]))]
        if not possible:
            self.scan_skipped += 1
            self._reason("accepted")
            for peer in p.peers:
                self._count(self.peer_stats[peer["name"]]["withheld"],
                            why[peer["name"]] or "class")
            return

        # Someone may receive it: now the whole document must parse.
        try:
            f = parse_cot(payload, p.limits)
        except Bad as e:
            self._reason(e.args[0])
            return
        late = self.matched_rules(payload, f, LATE_SCOPES)
        if self._blocked(late):
            return
        hits |= late
        classes = {p.by_id[i].classify for i in hits if p.by_id[i].classify}
        if not classes:
            classes = {"other"}
        self._reason("accepted")
        sha = hashlib.sha256(payload).hexdigest()
        sha_xml = None
        copies = {}        # (steps, encoding) -> [peers]: one copy per combined steps
        for peer in p.peers:
            st = self.peer_stats[peer["name"]]
            w = why[peer["name"]] or (None if classes & peer["receives"] else "class")
            xml = None
            steps = None
            if not w and peer["sanitize"] is not None:
                steps = sanitize.combine(peer["sanitize"], classes)
            if steps is not None:
                # release.md section 6, "Sanitized copies": instead of the
                # payload or the conversion; decided below, per copy
                out = ("takproto-v1" if enc == "takproto-v1" and peer["encoding"] != "xml"
                       else "xml")
                copies.setdefault((steps, out), []).append(peer)
                continue
            if not w and enc == "takproto-v1" and peer["encoding"] == "xml":
                # release.md section 6: converted once, shared by such peers;
                # a conversion larger than a UDP payload is withheld (convert)
                xml = to_xml(f)
                if len(xml) > UDP_PAYLOAD_MAX:
                    w = "convert"
            if w:
                self._count(st["withheld"], w)
            else:
                st["released"] += 1
                h = sha
                if xml is not None:
                    if sha_xml is None:
                        sha_xml = hashlib.sha256(xml).hexdigest()
                    h = sha_xml
                self.releases[peer["name"]].append(
                    {"uid": f["uid"], "sha256": h, "link": link_name})
        if copies:
            self._copies(f, link_name, copies)

    def _admitted(self, link_name, access, caveat, rel):
        """The names of the peers a marking admits under steps 4 and 5
        (release.md sections 3 and 5), resolved with the link's default as
        for a message; a bad marking, or one carrying a block control,
        admits no one."""
        p = self.p
        try:
            level, lists, noforn, ctl = p.mctx.parse(access, caveat, rel)
        except Bad:
            return set()
        dlevel, dlists, dnoforn, _ = p.links[link_name]["default"]
        if level is None:
            level = dlevel
        if lists:
            nations = set.intersection(*lists)
        else:
            nations = set.intersection(*dlists) if dlists else set()
            noforn = noforn or dnoforn
        if noforn:
            nations &= {"USA"}
        if ctl["nations"] is not None:
            nations &= ctl["nations"]
        if ctl["blocked"] is not None or level is None:
            return set()
        return {peer["name"] for peer in p.peers
                if level <= peer["clearance"] and peer["nation"] in nations
                and (ctl["peers"] is None or peer["name"] in ctl["peers"])}

    def _copies(self, f, link_name, copies):
        """The sanitized copies of one message (release.md sections 6 and 7):
        copies maps (combined steps, encoding) to the peers that share the
        copy.  A copy longer than a UDP payload (or not writable) is withheld
        from its peers as `sanitize`; one that fails the second check's
        property (a) as `sanitize_check`: its marking must admit each of its
        peers and no peer the original's marking does not.  Properties (b)
        to (d) hold for a copy written as sanitize.py writes it; a dataplane
        copy that differs shows in compare.py as a mismatch."""
        admitted = self._admitted(link_name, f["access"], f["caveat"], f["rel"])
        for (steps, out), peers in copies.items():
            try:
                copy = sanitize.copy_for(f, steps, "xml" if out == "xml" else "as-received",
                                         _iso_ms)
            except OverflowError:
                # READING: an XML time whose instant falls outside the years
                # 0001..9999 once its zone offset is applied
                # (0001-01-01T00:00:00+14:00) has no YYYY-... form: the copy
                # cannot be written, withheld as `sanitize`.
                copy = None
            w, h = None, None
            if copy is None or len(copy) > UDP_PAYLOAD_MAX:
                w = "sanitize"
            else:
                h = hashlib.sha256(copy).hexdigest()
                acc, cav, rel = sanitize.marking_of(f, steps)
                mine = self._admitted(link_name, acc, cav, rel)
                if not mine <= admitted or any(peer["name"] not in mine for peer in peers):
                    w = "sanitize_check"
                elif self.keep_copies:
                    self.copies[h] = copy
            for peer in peers:
                st = self.peer_stats[peer["name"]]
                if w:
                    self._count(st["withheld"], w)
                else:
                    st["released"] += 1
                    st["sanitized"] += 1
                    self.releases[peer["name"]].append(
                        {"uid": f["uid"], "sha256": h, "link": link_name, "sanitized": True})

    def _blocked(self, hits):
        """Count the hits; True (counted as blocked) if a block rule is among them."""
        p = self.p
        for i in hits:
            self._count(self.rule_hits, i)
        blocks = [p.by_id[i] for i in sorted(hits) if p.by_id[i].block]
        if blocks:
            self._reason("blocked")
            self._count(self.block_reasons, blocks[0].block)
            return True
        return False

    def run_pcap(self, link_name, path):
        for kind, val in tgpcap.datagrams(path):
            if kind == "drop":
                self._count(self.msg_reasons, val)
            else:
                self.message(link_name, val)

    def summary(self):
        return {
            "messages": self.messages,
            "scan_skipped": self.scan_skipped,
            "message_reasons": dict(sorted(self.msg_reasons.items())),
            "blocked_by": dict(sorted(self.block_reasons.items())),
            "rule_hits": {str(k): v for k, v in sorted(self.rule_hits.items())},
            "peers": {k: dict({"released": v["released"],
                               "withheld": dict(sorted(v["withheld"].items()))},
                              **({"sanitized": v["sanitized"]} if "sanitized" in v else {}))
                      for k, v in self.peer_stats.items()},
            "now": self.now,
            "combination_semantics": "eod" if self.comb_eod else "hyperscan",
            "encodings": {e: {"messages": v["messages"],
                              "reasons": dict(sorted(v["reasons"].items()))}
                          for e, v in self.by_encoding.items()},
        }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--policy", required=True, help="policy YAML")
    ap.add_argument("--link", action="append", required=True, metavar="NAME=PCAP",
                    help="input pcap of one link (repeatable)")
    ap.add_argument("--out", help="directory for <peer>.jsonl and summary.json")
    ap.add_argument("--now", type=float, help="epoch for the stale check (default: wall clock)")
    ap.add_argument("--combination-eod", action="store_true",
                    help="evaluate combinations once over the whole field instead of "
                         "Hyperscan's per-offset semantics")
    ap.add_argument("--keep-sanitized", action="store_true",
                    help="also write each expected sanitized copy (release.md section 6) "
                         "to DIR/sanitized/<sha256>, for compare.py --explain-sanitized")
    ap.add_argument("--apply-source-filter", action="store_true",
                    help="also drop messages outside allow_sources or inside block_sources "
                         "(reason source_blocked); release.md does not list this step")
    a = ap.parse_args(argv)
    try:
        pol = Policy(a.policy, apply_sources=a.apply_source_filter)
    except (PolicyError, OSError, yaml.YAMLError, KeyError, ValueError) as e:
        print(f"oracle: {a.policy}: {e}", file=sys.stderr)
        return 2
    orc = Oracle(pol, a.now if a.now is not None else time.time(), a.combination_eod)
    orc.keep_copies = bool(a.keep_sanitized and a.out)
    for spec in a.link:
        name, _, path = spec.partition("=")
        if name not in pol.links or not path:
            print(f"oracle: --link {spec}: want NAME=PCAP with NAME one of "
                  f"{', '.join(pol.links)}", file=sys.stderr)
            return 2
        try:
            orc.run_pcap(name, path)
        except (OSError, ValueError) as e:
            print(f"oracle: {e}", file=sys.stderr)
            return 2
    summ = orc.summary()
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        for peer, rel in orc.releases.items():
            rel.sort(key=lambda r: (r["link"], r["uid"], r["sha256"]))
            with open(os.path.join(a.out, f"{peer}.jsonl"), "w") as f:
                for r in rel:
                    f.write(json.dumps(r, sort_keys=True) + "\n")
        if orc.copies:
            sdir = os.path.join(a.out, "sanitized")
            os.makedirs(sdir, exist_ok=True)
            for h, copy in orc.copies.items():
                with open(os.path.join(sdir, h), "wb") as f:
                    f.write(copy)
        with open(os.path.join(a.out, "summary.json"), "w") as f:
            json.dump(summ, f, indent=2, sort_keys=True)
            f.write("\n")
    json.dump(summ, sys.stdout, indent=2, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
