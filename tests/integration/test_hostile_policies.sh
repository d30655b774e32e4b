#!/usr/bin/env bash
# test_hostile_policies.sh - policies meant to hurt: a 10,000-rule file, a
# rule Hyperscan rejects, a YAML alias bomb, a 100 MB file, binary garbage,
# deep nesting.  Each `tgctl load` must end with a clear error (or, for the
# 10,000 rules, succeed) within bounded time and memory, and the policy in
# force must stay in force after every failure.
. "$(dirname "$0")/lib.sh"

cd "$T_DIR"
MEM_LIMIT=$((2 * 1024 * 1024 * 1024)) # bytes of address space per tgctl

# tgctl under a wall-clock and address-space bound; stderr to $1.err
bounded() {
	local name=$1; shift
	if [ "$TG_SANITIZED" = 1 ]; then
		# ASan reserves terabytes of shadow address space: time bound only.
		timeout 120 "$TGCTL" "$@" > "$name.out" 2> "$name.err"
	else
		timeout 120 prlimit --as=$MEM_LIMIT -- "$TGCTL" "$@" > "$name.out" 2> "$name.err"
	fi
}
show_gen_digest() {
	"$TGCTL" show --bpffs "$T_BPFFS" --json |
		$PY -c "import json,sys; a=json.load(sys.stdin)['active']; print(a['generation'], a['digest'])"
}

expect_rc 0 "load the demo policy" "$TGCTL" load "$TG_SRC/policy/demo.yaml" --bpffs "$T_BPFFS" -q --no-wait
good=$(show_gen_digest)

# 10,000 generated rules: compiles and publishes (time printed, not asserted)
$PY "$TG_SRC/tools/gen-rules.py" --count 10000 --base "$TG_SRC/policy/demo.yaml" --out big.yaml
SECONDS=0
expect_rc 0 "a 10,000-rule policy loads within bounds" bounded big load big.yaml --bpffs "$T_BPFFS" --no-wait
echo "# 10,000 rules: ${SECONDS}s to check, compile and publish: $(cat big.out)"
expect_rc 0 "back to the demo policy" "$TGCTL" load "$TG_SRC/policy/demo.yaml" --bpffs "$T_BPFFS" -q --no-wait
good=$(show_gen_digest)

# Hostile files
sed 's/match: '"'"'BLUE LANTERN'"'"'/match: '"'"'BLUE (LANTERN'"'"'/' "$TG_SRC/policy/demo.yaml" > hs-reject.yaml
{
	echo "version: 1"
	echo 'a: &a ["x","x","x","x","x","x","x","x","x","x"]'
	prev=a
	for l in b c d e f g h i j k l m n o p; do
		echo "$l: &$l [*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev]"
		prev=$l
	done
} > bomb.yaml
# 100 MB: a valid start, then a comment that never ends
{ cat "$TG_SRC/policy/demo.yaml"; head -c $((100 * 1024 * 1024)) /dev/zero | tr '\0' '#'; } > huge.yaml
head -c 65536 /dev/urandom > garbage.yaml
{ echo "version: 1"; printf 'rules: '; for _ in $(seq 5000); do printf '['; done; echo; } > deep.yaml

for f in hs-reject bomb huge garbage deep; do
	SECONDS=0
	expect_rc 1 "$f.yaml is refused" bounded "$f" load "$f.yaml" --bpffs "$T_BPFFS"
	echo "# $f.yaml: ${SECONDS}s: $(head -c 200 "$f.err" | head -2 | tr '\n' ' ')"
	check "$f.yaml: the error names the file" grep -q "$f.yaml" "$f.err"
	check "$f.yaml: the demo policy is still in force" [ "$(show_gen_digest)" = "$good" ]
done
check "the rejected rule is named with Hyperscan's message" grep -q "201" hs-reject.err

done_testing
