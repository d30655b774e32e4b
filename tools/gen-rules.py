#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""gen-rules.py - a large policy for scale tests: the demo policy plus N
generated rules.

    gen-rules.py --count 10|1000|10000 --base policy/demo.yaml --out FILE.yaml [--seed S]

Everything of the base policy is kept (settings, groups, links, peers and its
rules 100-302); N rules are appended with ids from 1000 up:

  ~45%  dirty-word literals, block (scope payload, remarks or callsign)
  ~15%  marking rules on made-up controls and nations, block
  ~15%  type classifiers: most never match, some put real tg-gen traffic in
        classes no peer receives (ground, air, neutral)
  ~25%  logical combinations over quiet operands (each combination plus its
        operands), block

The generated rules never change a release decision on tg-gen traffic: the
words, markings and types they look for are not in any tg-gen message, and
the classes they add are received by no peer.  So the oracle's expected
output with a generated policy equals the one with the base policy, and a
scale test measures cost, not behaviour.  Deterministic in --seed.
"""

import argparse
import random
import sys

import yaml

ADJ = ["AMBER", "COBALT", "CRIMSON", "DUSK", "EMBER", "FROST", "GRANITE", "HOLLOW",
       "IVORY", "JADE", "KINDLED", "LUNAR", "MOLTEN", "NORTHERN", "ONYX", "PALE", "QUIET",
       "RUSTED", "SILENT", "TIDAL", "UMBRAL", "VELVET", "WINTER", "XENON", "YELLOW", "ZEPHYR"]
NOUN = ["ANVIL", "BADGER", "CITADEL", "DAGGER", "EAGLE", "FALCON", "GARNET", "HARBOR",
        "ICICLE", "JACKAL", "KESTREL", "LOCUST", "MANTIS", "NEEDLE", "ORCHID", "PYLON",
        "QUARRY", "RAVEN", "SPARROW", "TRIDENT", "URCHIN", "VORTEX", "WARDEN", "YARROW"]
# Classes no demo peer receives: matching real traffic into these changes nothing.
SIDE_CLASSES = {"ground": r"^a-[fhnu]-G-", "air": r"^a-[fhnu]-A-[MC]-", "neutral": r"^a-n-"}


def codeword(rnd, n):
    """A made-up codeword tg-gen never emits (it always carries a number)."""
    return f"{rnd.choice(ADJ)} {rnd.choice(NOUN)} {n:05d}"


def gen(count, seed):
    rnd = random.Random(seed)
    rules, nid = [], 1000

    def add(**kw):
        nonlocal nid
        r = {"id": nid}
        r.update(kw)
        rules.append(r)
        nid += 1
        return r["id"]

    side_done = set()
    while len(rules) < count:
        left = count - len(rules)
        x = rnd.random()
        n = nid
        if x < 0.45 or left < 3:
            scope = rnd.choices(["payload", "remarks", "callsign"], [6, 3, 1])[0]
            word = codeword(rnd, n)
            if rnd.random() < 0.2:
                # a regex, not a literal: blanks may vary
                pat = word.replace(" ", r"\s+")
            else:
                pat = word
            add(name=f"dirty-{n}", scope=scope, match=pat,
                flags=["caseless", "single-match"], action={"block": "dirty-word"})
        elif x < 0.60:
            choice = rnd.randrange(3)
            if choice == 0:
                pat = rf"\bREL TO [A-Z, ]*\bX{chr(65 + n % 26)}{chr(65 + n // 26 % 26)}\b"
            elif choice == 1:
                pat = rf"//SCI-{n}\b"
            else:
                pat = rf"\bORCON-{n}\b"
            add(name=f"marking-{n}", scope="marking", match=pat, flags=["caseless"],
                action={"block": "foreign-control"})
        elif x < 0.75:
            side = [c for c in SIDE_CLASSES if c not in side_done]
            if side and rnd.random() < 0.5:
                c = side[0]
                side_done.add(c)
                add(name=f"class-{c}", scope="type", match=SIDE_CLASSES[c],
                    action={"classify": c})
            else:
                add(name=f"type-{n}", scope="type",
                    match=rf"^a-[fhnu]-G-E-X-{n}$", action={"classify": "ground"})
        else:
            scope = rnd.choice(["remarks", "payload", "detail"])
            a = add(name=f"op-{n}-a", scope=scope, match=codeword(rnd, n), flags=["caseless"])
            b = add(name=f"op-{n}-b", scope=scope, match=codeword(rnd, n + 1))
            if left >= 4 and rnd.random() < 0.5:
                c = add(name=f"op-{n}-c", scope=scope, match=codeword(rnd, n + 2))
                expr = f"({a} | {b}) & !{c}"
            else:
                expr = f"{a} & {b}"
            add(name=f"combo-{n}", scope=scope, match=expr, flags=["combination"],
                action={"block": "combination"})
    return rules[:count] if len(rules) > count else rules


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, required=True, help="rules to generate")
    ap.add_argument("--base", default="policy/demo.yaml", help="policy to start from")
    ap.add_argument("--out", required=True, help="policy YAML to write")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.count < 0 or a.count > 16000:
        print("gen-rules: --count must be 0..16000 (TG_MAX_RULES is 16384)", file=sys.stderr)
        return 2
    with open(a.base) as f:
        pol = yaml.safe_load(f)
    base = pol.get("rules") or []
    new = gen(a.count, a.seed)
    # A combination cut off by --count would name missing operands: drop
    # trailing operands that lost their combination.
    while new and "combination" not in (new[-1].get("flags") or []) and \
            new[-1]["name"].startswith("op-"):
        new.pop()
    while len(new) < a.count:
        n = 1000 + len(new) + 20000
        new.append({"id": n, "name": f"dirty-{n}", "scope": "payload",
                    "match": f"PADDING WORD {n:05d}", "flags": ["caseless", "single-match"],
                    "action": {"block": "dirty-word"}})
    ids = [r["id"] for r in base + new]
    if len(ids) != len(set(ids)):
        print("gen-rules: duplicate rule ids", file=sys.stderr)
        return 1
    pol["rules"] = base + new
    with open(a.out, "w") as f:
        f.write(f"# Generated by tools/gen-rules.py --count {a.count} --seed {a.seed} "
                f"--base {a.base}: {len(base)} base rules + {len(new)} generated.\n")
        yaml.safe_dump(pol, f, sort_keys=False, default_flow_style=None, width=100)
    return 0


if __name__ == "__main__":
    sys.exit(main())
