"""events.py - CoT events for the integration tests, as CoT XML and as TAK
Protocol v1, with the fields a test varies and the rest fixed (the times of
2024-05-01T12:00Z, a missile-warning type, how m-r).  One writer for the
tests that build events by hand (test_controls.sh, test_explain.sh,
test_sanitize.sh); the v1 encoding uses the oracle's field writers
(tests/oracle/takproto.py), which tests/oracle/test_takproto_oracle.py
checks against python3-protobuf.

    import sys; sys.path.insert(0, SRC + "/tests/integration"); import events
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracle"))
from takproto import f_double, f_len, f_varint  # noqa: E402

TYPE = "a-h-A-W-M-S-S"
TIMES = ('time="2024-05-01T12:00:00Z" start="2024-05-01T12:00:00Z" '
         'stale="2024-05-01T12:01:00Z"')
T_MS, STALE_MS = 1714564800000, 1714564860000


def xml(uid, access, caveat=None, detail=None, lat="1", lon="1", ce="0"):
    """<event> with access (and caveat), a point, and <detail>detail</detail>
    when detail is not None."""
    cav = f' caveat="{caveat}"' if caveat is not None else ""
    det = f"<detail>{detail}</detail>" if detail is not None else ""
    return (f'<event version="2.0" uid="{uid}" type="{TYPE}" how="m-r" {TIMES} '
            f'access="{access}"{cav}><point lat="{lat}" lon="{lon}" hae="0" ce="{ce}" '
            f'le="0"/>{det}</event>').encode()


def v1(uid, access, caveat=None, xml_detail=None, typed=b"", lat=1.0, lon=1.0, hae=None,
       ce=None, le=None):
    """The same as a TakMessage (0xbf 0x01 0xbf, cotEvent): caveat as field
    16, hae/ce/le written when given (proto3: absent is 0), a Detail when
    xml_detail or typed (Detail's encoded typed fields) is given."""
    ev = (f_len(1, TYPE) + f_len(2, access) + f_len(5, uid) + f_varint(6, T_MS)
          + f_varint(7, T_MS) + f_varint(8, STALE_MS) + f_len(9, "m-r")
          + f_double(10, lat) + f_double(11, lon))
    for field, v in ((12, hae), (13, ce), (14, le)):
        if v is not None:
            ev += f_double(field, v)
    if xml_detail is not None or typed:
        ev += f_len(15, (f_len(1, xml_detail) if xml_detail else b"") + typed)
    if caveat is not None:
        ev += f_len(16, caveat)
    return b"\xbf\x01\xbf" + f_len(2, ev)


def frames(payloads, src="198.51.100.7", dport=6969):
    """Ethernet/IPv4/UDP frames to the demo's kor-us link, one per payload."""
    from scapy.all import Ether, IP, UDP
    return [Ether() / IP(src=src, dst="192.0.2.1", id=i + 1) / UDP(sport=4000, dport=dport) / pl
            for i, pl in enumerate(payloads)]
