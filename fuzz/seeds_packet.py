#!/usr/bin/python3
# fuzz/seeds_packet.py [--trains] OUT_DIR PCAP... - seed inputs for
# fuzz_packet (the operation format at the top of fuzz/fuzz_packet.c), or with
# --trains for fuzz_reassembly (the trains alone), from the project's own test
# traffic and the traffic an attacker on a link would send:
#   - the pcaps' frames as FRAME operations on both links and queues, in
#     windows of consecutive frames so that fragments meet their siblings;
#   - an early warning the demo policy releases, fragmented as TRAINs: IPv4
#     and IPv6, in order and reversed, small and 16 KiB pieces, up to the
#     largest message an IPv4 datagram can carry;
#   - damaged trains: a bad checksum, a piece twice, overlapping pieces;
#   - fragment floods: datagrams held without their last piece, then a
#     duplicate first piece of each, on one link and on both links at once
#     (as much as one pass of a worker can take); a table-filling flood; a
#     timeout;
#   - TAK Protocol v1 messages (fuzz/seeds_takproto.py's valid ones, written
#     from tests/proto): whole frames on kor-us (both encodings: decoded,
#     released as received to jpn and converted to XML for usa) and on
#     jpn-us (XML only: `encoding`), IPv4 and IPv6, then fragmented.
import hashlib
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seeds_takproto  # noqa: E402

trains_only = sys.argv[1] == '--trains'
args = sys.argv[2:] if trains_only else sys.argv[1:]
out, pcaps = args[0], ([] if trains_only else args[1:])
os.makedirs(out, exist_ok=True)

F_V6, F_BAD, F_NO_LAST, F_FIRST_ONLY, F_REVERSE, F_DUP, F_OVERLAP, F_SPREAD = (
    1 << i for i in range(8))


def put(data):
    with open(os.path.join(out, hashlib.sha1(data).hexdigest()[:16]), 'wb') as f:
        f.write(data)


def read_pcap(path):
    with open(path, 'rb') as f:
        b = f.read()
    endian = '<' if struct.unpack('<I', b[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    off, frames = 24, []
    while off + 16 <= len(b):
        incl = struct.unpack(endian + 'IIII', b[off:off + 16])[2]
        off += 16
        frames.append(b[off:off + incl])
        off += incl
    return frames


def frame(fr, pq=0, first=0):
    return bytes([0, pq]) + struct.pack('>H', len(fr) & 0x7fff) + bytes([first]) + fr


def train(payload, pq=0, flags=0, count=1, fs=1480, tl=None, dgid=1, ulen=0, first=0):
    """tl: the UDP payload bytes (default: the payload's own length)."""
    tl = len(payload) if tl is None else tl
    nf = max(2, -(-(tl + 8) // fs))
    last = tl + 8 - (nf - 1) * fs
    return (bytes([1, pq, flags, count - 1]) + struct.pack('>HBH', fs // 8, nf, last) +
            struct.pack('>HHH', dgid, ulen, len(payload)) + bytes([first]) + payload)


def csum(b):
    if len(b) & 1:
        b += b'\0'
    s = sum(struct.unpack('>%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def udp_frame(payload, v6=False, vlan=None):
    """One Ethernet frame: UDP 40000 -> 6969 with its checksum right."""
    ulen = 8 + len(payload)
    eth = b'\x02\0\0\0\0\x01' + b'\x02\0\0\0\0\x02'
    if vlan is not None:
        eth += struct.pack('>HH', 0x8100, vlan)
    if v6:
        src = bytes([0xfd, 0, 0, 0x10] + [0] * 11 + [1])
        dst = bytes([0xfd, 0, 0, 0x20] + [0] * 11 + [1])
        ph = src + dst + struct.pack('>IxxxB', ulen, 17)
        ip = struct.pack('>IHBB', 0x60000000, ulen, 17, 64) + src + dst
        eth += b'\x86\xdd'
    else:
        src, dst = bytes([198, 51, 100, 7]), bytes([192, 0, 2, 1])
        ph = src + dst + struct.pack('>xBH', 17, ulen)
        ip = struct.pack('>BBHHHBBH', 0x45, 0, 20 + ulen, 1, 0, 64, 17, 0) + src + dst
        ip = ip[:10] + struct.pack('>H', 0xffff ^ csum(ip)) + ip[12:]
        eth += b'\x08\x00'
    udp = struct.pack('>HHHH', 40000, 6969, ulen, 0)
    ck = 0xffff ^ csum(ph + udp + payload)
    udp = udp[:6] + struct.pack('>H', ck or 0xffff)
    return eth + ip + udp + payload


def poll(n=0):
    return bytes([2, n])


def tick(n):
    return bytes([3]) + struct.pack('>H', n)


for path in pcaps:
    frames = read_pcap(path)
    for i in range(0, min(len(frames), 32), 8):
        put(b''.join(frame(fr, (i // 8 + k) % 4) for k, fr in enumerate(frames[i:i + 8])))
    for k, fr in enumerate(frames[:12]):
        put(frame(fr, k % 4, 0 if k % 3 else 42))

# An early warning the demo policy releases to every peer, as in
# tests/integration/test_udp_checksum.sh.
event = (b'<event version="2.0" uid="SEED-1" type="a-h-A-W-M-S-S" how="m-r" '
         b'time="2024-05-01T12:00:00.000Z" start="2024-05-01T12:00:00.000Z" '
         b'stale="2024-05-01T12:00:30.000Z" access="S//REL TO USA, KOR, JPN">'
         b'<point lat="38.9" lon="127.0" hae="25000.0" ce="500.0" le="800.0"/>'
         b'<detail><track course="135.5" speed="1700.0"/><remarks>seed</remarks></detail>'
         b'</event>')

# the early warning, fragmented (payload b'': the harness's own copy)
for flags in (0, F_V6, F_REVERSE, F_V6 | F_REVERSE):
    put(train(b'', flags=flags, tl=len(event) + 2000))
    put(train(b'', pq=3, flags=flags, tl=len(event) + 2000, fs=512, first=60))
put(train(event, tl=len(event) + 3000, fs=1480))
put(train(event, pq=1, flags=F_V6, tl=len(event) + 3000, fs=1480))
# the largest messages: 51,152 UDP bytes in four pieces, and the most an
# IPv4 datagram can carry (65,507)
for flags in (0, F_V6):
    put(train(b'', flags=flags, tl=51144, fs=16384))
    put(train(b'', flags=flags, tl=65507, fs=16384))
put(train(b'', tl=30000, fs=8192) + poll() + train(b'', pq=1, tl=30000, fs=8192, dgid=7))
# damaged: a bad checksum, a piece twice, overlapping pieces
for flags in (F_BAD, F_DUP, F_OVERLAP, F_V6 | F_DUP, F_V6 | F_OVERLAP, F_V6 | F_BAD):
    put(train(b'', flags=flags, tl=len(event) + 2000, fs=512))
# floods on one link: datagrams of 8 pieces held without the last, then a
# duplicate first piece of each
for flags in (0, F_V6):
    for count in (40, 64):
        held = train(b'', flags=flags | F_NO_LAST, count=count, fs=8, tl=56, dgid=100)
        dup = train(b'', flags=flags | F_FIRST_ONLY, count=count, fs=8, tl=56, dgid=100)
        put(held + dup)
        put(held + poll(20) + dup)
# floods on both links at once, as heavy as one pass of a worker over its
# two RX queues can take: 16 duplicates a link, 2 x 16 x 8 fragments freed
for flags in (0, F_V6):
    for a, b in ((16, 16), (8, 20), (12, 12)):
        put(train(b'', flags=flags | F_NO_LAST, count=40, fs=8, tl=56, dgid=100) +
            train(b'', pq=1, flags=flags | F_NO_LAST, count=40, fs=8, tl=56, dgid=200) +
            poll(30) +
            train(b'', flags=flags | F_FIRST_ONLY, count=a, fs=8, tl=56, dgid=100) +
            train(b'', pq=1, flags=flags | F_FIRST_ONLY, count=b, fs=8, tl=56, dgid=200))
# more datagrams than the table holds; incomplete ones timing out
put(train(b'', flags=F_NO_LAST, count=64, fs=8, tl=24, dgid=300) + poll(3) +
    train(b'', pq=1, flags=F_NO_LAST, count=64, fs=8, tl=24, dgid=900))
put(train(b'', flags=F_NO_LAST, count=3, fs=8, tl=56) + poll() + tick(100) + poll(2) +
    train(b'', tl=len(event) + 100, fs=256))

# TAK Protocol v1: whole frames (checksums kept: pq & 4), on kor-us (both
# encodings) and jpn-us (XML only), then fragmented
top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
v1 = seeds_takproto.messages(top)
small = [m for m in v1 if len(m) < 1400]
for k, m in enumerate(small):
    put(frame(udp_frame(m, v6=bool(k & 1), vlan=82 if k % 3 == 0 else None), 4 | (k & 2)))
    put(frame(udp_frame(m), 0, 44) + frame(udp_frame(m), 1) + poll())
put(b''.join(frame(udp_frame(m), 4 | (k & 3)) for k, m in enumerate(small[:16])))


def piece(n, want):
    """A fragment size near `want` (a multiple of 8) that cuts an n-byte
    payload's datagram into 2..32 pieces."""
    fs = max(want, -(-(n + 8) // 32 + 7) // 8 * 8)
    return min(fs, max(8, (n + 7) // 2 // 8 * 8))


for k, m in enumerate(v1):
    if trains_only and k % 3:
        continue
    fs = piece(len(m), 64 if len(m) < 600 else 1480 if len(m) < 20000 else 16384)
    put(train(m, flags=(F_V6 if k & 1 else 0) | (F_REVERSE if k & 2 else 0), fs=fs, dgid=50 + k))
    if len(m) < 20000:
        put(train(m, pq=3, fs=piece(len(m), 128), first=60, dgid=60 + k) + poll() +
            train(m, pq=1, flags=F_V6, fs=piece(len(m), 256), dgid=70 + k))
