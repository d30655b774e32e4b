#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# tools/pktgen/build.sh - build pktgen-dpdk 23.03.0 against Debian 12's DPDK 22.11,
# with the two changes trackgate's set-up needs (pktgen-23.03.0-trackgate.patch).
#
#   tools/pktgen/build.sh [--timer-sleep] [--prepare-only] SOURCE [BUILD_DIR]
#
# SOURCE is either
#   - a pktgen-dpdk source tree at 23.03.0 (e.g. a clone checked out at tag
#     pktgen-23.03.0): the patch is applied to it in place, or
#   - a git directory holding that tag (a bare one, or a clone's .git): the tag
#     is checked out into BUILD_DIR/src and patched there.
# BUILD_DIR (default /tmp/pktgen-build) gets the meson build in BUILD_DIR/build;
# the program is BUILD_DIR/build/app/pktgen (printed last).  Missing Debian
# packages are installed with apt-get (as root; TG_PKTGEN_NO_APT=1 only lists
# them).  --prepare-only stops once the source is checked out and patched.
# --timer-sleep also applies pktgen-23.03.0-timer-sleep.patch: pktgen's timer
# thread sleeps instead of spinning on the CPU its TX lcore shares on a
# 2-CPU machine (tools/pktgen/README.md); without it, a tree that has it gets
# it taken out again.  Running it again does only what is left to do.
#
# Exit: 0 done, 2 usage or bad SOURCE, 3 missing packages, 4 the patch does
# not apply, 5 the build failed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PATCH=$HERE/pktgen-23.03.0-trackgate.patch
PATCH_TIMER=$HERE/pktgen-23.03.0-timer-sleep.patch
TAG=pktgen-23.03.0
TAG_COMMIT=2d5f9cadf87cc71e3a01063e3412fbdeb53d7ea8
VERSION=23.03.0
DEBS=(gcc pkg-config meson ninja-build patch libdpdk-dev liblua5.3-dev libnuma-dev libpcap-dev)

say() { echo "pktgen-build: $*" >&2; }   # stdout: only the result's path
die() { local rc=$1; shift; echo "pktgen-build: error: $*" >&2; exit "$rc"; }

usage() {
	awk 'NR > 2 && /^#/ { sub(/^# ?/, ""); print; next } NR > 2 { exit }' "${BASH_SOURCE[0]}"
}

PREPARE_ONLY=0 TIMER_SLEEP=0
while :; do
	case "${1:-}" in
	--prepare-only) PREPARE_ONLY=1; shift ;;
	--timer-sleep) TIMER_SLEEP=1; shift ;;
	*) break ;;
	esac
done
case "${1:-}" in
-h|--help) usage; exit 0 ;;
"") usage >&2; die 2 "no pktgen-dpdk SOURCE given (a source tree or a git directory;" \
	"fetch it with: git clone --branch $TAG https://github.com/pktgen/Pktgen-DPDK)" ;;
-*) die 2 "unknown option $1 (--help)" ;;
esac
[ $# -le 2 ] || die 2 "too many arguments (SOURCE [BUILD_DIR])"
SOURCE=$1
BUILD_DIR=${2:-/tmp/pktgen-build}
[ -e "$SOURCE" ] || die 2 "$SOURCE does not exist"
[ -d "$SOURCE" ] || die 2 "$SOURCE is not a directory"
[ -f "$PATCH" ] || die 2 "the patch $PATCH is missing"
[ -f "$PATCH_TIMER" ] || die 2 "the patch $PATCH_TIMER is missing"
SOURCE=$(cd "$SOURCE" && pwd)
TG_TREE=$(cd "$HERE/../.." && pwd)
case "$(realpath -m "$BUILD_DIR")/" in
"$TG_TREE"/*) die 2 "BUILD_DIR $BUILD_DIR is inside trackgate's tree: pktgen is never kept there" ;;
esac

# ---- 1. What SOURCE is (nothing changed yet)
is_tree() { [ -f "$1/meson.build" ] && [ -f "$1/app/pktgen-port-cfg.c" ] && [ -f "$1/lib/lua/meson.build" ]; }
GD=''
if is_tree "$SOURCE"; then
	v=$(cat "$SOURCE/VERSION" 2>/dev/null || echo unknown)
	[ "$v" = "$VERSION" ] || die 2 "$SOURCE is pktgen-dpdk $v; this build needs $VERSION (tag $TAG)"
elif [ -f "$SOURCE/HEAD" ] && [ -d "$SOURCE/objects" ] && [ -d "$SOURCE/refs" ]; then
	GD=$SOURCE
elif [ -d "$SOURCE/.git" ]; then
	GD=$SOURCE/.git
else
	die 2 "$SOURCE is neither a pktgen-dpdk source tree (meson.build, app/pktgen-port-cfg.c," \
		"lib/lua/meson.build) nor a git directory"
fi
if [ -n "$GD" ]; then
	command -v git >/dev/null || die 3 "git is needed to check out $TAG from $GD (apt-get install git)"
	c=$(git --git-dir="$GD" rev-parse -q --verify "$TAG^{commit}" 2>/dev/null) ||
		c=$(git --git-dir="$GD" rev-parse -q --verify "$TAG_COMMIT^{commit}" 2>/dev/null) ||
		die 2 "$GD has neither tag $TAG nor commit $TAG_COMMIT (git fetch --tags)"
fi
mkdir -p "$BUILD_DIR"
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)

# ---- 2. Debian packages
[ "$PREPARE_ONLY" = 0 ] || DEBS=(patch)
missing=()
for p in "${DEBS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "${TG_PKTGEN_NO_APT:-0}" = 1 ]; then
		die 3 "missing Debian packages: ${missing[*]} (apt-get install ${missing[*]})"
	fi
	[ "$(id -u)" = 0 ] || die 3 "missing Debian packages: ${missing[*]}; run as root or install them"
	say "installing ${missing[*]}"
	# Wait for another apt-get/dpkg to finish rather than fail at once.
	apt=(apt-get -o DPkg::Lock::Timeout=600 -y --no-install-recommends)
	DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "${missing[@]}" ||
		{ apt-get -o DPkg::Lock::Timeout=600 update &&
		  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "${missing[@]}"; } ||
		die 3 "apt-get could not install ${missing[*]}"
fi

# ---- 3. The source tree
if [ -z "$GD" ]; then
	SRC=$SOURCE
	say "source tree $SRC (patched in place)"
else
	[ "$c" = "$TAG_COMMIT" ] || say "warning: $TAG is $c here, not $TAG_COMMIT"
	SRC=$BUILD_DIR/src
	if [ "$(cat "$SRC/.trackgate-checkout" 2>/dev/null)" = "$c" ]; then
		say "source tree $SRC (checked out before, $c)"
	else
		if [ -e "$SRC" ] && ! [ -f "$SRC/.trackgate-checkout" ]; then
			die 2 "$SRC exists and is not a checkout of this script's: remove it or give another BUILD_DIR"
		fi
		say "checking out $TAG ($c) from $GD into $SRC"
		rm -rf "$SRC"
		if [ -d "$BUILD_DIR/build/meson-info" ]; then rm -rf "$BUILD_DIR/build"; fi
		mkdir -p "$SRC"
		idx=$(mktemp "$BUILD_DIR/.index.XXXXXX")
		trap 'rm -f "$idx"' EXIT
		GIT_INDEX_FILE=$idx git --git-dir="$GD" read-tree "$c"
		# A partial mirror may lack some blobs (pktgen's sample pcaps): leave
		# out the ones nothing in the build needs, refuse any other.
		tree=$(git --git-dir="$GD" ls-tree -r "$c")
		absent=$(awk '$2 == "blob" { print $3 }' <<< "$tree" |
			git --git-dir="$GD" cat-file --batch-check | awk '$NF == "missing" { print $1 }')
		for sha in $absent; do
			while IFS= read -r f; do
				case "$f" in
				*.pcap) say "note: $f is not in $GD (a sample pcap; not needed)"
					GIT_INDEX_FILE=$idx git --git-dir="$GD" --work-tree="$SRC" update-index --force-remove "$f" ;;
				*) rm -rf "$SRC"; die 2 "$GD lacks $f (blob $sha), which the build needs" ;;
				esac
			done < <(awk -v s="$sha" '$3 == s { sub(/^[^\t]*\t/, ""); print }' <<< "$tree")
		done
		GIT_INDEX_FILE=$idx git --git-dir="$GD" --work-tree="$SRC" checkout-index -a --prefix="$SRC/"
		rm -f "$idx"
		echo "$c" > "$SRC/.trackgate-checkout"
	fi
fi

# ---- 4. The patches (each once; the optional one in or out as asked)
applied() { patch -d "$SRC" -p1 -R --dry-run -s -f < "$1" > /dev/null 2>&1; }
fits() { patch -d "$SRC" -p1 -N --dry-run -s -f < "$1" > /dev/null 2>&1; }
patch_in() {
	if applied "$1"; then
		say "patch already applied: $(basename "$1")"
	elif fits "$1"; then
		patch -d "$SRC" -p1 -N -s -f --no-backup-if-mismatch < "$1"
		say "applied $(basename "$1")"
	else
		patch -d "$SRC" -p1 -N --dry-run -f < "$1" >&2 || true
		die 4 "$(basename "$1") does not apply to $SRC (not pktgen-dpdk $VERSION, or changed)"
	fi
}
patch_in "$PATCH"
if [ "$TIMER_SLEEP" = 1 ]; then
	patch_in "$PATCH_TIMER"
elif applied "$PATCH_TIMER"; then
	patch -d "$SRC" -p1 -R -s -f --no-backup-if-mismatch < "$PATCH_TIMER"
	say "took out $(basename "$PATCH_TIMER") (no --timer-sleep)"
fi

if [ "$PREPARE_ONLY" = 1 ]; then
	say "prepared $SRC"
	echo "$SRC"
	exit 0
fi

# ---- 5. meson + ninja
B=$BUILD_DIR/build
if [ ! -f "$B/build.ninja" ]; then
	say "meson setup $B"
	# -Dwerror=false: gcc 12 warns where pktgen's warning_level=3 + werror fails.
	meson setup "$B" "$SRC" -Denable_lua=true -Dwerror=false -Dbuildtype=release \
		> "$BUILD_DIR/meson-setup.log" 2>&1 ||
		{ tail -30 "$BUILD_DIR/meson-setup.log" >&2; die 5 "meson setup failed ($BUILD_DIR/meson-setup.log)"; }
fi
say "ninja -C $B (about 1.5 min on 2 vCPUs the first time)"
ninja -C "$B" -j "$(nproc)" > "$BUILD_DIR/ninja.log" 2>&1 ||
	{ grep -m 20 -B2 -A5 'error' "$BUILD_DIR/ninja.log" >&2 || tail -30 "$BUILD_DIR/ninja.log" >&2
	  die 5 "the build failed ($BUILD_DIR/ninja.log)"; }
[ -x "$B/app/pktgen" ] || die 5 "no $B/app/pktgen after the build"
say "built $B/app/pktgen"
echo "$B/app/pktgen"
