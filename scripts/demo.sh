#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The main job on a built-in example: install what is needed, build, turn an
# example tree into a bootstrap plus a deduplicated blob, and mount it with
# the running kernel (file-backed, the blob as device=), printing what was
# made.  Run as root on Debian 12.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/install-deps.sh
scripts/build.sh "$top/build"
mkfs=$top/build/mkfs/mkfs.erofs
out=${DEMO_DIR:-$top/build/demo}
rm -rf "$out"
mkdir -p "$out/tree/etc" "$out/tree/usr/lib" "$out/tree/data" "$out/mnt"

# the example: a little root file system with duplicate content
cp -a examples/tree/. "$out/tree/"
for i in 1 2 3; do
	cp examples/tree/usr/lib/libexample.so "$out/tree/usr/lib/libcopy$i.so"
done
truncate -s 64M "$out/tree/data/sparse.img"
printf 'tail' >> "$out/tree/data/sparse.img"
ln -sf ../usr/lib/libexample.so "$out/tree/etc/link-to-lib"
setfattr -n user.origin -v demo "$out/tree/etc/hostname" 2>/dev/null || true

echo "== mkfs.erofs: $out/tree -> bootstrap + blob"
"$mkfs" -T 1700000000 -U clear --chunksize=64k \
	--blobdev="$out/layer.blob" --manifest="$out/layer.json" \
	"$out/layer.erofs" "$out/tree"
echo
echo "== manifest ($out/layer.json)"
cat "$out/layer.json"

echo
echo "== mounting with the kernel"
cleanup() {
	umount "$out/mnt" 2>/dev/null || true
	[ -n "${ldev:-}" ] && losetup -d "$ldev" 2>/dev/null
	[ -n "${bdev:-}" ] && losetup -d "$bdev" 2>/dev/null
	true
}
trap cleanup EXIT
if bdev=$(losetup -f --show -r "$out/layer.blob") &&
	ldev=$(losetup -f --show -r "$out/layer.erofs") &&
	mount -t erofs -o ro,device="$bdev" "$ldev" "$out/mnt"; then
	ls -l "$out/mnt" "$out/mnt/usr/lib"
	if diff -r --no-dereference "$out/tree" "$out/mnt" >/dev/null; then
		echo "mounted tree matches the source ($(find "$out/mnt" | wc -l) entries)"
	else
		echo "mounted tree DIFFERS from the source" >&2
		exit 1
	fi
else
	echo "this kernel could not mount the image (no EROFS?); the image is at $out/layer.erofs" >&2
fi
