#!/usr/bin/python3
"""explain_vs_audit.py - does `tgctl explain` give the dataplane's decisions?

Compares the audit log of a trackgate run (--audit-level all: one record per
message) with `tgctl explain --pcap IN --link L --json` of each link's input
capture.  One worker keeps each port's order, so the records of link L, in
file order, pair with explain's messages of L, in order.  Every key the
audit record has must be equal (the time aside); the records must be as many
as the messages.  Prints one line per link and the differences; exit 1 on any.

usage: explain_vs_audit.py --audit AUDIT.jsonl --explain LINK=EXPLAIN.jsonl ...
"""
import argparse
import json
import sys

# every key of a decision record but when it was written and the generation
# (explain's policy is not a published one: it is always generation 1)
IGNORED = {"time", "generation"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--audit", required=True)
    ap.add_argument("--explain", action="append", required=True, metavar="LINK=FILE")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()

    audit = {}
    for line in open(a.audit):
        r = json.loads(line)
        if "count" in r:  # a summary (no policy yet): not a message
            continue
        audit.setdefault(r.get("link"), []).append(r)
    bad = []
    total = agree = 0
    for spec in a.explain:
        link, _, path = spec.partition("=")
        mine = [json.loads(l) for l in open(path)]
        msgs = [m for m in mine if "message" in m]
        recs = audit.pop(link, [])
        if len(msgs) != len(recs):
            bad.append(f"{link}: explain has {len(msgs)} messages, the audit log {len(recs)}")
        for i, (m, r) in enumerate(zip(msgs, recs)):
            total += 1
            diff = []
            for k in sorted((set(r) | {"decision", "reason", "released_to", "withheld",
                                       "rules", "uid", "type", "encoding"}) - IGNORED):
                rv, mv = r.get(k), m.get(k)
                if k == "released_to":
                    rv, mv = sorted(rv or []), sorted(mv or [])
                if rv != mv:
                    diff.append(f"{k}: dataplane {rv!r} explain {mv!r}")
            if diff:
                bad.append(f"{link} message {i + 1} (frame {m.get('frame')}, uid "
                           f"{r.get('uid')!r}): " + "; ".join(diff))
            else:
                agree += 1
            for peer, why in (r.get("withheld") or {}).items():
                if why in ("peer_down", "tx_full", "no_mbuf"):
                    bad.append(f"{link} message {i + 1}: {peer} {why}: not a decision")
        if not a.quiet:
            print(f"{link}: {len(msgs)} messages explained, {len(recs)} audited")
    for link, recs in audit.items():
        bad.append(f"{link}: {len(recs)} audit records and no explain output")
    for b in bad[:40]:
        print("# " + b)
    if len(bad) > 40:
        print(f"# ... {len(bad) - 40} more")
    print(f"explain agrees with the dataplane on {agree} of {total} messages")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
