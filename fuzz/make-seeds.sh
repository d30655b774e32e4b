#!/bin/sh
# fuzz/make-seeds.sh - seed corpora for the fuzz targets from the project's
# own test traffic (docs/testing.md "Fuzzing").
#
#   fuzz/make-seeds.sh [BUILD_DIR]      (default: build-fuzz)
#
# Fills BUILD_DIR/seeds/<target>/ (wiped first) from tests/data/cot/*.xml,
# tests/policies/*.yaml, policy/demo.yaml, two small tg-gen pcaps (one
# plain, one hostile with fragments) and TAK Protocol v1 messages written
# with python3-protobuf and protoc from tests/proto/
# (fuzz/seeds_takproto.py).  tg-gen is taken from BUILD_DIR/tools
# (the fuzz build builds it too), else from build/tools.  Seeds are never
# committed: they are regenerated on every run.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
bdir=${1:-build-fuzz}
case $bdir in /*) ;; *) bdir=$top/$bdir ;; esac
seeds=$bdir/seeds

gen=
for g in "$bdir/tools/tg-gen" "$top/build/tools/tg-gen"; do
	if [ -x "$g" ]; then gen=$g; break; fi
done

rm -rf "$seeds"
mkdir -p "$seeds"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

pcaps=
if [ -n "$gen" ]; then
	"$gen" --mix default --count 60 --seed 7 --link all --out "$tmp/default.pcap" \
		--now 1700000000 >/dev/null
	"$gen" --mix hostile --count 60 --seed 11 --link all --frag-mtu 576 \
		--out "$tmp/hostile.pcap" --now 1700000000 >/dev/null
	pcaps="$tmp/default.pcap $tmp/hostile.pcap"
else
	echo "make-seeds: no tg-gen (build it: ninja -C $bdir tools/tg-gen); no pcap seeds" >&2
fi

# shellcheck disable=SC2086
/usr/bin/python3 "$top/fuzz/seeds.py" "$top" "$seeds" $pcaps
# fuzz_packet's operations (fuzz/fuzz_packet.c): frames, trains, floods
rm -rf "$seeds/fuzz_packet"
# shellcheck disable=SC2086
/usr/bin/python3 "$top/fuzz/seeds_packet.py" "$seeds/fuzz_packet" $pcaps
/usr/bin/python3 "$top/fuzz/seeds_packet.py" --trains "$seeds/fuzz_reassembly"
# fuzz_takproto's inputs (fuzz/fuzz_takproto.c): valid, hostile, raw, token streams
/usr/bin/python3 "$top/fuzz/seeds_takproto.py" "$top" "$seeds/fuzz_takproto"

for d in "$seeds"/*/; do
	printf 'make-seeds: %-18s %4d files\n' "$(basename "$d")" "$(ls "$d" | wc -l)"
done
