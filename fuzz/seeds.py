#!/usr/bin/python3
# fuzz/seeds.py - helper of fuzz/make-seeds.sh: writes the seed corpora.
#
#   seeds.py TOP SEEDS_DIR [PCAP...]
#
# fuzz_cot, fuzz_cot_libxml2: tests/data/cot/*.xml, the UDP payloads of the
#   pcaps' unfragmented datagrams, and events as TAK clients write them
#   (tak_docs(), one of them near the 65,507-byte maximum).
# fuzz_marking: access/caveat/releasableTo of those events, in the harness's
#   input format (control byte, then 0xff-separated slices) + a few by hand.
# fuzz_policy: tests/policies/*.yaml, policy/demo.yaml.
# fuzz_packet: the pcaps' frames in the harness's format (len_hi len_lo seg
#   frame), in windows of consecutive frames so fragments meet their siblings.
import glob
import hashlib
import os
import re
import struct
import sys

top, out = sys.argv[1], sys.argv[2]
pcaps = sys.argv[3:]


def put(target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def read_pcap(path):
    with open(path, 'rb') as f:
        b = f.read()
    magic = struct.unpack('<I', b[:4])[0]
    endian = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    off, frames = 24, []
    while off + 16 <= len(b):
        _, _, incl, _ = struct.unpack(endian + 'IIII', b[off:off + 16])
        off += 16
        frames.append(b[off:off + incl])
        off += incl
    return frames


def udp_payload(fr):
    """UDP payload of an unfragmented IPv4/IPv6 datagram, else None."""
    off = 14
    if len(fr) < off:
        return None
    et = struct.unpack('>H', fr[12:14])[0]
    if et == 0x8100:
        et = struct.unpack('>H', fr[16:18])[0]
        off += 4
    if et == 0x0800 and len(fr) >= off + 20:
        ihl = (fr[off] & 0xf) * 4
        fl = struct.unpack('>H', fr[off + 6:off + 8])[0]
        if fr[off + 9] != 17 or fl & 0x3fff:
            return None
        l4 = off + ihl
    elif et == 0x86dd and len(fr) >= off + 40:
        if fr[off + 6] != 17:
            return None
        l4 = off + 40
    else:
        return None
    if len(fr) < l4 + 8:
        return None
    ulen = struct.unpack('>H', fr[l4 + 4:l4 + 6])[0]
    return fr[l4 + 8:l4 + ulen] if ulen >= 8 else None


# ---- CoT documents ----
docs = []
for p in sorted(glob.glob(os.path.join(top, 'tests/data/cot/*.xml'))):
    with open(p, 'rb') as f:
        docs.append(f.read())
frames_by_pcap = [read_pcap(p) for p in pcaps]
seen = set()
for frames in frames_by_pcap:
    for fr in frames:
        pl = udp_payload(fr)
        if pl and pl not in seen and len(seen) < 60:
            seen.add(pl)
            docs.append(pl)


def tak_docs():
    """Events as ATAK, WinTAK and TAK Server write them (release.md section 2),
    so that fuzz_cot_libxml2 starts from inputs both parsers accept."""
    t3 = ('time="2024-05-01T12:00:00.000Z" start="2024-05-01T12:00:00.000Z" '
          'stale="2024-05-01T12:05:00.000Z"')
    decl = "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>"
    pt = '<point lat="38.8976763" lon="127.0365181" hae="25000.0" ce="500.0" le="800.0"/>'
    sa = (decl + '<event version="2.0" uid="ANDROID-352413144358012" type="a-f-G-U-C" '
          'how="h-e" ' + t3 + '>' + pt + '<detail><takv device="SAMSUNG SM-G998U" '
          'platform="ATAK-CIV" os="31" version="4.8.1.5"/><contact endpoint="*:-1:stcp" '
          'callsign="VIPER 1"/><uid Droid="VIPER 1"/><precisionlocation altsrc="GPS" '
          'geopointsrc="GPS"/><__group role="Team Member" name="Cyan"/>'
          '<status battery="88"/><track course="274.1" speed="0.0"/></detail></event>')
    warn = ('<event version="2.0" uid="MW-TRK-0042" type="a-h-A-W-M-S-S" how="m-r" ' + t3 +
            ' access="SECRET//REL TO USA, KOR" releasableTo="USA KOR">' + pt +
            '<detail><track course="135.5" speed="1700.0"/>'
            '<link uid="MW-LP-0042" relation="p-p"/>'
            '<link uid="MW-IP-0042" relation="p-p" type="b-d-i"/>'
            '<contact callsign="TRACK-42"/>'
            '<remarks>Ballistic &lt;SRBM&gt; &amp; rising<![CDATA[ <raw> ]]>'
            '<!-- c --> caf\u00e9 &#x2192;</remarks>'
            '<_flow-tags_ TAK-Server-f1a8159ef7804f7a8a32d8efc4b773d0="2024-05-01T12:00:01Z"/>'
            '</detail></event>')
    route = ('<event version="2.0" uid="R-1" type="b-m-r" how="h-e" ' + t3 +
             ' caveat="REL TO USA, JPN" releaseableTo="USA,JPN">' + pt + '<detail>' +
             ''.join(f'<link uid="wp{i}" callsign="CP{i}" type="b-m-p-w" '
                     f'point="38.{i},127.{i},0" remarks="" relation="c"/>' for i in range(4)) +
             '<link point="38.5,127.5"/><track/><__routeinfo><__navcues/></__routeinfo>'
             '</detail></event>')
    impact = ('<event version="2.0" uid="MW-IP-0042" type="b-d-i" how="m-p" ' + t3 +
              ' access="S//NF">' + pt + '<detail><track speed="0"/>'
              '<remarks>Predicted impact\r\nwindow 30 s</remarks></detail></event>')
    # as big as a message may be: free-form detail around the fields
    filler = ''.join(f'<sensor id="s{i}" fov="{i % 360}" range="{i * 7}.5">'
                     f'<note>&#x{0x41 + i % 26:x};{"x" * (i % 50)}</note></sensor>'
                     for i in range(630))
    big = ('<event version="2.0" uid="MW-BIG-1" type="a-h-A-W-M-S-S" how="m-r" ' + t3 +
           ' access="SECRET//REL TO USA, KOR, JPN" releasableTo="TRILAT">' + pt +
           '<detail><contact callsign="BIG"/><remarks>' + 'EXERCISE &amp; ' * 250 +
           '</remarks>' + filler + '</detail></event>')
    out = [d.encode() for d in (sa, warn, route, impact)]
    out.append(big.encode())
    assert 60000 < len(out[-1]) <= 65507, len(out[-1])
    out.append(b"\xbf\x00\xbf" + out[1])
    return out


tak = tak_docs()
for d in docs:
    put('fuzz_cot', d)
    put('fuzz_cot_libxml2', d)
for d in tak:
    put('fuzz_cot', d)
    put('fuzz_cot_libxml2', d)

# ---- markings ----
attr = {}
for d in docs:
    for name in (b'access', b'caveat', b'releasableTo', b'releaseableTo'):
        for m in re.finditer(rb'\s' + name + rb"""\s*=\s*(["'])(.*?)\1""", d):
            attr.setdefault(name, set()).add(m.group(2))
accs = [b'SECRET//REL TO USA, KOR', b'TOP SECRET//NOFORN',
                                              b'u//fouo', b'S//REL TO FVEY//REL TRILAT'] + sorted(attr.get(b'access', set()))
cavs = [b'NOFORN', b'REL TO USA, JPN', b'NF//FOUO'] + sorted(attr.get(b'caveat', set()))
rels = [b'USA KOR', b'TRILAT,GBR', b'fvey, , jpn'] + \
    sorted(attr.get(b'releasableTo', set()) | attr.get(b'releaseableTo', set()))
i = 0
for a in accs:
    for c in cavs[:4]:
        for r in rels[:4]:
            ctl = (i % 8) | ((i // 8 % 8) << 3)
            put('fuzz_marking', bytes([ctl]) + a + b'\xff' + c + b'\xff' + r)
            i += 1

# ---- policies ----
for p in sorted(glob.glob(os.path.join(top, 'tests/policies/*.yaml'))) + \
        [os.path.join(top, 'policy/demo.yaml')]:
    with open(p, 'rb') as f:
        put('fuzz_policy', f.read())

# ---- frames ----
def frame_rec(fr, seg=0):
    n = min(len(fr), 0x3fff)
    return struct.pack('>HB', n, seg) + fr[:n]


for frames in frames_by_pcap:
    for k in range(0, len(frames), 8):
        win = frames[k:k + 8]
        put('fuzz_packet', b''.join(frame_rec(fr) for fr in win))
    for k, fr in enumerate(frames[:40]):
        # some single frames, some split into segments
        put('fuzz_packet', frame_rec(fr, 0 if k % 3 else 42))
