#!/usr/bin/env bash
# test_audit_full_disk.sh - the audit log on a full disk (issue 11, item 4):
# the real tgctl and trackgate on net_pcap with the demo policy, the audit
# log on a 64 KiB tmpfs (mounted in this test's own mount namespace) that a
# filler file has all but one page of.
#
# Checks: trackgate keeps forwarding (every peer's output equals the
# oracle's, byte for byte) and exits 0; `tgctl stats --json` audit_lost is
# > 0 and equals the records that should have been written (one per
# message, --audit-level all) minus the lines in the file; every line of the
# file is complete JSON and the file ends with a newline (the partial record
# the full disk took was cut off again); the log names the failure (ENOSPC's
# text) once, and says how many records were lost.
. "$(dirname "$0")/lib.sh"

COUNT=${TG_TEST_COUNT:-1500}
cd "$T_DIR"
NO_WAIT=$("$TGCTL" --help 2>&1 | grep -q -- --no-wait && echo --no-wait || true)
"$TG_GEN" --mix default --count "$COUNT" --seed 61 --link kor-us --out in-kor.pcap >/dev/null
"$TG_GEN" --mix default --count "$COUNT" --seed 62 --link jpn-us --out in-jpn.pcap >/dev/null

mkdir full
mount -t tmpfs -o size=64k tg-audit-full "$T_DIR/full"
fd_cleanup() { umount "$T_DIR/full" 2>/dev/null || true; }
trap 'rc=$?; fd_cleanup; (exit $rc); t_cleanup' EXIT
# tmpfs counts pages: 15 of the 16 taken, so the log has 4096 bytes: the
# first batch that does not fit is cut inside a line.
head -c 60000 /dev/zero > full/filler
expect_rc 0 "tgctl load demo policy" "$TGCTL" load "$TG_SRC/policy/demo.yaml" --bpffs "$T_BPFFS" -q $NO_WAIT

expect_rc 0 "trackgate runs the capture with the audit log on a full disk and exits 0" \
	logged trackgate.log \
	"$TRACKGATE" $(eal_common) -l 0 \
	--vdev "net_pcap0,rx_pcap=$T_DIR/in-kor.pcap" --vdev "net_pcap1,rx_pcap=$T_DIR/in-jpn.pcap" \
	$(demo_peer_vdevs out) \
	-- --bpffs "$T_BPFFS" --audit "$T_DIR/full/audit.jsonl" --exit-when-idle 1500
"$TGCTL" stats --bpffs "$T_BPFFS" --json > stats.json

$PY "$TG_SRC/tests/oracle/oracle.py" --policy "$TG_SRC/policy/demo.yaml" \
	--link kor-us=in-kor.pcap --link jpn-us=in-jpn.pcap --out expected > oracle.json
check "forwarding went on: every peer got exactly the oracle's releases" \
	$PY "$TG_SRC/tests/oracle/compare.py" --expected expected \
	--actual-pcap kor=out-kor.pcap --actual-pcap jpn=out-jpn.pcap --actual-pcap usa=out-usa.pcap \
	--report compare.json

$PY - stats.json full/audit.jsonl <<'EOF' && ok "audit_lost = records due - lines written, > 0; every line complete JSON" || not_ok "audit_lost = records due - lines written, > 0; every line complete JSON"
import json, sys
st = json.load(open(sys.argv[1]))
data = open(sys.argv[2], "rb").read()
err = []
if data and not data.endswith(b"\n"):
    err.append("the file ends inside a record: %r" % data[-60:])
lines = data.split(b"\n")[:-1] if data else []
for i, l in enumerate(lines):
    try:
        o = json.loads(l)
        assert isinstance(o, dict) and "decision" in o
    except Exception as e:
        err.append("line %d is not a complete record: %s: %r" % (i + 1, e, l[:80]))
due = st["messages"]   # --audit-level all: one record per message
print("# messages %d, lines written %d (%d bytes), audit_lost %d" % (due, len(lines), len(data), st["audit_lost"]))
if not lines:
    err.append("nothing was written: the test wants a partly full disk")
if st["audit_lost"] <= 0:
    err.append("audit_lost is 0 on a full disk")
if st["audit_lost"] != due - len(lines):
    err.append("audit_lost %d != %d messages - %d lines" % (st["audit_lost"], due, len(lines)))
for e in err:
    print("#   " + e)
sys.exit(1 if err else 0)
EOF
check "the log names the failure once" \
	test "$(grep -c 'No space left on device' trackgate.log)" = 1
check "the log line says records are counted as lost" \
	grep -Eq "audit log .*: cannot write: No space left on device; [0-9]+ record\(s\) lost" trackgate.log
check "the exit report counts the records lost" grep -Eq "^  audit records lost [1-9]" trackgate.log
grep "audit" trackgate.log | sed 's/^/# /'

fd_cleanup
done_testing
