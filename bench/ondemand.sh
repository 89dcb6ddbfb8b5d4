#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# On-demand read benchmark in the qemu guest (tests/kernel's 6.12 kernel,
# TCG: absolute numbers are slow, the ratios are what matters).
#
#   bench/ondemand.sh [WORKDIR]      BUILD=... selects the build directory
#
# One file of SIZE_MB (default 256) MiB of random data, built by our
# mkfs.erofs with 1 MiB chunks into a bootstrap and a blob.  Both sit on a
# second virtio disk (ext4, /dev/vdb, read-only) that the guest mounts; the
# cachefiles cache is on the ext4 cache disk /dev/vda.  Measured in the guest
# (page cache dropped before every read, best of RUNS, default 2; every
# cold run starts from an empty cache and a fresh daemon):
#   (c) plain: the same bootstrap + blob mounted from loop devices
#       (device=/dev/loopN), cold; (c2) the same mounted file-backed
#       (device=FILE, through a tiny static mount(2) helper);
#   (a) cold: fscache mode through erofs-fetchd, blob-directory source on the
#       data disk, empty cache;
#   (b) warm: the same file again after drop_caches, served from the cache
#       file (must need zero READs).
# For each erofs-fetchd variant (VARIANTS, "NAME:OPTIONS;..."; default fetch
# unit 1M, 4M, 256K, one and eight workers, --prefetch) it prints
# throughput, the ratios a/c, b/c, a/c2, b/c2, the READ count and the average
# bytes per READ the kernel asked for (from the daemon's statistics; the
# daemon widens each READ to its fetch unit).  Needs root, qemu, and about
# 3 x SIZE_MB of disk in WORKDIR.

set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
work=${1:-/var/tmp/erofs-bench-ondemand}
size_mb=${SIZE_MB:-256}
runs=${RUNS:-2}
mem=${MEM:-1536M}
variants=${VARIANTS:-"default:;fu4M:--fetch-unit 4M;fu256K:--fetch-unit 256K;w1:--workers 1;w8:--workers 8;prefetch:--prefetch"}
kdir=$top/kernel

die() { echo "bench/ondemand.sh: error: $*" >&2; exit 1; }
mkfs=$BUILD/mkfs/mkfs.erofs
fetchd=$BUILD/fetchd/erofs-fetchd
[ -x "$mkfs" ] || die "$mkfs not built"
[ -x "$fetchd" ] || die "$fetchd not built"
kernel=$("$kdir/build.sh") || die "kernel/build.sh failed"

mkdir -p "$work"
stage=$work/stage
rm -rf "$stage" "$work/src"
mkdir -p "$stage" "$work/src"
echo "generating ${size_mb} MiB of random data" >&2
head -c $((size_mb * 1048576)) /dev/urandom > "$work/src/big"
"$mkfs" --quiet --chunksize=1M --blobdev="$work/blob" \
	--manifest="$work/manifest.json" -T 0 "$stage/bench-boot" "$work/src"
tag=$(jq -r '.blobs[0].tag' "$work/manifest.json")
mv "$work/blob" "$stage/$tag"
sha=$(sha256sum < "$work/src/big" | cut -d' ' -f1)
rm -rf "$work/src"
# data disk: bootstrap + blob, named as erofs-fetchd's directory source
# wants them (FSID, TAG)
data_img=$work/data.img
rm -f "$data_img"
truncate -s $((size_mb + 64))M "$data_img"
mkfs.ext4 -q -F -b 4096 -L bench-data -d "$stage" "$data_img"
rm -rf "$stage"

# busybox mount puts a regular file on a loop device itself; a file-backed
# EROFS mount (6.12: source and device= are plain files) needs mount(2)
cat > "$work/fbmount.c" <<'C'
// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdio.h>
#include <sys/mount.h>
int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: fbmount IMAGE DIR OPTIONS\n");
		return 2;
	}
	if (mount(argv[1], argv[2], "erofs", MS_RDONLY, argv[3])) {
		perror("mount");
		return 1;
	}
	return 0;
}
C
${CC:-cc} -static -O2 -Wall -Werror -o "$work/fbmount" "$work/fbmount.c"

guest=$work/guest.sh
cat > "$guest" <<'GUEST'
# SPDX-License-Identifier: GPL-2.0-or-later
# guest side of bench/ondemand.sh (busybox sh, /test/lib.sh loaded)
T_READY='in on-demand mode'
now() { awk '{ print $1 }' /proc/uptime; }
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
# timed cold read of $1: prints seconds
timed_read() {
	local s e
	drop
	s=$(now)
	dd if="$1" of=/dev/null bs=1M 2> /run/dd.err
	e=$(now)
	awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f\n", e - s }'
}
best() {	# best of $RUNS timed reads of $1
	local b= t i=0
	while [ $i -lt "$RUNS" ]; do
		t=$(timed_read "$1")
		if [ -z "$b" ] || awk -v t="$t" -v b="$b" 'BEGIN { exit !(t < b) }'; then
			b=$t
		fi
		i=$((i + 1))
	done
	echo "$b"
}
stats() {	# "READS BYTES_REQUESTED" so far
	kill -USR1 "$(cat /run/t_daemon.pid)"
	sleep 0.5
	r=$(grep 'protocol (' "$T_DAEMON_LOG" | tail -n 1 | sed 's/.* READ \([0-9]*\).*/\1/')
	b=$(grep 'stats (' "$T_DAEMON_LOG" | tail -n 1 | sed 's/.* requested \([0-9]*\) B.*/\1/')
	echo "$r $b"
}

mkdir -p /src
mount -t ext4 -o ro,noload /dev/vdb /src || { t_fail data-disk "mount /dev/vdb"; return 1; }
t_cache_setup || return 1
echo "BENCH size $(stat -c %s /src/$BENCH_TAG)"

# (c) plain: bootstrap and blob on loop devices (busybox mount loops a
# regular file itself, so a file-backed device= path cannot be used)
mkdir -p /mnt/plain
blobdev=$(losetup -f) && losetup -r "$blobdev" /src/$BENCH_TAG || blobdev=
if [ -n "$blobdev" ] &&
   mount -t erofs -o ro,device=$blobdev /src/bench-boot /mnt/plain; then
	sum=$(sha256sum /mnt/plain/big | awk '{ print $1 }')
	t_eq plain-content "$BENCH_SHA" "$sum"
	echo "BENCH plain $(best /mnt/plain/big)"
	umount /mnt/plain
else
	t_fail plain-mount "mount -o device=$blobdev failed"
fi
[ -z "$blobdev" ] || losetup -d "$blobdev"
# (c') plain, file-backed: bootstrap and blob read as files
if /bin/fbmount /src/bench-boot /mnt/plain device=/src/$BENCH_TAG; then
	sum=$(sha256sum /mnt/plain/big | awk '{ print $1 }')
	t_eq filebacked-content "$BENCH_SHA" "$sum"
	echo "BENCH filebacked $(best /mnt/plain/big)"
	umount /mnt/plain
else
	t_fail filebacked-mount "fbmount failed"
fi

echo "$BENCH_VARIANTS" | tr ';' '\n' > /run/variants
# od_start OPTS: empty cache, fresh daemon, mounted on /mnt/od
od_start() {
	rm -rf /cache/fc
	mkdir -p /cache/fc
	t_daemon_start /bin/erofs-fetchd --cache-dir /cache/fc --source /src \
		$1 > /run/od.err || return 1
	t_od_mount /mnt/od bench-boot >> /run/od.err || { t_daemon_stop; return 1; }
}
od_stop() { t_umount /mnt/od; t_daemon_stop; }
while IFS=: read -r name opts; do
	[ -n "$name" ] || continue
	# cold: best of $RUNS, each on an empty cache.  Statistics are taken
	# after the mount (so the bootstrap's READs are not counted), except
	# with --prefetch, where the read must start right after the mount.
	cold= reads= bytes= i=0
	while [ $i -lt "$RUNS" ]; do
		i=$((i + 1))
		if ! od_start "$opts"; then
			t_fail "$name/start" "$(tail -n 2 /run/od.err | tr '\n' ' ')"
			continue 2
		fi
		case " $opts " in
		*" --prefetch "*) r0=0 b0=0 ;;
		*) set -- $(stats); r0=$1 b0=$2 ;;
		esac
		t=$(timed_read /mnt/od/big)
		set -- $(stats); r1=$1 b1=$2
		if [ -z "$cold" ] || awk -v t="$t" -v b="$cold" 'BEGIN { exit !(t < b) }'; then
			cold=$t reads=$((r1 - r0)) bytes=$((b1 - b0))
			grep 'stats (' "$T_DAEMON_LOG" | tail -n 1 > /run/coldstats
		fi
		[ $i -lt "$RUNS" ] && od_stop
	done
	# warm: the cache file is complete now
	warm=$(best /mnt/od/big)
	set -- $(stats); r2=$1
	sum=$(sha256sum /mnt/od/big | awk '{ print $1 }')
	t_eq "$name/content" "$BENCH_SHA" "$sum"
	t_eq "$name/warm-zero-reads" 0 $((r2 - r1))
	echo "BENCH variant $name cold $cold warm $warm reads $reads bytes $bytes warmreads $((r2 - r1))"
	sed "s/^/BENCH-STATS $name: /" /run/coldstats
	od_stop
done < /run/variants
umount /src
GUEST

"$kdir/mkinitramfs.sh" -o "$work/bench.cpio.gz" -s "$guest" -b "$fetchd" \
	-b "$work/fbmount" \
	-e "BENCH_TAG=$tag" -e "BENCH_SHA=$sha" -e "RUNS=$runs" \
	-e "BENCH_VARIANTS=$variants"
log=$work/console.log
echo "booting the guest (TCG; this takes a while)" >&2
set +e
"$kdir/run-qemu.sh" -k "$kernel" -i "$work/bench.cpio.gz" \
	-c "$work/cache.img" -n -S $((size_mb * 2 + 256))M -d "$data_img" \
	-m "$mem" -l "$log" -t "${TIMEOUT:-3600}" > "$work/results"
rc=$?
set -e
cat "$work/results"
[ $rc = 0 ] || echo "bench/ondemand.sh: the guest reported failures (rc $rc); see $log" >&2

tr -d '\r' < "$log" | grep -o 'BENCH.*' > "$work/figures" || true
awk -v mb="$size_mb" '
	$1 == "BENCH" && $2 == "plain" { plain = $3 }
	$1 == "BENCH" && $2 == "filebacked" { fb = $3 }
	$1 == "BENCH" && $2 == "variant" { n++; v[n] = $0 }
	END {
		if (!plain) { print "no plain figure"; exit 1 }
		printf "file: %d MiB random, 1 MiB chunks; guest under TCG\n", mb
		printf "(c)  plain mount, loop devices, cold: %.2f s = %.1f MiB/s\n", plain, mb / plain
		if (fb)
			printf "(c2) plain mount, file-backed, cold:  %.2f s = %.1f MiB/s\n", fb, mb / fb
		printf "\n%-9s %7s %8s %7s %8s %6s %6s %6s %6s %6s %9s %5s\n", "variant",
			"cold s", "a MiB/s", "warm s", "b MiB/s", "a/c", "b/c",
			"a/c2", "b/c2", "READs", "B/READ", "warmR"
		for (i = 1; i <= n; i++) {
			split(v[i], f, " ")
			# BENCH variant NAME cold C warm W reads R bytes B warmreads WR
			c = f[5]; w = f[7]; r = f[9]; b = f[11]; wr = f[13]
			printf "%-9s %7.2f %8.1f %7.2f %8.1f %5.0f%% %5.0f%% %5.0f%% %5.0f%% %6d %9.0f %5d\n",
				f[3], c, mb / c, w, mb / w, 100 * plain / c,
				100 * plain / w, fb ? 100 * fb / c : 0,
				fb ? 100 * fb / w : 0, r, r ? b / r : 0, wr
		}
	}' "$work/figures"
grep '^BENCH-STATS' "$work/figures" | sed 's/^BENCH-STATS /stats /' || true
