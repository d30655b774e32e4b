#!/usr/bin/python3
# fuzz/seeds_takproto.py TOP OUT_DIR - seed inputs for fuzz_takproto (the
# input format at the top of fuzz/fuzz_takproto.c):
#   - valid TAK Protocol v1 messages written by python3-protobuf from
#     tests/proto/takproto.proto (and takproto_legacy.proto): typed detail,
#     xmlDetail, both, xmlDetail naming a typed element, the 4.10 markings
#     and the legacy varints 16/17, TakControl alongside and alone, escapes,
#     edge numbers and times, a message near the 65,535-byte maximum;
#   - hostile ones built by hand (docs/release.md §2 "The wire", "The
#     fields"): truncated varints, lengths past the end, an 11-byte varint,
#     groups nesting deep, field 16 in every wire type, duplicated markings,
#     cotEvent, detail and typed messages, NaN/inf coordinates, bad UTF-8,
#     oversize strings, bad xmlDetail;
#   - raw payloads (first byte 0xbf, read as they are): a v1 header followed
#     by XML, XML behind 0xbf, bf 02 bf, the overlong header, a v0 message;
#   - each valid message again as a token stream (first byte 0xff) whose
#     lengths the harness computes.
# Imported by fuzz/seeds_packet.py for v1 payloads (messages()).
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HDR = b'\xbf\x01\xbf'


def _compile(top):
    d = tempfile.mkdtemp(prefix='tg-seeds-proto-')
    proto = os.path.join(top, 'tests', 'proto')
    subprocess.run(['protoc', '-I', proto, '--python_out=' + d,
                    os.path.join(proto, 'takproto.proto'),
                    os.path.join(proto, 'takproto_legacy.proto')], check=True)
    sys.path.insert(0, d)
    try:
        import takproto_pb2 as pb  # noqa: E402
        import takproto_legacy_pb2 as legacy  # noqa: E402
    finally:
        sys.path.remove(d)
        shutil.rmtree(d)
    return pb, legacy


# ---- the wire, by hand ----

def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7f) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def key(num, wt):
    return varint(num << 3 | wt)


def ld(num, data):
    if isinstance(data, str):
        data = data.encode()
    return key(num, 2) + varint(len(data)) + data


def vi(num, v):
    return key(num, 0) + varint(v)


def f64(num, d):
    return key(num, 1) + struct.pack('<d', d)


def f64raw(num, b8):
    return key(num, 1) + b8


def f32(num, v):
    return key(num, 5) + struct.pack('<I', v)


T0 = 1714564800000  # 2024-05-01T12:00:00Z


def event_fields(uid='MW-TRK-0042', typ='a-h-A-W-M-S-S', how='m-r', access=None,
                 lat=38.8976763, lon=127.0365181, hae=25000.0, ce=500.0, le=800.0):
    b = ld(1, typ)
    if access is not None:
        b += ld(2, access)
    b += ld(5, uid) + vi(6, T0) + vi(7, T0) + vi(8, T0 + 30000) + ld(9, how)
    b += f64(10, lat) + f64(11, lon) + f64(12, hae) + f64(13, ce) + f64(14, le)
    return b


def msg(ev_bytes, extra=b''):
    return ld(2, ev_bytes) + extra


# ---- valid messages, by python3-protobuf ----

def valid(pb, legacy):
    out = []

    def ev(**kw):
        m = pb.TakMessage()
        e = m.cotEvent
        e.type = kw.pop('type', 'a-h-A-W-M-S-S')
        e.uid = kw.pop('uid', 'MW-TRK-0042')
        e.how = kw.pop('how', 'm-r')
        e.sendTime = kw.pop('sendTime', T0)
        e.startTime = kw.pop('startTime', T0)
        e.staleTime = kw.pop('staleTime', T0 + 30000)
        e.lat = kw.pop('lat', 38.8976763)
        e.lon = kw.pop('lon', 127.0365181)
        e.hae = kw.pop('hae', 25000.0)
        e.ce = kw.pop('ce', 500.0)
        e.le = kw.pop('le', 800.0)
        for k in ('access', 'qos', 'opex', 'caveat', 'releaseableTo'):
            if k in kw:
                setattr(e, k, kw.pop(k))
        return m, e

    # the demo's early warning, typed track, xmlDetail with remarks and links
    m, e = ev(access='S//REL TO USA, KOR, JPN')
    e.detail.track.speed = 1700.0
    e.detail.track.course = 135.5
    e.detail.contact.callsign = 'TRACK-42'
    e.detail.xmlDetail = ('<link uid="MW-LP-0042" relation="p-p"/>'
                          '<link uid="MW-IP-0042" relation="p-p" type="b-d-i"/>'
                          '<remarks>Ballistic &lt;SRBM&gt; &amp; rising<![CDATA[ <raw> ]]>'
                          '<!-- c --> caf\u00e9 &#x2192;</remarks>')
    out.append(m.SerializeToString())
    # ATAK's own situational awareness: every typed message
    m, e = ev(type='a-f-G-U-C', uid='ANDROID-352413144358012', how='h-e',
              access='UNCLASSIFIED')
    d = e.detail
    d.takv.device, d.takv.platform, d.takv.os, d.takv.version = (
        'SAMSUNG SM-G998U', 'ATAK-CIV', '31', '4.8.1.5')
    d.contact.endpoint, d.contact.callsign = '*:-1:stcp', 'VIPER 1'
    d.precisionLocation.geopointsrc, d.precisionLocation.altsrc = 'GPS', 'GPS'
    d.group.name, d.group.role = 'Cyan', 'Team Member'
    d.status.battery = 88
    d.track.course, d.track.speed = 274.1, 0.0
    d.xmlDetail = '<uid Droid="VIPER 1"/>'
    out.append(m.SerializeToString())
    # xmlDetail names contact and track: its copies win
    m, e = ev(caveat='REL TO USA, JPN', releaseableTo='USA,JPN')
    e.detail.contact.callsign = 'TYPED'
    e.detail.track.speed = 1.0
    e.detail.status.battery = 4294967295
    e.detail.xmlDetail = ('<contact callsign="XML"/><track course="1" speed="2"/>'
                          '<sub><takv device="deep"/></sub>')
    out.append(m.SerializeToString())
    # the 4.10 markings, every form
    for acc, cav, rel in (('SECRET//REL TO USA, KOR', 'NOFORN', 'USA KOR'),
                          ('TOP SECRET//NOFORN', '', 'TRILAT,GBR'),
                          ('u//fouo', 'REL TO FVEY//REL TRILAT', ''),
                          ('S//REL TO FVEY//REL TRILAT', 'NF//FOUO', 'fvey, , jpn'),
                          ('C', 'REL TO USA', 'KOR'),
                          ('TOP  SECRET', 'REL USA,KOR', 'XYZ ABCD'),
                          ('S//REL TO', 'SECRET', 'U$A'),
                          ('', '', 'USA'),
                          ('S//REL TO G20, USA', '', 'G20 GBR')):  # a group, not a trigraph
        m, e = ev(access=acc, caveat=cav, releaseableTo=rel)
        out.append(m.SerializeToString())
    # TakControl alongside, and alone (tak_control)
    m, e = ev(access='S//REL TO USA, KOR, JPN')
    m.takControl.minProtoVersion = 1
    m.takControl.maxProtoVersion = 1
    m.takControl.contactUid = 'ANDROID-1'
    m.submissionTime = T0
    m.creationTime = T0 + 1
    out.append(m.SerializeToString())
    c = pb.TakMessage()
    c.takControl.minProtoVersion = 1
    c.takControl.maxProtoVersion = 1
    out.append(c.SerializeToString())
    # legacy: 16 and 17 as timestamps
    lm = legacy.TakMessage()
    le = lm.cotEvent
    le.type, le.uid, le.how = 'a-h-A-W-M-S-S', 'LEGACY-1', 'm-r'
    le.staleTime = T0
    le.access = 'SECRET//REL TO USA, KOR'
    le.submissionTime = T0
    le.creationTime = T0 + 5
    le.detail.xmlDetail = '<remarks>legacy</remarks>'
    out.append(lm.SerializeToString())
    # escapes in every string the XML writes
    m, e = ev(uid='u&<>"\'\t\n\r x', how='m-r "q"', qos='1-r-c', opex='e-\u00e9',
              access='S//REL TO USA,\tKOR', releaseableTo='USA\tKOR')
    e.detail.contact.callsign = 'a"b<c>&\r\n'
    e.detail.takv.device = '\t\u2192\U0001f680'
    e.detail.group.name = ']]>'
    e.detail.xmlDetail = '<remarks>line\r\nend &#13;</remarks><x a="&gt;&quot;"/>'
    out.append(m.SerializeToString())
    # numbers and times at their edges
    for lat, lon, hae, ce, le_ in ((90.0, -180.0, -0.0, 0.0, 0.0),
                                   (-90.0, 180.0, 1.7976931348623157e308, 5e-324, 1e-320),
                                   (0.1 + 0.2, -0.0, -1e300, 1e22, 1e23),
                                   (89.99999999999999, 179.99999999999997, 123456789.12345679,
                                    2.2250738585072014e-308, 4.9406564584124654e-10)):
        m, e = ev(lat=lat, lon=lon, hae=hae, ce=ce, le=le_, access='S')
        e.detail.track.speed = hae if hae > 0 else 0.0
        e.detail.track.course = 360.0 if lat > 0 else 359.99999999999994
        out.append(m.SerializeToString())
    for t in (0, 253402300799999, 951782400000, 4107542399999):
        m, e = ev(sendTime=t, startTime=t, staleTime=t)
        out.append(m.SerializeToString())
    # near the largest payload: a long xmlDetail
    m, e = ev(access='SECRET//REL TO USA, KOR, JPN', releaseableTo='TRILAT')
    e.detail.contact.callsign = 'BIG'
    filler = ''.join(f'<sensor id="s{i}" fov="{i % 360}"><note>&#x{0x41 + i % 26:x};'
                     f'{"x" * (i % 50)}</note></sensor>' for i in range(700))
    e.detail.xmlDetail = '<remarks>' + 'EXERCISE &amp; ' * 250 + '</remarks>' + filler
    b = m.SerializeToString()
    while len(b) + 3 > 65507:
        e.detail.xmlDetail = e.detail.xmlDetail[:e.detail.xmlDetail.rfind('<sensor')]
        b = m.SerializeToString()
    out.append(b)
    # every typed string at its bound, escaped: the XML over 65,507 bytes
    m, e = ev(uid='&' * 256, type='<' * 256, how='>' * 256, access='S', qos='"' * 256,
              opex='\t' * 256, caveat='FOUO', releaseableTo='USA')
    d = e.detail
    for sub, names in ((d.contact, ('endpoint', 'callsign')), (d.group, ('name', 'role')),
                       (d.precisionLocation, ('geopointsrc', 'altsrc')),
                       (d.takv, ('device', 'platform', 'os', 'version'))):
        for n in names:
            setattr(sub, n, '&' * 256)
    for n in (40000, 46500, 47000, 50000):  # the XML under 65,507, just over, over 65,535
        d.xmlDetail = '<x>' + 'y' * n + '</x>'
        out.append(m.SerializeToString())
    return out


def hostile():
    ok = event_fields()
    out = [
        b'', b'\x12', b'\x12\x85', b'\x92', b'\x12\x7f' + ok[:20],
        ld(2, ok)[:-1],                               # a length past the end
        msg(ok + key(6, 0) + b'\xff' * 10 + b'\x01'),  # an 11-byte varint
        msg(ok + key(6, 0) + b'\xff' * 9 + b'\x02'),   # a 10th byte over 1
        msg(ok + key(3, 0) + b'\xff' * 9 + b'\x01'),   # the largest varint, unknown field
        msg(ok) + b'\x80\x80\x80\x80\x10\x00',          # a key over 2^32
        msg(ok) + b'\x02\x00',                          # field number 0
        msg(ok) + b'\x0b' * 2000 + b'\x0c' * 2000,      # groups nesting deep
        msg(ok + b'\x9b\x06' * 500 + b'\x9c\x06' * 500),  # inside the event
        msg(ok + ld(15, b'\x13' * 100 + b'\x14' * 100)),  # inside the detail
        msg(ok) + key(20, 6) + b'\x00', msg(ok) + key(20, 7),
        msg(ok + vi(16, T0) + ld(16, 'NOFORN')),        # both field-16 wire types
        msg(ok + ld(16, 'NOFORN') + vi(16, T0)),
        msg(ok + f64(16, 1.0)), msg(ok + f32(17, 1)), msg(ok + vi(17, 1) + ld(17, 'USA')),
        msg(ok + ld(2, 'S') + ld(2, 'S')),               # duplicated markings
        msg(ok + ld(2, '') + ld(2, 'U')),
        msg(ok + ld(16, 'FOUO') + ld(16, 'FOUO')),
        msg(ok + ld(17, 'USA') + ld(17, 'KOR')),
        msg(ok + vi(2, 1)),
        msg(ok) + msg(ok),                               # duplicated cotEvent
        msg(ok + ld(15, b'') + ld(15, b'')),             # duplicated detail
        msg(ok + ld(15, ld(2, b'') + ld(2, b''))),       # duplicated contact
        msg(ok + ld(15, ld(7, b'') + ld(7, b''))),
        ld(1, b'') + ld(1, b'') + msg(ok),               # duplicated takControl
        msg(ok + f64(10, float('nan')) + f64(10, 1.0)),  # NaN lat, then a valid one
        msg(ok + f64raw(11, b'\x00\x00\x00\x00\x00\x00\xf0\x7f')),
        msg(ok + f64raw(12, b'\x00\x00\x00\x00\x00\x00\xf0\xff')),
        msg(ok + f64raw(12, b'\x01\x00\x00\x00\x00\x00\xf8\xff')),
        msg(ok + f64(13, -1.0)), msg(ok + f64(14, -5e-324)), msg(ok + f64(10, 90.00000000000001)),
        msg(ok + ld(15, ld(7, f64(1, -1.0)))), msg(ok + ld(15, ld(7, f64(2, 360.00000000000006)))),
        msg(ok + ld(15, ld(7, f64raw(1, b'\x00' * 6 + b'\xf8\x7f')))),
        msg(ok + f32(10, 0)), msg(ok + vi(5, 7)), msg(ok + vi(15, 1)), msg(ok) + ld(3, 'x'),
        msg(ok + vi(6, 253402300800000)), msg(ok + vi(8, 2 ** 64 - 1)),
        msg(ok + ld(15, ld(5, vi(1, 2 ** 32)))), ld(1, vi(1, 2 ** 32)) + msg(ok),
        msg(ok + ld(5, b'')),                            # uid empty: missing
        msg(ld(5, 'u') + ld(9, 'h')),                    # no type
        ld(1, ld(3, 'x')),                               # TakControl alone
        ld(1, ld(3, b'\xff')),
        msg(ok + ld(5, b'\xc0\x80')), msg(ok + ld(5, b'\xed\xa0\x80')),
        msg(ok + ld(5, b'\xef\xbf\xbe')), msg(ok + ld(5, b'a\x00b')), msg(ok + ld(1, b'\x7f\x1f')),
        msg(ok + ld(5, 'u' * 257)), msg(ok + ld(5, 'u' * 256)),
        msg(ok + ld(15, ld(2, ld(2, 'c' * 257)))),
        msg(ok + ld(15, ld(1, b'\xff\xfe'))),
        msg(ok + ld(15, ld(1, '<a>'))), msg(ok + ld(15, ld(1, '</detail>'))),
        msg(ok + ld(15, ld(1, '<!DOCTYPE x>'))), msg(ok + ld(15, ld(1, '<?pi x?>'))),
        msg(ok + ld(15, ld(1, '<a>' * 14 + '</a>' * 14))),
        msg(ok + ld(15, ld(1, '<a>' * 15 + '</a>' * 15))),
        msg(ok + ld(15, ld(1, '<link/>' * 9))),
        msg(ok + ld(15, ld(1, '<contact/>') + ld(2, b''))),
        msg(ok + ld(15, ld(1, '<contact/><contact/>'))),
        msg(ok + ld(15, ld(1, '<remarks><b/></remarks>'))),
        msg(ok + ld(15, ld(1, 'text &amp') + ld(2, b''))),
        msg(ok + ld(15, ld(1, ']]') + ld(7, b''))),
        msg(ok + ld(15, ld(1, '<!-- x') + ld(7, b''))),
        msg(ok + ld(15, ld(1, '<track/>') + ld(1, b''))),  # xmlDetail, then an empty one
        msg(ok + ld(15, ld(1, '<track>') + ld(7, b''))),
        msg(ok + ld(15, ld(1, '<tracks/><_track/>') + ld(7, b''))),
        msg(ok + ld(15, ld(1, '<track a=">"/>') + ld(7, b''))),
        msg(ok + ld(15, ld(99, 'unknown') + f32(98, 1) + f64(97, 1.0))),
        msg(ok + ld(99, b'\x0b\x0c')) + ld(99, b'\xff'),
        # overlong keys and lengths (read by value)
        b'\x92\x00' + varint(len(ok)) + ok,
        b'\x12' + bytes([(len(ok) & 0x7f) | 0x80, (len(ok) >> 7) | 0x80, 0]) + ok,
    ]
    return out


def raw():
    xml = (b'<event version="2.0" uid="X-1" type="a-h-A-W-M-S-S" how="m-r" '
           b'time="2024-05-01T12:00:00Z" start="2024-05-01T12:00:00Z" '
           b'stale="2024-05-01T12:00:30Z" access="S//REL TO USA, KOR">'
           b'<point lat="1" lon="2" hae="3" ce="4" le="5"/></event>')
    return [HDR + xml, b'\xbf' + xml, b'\xbf\x00\xbf' + xml, b'\xbf\x02\xbf' + xml,
            b'\xbf\x81\x00\xbf' + xml, b'\xbf\x01', b'\xbf', b'\xbf\x01\xbf',
            b'\xbf\x00\xbf\xbf\x01\xbf' + xml, b'\xbf' + varint(len(xml)) + xml]


# ---- token streams (fuzz_takproto.c) ----

# Which fields of which message are messages (by the schema).
SUB = {'TakMessage': {1: 'TakControl', 2: 'CotEvent'}, 'CotEvent': {15: 'Detail'},
       'Detail': {2: 'Contact', 3: 'Group', 4: 'PrecisionLocation', 5: 'Status',
                  6: 'Takv', 7: 'Track'}}


def read_varint(b, i):
    v = s = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7f) << s
        s += 7
        if c < 0x80:
            return v, i


def tokens(b, kind='TakMessage'):
    """The token stream of a well-formed message whose field numbers are
    below 32; None if it cannot be written as one."""
    out, i = bytearray(), 0
    while i < len(b):
        k, j = read_varint(b, i)
        num, wt = k >> 3, k & 7
        if num >= 32:
            return None
        i = j
        out.append(num << 3 | wt)
        if wt == 0:
            _, j = read_varint(b, i)
            out += b[i:j]
            i = j
        elif wt in (1, 5):
            n = 8 if wt == 1 else 4
            out += b[i:i + n]
            i += n
        elif wt == 2:
            n, i = read_varint(b, i)
            data = b[i:i + n]
            i += n
            sub = SUB.get(kind, {}).get(num)
            if sub:
                t = tokens(data, sub)
                if t is None:
                    return None
                out += b'\x80' + t + b'\x07'
            elif n < 0x7f:
                out += bytes([n]) + data
            else:
                out += b'\x7f' + struct.pack('>H', n) + data
        else:
            return None
    return bytes(out)


def messages(top):
    """Valid v1 payloads (header included), for other seed writers."""
    pb, legacy = _compile(top)
    return [HDR + m for m in valid(pb, legacy)]


def main():
    top, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)

    def put(data):
        with open(os.path.join(out, hashlib.sha1(data).hexdigest()[:16]), 'wb') as f:
            f.write(data)

    pb, legacy = _compile(top)
    good = valid(pb, legacy)
    for m in good + hostile():
        put(m)
        try:
            t = tokens(m) if len(m) < 60000 else None
        except IndexError:  # not well-formed: no token stream
            t = None
        if t is not None:
            put(b'\xff' + t)
    for m in raw():
        put(m)
    for m in good:
        put(HDR + m)  # raw: the header and the message
    # the token stream's own forms: a message opened with an overlong length,
    # groups and unknown wire types as keys, a close with nothing open
    put(b'\xff\x12\xc0' + tokens(event_fields()) + b'\x07\x07\x07')
    put(b'\xff\x13\x14\x16\x12\x80\x0a\x01a\x2a\x01u\x4a\x01h\x7a\x80\x12\x80\x12\x01c')


if __name__ == '__main__':
    main()
