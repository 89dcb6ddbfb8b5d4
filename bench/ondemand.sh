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
# in RUNS (default 3) rounds of the following, page cache dropped before
# every read, every cold read from an empty cache and a fresh daemon:
#   (c) plain: the same bootstrap + blob mounted from loop devices
#       (device=/dev/loopN), cold; (c2) the same mounted file-backed
#       (device=FILE, through a tiny static mount(2) helper);
#   (a) cold: fscache mode through erofs-fetchd, blob-directory source on the
#       data disk, empty cache;
#   (b) warm: the same file again after drop_caches, served from the cache
#       file (must need zero READs).
# For each erofs-fetchd variant (VARIANTS, "NAME:OPTIONS;..."; default the
# defaults, --fetch-unit 4M, --prefetch) it prints per round and as medians
# the times, the ratios a/c, a/c2, b/c2 (plain time over daemon time, both
# of the same round, so that the machine's load hits both alike), the READ
# count and the average bytes per READ the kernel asked for, the source
# fetches (units) and bytes per fetch, from the daemon's statistics, and
# the guest's load average.  Needs root, qemu, and about 3 x SIZE_MB of
# disk in WORKDIR.

set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
work=${1:-/var/tmp/erofs-bench-ondemand}
size_mb=${SIZE_MB:-256}
runs=${RUNS:-3}
mem=${MEM:-1536M}
variants=${VARIANTS:-"default:;fu4M:--fetch-unit 4M;prefetch:--prefetch"}
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
stats() {	# "READS BYTES_REQUESTED UNITS BYTES_FETCHED" so far
	kill -USR1 "$(cat /run/t_daemon.pid)"
	sleep 0.5
	r=$(grep 'protocol (' "$T_DAEMON_LOG" | tail -n 1 | sed 's/.* READ \([0-9]*\).*/\1/')
	l=$(grep 'stats (' "$T_DAEMON_LOG" | tail -n 1)
	b=$(echo "$l" | sed 's/.* requested \([0-9]*\) B.*/\1/')
	u=$(echo "$l" | sed 's/.* units fetched \([0-9]*\) .*/\1/')
	f=$(echo "$l" | sed 's/.* fetched \([0-9]*\) B written.*/\1/')
	echo "$r $b $u $f"
}

mkdir -p /src
mount -t ext4 -o ro,noload /dev/vdb /src || { t_fail data-disk "mount /dev/vdb"; return 1; }
t_cache_setup || return 1
echo "BENCH size $(stat -c %s /src/$BENCH_TAG)"

# one round: (c) plain, bootstrap and blob on loop devices (busybox mount
# loops a regular file itself, so a file-backed device= path cannot be
# used); (c2) plain, file-backed (bootstrap and blob read as files); then
# every variant, cold from an empty cache and warm
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
mkdir -p /mnt/plain
run=0
while [ $run -lt "$RUNS" ]; do
	run=$((run + 1))
	echo "BENCH $run load $(cut -d' ' -f1 /proc/loadavg)"
	blobdev=$(losetup -f) && losetup -r "$blobdev" /src/$BENCH_TAG || blobdev=
	if [ -n "$blobdev" ] &&
	   mount -t erofs -o ro,device=$blobdev /src/bench-boot /mnt/plain; then
		if [ $run = 1 ]; then
			sum=$(sha256sum /mnt/plain/big | awk '{ print $1 }')
			t_eq plain-content "$BENCH_SHA" "$sum"
		fi
		echo "BENCH $run plain $(timed_read /mnt/plain/big)"
		umount /mnt/plain
	else
		t_fail plain-mount "mount -o device=$blobdev failed"
	fi
	[ -z "$blobdev" ] || losetup -d "$blobdev"
	if /bin/fbmount /src/bench-boot /mnt/plain device=/src/$BENCH_TAG; then
		if [ $run = 1 ]; then
			sum=$(sha256sum /mnt/plain/big | awk '{ print $1 }')
			t_eq filebacked-content "$BENCH_SHA" "$sum"
		fi
		echo "BENCH $run filebacked $(timed_read /mnt/plain/big)"
		umount /mnt/plain
	else
		t_fail filebacked-mount "fbmount failed"
	fi
	while IFS=: read -r name opts; do
		[ -n "$name" ] || continue
		if ! od_start "$opts"; then
			t_fail "$name/start" "$(tail -n 2 /run/od.err | tr '\n' ' ')"
			continue
		fi
		# statistics are taken after the mount (so the bootstrap's
		# READs are not counted), except with --prefetch, where the
		# read must start right after the mount
		case " $opts " in
		*" --prefetch "*) r0=0 b0=0 u0=0 f0=0 ;;
		*) set -- $(stats); r0=$1 b0=$2 u0=$3 f0=$4 ;;
		esac
		cold=$(timed_read /mnt/od/big)
		set -- $(stats); r1=$1 b1=$2 u1=$3 f1=$4
		warm=$(timed_read /mnt/od/big)
		set -- $(stats); r2=$1
		t_eq "$name/warm-zero-reads" 0 $((r2 - r1))
		if [ $run = 1 ]; then
			sum=$(sha256sum /mnt/od/big | awk '{ print $1 }')
			t_eq "$name/content" "$BENCH_SHA" "$sum"
		fi
		echo "BENCH $run variant $name cold $cold warm $warm reads $((r1 - r0)) bytes $((b1 - b0)) units $((u1 - u0)) fetched $((f1 - f0)) warmreads $((r2 - r1))"
		od_stop
	done < /run/variants
done
umount /src
GUEST

"$kdir/mkinitramfs.sh" -o "$work/bench.cpio.gz" -s "$guest" -b "$fetchd" \
	-b "$work/fbmount" \
	-e "BENCH_TAG=$tag" -e "BENCH_SHA=$sha" -e "RUNS=$runs" \
	-e "BENCH_VARIANTS=$variants"
log=$work/console.log
echo "booting the guest (TCG; this takes a while); host load $(cut -d" " -f1-3 /proc/loadavg)" >&2
set +e
"$kdir/run-qemu.sh" -k "$kernel" -i "$work/bench.cpio.gz" \
	-c "$work/cache.img" -n -S $((size_mb * 2 + 256))M -d "$data_img" \
	-m "$mem" -l "$log" -t "${TIMEOUT:-3600}" > "$work/results"
rc=$?
set -e
cat "$work/results"
[ $rc = 0 ] || echo "bench/ondemand.sh: the guest reported failures (rc $rc); see $log" >&2

tr -d '\r' < "$log" | grep -o 'BENCH.*' > "$work/figures" || true
echo "host: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) after the run"
awk -v mb="$size_mb" '
	function med(list,   n, i, j, t, v) {
		n = split(list, v, " ")
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
				t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
			}
		if (!n) return 0
		return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	}
	$1 != "BENCH" { next }
	$3 == "load" { load[$2] = $4 }
	$3 == "plain" { plain[$2] = $4; P = P " " $4 }
	$3 == "filebacked" { fb[$2] = $4; F = F " " $4 }
	$3 == "variant" {
		# BENCH RUN variant NAME cold C warm W reads R bytes B units U
		#   fetched F warmreads WR
		r = $2; v = $4
		if (!(v in seen)) { seen[v] = 1; names[++nv] = v }
		k = v SUBSEP r
		cold[k] = $6; warm[k] = $8; reads[k] = $10; bytes[k] = $12
		units[k] = $14; fetched[k] = $16; wr[k] = $18
		if (r > nr) nr = r
	}
	END {
		if (!nr) { print "no figures"; exit 1 }
		printf "file: %d MiB random, 1 MiB chunks; guest under TCG; %d runs\n", mb, nr
		printf "(c) plain, loop devices; (c2) plain, file-backed; a = cold, b = warm;\n"
		printf "ratios are plain time / daemon time of the same run\n\n"
		printf "%-9s %3s %5s %6s %6s %6s %6s %6s %6s %6s %6s %9s %6s %9s %5s\n",
			"variant", "run", "load", "c s", "c2 s", "cold s", "warm s",
			"a/c", "a/c2", "b/c2", "READs", "B/READ", "fetch", "B/fetch", "warmR"
		for (i = 1; i <= nv; i++) {
			v = names[i]; A = ""; Wl = ""; AC = ""; AC2 = ""; BC2 = ""
			RD = ""; BR = ""; U = ""; BU = ""; WRl = ""
			for (r = 1; r <= nr; r++) {
				k = v SUBSEP r
				if (!(k in cold)) continue
				ac = 100 * plain[r] / cold[k]
				ac2 = fb[r] ? 100 * fb[r] / cold[k] : 0
				bc2 = fb[r] ? 100 * fb[r] / warm[k] : 0
				br = reads[k] ? bytes[k] / reads[k] : 0
				bu = units[k] ? fetched[k] / units[k] : 0
				printf "%-9s %3d %5s %6.2f %6.2f %6.2f %6.2f %5.0f%% %5.0f%% %5.0f%% %6d %9.0f %6d %9.0f %5d\n",
					v, r, load[r], plain[r], fb[r], cold[k], warm[k],
					ac, ac2, bc2, reads[k], br, units[k], bu, wr[k]
				A = A " " cold[k]; Wl = Wl " " warm[k]; AC = AC " " ac
				AC2 = AC2 " " ac2; BC2 = BC2 " " bc2; RD = RD " " reads[k]
				BR = BR " " br; U = U " " units[k]; BU = BU " " bu
				WRl = WRl " " wr[k]
			}
			printf "%-9s %3s %5s %6.2f %6.2f %6.2f %6.2f %5.0f%% %5.0f%% %5.0f%% %6d %9.0f %6d %9.0f %5d\n",
				v, "med", "", med(P), med(F), med(A), med(Wl), med(AC),
				med(AC2), med(BC2), med(RD), med(BR), med(U), med(BU),
				med(WRl)
		}
		printf "\nmedian cold plain: loop %.1f MiB/s, file-backed %.1f MiB/s\n",
			mb / med(P), med(F) ? mb / med(F) : 0
	}' "$work/figures"
