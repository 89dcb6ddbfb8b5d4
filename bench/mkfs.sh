#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# mkfs.erofs benchmark on real inputs, against erofs-utils 1.9.3 and the
# floors (what merely reading and writing the same bytes costs):
#
#   directory -> bootstrap + blob (64 KiB chunks, --blobdev):
#       vs erofs-utils (same options) and `tar -cf` of the same tree;
#   tar -> bootstrap + blob:   vs `cp` of the tar and erofs-utils --tar=f;
#   gzip layer -> image:       vs `gzip -dc > /dev/null` (and erofs-utils
#                              --tar=f --ungzip, for information);
#   400k and 2M tiny files:    time and max RSS per entry, ours and
#                              erofs-utils, also less the max RSS of a
#                              build of one file (memory per entry).
#
# Inputs (made when missing, outside the tree, in $BENCH_DIR, default
# /var/tmp/bench): a Debian 12 minbase root fs (debootstrap, from the
# machine's apt mirror), its tar and a gzip -6 layer of that tar, the
# Linux 6.12 tree and tarball from Debian's linux-source-6.12, and trees of
# 400k and 2M tiny files (bench/gentree.py --tiny).  debootstrap and
# linux-source-6.12 are installed with apt-get when missing.
#
# Every figure is the median wall-clock time of N runs with a warm page
# cache (RUNS, default 5, for the small inputs; BIG_RUNS, default 3, for
# the Linux tree and tarball and 400k files; HUGE_RUNS, default 1, for 2M
# files), measured with /usr/bin/time; outputs go to $BENCH_DIR/out and are
# removed before every run.
#
#   bench/mkfs.sh [--prepare] [INPUT...]
#       INPUT: debian-dir linux-dir debian-tar linux-tar gzip tiny400k tiny2m
#       (default: all); --prepare only makes the inputs.
# Environment: BUILD (our build, default ./build), EROFS_UTILS (an
# erofs-utils 1.9.3 mkfs.erofs), or PEER_BUILD (a script printing the
# prefix of an erofs-utils 1.9.3 build; default ../shared/peers/
# build-erofs-utils.sh beside the tree, when it exists), BENCH_DIR, RUNS,
# BIG_RUNS, HUGE_RUNS.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
B=${BENCH_DIR:-/var/tmp/bench}
RUNS=${RUNS:-5}
BIG_RUNS=${BIG_RUNS:-3}
HUGE_RUNS=${HUGE_RUNS:-1}
TIME=/usr/bin/time

prepare_only=0
if [ "${1:-}" = --prepare ]; then
	prepare_only=1
	shift
fi
inputs=${*:-debian-dir linux-dir debian-tar linux-tar gzip tiny400k tiny2m}

log() { echo "bench: $*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }

[ -x "$TIME" ] || die "$TIME missing (apt-get install time)"
ours=$BUILD/mkfs/mkfs.erofs
# call the real binary, not libtool's wrapper script
if [ -x "$BUILD/mkfs/.libs/mkfs.erofs" ]; then
	ours=$BUILD/mkfs/.libs/mkfs.erofs
	export LD_LIBRARY_PATH=$BUILD/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
[ -x "$ours" ] || die "$ours missing: build first (scripts/build.sh)"
peer_build=${PEER_BUILD:-$top/../shared/peers/build-erofs-utils.sh}
if [ -z "${EROFS_UTILS:-}" ] && [ -x "$peer_build" ]; then
	EROFS_UTILS=$("$peer_build")/mkfs/mkfs.erofs
fi
eu=${EROFS_UTILS:-}
[ -n "$eu" ] && [ -x "$eu" ] || { log "no erofs-utils 1.9.3: its columns stay empty"; eu=""; }

apt_install() {
	log "installing $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null ||
		{ apt-get update -q >/dev/null &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; }
}

# the Debian mirror this machine's apt uses
mirror() {
	local u
	u=$(grep -h -E '^(URIs:|deb )' /etc/apt/sources.list \
		/etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
		2>/dev/null | grep -v security | grep -o -E 'https?://[^ ]+' | head -1)
	echo "${u:-http://deb.debian.org/debian}"
}

# ---- inputs (each made under NAME.part, then renamed) ----
mkdir -p "$B"
prep_debian() {
	[ -d "$B/debian12" ] && return
	command -v debootstrap >/dev/null || apt_install debootstrap
	log "debootstrap --variant=minbase bookworm ($(mirror))"
	rm -rf "$B/debian12.part"
	debootstrap --variant=minbase bookworm "$B/debian12.part" "$(mirror)" \
		>"$B/debootstrap.log" 2>&1 || die "debootstrap failed: $B/debootstrap.log"
	mv "$B/debian12.part" "$B/debian12"
}
prep_debian_tar() {
	[ -f "$B/debian12.tar" ] && return
	prep_debian
	tar --numeric-owner -cf "$B/debian12.tar.part" -C "$B/debian12" .
	mv "$B/debian12.tar.part" "$B/debian12.tar"
}
prep_gzip() {
	[ -f "$B/debian12.tar.gz" ] && return
	prep_debian_tar
	gzip -6 -c "$B/debian12.tar" >"$B/debian12.tar.gz.part"
	mv "$B/debian12.tar.gz.part" "$B/debian12.tar.gz"
}
prep_linux_tar() {
	[ -f "$B/linux-6.12.tar" ] && return
	local xz=/usr/src/linux-source-6.12.tar.xz
	[ -f "$xz" ] || apt_install linux-source-6.12
	log "decompressing $xz"
	xz -dc "$xz" >"$B/linux-6.12.tar.part"
	mv "$B/linux-6.12.tar.part" "$B/linux-6.12.tar"
}
prep_linux() {
	[ -d "$B/linux-6.12" ] && return
	prep_linux_tar
	rm -rf "$B/linux-6.12.part"
	mkdir "$B/linux-6.12.part"
	tar -xf "$B/linux-6.12.tar" -C "$B/linux-6.12.part" --strip-components=1
	mv "$B/linux-6.12.part" "$B/linux-6.12"
}
prep_tiny() {
	local n=$1 dir=$B/tiny-$2
	[ -d "$dir" ] && return
	log "generating $n tiny files"
	rm -rf "$dir.part"
	python3 "$top/bench/gentree.py" --tiny "$n" "$dir.part" >/dev/null
	mv "$dir.part" "$dir"
}
for i in $inputs; do
	case $i in
	debian-dir) prep_debian ;;
	debian-tar) prep_debian_tar ;;
	gzip) prep_gzip ;;
	linux-dir) prep_linux ;;
	linux-tar) prep_linux_tar ;;
	tiny400k) prep_tiny 400000 400k ;;
	tiny2m) prep_tiny 2000000 2m ;;
	*) die "unknown input $i" ;;
	esac
done
[ "$prepare_only" = 1 ] && exit 0

# ---- measuring ----
out=$B/out
rm -rf "$out"
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT

# median of the values on stdin
median() {
	sort -n | awk '{v[NR] = $1} END {
		if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2];
		else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# measure RUNS CMD...: sets SECS (median wall seconds) and RSS (median max
# RSS, KiB); an empty SECS when the command failed
measure() {
	local n=$1 t="" m="" f=$out/.time
	shift
	SECS="" RSS=""
	for _ in $(seq "$n"); do
		find "$out" -mindepth 1 -delete
		sync
		if ! "$TIME" -f '%e %M' -o "$f" "$@" >/dev/null 2>"$out/.err"; then
			log "FAILED: $* ($(tail -n 2 "$out/.err" | tr '\n' ' '))"
			return 0
		fi
		t="$t $(tail -n 1 "$f" | cut -d' ' -f1)"
		m="$m $(tail -n 1 "$f" | cut -d' ' -f2)"
	done
	SECS=$(echo "$t" | tr ' ' '\n' | sed '/^$/d' | median)
	RSS=$(echo "$m" | tr ' ' '\n' | sed '/^$/d' | median)
}
ratio() {
	[ -n "$1" ] && [ -n "$2" ] || { echo "-"; return; }
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'
}
fmt() { [ -n "$1" ] && printf '%.2f s' "$1" || echo "-"; }
warm() { tar -cf - -C "$1" . >/dev/null 2>&1 || true; }
describe_dir() {
	printf '%s, %d entries' "$(du -sh --apparent-size "$1" | cut -f1)" \
		"$(find "$1" | wc -l)"
}

# a markdown table row of the arguments
mdrow() {
	local r="|" x
	for x in "$@"; do
		r="$r $x |"
	done
	echo "$r"
}
rows=()
row() { rows+=("$(mdrow "$@")"); }
header=$(mdrow "input" "ours" "erofs-utils 1.9.3" "floor" \
	"ours / erofs-utils" "ours / floor")

bench_dir() {
	local name=$1 src=$2 n=$3 o e f
	log "$name: $(describe_dir "$src"), $n runs"
	warm "$src"
	measure "$n" "$ours" --quiet --chunksize=65536 \
		--blobdev="$out/o.blob" "$out/o.img" "$src"
	o=$SECS
	e=""
	if [ -n "$eu" ]; then
		measure "$n" "$eu" --quiet --chunksize=65536 \
			--blobdev="$out/e.blob" "$out/e.img" "$src"
		e=$SECS
	fi
	measure "$n" tar -cf "$out/t.tar" -C "$src" .
	f=$SECS
	row "$name (directory, $(describe_dir "$src"))" "$(fmt "$o")" \
		"$(fmt "$e")" "tar -cf $(fmt "$f")" "$(ratio "$o" "$e")" \
		"$(ratio "$o" "$f")"
}

# our mkfs.erofs takes an archive as SOURCE; --tar=f is erofs-utils' way
bench_tar() {
	local name=$1 tar=$2 n=$3 o e f
	log "$name: $(du -h "$tar" | cut -f1), $n runs"
	cat "$tar" >/dev/null
	measure "$n" "$ours" --quiet --chunksize=65536 \
		--blobdev="$out/o.blob" "$out/o.img" "$tar"
	o=$SECS
	e=""
	if [ -n "$eu" ]; then
		measure "$n" "$eu" --quiet --tar=f --chunksize=65536 \
			--blobdev="$out/e.blob" "$out/e.img" "$tar"
		e=$SECS
	fi
	measure "$n" cp "$tar" "$out/c.tar"
	f=$SECS
	row "$name (tar, $(du -h --apparent-size "$tar" | cut -f1))" \
		"$(fmt "$o")" "$(fmt "$e") (--tar=f)" "cp $(fmt "$f")" \
		"$(ratio "$o" "$e")" "$(ratio "$o" "$f")"
}

bench_gzip() {
	local gz=$1 n=$2 o e f
	log "gzip layer: $(du -h "$gz" | cut -f1), $n runs"
	cat "$gz" >/dev/null
	measure "$n" "$ours" --quiet --chunksize=65536 \
		--blobdev="$out/o.blob" "$out/o.img" "$gz"
	o=$SECS
	e=""
	if [ -n "$eu" ]; then
		measure "$n" "$eu" --quiet --tar=f --ungzip --chunksize=65536 \
			--blobdev="$out/e.blob" "$out/e.img" "$gz"
		e=$SECS
	fi
	measure "$n" sh -c 'gzip -dc "$1" >/dev/null' sh "$gz"
	f=$SECS
	row "Debian 12 minbase layer (tar.gz, $(du -h "$gz" | cut -f1))" \
		"$(fmt "$o")" "$(fmt "$e") (--tar=f --ungzip)" \
		"gzip -dc $(fmt "$f")" "$(ratio "$o" "$e")" "$(ratio "$o" "$f")"
}

trows=()
# max RSS of a build of one tiny file (KiB), per tool: what a build costs
# before any entry, subtracted for the memory per entry
base_rss() {
	local bin=$1 d=$out/.one
	rm -rf "$d"
	mkdir -p "$d/src"
	echo x >"$d/src/f"
	"$TIME" -f '%M' -o "$d/t" "$bin" --quiet --chunksize=65536 \
		--blobdev="$d/x.blob" "$d/x.img" "$d/src" >/dev/null 2>&1 &&
		tail -n 1 "$d/t"
	rm -rf "$d"
}
bench_tiny() {
	local label=$1 src=$2 n=$3 entries who bin base
	entries=$(find "$src" | wc -l)
	log "$label tiny files: $entries entries, $n runs"
	warm "$src"
	for who in ours erofs-utils; do
		bin=$ours
		[ "$who" = ours ] || bin=$eu
		[ -n "$bin" ] || continue
		base=$(base_rss "$bin")
		measure "$n" "$bin" --quiet --chunksize=65536 \
			--blobdev="$out/x.blob" "$out/x.img" "$src"
		[ -n "$SECS" ] || { trows+=("| $label | $who | failed | | | | |"); continue; }
		trows+=("$(awk -v l="$label" -v w="$who" -v e="$entries" \
			-v s="$SECS" -v m="$RSS" -v b="${base:-0}" 'BEGIN {
			printf "| %s (%d entries) | %s | %.2f s | %.2f us | %.0f MiB | %.0f B | %.0f B |",
				l, e, w, s, s * 1e6 / e, m / 1024, m * 1024 / e,
				(m - b) * 1024 / e }')")
	done
}

for i in $inputs; do
	case $i in
	debian-dir) bench_dir "Debian 12 minbase root fs" "$B/debian12" "$RUNS" ;;
	linux-dir) bench_dir "Linux 6.12 source tree" "$B/linux-6.12" "$BIG_RUNS" ;;
	debian-tar) bench_tar "Debian 12 minbase root fs" "$B/debian12.tar" "$RUNS" ;;
	linux-tar) bench_tar "Linux 6.12 source" "$B/linux-6.12.tar" "$BIG_RUNS" ;;
	gzip) bench_gzip "$B/debian12.tar.gz" "$RUNS" ;;
	tiny400k) bench_tiny 400k "$B/tiny-400k" "$BIG_RUNS" ;;
	tiny2m) bench_tiny 2M "$B/tiny-2m" "$HUGE_RUNS" ;;
	esac
done

echo "mkfs.erofs benchmark, $(nproc) cores, medians of $RUNS/$BIG_RUNS/$HUGE_RUNS runs (small/big/2M inputs)"
echo "ours: $ours ($("$ours" --version 2>/dev/null | head -1))"
[ -n "$eu" ] && echo "erofs-utils: $eu ($("$eu" --version 2>/dev/null | head -1))"
echo "options: --chunksize=65536 --blobdev=BLOB (ours takes archives as SOURCE)"
echo
if [ ${#rows[@]} -gt 0 ]; then
	echo "$header"
	echo "|---|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
	echo
fi
if [ ${#trows[@]} -gt 0 ]; then
	echo "| tiny files | tool | time | per entry | max RSS | RSS per entry | (RSS - one-file build) per entry |"
	echo "|---|---|---|---|---|---|---|"
	printf '%s\n' "${trows[@]}"
fi
