#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# mkfs.erofs benchmark: a >= 1 GiB generated tree (tens of thousands of small
# files plus large ones, >= 30% duplicate chunks) converted by our mkfs.erofs,
# against the I/O floor (tar -cf of the same tree) and Debian erofs-utils'
# mkfs.erofs with the same --chunksize/--blobdev, all measured in this run
# with a warm page cache.  Prints times, ratios and our peak RSS.
#
#   bench/mkfs.sh [WORKDIR]   (BUILD=... selects the build directory)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
ours=$BUILD/mkfs/mkfs.erofs
[ -x "$BUILD/mkfs/.libs/mkfs.erofs" ] && ours=$BUILD/mkfs/.libs/mkfs.erofs
export LD_LIBRARY_PATH=$BUILD/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
work=${1:-/var/tmp/erofs-bench}
chunk=${CHUNK:-64k}
runs=${RUNS:-5}
mkdir -p "$work"
src=$work/tree
if [ ! -f "$work/.tree-done" ]; then
	rm -rf "$src"
	python3 "$top/bench/gentree.py" "$src"
	touch "$work/.tree-done"
fi
out=$work/out
mkdir -p "$out"
du -sb "$src" | awk '{printf "tree: %.1f MiB, ", $1/1048576}'
find "$src" -type f | wc -l | awk '{print $1 " files"}'
# warm the page cache so every contender reads from memory
tar -cf - -C "$src" . >/dev/null

# best of $runs wall-clock seconds of a command
best() {
	local b="" t s e
	for _ in $(seq "$runs"); do
		rm -f "$out"/*
		sync
		s=$(date +%s.%N)
		"$@" >/dev/null 2>&1 || { echo "FAILED: $*" >&2; exit 1; }
		e=$(date +%s.%N)
		t=$(echo "$e - $s" | bc)
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
	done
	echo "$b"
}

t_tar=$(best tar -cf "$out/tree.tar" -C "$src" .)
t_ours=$(best "$ours" --quiet -T 0 -U clear --chunksize="$chunk" \
	--blobdev="$out/ours.blob" "$out/ours.erofs" "$src")
"$ours" --quiet -T 0 -U clear --chunksize="$chunk" --blobdev="$out/ours.blob" \
	--manifest="$out/ours.json" "$out/ours.erofs" "$src"
ours_blob=$(stat -c %s "$out/ours.blob")
counts=$(jq -c .counts "$out/ours.json")
rss=$( { /usr/bin/time -f '%M' "$ours" --quiet -T 0 -U clear \
	--chunksize="$chunk" --blobdev="$out/ours.blob" "$out/ours.erofs" \
	"$src" >/dev/null; } 2>&1 | tail -1)
t_utils=$(best mkfs.erofs --quiet -T 0 --chunksize="$(numfmt --from=iec "${chunk^^}")" \
	--blobdev="$out/utils.blob" "$out/utils.erofs" "$src")
mkfs.erofs --quiet -T 0 --chunksize="$(numfmt --from=iec "${chunk^^}")" \
	--blobdev="$out/utils.blob" "$out/utils.erofs" "$src" >/dev/null 2>&1
utils_blob=$(stat -c %s "$out/utils.blob")

echo "chunk size $chunk, best of $runs runs, warm cache"
printf '%-34s %8.2f s\n' "tar -cf (I/O floor)" "$t_tar"
printf '%-34s %8.2f s   %.2fx tar   peak RSS %d MiB\n' "ours: mkfs.erofs --blobdev" \
	"$t_ours" "$(echo "$t_ours / $t_tar" | bc -l)" "$((rss / 1024))"
printf '%-34s %8.2f s   %.2fx tar   ours is %.2fx faster\n' \
	"erofs-utils $(dpkg-query -W -f='${Version}' erofs-utils)" "$t_utils" \
	"$(echo "$t_utils / $t_tar" | bc -l)" "$(echo "$t_utils / $t_ours" | bc -l)"
echo "blob bytes: ours $ours_blob, erofs-utils $utils_blob"
echo "ours: $counts"
