#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_tg_gen.py - checks tg-gen, the oracle and compare.py together.

    /usr/bin/python3 tests/integration/test_tg_gen.py --tg-gen build/tools/tg-gen
    meson test -C build tg_gen          # registered in tests/integration/meson.build

Determinism, mix sizes, readability by scapy and tshark, oracle releases to
kor, jpn and usa, the stale check, and that compare.py accepts a perfect
peer output and rejects a wrong one.  Works in a temporary directory; needs
neither root nor DPDK.  Runs every check and exits non-zero if any failed.
"""

import argparse
import filecmp
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ORACLE_DIR = os.path.join(ROOT, "tests", "oracle")
sys.path.insert(0, ORACLE_DIR)
import tgpcap  # noqa: E402

PY = "/usr/bin/python3"
POLICY = os.path.join(ROOT, "policy", "demo.yaml")
failures = 0


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures += 1


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def gen(tg, tmp, name, *args):
    path = os.path.join(tmp, name)
    run([tg, *args, "--out", path])
    return path


def payload_sizes(path, ports=(6969, 4242)):
    return [len(d[4]) for k, d in tgpcap.datagrams(path) if k == "udp" and d[3] in ports]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tg-gen", default=os.path.join(ROOT, "build-gen", "tools", "tg-gen"))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()
    tg = os.path.abspath(a.tg_gen)
    tmp = tempfile.mkdtemp(prefix="tg-gen-test.")
    try:
        # Determinism.
        p1 = gen(tg, tmp, "d1.pcap", "--count", "5000", "--seed", "42", "--link", "all")
        p2 = gen(tg, tmp, "d2.pcap", "--count", "5000", "--seed", "42", "--link", "all")
        p3 = gen(tg, tmp, "d3.pcap", "--count", "5000", "--seed", "43", "--link", "all")
        check(filecmp.cmp(p1, p2, shallow=False), "same arguments give byte-identical pcaps")
        check(not filecmp.cmp(p1, p3, shallow=False), "another seed gives another pcap")

        # Sizes.
        kor = gen(tg, tmp, "kor.pcap", "--count", "20000", "--seed", "1", "--link", "kor-us",
                  "--manifest", os.path.join(tmp, "kor.jsonl"))
        jpn = gen(tg, tmp, "jpn.pcap", "--count", "20000", "--seed", "2", "--link", "jpn-us")
        s = payload_sizes(kor)
        med = statistics.median(s)
        check(550 <= med <= 750, f"default mix median payload {med} B is near 650 B")
        check(min(s) >= 16 and max(s) <= 9300, f"default sizes {min(s)}..{max(s)} B")
        small = gen(tg, tmp, "small.pcap", "--mix", "small", "--count", "2000", "--seed", "3",
                    "--link", "jpn-us")
        ms = statistics.median(payload_sizes(small))
        check(200 <= ms <= 300, f"small mix median payload {ms} B is near 250 B")
        with open(os.path.join(tmp, "kor.jsonl")) as f:
            man = [json.loads(x) for x in f]
        check(len(man) == 20000 and len({m["uid"] for m in man}) == 20000,
              "manifest: one line and one unique uid per message")

        # Readability.
        from scapy.all import rdpcap  # noqa: E402
        nframes = sum(1 for _ in tgpcap.read_pcap(p1))
        check(len(rdpcap(p1)) == nframes, f"scapy reads all {nframes} frames")
        if shutil.which("tshark"):
            r = run(["tshark", "-r", p1, "-T", "fields", "-e", "frame.number"])
            check(len(r.stdout.split()) == nframes, "tshark reads every frame")
            r = run(["tshark", "-r", p1, "-Y", "ip.flags.mf == 1 || ipv6.fragment", "-T",
                     "fields", "-e", "frame.number"])
            check(len(r.stdout.split()) > 0, "there are IP fragments")
        else:
            print("skip tshark: not installed")

        # Oracle on the demo policy.
        out = os.path.join(tmp, "exp")
        r = run([PY, os.path.join(ORACLE_DIR, "oracle.py"), "--policy", POLICY,
                 "--link", f"kor-us={kor}", "--link", f"jpn-us={jpn}", "--out", out,
                 "--now", "1714564800"])
        summ = json.loads(r.stdout)
        for peer in ("kor", "jpn", "usa"):
            n = summ["peers"][peer]["released"]
            check(n > 0, f"oracle releases {n} messages to {peer}")
        mr = summ["message_reasons"]
        for reason in ("parse", "bad_marking", "blocked", "not_track", "too_big"):
            check(mr.get(reason, 0) > 0, f"oracle sees '{reason}' drops ({mr.get(reason, 0)})")
        check(set(summ["blocked_by"]) >= {"dirty-word", "noforn-caveat", "unflagged-exercise"},
              "every demo block rule fires")
        with open(os.path.join(out, "kor.jsonl")) as f:
            kor_rel = [json.loads(x) for x in f]
        check(all(x["link"] == "jpn-us" for x in kor_rel), "kor never gets its own link's traffic")

        # warnings-only is all valid; hostile is half malformed.
        w = gen(tg, tmp, "w.pcap", "--mix", "warnings-only", "--count", "3000", "--seed", "5",
                "--link", "kor-us")
        h = gen(tg, tmp, "h.pcap", "--mix", "hostile", "--count", "3000", "--seed", "6",
                "--link", "jpn-us")
        rw = json.loads(run([PY, os.path.join(ORACLE_DIR, "oracle.py"), "--policy", POLICY,
                             "--link", f"kor-us={w}", "--now", "1714564800"]).stdout)
        bad = sum(rw["message_reasons"].get(k, 0) for k in ("parse", "bad_marking", "too_big"))
        check(bad == 0 and rw["messages"] == 3000, "warnings-only: 3000 messages, all valid")
        rh = json.loads(run([PY, os.path.join(ORACLE_DIR, "oracle.py"), "--policy", POLICY,
                             "--link", f"jpn-us={h}", "--now", "1714564800"]).stdout)
        bad = sum(rh["message_reasons"].get(k, 0) for k in ("parse", "bad_marking"))
        check(0.4 <= bad / 3000 <= 0.6, f"hostile: {bad}/3000 malformed")

        # Stale check: a policy that checks stale, an hour after --now.
        import yaml
        with open(POLICY) as f:
            pol = yaml.safe_load(f)
        pol["settings"]["ignore_stale"] = False
        sp = os.path.join(tmp, "stale.yaml")
        with open(sp, "w") as f:
            yaml.safe_dump(pol, f)
        fresh = json.loads(run([PY, os.path.join(ORACLE_DIR, "oracle.py"), "--policy", sp,
                                "--link", f"kor-us={w}", "--now", "1714564890"]).stdout)
        late = json.loads(run([PY, os.path.join(ORACLE_DIR, "oracle.py"), "--policy", sp,
                               "--link", f"kor-us={w}", "--now", "1714568400"]).stdout)
        check(fresh["message_reasons"].get("stale", 0) == 0,
              "stale = now+60 s, checked 90 s later with 30 s tolerance: not stale")
        check(late["message_reasons"].get("stale", 0) == 3000, "an hour later: all stale")

        # compare.py: a perfect usa output passes, a wrong one fails.
        from scapy.all import Ether, IP, UDP, wrpcap  # noqa: E402
        import hashlib
        want = {}
        with open(os.path.join(out, "usa.jsonl")) as f:
            for line in f:
                want[json.loads(line)["sha256"]] = True
        pl = {}
        for src in (kor, jpn):
            for k, d in tgpcap.datagrams(src):
                if k == "udp":
                    hsh = hashlib.sha256(d[4]).hexdigest()
                    if hsh in want:
                        pl[hsh] = d[4]
        check(len(pl) == len(want), "every expected usa release is an input payload")
        eth = Ether(src="02:00:00:00:01:03", dst="02:00:00:00:84:01")
        pk = [eth / IP(src="192.0.2.1", dst="192.0.2.84") / UDP(sport=6969, dport=6970) / p
              for p in pl.values()]
        good = os.path.join(tmp, "usa-good.pcap")
        wrpcap(good, pk)
        cmp = [PY, os.path.join(ORACLE_DIR, "compare.py"), "--expected", out]
        r = subprocess.run(cmp + ["--actual-pcap", f"usa={good}"], capture_output=True)
        check(r.returncode == 0, "compare: exact usa output passes")
        bad_pk = pk[1:] + [eth / IP(src="192.0.2.1", dst="192.0.2.84") / UDP(dport=6970) / b"<event uid='x'/>"]
        badp = os.path.join(tmp, "usa-bad.pcap")
        wrpcap(badp, bad_pk)
        r = subprocess.run(cmp + ["--actual-pcap", f"usa={badp}"], capture_output=True,
                           text=True)
        rep = json.loads(r.stdout) if r.stdout else {}
        u = rep.get("peers", {}).get("usa", {})
        check(r.returncode == 1 and u.get("missed") == 1 and u.get("wrongful") == 1,
              "compare: one missed and one wrongful release are reported, exit 1")
    finally:
        if a.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
