#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The fanotify backend against a plain file-backed mount, on the host
# kernel (6.14+), public tools only (dd, find, xargs, cat, date):
#
#   bench/fanotify.sh [WORKDIR]     BUILD=... selects the build directory
#
# WORKDIR (default /var/tmp/erofs-bench-fanotify) must be on ext4, xfs or
# btrfs.  Two images, built by our mkfs.erofs with 64 KiB chunks (once, kept
# in WORKDIR):
#   big:   one file of SIZE_MB (default 1024) MiB of random data;
#   linux: every file of a Linux source tree (LINUX_SRC: a tar or a
#          directory; default /var/tmp/bench/linux-6.12.tar when present,
#          else /usr/src/linux-source-6.12.tar.xz).
# WORKLOADS (default "big linux") selects them.  For each workload and
# variant (VARIANTS, "NAME:OPTIONS;..." of erofs-mount, e.g. "pre:--prefetch";
# default the defaults only), RUNS (default 3) rounds of, in this order:
#   plain: the bootstrap mounted file-backed with device=the complete blob,
#          page cache dropped, read;
#   cold:  erofs-mount --backend fanotify (which starts erofs-fetchd) from
#          a local blob directory into an empty cache, page cache dropped,
#          read;
#   warm:  the same mount after drop_caches, the blob complete (its mark
#          removed: no events; the daemon has put the kernel's read-ahead
#          window back);
#   cp:    the floor of a local source: cp(1) of the complete blob into
#          the cache's file system, page cache dropped first (cp copies
#          inside the kernel, as the daemon does from a local source).
# The lazy mount gets erofs-mount's kernel read-ahead window while its blob
# is being filled (--kernel-readahead KRA KiB, default 1024; 0 leaves the
# kernel's 128), the plain mount keeps the kernel's own unless PLAIN_KRA is
# set.
# The big file is read with dd bs=1M, the tree with find | xargs cat; each
# read is timed with date(1) around it.  Printed per round: seconds, the
# ratios plain/cold and plain/warm (the daemon's throughput as a share of
# the plain mount's, measured back to back so that the machine's load hits
# both alike), the events of the cold read and their bytes per event, the
# source fetches (units) and bytes per fetch, and the events of the warm
# read; then the medians, and the load average before and after.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
work=${1:-/var/tmp/erofs-bench-fanotify}
size_mb=${SIZE_MB:-1024}
runs=${RUNS:-3}
variants=${VARIANTS:-"default:"}
workloads=${WORKLOADS:-"big linux"}
kra=${KRA:-1024}
plain_kra=${PLAIN_KRA:-0}
if [ -z "${LINUX_SRC:-}" ]; then
	LINUX_SRC=/usr/src/linux-source-6.12.tar.xz
	[ -r /var/tmp/bench/linux-6.12.tar ] &&
		LINUX_SRC=/var/tmp/bench/linux-6.12.tar
fi
mkfs=$BUILD/mkfs/mkfs.erofs
fetchd=$BUILD/fetchd/erofs-fetchd
emount=$BUILD/mount/erofs-mount
mnt_py=$top/tests/lib/erofs_mount.py

die() { echo "bench/fanotify.sh: error: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root"
[ -x "$fetchd" ] || die "$fetchd not built"
[ -x "$emount" ] || die "$emount not built"
[ "$runs" -ge 1 ] 2>/dev/null || die "RUNS must be a positive number"
mkdir -p "$work"
em() { "$emount" --fetchd "$fetchd" --state-dir "$work/state" "$@"; }
cleanup() {
	em -u "$work/mnt" >/dev/null 2>&1 || umount "$work/mnt" 2>/dev/null || true
}
trap cleanup EXIT
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
median() { # numbers on stdin -> their median
	sort -g | awk '{ v[NR] = $1 }
		END { if (!NR) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
		      else printf "%.4g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b > 0 ? 100 * a / b : 0) }'; }
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? b / s / 1e6 : 0) }'; }

build() { # NAME SOURCE
	local d=$work/$1
	if [ ! -s "$d/img.json" ]; then
		mkdir -p "$d"
		echo "building $1 from $2 ..." >&2
		"$mkfs" --quiet --chunksize=65536 --blobdev="$d/img.blob" \
			--manifest="$d/img.json" "$d/img.boot" "$2"
	fi
}
tag() { sed -n 's/.*"tag": "\([0-9a-f]*\)".*/\1/p' "$work/$1/img.json" | head -1; }

for name in $workloads; do
	case $name in
	big)
		if [ ! -s "$work/big/img.json" ]; then
			mkdir -p "$work/src-big"
			head -c $((size_mb << 20)) /dev/urandom >"$work/src-big/big"
		fi
		build big "$work/src-big"
		;;
	linux)
		[ -r "$LINUX_SRC" ] || die "no Linux tree: set LINUX_SRC"
		build linux "$LINUX_SRC"
		;;
	*) die "unknown workload $name (big, linux)" ;;
	esac
done

reader() { # NAME: the workload on $work/mnt, timed (seconds)
	local s e
	s=$(date +%s%N)
	if [ "$1" = big ]; then
		dd if="$work/mnt/big" of=/dev/null bs=1M status=none
	else
		find "$work/mnt" -type f -print0 | xargs -0 -n 2000 cat >/dev/null
	fi
	e=$(date +%s%N)
	awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f\n", (e - s) / 1e9 }'
}
bytes_of() { # NAME: bytes the workload reads
	if [ "$1" = big ]; then stat -c %s "$work/src-big/big"
	else du -sb --apparent-size "$work/mnt" | cut -f1; fi
}
dlog=$work/cache/erofs-fetchd.log
# the daemon erofs-mount started: its worker (SIGUSR1 logs statistics)
dpid() { sed -n 's/.*started daemon pid \([0-9]*\).*/\1/p' "$dlog" | tail -1; }
# the daemon's statistics so far: "EVENTS BYTES_ASKED UNITS BYTES_FETCHED"
dstats() {
	local n
	n=$(grep -c 'fanotify (SIGUSR1' "$dlog" || true)
	kill -USR1 "$(dpid)"
	for _ in $(seq 1 50); do
		[ "$(grep -c 'fanotify (SIGUSR1' "$dlog" || true)" -gt "$n" ] && break
		sleep 0.1
	done
	{
		grep 'fanotify (SIGUSR1' "$dlog" | tail -1 |
			sed -n 's/.*events \([0-9]*\) .* asked \([0-9]*\) B.*/\1 \2/p'
		grep 'stats (SIGUSR1' "$dlog" | tail -1 |
			sed -n 's/.* fetched \([0-9]*\) B .*units fetched \([0-9]*\) .*/\2 \1/p'
	} | tr '\n' ' '
}
mount_plain() {
	python3 "$mnt_py" mount "$1/img.boot" "$work/mnt" --device "$1/img.blob" >/dev/null
}

echo "bench/fanotify.sh: $(nproc) cores, load $(load), RUNS=$runs, kernel $(uname -r), KRA=$kra, PLAIN_KRA=$plain_kra"
for name in $workloads; do
	d=$work/$name
	mkdir -p "$work/mnt"
	mount_plain "$d"
	bytes=$(bytes_of "$name")
	umount "$work/mnt"
	IFS=';' read -ra vs <<<"$variants"
	for v in "${vs[@]}"; do
		vname=${v%%:*}
		vopts=${v#*:}
		res=$work/results.$name.$vname
		: >"$res"
		echo "== $name [$vname${vopts:+: $vopts}]: $bytes bytes; load before $(load)"
		printf '%-3s %8s %8s %8s %6s %6s %8s %9s %7s %9s %6s %7s %6s\n' run \
			"plain s" "cold s" "warm s" cold% warm% events B/event \
			fetches B/fetch warmev "cp s" cp/cold
		for i in $(seq 1 "$runs"); do
			mount_plain "$d"
			[ "$plain_kra" = 0 ] ||
				python3 "$mnt_py" readahead "$work/mnt" "$plain_kra" >/dev/null
			drop
			plain=$(reader "$name")
			umount "$work/mnt"
			drop
			s=$(date +%s%N)
			cp "$d/img.blob" "$work/cp.tmp"
			e=$(date +%s%N)
			cpt=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f\n", (e - s) / 1e9 }')
			rm -f "$work/cp.tmp"

			rm -rf "$work/cache"
			mkdir -p "$work/cache"
			# shellcheck disable=SC2086
			em --backend fanotify --cache-dir "$work/cache" \
				--source "$d" --kernel-readahead "${kra}K" $vopts \
				"$d/img.json" "$work/mnt" >"$work/mount.log" 2>&1 ||
				die "erofs-mount failed: $(cat "$work/mount.log")"
			drop
			cold=$(reader "$name")
			# shellcheck disable=SC2046
			set -- $(dstats)
			ev=$1 asked=$2 units=${3:-0} fetched=${4:-0}
			# the blob complete: the daemon puts the window back
			for _ in $(seq 1 50); do
				grep -q 'complete (' "$dlog" && break
				sleep 0.1
			done
			drop
			warm=$(reader "$name")
			# shellcheck disable=SC2046
			set -- $(dstats)
			wev=$(($1 - ev))
			em -u "$work/mnt" >/dev/null
			for _ in $(seq 1 100); do
				grep -q 'stats (exit)' "$dlog" && break
				sleep 0.1
			done
			cmp -s "$d/img.blob" "$work/cache/blobs/$(tag "$name")" ||
				die "$name [$vname]: the filled blob differs from the source"
			echo "$plain $cold $warm $ev $asked $units $fetched $wev $cpt" >>"$res"
			printf '%-3s %8s %8s %8s %5s%% %5s%% %8s %9s %7s %9s %6s %7s %5s%%\n' \
				"$i" "$plain" "$cold" "$warm" \
				"$(pct "$plain" "$cold")" "$(pct "$plain" "$warm")" \
				"$ev" "$((ev ? asked / ev : 0))" "$units" \
				"$((units ? fetched / units : 0))" "$wev" "$cpt" \
				"$(pct "$cpt" "$cold")"
		done
		m() { awk "{ print ($1) }" "$res" | median; }
		mp=$(m '$1') mc=$(m '$2') mw=$(m '$3')
		printf '%-3s %8s %8s %8s %5s%% %5s%% %8s %9s %7s %9s %6s %7s %5s%%\n' med \
			"$mp" "$mc" "$mw" \
			"$(m '$2 > 0 ? 100 * $1 / $2 : 0' | xargs printf '%.0f')" \
			"$(m '$3 > 0 ? 100 * $1 / $3 : 0' | xargs printf '%.0f')" \
			"$(m '$4')" "$(m '$4 ? int($5 / $4) : 0')" "$(m '$6')" \
			"$(m '$6 ? int($7 / $6) : 0')" "$(m '$8')" "$(m '$9')" \
			"$(m '$2 > 0 ? 100 * $9 / $2 : 0' | xargs printf '%.0f')"
		echo "   plain $(mbps "$bytes" "$mp") MB/s, cold $(mbps "$bytes" "$mc") MB/s, warm $(mbps "$bytes" "$mw") MB/s (medians); cold% and warm% are medians of the per-run ratios; load after $(load)"
	done
done
