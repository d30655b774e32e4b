#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_oracle_cot.py - the oracle's CoT reading and the dataplane's parser agree.

    test_oracle_cot.py BUILD/tests/unit/cot_dump [--mutations N] [--seed S] [-v]
                       [--only all|xml|v1] [--codes] [--v1-mutations N]
                       [--v1-generated N]
    test_oracle_cot.py --oracle-only [--only v1] [-v]

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

TAK Protocol Version 1 (release.md section 2, "TAK Protocol Version 1"), the
v1 part (--only v1 runs it alone, --only xml leaves it out):

4. V1_CASES: every hand-built message of test_takproto_oracle.py (each with
   its verdict: ok, parse, tak_control, or "rest": the head accepts and the
   detail text D is refused) and a few realistic ATAK/TAK Server messages;
   verdicts from BOTH parsers, and the same fields when both accept (the
   detail compared as D, and the encoding cot_dump reports); also the exact
   conversions of test_takproto_oracle.py, and --v1-generated N (2000)
   well-formed messages written by python3-protobuf (skipped, with a note,
   when protoc is missing);
5. N seeded mutations of the accepted v1 messages: raw byte mutations and
   mutations of the decoded field tree re-encoded with right lengths (a
   string given markup, made empty or too long, a number made NaN or out of
   range, a field dropped, repeated, given another wire type...): both
   accept or both refuse, and the head steps agree.

--codes also compares the parse error (cot_dump's err name) with the
oracle's sub-code for v1 messages refused in their protobuf decoding
(informational otherwise: the oracle counts only the reason "parse"; it
names no sub-code for a fault of D, which its XML reading finds).
--oracle-only checks the verdicts of the v1 cases against the oracle alone
(no cot_dump needed).  If cot_dump prints a v1 event's XML conversion as
"xml" (hex), it is compared byte for byte with oracle.to_xml().
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
import takproto as tp  # noqa: E402
import test_takproto_oracle as tto  # noqa: E402  (its hand-built v1 messages)

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


# --------------------------------------------------------------------------
# TAK Protocol Version 1 (release.md section 2)

def _v1_verdict(reason):
    if reason is None:
        return "ok"
    if reason == ("head-ok", "parse"):
        return "rest"
    return reason  # "parse" or "tak_control"


def _ev(*fields):
    return tp.f_len(2, b"".join(fields))


def _s(fnum, v):
    return tp.f_len(fnum, v)


_T = 1714564800000
_ATAK_EVENT = [_s(1, "a-f-G-U-C"), _s(5, "ANDROID-358123456789012"), tp.f_varint(6, _T),
               tp.f_varint(7, _T), tp.f_varint(8, _T + 90000), _s(9, "h-e"),
               tp.f_double(10, 38.8976763), tp.f_double(11, 127.0365181),
               tp.f_double(12, 9999999.0), tp.f_double(13, 9999999.0),
               tp.f_double(14, 9999999.0)]
_ATAK_DETAIL = tp.f_len(15, b"".join([
    _s(1, '<uid Droid="VIPER 1"/>'),
    tp.f_len(2, _s(1, "*:-1:stcp") + _s(2, "VIPER 1")),
    tp.f_len(3, _s(1, "Cyan") + _s(2, "Team Member")),
    tp.f_len(4, _s(1, "GPS") + _s(2, "GPS")),
    tp.f_len(5, tp.f_varint(1, 88)),
    tp.f_len(6, _s(1, "SAMSUNG SM-G998U") + _s(2, "ATAK-CIV") + _s(3, "31")
             + _s(4, "4.8.1.5 (a1b2c3d4).1690000000-CIV")),
    tp.f_len(7, tp.f_double(1, 0.0) + tp.f_double(2, 274.1))]))
_MW_EVENT = [_s(1, "a-h-A-W-M-S-S"), _s(2, "SECRET//REL TO USA, KOR"), _s(3, "r-r-c"),
             _s(5, "MW-TRK-0001"), tp.f_varint(6, _T), tp.f_varint(7, _T),
             tp.f_varint(8, _T + 30000), _s(9, "m-r"), tp.f_double(10, 38.8976763),
             tp.f_double(11, 127.0365181), tp.f_double(12, 25000.0), tp.f_double(13, 500.0),
             tp.f_double(14, 800.0), _s(16, "REL TO USA, KOR, JPN"), _s(17, "USA KOR")]
_MW_DETAIL = tp.f_len(15, b"".join([
    _s(1, '<remarks>LAUNCH DETECTED &amp; TRACKING\r\nimpact &lt; 300 s</remarks>'
          '<link uid="MW-LP-0001" relation="p-p" type="b-m-p-s-p-loc"/>'
          '<link uid="MW-IP-0001" relation="p-c"/><__milsym id="SHAPMB---*****"/>'),
    tp.f_len(2, _s(2, "SENTINEL-7")),
    tp.f_len(7, tp.f_double(1, 1700.0) + tp.f_double(2, 135.5))]))

# (name, payload, verdict): "ok", "parse", "tak_control" (refused, with that
# message-level reason), "rest" (the head accepts, the detail text D is refused).
V1_SEEDS = [
    ("v1-atak-pli", tp.HEADER + _ev(*_ATAK_EVENT, _ATAK_DETAIL), "ok"),
    ("v1-atak-pli-takcontrol",
     tp.HEADER + tp.f_len(1, tp.f_varint(1, 1) + tp.f_varint(2, 1) + _s(3, "ANDROID-1"))
     + _ev(*_ATAK_EVENT, _ATAK_DETAIL), "ok"),
    ("v1-missile-warning", tp.HEADER + _ev(*_MW_EVENT, _MW_DETAIL), "ok"),
    ("v1-missile-warning-server",
     tp.HEADER + _ev(*_MW_EVENT, _MW_DETAIL) + tp.f_varint(3, _T + 5) + tp.f_varint(4, _T),
     "ok"),
    ("v1-legacy-server", tp.HEADER + _ev(*_MW_EVENT[:-2], tp.f_varint(16, _T + 5),
                                         tp.f_varint(17, _T), _MW_DETAIL), "ok"),
    ("v1-xml-contact-wins",
     tp.HEADER + _ev(*_ATAK_EVENT, tp.f_len(15, _s(1, '<contact callsign="XML"/><track/>')
                                           + tp.f_len(2, _s(2, "TYPED"))
                                           + tp.f_len(7, tp.f_double(2, 1.0)))), "ok"),
    ("v1-unknown-fields",
     tp.HEADER + tp.f_len(99, b"x") + _ev(*_MW_EVENT, tp.f_fixed32(30, 7), _MW_DETAIL,
                                          tp.f_varint(31, 2 ** 64 - 1)) + tp.f_fixed64(98, 1),
     "ok"),
    ("v1-all-ATAK-detail-as-xml", tp.HEADER + _ev(*_MW_EVENT, tp.f_len(15, _s(1, ATAK_DETAIL))),
     "ok"),
    ("v1-empty-detail", tp.HEADER + _ev(*_MW_EVENT, tp.f_len(15, b"")), "ok"),
    ("v1-track-xml-400-typed-ok",
     tp.HEADER + _ev(*_MW_EVENT, tp.f_len(15, _s(1, '<track course="400"/>')
                                          + tp.f_len(7, tp.f_double(2, 1.0)))), "rest"),
    ("v1-only-header", tp.HEADER, "parse"),
    ("v1-takcontrol-only", tp.HEADER + tp.f_len(1, tp.f_varint(1, 1)), "tak_control"),
]
V1_CASES = (V1_SEEDS + [("v1/" + n, p, _v1_verdict(r)) for n, p, r, _ in tto.hand_cases()]
            + [("v1/" + n, p, "ok") for n, p, _ in tto.GOLDEN + tto.GOLDEN_D])
V1_CODES = {"v1/" + n: c for n, _, _, c in tto.hand_cases()}

KNOWN_WT = {}  # (message, field) -> its wire type
for _m, _fs in tp.SCHEMA.items():
    for _n, (_name, _kind) in _fs.items():
        KNOWN_WT[(_m, _n)] = 2 if _kind.startswith("msg:") else tp.WIRE_OF[_kind]


def pb_fields(b):
    """A message's fields as [fnum, wire type, value] (value: int, or bytes)."""
    out, i = [], 0
    while i < len(b):
        fnum, wt, v, _, i = tp.read_field(b, i, len(b))
        if wt == 2:
            v = bytes(b[v[0]:v[1]])
        out.append([fnum, wt, v])
    return out


def pb_enc(fields):
    out = []
    for fnum, wt, v in fields:
        if wt == 0:
            out.append(tp.f_varint(fnum, v))
        elif wt == 2:
            out.append(tp.f_len(fnum, v))
        else:
            out.append(tp.enc_key(fnum, wt) + v)
    return b"".join(out)


V1_STRINGS = ["", "x" * 257, "\u00e9" * 128, "S", "NOFORN", "REL TO USA", "USA, KOR",
              "\x01", "a\tb\nc\rd", "\ufffe", "\x7f", "<contact/>", "<track/>", "<remarks/>",
              "<link/>" * 9, "</detail>", "<!DOCTYPE x>", "<?pi?>", "&", "&amp;", "<a>"]
V1_DOUBLES = [math.nan, math.inf, -math.inf, -0.0, 0.0, 90.0, 90.00000001, -180.0, -180.5,
              -1.0, 360.0, 360.5, 1e308, 5e-324, 0.1]
V1_VARINTS = [0, 1, 2 ** 32 - 1, 2 ** 32, tp.MAX_TIME, tp.MAX_TIME + 1, 2 ** 63, 2 ** 64 - 1]


def _value(rng, wt):
    if wt == 0:
        return rng.choice(V1_VARINTS)
    if wt == 1:
        return struct.pack("<d", rng.choice(V1_DOUBLES))
    if wt == 5:
        return struct.pack("<I", rng.getrandbits(32))
    return rng.choice(V1_STRINGS).encode("utf-8")


def _mutate_string(rng, v):
    r = rng.random()
    if r < 0.5:
        i = rng.randrange(len(v) + 1)
        return v[:i] + rng.choice(MUTATION_TOKENS) + v[i:]
    if r < 0.7 and v:
        i = rng.randrange(len(v))
        return v[:i] + v[i + rng.randint(1, 10):]
    return rng.choice(V1_STRINGS).encode("utf-8")


def tree_mutate(rng, body, mname="TakMessage"):
    """One mutation of the decoded field tree, re-encoded with right lengths
    (a tree an earlier mutation left unreadable is left as it is)."""
    try:
        fl = pb_fields(body)
    except tp.Refused:
        return body
    subs = [k for k, (fnum, wt, _) in enumerate(fl)
            if wt == 2 and tp.SCHEMA[mname].get(fnum, ("", ""))[1].startswith("msg:")]
    if subs and rng.random() < 0.65:
        k = rng.choice(subs)
        sub = tp.SCHEMA[mname][fl[k][0]][1][4:]
        fl[k][2] = tree_mutate(rng, fl[k][2], sub)
        return pb_enc(fl)
    op = rng.randrange(9)
    k = rng.randrange(len(fl)) if fl else None
    if op == 0 and fl:
        del fl[k]
    elif op == 1 and fl:
        fl.insert(rng.randrange(len(fl) + 1), list(fl[k]))
    elif op == 2 and fl:
        strs = [j for j, f in enumerate(fl) if f[1] == 2 and
                not tp.SCHEMA[mname].get(f[0], ("", ""))[1].startswith("msg:")]
        if strs:
            j = rng.choice(strs)
            fl[j][2] = _mutate_string(rng, fl[j][2])
    elif op == 3 and fl:
        j = [j for j, f in enumerate(fl) if f[1] == 1]
        if j:
            fl[rng.choice(j)][2] = _value(rng, 1)
    elif op == 4 and fl:
        j = [j for j, f in enumerate(fl) if f[1] == 0]
        if j:
            fl[rng.choice(j)][2] = _value(rng, 0)
    elif op == 5 and fl:
        wt = rng.choice([w for w in (0, 1, 2, 5) if w != fl[k][1]])
        fl[k][1], fl[k][2] = wt, _value(rng, wt)
    elif op == 6:
        fnum = rng.choice(list(tp.SCHEMA[mname]))
        wt = KNOWN_WT[(mname, fnum)] if rng.random() < 0.8 else rng.choice((0, 1, 2, 5))
        fl.insert(rng.randrange(len(fl) + 1), [fnum, wt, _value(rng, wt)])
    elif op == 7:
        wt = rng.choice((0, 1, 2, 5))
        fl.insert(rng.randrange(len(fl) + 1), [rng.choice((18, 29, 99, 2 ** 29 - 1)), wt,
                                               _value(rng, wt)])
    elif fl:
        j = rng.randrange(len(fl))
        fl[k], fl[j] = fl[j], fl[k]
    return pb_enc(fl)


V1_BYTES = b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0a\x12\x1a\x22\x7a\x7f\x80\x81\xbf\xff<>&"


def mutate_v1(rng, payload):
    """Tree mutations, byte mutations, or both."""
    body = payload[3:]
    if rng.random() < 0.7:
        for _ in range(1 if rng.random() < 0.7 else 2):
            body = tree_mutate(rng, body)
    if rng.random() < 0.4:
        b = bytearray(body)
        op = rng.randrange(5)
        i = rng.randrange(len(b) + 1)
        if op == 0 and b:
            b[min(i, len(b) - 1)] = rng.choice(V1_BYTES)
        elif op == 1:
            b[i:i] = bytes(rng.choice(V1_BYTES) for _ in range(rng.randint(1, 3)))
        elif op == 2:
            del b[i:i + rng.randint(1, 12)]
        elif op == 3:
            j = min(len(b), i + rng.randint(1, 40))
            b[i:i] = b[i:j]
        elif b:
            b[min(i, len(b) - 1)] ^= 1 << rng.randrange(8)
        body = bytes(b)
    hdr = tp.HEADER
    if rng.random() < 0.02:
        hdr = rng.choice([b"\xbf\x02\xbf", b"\xbf\x00\xbf", b"\xbf\x01", b"\xbf\x81\x00\xbf"])
    return hdr + body


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


def oracle_reason(fn, payload):
    """(fields, None) or (None, Bad.args): args[0] the reason, args[1] the
    v1 parse error when there is one."""
    try:
        return fn(payload), None
    except oracle.Bad as e:
        return None, e.args


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
    if "encoding" in h and h["encoding"] != o["encoding"]:
        return [f"head encoding: C {h['encoding']} oracle {o['encoding']}"]
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
    if "encoding" in c and c["encoding"] != o["encoding"]:
        diffs.append(f"encoding: C {c['encoding']} oracle {o['encoding']}")
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
    if "xml" in c and o.get("encoding") == "takproto-v1" and c["xml"] != hx(oracle.to_xml(o)):
        # the XML conversion (release.md section 6), if cot_dump prints it
        diffs.append(f"xml: C {c['xml']} oracle {hx(oracle.to_xml(o))}")
    cl = [{k: v for k, v in x.items() if k != "_"} for x in c["links"]]
    ol = [{k: hx(x.get(k)) for k in oracle.LINK_STR} for x in o["links"]]
    if cl != ol:
        diffs.append(f"links: C {cl} oracle {ol}")
    return diffs


def compare(cot_dump, items, verbose, codes=None):
    """items: (name, payload, verdict or None); verdict "ok", "parse",
    "tak_control" (refused with that message-level reason) or "rest" (the
    head accepts, the whole parse refuses).  Returns the failures.  codes:
    a list that gets (name, C err, oracle sub-code, payload) of refused v1
    messages whose parse errors differ."""
    fails = []
    cres = run_c(cot_dump, [p for _, p, _ in items])
    for (name, payload, want), c in zip(items, cres):
        o, obad = oracle_reason(oracle.parse_cot, payload)
        oh, ohbad = oracle_reason(oracle.parse_cot_head, payload)
        c_ok, o_ok = c["err"] == "ok", o is not None
        o_says = "ok" if o_ok else obad[0]
        why = []
        if want is not None and c_ok != (want == "ok"):
            why.append(f"C says {c['err']}, want {want}")
        if want is not None and o_ok != (want == "ok"):
            why.append(f"oracle says {o_says}, want {want}")
        if want == "tak_control" and (c["err"] != "tak_control" or o_says != "tak_control"):
            why.append(f"C says {c['err']}, oracle {o_says}, want tak_control")
        if want == "rest" and (c["head"]["err"] != "ok" or oh is None):
            why.append(f"head: C says {c['head']['err']}, oracle "
                       f"{'ok' if oh is not None else ohbad[0]}, want ok")
        if want is None and c_ok != o_ok:
            why.append(f"C says {c['err']}, oracle {o_says}")
        # tak_control is a message-level reason of its own, not parse
        if not c_ok and not o_ok and (c["err"] == "tak_control") != (o_says == "tak_control"):
            why.append(f"C says {c['err']}, oracle {o_says}")
        h_err = c["head"]["err"]
        if oh is None and h_err != "ok" and (h_err == "tak_control") != (
                ohbad[0] == "tak_control"):
            why.append(f"head: C says {h_err}, oracle {ohbad[0]}")
        if c_ok and o_ok:
            why += field_diffs(c, o)
        why += head_diffs(c, oh, c_ok)
        if codes is not None and not c_ok and not o_ok and tp.is_v1(payload) \
                and len(obad) > 1 and obad[1] != "detail_xml" and c["err"] != obad[1]:
            codes.append((name, c["err"], obad[1], payload))
        if why:
            fails.append((name, payload, why))
        elif verbose:
            print(f"ok   {name}: {c['err']}")
    return fails


def oracle_only(items, verbose):
    """The verdicts of the cases, from the oracle alone."""
    fails = []
    for name, payload, want in items:
        o, obad = oracle_reason(oracle.parse_cot, payload)
        oh, ohbad = oracle_reason(oracle.parse_cot_head, payload)
        got = "ok" if o is not None else obad[0]
        if want == "rest":
            ok = o is None and obad[0] == "parse" and oh is not None
        elif want == "ok":
            ok = o is not None and oh is not None
        else:
            ok = got == want and oh is None and ohbad[0] == want
        code = V1_CODES.get(name)
        if ok and code is not None and want not in ("ok", "rest") and obad[1:2] != (code,):
            ok = False
        if not ok:
            fails.append((name, payload, [f"oracle says {got} {obad}, head "
                                          f"{'ok' if oh is not None else ohbad}, "
                                          f"want {want} {code or ''}"]))
        elif verbose:
            print(f"ok   {name}")
    return fails


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cot_dump", nargs="?")
    ap.add_argument("--mutations", type=int, default=20000)
    ap.add_argument("--v1-mutations", type=int, default=20000)
    ap.add_argument("--v1-generated", type=int, default=2000,
                    help="well-formed v1 messages from python3-protobuf (0: none)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--only", choices=("all", "xml", "v1"), default="all")
    ap.add_argument("--codes", action="store_true",
                    help="fail when a refused v1 message's parse error differs")
    ap.add_argument("--oracle-only", action="store_true",
                    help="check the v1 cases' verdicts against the oracle alone")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    names = [n for n, _, _ in CASES + V1_CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    if a.oracle_only:
        fails = oracle_only(V1_CASES, a.verbose)
        for name, payload, why in fails:
            print(f"FAIL {name}: {'; '.join(why)}")
            print(f"     payload {payload[:300]!r}")
        print(f"oracle_cot --oracle-only: {len(V1_CASES) - len(fails)}/{len(V1_CASES)} v1 "
              f"cases get their verdict from the oracle")
        return 1 if fails else 0
    if a.cot_dump is None:
        ap.error("cot_dump is required (or --oracle-only)")
    rc = 0
    if a.only in ("all", "xml"):
        rc |= run_xml(a)
    if a.only in ("all", "v1"):
        rc |= run_v1(a)
    return rc


def generated_v1(n, seed):
    """n well-formed messages written by python3-protobuf (the generator of
    test_takproto_oracle.py); none when protoc is not installed."""
    if n == 0:
        return []
    try:
        pb, legacy_pb = tto.compile_protos()
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"note: no generated v1 messages (protoc: {e})")
        return []
    rng = random.Random(seed)
    return [(f"v1 generated {i}", tp.HEADER + tto.gen_message(rng, pb, legacy_pb)[0], "ok")
            for i in range(n)]


def run_v1(a):
    """The TAK Protocol Version 1 part: V1_CASES, generated messages and
    their mutations."""
    codes = []
    gen = generated_v1(a.v1_generated, a.seed)
    fails = compare(a.cot_dump, V1_CASES + gen, a.verbose, codes)
    rng = random.Random(a.seed)
    seeds = [p for _, p, v in V1_CASES + gen if v == "ok"]
    muts = [(f"v1 mutation {i}", mutate_v1(rng, rng.choice(seeds)), None)
            for i in range(a.v1_mutations)]
    mfails = compare(a.cot_dump, muts, False, codes)
    n_acc = sum(1 for _, p, _ in muts if run_oracle(p) is not None)
    for name, payload, why in fails + mfails[:10]:
        print(f"FAIL {name}: {'; '.join(why)}")
        print(f"     payload {payload[:600]!r}{' ...' if len(payload) > 600 else ''}")
    for name, c_err, o_code, payload in codes[:10 if a.codes else 3]:
        print(f"{'FAIL' if a.codes else 'note'} {name}: parse error C {c_err}, "
              f"oracle {o_code}")
        print(f"     payload {payload[:300]!r}")
    print(f"oracle_cot v1: {len(V1_CASES) + len(gen) - len(fails)}/{len(V1_CASES) + len(gen)} "
          f"cases and generated messages agree with their verdict; {a.v1_mutations - len(mfails)}/{a.v1_mutations} mutations agree "
          f"({n_acc} accepted by both, fields compared); parse errors differ on "
          f"{len(codes)} refused messages{'' if a.codes else ' (not checked: --codes)'}")
    return 1 if fails or mfails or (a.codes and codes) else 0


def run_xml(a):
    """The XML part: CASES, tests/data/cot and their mutations."""
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
