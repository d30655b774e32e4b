#!/usr/bin/python3
"""check_headers.py POLICY PEER=PCAP... - every frame a peer received carries
exactly the header the policy gives that peer: MACs, optional VLAN, IP version
and addresses, TTL/hop limit, DSCP, UDP ports, a valid IPv4 header checksum,
fragments no larger than the peer MTU, and (once fragments are put back
together) a datagram whose UDP length and checksum are right.

Reads headers with scapy, independently of the dataplane's header code.
Prints one line per peer; exits 1 on the first kind of error found."""
import sys
from collections import defaultdict

import yaml
from scapy.all import PcapReader, Ether, Dot1Q, IP, IPv6, UDP, IPv6ExtHdrFragment, raw
from scapy.utils import checksum


def fail(msg):
    print("check_headers: " + msg)
    sys.exit(1)


def ones_sum_ok(pseudo, udp_bytes):
    data = pseudo + udp_bytes
    if len(data) % 2:
        data += b"\0"
    return checksum(data) == 0


def check_peer(peer, path):
    h = peer["header"]
    vlan = h.get("vlan")
    mtu = peer.get("mtu", 1500)
    frags = defaultdict(list)  # (src, dst, id) -> [(offset, more, bytes)]
    datagrams = []
    frames = 0
    for pkt in PcapReader(path):
        frames += 1
        if not isinstance(pkt, Ether):
            fail(f"{peer['name']}: frame {frames} is not Ethernet")
        if pkt.src != h["src_mac"].lower() or pkt.dst != h["dst_mac"].lower():
            fail(f"{peer['name']}: frame {frames}: MACs {pkt.src} -> {pkt.dst}")
        inner = pkt.payload
        if vlan is not None:
            if not isinstance(inner, Dot1Q) or inner.vlan != vlan:
                fail(f"{peer['name']}: frame {frames}: wanted VLAN {vlan}")
            inner = inner.payload
        elif isinstance(inner, Dot1Q):
            fail(f"{peer['name']}: frame {frames}: unexpected VLAN tag")
        l3_bytes = raw(inner)
        if len(l3_bytes) > mtu:
            fail(f"{peer['name']}: frame {frames}: {len(l3_bytes)} bytes of IP over MTU {mtu}")
        if ":" in str(h["dst_ip"]):
            if not isinstance(inner, IPv6):
                fail(f"{peer['name']}: frame {frames}: wanted IPv6")
            ip = inner
            if ip.src != str(h["src_ip"]) or ip.dst != str(h["dst_ip"]):
                fail(f"{peer['name']}: frame {frames}: addresses {ip.src} -> {ip.dst}")
            if ip.hlim != h.get("ttl", 64) or ip.tc >> 2 != h.get("dscp", 0):
                fail(f"{peer['name']}: frame {frames}: hop limit/traffic class")
            body = bytes(ip.payload)
            if ip.nh == 44:
                fh = ip[IPv6ExtHdrFragment]
                key = (ip.src, ip.dst, fh.id)
                frags[key].append((fh.offset * 8, fh.m, bytes(fh.payload)))
                continue
            datagrams.append((6, ip.src, ip.dst, body))
        else:
            if not isinstance(inner, IP):
                fail(f"{peer['name']}: frame {frames}: wanted IPv4")
            ip = inner
            if ip.src != str(h["src_ip"]) or ip.dst != str(h["dst_ip"]):
                fail(f"{peer['name']}: frame {frames}: addresses {ip.src} -> {ip.dst}")
            if ip.ttl != h.get("ttl", 64) or ip.tos >> 2 != h.get("dscp", 0):
                fail(f"{peer['name']}: frame {frames}: ttl/tos")
            hdr = l3_bytes[: ip.ihl * 4]
            if checksum(hdr) != 0:
                fail(f"{peer['name']}: frame {frames}: bad IPv4 header checksum")
            body = l3_bytes[ip.ihl * 4: ip.len]
            if ip.flags.MF or ip.frag:
                frags[(ip.src, ip.dst, ip.id)].append((ip.frag * 8, bool(ip.flags.MF), body))
                continue
            datagrams.append((4, ip.src, ip.dst, body))
    for key, parts in frags.items():
        parts.sort()
        buf, want = b"", 0
        for off, more, data in parts:
            if off != want:
                fail(f"{peer['name']}: fragments of {key} leave a hole at {want}")
            buf += data
            want += len(data)
        if parts[-1][1]:
            fail(f"{peer['name']}: fragments of {key} never end")
        datagrams.append((6 if ":" in key[0] else 4, key[0], key[1], buf))
    for ver, src, dst, udp in datagrams:
        u = UDP(udp)
        if u.sport != h["src_port"] or u.dport != h["dst_port"]:
            fail(f"{peer['name']}: UDP ports {u.sport} -> {u.dport}")
        if u.len != len(udp):
            fail(f"{peer['name']}: UDP length {u.len} for {len(udp)} bytes")
        if ver == 4:
            import socket
            pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + bytes([0, 17]) + len(udp).to_bytes(2, "big")
        else:
            import socket
            pseudo = socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) + \
                len(udp).to_bytes(4, "big") + bytes([0, 0, 0, 17])
        if u.chksum == 0 or not ones_sum_ok(pseudo, udp):
            fail(f"{peer['name']}: bad UDP checksum on a {len(udp)}-byte datagram")
    print(f"check_headers: {peer['name']}: {frames} frames, {len(datagrams)} datagrams "
          f"({len(frags)} reassembled), headers ok")


def main():
    pol = yaml.safe_load(open(sys.argv[1]))
    peers = {p["name"]: p for p in pol["peers"]}
    for arg in sys.argv[2:]:
        name, path = arg.split("=", 1)
        check_peer(peers[name], path)


if __name__ == "__main__":
    main()
