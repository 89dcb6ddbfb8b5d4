#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# erofs-convert benchmark: a >= 1 GiB four-layer gzip OCI image
#   1. a Debian 12 root file system (debootstrap minbase)
#   2. linux-6.12/drivers under /usr/src/linux
#   3. the rest of linux-6.12 under /usr/src/linux
#   4. an update: the Debian /usr again (all duplicate data), MAINTAINERS
#      changed, Documentation and sound deleted (whiteouts)
# is converted by erofs-convert (merged, default 1 MiB chunks; and
# --no-merge), against `gzip -dc` of all layers to /dev/null (the
# decompression floor) and erofs-utils 1.9.3 `mkfs.erofs --tar=f --ungzip
# --aufs -Enoinline_data` run per layer, as containerd does.  One run
# each, warm page cache.  Prints times, ratios, our peak RSS and the
# stored bytes against the sum of the layers.
#
#   bench/convert.sh [WORKDIR]      (BUILD=... selects the build directory,
#   PEER_BUILD=... the script building erofs-utils 1.9.3)
# Sources: DEBIAN_ROOT (default /var/tmp/bench/debian12) and LINUX_TREE
# (default /var/tmp/bench/linux-6.12, else extracted from
# /usr/src/linux-source-6.12.tar.xz); without a Debian root, layer 1 is
# linux-6.12/arch.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
conv=$BUILD/convert/erofs-convert
[ -x "$BUILD/convert/.libs/erofs-convert" ] &&
	conv=$BUILD/convert/.libs/erofs-convert
export LD_LIBRARY_PATH=$BUILD/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
work=${1:-/var/tmp/erofs-bench-convert}
umkfs=
for s in "${PEER_BUILD:-}" "$top/../shared/peers/build-erofs-utils.sh" \
	"$top/../../shared/peers/build-erofs-utils.sh"; do
	if [ -n "$s" ] && [ -x "$s" ]; then
		umkfs=$("$s" | tail -n 1)/mkfs/mkfs.erofs
		break
	fi
done
[ -x "$umkfs" ] || { echo "erofs-utils 1.9.3 not found (PEER_BUILD)" >&2; exit 1; }
deb=${DEBIAN_ROOT:-/var/tmp/bench/debian12}
linux=${LINUX_TREE:-/var/tmp/bench/linux-6.12}
mkdir -p "$work"
img=$work/img

if [ ! -d "$linux" ]; then
	linux=$work/linux-6.12
	if [ ! -d "$linux" ]; then
		mkdir -p "$work/src"
		tar -C "$work/src" -xJf /usr/src/linux-source-6.12.tar.xz
		mv "$work/src/linux-source-6.12" "$linux"
	fi
fi

# layer N DIR TAR-ARGS...: gzip layer N from DIR; records its diff_id
layer() {
	local n=$1 dir=$2
	shift 2
	tar -C "$dir" --numeric-owner --xattrs --xattrs-include='*' \
		--sort=name --mtime=@1700000000 --format=pax -cf - "$@" |
		gzip -1 -n >"$img/layer$n.gz"
	gzip -dc "$img/layer$n.gz" | sha256sum | cut -d' ' -f1 >"$img/diff$n"
}

if [ ! -f "$img/.done" ]; then
	rm -rf "$img" "$work/stage"
	mkdir -p "$img"
	echo "making the image in $img (once)"
	if [ -d "$deb" ]; then
		layer 1 "$deb" .
	else
		layer 1 "$linux" ./arch
	fi
	# the kernel tree under usr/src/linux (symlink targets unchanged)
	layer 2 "$linux" --transform='s,^\.,usr/src/linux,S' ./drivers
	layer 3 "$linux" --transform='s,^\.,usr/src/linux,S' \
		--exclude=./drivers .
	rm -rf "$work/stage"
	mkdir -p "$work/stage/usr/src/linux"
	if [ -d "$deb/usr" ]; then
		cp -a "$deb/usr" "$work/stage/"
	else
		cp -a "$linux/arch" "$work/stage/usr/arch-again"
	fi
	mkdir -p "$work/stage/usr/src/linux"
	{ cat "$linux/MAINTAINERS"; echo "changed"; } \
		>"$work/stage/usr/src/linux/MAINTAINERS"
	: >"$work/stage/usr/src/linux/.wh.Documentation"
	: >"$work/stage/usr/src/linux/.wh.sound"
	layer 4 "$work/stage" ./usr
	rm -rf "$work/stage"
	python3 - "$img" <<'EOF'
import hashlib, json, os, sys
d = sys.argv[1]
os.makedirs(os.path.join(d, 'blobs', 'sha256'), exist_ok=True)
def put(data, path=None):
    h = hashlib.sha256()
    if path:
        with open(path, 'rb') as f:
            while True:
                b = f.read(1 << 20)
                if not b:
                    break
                h.update(b)
        size = os.path.getsize(path)
        os.rename(path, os.path.join(d, 'blobs', 'sha256', h.hexdigest()))
    else:
        h.update(data)
        size = len(data)
        open(os.path.join(d, 'blobs', 'sha256', h.hexdigest()), 'wb').write(data)
    return {'digest': 'sha256:' + h.hexdigest(), 'size': size}
layers, diffs = [], []
for n in range(1, 5):
    desc = put(None, os.path.join(d, 'layer%d.gz' % n))
    desc['mediaType'] = 'application/vnd.oci.image.layer.v1.tar+gzip'
    layers.append(desc)
    diffs.append('sha256:' + open(os.path.join(d, 'diff%d' % n)).read().strip())
    os.unlink(os.path.join(d, 'diff%d' % n))
cfg = {'created': '2024-01-01T00:00:00Z', 'architecture': 'amd64',
       'os': 'linux', 'config': {'Cmd': ['/bin/sh']},
       'rootfs': {'type': 'layers', 'diff_ids': diffs},
       'history': [{'created_by': 'layer %d' % n} for n in range(1, 5)]}
c = put(json.dumps(cfg).encode())
c['mediaType'] = 'application/vnd.oci.image.config.v1+json'
m = {'schemaVersion': 2,
     'mediaType': 'application/vnd.oci.image.manifest.v1+json',
     'config': c, 'layers': layers}
md = put(json.dumps(m).encode())
md['mediaType'] = 'application/vnd.oci.image.manifest.v1+json'
md['annotations'] = {'org.opencontainers.image.ref.name': 'bench'}
open(os.path.join(d, 'index.json'), 'w').write(
    json.dumps({'schemaVersion': 2, 'manifests': [md]}))
open(os.path.join(d, 'oci-layout'), 'w').write(
    '{"imageLayoutVersion":"1.0.0"}')
EOF
	touch "$img/.done"
fi

man=$img/blobs/sha256/$(jq -r '.manifests[0].digest' "$img/index.json" | cut -d: -f2)
mapfile -t L < <(jq -r '.layers[].digest' "$man" | sed "s|sha256:|$img/blobs/sha256/|")
gz_total=$(stat -c %s "${L[@]}" | awk '{ s += $1 } END { print s }')
cat "${L[@]}" >/dev/null	# warm the page cache

out=$work/out
rm -rf "$out" "$work/out-nm" "$work/utils"
mkdir -p "$work/utils"
# run NAME CMD...: wall and CPU seconds (user + sys) and peak RSS of CMD
run() {
	local n=$1
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$work/time-$n" "$@" ||
		{ echo "FAILED: $*" >&2; exit 1; }
	read -r wall usr sys rss <"$work/time-$n"
	eval "t_$n=$wall cpu_$n=$(echo "$usr + $sys" | bc) rss_$n=$rss"
}
gunzip_all() { for l in "$@"; do gzip -dc "$l"; done | wc -c >"$work/tar-bytes"; }
utils_all() {
	local i=0 l
	for l in "$@"; do
		i=$((i + 1))
		"$umkfs" --tar=f --ungzip --aufs --quiet -Enoinline_data -b4096 \
			-T0 "$work/utils/layer$i.erofs" "$l" || return 1
	done
}
export -f gunzip_all utils_all
export work umkfs

run gzip bash -c 'gunzip_all "$@"' _ "${L[@]}"
tar_total=$(cat "$work/tar-bytes")
run ours "$conv" --quiet --json "oci:$img:bench" "$out" >"$work/ours.json"
run nm "$conv" --quiet --no-merge "oci:$img:bench" "$work/out-nm"
run utils bash -c 'utils_all "$@"' _ "${L[@]}"
utils_total=$(stat -c %s "$work"/utils/*.erofs | awk '{ s += $1 } END { print s }')

stored=$(jq .bytes_stored "$work/ours.json")
nm_total=$(du -sb "$work/out-nm/blobs" | cut -f1)
mib() { echo "$1 / 1048576" | bc -l; }

printf 'image: %d layers, %.0f MiB gzip, %.0f MiB uncompressed; one run each, warm cache, %d cores\n' \
	"${#L[@]}" "$(mib "$gz_total")" "$(mib "$tar_total")" "$(nproc)"
line() {	# line LABEL NAME
	local t c r
	eval "t=\$t_$2 c=\$cpu_$2 r=\$rss_$2"
	printf '%-46s %7.2f s  %.2fx   CPU %7.2f s  %.2fx   RSS %4d MiB\n' \
		"$1" "$t" "$(echo "$t / $t_gzip" | bc -l)" "$c" \
		"$(echo "$c / $cpu_gzip" | bc -l)" "$((r / 1024))"
}
echo "                                                  wall  (x gzip -dc)      CPU  (x gzip -dc)"
line "gzip -dc of all layers > /dev/null" gzip
line "erofs-convert (merged, 1 MiB chunks)" ours
line "erofs-convert --no-merge" nm
line "erofs-utils 1.9.3 --tar=f --ungzip, per layer" utils
printf 'erofs-convert merged against erofs-utils: %.2fx the wall time, %.2fx the CPU time\n' \
	"$(echo "$t_ours / $t_utils" | bc -l)" "$(echo "$cpu_ours / $cpu_utils" | bc -l)"
printf 'stored: merged %.0f MiB (%.2fx the gzip layers, %.2fx uncompressed), deduplicated %.0f MiB\n' \
	"$(mib "$stored")" "$(echo "$stored / $gz_total" | bc -l)" \
	"$(echo "$stored / $tar_total" | bc -l)" \
	"$(mib "$(jq .bytes_deduplicated "$work/ours.json")")"
printf '        --no-merge %.0f MiB, erofs-utils per layer %.0f MiB\n' \
	"$(mib "$nm_total")" "$(mib "$utils_total")"
jq -c '[.layers[] | {bytes_tar, bytes_stored}]' "$work/ours.json"
