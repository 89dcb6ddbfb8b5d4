#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The fanotify backend against a plain file-backed mount, on the host
# kernel (6.14+), public tools only (dd, cat, find, /usr/bin/time):
#
#   bench/fanotify.sh [WORKDIR]     BUILD=... selects the build directory
#
# WORKDIR (default /var/tmp/erofs-bench-fanotify) must be on ext4, xfs or
# btrfs.  Two images, built by our mkfs.erofs with 64 KiB chunks:
#   big:   one file of SIZE_MB (default 1024) MiB of random data;
#   linux: every file of /usr/src/linux-source-6.12.tar.xz (a tar SOURCE).
# For each: (plain) the bootstrap mounted file-backed with device=the
# complete blob, page cache dropped, read cold; (cold) erofs-fetchd
# --backend fanotify from a local blob directory into an empty cache, read
# cold; (warm) the same mount after drop_caches, the blob complete (its
# mark removed: no events).  The big file is read with dd bs=1M, the tree
# with find | xargs cat.  Printed: seconds, MB/s, cold/plain, events and
# bytes per event (the daemon's statistics).  VARIANTS ("NAME:OPTIONS;...")
# selects daemon options (default: default unit, --fetch-unit 4M).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
work=${1:-/var/tmp/erofs-bench-fanotify}
size_mb=${SIZE_MB:-1024}
variants=${VARIANTS:-"default:;fu4M:--fetch-unit 4M"}
linux_tar=${LINUX_TAR:-/usr/src/linux-source-6.12.tar.xz}
mkfs=$BUILD/mkfs/mkfs.erofs
fetchd=$BUILD/fetchd/erofs-fetchd
mnt_py=$top/tests/lib/erofs_mount.py

die() { echo "bench/fanotify.sh: error: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root"
mkdir -p "$work"
dpid=
cleanup() {
	umount "$work/mnt" 2>/dev/null || true
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null || true
}
trap cleanup EXIT
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? b / s / 1e6 : 0) }'; }

build() { # NAME SOURCE
	local d=$work/$1
	if [ ! -s "$d/img.json" ]; then
		mkdir -p "$d"
		echo "building $1 ..." >&2
		"$mkfs" --quiet --chunksize=65536 --blobdev="$d/img.blob" \
			--manifest="$d/img.json" "$d/img.boot" "$2"
	fi
}
tag() { sed -n 's/.*"tag": "\([0-9a-f]*\)".*/\1/p' "$work/$1/img.json" | head -1; }

if [ ! -s "$work/big/img.json" ]; then
	mkdir -p "$work/src-big"
	head -c $((size_mb << 20)) /dev/urandom >"$work/src-big/big"
fi
build big "$work/src-big"
[ -r "$linux_tar" ] && build linux "$linux_tar"

reader() { # NAME: the workload on $work/mnt, timed (seconds)
	local cmd
	if [ "$1" = big ]; then
		cmd="dd if='$work/mnt/big' of=/dev/null bs=1M status=none"
	else
		cmd="find '$work/mnt' -type f -print0 | xargs -0 cat >/dev/null"
	fi
	/usr/bin/time -f %e bash -c "$cmd" 2>&1 >/dev/null | tail -1
}
bytes_of() { # NAME: bytes the workload reads
	if [ "$1" = big ]; then stat -c %s "$work/src-big/big"
	else du -sb --apparent-size "$work/mnt" | cut -f1; fi
}

for name in big linux; do
	[ -s "$work/$name/img.json" ] || continue
	d=$work/$name
	mkdir -p "$work/mnt"
	python3 "$mnt_py" mount "$d/img.boot" "$work/mnt" --device "$d/img.blob" >/dev/null
	bytes=$(bytes_of $name)
	drop
	plain=$(reader $name)
	umount "$work/mnt"
	echo "$name: $bytes bytes; plain file-backed cold: ${plain}s $(mbps "$bytes" "$plain") MB/s"
	IFS=';' read -ra vs <<<"$variants"
	for v in "${vs[@]}"; do
		vname=${v%%:*}
		vopts=${v#*:}
		rm -rf "$work/cache"
		mkdir -p "$work/cache"
		# shellcheck disable=SC2086
		"$fetchd" --backend fanotify --cache-dir "$work/cache" \
			--manifest "$d/img.json" --source "$d" $vopts \
			>"$work/fetchd.log" 2>&1 &
		dpid=$!
		for _ in $(seq 1 100); do
			grep -q marked "$work/fetchd.log" && break
			sleep 0.1
		done
		python3 "$mnt_py" mount "$d/img.boot" "$work/mnt" \
			--device "$work/cache/blobs/$(tag $name)" >/dev/null
		drop
		cold=$(reader $name)
		kill -USR1 $dpid
		sleep 0.5
		ev=$(grep 'fanotify (SIGUSR1' "$work/fetchd.log" | tail -1 |
			sed -n 's/.*events \([0-9]*\) .* (\([0-9]*\) B\/event).*/\1 events, \2 B\/event/p')
		drop
		warm=$(reader $name)
		kill -USR1 $dpid
		sleep 0.5
		ev2=$(grep 'fanotify (SIGUSR1' "$work/fetchd.log" | tail -1 |
			sed -n 's/.*events \([0-9]*\) .*/\1/p')
		umount "$work/mnt"
		kill $dpid
		wait $dpid || true
		dpid=
		echo "$name [$vname]: cold ${cold}s $(mbps "$bytes" "$cold") MB/s" \
			"($(awk -v a="$plain" -v b="$cold" 'BEGIN { printf "%.0f", 100 * a / b }')% of plain; $ev);" \
			"complete, after drop_caches: ${warm}s $(mbps "$bytes" "$warm") MB/s" \
			"($(awk -v a="$plain" -v b="$warm" 'BEGIN { printf "%.0f", 100 * a / b }')% of plain; events total $ev2)"
	done
done
