# SPDX-License-Identifier: BSD-3-Clause
"""tgpcap - pcap reading, L2/L3/L4 decoding and IP reassembly for the oracle.

Written from docs/release.md section 1 alone; shares nothing with the C
dataplane.  Pure struct parsing (no scapy on the hot path) so a million-frame
capture is read in seconds, not hours.

What it yields per input file: ("udp", datagram) for every complete UDP
datagram, ("drop", reason) for every frame or datagram that is not one, and,
at the end, ("drop", "frag_unfinished") per datagram whose fragments never
completed.  A datagram is (src_ip, dst_ip, sport, dport, payload).
"""

import struct

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
ETH_VLAN = 0x8100
ETH_QINQ = (0x88A8, 0x9100, 0x9200)


def read_pcap(path):
    """Yield the bytes of every record of a classic pcap (Ethernet) file."""
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            raise ValueError(f"{path}: not a pcap file (short header)")
        magic = hdr[:4]
        if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            endian = "<"
        elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
            endian = ">"
        else:
            raise ValueError(f"{path}: not a classic pcap file (pcapng is not supported)")
        linktype = struct.unpack(endian + "I", hdr[20:24])[0] & 0x0FFFFFFF
        if linktype != 1:
            raise ValueError(f"{path}: link type {linktype}, want 1 (Ethernet)")
        rec = struct.Struct(endian + "IIII")
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            _, _, caplen, _ = rec.unpack(h)
            data = f.read(caplen)
            if len(data) < caplen:
                return
            yield data


class Reassembler:
    """IPv4/IPv6 fragment reassembly as docs/release.md §1 says, unbounded
    (the oracle has no table limit and no clock: the dataplane's bounded
    table may also count frag_table_full and frag_timeout).

    A datagram is built from at most 8 fragments: one at offset 0, one
    without "more fragments", 6 between.  It is complete once the lengths
    of its pieces add up to the last one's end and a first one is there,
    and then must join exactly; a duplicate first or last piece, a seventh
    middle one, lengths adding up to more than the end, or pieces that do
    not join make it inconsistent (frag_overlap), whatever the bytes.  An
    empty piece, or a piece with more to come whose length is not a
    multiple of 8, is refused on its own (frag_error)."""

    MIDDLE_MAX = 6

    def __init__(self):
        self.pending = {}

    def add(self, key, offset, more, data):
        """Returns the whole L4 datagram once complete, None while pending,
        or a drop reason: "frag_error" for this piece, "frag_overlap" or
        "frag_bad_length" for its datagram."""
        if not data or (more and len(data) % 8):
            return "frag_error"
        ent = self.pending.setdefault(key, {"parts": [], "size": 0, "end": None,
                                            "first": False, "middles": 0})
        if offset == 0:
            bad = ent["first"]
            ent["first"] = True
        elif not more:
            bad = ent["end"] is not None
            ent["end"] = offset + len(data)
        else:
            bad = ent["middles"] == self.MIDDLE_MAX
            ent["middles"] += 1
        if bad:
            del self.pending[key]
            return "frag_overlap"
        ent["parts"].append((offset, data))
        ent["size"] += len(data)
        if ent["end"] is None or ent["size"] < ent["end"]:
            return None
        del self.pending[key]
        if ent["size"] > ent["end"] or not ent["first"]:
            return "frag_overlap"
        pos, out = 0, []
        for off, piece in sorted(ent["parts"], key=lambda x: x[0]):
            if off != pos:
                return "frag_overlap"
            out.append(piece)
            pos += len(piece)
        return b"".join(out)

    def leftovers(self):
        n = len(self.pending)
        self.pending = {}
        return n


def _sum16(data):
    """One's-complement sum of 16-bit big-endian words, folded."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def udp_checksum_ok(src, dst, l4):
    """RFC 768 / RFC 8200 §8.1: the sum over the pseudo header and the whole
    datagram is 0xffff; a zero checksum is "none" over IPv4, invalid over
    IPv6 (docs/release.md §1)."""
    if struct.unpack("!H", l4[6:8])[0] == 0:
        return len(src) == 4
    if len(src) == 4:
        ph = src + dst + struct.pack("!BBH", 0, 17, len(l4))
    else:
        ph = src + dst + struct.pack("!IxxxB", len(l4), 17)
    return _sum16(ph + l4) == 0xFFFF


def _udp(src, dst, l4):
    if len(l4) < 8:
        return ("drop", "bad_l2l3")
    sport, dport, ulen = struct.unpack("!HHH", l4[:6])
    if ulen != len(l4):
        return ("drop", "bad_l2l3")
    return ("udp", (src, dst, sport, dport, l4[8:], udp_checksum_ok(src, dst, l4)))


def decode(frame, reasm):
    """Decode one Ethernet frame.  Returns ("udp", datagram), ("drop", reason)
    or None when the frame is a fragment of a datagram not yet complete."""
    if len(frame) < 14:
        return ("drop", "bad_l2l3")
    etype = struct.unpack("!H", frame[12:14])[0]
    off = 14
    if etype == ETH_VLAN:
        if len(frame) < 18:
            return ("drop", "bad_l2l3")
        etype = struct.unpack("!H", frame[16:18])[0]
        off = 18
        if etype == ETH_VLAN or etype in ETH_QINQ:
            return ("drop", "not_track")  # QinQ
    elif etype in ETH_QINQ:
        return ("drop", "not_track")
    ip = frame[off:]
    if etype == ETH_IPV4:
        if len(ip) < 20 or ip[0] >> 4 != 4:
            return ("drop", "bad_l2l3")
        ihl = (ip[0] & 0xF) * 4
        tot = struct.unpack("!H", ip[2:4])[0]
        if ihl < 20 or tot < ihl or tot > len(ip):
            return ("drop", "bad_l2l3")
        proto = ip[9]
        if proto != 17:
            return ("drop", "not_track")
        src, dst = ip[12:16], ip[16:20]
        fl = struct.unpack("!H", ip[6:8])[0]
        more, foff = bool(fl & 0x2000), (fl & 0x1FFF) * 8
        l4 = ip[ihl:tot]
        if more or foff:
            ident = struct.unpack("!H", ip[4:6])[0]
            r = reasm.add((4, src, dst, ident, proto), foff, more, l4)
            if r is None:
                return None
            if isinstance(r, str):
                return ("drop", r)
            if ihl + len(r) > 65535:  # more than an IPv4 datagram holds
                return ("drop", "frag_bad_length")
            l4 = r
        return _udp(src, dst, l4)
    if etype == ETH_IPV6:
        if len(ip) < 40 or ip[0] >> 4 != 6:
            return ("drop", "bad_l2l3")
        plen = struct.unpack("!H", ip[4:6])[0]
        if 40 + plen > len(ip):
            return ("drop", "bad_l2l3")
        nxt, src, dst = ip[6], ip[8:24], ip[24:40]
        body = ip[40 : 40 + plen]
        if nxt == 44:
            if len(body) < 8:
                return ("drop", "frag_error")
            inner = body[0]
            if inner != 17:
                return ("drop", "not_track")
            fo = struct.unpack("!H", body[2:4])[0]
            ident = struct.unpack("!I", body[4:8])[0]
            if fo >> 3 == 0 and not fo & 1:  # an "atomic" fragment (RFC 6946)
                return ("drop", "frag_error")
            r = reasm.add((6, src, dst, ident, inner), (fo >> 3) * 8, bool(fo & 1), body[8:])
            if r is None:
                return None
            if isinstance(r, str):
                return ("drop", r)
            if len(r) > 65535:  # more than an IPv6 payload length says
                return ("drop", "frag_bad_length")
            return _udp(src, dst, r)
        if nxt != 17:
            return ("drop", "not_track")
        return _udp(src, dst, body)
    return ("drop", "not_track")


def datagrams(path):
    """Yield ("udp", datagram) / ("drop", reason) for a whole pcap file."""
    reasm = Reassembler()
    for frame in read_pcap(path):
        r = decode(frame, reasm)
        if r is not None:
            yield r
    # never completed within the capture: the dataplane counts these as
    # frag_timeout, or frag_unfinished if it stops before they time out
    for _ in range(reasm.leftovers()):
        yield ("drop", "frag_unfinished")
