#!/usr/bin/env bash
# tests/package/test_package.sh - the Debian package end to end (issue 17).
#
#  1. A clean copy of the source tree (the files git tracks or would track,
#     nothing built) -> dpkg-buildpackage -us -uc -b -> trackgate_<v>_amd64.deb,
#     <v> from debian/changelog, its upstream part meson's project version.
#  2. lintian on it: no errors (warnings printed).
#  3. A Debian 12 root (mmdebstrap, minbase + the package's dependencies,
#     systemd, man-db, logrotate, net_pcap), made while 1. runs and cached as
#     a tarball (below); each run unpacks a fresh copy.
#  4. In that root, chroot'ed, with its own /proc, /sys, /dev and a private
#     bpffs: `apt-get install ./trackgate_*.deb`; the trackgate group exists,
#     the unit is not enabled, `systemd-analyze verify` on the installed unit
#     (the root's own systemd: commands, man: links), the man pages,
#     `logrotate -d` on its configuration, `tgctl check /etc/trackgate/policy.yaml`;
#     then the demo traffic (tools/tg-gen, from this build) through the
#     installed tgctl and trackgate on net_pcap, with the unit's group and
#     umask, every release compared with the oracle (on the host) and the
#     audit log root:trackgate 0640; an edited policy.yaml kept when the
#     package is installed again; purge removes /etc/trackgate and the unit.
#
# The root cache: /var/cache/trackgate-tests/root-bookworm-<key>.tar (or
# $TG_PKG_CACHE), <key> a hash of the suite, mirrors and package list, so a
# changed list makes a new root.  A root older than $TG_PKG_ROOT_MAX_DAYS
# (default 7) is made again, to follow Debian 12's point releases and security
# updates.  TG_PKG_NO_CACHE=1 makes a root without reading or writing the
# cache.  The tarball is only ever read: every run unpacks its own copy.
# TG_DEBIAN_MIRROR / TG_DEBIAN_SECURITY override the mirrors; TG_KEEP=1 keeps
# the scratch directory.  Needs root.
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
B=${TG_BUILD:-$src/build}
PY=/usr/bin/python3
SUITE=bookworm
MIRROR=${TG_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${TG_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
CACHE=${TG_PKG_CACHE:-/var/cache/trackgate-tests}
MAX_DAYS=${TG_PKG_ROOT_MAX_DAYS:-7}
# The root's packages: the package's dependencies (debian/control and what
# dpkg-shlibdeps finds today), so that installing it needs no download, and
# what the checks use.  The root keeps no package lists: a dependency missing
# here makes the install fail, naming it.  Add it here.
ROOT_PKGS=(
	bpftool ethtool iproute2 mount procps systemd
	libbpf1 libc6 libhyperscan5 libjansson4 libssl3 libyaml-0-2
	librte-eal23 librte-ethdev23 librte-hash23 librte-ip-frag23 librte-mbuf23
	librte-mempool23 librte-pdump23 librte-rcu23 librte-ring23 librte-telemetry23
	librte-mempool-ring23 librte-net-af-xdp23
	librte-net-pcap23 man-db logrotate
)

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (chroot, mounts, DPDK)"; exit 77
fi
for c in dpkg-buildpackage dh lintian mmdebstrap; do
	command -v "$c" >/dev/null || { echo "SKIP: no $c (scripts/deps.sh installs it)"; exit 77; }
done
[ -x "$B/tools/tg-gen" ] || { echo "SKIP: no $B/tools/tg-gen (ninja -C $B)"; exit 77; }

# Everything mounted here lives in a private mount namespace: it disappears
# with the test, whatever happens to the trap.
if [ -z "${TG_IN_NS:-}" ]; then
	export TG_IN_NS=1
	exec unshare --mount --propagation private -- "$0" "$@"
fi

T=$(mktemp -d /tmp/tg-package.XXXXXX)
R=$T/root
PREFIX="tg-package-$$"
BG_PIDS=()
MOUNTS=()
t_mount() { mount "$@"; MOUNTS+=("${!#}"); }
cleanup() {
	local rc=$? i
	for p in "${BG_PIDS[@]:-}"; do
		if [ -n "$p" ]; then kill -- "-$p" 2>/dev/null || true; fi
	done
	wait 2>/dev/null || true
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		umount -R "${MOUNTS[$i]}" 2>/dev/null || umount -lR "${MOUNTS[$i]}" 2>/dev/null || true
	done
	rm -rf "/var/run/dpdk/$PREFIX" 2>/dev/null || true
	if [ "${TG_KEEP:-0}" = 1 ] || [ $rc != 0 ]; then
		echo "# scratch kept in $T"
	elif findmnt -rn -o TARGET | grep -q "^$T/"; then
		echo "# something is still mounted under $T: not removed"
	else
		rm -rf --one-file-system "$T"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 143' TERM # meson's timeout: still clean up
trap 'exit 130' INT

FAILS=0
PASSES=0
ok() { PASSES=$((PASSES + 1)); echo "ok - $*"; }
not_ok() { FAILS=$((FAILS + 1)); echo "not ok - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
now() { date +%s%N; }
took() { local ms=$((($(now) - $1) / 1000000)); printf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100)); }
in_root() { chroot "$R" "$@"; }

# ---- 3 (in the background). The Debian 12 root --------------------------
sources=("deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main"
	"deb $SECURITY $SUITE-security main")
key=$({ printf '%s\n' v1 "$SUITE" minbase "${sources[@]}"; printf '%s\n' "${ROOT_PKGS[@]}" | sort; } |
	sha256sum | cut -c1-16)
root_tar=$CACHE/root-$SUITE-$key.tar
make_root() { # OUT.tar
	local list
	list=$(IFS=,; echo "${ROOT_PKGS[*]}")
	# The host's apt cache holds most of these .debs already (scripts/deps.sh
	# installed them): hard links let apt take them (it checks every hash)
	# instead of downloading; mmdebstrap unlinks only its own links.
	TMPDIR=$T mmdebstrap --variant=minbase --include="$list" --dpkgopt=force-unsafe-io \
		--setup-hook='mkdir -p "$1/var/cache/apt/archives" &&
			{ cp -al /var/cache/apt/archives/*.deb "$1/var/cache/apt/archives/" 2>/dev/null || true; }' \
		"$SUITE" "$1" "${sources[@]}"
}
prepare_root() {
	if [ "${TG_PKG_NO_CACHE:-0}" = 1 ]; then
		make_root "$T/root.tar" && echo "root: made (no cache)"
		return
	fi
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.lock"
	flock 9 # one maker at a time; readers of a finished tarball need no lock
	if [ -f "$root_tar" ] && [ -z "$(find "$root_tar" -mtime "+$((MAX_DAYS - 1))")" ]; then
		echo "root: cached $root_tar"
	else
		rm -f "$CACHE"/root-"$SUITE"-*.tar "$CACHE"/*.tmp.tar
		make_root "$root_tar.tmp.tar" && mv "$root_tar.tmp.tar" "$root_tar" &&
			echo "root: made $root_tar"
	fi
	# a link of our own: a later maker may replace the cache file meanwhile
	ln "$root_tar" "$T/root.tar" 2>/dev/null || cp "$root_tar" "$T/root.tar"
}
t_root=$(now)
setsid bash -c "$(declare -p T SUITE ROOT_PKGS sources CACHE MAX_DAYS root_tar); $(declare -f make_root prepare_root); prepare_root" \
	> "$T/root.log" 2>&1 &
root_pid=$!
BG_PIDS+=("$root_pid")

# ---- 1. The package from a clean copy of the source ----------------------
t0=$(now)
mkdir -p "$T/src/trackgate"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	# what git tracks or would track, as it is in the tree now (edits included)
	git -C "$src" ls-files -z -co --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$src/$f" ] && printf '%s\0' "$f"; done |
		tar -C "$src" -cf - --null -T - | tar -C "$T/src/trackgate" -xf -
else
	tar -C "$src" -cf - --exclude='./build*' --exclude=./out --exclude=./debian/trackgate \
		--exclude=./obj-* . | tar -C "$T/src/trackgate" -xf -
fi
version=$(cd "$T/src/trackgate" && dpkg-parsechangelog -S Version)
meson_version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$src/meson.build" | head -1)
deb=$T/src/trackgate_${version}_amd64.deb
check "debian/changelog's version $version is meson's $meson_version, -N" \
	test "${version%-*}" = "$meson_version"
if (cd "$T/src/trackgate" &&
    DEB_BUILD_OPTIONS="nocheck noddebs parallel=$(nproc)" dpkg-buildpackage -us -uc -b) \
    > "$T/build.log" 2>&1 && [ -f "$deb" ]; then
	ok "dpkg-buildpackage -us -uc -b: $(basename "$deb") ($(took "$t0"))"
else
	tail -40 "$T/build.log"
	not_ok "dpkg-buildpackage -us -uc -b (log: $T/build.log)"
	exit 1
fi
dpkg-deb -I "$deb" | sed -n 's/^ \(Depends\|Recommends\|Installed-Size\):/# &/p'

# ---- 2. lintian (in the background, meanwhile the root) ------------------
# (--fail-on none: an overridden error, shown, is no error; the E: lines are)
setsid lintian --fail-on none --show-overrides "$deb" > "$T/lintian.log" 2>&1 &
lintian_pid=$!
BG_PIDS+=("$lintian_pid")

# ---- 3. wait for the root, unpack a fresh copy ---------------------------
if wait "$root_pid"; then
	ok "$(tail -1 "$T/root.log") ($(took "$t_root") since the start)"
else
	tail -30 "$T/root.log"
	not_ok "the Debian 12 root (mmdebstrap; log: $T/root.log)"
	exit 1
fi
t1=$(now)
mkdir -p "$R"
tar -C "$R" -xf "$T/root.tar"
for d in proc sys dev; do mkdir -p "$R/$d"; done
t_mount -t proc proc "$R/proc"
t_mount --rbind /sys "$R/sys"
mount --make-rslave "$R/sys"
t_mount --rbind /dev "$R/dev"
mount --make-rslave "$R/dev"
mkdir -p "$R/run/tg-bpffs"
t_mount -t bpf bpf "$R/run/tg-bpffs"
cp "$deb" "$R/tmp/"
ok "root unpacked, /proc /sys /dev and a private bpffs mounted ($(took "$t1"))"

# ---- 4. install and check ------------------------------------------------
t2=$(now)
if in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	"/tmp/$(basename "$deb")" > "$T/install.log" 2>&1; then
	ok "apt-get install ./$(basename "$deb") in the root ($(took "$t2"))"
else
	tail -30 "$T/install.log"
	not_ok "apt-get install in the root (unmet dependencies? add them to ROOT_PKGS)"; exit 1
fi
check "the trackgate group exists (sysusers)" bash -c 'chroot "$1" getent group trackgate > /dev/null' _ "$R"
conffiles=$(in_root dpkg-query -W -f='${Conffiles}\n' trackgate | awk 'NF {print $1}' | sort | xargs)
check "conffiles: $conffiles" \
	test "$conffiles" = "/etc/logrotate.d/trackgate /etc/trackgate/policy.yaml /etc/trackgate/trackgate.env"
enabled=$(in_root systemctl is-enabled trackgate.service 2>&1 || true)
check "trackgate.service is not enabled on install ($enabled)" test "$enabled" = disabled
if in_root systemd-analyze verify /lib/systemd/system/trackgate.service > "$T/verify.log" 2>&1 &&
   [ ! -s "$T/verify.log" ]; then
	ok "systemd-analyze verify /lib/systemd/system/trackgate.service: no complaint"
else
	sed 's/^/# /' "$T/verify.log"; not_ok "systemd-analyze verify trackgate.service"
fi
check "man trackgate, man tgctl" bash -c 'chroot "$1" man -w trackgate tgctl > /dev/null' _ "$R"
check "logrotate -d /etc/logrotate.d/trackgate" \
	bash -c 'chroot "$1" logrotate -d /etc/logrotate.d/trackgate > "$2" 2>&1 && ! grep -qi error "$2"' \
	_ "$R" "$T/logrotate.log"
check "tgctl check /etc/trackgate/policy.yaml" \
	bash -c 'chroot "$1" tgctl check /etc/trackgate/policy.yaml > "$2" 2>&1' _ "$R" "$T/check.log"

# The demo: its traffic through the installed binaries, run as the unit runs
# trackgate (root, group trackgate, umask 0027, the log in LogsDirectory=).
t3=$(now)
count=${TG_PKG_DEMO_COUNT:-2000}
demo=$R/tmp/demo
mkdir -p "$demo"
"$B/tools/tg-gen" --mix default --count "$count" --seed 1 --link kor-us --encoding mixed \
	--out "$demo/in-kor-us.pcap" > /dev/null
"$B/tools/tg-gen" --mix default --count "$count" --seed 2 --link jpn-us --out "$demo/in-jpn-us.pcap" \
	> /dev/null
maps=/run/tg-bpffs/trackgate
check "tgctl load /etc/trackgate/policy.yaml --no-wait (private bpffs)" \
	in_root tgctl load /etc/trackgate/policy.yaml --bpffs "$maps" --no-wait -q
in_root install -d -m 0750 -g trackgate /var/log/trackgate
rc=0
timeout 300 chroot "$R" setpriv --regid=trackgate --clear-groups -- sh -c 'umask 0027 && exec "$@"' sh \
	trackgate --no-pci --no-huge -m 1024 --file-prefix "$PREFIX" -l 0 --log-level=user1,notice \
	--vdev net_pcap0,rx_pcap=/tmp/demo/in-kor-us.pcap \
	--vdev net_pcap1,rx_pcap=/tmp/demo/in-jpn-us.pcap \
	--vdev net_pcap2,tx_pcap=/tmp/demo/out-kor.pcap \
	--vdev net_pcap3,tx_pcap=/tmp/demo/out-jpn.pcap \
	--vdev net_pcap4,tx_pcap=/tmp/demo/out-usa.pcap \
	-- --bpffs "$maps" --audit /var/log/trackgate/audit.jsonl --exit-when-idle 1000 \
	> "$T/trackgate.log" 2>&1 || rc=$?
if [ $rc = 0 ]; then
	ok "the installed trackgate ran the demo traffic ($count + $count messages, $(took "$t3"))"
else
	tail -20 "$T/trackgate.log"; not_ok "the installed trackgate (exit $rc)"
fi
in_root tgctl stats --bpffs "$maps" > "$T/stats.log" 2>&1 || true
grep -A4 '^peer ' "$T/stats.log" | sed 's/^/# /'
audit=$R/var/log/trackgate/audit.jsonl
check "audit log: $(wc -l < "$audit" 2>/dev/null || echo 0) records, root:trackgate 0640 (as the unit makes it)" \
	test "$(in_root stat -c '%U:%G %a' /var/log/trackgate/audit.jsonl 2>/dev/null)" = "root:trackgate 640" -a -s "$audit"
if $PY "$src/tests/oracle/oracle.py" --policy "$R/etc/trackgate/policy.yaml" \
	--link "kor-us=$demo/in-kor-us.pcap" --link "jpn-us=$demo/in-jpn-us.pcap" \
	--out "$T/expected" > "$T/oracle.log" 2>&1 &&
   $PY "$src/tests/oracle/compare.py" --expected "$T/expected" \
	--actual-pcap "kor=$demo/out-kor.pcap" --actual-pcap "jpn=$demo/out-jpn.pcap" \
	--actual-pcap "usa=$demo/out-usa.pcap" --report "$T/oracle-report.json" > "$T/compare.log" 2>&1; then
	ok "every peer's output equals the oracle's releases"
else
	tail -20 "$T/oracle.log" "$T/compare.log"; not_ok "outputs against the oracle"
fi

# An operator's edit survives the package installed again; purge removes it.
echo "# edited on this host" >> "$R/etc/trackgate/policy.yaml"
in_root dpkg -i "/tmp/$(basename "$deb")" > "$T/reinstall.log" 2>&1 || true
check "an edited /etc/trackgate/policy.yaml is kept when the package is installed again" \
	grep -q '^# edited on this host' "$R/etc/trackgate/policy.yaml"
in_root dpkg --purge trackgate > "$T/purge.log" 2>&1 || true
check "dpkg --purge: /etc/trackgate, the unit and the binaries are gone" \
	test ! -e "$R/etc/trackgate" -a ! -e "$R/lib/systemd/system/trackgate.service" \
		-a ! -e "$R/usr/bin/trackgate" -a ! -e "$R/etc/logrotate.d/trackgate"

# ---- 2, the result -------------------------------------------------------
if ! wait "$lintian_pid"; then
	not_ok "lintian did not run"
elif grep -q '^E: ' "$T/lintian.log"; then
	not_ok "lintian reports errors"
else
	ok "lintian: no errors ($(grep -c '^W: ' "$T/lintian.log" || true) warning(s), $(grep -c '^O: ' "$T/lintian.log" || true) overridden)"
fi
grep -v 'running with root privileges' "$T/lintian.log" | sed 's/^/# lintian: /' || true

echo "# time: $(took "$t_root") in all"
echo "$PASSES passed, $FAILS failed"
[ "$FAILS" = 0 ]
