#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# erofs-mount of OCI layouts erofs-convert wrote, on the host kernel: the
# 4-layer umoci image of tests/lib/oci-image.sh converted (merged, 64 KiB
# chunks) and mounted lazily as oci:DIR, oci:DIR:REF and a bare DIR; the
# tree equals `umoci unpack` field by field, a metadata walk fetches no
# blob byte, --list reports the mount; the blobs served by nginx on
# 127.0.0.1 (--source URL); a --no-merge layout stacked by overlayfs; an
# index with two platforms (--platform); bad input (a wrong digest, a
# missing blob, an unknown REF, a manifest that is not erofs-convert's)
# fails naming the problem with nothing mounted and no daemon left.
#   BUILD=/path/to/build tests/integration/mount-oci.sh
set -u

. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/lazy-common.sh"
. "$(dirname "$0")/../lib/oci-image.sh"
CONV=$BUILD/convert/erofs-convert
export PYTHONDONTWRITEBYTECODE=1

lazy_need
if ! grep -q ' 6\.1[4-9]\.\| 6\.[2-9][0-9]\.\| [7-9]\.' <(echo " $(uname -r)"); then
	skip "erofs-mount of OCI layouts" "needs fanotify pre-content hooks (Linux 6.14+)"
	exit 0
fi
for t in umoci jq nginx; do
	if ! command -v $t >/dev/null && [ ! -x /usr/sbin/$t ]; then
		nok "$t is installed" "not found (scripts/install-deps.sh)"
		exit 1
	fi
done
lazy_cache
W=$T/oci
IMG=$W/img
R=$W/bundle/rootfs
mkdir -p "$W"
oneline() { head -c "${1:-400}" | tr '\n' ' '; }
if oci_mkimage >"$W/mkimage.log" 2>&1; then
	ok "umoci makes a 4-layer image and unpacks it"
else
	nok "umoci makes a 4-layer image" "$(tail -n3 "$W/mkimage.log" | oneline)"
	exit 1
fi
OUT=$W/out
NM=$W/out-nm
if "$CONV" --quiet --chunksize=64K "oci:$IMG:t" "$OUT" 2>"$W/conv.err" &&
	"$CONV" --quiet --no-merge "oci:$IMG:t" "$NM" 2>>"$W/conv.err"; then
	ok "erofs-convert: merged and --no-merge layouts"
else
	nok "erofs-convert" "$(oneline <"$W/conv.err")"
	exit 1
fi
# blob DIR TYPE: the path of the (first) layer of media type TYPE
blob() {
	local d=$1 m
	m=$(jq -r '.manifests[0].digest' "$d/index.json" | cut -d: -f2)
	echo "$d/blobs/sha256/$(jq -r --arg t "$2" \
		'[.layers[] | select(.mediaType == $t)][0].digest' \
		"$d/blobs/sha256/$m" | cut -d: -f2)"
}
# a daemon serving cache NAME runs (erofs-mount starts it with
# "--cache-dir DIR --control ...")
daemon_of() { pgrep -f "erofs-fetchd.*--cache-dir $T/cache/$1 " >/dev/null; }
no_daemon() { ! daemon_of "$1"; }
# treecmp of mount NAME against umoci unpack
tree_eq() {
	$PY "$LIB/treecmp.py" "$R" "$T/mnt/$1" >"$T/cmp-$1.log" 2>&1
}

# ---- merged, lazily, as oci:DIR ----
check "oci:DIR mounts" lazy_mount lazy "oci:$OUT"
check "... with the fanotify backend" grep -q 'mounted .* (backend fanotify)' "$T/lazy.mount.log"
check "... served by a daemon" daemon_of lazy
find "$T/mnt/lazy" -printf '%p %m %U %G %s %T@ %l\n' >/dev/null &&
	getfattr -R -d -m - "$T/mnt/lazy" >/dev/null 2>&1
check "a metadata walk (find, getfattr) fetches no blob byte" \
	[ "$(fetched_bytes lazy)" = 0 ]
emount --list >"$T/list.out"
check "--list: the mount, fanotify, the layout's blobs, nothing present" \
	grep -q "^$T/mnt/lazy  *fanotify  *$OUT/blobs/sha256  *0/" "$T/list.out"
tree_eq lazy
check "the tree equals umoci unpack, field by field ($(tail -n1 "$T/cmp-lazy.log"))" [ $? -eq 0 ]
n=$(fetched_bytes lazy)
check "reading the files fetched blob bytes ($n)" [ "${n:-0}" -gt 0 ]
check "--list: bytes present" [ "$(present_bytes lazy)" -gt 0 ]
check "-u unmounts" emount -u "$T/mnt/lazy"
check "not mounted any more" bash -c "! mountpoint -q '$T/mnt/lazy'"
check "its daemon stops with the last image" \
	wait_for no_daemon lazy

# ---- oci:DIR:REF and a bare DIR ----
check "oci:DIR:t (the tag erofs-convert kept)" lazy_mount ref "oci:$OUT:t"
check "... its big file reads right" cmp "$T/mnt/ref/data/big" "$R/data/big"
emount -u "$T/mnt/ref" >/dev/null 2>&1
check "a bare DIR that is an OCI layout" lazy_mount bare "$OUT"
check "... its config reads right" cmp "$T/mnt/bare/etc/config" "$R/etc/config"
emount -u "$T/mnt/bare" >/dev/null 2>&1

# ---- the blobs from nginx ----
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
mkdir -p "$T/nginx"
port=$((20000 + RANDOM % 20000))
cat >"$T/nginx/nginx.conf" <<CONF
user root;
worker_processes 1;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $T/nginx;
	proxy_temp_path $T/nginx;
	fastcgi_temp_path $T/nginx;
	uwsgi_temp_path $T/nginx;
	scgi_temp_path $T/nginx;
	server {
		listen 127.0.0.1:$port;
		root $OUT;
	}
}
CONF
"$NGINX" -c "$T/nginx/nginx.conf" -p "$T/nginx" 2>"$T/nginx/start.log"
check "nginx started on 127.0.0.1:$port" wait_for test -s "$T/nginx/nginx.pid"
# the layout without its data blobs: they come from nginx only
META=$W/meta
mkdir -p "$META/blobs/sha256"
cp "$OUT/oci-layout" "$OUT/index.json" "$META/"
for f in "$OUT"/blobs/sha256/*; do
	[ "$(stat -c %s "$f")" -lt 65536 ] && cp "$f" "$META/blobs/sha256/"
done
cp "$(blob "$OUT" application/vnd.erofs.bootstrap.v1)" "$META/blobs/sha256/"
check "a layout without its blobs, --source http://127.0.0.1:$port/blobs/sha256/" \
	lazy_mount web "oci:$META" --source "http://127.0.0.1:$port/blobs/sha256/"
tree_eq web
check "the tree from nginx equals umoci unpack ($(tail -n1 "$T/cmp-web.log"))" [ $? -eq 0 ]
check "-u" emount -u "$T/mnt/web"
kill "$(cat "$T/nginx/nginx.pid")"

# ---- --no-merge: layers stacked by overlayfs ----
check "a --no-merge layout mounts" lazy_mount nm "oci:$NM"
check "... stacked by overlayfs, said so" grep -q 'backend overlay' "$T/nm.mount.log"
check "... an overlay mount" [ "$(findmnt -n -o FSTYPE "$T/mnt/nm")" = overlay ]
oci_implied_dirs "$W/implied"
$PY "$LIB/treecmp.py" --max-diffs 100000 "$R" "$T/mnt/nm" >"$T/cmp-nm.log" 2>&1
oci_ovl_filter "$T/cmp-nm.log" "$W/implied" >"$T/nm.left"
check "... equals umoci unpack but for implied directories ($(grep -c DIFF "$T/cmp-nm.log") differences on $(wc -l <"$W/implied") of them)" \
	test ! -s "$T/nm.left"
emount --list >"$T/list.out"
check "--list reports it" grep -q "^$T/mnt/nm  *overlay " "$T/list.out"
check "no daemon for it" no_daemon nm
check "-u" emount -u "$T/mnt/nm"
check "nothing of it stays mounted" \
	bash -c "! findmnt -rn -o TARGET,SOURCE | grep -q '$T/mnt/nm\|erofs-mount'"

# ---- an index of two platforms ----
MP=$W/multi
cp -a "$OUT" "$MP"
cp -n "$NM"/blobs/sha256/* "$MP/blobs/sha256/"
jq --slurpfile nm "$NM/index.json" '.manifests = [
	(.manifests[0] | .platform = {"os": "linux", "architecture": "amd64"}),
	($nm[0].manifests[0] | .platform = {"os": "linux", "architecture": "arm64"})]' \
	"$OUT/index.json" >"$MP/index.json"
host=$(uname -m)
if [ "$host" = x86_64 ]; then
	check "an index: the host's platform (linux/amd64) by default" \
		lazy_mount mp1 "oci:$MP"
	check "... the merged image" grep -q 'backend fanotify' "$T/mp1.mount.log"
	emount -u "$T/mnt/mp1" >/dev/null 2>&1
fi
check "--platform linux/arm64 picks the other" \
	lazy_mount mp2 "oci:$MP" --platform linux/arm64
check "... the --no-merge image" grep -q 'backend overlay' "$T/mp2.mount.log"
emount -u "$T/mnt/mp2" >/dev/null 2>&1
lazy_mount mp3 "oci:$MP" --platform linux/s390x
check "--platform linux/s390x: refused, naming what there is" \
	both [ $? -eq 1 ] -- grep -q 'no image for platform linux/s390x.*there is' "$T/mp3.mount.log"

# ---- bad input ----
# bad NAME IMAGE PATTERN CHECKNAME: fails naming PATTERN, nothing mounted,
# no daemon
bad() {
	lazy_mount "$1" "$2" >/dev/null 2>&1
	local rc=$?
	if [ $rc = 1 ] && grep -q "$3" "$T/$1.mount.log" &&
		! mountpoint -q "$T/mnt/$1" && ! daemon_of "$1"; then
		ok "$4: $(grep -m1 erofs-mount "$T/$1.mount.log" | oneline 200)"
	else
		nok "$4" "status $rc: $(oneline <"$T/$1.mount.log")"
	fi
}
cp -a "$OUT" "$W/bad1"
b=$(blob "$W/bad1" application/vnd.erofs.bootstrap.v1)
printf 'X' | dd of="$b" bs=1 seek=1100 conv=notrunc status=none
bad bad1 "oci:$W/bad1" "SHA-256" "a bootstrap with a wrong digest"
cp -a "$OUT" "$W/bad2"
rm "$(blob "$W/bad2" application/vnd.erofs.blob.v1)"
bad bad2 "oci:$W/bad2" "blob 1/3 .* is not in the layout" "a missing blob"
bad bad3 "oci:$OUT:nope" 'no image named "nope" (there is: t)' "an unknown REF"
bad bad4 "oci:$IMG:t" "not an image erofs-convert wrote" \
	"a manifest that is not erofs-convert's (umoci's layout)"
cp -a "$OUT" "$W/bad5"
m=$(jq -r '.manifests[0].digest' "$W/bad5/index.json" | cut -d: -f2)
printf ' ' >>"$W/bad5/blobs/sha256/$m"
bad bad5 "oci:$W/bad5" "manifest .*bytes, its descriptor says" "a manifest that does not match its digest"
bad bad6 "$W/bundle" "not an OCI layout" "a directory that is not a layout"

echo "mount-oci: $fails failed"
[ "$fails" -eq 0 ]
