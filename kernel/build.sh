#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build (or reuse) an x86_64 bzImage with the EROFS fscache / cachefiles
# on-demand mode from Debian's linux-source-X.Y and print its path.
#
#   kernel/build.sh               6.12: tinyconfig + ondemand.config + patches
#   kernel/build.sh --unpatched   same without the patches (a second bzImage)
#   kernel/build.sh --version 6.1 Debian's linux-source-6.1 (the long-term
#                                 line Debian 12 ships); the patches of
#                                 patches/ are for 6.12: a version applies
#                                 patches-X.Y/*.patch if that exists, else
#                                 none (the variant is then "unpatched");
#                                 options of the fragment that the line
#                                 does not have are listed, with the
#                                 reason, in ondemand-X.Y.absent: those
#                                 lines are dropped, once the tree's
#                                 Kconfig files show the option is
#                                 really not defined there
#
# The result is cached under $KERNEL_CACHE (default
# $XDG_CACHE_HOME/erofs-ondemand/kernel, else /var/cache/erofs-ondemand/kernel),
# keyed by the source package version and the sha256 of the fragment and the
# patches, so a second call with nothing changed only hashes a few small files.
# Everything runs unattended; the build log goes to the cache, and its tail is
# shown on failure.  Only the bzImage path is written to stdout.
#
# Environment:
#   KERNEL_CACHE      cache directory (must not be inside the git tree)
#   KERNEL_SRC_TAR    source tarball (default /usr/src/linux-source-6.12.tar.xz)
#   KERNEL_SRC_PKG    Debian package owning it (default linux-source-6.12)
#   KERNEL_FRAGMENT   config fragment (default kernel/ondemand.config)
#   KERNEL_JOBS       make -j value (default: nproc)
#
# Options:
#   --version X.Y     kernel line (default 6.12; linux-source-X.Y)
#   --unpatched       build without kernel/patches/*.patch
#   --force           rebuild even if a cached image exists
#   --drop-tree       delete the (reusable) source/build tree afterwards
#   --key             print the cache key and exit
#   -q                no progress messages on stderr

set -euo pipefail

# Bump when the way a kernel is built changes in a way the key does not see.
RECIPE=2

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
variant=patched
kver=6.12
force=0
drop_tree=0
print_key=0
quiet=0

die() { echo "kernel/build.sh: error: $*" >&2; exit 1; }
say() { [ "$quiet" = 1 ] || echo "kernel/build.sh: $*" >&2; }

while [ $# -gt 0 ]; do
	case "$1" in
	--unpatched) variant=unpatched ;;
	--version)
		[ $# -ge 2 ] || die "--version needs X.Y"
		kver=$2
		shift
		;;
	--patched) variant=patched ;;
	--force) force=1 ;;
	--drop-tree) drop_tree=1 ;;
	--key) print_key=1 ;;
	-q) quiet=1 ;;
	-h|--help) sed -n '3,41p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done

case $kver in
*[!0-9.]* | '') die "--version $kver: X.Y expected" ;;
esac
src_tar=${KERNEL_SRC_TAR:-/usr/src/linux-source-$kver.tar.xz}
src_pkg=${KERNEL_SRC_PKG:-linux-source-$kver}
patchdir=$here/patches
[ "$kver" = 6.12 ] || patchdir=$here/patches-$kver
[ -d "$patchdir" ] || variant=unpatched
fragment=${KERNEL_FRAGMENT:-$here/ondemand.config}
absent_list=$here/ondemand-$kver.absent
jobs=${KERNEL_JOBS:-$(nproc)}
if [ -n "${KERNEL_CACHE:-}" ]; then
	cache=$KERNEL_CACHE
elif [ -n "${XDG_CACHE_HOME:-}" ]; then
	cache=$XDG_CACHE_HOME/erofs-ondemand/kernel
else
	cache=/var/cache/erofs-ondemand/kernel
fi

[ -r "$src_tar" ] || die "kernel source $src_tar not found (apt-get install $src_pkg)"
[ -r "$fragment" ] || die "config fragment $fragment not found"

# The fragment this kernel line gets: ondemand.config without the options
# ondemand-X.Y.absent names ("CONFIG_NAME  why" lines).  The key hashes this
# effective fragment, so a line without an .absent file keys as before.
absent=()
if [ -r "$absent_list" ]; then
	while read -r opt _; do
		case "$opt" in
		CONFIG_[A-Z0-9_]*) absent+=("$opt") ;;
		'' | '#'*) ;;
		*) die "$absent_list: '$opt' is not a CONFIG_ name" ;;
		esac
	done < "$absent_list"
fi
eff_fragment=$(mktemp "${TMPDIR:-/tmp}/ondemand-$kver.XXXXXX.config")
trap 'rm -f "$eff_fragment"' EXIT
awk -v list="${absent[*]-}" '
BEGIN { n = split(list, a, " "); for (i = 1; i <= n; i++) drop[a[i]] = 1 }
{
	opt = $0
	sub(/^# /, "", opt)
	sub(/[= ].*/, "", opt)
	if (!(opt in drop)) print
}' "$fragment" > "$eff_fragment"
for opt in ${absent[@]+"${absent[@]}"}; do
	grep -qE "^(# )?$opt[= ]" "$fragment" ||
		die "$absent_list: $opt is not in $fragment"
done

# The git tree must stay clean of multi-GB build trees.
top=$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || true)
if [ -n "$top" ]; then
	mkdir -p "$cache"
	case "$(cd "$cache" && pwd -P)/" in
	"$(cd "$top" && pwd -P)"/*) die "KERNEL_CACHE=$cache is inside the git tree $top" ;;
	esac
fi

# --- cache key ----------------------------------------------------------------
# Source identity: package version (when the tarball is the packaged one) plus
# the tarball's size and mtime, so a replaced tarball is never mistaken for
# the cached one.
src_ver=$(dpkg-query -W -f='${Version}' "$src_pkg" 2>/dev/null || true)
[ -n "$src_ver" ] || src_ver=unknown
src_stat=$(stat -c '%s:%Y' "$src_tar")
ver_dir=$(printf '%s' "$src_ver" | tr -c 'A-Za-z0-9.+_-' '_')

patches=()
if [ "$variant" = patched ]; then
	shopt -s nullglob
	patches=("$patchdir"/*.patch)
	shopt -u nullglob
fi

key=$(
	{
		echo "recipe $RECIPE"
		echo "source $src_pkg $src_ver $src_stat"
		echo "variant $variant"
		echo "fragment $(sha256sum < "$eff_fragment" | cut -d' ' -f1)"
		for p in ${patches[@]+"${patches[@]}"}; do
			echo "patch $(basename "$p") $(sha256sum < "$p" | cut -d' ' -f1)"
		done
	} | sha256sum | cut -c1-16
)
if [ "$print_key" = 1 ]; then
	echo "$variant-$key"
	exit 0
fi

out=$cache/images/$ver_dir/$variant-$key
if [ "$force" = 0 ] && [ -s "$out/bzImage" ]; then
	echo "$out/bzImage"
	exit 0
fi

# --- slow path: one builder at a time ---------------------------------------
mkdir -p "$cache/images/$ver_dir" "$cache/trees"
exec 9>"$cache/.lock"
if ! flock -n 9; then
	say "waiting for another kernel build to finish"
	flock 9
fi
if [ "$force" = 0 ] && [ -s "$out/bzImage" ]; then
	echo "$out/bzImage"
	exit 0
fi

tree=$cache/trees/$ver_dir
state=$tree/.erofs-ondemand
log=$cache/images/$ver_dir/build-$variant-$key.log
: > "$log"
start=$(date +%s)

fail() {
	echo "kernel/build.sh: error: $*" >&2
	echo "--- last lines of $log ---" >&2
	tail -n 40 "$log" >&2 || true
	exit 1
}

extract_tree() {
	say "unpacking $src_tar (about 20 s)"
	rm -rf "$tree" "$tree.tmp"
	mkdir -p "$tree.tmp"
	tar -xJf "$src_tar" -C "$tree.tmp" --strip-components=1 >>"$log" 2>&1 ||
		fail "cannot unpack $src_tar"
	mkdir -p "$tree.tmp/.erofs-ondemand/applied"
	echo "$src_ver $src_stat" > "$tree.tmp/.erofs-ondemand/source"
	mv "$tree.tmp" "$tree"
}

# Undo the patches a previous build applied (newest first).  Returns non-zero
# when the tree cannot be brought back to pristine.
revert_patches() {
	local series p
	[ -f "$state/series" ] || return 0
	series=$(tac "$state/series")
	for p in $series; do
		say "reverting $p"
		patch -p1 -R -s --batch -d "$tree" < "$state/applied/$p" \
			>>"$log" 2>&1 || return 1
		rm -f "$state/applied/$p"
		sed -i "/^$p\$/d" "$state/series"
	done
	rm -f "$state/series"
}

if [ ! -f "$state/source" ] ||
   [ "$(cat "$state/source")" != "$src_ver $src_stat" ]; then
	extract_tree
fi
if ! revert_patches; then
	say "tree does not revert cleanly; unpacking afresh"
	extract_tree
fi

for p in ${patches[@]+"${patches[@]}"}; do
	name=$(basename "$p")
	say "applying $name"
	if ! patch -p1 -N -s --batch -d "$tree" < "$p" >>"$log" 2>&1; then
		rm -f "$state/source"	# partly patched: unpack afresh next time
		fail "patch $name does not apply to $src_pkg $src_ver"
	fi
	cp "$p" "$state/applied/$name"
	echo "$name" >> "$state/series"
done

# Reproducible-ish build identity (no host name or build time in the image).
export KBUILD_BUILD_USER=erofs-ondemand KBUILD_BUILD_HOST=ci
export KBUILD_BUILD_TIMESTAMP="$src_ver"
export KBUILD_BUILD_VERSION=1
mk() { make -C "$tree" ARCH=x86_64 "$@" >>"$log" 2>&1; }

# An option dropped for this line must really be undefined in its tree.
for opt in ${absent[@]+"${absent[@]}"}; do
	if grep -rqE --include='Kconfig*' "^[[:space:]]*(menu)?config ${opt#CONFIG_}\$" \
		"$tree"; then
		fail "$absent_list: ${opt#CONFIG_} is defined in $src_pkg; keep it in the fragment"
	fi
	say "$opt: not in $src_pkg (see $(basename "$absent_list"))"
done

say "configuring (tinyconfig + $(basename "$fragment")${absent[0]+ less ${#absent[@]} absent option(s)})"
mk tinyconfig || fail "make tinyconfig failed"
(cd "$tree" && ARCH=x86_64 scripts/kconfig/merge_config.sh -m .config \
	"$eff_fragment") >>"$log" 2>&1 || fail "merge_config.sh failed"
mk olddefconfig || fail "make olddefconfig failed"

# Options under a disabled menu vanish silently: check every fragment line.
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		if ! grep -qxF -- "$line" "$tree/.config"; then
			opt=${line%%=*}
			got=$(grep -E "^($opt=|# $opt is not set)" "$tree/.config" ||
				echo "absent")
			echo "kernel/build.sh: fragment line '$line' did not survive olddefconfig (got: $got)" >&2
			missing=1
		fi
		;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }
		opt=${opt%% *}
		if grep -q "^$opt=" "$tree/.config"; then
			echo "kernel/build.sh: fragment wants $opt unset but .config has $(grep "^$opt=" "$tree/.config")" >&2
			missing=1
		fi
		;;
	esac
done < "$eff_fragment"
[ "$missing" = 0 ] || fail "config fragment not fully applied (see above)"

say "building bzImage with -j$jobs (a cold build takes about 3-5 min)"
# The variant goes into the release string, so a guest can tell which
# kernel it runs (uname -r: 6.12.117-patched / 6.12.117-unpatched).
mk -j"$jobs" LOCALVERSION="-$variant" bzImage || fail "kernel build failed"

tmp_out=$out.tmp.$$
rm -rf "$tmp_out"
mkdir -p "$tmp_out"
cp "$tree/arch/x86/boot/bzImage" "$tmp_out/bzImage"
cp "$tree/.config" "$tmp_out/config"
cp "$tree/System.map" "$tmp_out/System.map"
make -s -C "$tree" ARCH=x86_64 LOCALVERSION="-$variant" kernelrelease > "$tmp_out/kernelrelease" 2>/dev/null || true
{
	echo "source $src_pkg $src_ver"
	echo "variant $variant"
	echo "key $key"
	for p in ${patches[@]+"${patches[@]}"}; do
		echo "patch $(basename "$p")"
	done
} > "$tmp_out/info"
mv "$log" "$tmp_out/build.log"
rm -rf "$out"
mv "$tmp_out" "$out"

if [ "$drop_tree" = 1 ]; then
	rm -rf "$tree"
fi
say "built $variant kernel in $(( $(date +%s) - start )) s"
echo "$out/bzImage"
