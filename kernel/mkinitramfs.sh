#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build a gzip'd newc initramfs for the kernel test suite.
#
#   kernel/mkinitramfs.sh -o OUT.cpio.gz -s TEST.sh [options]
#
#   -o FILE        output (written to a temporary name, renamed when complete)
#   -s SCRIPT      guest test script, run by /init as /test/main.sh
#   -b BIN[:DEST]  add a program (default DEST /bin/NAME) and every shared
#                  library ldd lists for it, plus the dynamic loader.  libtool
#                  wrapper scripts (uninstalled programs in a build tree) are
#                  resolved to the real binary and its uninstalled libraries.
#   -f SRC:DEST    add a file
#   -d SRC:DEST    add a directory tree
#   -e NAME=VALUE  exported to the guest script (via /test/env)
#
# Always included: busybox-static with every applet linked, kernel/guest/init
# as /init and kernel/guest/lib.sh as /test/lib.sh.
#
# Programs are copied with their shared libraries rather than linked
# statically: erofs-fetchd needs libcurl, and Debian ships libcurl's
# dependencies (GSSAPI, LDAP, nghttp2, ...) without static archives.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "kernel/mkinitramfs.sh: error: $*" >&2; exit 1; }

out=
script=
bins=()
files=()
dirs=()
envs=()
while getopts "o:s:b:f:d:e:h" opt; do
	case "$opt" in
	o) out=$OPTARG ;;
	s) script=$OPTARG ;;
	b) bins+=("$OPTARG") ;;
	f) files+=("$OPTARG") ;;
	d) dirs+=("$OPTARG") ;;
	e) envs+=("$OPTARG") ;;
	h) sed -n '3,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) exit 2 ;;
	esac
done
[ -n "$out" ] || die "no output given (-o)"
[ -n "$script" ] || die "no guest test script given (-s)"
[ -r "$script" ] || die "guest script $script not found"
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || die "$busybox not found (apt-get install busybox-static)"
if ldd "$busybox" >/dev/null 2>&1; then
	die "$busybox is dynamically linked; install busybox-static"
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/initramfs.XXXXXX")
tmp=$out.tmp.$$
trap 'rm -rf "$stage" "$tmp"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc,dev,proc,sys,tmp,run,mnt,test,cache}
mkdir -p "$stage/lib/x86_64-linux-gnu"

# busybox and its applets: "--install -s" links every applet in one
# process, to the path busybox runs from on the host (/usr/bin/busybox on a
# merged-/usr system); make that path resolve in the guest as well.
"$busybox" --install -s "$stage/bin"
target=$(readlink "$stage/bin/sh")
rm -f "$stage/bin/busybox"
cp "$busybox" "$stage/bin/busybox"
if [ "$target" != /bin/busybox ]; then
	mkdir -p "$stage/$(dirname "$target")"
	ln -sf /bin/busybox "$stage/$target"
fi

# A libtool wrapper script stands for an uninstalled program: find the real
# binary and let libtool set up the library path for ldd.
resolve_bin() {
	local bin=$1 lt
	if head -c 512 "$bin" | grep -q 'libtool'; then
		lt=$(dirname "$bin")/../libtool
		[ -x "$lt" ] || die "$bin is a libtool wrapper but $lt is missing"
		# "--mode=execute echo" prints the real program's path
		"$lt" --mode=execute echo "$bin"
	else
		echo "$bin"
	fi
}

ldd_of() {
	local bin=$1 lt
	if head -c 512 "$bin" | grep -q 'libtool'; then
		lt=$(dirname "$bin")/../libtool
		"$lt" --mode=execute ldd "$bin"
	else
		ldd "$bin"
	fi
}

add_libs() {
	local bin=$1 line lib
	ldd_of "$bin" > "$stage/.ldd" 2>&1 || {
		# "not a dynamic executable": static, nothing to add
		grep -q 'not a dynamic' "$stage/.ldd" && return 0
		cat "$stage/.ldd" >&2
		die "ldd failed on $bin"
	}
	if grep -q 'not found' "$stage/.ldd"; then
		cat "$stage/.ldd" >&2
		die "$bin: a shared library is missing"
	fi
	while read -r line; do
		case "$line" in
		*"=> /"*) lib=${line#*=> }; lib=${lib%% (*} ;;
		/*) lib=${line%% (*} ;;	# the dynamic loader
		*) continue ;;
		esac
		case "$lib" in
		*/ld-linux*)
			# keep the loader at the path the binary names
			mkdir -p "$stage/$(dirname "$lib")"
			cp -L "$lib" "$stage/$lib"
			cp -L "$lib" "$stage/lib64/$(basename "$lib")"
			;;
		*)
			cp -L "$lib" "$stage/lib/x86_64-linux-gnu/$(basename "$lib")"
			;;
		esac
	done < "$stage/.ldd"
	rm -f "$stage/.ldd"
}

for spec in ${bins[@]+"${bins[@]}"}; do
	src=${spec%%:*}
	dest=/bin/$(basename "$src")
	[ "$spec" = "$src" ] || dest=${spec#*:}
	[ -x "$src" ] || die "program $src not found or not executable"
	real=$(resolve_bin "$src")
	[ -f "$real" ] || die "cannot find the real program behind $src"
	mkdir -p "$stage/$(dirname "$dest")"
	rm -f "$stage/$dest"
	cp -L "$real" "$stage/$dest"
	add_libs "$src"
done

for spec in ${files[@]+"${files[@]}"}; do
	src=${spec%%:*}
	dest=${spec#*:}
	[ "$spec" != "$src" ] || die "-f wants SRC:DEST, got '$spec'"
	[ -f "$src" ] || die "file $src not found"
	mkdir -p "$stage/$(dirname "$dest")"
	cp -L "$src" "$stage/$dest"
done

for spec in ${dirs[@]+"${dirs[@]}"}; do
	src=${spec%%:*}
	dest=${spec#*:}
	[ "$spec" != "$src" ] || die "-d wants SRC:DEST, got '$spec'"
	[ -d "$src" ] || die "directory $src not found"
	mkdir -p "$stage/$dest"
	cp -a "$src/." "$stage/$dest/"
done

cp "$here/guest/init" "$stage/init"
chmod 755 "$stage/init"
cp "$here/guest/lib.sh" "$stage/test/lib.sh"
cp "$script" "$stage/test/main.sh"
: > "$stage/test/env"
for e in ${envs[@]+"${envs[@]}"}; do
	case "$e" in
	[A-Za-z_]*=*) printf 'export %s=%q\n' "${e%%=*}" "${e#*=}" >> "$stage/test/env" ;;
	*) die "-e wants NAME=VALUE, got '$e'" ;;
	esac
done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$stage/etc/passwd"
printf 'root:x:0:\n' > "$stage/etc/group"
printf '127.0.0.1 localhost\n' > "$stage/etc/hosts"
printf 'hosts: files\n' > "$stage/etc/nsswitch.conf"
# /init opens /dev/console itself after mounting devtmpfs; the node here
# only lets the kernel attach the console to /init from its first line.
mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true

mkdir -p "$(dirname "$out")"
(cd "$stage" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --quiet) | gzip -1 > "$tmp"
mv "$tmp" "$out"
