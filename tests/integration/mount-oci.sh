#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# erofs-mount of OCI layouts erofs-convert wrote, on the host kernel: the
# 4-layer umoci image of tests/lib/oci-image.sh converted (merged, 64 KiB
# chunks) and mounted lazily as oci:DIR, oci:DIR:REF and a bare DIR; the
# tree equals `umoci unpack` field by field, a metadata walk fetches no
# blob byte, --list reports the mount; the blobs served by nginx on
# 127.0.0.1 (--source URL); a --no-merge layout (whiteouts, an opaque
# directory) mounted lazily, each layer served by the one daemon and the
# layers stacked by overlayfs: its tree, a metadata walk fetching nothing
# more than the mount did, a read fetching part, --list, -u, --prefetch,
# --prefetch-list resolved through the layers, --backend full, a failure
# half-way leaving nothing; an index with two platforms (--platform); bad
# input (a wrong digest, a missing blob or layer, an unknown REF, a
# manifest that is not erofs-convert's) fails naming the problem with
# nothing mounted and no daemon left.
#   BUILD=/path/to/build tests/integration/mount-oci.sh
set -u

. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/lazy-common.sh"
. "$(dirname "$0")/../lib/oci-image.sh"
CONV=$BUILD/convert/erofs-convert
export PYTHONDONTWRITEBYTECODE=1

lazy_need
if ! lazy_has_fanotify; then
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
lazy_nginx "$OUT"
port=$NGINX_PORT
check "nginx started on 127.0.0.1:$port" [ -s "$T/nginx/nginx.pid" ]
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
stop_nginx

# ---- --no-merge: each layer served lazily, stacked by overlayfs ----
# the layers, bottom first, and their total size
nm_layers=$(jq -r '.layers[].digest' \
	"$NM/blobs/sha256/$(jq -r '.manifests[0].digest' "$NM/index.json" | cut -d: -f2)" |
	cut -d: -f2)
nm_total=0
for l in $nm_layers; do nm_total=$((nm_total + $(stat -c %s "$NM/blobs/sha256/$l"))); done
# stackdir NAME: where erofs-mount mounts the layers of mount NAME
stackdir() {
	echo "$T/cache/$1/stacks/$(printf %s "$T/mnt/$1" | sha256sum | cut -c1-16)"
}
# mounts NAME: how many mounts of NAME's stack (overlay and layers) exist
mounts() {
	findmnt -rn -o TARGET | grep -c "^$T/mnt/$1\$\|^$T/cache/$1/"
}
# settled NAME: --list's bytes present for NAME once they stop changing
settled() {
	local a b=-1
	for _ in $(seq 1 100); do
		a=$(present_bytes "$1")
		[ "$a" = "$b" ] && break
		b=$a
		sleep 0.2
	done
	echo "$a"
}
check "a --no-merge layout (4 layers) mounts" lazy_mount nm "oci:$NM"
check "... lazily, on the fanotify backend, 4 standalone layers said" \
	both grep -q 'mounted .* (backend fanotify)' "$T/nm.mount.log" -- \
	grep -q '4 standalone layers' "$T/nm.mount.log"
check "... an overlay on the mount point" \
	[ "$(findmnt -n -o FSTYPE "$T/mnt/nm")" = overlay ]
sd=$(stackdir nm)
want="lowerdir=$sd/4:$sd/3:$sd/2:$sd/1"
check "... over the 4 layers' EROFS mounts, the top one first ($want)" \
	both [ "$(findmnt -rn -o TARGET,FSTYPE | grep -c "^$sd/[1-4] erofs\$")" = 4 ] -- \
	grep -q "$want," <(findmnt -n -o OPTIONS "$T/mnt/nm")
check "... read-only" grep -q '^ro,' <(findmnt -n -o OPTIONS "$T/mnt/nm")
# a layer still being filled reads with erofs-mount's window; one whose
# blob the priming completed (metadata only) with the kernel's own again
layer_ras() { for i in 1 2 3 4; do $PY "$LIB/erofs_mount.py" readahead "$1/$i"; done; }
layer_ras "$sd" >"$T/nm.ras"
kra=$(kernel_ra)
nwide=$(grep -cx 1024 "$T/nm.ras")
nback=$(grep -c "image $T/mnt/nm: blobs complete, read-ahead of erofs-[0-9]* back to $kra KiB" "$T/cache/nm/erofs-fetchd.log")
check "... each layer still being filled with erofs-mount's kernel read-ahead (1024 KiB), a complete one with the kernel's ($nwide wide, $nback put back)" \
	both [ "$nwide" -ge 1 ] -- both [ $((nwide + nback)) = 4 ] -- \
	[ "$(grep -cvx -e 1024 -e "$kra" "$T/nm.ras")" = 0 ]
check "... served by a daemon" daemon_of nm
n0=$(fetched_bytes nm)
check "the mount fetched part of the layers, their metadata ($n0 of $nm_total bytes)" \
	[ "${n0:-0}" -gt 0 -a "${n0:-0}" -lt "$nm_total" ]
find "$T/mnt/nm" -printf '%p %m %U %G %s %T@ %l\n' >/dev/null &&
	getfattr -R -d -m - "$T/mnt/nm" >/dev/null 2>&1
check "a metadata walk (find, getfattr) fetches no byte more" \
	[ "$(fetched_bytes nm)" = "$n0" ]
emount --list >"$T/list.out"
check "--list: the stack, fanotify, the layout's blobs, bytes of all 4 layers" \
	grep -q "^$T/mnt/nm  *fanotify  *$NM/blobs/sha256  *[0-9]*/$nm_total .*4 layers stacked by overlayfs" "$T/list.out"
cmp "$T/mnt/nm/etc/config" "$R/etc/config" && cmp "$T/mnt/nm/data/big" "$R/data/big"
check "/data/big (4 MiB, of layer 2) and /etc/config read right" [ $? -eq 0 ]
n1=$(fetched_bytes nm)
check "... which fetched part more ($n1 of $nm_total bytes)" \
	[ "${n1:-0}" -gt "$n0" -a "${n1:-0}" -lt "$nm_total" ]
oci_implied_dirs "$W/implied"
$PY "$LIB/treecmp.py" --max-diffs 100000 "$R" "$T/mnt/nm" >"$T/cmp-nm.log" 2>&1
oci_ovl_filter "$T/cmp-nm.log" "$W/implied" >"$T/nm.left"
check "the stack equals umoci unpack but for implied directories ($(grep -c DIFF "$T/cmp-nm.log") differences on $(wc -l <"$W/implied") of them)" \
	test ! -s "$T/nm.left"
check "... its whiteouts applied (/data/big-copy, /usr/bin/tool-link gone)" \
	both [ ! -e "$T/mnt/nm/data/big-copy" ] -- [ ! -e "$T/mnt/nm/usr/bin/tool-link" ]
check "... its opaque directory applied (/opq holds only new)" \
	[ "$(ls -A "$T/mnt/nm/opq")" = new ]
check "-u" emount -u "$T/mnt/nm"
check "nothing of the stack stays mounted" [ "$(mounts nm)" = 0 ]
check "its layer directories are gone" [ ! -e "$sd" ]
check "its daemon stops" wait_for no_daemon nm
check "-u forgets it" bash -c "! $EMOUNT --state-dir '$T/state' --list | grep -q '$T/mnt/nm '"

# --prefetch-list: each path from the layer that provides it
printf '/data/big\n/data/big-copy\n/opq/a\n' >"$T/nm.list"
check "--prefetch-list on a stack" lazy_mount nmpl "oci:$NM" --prefetch-list "$T/nm.list"
check "... skips a whited-out file and one under an opaque directory" \
	both grep -q '/data/big-copy: no regular file of the stack' "$T/nmpl.mount.log" -- \
	grep -q '/opq/a: no regular file of the stack' "$T/nmpl.mount.log"
p=$(settled nmpl)
check "... fetches more than the metadata, not everything ($p of $nm_total)" \
	[ "${p:-0}" -gt "$n0" -a "${p:-0}" -lt "$nm_total" ]
n=$(fetched_bytes nmpl)
cmp "$T/mnt/nmpl/data/big" "$R/data/big"
check "... /data/big is then read without a fetch" both [ $? -eq 0 ] -- \
	[ "$(fetched_bytes nmpl)" = "$n" ]
emount -u "$T/mnt/nmpl" >/dev/null 2>&1
check "--prefetch on a stack" lazy_mount nmall "oci:$NM" --prefetch
check "... fills every layer" wait_for [ "$(present_bytes nmall)" = "$nm_total" ]
check "... and every layer reads with the kernel's window again" \
	wait_for bash -c "[ \"\$(for i in 1 2 3 4; do $PY '$LIB/erofs_mount.py' readahead '$(stackdir nmall)/'\$i; done | sort -u)\" = '$kra' ]"
emount -u "$T/mnt/nmall" >/dev/null 2>&1

# --backend full: each layer fetched whole, its digest checked, no daemon
check "--backend full on a stack" lazy_mount nmfull "oci:$NM" --backend full
check "... no daemon, the tree reads right" both no_daemon nmfull -- \
	cmp "$T/mnt/nmfull/data/big" "$R/data/big"
check "... --list: every byte present" [ "$(present_bytes nmfull)" = "$nm_total" ]
check "... -u" emount -u "$T/mnt/nmfull"
check "... leaves nothing mounted" [ "$(mounts nmfull)" = 0 ]

# a failure half-way (layer 3's mount point taken by a file): the layers
# mounted go, the daemon too
mkdir -p "$(stackdir nmfail)"
: >"$(stackdir nmfail)/3"
lazy_mount nmfail "oci:$NM"
check "a stack failing at layer 3: an error naming it" \
	both [ $? = 1 ] -- grep -q 'mount layer 3/4' "$T/nmfail.mount.log"
check "... nothing of it stays mounted, no daemon, not listed" \
	both [ "$(mounts nmfail)" = 0 ] -- both wait_for no_daemon nmfail -- \
	bash -c "! $EMOUNT --state-dir '$T/state' --list | grep -q '$T/mnt/nmfail '"

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
check "... the --no-merge image" grep -q '4 standalone layers' "$T/mp2.mount.log"
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
cp -a "$NM" "$W/bad7"
rm "$(blob "$W/bad7" application/vnd.erofs.layer.v1)"
bad bad7 "oci:$W/bad7" "layer 1/4 .* is not in the layout" \
	"a --no-merge layout missing a layer"

echo "mount-oci: $fails failed"
[ "$fails" -eq 0 ]
