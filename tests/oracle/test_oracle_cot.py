#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_oracle_cot.py - the oracle's CoT reading and the dataplane's parser agree.

    test_oracle_cot.py BUILD/tests/unit/cot_dump [--mutations N] [--seed S] [-v]

Feeds the same payloads to tests/oracle/oracle.py parse_cot() and, through
cot_dump (a filter around dataplane/cot_parse.c), to cot_parse(), and checks:

1. each case of CASES (docs/release.md section 2, one or more per decision:
   DOCTYPE inside CDATA, declared encodings, byte order marks, <link> and
   <track> attributes, processing instructions, ...) gets the verdict written
   next to it from BOTH parsers;
2. tests/data/cot: valid-*.xml accepted, bad-*.xml refused, by both;
3. N seeded mutations of the accepted cases (bytes replaced, markup
   inserted, spans cut or doubled): both accept or both refuse.

Whenever both accept, every field both read must be equal: the event's
strings, times (ms), point, track, links, callsign, remarks and the raw
<detail> bytes.  Exits 1 on the first mismatches, printing the payloads.
"""

import argparse
import glob
import json
import math
import os
import random
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import oracle  # noqa: E402

T3 = ('time="2024-05-01T12:00:00Z" start="2024-05-01T12:00:00Z" '
      'stale="2024-05-01T12:00:30Z"')
POINT = '<point lat="38.8976763" lon="127.0365181" hae="25000.0" ce="500.0" le="800.0"/>'
DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
ATAK_DECL = "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>"


def ev(extra="", body="", point=POINT, prolog="", uid="MW-TRK-0001", trailer=""):
    return (prolog + f'<event version="2.0" uid="{uid}" type="a-h-A-W-M-S-S" how="m-r" '
            f'{T3}{extra}>' + point + body + "</event>" + trailer).encode()


def det(inner):
    return ev(body="<detail>" + inner + "</detail>")


def with_time(t):
    return (f'<event version="2.0" uid="u" type="t" how="h" time="{t}" '
            f'start="2024-05-01T12:00:00Z" stale="2024-05-01T12:00:00Z">{POINT}</event>').encode()


def with_lat(v):
    return ev(point=f'<point lat="{v}" lon="0" hae="0" ce="0" le="0"/>')


def links(n, attrs='uid="u{i}" relation="p-p" type="b-d-l"'):
    return det("".join(f"<link {attrs.format(i=i)}/>" for i in range(n)))


def utf16(doc, codec, bom):
    return bom + doc.decode().encode(codec)


LONG = "x" * 300
ATAK_DETAIL = (
    '<takv device="SAMSUNG SM-G998U" platform="ATAK-CIV" os="31" version="4.8.1.5"/>'
    '<contact endpoint="*:-1:stcp" callsign="VIPER 1"/>'
    '<uid Droid="VIPER 1"/><precisionlocation altsrc="GPS" geopointsrc="GPS"/>'
    '<__group role="Team Member" name="Cyan"/><status battery="88"/>'
    '<track course="274.1" speed="0.0"/>'
    '<_flow-tags_ TAK-Server-f1a8159ef7804f7a8a32d8efc4b773d0="2024-05-01T12:00:00Z"/>')

# (name, payload, verdict): "ok" = both must accept, "parse" = both must refuse.
CASES = [
    # DOCTYPE / ENTITY: refused as declarations; the same characters inside
    # CDATA or a comment are text.
    ("doctype-in-cdata", det("<remarks><![CDATA[<!DOCTYPE x>]]></remarks>"), "ok"),
    ("entity-in-cdata", det('<remarks><![CDATA[<!ENTITY x "y">]]></remarks>'), "ok"),
    ("doctype-in-comment", det("<!-- <!DOCTYPE x [<!ENTITY y 'z'>]> -->"), "ok"),
    ("doctype-in-prolog-comment", ev(prolog="<!-- <!DOCTYPE event> -->\n"), "ok"),
    ("doctype-escaped-text", det("<remarks>&lt;!DOCTYPE x&gt;</remarks>"), "ok"),
    ("doctype", ev(prolog="<!DOCTYPE event>"), "parse"),
    ("doctype-after-decl", ev(prolog=DECL + '<!DOCTYPE event SYSTEM "file:///etc/passwd">'),
     "parse"),
    ("doctype-lowercase", ev(prolog="<!doctype event>"), "parse"),
    ("doctype-in-detail", det("<!DOCTYPE x>"), "parse"),
    ("entity-in-detail", det('<!ENTITY x "y">'), "parse"),
    ("doctype-after-root", ev(trailer="<!DOCTYPE x>"), "parse"),
    # Encodings: UTF-8 only.
    ("decl-utf8", ev(prolog=DECL), "ok"),
    ("decl-atak-single-quotes", ev(prolog=ATAK_DECL), "ok"),
    ("decl-utf8-lowercase", ev(prolog='<?xml version="1.0" encoding="utf-8"?>'), "ok"),
    ("decl-no-encoding", ev(prolog='<?xml version="1.0"?>'), "ok"),
    ("decl-iso-8859-1-ascii", ev(prolog='<?xml version="1.0" encoding="ISO-8859-1"?>'),
     "parse"),
    ("decl-iso-8859-1-latin", ev(prolog='<?xml version="1.0" encoding="ISO-8859-1"?>',
                                 body="<detail><remarks>caf\xe9</remarks></detail>")
     .replace("caf\xe9".encode(), b"caf\xe9"), "parse"),
    ("decl-us-ascii", ev(prolog='<?xml version="1.0" encoding="US-ASCII"?>'), "parse"),
    ("decl-utf16-in-utf8", ev(prolog='<?xml version="1.0" encoding="UTF-16"?>'), "parse"),
    ("decl-utf8-no-dash", ev(prolog='<?xml version="1.0" encoding="UTF8"?>'), "parse"),
    ("decl-version-1.1", ev(prolog='<?xml version="1.1"?>'), "parse"),
    ("bom-utf8", b"\xef\xbb\xbf" + ev(prolog=DECL), "ok"),
    ("bom-utf8-after-tak", b"\xbf\x00\xbf\xef\xbb\xbf" + ev(), "ok"),
    ("bom-utf16le", utf16(ev(), "utf-16-le", b"\xff\xfe"), "parse"),
    ("bom-utf16be", utf16(ev(), "utf-16-be", b"\xfe\xff"), "parse"),
    ("bom-utf16le-decl", utf16(ev(prolog='<?xml version="1.0" encoding="UTF-16"?>'),
                               "utf-16-le", b"\xff\xfe"), "parse"),
    ("utf16le-no-bom", utf16(ev(), "utf-16-le", b""), "parse"),
    ("utf8-remarks", det("<remarks>caf\u00e9 \u2192 \U0001f680</remarks>"), "ok"),
    # <link>: no attribute required.
    ("link-full", links(1), "ok"),
    ("link-no-type", det('<link uid="MW-TRK-0001" relation="p-p"/>'), "ok"),
    ("link-atak-route", det('<link uid="r1" callsign="CP1" type="b-m-p-w" '
                            'point="38.1,127.2,0" remarks="" relation="c"/>'), "ok"),
    ("link-point-only", det('<link point="38.1,127.2"/><link point="38.2,127.3"/>'), "ok"),
    ("link-production-time", det('<link uid="a" relation="p-p" type="a-f-G" '
                                 'production_time="2024-05-01T12:00:00Z" '
                                 'parent_callsign="HQ"/>'), "ok"),
    ("link-empty", det("<link/>"), "ok"),
    ("links-8", links(8), "ok"),
    ("links-9", links(9), "parse"),
    ("links-9-bare", links(9, 'point="1,{i}"'), "parse"),
    ("link-nested-not-counted", det("<x>" + "<link/>" * 9 + "</x>"), "ok"),
    ("link-uid-257", det(f'<link uid="{"u" * 257}"/>'), "parse"),
    # <track>: no attribute required; those present are numbers in range.
    ("track-course-speed", det('<track course="135.5" speed="1700.0"/>'), "ok"),
    ("track-all", det('<track course="135.5" speed="1700.0" slope="-12.5"/>'), "ok"),
    ("track-course-only", det('<track course="90"/>'), "ok"),
    ("track-speed-only", det('<track speed="12.5"/>'), "ok"),
    ("track-empty", det("<track/>"), "ok"),
    ("track-extra-attrs", det('<track course="1" speed="2" eCourse="5" eSpeed="1"/>'), "ok"),
    ("track-course-400", det('<track course="400" speed="1"/>'), "parse"),
    ("track-course-negative", det('<track course="-0.5"/>'), "parse"),
    ("track-speed-negative", det('<track speed="-1"/>'), "parse"),
    ("track-slope-nan", det('<track slope="NaN"/>'), "parse"),
    ("track-course-text", det('<track course="north"/>'), "parse"),
    ("track-two", det("<track/><track/>"), "parse"),
    ("atak-detail", ev(prolog=ATAK_DECL, body="<detail>" + ATAK_DETAIL + "</detail>"), "ok"),
    # Processing instructions: refused everywhere (only the XML declaration).
    ("pi-in-detail", det("<?foo bar?>"), "parse"),
    ("pi-in-remarks", det("<remarks>SEC<?x?>RET</remarks>"), "parse"),
    ("pi-in-event", ev(body="<?foo?>"), "parse"),
    ("pi-in-prolog", ev(prolog='<?xml-stylesheet href="a.xsl"?>'), "parse"),
    ("pi-after-decl", ev(prolog=DECL + "<?foo?>"), "parse"),
    ("pi-after-root", ev(trailer="<?foo?>"), "parse"),
    # Structure.
    ("event-child-other", ev(body="<foo/>"), "parse"),
    ("event-child-other-after-detail", ev(body="<detail/><foo/>"), "parse"),
    ("detail-before-point", ev(point="", body="<detail/>" + POINT), "ok"),
    ("point-child", ev(point=POINT[:-2] + "><detail><remarks>x</remarks></detail></point>"),
     "ok"),
    ("event-text", ev(body="text"), "ok"),
    ("remarks-child-element", det("<remarks>a<b/>c</remarks>"), "parse"),
    ("remarks-comment-cdata", det("<remarks>SEC<!-- x -->RET<![CDATA[ & <x>]]></remarks>"),
     "ok"),
    ("two-points", ev(body=POINT), "parse"),
    ("two-details", ev(body="<detail/><detail/>"), "parse"),
    ("two-remarks", det("<remarks/><remarks/>"), "parse"),
    ("two-contacts", det("<contact/><contact/>"), "parse"),
    ("contact-no-callsign", det('<contact endpoint="*:-1:stcp"/>'), "ok"),
    ("no-point", ev(point=""), "parse"),
    ("detail-in-comment-first", ev(point="<!-- <detail>fake</detail> -->" + POINT,
                                   body="<detail><remarks>real</remarks></detail>"), "ok"),
    ("detail-close-in-trailer", ev(body='<detail a="/>"><x/></detail>',
                                   trailer="<!-- </detail> -->"), "ok"),
    ("detail-empty", ev(body='<detail a=">"/>'), "ok"),
    # Names and namespaces.
    ("namespace-declared", det('<x:y xmlns:x="urn:x"/>'), "parse"),
    ("namespace-default", det('<y xmlns="urn:x"/>'), "parse"),
    ("xmlns-on-event", ev(extra=' xmlns="urn:x"'), "parse"),
    ("name-non-ascii", det("<donn\u00e9es/>"), "parse"),
    ("attr-name-non-ascii", det('<x \u00e9="1"/>'), "parse"),
    ("name-dots-dashes", det('<_a.b-c d.e-f_="1"/>'), "ok"),
    ("name-128", det("<" + "n" * 128 + "/>"), "ok"),
    ("name-129", det("<" + "n" * 129 + "/>"), "parse"),
    ("attrs-64", det("<x " + " ".join(f'a{i}=""' for i in range(64)) + "/>"), "ok"),
    ("attrs-65", det("<x " + " ".join(f'a{i}=""' for i in range(65)) + "/>"), "parse"),
    ("depth-16", det("<a>" * 14 + "</a>" * 14), "ok"),
    ("depth-17", det("<a>" * 15 + "</a>" * 15), "parse"),
    # Required attributes and their values.
    ("uid-empty", ev(uid=""), "parse"),
    ("uid-blank", ev(uid=" "), "ok"),
    ("how-missing", ev().replace(b' how="m-r"', b""), "parse"),
    ("access-empty", ev(extra=' access=""'), "ok"),
    ("rel-both-same", ev(extra=' releasableTo="USA KOR" releaseableTo="USA&#32;KOR"'), "ok"),
    ("rel-both-differ", ev(extra=' releasableTo="USA KOR" releaseableTo="USA,KOR"'), "parse"),
    # Bounds: kept strings 256 decoded bytes, other attributes unbounded.
    ("uid-256", ev(uid="U" * 256), "ok"),
    ("uid-257", ev(uid="U" * 257), "parse"),
    ("uid-256-decoded", ev(uid="&amp;" * 256), "ok"),
    ("uid-257-decoded", ev(uid="&amp;" * 257), "parse"),
    ("callsign-257", det(f'<contact callsign="{"c" * 257}"/>'), "parse"),
    ("unknown-attr-long", det(f'<__serverdestination destinations="{LONG}"/>'), "ok"),
    ("unknown-attr-on-event-long", ev(extra=f' x-note="{LONG}"'), "ok"),
    ("unknown-attr-on-link-long", det(f'<link uid="a" url="{LONG}"/>'), "ok"),
    ("remarks-4096", det("<remarks>" + "r" * 4096 + "</remarks>"), "ok"),
    ("remarks-4097", det("<remarks>" + "r" * 4097 + "</remarks>"), "parse"),
    ("remarks-4096-crlf", det("<remarks>" + "r" * 4094 + "\r\n\r\n</remarks>"), "ok"),
    ("decoded-strings-all-at-bound",
     ev(extra="".join(f' {k}="{"&amp;" * 256}"' for k in
                      ("access", "qos", "opex", "caveat", "releasableTo",
                       "releaseableTo")),
        body="<detail>" + "".join(
            f'<link uid="{"&amp;" * 256}" relation="{"&#65;" * 256}" type="{"&lt;" * 256}"/>'
            for _ in range(8)) + f'<contact callsign="{"&gt;" * 256}"/>'
        + "<remarks>" + "&amp;" * 4096 + "</remarks></detail>"), "ok"),
    # Numbers: xs:double without blanks, finite, in range.
    ("lat-exp", with_lat("3.5e1"), "ok"),
    ("lat-leading-dot", with_lat(".5"), "ok"),
    ("lat-trailing-dot", with_lat("5."), "ok"),
    ("lat-plus", with_lat("+1"), "ok"),
    ("lat-underscore", with_lat("1_0"), "parse"),
    ("lat-blank", with_lat(" 1"), "parse"),
    ("lat-blank-after", with_lat("1 "), "parse"),
    ("lat-arabic-digit", with_lat("\u0661"), "parse"),
    ("lat-inf", with_lat("INF"), "parse"),
    ("lat-infinity", with_lat("Infinity"), "parse"),
    ("lat-hex", with_lat("0x1p3"), "parse"),
    ("lat-91", with_lat("91"), "parse"),
    ("lat-65-bytes", with_lat("1." + "0" * 63), "parse"),
    ("lat-64-bytes", with_lat("1." + "0" * 62), "ok"),
    ("lat-char-ref", with_lat("&#49;0"), "ok"),
    ("ce-negative-zero", ev(point='<point lat="0" lon="0" hae="0" ce="-0" le="0"/>'), "ok"),
    # Times: xs:dateTime with a zone, a real date, no blanks.
    ("time-offset", with_time("2024-05-01T21:30:00+09:30"), "ok"),
    ("time-fraction", with_time("2024-05-01T12:00:00.123456Z"), "ok"),
    ("time-blank", with_time(" 2024-05-01T12:00:00Z"), "parse"),
    ("time-leap-second", with_time("2024-12-31T23:59:60Z"), "parse"),
    ("time-feb-30", with_time("2024-02-30T12:00:00Z"), "parse"),
    ("time-feb-29-2023", with_time("2023-02-29T12:00:00Z"), "parse"),
    ("time-feb-29-2024", with_time("2024-02-29T12:00:00Z"), "ok"),
    ("time-year-0", with_time("0000-01-01T00:00:00Z"), "parse"),
    ("time-day-33-after-day-1",  # found by fuzz_cot_libxml2: the C day cache
     with_time("2024-05-01T12:00:00Z").replace(b'stale="2024-05-01', b'stale="2024-05-33'),
     "parse"),
    ("time-offset-15", with_time("2024-05-01T12:00:00+15:00"), "parse"),
    ("time-offset-14-30", with_time("2024-05-01T12:00:00+14:30"), "parse"),
    ("time-no-zone", with_time("2024-05-01T12:00:00"), "parse"),
    ("time-arabic-digit", with_time("2024-05-01T12:00:0\u0661Z"), "parse"),
    ("time-65-bytes", with_time("2024-05-01T12:00:00." + "0" * 44 + "Z"), "parse"),
    ("time-64-bytes", with_time("2024-05-01T12:00:00." + "0" * 43 + "Z"), "ok"),
    # TAK header.
    ("tak-v0", b"\xbf\x00\xbf" + ev(), "ok"),
    ("tak-v1", b"\xbf\x01\xbf" + ev(), "parse"),
    ("tak-v0-empty", b"\xbf\x00\xbf", "parse"),
    # Well-formedness odds and ends.
    ("attr-cdata-end", ev(extra=' opex="a]]>b"'), "ok"),
    ("text-cdata-end", det("a]]>b"), "parse"),
    ("attr-gt", ev(extra=' opex="a>b"'), "ok"),
    ("attr-normalised", ev(extra=' opex="a\tb\r\nc&#13;&#10;d"'), "ok"),
    ("undefined-entity", det("<remarks>&nbsp;</remarks>"), "parse"),
    ("nonchar-fdd0", det("<remarks>\ufdd0</remarks>"), "ok"),
    ("nonchar-fffe", det("<remarks>\ufffe</remarks>"), "parse"),
    ("nul", det("<remarks>a\x00b</remarks>"), "parse"),
    ("leading-blank-no-decl", b"\n  " + ev(), "ok"),
    ("leading-blank-before-decl", b" " + ev(prolog=DECL), "parse"),
    ("junk-after-root", ev(trailer="junk"), "parse"),
    ("empty", b"", "parse"),
    ("blank", b" \r\n\t", "parse"),
]

MUTATION_TOKENS = [
    b"<", b">", b"&", b'"', b"'", b"/", b"=", b"]]>", b"<![CDATA[", b"<!--", b"-->", b"<?x?>",
    b"<!DOCTYPE x>", b"&amp;", b"&#x41;", b"&#10;", b"\r\n", b"\r", b"\t", b"\xef\xbb\xbf",
    b"\xc3\xa9", b"\xff", b"\x00", b"<detail>", b"</detail>", b"<remarks>", b"</remarks>",
    b"<link/>", b'<link uid="x"/>', b"<track/>", b'<track course="400"/>', b"<contact/>",
    b'<contact callsign="c"/>', b"<point/>", b"<x:y/>", b' xmlns="u"', b' a="1"', b" uid=\"u\"",
    b' releaseableTo="USA"', b' releasableTo="KOR"', b'encoding="ISO-8859-1"', b"1e400",
    b"NaN", b"-", b".", b"+09:00", b"Z", b"60", b"<foo/>", b"<b>x</b>", b"\xbf\x00\xbf",
]


def mutate(rng, doc):
    b = bytearray(doc)
    for _ in range(1 if rng.random() < 0.7 else rng.randint(2, 3)):
        op = rng.randrange(4)
        i = rng.randrange(len(b) + 1)
        if op == 0 and b:
            b[min(i, len(b) - 1)] = rng.choice(b"<>&\"'/=!?-] xa0159.#;:eE+\r\t\x00\x80\xc3\xff")
        elif op == 1:
            b[i:i] = rng.choice(MUTATION_TOKENS)
        elif op == 2:
            del b[i:i + rng.randint(1, 12)]
        else:
            j = min(len(b), i + rng.randint(1, 40))
            b[i:i] = b[i:j]
    return bytes(b)


def run_c(cot_dump, payloads):
    data = b"".join(struct.pack(">I", len(p)) + p for p in payloads)
    out = subprocess.run([cot_dump], input=data, capture_output=True, check=True).stdout
    res = [json.loads(line) for line in out.decode().splitlines()]
    if len(res) != len(payloads):
        raise SystemExit(f"cot_dump answered {len(res)} of {len(payloads)} payloads")
    return res


def run_oracle(payload):
    try:
        return oracle.parse_cot(payload)
    except oracle.Bad:
        return None


def run_oracle_head(payload):
    try:
        return oracle.parse_cot_head(payload)
    except oracle.Bad:
        return None


def head_diffs(c, o, full_ok):
    """The head step (cot_parse_head, oracle.parse_cot_head): the same verdict,
    the same <event> attributes, and never a refusal of what parses whole."""
    h = c["head"]
    c_ok, o_ok = h["err"] == "ok", o is not None
    if c_ok != o_ok:
        return [f"head: C says {h['err']}, oracle {'ok' if o_ok else 'parse'}"]
    if full_ok and not c_ok:
        return [f"head refused ({h['err']}) what parses whole"]
    if not c_ok:
        return []
    diffs = [f"head {k}: C {h[k]} oracle {hx(o[k])}"
             for k in ("uid", "type", "how", "access", "caveat", "rel") if h[k] != hx(o[k])]
    if h["stale_ms"] != o["stale_ms"]:
        diffs.append(f"head stale_ms: C {h['stale_ms']} oracle {o['stale_ms']}")
    return diffs


def hx(s):
    if s is None:
        return None
    return (s.encode() if isinstance(s, str) else s).hex()


def num_eq(a, b):
    """Equal, or within 2 ulp (the C parser is correctly rounded on the fast
    path only, cot_parse.c parse_double)."""
    return a == b or abs(a - b) <= 2 * math.ulp(max(abs(a), abs(b)))


def field_diffs(c, o):
    """Fields on which an accepted event differs between the two parsers."""
    diffs = []
    for k_c, k_o in (("version", "version"), ("uid", "uid"), ("type", "type"), ("how", "how"),
                     ("access", "access"), ("qos", "qos"), ("opex", "opex"),
                     ("caveat", "caveat"), ("rel", "rel"), ("callsign", "callsign"),
                     ("remarks", "remarks"), ("detail", "detail")):
        if c[k_c] != hx(o[k_o]):
            diffs.append(f"{k_c}: C {c[k_c]} oracle {hx(o[k_o])}")
    for k in ("time_ms", "start_ms", "stale_ms"):
        if c[k] != o[k]:
            diffs.append(f"{k}: C {c[k]} oracle {o[k]}")
    for k in ("lat", "lon", "hae", "ce", "le"):
        if not num_eq(c[k], o[k]):
            diffs.append(f"{k}: C {c[k]!r} oracle {o[k]!r}")
    ct, ot = c["track"], o["track"]
    if (ct is None) != (ot is None) or (ct is not None and (
            set(ct) != set(ot) or not all(num_eq(ct[k], ot[k]) for k in ct))):
        diffs.append(f"track: C {ct} oracle {ot}")
    cl = [{k: v for k, v in x.items() if k != "_"} for x in c["links"]]
    ol = [{k: hx(x.get(k)) for k in oracle.LINK_STR} for x in o["links"]]
    if cl != ol:
        diffs.append(f"links: C {cl} oracle {ol}")
    return diffs


def compare(cot_dump, items, verbose):
    """items: (name, payload, verdict or None).  Returns the failures."""
    fails = []
    cres = run_c(cot_dump, [p for _, p, _ in items])
    for (name, payload, want), c in zip(items, cres):
        o = run_oracle(payload)
        c_ok, o_ok = c["err"] == "ok", o is not None
        why = []
        if want is not None and c_ok != (want == "ok"):
            why.append(f"C says {c['err']}, want {want}")
        if want is not None and o_ok != (want == "ok"):
            why.append(f"oracle says {'ok' if o_ok else 'parse'}, want {want}")
        if want is None and c_ok != o_ok:
            why.append(f"C says {c['err']}, oracle {'ok' if o_ok else 'parse'}")
        if c_ok and o_ok:
            why += field_diffs(c, o)
        why += head_diffs(c, run_oracle_head(payload), c_ok)
        if why:
            fails.append((name, payload, why))
        elif verbose:
            print(f"ok   {name}: {c['err']}")
    return fails


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cot_dump")
    ap.add_argument("--mutations", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    names = [n for n, _, _ in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    items = list(CASES)
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "data", "cot", "*.xml"))):
        base = os.path.basename(path)
        with open(path, "rb") as f:
            items.append((base, f.read(), "ok" if base.startswith("valid-") else "parse"))
    fails = compare(a.cot_dump, items, a.verbose)
    n_fixed = len(items)

    rng = random.Random(a.seed)
    seeds = [p for _, p, v in items if v == "ok"]
    muts = [(f"mutation {i}", mutate(rng, rng.choice(seeds)), None)
            for i in range(a.mutations)]
    mfails = compare(a.cot_dump, muts, False)
    n_acc = sum(1 for _, p, _ in muts if run_oracle(p) is not None)

    for name, payload, why in fails + mfails[:10]:
        print(f"FAIL {name}: {'; '.join(why)}")
        print(f"     payload {payload[:600]!r}{' ...' if len(payload) > 600 else ''}")
    print(f"oracle_cot: {n_fixed - len(fails)}/{n_fixed} cases and files agree with their "
          f"verdict; {a.mutations - len(mfails)}/{a.mutations} mutations agree "
          f"({n_acc} accepted by both, fields compared)")
    return 1 if fails or mfails else 0


if __name__ == "__main__":
    sys.exit(main())
