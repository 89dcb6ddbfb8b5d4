#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Kernel end-to-end suite: boots our own 6.12 kernel with the cachefiles
# on-demand mode under qemu (TCG) and runs guest scenarios against it.
#
#   BUILD=/path/to/build tests/kernel/run.sh [-v]
#
# Boots (each a few seconds to a minute under TCG):
#   A  patched kernel, fresh cache disk:  smoke ondemand trap22 [fetchd]
#   B  patched kernel, A's cache disk:    persist (cache reused after reboot)
#   C  unpatched kernel, fresh disk:      trap22 (the bug must show)
# plus host-side checks of A's cache disk read back with debugfs.
#
# Prints "ok - ..." / "not ok - ..." lines and exits non-zero on any
# failure.  The first run builds the kernels (kernel/build.sh, ~5 min each
# cold, cached afterwards outside the tree).  -v copies guest consoles to
# stderr.  KEEP=1 keeps the scratch directory.

set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$top/build}
kdir=$top/kernel
verbose=
[ "${1:-}" = -v ] && verbose=-v

failures=0
ok() { echo "ok - kernel/$1"; }
notok() { echo "not ok - kernel/$1: $2"; failures=$((failures + 1)); }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/kernel-suite.XXXXXX")
cleanup() {
	if [ "${KEEP:-0}" = 1 ]; then
		echo "kernel suite scratch kept in $scratch" >&2
	else
		rm -rf "$scratch"
	fi
}
trap cleanup EXIT

# --- kernels ---------------------------------------------------------------
if ! kp=$("$kdir/build.sh"); then
	notok build-patched-kernel "kernel/build.sh failed"
	exit 1
fi
ok build-patched-kernel
if ! ku=$("$kdir/build.sh" --unpatched); then
	notok build-unpatched-kernel "kernel/build.sh --unpatched failed"
	ku=
else
	ok build-unpatched-kernel
fi

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

# trap 22: holes made by punch-holes.py (erofs-utils 1.5 writes none)
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

# --- boots -------------------------------------------------------------------
# boot NAME KERNEL VARIANT "SCENARIOS" CACHEDISK [run-qemu options]
boot() {
	local name=$1 kernel=$2 variant=$3 scen=$4 disk=$5 rc
	shift 5
	if ! "$kdir/mkinitramfs.sh" -o "$scratch/$name.cpio.gz" \
		-s "$here/guest-main.sh" ${bins[@]+"${bins[@]}"} \
		-d "$data:/data" -d "$here/scenarios:/test/scenarios" \
		-e "T_SCENARIOS=$scen" -e "T_KERNEL=$variant" \
		2> "$scratch/$name.mkinitramfs.err"; then
		notok "$name/initramfs" "$(tail -n 3 "$scratch/$name.mkinitramfs.err" | tr '\n' ' ')"
		return 1
	fi
	"$kdir/run-qemu.sh" $verbose -k "$kernel" -i "$scratch/$name.cpio.gz" \
		-c "$disk" -l "$scratch/$name.console.log" -t "${KERNEL_BOOT_TIMEOUT:-300}" \
		"$@" > "$scratch/$name.results"
	rc=$?
	sed "s|^\(not \)\{0,1\}ok - |&kernel/$name/|" "$scratch/$name.results"
	failures=$((failures + $(grep -c '^not ok' "$scratch/$name.results")))
	if [ $rc != 0 ] && ! grep -q '^not ok' "$scratch/$name.results"; then
		notok "$name/boot" "run-qemu.sh exited with $rc"
	fi
	if [ $rc != 0 ]; then
		echo "--- console of boot $name (last 40 lines) ---" >&2
		tail -n 40 "$scratch/$name.console.log" >&2
	fi
	return $rc
}

scen_a="smoke ondemand trap22"
scen_c="trap22"
if [ -x "$fetchd" ]; then
	scen_a="$scen_a fetchd"
	if [ -r "$data/ours.sha256" ]; then
		scen_a="$scen_a ourmkfs"
		scen_c="$scen_c ourmkfs"
	fi
fi
boot A "$kp" patched "$scen_a" "$scratch/cache-a.img" -n

# Host side: the cache disk holds what cachefiles committed at umount.
if "$kdir/read-disk.sh" "$scratch/cache-a.img" "$scratch/disk-a" 2> "$scratch/read-disk.err"; then
	ok host/read-cache-disk
	f=$(ls -d "$scratch"/disk-a/tree/fscache/cache/Ierofs,od-boot/@??/Dod-blob 2>/dev/null | head -n 1)
	if [ -n "$f" ]; then
		ok host/cache-file-for-blob
		rel=${f#"$scratch/disk-a/tree"}
		want=$(printf '%016x0000000000000000' "$(stat -c %s "$data/blobs/od-blob")")01
		got=$(awk -F'\t' -v p="$rel" '$1 == p && $2 == "user.CacheFiles.cache" { print $3 }' \
			"$scratch/disk-a/xattrs")
		# object_size be64, zero_point be64, type 1 (data); content byte
		# follows and is left out of the comparison
		if [ "${got:0:34}" = "$want" ] && [ ${#got} = 36 ]; then
			ok host/cache-xattr-object-size
		else
			notok host/cache-xattr-object-size "want ${want}xx, got '$got'"
		fi
		# blocks read in the guest are in the cache file, byte for byte
		if cmp -s -n 4096 "$f" "$data/blobs/od-blob"; then
			ok host/cache-file-data
		else
			notok host/cache-file-data "first block differs from the blob"
		fi
	else
		notok host/cache-file-for-blob "no cache/Ierofs,od-boot/@xx/Dod-blob on the disk"
	fi
	vol=$(awk -F'\t' '$1 == "/fscache/cache/Ierofs,od-boot" { print $3 }' "$scratch/disk-a/xattrs")
	[ "$vol" = 00000000 ] && ok host/volume-xattr ||
		notok host/volume-xattr "want 00000000, got '$vol'"
else
	notok host/read-cache-disk "$(tail -n 2 "$scratch/read-disk.err" | tr '\n' ' ')"
fi

boot B "$kp" patched "persist" "$scratch/cache-a.img"
if [ -n "$ku" ]; then
	boot C "$ku" unpatched "$scen_c" "$scratch/cache-c.img" -n
fi

[ "$failures" = 0 ]
