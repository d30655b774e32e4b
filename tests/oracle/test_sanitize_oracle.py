#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_sanitize_oracle.py - the oracle's sanitized copies (issue 16).

    /usr/bin/python3 tests/oracle/test_sanitize_oracle.py [--seed S] [--fragments N] [-v]

Checks tests/oracle/sanitize.py and its use in oracle.py against
docs/release.md section 6 ("Sanitized copies"), section 7 and docs/policy.md
`sanitize`, with exact expected bytes written here by hand:

- the policy: both forms of `sanitize:`, and what tgctl refuses;
- each step alone and combined, entries with `classes:`, the combination
  rules (union, smallest decimals, largest min_ce);
- the canonical detail D' (CDATA -> escaped text, entities, comments,
  nested drops, `/>` iff nothing left, whitespace);
- coarsen_point's rounding (halves, negative values, -0) and min_ce;
- set_attribute (added in its place, replaced, the second check's (a));
- TAK v1 input: the v1 copy decoded by the oracle's walker and by
  python3-protobuf (tests/proto/takproto.proto, skipped without protoc),
  field order and values; the XML copy for an `encoding: xml` peer;
- hostile inputs: everything removed, 16 levels, 1000 siblings;
- the release path (Oracle.message): expected payloads, the `sanitized`
  counts, peers without `sanitize` unchanged, `sanitize_check`;
- oracle.py main + compare.py (scapy-written pcaps): a sanitized copy
  compared byte for byte, and --explain-sanitized naming the field;
- a property check over N (2000) seeded random detail fragments and drop
  lists: no dropped name survives as `<name[ \\t\\r\\n/>]`, no dropped
  attribute on its element, the copy re-parses, and D' is a fixpoint.

Prints "ok N - ..." / "not ok N - ..." lines; exits 0 iff all pass.
Standalone: needs /usr/bin/python3 with python3-yaml (and python3-scapy,
python3-protobuf + protoc for two parts, skipped with a note without them).
"""

import argparse
import atexit
import hashlib
import importlib
import json
import math
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.parsers.expat as expat

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import compare  # noqa: E402
import oracle  # noqa: E402
import sanitize  # noqa: E402
import takproto as tp  # noqa: E402
from sanitize import Steps  # noqa: E402
from takproto import f_double, f_len, f_varint  # noqa: E402

N_TEST = [0]
FAILED = []
VERBOSE = [False]


def check(name, cond, detail=""):
    N_TEST[0] += 1
    if cond:
        print(f"ok {N_TEST[0]} - {name}")
    else:
        FAILED.append(name)
        print(f"not ok {N_TEST[0]} - {name}")
        if detail:
            for line in str(detail).splitlines():
                print(f"#   {line}")


def eq(name, got, want):
    check(name, got == want, f"got:  {got!r}\nwant: {want!r}")


def raises(fn, exc):
    try:
        fn()
    except exc:
        return True
    return False


# --------------------------------------------------------------------------
# Messages

TIMES = ('time="2026-01-01T00:00:00Z" start="2026-01-01T00:00:00.5Z" '
         'stale="2026-01-01T00:05:00.1239Z"')
TIMES_OUT = ('time="2026-01-01T00:00:00.000Z" start="2026-01-01T00:00:00.500Z" '
             'stale="2026-01-01T00:05:00.123Z"')
PT = 'lat="35.123456" lon="-129.987654" hae="10.0" ce="25" le="30"'
PT_OUT = 'lat="35.123456" lon="-129.987654" hae="10" ce="25" le="30"'
DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'


def xml_event(detail=None, extra="", point=PT, uid="T-1", typ="a-h-A-W-M-B", version="2.0",
              between=""):
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<event version="{version}" uid="{uid}" type="{typ}" how="m-g" {TIMES}{extra}>'
            f"{between}<point {point}/>{between}"
            + (f"<detail>{detail}</detail>" if detail is not None else "")
            + "</event>").encode()


def out_event(detail=None, extra="", point=PT_OUT, uid="T-1", typ="a-h-A-W-M-B",
              version="2.0"):
    return (DECL + f'<event version="{version}" uid="{uid}" type="{typ}" how="m-g" '
            f"{TIMES_OUT}{extra}><point {point}/>"
            + (f"<detail>{detail}</detail>" if detail is not None else "")
            + "</event>").encode()


def copy_of(payload, steps, peer_encoding="as-received"):
    f = oracle.parse_cot(payload)
    return sanitize.copy_for(f, steps, peer_encoding, oracle._iso_ms)


def d(content, **kw):
    """D' of a detail content (str) under Steps(**kw), as str."""
    return sanitize.rewrite_detail(content.encode(), Steps(**kw)).decode()


# --------------------------------------------------------------------------
# 1. The policy

POLICY = """
version: 1
settings: {ignore_stale: true, max_message_bytes: 65507}
groups: {TRILAT: [KOR, JPN, USA]}
controls:
  - {name: EXERCISE, effect: block}
  - {name: ORCON, effect: {peers: [usa]}}
links:
  - name: kor-us
    port: net_pcap0
    udp_ports: [6969]
    default_marking: "SECRET//REL TO USA, KOR, JPN"
peers:
  - name: usa
    port: net_pcap2
    nation: USA
    clearance: TOP SECRET
    receives: [warning, space, other]
    header: &h {src_mac: "02:00:00:00:01:01", dst_mac: "02:00:00:00:82:01", src_ip: 192.0.2.1,
                dst_ip: 198.51.100.1, src_port: 6969, dst_port: 6969}
  - name: jpn
    port: net_pcap3
    nation: JPN
    clearance: SECRET
    receives: [warning, space]
    header: *h
%(JPN)s
  - name: jpnx
    port: net_pcap4
    nation: JPN
    clearance: SECRET
    receives: [warning]
    encoding: xml
    header: *h
%(JPNX)s
  - name: gbr
    port: net_pcap5
    nation: GBR
    clearance: SECRET
    receives: [warning]
    header: *h
rules:
  - {id: 100, name: missile, scope: type, match: '^a-h-A-W-M', action: {classify: warning}}
  - {id: 101, name: space, scope: type, match: '^a-h-P-S', action: {classify: space}}
  - {id: 102, name: sensor, scope: detail, match: 'radar-x', action: {classify: space}}
"""

JPN_SAN = """    sanitize:
      - drop_elements: [__sensor, link]
        drop_attributes: [contact@endpoint]
        drop_remarks: true
      - classes: [warning]
        coarsen_point: {decimals: 2, min_ce: 1000}
        set_attribute: {releasableTo: "JPN"}
      - classes: [space]
        coarsen_point: {decimals: 3, min_ce: 5000}
"""
JPNX_SAN = """    sanitize:
      drop_elements: [__sensor]
"""


def write_policy(tmp, jpn=JPN_SAN, jpnx=JPNX_SAN, name="p.yaml"):
    # oracle.Policy reads YAML with PyYAML; tgctl refuses anchors, but the
    # oracle does not check them: the anchor only keeps this file short.
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(POLICY % {"JPN": jpn, "JPNX": jpnx})
    return path


def test_policy(tmp):
    p = oracle.Policy(write_policy(tmp))
    jpn = {x["name"]: x for x in p.peers}["jpn"]
    jpnx = {x["name"]: x for x in p.peers}["jpnx"]
    eq("policy: list form keeps 3 entries", len(jpn["sanitize"]), 3)
    eq("policy: mapping form is one entry", len(jpnx["sanitize"]), 1)
    eq("policy: peers without sanitize have None",
       [x["sanitize"] for x in p.peers if x["name"] in ("usa", "gbr")], [None, None])
    e0, e1, e2 = jpn["sanitize"]
    eq("policy: entry 0 steps", (e0.classes, e0.steps.describe()),
       (None, {"drop_elements": ["__sensor", "link"], "drop_attributes": ["contact@endpoint"],
               "drop_remarks": True}))
    eq("policy: entry 1 classes and steps", (e1.classes, e1.steps.describe()),
       (frozenset(["warning"]), {"coarsen_point": {"decimals": 2, "min_ce": 1000.0},
                                 "set_attribute": {"releasableTo": "JPN"}}))

    ok_cases = [
        ("drop_remarks false alone", "drop_remarks: false"),
        ("classes other", "classes: [other]\n        drop_elements: [x]"),
        ("min_ce default", "coarsen_point: {decimals: 0}"),
        ("min_ce float 1e7", "coarsen_point: {decimals: 6, min_ce: 1.0e+7}"),
        ("31-byte name", "drop_elements: [" + "a" * 31 + "]"),
        ("16 names", "drop_elements: [" + ", ".join(f"e{i}" for i in range(16)) + "]"),
        ("set qos/opex/caveat", 'set_attribute: {qos: "1-r-c", opex: "e-x", caveat: "REL TO JPN"}'),
        ("set access with REL TO the peer", 'set_attribute: {access: "SECRET//REL TO JPN, USA"}'),
        ("set releasableTo with a group", 'set_attribute: {releasableTo: "TRILAT"}'),
        ("same value set twice", None),
    ]
    for name, body in ok_cases:
        if body is None:
            san = ('    sanitize:\n      - set_attribute: {qos: "a"}\n'
                   '      - classes: [space]\n        set_attribute: {qos: "a"}\n')
        else:
            san = "    sanitize:\n      - " + body + "\n"
        try:
            oracle.Policy(write_policy(tmp, jpn=san, jpnx="", name="ok.yaml"))
            check(f"policy accepts: {name}", True)
        except oracle.PolicyError as e:
            check(f"policy accepts: {name}", False, e)

    bad_cases = [
        ("empty list", "    sanitize: []\n"),
        ("five entries", "    sanitize:\n" + "      - drop_remarks: true\n" * 5),
        ("no step", "    sanitize:\n      - classes: [warning]\n"),
        ("unknown key", "    sanitize:\n      - drop_element: [x]\n"),
        ("unknown class", "    sanitize:\n      - classes: [nosuch]\n        drop_remarks: true\n"),
        ("empty classes", "    sanitize:\n      - classes: []\n        drop_remarks: true\n"),
        ("drop event", "    sanitize:\n      - drop_elements: [event]\n"),
        ("drop point", "    sanitize:\n      - drop_elements: [point]\n"),
        ("drop detail", "    sanitize:\n      - drop_elements: [detail]\n"),
        ("32-byte name", "    sanitize:\n      - drop_elements: [" + "a" * 32 + "]\n"),
        ("17 names", "    sanitize:\n      - drop_elements: ["
         + ", ".join(f"e{i}" for i in range(17)) + "]\n"),
        ("name with colon", "    sanitize:\n      - drop_elements: ['a:b']\n"),
        ("name starting with digit", "    sanitize:\n      - drop_elements: ['1a']\n"),
        ("attribute without @", "    sanitize:\n      - drop_attributes: [contact]\n"),
        ("attribute with two @", "    sanitize:\n      - drop_attributes: [a@b@c]\n"),
        ("attribute bad name", "    sanitize:\n      - drop_attributes: ['a@b c']\n"),
        ("drop_remarks not bool", "    sanitize:\n      - drop_remarks: 1\n"),
        ("decimals 7", "    sanitize:\n      - coarsen_point: {decimals: 7}\n"),
        ("decimals -1", "    sanitize:\n      - coarsen_point: {decimals: -1}\n"),
        ("decimals missing", "    sanitize:\n      - coarsen_point: {min_ce: 10}\n"),
        ("min_ce over 1e7", "    sanitize:\n      - coarsen_point:"
         " {decimals: 1, min_ce: 10000001}\n"),
        ("min_ce negative", "    sanitize:\n      - coarsen_point: {decimals: 1, min_ce: -1}\n"),
        ("coarsen unknown key", "    sanitize:\n      - coarsen_point: {decimals: 1, digits: 2}\n"),
        ("set uid", '    sanitize:\n      - set_attribute: {uid: "x"}\n'),
        ("set releaseableTo spelling",
         '    sanitize:\n      - set_attribute: {releaseableTo: "JPN"}\n'),
        ("set 128 bytes", '    sanitize:\n      - set_attribute: {qos: "' + "q" * 128 + '"}\n'),
        ("set bad access", '    sanitize:\n      - set_attribute: {access: "SECRETISH"}\n'),
        ("set empty access", '    sanitize:\n      - set_attribute: {access: ""}\n'),
        ("set access without the peer",
         '    sanitize:\n      - set_attribute: {access: "S//REL TO USA"}\n'),
        ("set NOFORN for JPN", '    sanitize:\n      - set_attribute: {caveat: "NOFORN"}\n'),
        ("set releasableTo without JPN",
         '    sanitize:\n      - set_attribute: {releasableTo: "USA KOR"}\n'),
        ("set releasableTo empty", '    sanitize:\n      - set_attribute: {releasableTo: ""}\n'),
        ("set bad token", '    sanitize:\n      - set_attribute: {releasableTo: "JPN;USA"}\n'),
        ("set ORCON (peers: usa) for jpn",
         '    sanitize:\n      - set_attribute: {caveat: "ORCON"}\n'),
        ("set a block control", '    sanitize:\n      - set_attribute: {caveat: "EXERCISE"}\n'),
        ("set a number", '    sanitize:\n      - set_attribute: {qos: 5}\n'),
        ("two values for one attribute", '    sanitize:\n      - set_attribute: {qos: "a"}\n'
         '      - classes: [space]\n        set_attribute: {qos: "b"}\n'),
        ("null value", "    sanitize:\n      - drop_elements:\n"),
    ]
    for name, san in bad_cases:
        try:
            oracle.Policy(write_policy(tmp, jpn=san, jpnx="", name="bad.yaml"))
            check(f"policy refuses: {name}", False, "accepted")
        except oracle.PolicyError:
            check(f"policy refuses: {name}", True)
    # at most 16 distinct entries in the whole policy: 4 peers x 4 entries
    def four(tag):
        return "    sanitize:\n" + "".join(f"      - drop_elements: [{tag}{i}]\n" for i in range(4))
    pol = POLICY % {"JPN": four("j"), "JPNX": four("x")}
    pol = pol.replace("    receives: [warning, space, other]\n",
                      "    receives: [warning, space, other]\n" + four("u"), 1)
    gbr = "    nation: GBR\n    clearance: SECRET\n    receives: [warning]\n"
    assert gbr in pol
    path = os.path.join(tmp, "many.yaml")

    def load(text):
        with open(path, "w") as f:
            f.write(text)
        try:
            oracle.Policy(path)
            return None
        except oracle.PolicyError as e:
            return str(e)
    eq("policy accepts 16 distinct entries", load(pol.replace(gbr, gbr + four("g"))), None)
    eq("policy: an entry equal to another peer's counts once",
       load(pol.replace(gbr, gbr + four("g")).replace(
           "rules:\n", "  - name: kor\n    port: net_pcap6\n    nation: KOR\n"
           "    clearance: SECRET\n    header: *h\n    sanitize:\n"
           "      - drop_elements: [g0]\n" + "rules:\n", 1)), None)
    check("policy refuses 17 distinct entries", load(pol.replace(gbr, gbr + four("g")).replace(
        "rules:\n", "  - name: kor\n    port: net_pcap6\n    nation: KOR\n"
        "    clearance: SECRET\n    header: *h\n    sanitize:\n"
        "      - drop_elements: [k0]\n" + "rules:\n", 1)) is not None)


# --------------------------------------------------------------------------
# 2. Each step alone, and combined

DETAIL = ('<contact endpoint="10.0.0.1:4242:tcp" callsign="EAGLE 1"/>'
          '<__sensor id="r&amp;d" type="radar"><beam az="10"/></__sensor>'
          '<link uid="u1" relation="p-p" type="b"/><link uid="u2" relation="p-p"/>'
          '<remarks source="x">launch &lt;detected&gt;</remarks>'
          '<track course="90" speed="3"/>')


def test_steps():
    src = xml_event(DETAIL)
    eq("no step: canonical copy of a canonical detail", copy_of(src, Steps()),
       out_event(DETAIL.replace("r&amp;d", "r&amp;d")))
    eq("drop_elements alone", copy_of(src, Steps(elements=["__sensor", "link"])),
       out_event('<contact endpoint="10.0.0.1:4242:tcp" callsign="EAGLE 1"/>'
                 '<remarks source="x">launch &lt;detected&gt;</remarks>'
                 '<track course="90" speed="3"/>'))
    eq("drop_attributes alone", copy_of(src, Steps(attributes=[("contact", "endpoint"),
                                                               ("link", "type"),
                                                               ("beam", "az")])),
       out_event('<contact callsign="EAGLE 1"/>'
                 '<__sensor id="r&amp;d" type="radar"><beam/></__sensor>'
                 '<link uid="u1" relation="p-p"/><link uid="u2" relation="p-p"/>'
                 '<remarks source="x">launch &lt;detected&gt;</remarks>'
                 '<track course="90" speed="3"/>'))
    eq("drop_remarks alone", copy_of(src, Steps(remarks=True)),
       out_event(DETAIL.replace('<remarks source="x">launch &lt;detected&gt;</remarks>', "")))
    eq("drop_remarks == drop_elements [remarks]", copy_of(src, Steps(remarks=True)),
       copy_of(src, Steps(elements=["remarks"])))
    eq("coarsen_point alone", copy_of(src, Steps(coarsen=(2, 1000.0))),
       out_event(DETAIL, point='lat="35.12" lon="-129.99" hae="10" ce="1000" le="30"'))
    eq("coarsen_point keeps a larger ce", copy_of(src, Steps(coarsen=(0, 5.0))),
       out_event(DETAIL, point='lat="35" lon="-130" hae="10" ce="25" le="30"'))
    eq("set_attribute alone (added, in the conversion's order)",
       copy_of(src, Steps(set_={"releasableTo": "JPN", "qos": "1-r-c", "access": "S"})),
       out_event(DETAIL, extra=' access="S" qos="1-r-c" releasableTo="JPN"'))
    eq("set_attribute replaces, keeps the others",
       copy_of(xml_event(DETAIL, extra=' access="SECRET//REL TO USA, JPN" opex="o"'
                                       ' caveat="FOUO" releaseableTo="USA JPN"'),
               Steps(set_={"caveat": "REL TO JPN", "opex": 'e"x<'})),
       out_event(DETAIL, extra=' access="SECRET//REL TO USA, JPN" opex="e&quot;x&lt;"'
                               ' caveat="REL TO JPN" releasableTo="USA JPN"'))
    eq("all steps combined", copy_of(src, Steps(elements=["__sensor"], attributes=[
        ("contact", "endpoint")], remarks=True, coarsen=(1, 100.0), set_={"releasableTo": "JPN"})),
        out_event('<contact callsign="EAGLE 1"/><link uid="u1" relation="p-p" type="b"/>'
                  '<link uid="u2" relation="p-p"/><track course="90" speed="3"/>',
                  point='lat="35.1" lon="-130" hae="10" ce="100" le="30"',
                  extra=' releasableTo="JPN"'))
    # the event's other attributes and children, the point's other
    # attributes, the detail's attributes, text between: not in the copy
    odd = ('<?xml version="1.0"?><!-- c --><event how="m-g" version="2.1" uid="T-1" '
           'type="a-h-A-W-M-B" ' + TIMES + ' extra="x"> <detail a="b"><x/></detail>'
           '<!-- c --><point ' + PT + ' foo="bar"/> </event>\n').encode()
    eq("copy keeps only the spec's attributes, version kept, point after detail order fixed",
       copy_of(odd, Steps()), out_event("<x/>", version="2.1"))
    eq("no detail: no <detail>", copy_of(xml_event(None), Steps(elements=["x"])), out_event(None))
    eq("empty <detail/>: <detail></detail>", copy_of(xml_event(None).replace(
        b"</event>", b"<detail/></event>"), Steps()), out_event(""))
    eq("TAK v0 header: an XML copy without it",
       copy_of(b"\xbf\x00\xbf" + xml_event("<a/>"), Steps()), out_event("<a/>"))
    eq("times with offsets: the same instants in Z",
       copy_of(xml_event("").replace(b'time="2026-01-01T00:00:00Z"',
                                     b'time="2026-01-01T09:00:00.9999+09:00"'), Steps()),
       out_event("").replace(b'time="2026-01-01T00:00:00.000Z"',
                             b'time="2026-01-01T00:00:00.999Z"'))
    eq("escaped event strings", copy_of(xml_event("", uid="a&amp;&lt;b&#9;&#10;&#13;&quot;'"),
                                        Steps()),
       out_event("", uid="a&amp;&lt;b&#9;&#10;&#13;&quot;'"))
    # combination of entries (release.md section 6)
    es = [sanitize.Entry(None, Steps(elements=["a"], coarsen=(4, 10.0))),
          sanitize.Entry(frozenset(["warning"]), Steps(elements=["b"], attributes=[("c", "d")],
                                                       coarsen=(2, 5.0), set_={"qos": "q"})),
          sanitize.Entry(frozenset(["space"]), Steps(remarks=True, coarsen=(5, 50.0),
                                                     set_={"opex": "o"}))]
    eq("combine: nothing applies", sanitize.combine(es[1:], {"other"}), None)
    eq("combine: entry without classes only", sanitize.combine(es, {"other"}), es[0].steps)
    eq("combine: warning", sanitize.combine(es, {"warning"}).describe(),
       {"drop_elements": ["a", "b"], "drop_attributes": ["c@d"],
        "coarsen_point": {"decimals": 2, "min_ce": 10.0}, "set_attribute": {"qos": "q"}})
    eq("combine: warning+space: smallest decimals, largest min_ce, union",
       sanitize.combine(es, {"warning", "space"}).describe(),
       {"drop_elements": ["a", "b"], "drop_attributes": ["c@d"], "drop_remarks": True,
        "coarsen_point": {"decimals": 2, "min_ce": 50.0},
        "set_attribute": {"opex": "o", "qos": "q"}})
    eq("combine: entries equal as sets give equal (shared) steps",
       sanitize.combine([sanitize.Entry(None, Steps(elements=["b", "a"]))], {"x"}),
       sanitize.combine([sanitize.Entry(None, Steps(elements=["a"])),
                         sanitize.Entry(None, Steps(elements=["b"]))], {"x"}))


# --------------------------------------------------------------------------
# 3. The canonical detail D'

def test_canonical():
    eq("CDATA becomes escaped text", d("<a><![CDATA[<__sensor/>]]></a>", elements=["__sensor"]),
       "<a>&lt;__sensor/&gt;</a>")
    out = d("<x><![CDATA[<__sensor id='1'>a&b]]>]]&gt;</x>", elements=["__sensor"])
    check("CDATA <__sensor>: no <__sensor tag in D'", "<__sensor" not in out and
          out == "<x>&lt;__sensor id='1'&gt;a&amp;b]]&gt;</x>", out)
    eq("entities decoded then re-escaped", d("<a t='&#x41;&apos;&#34;'>&#65;&amp;&lt;&gt;&quot;"
                                             "&apos;&#x10FFFF;&#233;</a>"),
       "<a t=\"A'&quot;\">A&amp;&lt;&gt;\"'\U0010ffff\u00e9</a>")
    eq("attribute whitespace: normalised literals, escaped references",
       d('<a t="x\ty\nz" u="&#9;&#10;&#13;"/>'), '<a t="x y z" u="&#9;&#10;&#13;"/>')
    eq("comments dropped", d("<!--x--><a><!-- <b/> --></a><!--y-->t<!--z-->u"), "<a/>tu")
    eq("nested drops at depth", d("<a><b><c><s><d/></s><e>t</e><s/></c></b></a>",
                                  elements=["s"]), "<a><b><c><e>t</e></c></b></a>")
    eq("dropped element containing an attribute to drop",
       d('<a><s k="1"><s2 k="2"/></s><b k="3" j="4"/></a>', elements=["s"],
         attributes=[("s", "k"), ("s2", "k"), ("b", "k")]),
       '<a><b j="4"/></a>')
    eq("drop_attributes at any depth, other elements' same attribute kept",
       d('<contact endpoint="e" callsign="c"/><x><contact endpoint="f"/></x><y endpoint="g"/>',
         attributes=[("contact", "endpoint")]),
       '<contact callsign="c"/><x><contact/></x><y endpoint="g"/>')
    eq("/> iff nothing left: element emptied by a drop", d("<a><b/></a>", elements=["b"]),
       "<a/>")
    eq("/> iff nothing left: comment only", d("<a><!--c--></a>"), "<a/>")
    eq("/> iff nothing left: empty CDATA", d("<a><![CDATA[]]></a>"), "<a/>")
    eq("/> iff nothing left: whitespace is content", d("<a> </a><b>\n</b>"), "<a> </a><b>\n</b>")
    eq("/> iff nothing left: <a></a> becomes <a/>", d("<a></a>"), "<a/>")
    eq("whitespace kept around dropped elements", d("<a>\n  <b/>\n  <c/>\n</a>",
                                                     elements=["b"]),
       "<a>\n  \n  <c/>\n</a>")
    eq("CR LF line ends read as LF (XML end-of-line handling)", d("<a>x\r\ny\rz</a>"),
       "<a>x\ny\nz</a>")
    eq("text &#13; stays a reference (a raw CR would be read as LF)", d("<a>x&#13;y</a>"),
       "<a>x&#13;y</a>")
    eq("attribute order kept", d('<a z="1" a="2" m="3"/>'), '<a z="1" a="2" m="3"/>')
    eq("single quotes become double", d("<a v='x\"y'/>"), '<a v="x&quot;y"/>')
    eq("blanks inside tags normalised", d('<a  v = "1"\n/><b\t></b >'), '<a v="1"/><b/>')
    eq("case counts", d("<Remarks/><remarks/><REMARKS/>", remarks=True), "<Remarks/><REMARKS/>")
    eq("names with . - _", d("<a.b/><a-b/><_a/>", elements=["a.b", "_a"]), "<a-b/>")
    eq("top-level text kept", d("  lead <a/> trail  ", elements=["a"]), "  lead  trail  ")
    eq("empty content", d(""), "")
    eq("UTF-8 kept", d("<a n='\u00e9\u4e2d'>\U0001f680</a>"),
       "<a n=\"\u00e9\u4e2d\">\U0001f680</a>")
    eq("> in text escaped, ]]> never raw", d("<a>]]&gt;</a>"), "<a>]]&gt;</a>")
    eq("an element named like the wrapper is ordinary",
       d("<trackgate-d><x/></trackgate-d>", elements=["x"]), "<trackgate-d/>")


# --------------------------------------------------------------------------
# 4. coarsen_point

def test_coarsen():
    r = sanitize.round_half_away
    cases = [(0.5, 0, 1.0), (1.5, 0, 2.0), (2.5, 0, 3.0), (-0.5, 0, -1.0), (-2.5, 0, -3.0),
             (0.4999999999999999, 0, 0.0), (35.125, 2, 35.13), (-35.125, 2, -35.13),
             (35.115, 2, 35.12), (1.005, 2, 1.0), (-1.005, 2, -1.0),
             (89.9999995, 6, 90.0), (-179.9999995, 6, -180.0), (12.3456785, 6, 12.345679),
             (0.05, 1, 0.1), (-0.05, 1, -0.1), (0.25, 1, 0.3), (180.0, 6, 180.0),
             (-90.0, 3, -90.0), (127.0365181, 4, 127.0365)]
    for x, n, want in cases:
        got = r(x, n)
        eq(f"round({x!r}, {n}) = {want!r}", (got, math.copysign(1, got)),
           (want, math.copysign(1, want)))
    z = r(-0.001, 2)
    check("round(-0.001, 2) is -0.0, written -0", z == 0 and math.copysign(1, z) < 0
          and tp.fmt_num(z) == "-0", repr(z))
    check("round(0.001, 2) is +0.0, written 0", tp.fmt_num(r(0.001, 2)) == "0")
    # the exact formula, over random values: bit for bit
    rng = random.Random(7)
    bad = []
    for _ in range(20000):
        x = rng.uniform(-180, 180)
        n = rng.randint(0, 6)
        p = 10.0 ** n
        want = math.floor(abs(x) * p + 0.5) / p
        want = -want if x < 0 else want
        got = r(x, n)
        s = tp.fmt_num(got)
        if struct.pack("<d", got) != struct.pack("<d", want) or \
                len(s.partition(".")[2]) > n or "e" in s:
            bad.append((x, n, got, s))
    check("20000 random values: the formula, at most N decimals written", not bad, bad[:5])
    src = xml_event("", point='lat="-0.004" lon="0.0049" hae="-1e3" ce="0.5" le="1E2"')
    eq("coarsen in the copy: -0, hae and le kept (reformatted)",
       copy_of(src, Steps(coarsen=(2, 0.0))),
       out_event("", point='lat="-0" lon="0" hae="-1000" ce="0.5" le="100"'))
    eq("min_ce raises ce", copy_of(src, Steps(coarsen=(6, 12.5))),
       out_event("", point='lat="-0.004" lon="0.0049" hae="-1000" ce="12.5" le="100"'))


# --------------------------------------------------------------------------
# 5. TAK Protocol v1

def v1_event(detail=None, extra=b"", access="SECRET//REL TO USA, JPN", caveat=None, rel=None,
             takcontrol=True):
    ev = (f_len(1, "a-h-A-W-M-B") + (f_len(2, access) if access else b"") + f_len(3, "1-r-c")
          + f_len(5, "V-1") + f_varint(6, 1767225600000) + f_varint(7, 1767225600500)
          + f_varint(8, 1767225900123) + f_len(9, "m-g") + f_double(10, 35.123456)
          + f_double(11, -129.987654) + f_double(13, 25.0) + f_double(14, 30.0)
          + extra)
    if detail is not None:
        ev += f_len(15, detail)
    if caveat:
        ev += f_len(16, caveat)
    if rel:
        ev += f_len(17, rel)
    msg = (f_len(1, f_varint(1, 1) + f_varint(2, 1)) if takcontrol else b"") + f_len(2, ev) \
        + f_varint(3, 99)
    return tp.HEADER + msg


def walk(b, i=0, end=None):
    """[(field number, wire type, value bytes or int)] of a protobuf message."""
    end = len(b) if end is None else end
    out = []
    while i < end:
        fnum, wt, v, _, i = tp.read_field(b, i, end)
        if wt == tp.LEN:
            v = bytes(b[v[0]:v[1]])
        out.append((fnum, wt, v))
    return out


def compile_protos():
    if not shutil.which("protoc"):
        return None
    try:
        importlib.import_module("google.protobuf")
    except ImportError:
        return None
    out = tempfile.mkdtemp(prefix="tg-sanitize-pb-")
    atexit.register(shutil.rmtree, out, True)
    pdir = os.path.join(ROOT, "tests", "proto")
    subprocess.run(["protoc", f"-I{pdir}", f"--python_out={out}",
                    os.path.join(pdir, "takproto.proto")], check=True)
    sys.path.insert(0, out)
    return importlib.import_module("takproto_pb2")


def test_v1():
    xmld = (b'<__sensor id="s"><x/></__sensor><remarks>r &amp; <![CDATA[<b>]]></remarks>'
            b'<!-- c --><uid Droid="EAGLE"/>')
    contact = f_len(1, "10.0.0.1:4242:tcp") + f_len(2, "EAGLE 1")
    track = f_double(1, 3.5) + f_double(2, 90.0)
    detail = f_len(1, xmld) + f_len(2, contact) + f_len(7, track) + f_len(6, f_len(1, "dev"))
    src = v1_event(detail, extra=f_len(99, b"unknown") + f_varint(16, 5), caveat="REL TO JPN",
                   rel="USA JPN")
    steps = Steps(elements=["__sensor"], attributes=[("contact", "endpoint")], remarks=True,
                  coarsen=(2, 1000.0), set_={"opex": "o&<", "releasableTo": "JPN"})
    copy = copy_of(src, steps)
    dprime = (b'<uid Droid="EAGLE"/><contact callsign="EAGLE 1"/><takv device="dev"/>'
              b'<track speed="3.5" course="90"/>')
    want = tp.HEADER + f_len(2, b"".join((
        f_len(1, "a-h-A-W-M-B"), f_len(2, "SECRET//REL TO USA, JPN"), f_len(3, "1-r-c"),
        f_len(4, "o&<"), f_len(5, "V-1"), f_varint(6, 1767225600000),
        f_varint(7, 1767225600500), f_varint(8, 1767225900123), f_len(9, "m-g"),
        f_double(10, 35.12), f_double(11, -129.99), f_double(12, 0.0), f_double(13, 1000.0),
        f_double(14, 30.0), f_len(15, f_len(1, dprime)), f_len(16, "REL TO JPN"),
        f_len(17, "JPN"))))
    eq("v1 copy: exact bytes", copy, want)
    top = walk(copy, 3)
    eq("v1 copy: TakMessage holds only cotEvent (2)", [f for f, _, _ in top], [2])
    evf = walk(top[0][2])
    eq("v1 copy: cotEvent fields in order, no unknown or legacy field",
       [f for f, _, _ in evf], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17])
    eq("v1 copy: detail holds only xmlDetail", [f for f, _, _ in walk(evf[14][2])], [1])
    m = tp.decode(copy)
    ev = m["cotEvent"]
    eq("v1 copy decoded by the oracle's walker",
       (ev["uid"], ev["opex"], ev["caveat"], ev["releaseableTo"], ev["lat"], ev["lon"],
        ev["ce"], ev["detail"]["xmlDetail"], ev["detail"]["contact"], m["takControl"]),
       ("V-1", "o&<", "REL TO JPN", "JPN", 35.12, -129.99, 1000.0, dprime, None, None))
    f = oracle.parse_cot(copy)
    eq("v1 copy parses; its D is D'", f["detail"], dprime)
    pb = compile_protos()
    if pb is None:
        print("# python3-protobuf or protoc missing: protobuf cross-check skipped")
    else:
        msg = pb.TakMessage()
        msg.ParseFromString(copy[3:])
        e = msg.cotEvent
        eq("v1 copy decoded by python3-protobuf",
           (msg.HasField("takControl"), e.type, e.access, e.qos, e.opex, e.uid, e.sendTime,
            e.startTime, e.staleTime, e.how, e.lat, e.lon, e.hae, e.ce, e.le,
            e.detail.xmlDetail, e.detail.HasField("contact"), e.detail.HasField("track"),
            e.caveat, e.releaseableTo),
           (False, "a-h-A-W-M-B", "SECRET//REL TO USA, JPN", "1-r-c", "o&<", "V-1",
            1767225600000, 1767225600500, 1767225900123, "m-g", 35.12, -129.99, 0.0, 1000.0,
            30.0, dprime.decode(), False, False, "REL TO JPN", "JPN"))
        # python3-protobuf leaves out hae = 0 (proto3 defaults); the copy
        # writes every number (READING: only strings are left out)
        re_pb = pb.TakMessage()
        re_pb.ParseFromString(msg.SerializeToString())
        eq("v1 copy: python3-protobuf's re-serialisation reads the same", re_pb, msg)
    # absent/empty strings left out; no detail field without a detail
    plain = copy_of(v1_event(None, access=None), Steps())
    eq("v1 copy without detail or access: no field 2, 15, 16, 17",
       [f for f, _, _ in walk(walk(plain, 3)[0][2])], [1, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14])
    empty = copy_of(v1_event(f_len(1, b"<a/>")), Steps(elements=["a"]))
    eq("v1 copy: D' empty -> detail is the empty message 7a 00",
       [x for x in walk(walk(empty, 3)[0][2]) if x[0] == 15], [(15, 2, b"")])
    eq("v1 copy: set_attribute '' leaves the string out",
       [f for f, _, _ in walk(walk(copy_of(v1_event(None), Steps(set_={"qos": ""})), 3)[0][2])],
       [1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14])
    # the XML copy of a v1 message (peer with encoding: xml)
    x = copy_of(src, steps, "xml")
    eq("v1 input, encoding: xml peer: the XML copy",
       x, (DECL + '<event version="2.0" uid="V-1" type="a-h-A-W-M-B" how="m-g" '
           + TIMES_OUT + ' access="SECRET//REL TO USA, JPN" qos="1-r-c" opex="o&amp;&lt;" '
           'caveat="REL TO JPN" releasableTo="JPN"><point lat="35.12" lon="-129.99" hae="0" '
           'ce="1000" le="30"/><detail>').encode() + dprime + b"</detail></event>")
    eq("v1 input, no steps, encoding: xml: same as the conversion but D canonical",
       copy_of(v1_event(f_len(1, b"<a></a>")), Steps(), "xml"),
       oracle.to_xml(oracle.parse_cot(v1_event(f_len(1, b"<a></a>")))).replace(
           b"<a></a>", b"<a/>"))


# --------------------------------------------------------------------------
# 6. Hostile inputs

def test_hostile():
    src = xml_event(DETAIL + "<a><b><c/></b></a>")
    eq("steps that remove everything: <detail></detail>",
       copy_of(src, Steps(elements=["contact", "__sensor", "link", "track", "a"], remarks=True)),
       out_event(""))
    # 16 levels: the deepest detail a message may have (event 1, detail 2,
    # 14 levels inside)
    deep = "".join(f"<l{i} k='{i}'>" for i in range(14)) + "x" \
        + "".join(f"</l{i}>" for i in reversed(range(14)))
    f = oracle.parse_cot(xml_event(deep))
    eq("16 levels: parsed and copied", sanitize.rewrite_detail(f["detail"], Steps()).decode(),
       deep.replace("'", '"'))
    eq("16 levels: drop at the bottom", d(deep, elements=["l13"]),
       "".join(f'<l{i} k="{i}">' for i in range(13)).replace("<l12 k=\"12\">", '<l12 k="12"/>')
       + "".join(f"</l{i}>" for i in reversed(range(12))))
    eq("16 levels: drop at the top", d(deep, elements=["l0"]), "")
    very = "<a>" * 5000 + "</a>" * 5000
    eq("5000 levels (not a message, the writer only): no recursion limit",
       d(very), "<a>" * 4999 + "<a/>" + "</a>" * 4999)
    sib = "".join(f'<s i="{i}">{i}</s><t/>' for i in range(1000))
    f = oracle.parse_cot(xml_event(sib))
    out = sanitize.copy_for(f, Steps(elements=["t"]), "as-received", oracle._iso_ms)
    eq("1000 siblings", out, out_event("".join(f'<s i="{i}">{i}</s>' for i in range(1000))))
    big = xml_event("<a>" + "&amp;" * 2000 + "</a>")
    eq("escaping grows nothing beyond the decoded text", len(copy_of(big, Steps())),
       len(out_event("<a>" + "&amp;" * 2000 + "</a>")))


# --------------------------------------------------------------------------
# 7. The release path

def dgram(payload):
    return ("198.51.100.7", "192.0.2.1", 6969, 6969, payload, True)


def run_oracle(policy_path, payloads):
    orc = oracle.Oracle(oracle.Policy(policy_path), 0)
    for pl in payloads:
        orc.message("kor-us", dgram(pl))
    return orc


def test_release(tmp):
    warn = xml_event(DETAIL, uid="W-1")
    space = xml_event("<__sensor/><x>radar-x</x>", uid="S-1", typ="a-h-P-S-X",
                      extra=' access="SECRET//REL TO USA, JPN"')
    other = xml_event("<x/>", uid="O-1", typ="a-f-G")
    v1 = v1_event(f_len(1, b"<__sensor/><link uid='l'/>"))
    pols = write_policy(tmp)
    both = xml_event("<x>radar-x</x><remarks>r</remarks>", uid="B-1")
    orc = run_oracle(pols, [warn, space, other, v1, both])
    s = orc.summary()
    eq("summary: sanitized counts for peers with sanitize, none for others",
       {k: v.get("sanitized") for k, v in s["peers"].items()},
       {"usa": None, "jpn": 4, "jpnx": 3, "gbr": None})
    eq("summary: released", {k: v["released"] for k, v in s["peers"].items()},
       {"usa": 5, "jpn": 4, "jpnx": 3, "gbr": 0})
    want_jpn_warn = copy_of(warn, Steps(elements=["__sensor", "link"], remarks=True,
                                        attributes=[("contact", "endpoint")],
                                        coarsen=(2, 1000.0), set_={"releasableTo": "JPN"}))
    want_jpn_space = copy_of(space, Steps(elements=["__sensor", "link"], remarks=True,
                                          attributes=[("contact", "endpoint")],
                                          coarsen=(3, 5000.0)))
    want_jpn_v1 = copy_of(v1, Steps(elements=["__sensor", "link"], remarks=True,
                                    attributes=[("contact", "endpoint")],
                                    coarsen=(2, 1000.0), set_={"releasableTo": "JPN"}))
    want_jpn_both = copy_of(both, Steps(elements=["__sensor", "link"], remarks=True,
                                        attributes=[("contact", "endpoint")],
                                        coarsen=(2, 5000.0), set_={"releasableTo": "JPN"}))
    sha = lambda b: hashlib.sha256(b).hexdigest()  # noqa: E731
    eq("jpn gets the combined copies (XML, XML, v1; warning+space: decimals 2, min_ce 5000)",
       {r["uid"]: (r["sha256"], r.get("sanitized")) for r in orc.releases["jpn"]},
       {"W-1": (sha(want_jpn_warn), True), "S-1": (sha(want_jpn_space), True),
        "V-1": (sha(want_jpn_v1), True), "B-1": (sha(want_jpn_both), True)})
    check("jpn's v1 copy is v1", want_jpn_v1[:3] == tp.HEADER)
    eq("jpnx (encoding: xml, mapping form) gets XML copies of XML and v1",
       {r["uid"]: r["sha256"] for r in orc.releases["jpnx"]},
       {"W-1": sha(copy_of(warn, Steps(elements=["__sensor"]))),
        "V-1": sha(copy_of(v1, Steps(elements=["__sensor"]), "xml")),
        "B-1": sha(copy_of(both, Steps(elements=["__sensor"])))})
    eq("usa (no sanitize) gets the payloads, and to_xml() is not involved",
       {r["uid"]: (r["sha256"], "sanitized" in r) for r in orc.releases["usa"]},
       {"W-1": (sha(warn), False), "S-1": (sha(space), False), "O-1": (sha(other), False),
        "V-1": (sha(v1), False), "B-1": (sha(both), False)})
    # peers without sanitize: exactly as without any sanitize in the policy
    plain = run_oracle(write_policy(tmp, jpn="", jpnx="", name="plain.yaml"),
                       [warn, space, other, v1, both])
    ps = plain.summary()
    eq("peers without sanitize: summary unchanged",
       {k: s["peers"][k] for k in ("usa", "gbr")}, {k: ps["peers"][k] for k in ("usa", "gbr")})
    eq("peers without sanitize: releases unchanged",
       {k: orc.releases[k] for k in ("usa", "gbr")}, {k: plain.releases[k] for k in ("usa", "gbr")})
    eq("the rest of the summary unchanged",
       {k: v for k, v in s.items() if k != "peers"}, {k: v for k, v in ps.items() if k != "peers"})
    # an entry with classes that does not apply: the payload, byte for byte
    only_space = "    sanitize:\n      - classes: [space]\n        drop_remarks: true\n"
    o2 = run_oracle(write_policy(tmp, jpn=only_space, jpnx="", name="os.yaml"), [warn, space])
    eq("entry with classes: applies to space only",
       {r["uid"]: (r["sha256"], r.get("sanitized")) for r in o2.releases["jpn"]},
       {"W-1": (sha(warn), None), "S-1": (sha(copy_of(space, Steps(remarks=True))), True)})
    eq("entry with classes: sanitized 1", o2.summary()["peers"]["jpn"]["sanitized"], 1)
    # second check (a): a set marking that widens the release
    widen = '    sanitize:\n      - set_attribute: {releasableTo: "JPN GBR"}\n'
    nar = xml_event("<x/>", uid="N-1", extra=' access="SECRET//REL TO USA, JPN"')
    o3 = run_oracle(write_policy(tmp, jpn=widen, jpnx="", name="w.yaml"), [nar, warn])
    eq("set marking admitting gbr, whom the original does not: sanitize_check",
       o3.summary()["peers"]["jpn"], {"released": 1, "sanitized": 1,
                                       "withheld": {"sanitize_check": 1}})
    up = '    sanitize:\n      - set_attribute: {access: "TOP SECRET//REL TO JPN"}\n'
    o4 = run_oracle(write_policy(tmp, jpn=up, jpnx="", name="u.yaml"), [nar])
    eq("set access above the peer's clearance: sanitize_check",
       o4.summary()["peers"]["jpn"]["withheld"], {"sanitize_check": 1})
    # a copy is shared by the peers whose combined steps are equal, and a
    # copy that fails (a) is withheld from all its peers (release.md §6/§7)
    ts = '    sanitize:\n      - set_attribute: {access: "TOP SECRET//REL TO JPN, USA"}\n'
    pol = write_policy(tmp, jpn=ts, jpnx="", name="ts.yaml")
    with open(pol) as fh:
        text = fh.read().replace("    receives: [warning, space, other]\n",
                                 "    receives: [warning, space, other]\n" + ts, 1)
    with open(pol, "w") as fh:
        fh.write(text)
    o8 = run_oracle(pol, [nar])
    eq("shared copy at TOP SECRET: jpn (SECRET) not admitted, so usa loses it too",
       {k: o8.summary()["peers"][k] for k in ("usa", "jpn")},
       {"usa": {"released": 0, "sanitized": 0, "withheld": {"sanitize_check": 1}},
        "jpn": {"released": 0, "sanitized": 0, "withheld": {"sanitize_check": 1}}})
    narrow = '    sanitize:\n      - set_attribute: {access: "SECRET//REL TO JPN"}\n'
    o5 = run_oracle(write_policy(tmp, jpn=narrow, jpnx="", name="n.yaml"), [nar])
    eq("set marking that narrows: released",
       o5.summary()["peers"]["jpn"], {"released": 1, "sanitized": 1, "withheld": {}})
    # a copy longer than a UDP payload: sanitize (XML input far below the
    # bound, v1 input whose D' grows past it through escaping)
    # a copy longer than a UDP payload: sanitize.  CDATA of 16300 '<' is
    # D' of 16300 '&lt;' (65200 bytes): the v1 copy fits, the XML one not.
    grow = v1_event(f_len(1, b"<p><![CDATA[" + b"<" * 16300 + b"]]></p><zz/>"))
    o7 = run_oracle(write_policy(tmp, jpn="    sanitize:\n      - drop_elements: [zz]\n",
                                 jpnx="    sanitize:\n      - drop_elements: [zz]\n",
                                 name="h.yaml"), [grow])
    g = o7.summary()["peers"]
    check("v1 copy of 65,2xx bytes fits: released", g["jpn"] == {
        "released": 1, "sanitized": 1, "withheld": {}} and 65200 < len(copy_of(
            grow, Steps(elements=["zz"]))) <= 65507, g["jpn"])
    eq("v1 message whose XML copy passes 65507 bytes: sanitize (peer level)",
       g["jpnx"], {"released": 0, "sanitized": 0, "withheld": {"sanitize": 1}})
    early = xml_event("<zz/>", uid="E-1").replace(b'time="2026-01-01T00:00:00Z"',
                                                  b'time="0001-01-01T00:00:00+14:00"')
    o9 = run_oracle(write_policy(tmp, jpn="    sanitize:\n      - drop_elements: [zz]\n",
                                 jpnx="", name="e.yaml"), [early])
    eq("an XML time before 0001-01-01T00:00:00Z (offset applied): sanitize",
       o9.summary()["peers"]["jpn"], {"released": 0, "sanitized": 0,
                                       "withheld": {"sanitize": 1}})
    eq("... the usa peer (encoding: as-received) still gets it",
       g["usa"]["released"], 1)


# --------------------------------------------------------------------------
# 8. oracle.py main and compare.py, through pcaps

def test_pcaps(tmp):
    try:
        from scapy.all import IP, UDP, Ether, wrpcap  # noqa: F401
    except ImportError:
        print("# python3-scapy missing: pcap round trip skipped")
        return
    import io
    import contextlib
    warn = xml_event(DETAIL, uid="W-1")
    v1 = v1_event(f_len(1, b"<__sensor/><link uid='l'/>"))

    def pkt(pl, dst="192.0.2.1"):
        return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / \
            IP(src="198.51.100.7", dst=dst) / UDP(sport=6969, dport=6969) / pl
    inp = os.path.join(tmp, "in.pcap")
    wrpcap(inp, [pkt(warn), pkt(v1)])
    out = os.path.join(tmp, "out")
    with contextlib.redirect_stdout(io.StringIO()):
        rc = oracle.main(["--policy", write_policy(tmp), "--link", f"kor-us={inp}",
                          "--out", out, "--now", "0", "--keep-sanitized"])
    eq("oracle.py main: exit 0", rc, 0)
    with open(os.path.join(out, "summary.json")) as f:
        summ = json.load(f)
    eq("summary.json: jpn sanitized 2", summ["peers"]["jpn"].get("sanitized"), 2)
    copies = sorted(os.listdir(os.path.join(out, "sanitized")))
    exp = [json.loads(x) for x in open(os.path.join(out, "jpn.jsonl"))]
    check("--keep-sanitized wrote each copy under its sha256",
          all(r["sha256"] in copies for r in exp) and all(
              hashlib.sha256(open(os.path.join(out, "sanitized", h), "rb").read()).hexdigest()
              == h for h in copies), copies)
    jpn_copies = {r["uid"]: open(os.path.join(out, "sanitized", r["sha256"]), "rb").read()
                  for r in exp}
    good = os.path.join(tmp, "good.pcap")
    wrpcap(good, [pkt(jpn_copies["W-1"]), pkt(jpn_copies["V-1"])])
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        rc = compare.main(["--expected", out, "--actual-pcap", f"jpn={good}"])
    eq("compare.py: the exact copies match", rc, 0)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        rc = compare.main(["--expected", out, "--actual-pcap", f"jpn={inp}"])
    eq("compare.py: the unsanitized payloads do not", rc, 1)
    wrong_x = jpn_copies["W-1"].replace(b'lat="35.12"', b'lat="35.13"')
    ve = walk(jpn_copies["V-1"], 3)[0][2]
    wrong_v = tp.HEADER + f_len(2, ve.replace(struct.pack("<d", 1000.0), struct.pack("<d", 999.0)))
    wrong_d = jpn_copies["W-1"].replace(b'<contact callsign="EAGLE 1"/>',
                                        b'<contact callsign="EAGLE 2"/>')
    for name, payload, want in (("XML lat", wrong_x, "event/point@lat"),
                                ("v1 ce", wrong_v, "cotEvent.ce"),
                                ("XML detail attribute", wrong_d,
                                 "event/detail/contact@callsign")):
        bad = os.path.join(tmp, "bad.pcap")
        wrpcap(bad, [pkt(payload)])
        rep = os.path.join(tmp, "rep.json")
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            rc = compare.main(["--expected", out, "--actual-pcap", f"jpn={bad}",
                               "--report", rep, "--explain-sanitized"])
        r = json.load(open(rep))["peers"]["jpn"]
        fd = r["examples"]["mismatch"][0].get("first_difference", "") if r["mismatch"] else ""
        check(f"compare.py --explain-sanitized names {want} ({name})",
              rc == 1 and fd.startswith(want), fd or r)
    eq("first_difference: encoding", compare.first_difference(jpn_copies["V-1"], warn)[:9],
       "encoding:")
    eq("first_difference: same fields, other bytes",
       compare.first_difference(b'<a x="1"/>', b"<a x='1'></a>")[:20], "same XML items, diff")


# --------------------------------------------------------------------------
# 9. Property check

NAMES = ["a", "b", "c", "remarks", "__sensor", "link", "contact", "x.y", "x-y", "_z", "ab",
         "a1", "sensor", "__sensorX", "remarksx"]
ATTRS = ["k", "endpoint", "uid", "id", "kk", "type"]


def random_fragment(rng, depth=0):
    parts = []
    once = set()     # direct children of <detail>: contact, remarks, track once
    for _ in range(rng.randint(0, 5 if depth < 5 else 1)):
        c = rng.random()
        if c < 0.45 and depth < 12:
            name = rng.choice(NAMES)
            if depth == 0 and name in ("contact", "remarks", "track"):
                name = name if name not in once else "ab"
                once.add(name)
            attrs = rng.sample(ATTRS, rng.randint(0, 3))
            q = rng.choice(['"', "'"])
            vals = ["v", "&lt;" + rng.choice(NAMES), "&amp;", " ", "&#10;", "\t", "&lt;"]
            at = "".join(f" {a}={q}{rng.choice(vals)}{q}" for a in attrs)
            # <remarks> holds text only (release.md section 2)
            inner = random_fragment(rng, depth + 1) if name != "remarks" else \
                rng.choice(["", "t", "&lt;b&gt;", "<![CDATA[<a/>]]>", "<!-- c -->"])
            if not inner and rng.random() < 0.5:
                parts.append(f"<{name}{at}/>")
            else:
                parts.append(f"<{name}{at}{rng.choice(['', ' ', chr(10)])}>{inner}</{name}>")
        elif c < 0.6:
            n = rng.choice(NAMES)
            parts.append(rng.choice([f"<![CDATA[<{n}>]]>", f"<![CDATA[<{n}/>]]>",
                                     f"<![CDATA[</{n}>&amp;]]>", "<![CDATA[]]>",
                                     f"<![CDATA[<{n} k='1'>]]>"]))
        elif c < 0.7:
            parts.append(f"<!-- <{rng.choice(NAMES)}/> -->")
        elif c < 0.85:
            parts.append(rng.choice(["&lt;" + rng.choice(NAMES) + "&gt;", "&#60;b&#62;", "&amp;",
                                     "&#x3C;remarks/&#x3E;", "&quot;&apos;"]))
        else:
            parts.append(rng.choice([" ", "\n", "\t", "text", "\r\n", "x y", "\u00e9"]))
    return "".join(parts)


class _Reader:
    """Elements (name, attribute names) and text of a fragment, by expat."""

    def __init__(self, frag):
        self.items = []
        p = expat.ParserCreate(encoding="UTF-8")
        p.ordered_attributes = True
        stack = []

        def start(n, a):
            stack.append(n)
            self.items.append(("<", tuple(stack), tuple(a)))

        def end(n):
            self.items.append((">", tuple(stack)))
            stack.pop()

        def text(t):
            if self.items and self.items[-1][0] == "t" and self.items[-1][1] == tuple(stack):
                self.items[-1] = ("t", tuple(stack), self.items[-1][2] + t)
            else:
                self.items.append(("t", tuple(stack), t))

        p.StartElementHandler = start
        p.EndElementHandler = end
        p.CharacterDataHandler = text
        p.Parse(b"<w>" + frag + b"</w>", True)


def expected_items(items, drop_e, drop_a):
    """The reader's items of the original with what the steps name removed."""
    out = []
    for it in items:
        path = it[1][1:]
        if any(n in drop_e for n in path):
            continue
        if it[0] == "<":
            a = it[2]
            kept = []
            for i in range(0, len(a), 2):
                if (path[-1], a[i]) not in drop_a:
                    kept += [a[i], a[i + 1]]
            it = ("<", it[1], tuple(kept))
        if it[0] == "t" and out and out[-1][0] == "t" and out[-1][1] == it[1]:
            out[-1] = ("t", it[1], out[-1][2] + it[2])
            continue
        out.append(it)
    return out


def test_property(n, seed):
    rng = random.Random(seed)
    fails = []
    tag_re = {}
    for i in range(n):
        frag = random_fragment(rng)
        drop_e = set(rng.sample(NAMES, rng.randint(0, 4)))
        remarks = rng.random() < 0.3
        drop_a = {(rng.choice(NAMES), rng.choice(ATTRS)) for _ in range(rng.randint(0, 4))}
        st = Steps(elements=drop_e, attributes=drop_a, remarks=remarks)
        allp = drop_e | ({"remarks"} if remarks else set())
        src = xml_event(frag)
        try:
            f = oracle.parse_cot(src)
        except oracle.Bad as e:
            fails.append((i, "the generated message does not parse", e.args, frag))
            continue
        if f["detail"] != frag.encode():
            fails.append((i, "the detail read is not the fragment", frag))
        out = sanitize.rewrite_detail(f["detail"], st)
        s = out.decode()
        for name in allp:
            rx = tag_re.setdefault(name, re.compile("<" + re.escape(name) + "[ \t\r\n/>]"))
            if rx.search(s):
                fails.append((i, f"dropped <{name} survives", frag, s))
        if "<![CDATA[" in s or "<!--" in s or "<?" in s or "<!" in s:
            fails.append((i, "not canonical", frag, s))
        try:
            got = _Reader(out).items
        except expat.ExpatError as e:
            fails.append((i, f"copy does not re-parse: {e}", frag, s))
            continue
        for it in got:
            if it[0] == "<":
                a = it[2]
                for j in range(0, len(a), 2):
                    if (it[1][-1], a[j]) in drop_a:
                        fails.append((i, f"dropped {it[1][-1]}@{a[j]} survives", frag, s))
        want = expected_items(_Reader(frag.encode()).items, allp, drop_a)
        # CR LF and CR are read as LF in both (XML end-of-line handling),
        # except a CR written &#13;, which the copy writes raw (see the report)
        if got != want:
            fails.append((i, "elements/attributes/text differ from the original's minus "
                             "the steps", frag, s))
        if sanitize.rewrite_detail(out, st) != out:
            fails.append((i, "D' is not a fixpoint", frag, s))
        whole = sanitize.copy_for(f, st, "as-received", oracle._iso_ms)
        try:
            g = oracle.parse_cot(whole)
            if g["detail"] != out:
                fails.append((i, "the whole copy's detail differs", frag, s))
        except oracle.Bad as e:
            fails.append((i, f"the whole copy does not parse: {e.args}", frag, s))
    check(f"property: {n} random fragments (seed {seed}): drops, canonical, re-parse, "
          "same items, fixpoint", not fails, "\n".join(repr(x) for x in fails[:5]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--fragments", type=int, default=2000)
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    VERBOSE[0] = a.verbose
    tmp = tempfile.mkdtemp(prefix="tg-sanitize-")
    atexit.register(shutil.rmtree, tmp, True)
    test_policy(tmp)
    test_steps()
    test_canonical()
    test_coarsen()
    test_v1()
    test_hostile()
    test_release(tmp)
    test_pcaps(tmp)
    test_property(a.fragments, a.seed)
    print(f"1..{N_TEST[0]}")
    if FAILED:
        print(f"# {len(FAILED)} of {N_TEST[0]} failed", file=sys.stderr)
        return 1
    print(f"# all {N_TEST[0]} passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
