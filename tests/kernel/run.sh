#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Kernel end-to-end suite: boots our own kernels with the cachefiles
# on-demand mode under qemu (TCG) and runs guest scenarios against them.
#
#   BUILD=/path/to/build tests/kernel/run.sh [-v] [--kernel LINES]
#                                            [--scenarios NAMES]
#
#   --kernel LINES     kernel lines to run, space or comma separated
#                      (default "6.12 6.1", or $KERNEL_LINES)
#   --scenarios NAMES  run only these scenarios (default all, or
#                      $KERNEL_SCENARIOS); boots left without one are
#                      skipped, and the host checks of a scenario's cache
#                      only run with it.  "persist" needs "ondemand",
#                      "metapersist" needs "meta" (they read A's cache).
#   -v                 copy guest consoles to stderr
#
# Boots per kernel line L (each a few seconds to a minute under TCG), named
# kernel/L/BOOT/... in the results:
#   A  fresh cache disk, the line's default kernel (6.12: patched):
#      smoke ondemand trap22 [fetchd cull ourmkfs meta ourhttp failures
#      seeded emount]
#   B  same kernel, A's cache disk: persist [metapersist] (cache reused
#      after reboot)
#   C  only when the line has patches (6.12): the unpatched kernel, fresh
#      disk: trap22 (the bug must show) [ourmkfs]
# 6.1 has no patches (kernel/patches is for 6.12), so its A and B run the
# unpatched kernel, and trap22 there must show the bug (it does: 6.1's
# erofs_fscache_data_read has the same zero-fill).  Scenarios that need a
# kernel feature a line lacks say so with "ok - NAME # SKIP reason".
# Plus host-side checks of each A cache disk read back with debugfs.  The
# bracketed scenarios need our tools in $BUILD.  With them, A's cache disk
# is made here and seeded on the host (erofs-cookies seed through a loop
# mount) before the boot, and the cache files the kernel wrote for the
# "meta" images are compared with erofs-cookies' predictions afterwards.
#
# Prints "ok - ..." / "not ok - ..." lines and exits non-zero on any
# failure.  The first run builds the kernels (kernel/build.sh, ~5-20 min
# each cold, cached afterwards outside the tree).  KEEP=1 keeps the scratch
# directory.

set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$top/build}
kdir=$top/kernel
verbose=
lines=${KERNEL_LINES:-6.12 6.1}
only=${KERNEL_SCENARIOS:-}
while [ $# -gt 0 ]; do
	case "$1" in
	-v) verbose=-v ;;
	--kernel) lines=${2:?--kernel needs LINES}; shift ;;
	--scenarios) only=${2:?--scenarios needs NAMES}; shift ;;
	-h|--help) sed -n '3,42p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "usage: $0 [-v] [--kernel LINES] [--scenarios NAMES]" >&2; exit 2 ;;
	esac
	shift
done
lines=${lines//,/ }
only=${only//,/ }

failures=0
ok() { echo "ok - kernel/$1"; }
notok() { echo "not ok - kernel/$1: $2"; failures=$((failures + 1)); }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/kernel-suite.XXXXXX")
seed_mnt=
cleanup() {
	[ -z "$seed_mnt" ] || umount "$seed_mnt" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then
		echo "kernel suite scratch kept in $scratch" >&2
	else
		rm -rf "$scratch"
	fi
}
trap cleanup EXIT

# --- guest programs --------------------------------------------------------
mini=$scratch/ondemand-mini
if ! ${CC:-cc} -std=gnu11 -static -O2 -Wall -Wextra -Werror \
	-o "$mini" "$here/ondemand-mini.c" 2> "$scratch/cc.err"; then
	notok build-ondemand-mini "$(tail -n 3 "$scratch/cc.err" | tr '\n' ' ')"
	exit 1
fi
bins=(-b "$mini")
fetchd=$BUILD/fetchd/erofs-fetchd
[ -x "$fetchd" ] && bins+=(-b "$fetchd")

# --- test data, made on the host with Debian's erofs-utils -------------------
data=$scratch/data
mkdir -p "$data/blobs" "$scratch/src/smoke/dir/sub" "$scratch/src/od" "$scratch/src/t22"
mkerofs() { mkfs.erofs --quiet -T0 -U 6f6e6465-6d61-6e64-2d74-657374696d67 --all-root "$@"; }
sums() { (cd "$1" && find . -type f | LC_ALL=C sort | xargs sha256sum) > "$2"; }

s=$scratch/src/smoke
head -c 300000 /dev/urandom > "$s/random.bin"
echo "hello from the host" > "$s/dir/hello.txt"
seq 1 20000 > "$s/dir/sub/numbers.txt"
ln -s dir/hello.txt "$s/link"
: > "$s/empty"
mkerofs "$data/smoke.erofs" "$s" || notok make-smoke-image "mkfs.erofs failed"
sums "$s" "$data/smoke.sha256"

# chunked image with one blob device (erofs-utils leaves its tag empty, so
# the cookie key comes from device=); 64 KiB chunks; a zero chunk and a
# repeated chunk exercise the dedup paths
o=$scratch/src/od
head -c 1500000 /dev/urandom > "$o/big.bin"
head -c 65536 /dev/urandom > "$o/chunk"
cat "$o/chunk" "$o/chunk" "$o/chunk" > "$o/repeated.bin"
head -c 200000 /dev/zero > "$o/zeros.bin"
mkdir -p "$o/d"
for i in $(seq 1 30); do echo "file $i" > "$o/d/f$i"; done
(cd "$o" && ln -s big.bin biglink)
rm -f "$o/chunk"
mkerofs --chunksize=65536 --blobdev="$data/blobs/od-blob" \
	"$data/blobs/od-boot" "$o" || notok make-od-image "mkfs.erofs failed"
# big.bin first: the EIO scenario reads the first manifest line's file
(cd "$o" && { sha256sum ./big.bin; find . -type f ! -name big.bin |
	LC_ALL=C sort | xargs sha256sum; }) > "$data/od.sha256"
# copies under other names: new volumes/cookies that start uncached
for n in eio-boot dom-a dom-b fd-boot http-boot sv-boot; do
	cp "$data/blobs/od-boot" "$data/blobs/$n"
done
for n in eio-blob fd-blob http-blob sv-blob; do
	cp "$data/blobs/od-blob" "$data/blobs/$n"
done

# docs/kernel-facts.md §22: holes made by punch-holes.py (erofs-utils 1.5 writes none)
t=$scratch/src/t22
{ head -c 65536 /dev/zero; head -c 165536 /dev/urandom; } > "$t/holefirst"
truncate -s 1M "$t/sparse" && printf abc >> "$t/sparse"
head -c 200000 /dev/urandom > "$t/plain"
mkerofs --chunksize=65536 "$data/blobs/t22" "$t" || notok make-t22-image "mkfs.erofs failed"
nids=$(for f in holefirst sparse; do
	dump.erofs --path="/$f" "$data/blobs/t22" | sed -n 's/^NID: \([0-9]*\).*/\1/p'
done)
if python3 "$here/punch-holes.py" "$data/blobs/t22" $nids > "$scratch/punch.out" 2>&1 &&
   grep -q 'nid .*: [1-9][0-9]* of' "$scratch/punch.out"; then
	ok t22-image-has-holes
else
	notok t22-image-has-holes "$(tr '\n' ' ' < "$scratch/punch.out")"
fi
(cd "$t" && sha256sum holefirst sparse plain) > "$data/t22.sha256"
if fsck.erofs "$data/blobs/t22" > "$scratch/fsck.out" 2>&1; then
	ok t22-image-fsck
else
	notok t22-image-fsck "$(tail -n 2 "$scratch/fsck.out" | tr '\n' ' ')"
fi

# our own mkfs.erofs, when built: zero chunks, a sparse file, a zero first
# chunk; the blob is served under its tag
mkfs=$BUILD/mkfs/mkfs.erofs
if [ -x "$mkfs" ]; then
	m=$scratch/src/ours
	mkdir -p "$m/dir"
	{ head -c 65536 /dev/zero; head -c 165536 /dev/urandom; } > "$m/holefirst"
	truncate -s 1M "$m/sparse" && printf abc >> "$m/sparse"
	head -c 300000 /dev/zero > "$m/zeros"
	head -c 700000 /dev/urandom > "$m/dir/random"
	cp "$m/dir/random" "$m/dir/random-copy"
	echo small > "$m/dir/small"
	if "$mkfs" --quiet --chunksize=65536 --blobdev="$scratch/ours-blob" \
		--manifest="$scratch/ours.json" -T0 --all-root \
		"$data/blobs/ours-boot" "$m" > "$scratch/ours.out" 2>&1 &&
	   tag=$(jq -r '.blobs[0].tag' "$scratch/ours.json") &&
	   [ -n "$tag" ] && [ "$tag" != null ]; then
		mv "$scratch/ours-blob" "$data/blobs/$tag"
		sums "$m" "$data/ours.sha256"
		ok make-ours-image
	else
		notok make-ours-image "$(tail -n 2 "$scratch/ours.out" | tr '\n' ' ')"
	fi
fi
cookies=$BUILD/cookies/erofs-cookies
[ -x "$cookies" ] && bins+=(-b "$cookies")

# --- our toolchain on a metadata-rich tree (scenarios meta, seeded, failures)
# tests/kernel/mktree.sh makes the tree; our mkfs.erofs builds it with 4 KiB,
# 64 KiB and 1 MiB chunks; bootstraps go to data/blobs/FSID, blobs to
# data/blobs/TAG (the tag in the device table names the blob, no device=).
have_meta=0
extra_env=()
mkmeta() {	# mkmeta FSID CHUNKSIZE SRC [MKFS OPTIONS]: build, print the blob's tag
	local fsid=$1 cs=$2 src=$3 tag
	shift 3
	"$mkfs" --quiet --chunksize="$cs" --blobdev="$scratch/$fsid.blob" "$@" \
		--manifest="$scratch/$fsid.json" -T 1700000000 --mkfs-time \
		"$data/blobs/$fsid" "$src" > "$scratch/$fsid.mkfs.out" 2>&1 ||
		return 1
	tag=$(jq -r '.blobs[0].tag' "$scratch/$fsid.json")
	[ -n "$tag" ] && [ "$tag" != null ] || return 1
	mv "$scratch/$fsid.blob" "$data/blobs/$tag"
	echo "$tag"
}
if [ -x "$mkfs" ] && [ -x "$fetchd" ] && [ -x "$cookies" ]; then
	metalist=$scratch/metalist
	mt=$scratch/src/meta
	if ! ${CC:-cc} -std=gnu11 -static -O2 -Wall -Wextra -Werror \
		-o "$metalist" "$here/metalist.c" 2> "$scratch/cc.err"; then
		notok build-metalist "$(tail -n 3 "$scratch/cc.err" | tr '\n' ' ')"
	elif ! "$here/mktree.sh" "$mt" 1700000000 > "$scratch/mktree.out" 2>&1 ||
	     ! "$metalist" "$mt" > "$data/meta.list"; then
		notok make-meta-tree "$(tail -n 2 "$scratch/mktree.out" | tr '\n' ' ')"
	else
		bins+=(-b "$metalist")
		(cd "$mt" && find . -type f -print0 | LC_ALL=C sort -z |
			xargs -0 sha256sum) > "$data/meta.sha256"
		have_meta=1
		: > "$data/meta.images"
		for cs in 4k 64k 1M; do
			if tag=$(mkmeta "meta-$cs" "$cs" "$mt"); then
				echo "meta-$cs $tag" >> "$data/meta.images"
				eval "tag_$cs=\$tag"
			else
				notok "make-meta-$cs-image" "$(tail -n 2 "$scratch/meta-$cs.mkfs.out" | tr '\n' ' ')"
				have_meta=0
			fi
		done
	fi
fi
if [ "$have_meta" = 1 ]; then
	ok make-meta-images
	# exactly one file read: its chunks' pages in the blob, found by
	# looking its chunks up in the blob (no EROFS parser involved)
	cp "$data/blobs/meta-4k" "$data/blobs/part-4k"
	if want=$(python3 - "$data/blobs/$tag_4k" "$mt/files/repeated" 4096 <<'PY'
import sys
blob = open(sys.argv[1], "rb").read()
data = open(sys.argv[2], "rb").read()
cs = int(sys.argv[3])
pages = set()
for i in range(0, len(data), cs):
    c = data[i:i + cs]
    off = blob.find(c)
    while off >= 0 and off % 4096:
        off = blob.find(c, off + 1)
    if off < 0 or not c.strip(b"\0"):
        sys.exit("chunk %d not found (or all zero)" % (i // cs))
    pages.update(range(off // 4096, (off + len(c) + 4095) // 4096))
print(len(pages) * 4096)
PY
	); then
		echo "part-4k $tag_4k files/repeated $want" > "$data/meta.part"
		ok meta-partial-expected
	else
		notok meta-partial-expected "could not locate the chunks in the blob"
	fi
	# a domain: the same tree built twice with random UUIDs (without -U
	# the UUID comes from the content, the bootstraps would be the same):
	# two bootstraps, one blob
	ta=$(mkmeta mdom-a 64k "$mt" -U random) &&
		tb=$(mkmeta mdom-b 64k "$mt" -U random)
	if [ -n "$ta" ] && [ "$ta" = "$tb" ] &&
	   ! cmp -s "$data/blobs/mdom-a" "$data/blobs/mdom-b"; then
		echo "metadom mdom-a mdom-b $ta" > "$data/meta.domain"
		ok meta-domain-images-share-blob
	else
		notok meta-domain-images-share-blob "tags '$ta' and '$tb'"
	fi
	# scenario ourhttp: meta-64k over HTTP under a fresh fsid; the manifest
	# names the published files (bootstrap by fsid, blob by tag)
	cp "$data/blobs/meta-64k" "$data/blobs/ohttp-64k"
	if jq '.bootstrap.path = "ohttp-64k" | .blobs |= map(.path = .tag)' \
		"$scratch/meta-64k.json" > "$data/ourhttp.json"; then
		echo "ohttp-64k $tag_64k" > "$data/ourhttp.images"
	else
		notok make-ourhttp-manifest "jq failed on $scratch/meta-64k.json"
	fi
	# failure cases: an image whose blob is nowhere, copies of meta-64k
	mkdir -p "$scratch/src/miss"
	head -c 100000 /dev/urandom > "$scratch/src/miss/data"
	if mtag=$(mkmeta miss-boot 64k "$scratch/src/miss"); then
		rm -f "$data/blobs/$mtag"
		echo "$mtag" > "$data/meta.misstag"
		cp "$data/blobs/meta-64k" "$data/blobs/fail-64k"
		cp "$data/blobs/meta-64k" "$data/blobs/stall-64k"
		echo "miss-boot fail-64k stall-64k $tag_64k files/big" > "$data/meta.fail"
	else
		notok make-miss-image "$(tail -n 2 "$scratch/miss-boot.mkfs.out" | tr '\n' ' ')"
	fi
	# scenario emount: erofs-mount with the cachefiles backend; manifests
	# with an fsid (erofs-mount mounts fsid= from the manifest) for the
	# 64 KiB image (a directory source: the manifest's own directory) and
	# the 1 MiB one (HTTP); the 4 KiB bootstrap, whose tags are SHA-256,
	# is mounted bare
	if [ -x "$BUILD/mount/erofs-mount" ]; then
		mkdir -p "$data/em"
		# same tree and options: the same blobs (and tags) again
		if t64=$(mkmeta em-man 64k "$mt" --fsid em-man) &&
		   t1m=$(mkmeta em-http 1M "$mt" --fsid em-http) &&
		   [ "$t64" = "$tag_64k" ] && [ "$t1m" = "$tag_1M" ] &&
		   mv "$data/blobs/em-man" "$data/em/em-man.boot" &&
		   cp "$data/blobs/$tag_64k" "$data/em/" &&
		   jq '.bootstrap.path = "em-man.boot" | .blobs |= map(.path = .tag)' \
			"$scratch/em-man.json" > "$data/em/em-man.json" &&
		   jq '.bootstrap.path = "em-http" | .blobs |= map(.path = .tag)' \
			"$scratch/em-http.json" > "$data/em-http.json" &&
		   [ "$(jq -r .cookies.fsid "$data/em/em-man.json")" = em-man ]; then
			echo "$tag_64k $tag_4k $tag_1M" > "$data/em.images"
			bins+=(-b "$BUILD/mount/erofs-mount")
		else
			notok make-emount-images "tags '$t64' '$t1m': $(tail -n 2 "$scratch/em-man.mkfs.out" "$scratch/em-http.mkfs.out" 2>&1 | tr '\n' ' ')"
		fi
		# and OCI layouts erofs-convert made of the 4-layer umoci image
		# of tests/lib/oci-image.sh (whiteouts, an opaque directory):
		# merged (64 KiB chunks) and --no-merge; the listing and sums of
		# its `umoci unpack`
		conv=$BUILD/convert/erofs-convert
		ow=$scratch/oci
		if [ -r "$data/em.images" ] && [ -x "$conv" ] &&
		   command -v umoci > /dev/null; then
			if (W=$ow IMG=$ow/img R=$ow/bundle/rootfs
			    PY=${PYTHON:-python3}
			    mkdir -p "$W" && . "$here/../lib/oci-image.sh" &&
			    oci_mkimage) > "$scratch/oci.out" 2>&1 &&
			   "$conv" --quiet --chunksize=64K "oci:$ow/img:t" \
				"$data/oci-m" 2>> "$scratch/oci.out" &&
			   "$conv" --quiet --no-merge "oci:$ow/img:t" \
				"$data/oci-nm" 2>> "$scratch/oci.out" &&
			   "$metalist" "$ow/bundle/rootfs" > "$data/oci.list" &&
			   (cd "$ow/bundle/rootfs" && find . -type f -print0 |
				LC_ALL=C sort -z | xargs -0 sha256sum) \
				> "$data/oci.sha256"; then
				:
			else
				rm -f "$data/oci.list"
				notok make-oci-layouts "$(tail -n 2 "$scratch/oci.out" | tr '\n' ' ')"
			fi
		fi
	fi
	# the seeded cache, written on the host straight onto boot A's ext4
	# cache disk ("mkfs.ext4 -d" would turn the blob's all-zero blocks
	# into holes, which the kernel then fetches); each line's A gets a copy
	cp "$data/blobs/meta-1M" "$data/blobs/seed-1m"
	echo "seed-1m $tag_1M" > "$data/meta.seed"
	disk_a=$scratch/cache-seed.img
	truncate -s 256M "$disk_a"
	mkfs.ext4 -q -F -b 4096 -L erofs-cache "$disk_a"
	mkdir -p "$scratch/seedmnt"
	if mount -o loop "$disk_a" "$scratch/seedmnt" 2> "$scratch/seed.err"; then
		seed_mnt=$scratch/seedmnt
		if "$cookies" seed --cache-dir "$seed_mnt/seeded" \
			--blob-dir "$data/blobs" --fsid seed-1m \
			"$data/blobs/seed-1m" >> "$scratch/seed.err" 2>&1 &&
		   "$cookies" check --cache-dir "$seed_mnt/seeded" \
			--blob-dir "$data/blobs" --fsid seed-1m \
			"$data/blobs/seed-1m" >> "$scratch/seed.err" 2>&1; then
			ok host/seed-on-cache-disk
		else
			notok host/seed-on-cache-disk "$(tail -n 2 "$scratch/seed.err" | tr '\n' ' ')"
		fi
		umount "$seed_mnt" && seed_mnt=
	else
		echo "kernel suite: cannot loop-mount the cache disk; seeding in the guest" >&2
		extra_env+=(-e T_SEED_IN_GUEST=1)
	fi
fi

# --- kernels ---------------------------------------------------------------
# per line: kdef_L (the default kernel), vdef_L (its variant), kunp_L (the
# unpatched one when the line has patches, else empty)
variant_of() { basename "$(dirname "$1")" | sed 's/-.*//'; }
kvar() { echo "${1//./_}"; }
built_lines=
for L in $lines; do
	case "$L" in
	*[!0-9.]* | '') notok "build-kernel-$L" "kernel line '$L': X.Y expected"; continue ;;
	esac
	if ! k=$("$kdir/build.sh" --version "$L"); then
		notok "build-$L-kernel" "kernel/build.sh --version $L failed"
		continue
	fi
	v=$(variant_of "$k")
	ok "build-$L-$v-kernel"
	eval "kdef_$(kvar "$L")=\$k vdef_$(kvar "$L")=\$v kunp_$(kvar "$L")="
	if [ "$v" = patched ]; then
		if ! k=$("$kdir/build.sh" --version "$L" --unpatched); then
			notok "build-$L-unpatched-kernel" "kernel/build.sh --version $L --unpatched failed"
		else
			ok "build-$L-unpatched-kernel"
			eval "kunp_$(kvar "$L")=\$k"
		fi
	fi
	built_lines="$built_lines $L"
done
[ -n "$built_lines" ] || exit 1

# pick "NAMES": the names that --scenarios selects
pick() {
	local n out=
	for n in $1; do
		if [ -z "$only" ] || [[ " $only " == *" $n "* ]]; then
			out="$out $n"
		fi
	done
	echo "${out# }"
}
picked() { [ -n "$(pick "$1")" ]; }

# --- boots -------------------------------------------------------------------
# boot NAME KERNEL VARIANT "SCENARIOS" CACHEDISK [run-qemu options]
# NAME is L/BOOT (results kernel/L/BOOT/...); files go to $scratch/L-BOOT.*
boot() {
	local name=$1 kernel=$2 variant=$3 scen=$4 disk=$5 rc f
	shift 5
	f=$scratch/${name//\//-}
	if ! "$kdir/mkinitramfs.sh" -o "$f.cpio.gz" \
		-s "$here/guest-main.sh" ${bins[@]+"${bins[@]}"} \
		-d "$data:/data" -d "$here/scenarios:/test/scenarios" \
		-e "T_SCENARIOS=$scen" -e "T_KERNEL=$variant" \
		${extra_env[@]+"${extra_env[@]}"} \
		2> "$f.mkinitramfs.err"; then
		notok "$name/initramfs" "$(tail -n 3 "$f.mkinitramfs.err" | tr '\n' ' ')"
		return 1
	fi
	"$kdir/run-qemu.sh" $verbose -k "$kernel" -i "$f.cpio.gz" \
		-c "$disk" -l "$f.console.log" -t "${KERNEL_BOOT_TIMEOUT:-300}" \
		"$@" > "$f.results"
	rc=$?
	sed "s|^\(not \)\{0,1\}ok - |&kernel/$name/|" "$f.results"
	failures=$((failures + $(grep -c '^not ok' "$f.results")))
	if [ $rc != 0 ] && ! grep -q '^not ok' "$f.results"; then
		notok "$name/boot" "run-qemu.sh exited with $rc"
	fi
	if [ $rc != 0 ]; then
		echo "--- console of boot $name (last 40 lines) ---" >&2
		tail -n 40 "$f.console.log" >&2
	fi
	return $rc
}

scen_a="smoke ondemand trap22"
scen_c="trap22"
if [ -x "$fetchd" ]; then
	scen_a="$scen_a fetchd cull"
	if [ -r "$data/ours.sha256" ]; then
		scen_a="$scen_a ourmkfs"
		scen_c="$scen_c ourmkfs"
	fi
fi
scen_b="persist"
if [ "$have_meta" = 1 ]; then
	scen_a="$scen_a meta ourhttp failures seeded"
	scen_b="$scen_b metapersist"
	[ -r "$data/em.images" ] && scen_a="$scen_a emount"
fi

# Every cache file the kernel wrote for our images is exactly where
# erofs-cookies predicts, with the predicted 18-byte xattr (be64 object
# size, be64 zero point 0, type 1, content 0), and nothing else is there.
# check_predicted L NAME ROOT "FSID[:DOMAIN]"...  (ROOT: the daemon's
# cache directory relative to line L's A disk)
check_predicted() {
	local L=$1 lab=$2 name=$1-$2 root=$3 spec fsid dom bad=0 n=0 p size want got
	local da=$scratch/$1-disk-a
	shift 3
	: > "$scratch/$name.pred"
	: > "$scratch/$name.vols"
	for spec in "$@"; do
		fsid=${spec%%:*}
		dom=
		[ "$spec" = "$fsid" ] || dom=${spec#*:}
		"$cookies" --fsid="$fsid" ${dom:+--domain-id="$dom"} \
			--blob-dir="$data/blobs" --json "$data/blobs/$fsid" \
			> "$scratch/$name.json" 2> "$scratch/$name.err" || {
			notok "$L/host/$lab-predict" "erofs-cookies $spec: $(tail -n 1 "$scratch/$name.err")"
			return
		}
		jq -r '.cookies[] | "\(.cache_path) \(.object_size)"' \
			"$scratch/$name.json" >> "$scratch/$name.pred"
		jq -r '"cache/" + .volume_dir' "$scratch/$name.json" >> "$scratch/$name.vols"
	done
	sort -u -o "$scratch/$name.pred" "$scratch/$name.pred"
	sort -u -o "$scratch/$name.vols" "$scratch/$name.vols"
	while read -r p size; do
		n=$((n + 1))
		if [ ! -f "$da/tree/$root/$p" ]; then
			notok "$L/host/$lab-file-predicted" "no $root/$p on the disk"
			bad=1
			continue
		fi
		want=$(printf '%016x%016x0100' "$size" 0)
		got=$(awk -F'\t' -v p="/$root/$p" '$1 == p && $2 == "user.CacheFiles.cache" { print $3 }' \
			"$da/xattrs")
		if [ "$got" != "$want" ]; then
			notok "$L/host/$lab-xattr-predicted" "$root/$p: want $want, got '$got'"
			bad=1
		fi
	done < "$scratch/$name.pred"
	[ "$bad" = 0 ] && ok "$L/host/$lab-all-$n-predicted-files-with-xattr"
	(cd "$da/tree/$root" && find cache -type f | LC_ALL=C sort) \
		> "$scratch/$name.found"
	cut -d' ' -f1 "$scratch/$name.pred" | LC_ALL=C sort > "$scratch/$name.want"
	if cmp -s "$scratch/$name.want" "$scratch/$name.found"; then
		ok "$L/host/$lab-no-unpredicted-files"
	else
		notok "$L/host/$lab-no-unpredicted-files" "$(diff "$scratch/$name.want" "$scratch/$name.found" | grep '^[<>]' | head -n 3 | tr '\n' ';')"
	fi
	(cd "$da/tree/$root" && find cache -mindepth 1 -maxdepth 1 | LC_ALL=C sort) \
		> "$scratch/$name.foundvols"
	bad=0
	while read -r p; do
		got=$(awk -F'\t' -v p="/$root/$p" '$1 == p && $2 == "user.CacheFiles.cache" { print $3 }' \
			"$da/xattrs")
		[ "$got" = 00000000 ] || { bad=1; notok "$L/host/$lab-volume-xattr" "$p: '$got'"; }
	done < "$scratch/$name.vols"
	if cmp -s "$scratch/$name.vols" "$scratch/$name.foundvols"; then
		[ "$bad" = 0 ] && ok "$L/host/$lab-volumes-as-predicted"
	else
		notok "$L/host/$lab-volumes-as-predicted" "$(diff "$scratch/$name.vols" "$scratch/$name.foundvols" | grep '^[<>]' | head -n 3 | tr '\n' ';')"
	fi
}

# host_checks L: the cache disk of L's boot A, read back on the host,
# holds what cachefiles committed at umount
host_checks() {
	local L=$1 da=$scratch/$1-disk-a f rel want got vol
	if ! "$kdir/read-disk.sh" "$scratch/$L-cache-a.img" "$da" 2> "$scratch/$L-read-disk.err"; then
		notok "$L/host/read-cache-disk" "$(tail -n 2 "$scratch/$L-read-disk.err" | tr '\n' ' ')"
		return
	fi
	ok "$L/host/read-cache-disk"
	if picked ondemand; then
	f=$(ls -d "$da"/tree/fscache/cache/Ierofs,od-boot/@??/Dod-blob 2>/dev/null | head -n 1)
	if [ -n "$f" ]; then
		ok "$L/host/cache-file-for-blob"
		rel=${f#"$da/tree"}
		want=$(printf '%016x0000000000000000' "$(stat -c %s "$data/blobs/od-blob")")01
		got=$(awk -F'\t' -v p="$rel" '$1 == p && $2 == "user.CacheFiles.cache" { print $3 }' \
			"$da/xattrs")
		# object_size be64, zero_point be64, type 1 (data); content byte
		# follows and is left out of the comparison
		if [ "${got:0:34}" = "$want" ] && [ ${#got} = 36 ]; then
			ok "$L/host/cache-xattr-object-size"
		else
			notok "$L/host/cache-xattr-object-size" "want ${want}xx, got '$got'"
		fi
		# blocks read in the guest are in the cache file, byte for byte
		if cmp -s -n 4096 "$f" "$data/blobs/od-blob"; then
			ok "$L/host/cache-file-data"
		else
			notok "$L/host/cache-file-data" "first block differs from the blob"
		fi
	else
		notok "$L/host/cache-file-for-blob" "no cache/Ierofs,od-boot/@xx/Dod-blob on the disk"
	fi
	vol=$(awk -F'\t' '$1 == "/fscache/cache/Ierofs,od-boot" { print $3 }' "$da/xattrs")
	[ "$vol" = 00000000 ] && ok "$L/host/volume-xattr" ||
		notok "$L/host/volume-xattr" "want 00000000, got '$vol'"
	fi
	if [ "$have_meta" = 1 ]; then
		picked meta && check_predicted "$L" meta-cache meta meta-4k \
			meta-64k meta-1M part-4k mdom-a:metadom mdom-b:metadom
		picked seeded && check_predicted "$L" seeded-cache seeded seed-1m
		[ -r "$data/ourhttp.images" ] && picked ourhttp &&
			check_predicted "$L" ourhttp-cache ourhttp ohttp-64k
	fi
}

for L in $built_lines; do
	kv=$(kvar "$L")
	eval "kd=\$kdef_$kv vd=\$vdef_$kv ku=\$kunp_$kv"
	disk=$scratch/$L-cache-a.img
	fresh_a=-n
	if [ -s "$scratch/cache-seed.img" ]; then
		# made (and seeded) above: a copy for this line
		cp --sparse=always "$scratch/cache-seed.img" "$disk"
		fresh_a=
	fi
	if picked "$scen_a"; then
		boot "$L/A" "$kd" "$vd" "$(pick "$scen_a")" "$disk" $fresh_a
		host_checks "$L"
	fi
	picked "$scen_b" &&
		boot "$L/B" "$kd" "$vd" "$(pick "$scen_b")" "$disk"
	if [ -n "$ku" ] && picked "$scen_c"; then
		boot "$L/C" "$ku" unpatched "$(pick "$scen_c")" \
			"$scratch/$L-cache-c.img" -n
	fi
done

[ "$failures" = 0 ]
