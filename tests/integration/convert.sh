#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Integration tests of erofs-convert (run as root).
#
# An OCI image is made with umoci: layers repacked from a bundle (files,
# hard links, symlinks, a fifo, a device, xattrs, an ACL, setuid and sticky
# modes; then deleted files and directories, a replaced file, changed
# metadata and a 4 MiB file changed in one 64 KiB chunk) and layers added
# verbatim with `umoci raw add-layer` (an opaque directory, a directory
# replaced by a file and the reverse, hard links; a layer of whiteouts and
# directories only).  skopeo copies it to a zstd OCI layout and to a
# docker-archive.  Each is converted; the merged bootstrap and its blobs,
# mounted by the host kernel with mount(2) and device=, must equal
# `umoci unpack` with zero differences (tests/lib/treecmp.py); erofs-utils
# 1.9.3 fsck.erofs --extract checks every image; the dedup shows in the
# stored bytes; the output is reproducible and `skopeo copy` round-trips
# it; --no-merge layers stacked by overlayfs equal `umoci unpack` except
# the metadata of directories a layer only implies.  Then bad input: each
# case fails with a message naming the layer, and leaves nothing behind;
# nor does SIGINT, SIGTERM or SIGHUP during a conversion.
#
# Environment: BUILD (default: build/ of this tree), PEER_BUILD (the script
# that builds erofs-utils 1.9.3 and prints its directory; default
# shared/peers/build-erofs-utils.sh beside the tree, see tests/lib/peer.sh:
# the fsck.erofs checks are skipped without it unless CI or PEER_REQUIRED
# is set), TMPDIR.
# Output: one `ok - NAME` / `not ok - NAME: reason` line per check.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
LIB=$HERE/../lib
. "$LIB/tap.sh"
. "$LIB/scratch.sh"
. "$LIB/peer.sh"
. "$LIB/oci-image.sh"
CONV=$BUILD/convert/erofs-convert
PY=${PYTHON:-python3}
export PYTHONDONTWRITEBYTECODE=1

need_root
need_exe erofs-convert "$CONV"
need_cmds umoci skopeo jq setfattr setfacl
# erofs-utils 1.9.3 for fsck.erofs --extract (its checks are skipped
# without it)
peer_find
FSCK=$PEER_FSCK

scratch convert
W=$SCRATCH
echo "# erofs-convert: $CONV"
echo "# fsck.erofs: ${FSCK:-none ($PEER_WHY)}"
echo "# scratch: $W"

# ------------------------------------------------------------ the image
IMG=$W/img
R=$W/bundle/rootfs
if oci_mkimage >"$W/mkimage.log" 2>&1; then
	ok "umoci makes a 4-layer image and unpacks it"
else
	nok "umoci makes a 4-layer image" "$(tail -n3 "$W/mkimage.log" | oneline)"
	exit 1
fi

# ------------------------------------------------------------ helpers
# files OUTDIR: "bootstrap PATH", "blob PATH", "layer PATH" lines in order
files() {
	$PY - "$1" <<'EOF'
import json, os, sys
d = sys.argv[1]
def blob(dg):
    return os.path.join(d, 'blobs', *dg.split(':'))
idx = json.load(open(os.path.join(d, 'index.json')))
man = json.load(open(blob(idx['manifests'][0]['digest'])))
for l in man['layers']:
    kind = {'application/vnd.erofs.bootstrap.v1': 'bootstrap',
            'application/vnd.erofs.blob.v1': 'blob',
            'application/vnd.erofs.layer.v1': 'layer'}[l['mediaType']]
    print(kind, blob(l['digest']))
EOF
}

# conv NAME ARGS...: erofs-convert ARGS, output in $W/NAME.{out,err}
conv() {
	local n=$1
	shift
	"$CONV" "$@" >"$W/$n.out" 2>"$W/$n.err"
}

# merged_eq NAME OUTDIR: mount bootstrap + blobs, compare with umoci unpack
merged_eq() {
	local n=$1 out=$2 boot devs=() args=() mnt=$W/mnt-$1
	boot=$(files "$out" | awk '$1 == "bootstrap" { print $2 }')
	mapfile -t devs < <(files "$out" | awk '$1 == "blob" { print $2 }')
	for d in "${devs[@]}"; do args+=(--device "$d"); done
	mkdir -p "$mnt"
	if ! $PY "$LIB/erofs_mount.py" mount "$boot" "$mnt" "${args[@]}" \
		2>"$W/$n.mount"; then
		nok "$n: the kernel mounts the bootstrap with ${#devs[@]} blobs" \
			"$(oneline <"$W/$n.mount")"
		return 1
	fi
	ok "$n: the kernel mounts the bootstrap with ${#devs[@]} blobs"
	if $PY "$LIB/treecmp.py" "$R" "$mnt" >"$W/$n.cmp" 2>&1; then
		ok "$n: mounted tree equals umoci unpack, zero differences"
	else
		nok "$n: mounted tree equals umoci unpack" \
			"$(grep -c DIFF "$W/$n.cmp") differences: $(head -n5 "$W/$n.cmp" | oneline 600)"
	fi
	$PY "$LIB/erofs_mount.py" umount "$mnt"
	fsck_merged "$n" "$out"
}

fsck_merged() {
	local n=$1 out=$2 boot args=()
	boot=$(files "$out" | awk '$1 == "bootstrap" { print $2 }')
	while read -r k p; do
		[ "$k" = blob ] && args+=("--device=$p")
	done < <(files "$out")
	if [ -z "$FSCK" ]; then
		peer_missing "$n: fsck.erofs 1.9.3 --extract"
		return
	fi
	rm -rf "$W/extract"
	if "$FSCK" "${args[@]}" --extract="$W/extract" "$boot" \
		>"$W/$n.fsck" 2>&1; then
		ok "$n: fsck.erofs 1.9.3 --extract passes"
	else
		nok "$n: fsck.erofs 1.9.3 --extract" "$(tail -n3 "$W/$n.fsck" | oneline)"
	fi
	rm -rf "$W/extract"
}

# ------------------------------------------------------------ merged
OUT=$W/out
if conv merged --chunksize=64K --json "oci:$IMG:t" "$OUT"; then
	ok "convert oci:IMG:t (merged, 64K chunks)"
else
	nok "convert oci:IMG:t" "$(oneline <"$W/merged.err")"
	exit 1
fi
merged_eq merged "$OUT"
check "off a terminal: nothing on stderr" test ! -s "$W/merged.err"
# on a terminal (script(1) gives it one): the progress line
if command -v script >/dev/null; then
	script -qec "$CONV --chunksize=64K oci:$IMG:t $W/out-tty" /dev/null \
		>"$W/tty.log" 2>&1
	if grep -aq 'layer 4/4: [0-9]* entries' "$W/tty.log" &&
		[ -f "$W/out-tty/index.json" ]; then
		ok "on a terminal: a progress line (layer i/N, entries, bytes, rate)"
	else
		nok "progress line on a terminal" "$(tr '\r' '\n' <"$W/tty.log" | oneline)"
	fi
	rm -rf "$W/out-tty"
fi

# the summary and what it says about deduplication
J=$W/merged.out
nblobs=$(files "$OUT" | grep -c '^blob ')
if [ "$(jq '.layers | length' "$J")" = 4 ] && [ "$nblobs" = 3 ] &&
	[ "$(jq -r '.layers[3].output' "$J")" = null ]; then
	ok "4 layers, 3 blobs: the layer without data has none"
else
	nok "4 layers, 3 blobs" "$nblobs blobs; $(jq -c '[.layers[].output]' "$J")"
fi
l1=$(jq '.layers[0].bytes_stored' "$J")
l2=$(jq '.layers[1].bytes_stored' "$J")
# layer 1: the 4 MiB file once (its copy deduplicated); layer 2: the big
# file again but for one 64 KiB chunk, plus a few small files
if [ "$l1" -ge 4194304 ] && [ "$l1" -lt 4718592 ] && [ "$l2" -lt 262144 ]; then
	ok "dedup across layers: layer 1 stores $l1 bytes, layer 2 (4 MiB file changed in one chunk) $l2"
else
	nok "dedup across layers" "layer 1 stored $l1, layer 2 $l2"
fi
sum=$(files "$OUT" | while read -r k p; do stat -c %s "$p"; done |
	awk '{ s += $1 } END { print s }')
if [ "$(jq '.bytes_stored' "$J")" = "$sum" ] &&
	[ "$(jq '.bytes_deduplicated' "$J")" -ge 4194304 ]; then
	ok "--json: bytes_stored is the sum of the files, >= 4 MiB deduplicated"
else
	nok "--json summary" "$(jq -c 'del(.layers)' "$J") vs files $sum"
fi

# the config survives, with the documented changes
$PY - "$OUT" "$IMG" >"$W/config.chk" 2>&1 <<'EOF'
import json, os, sys
def load(d):
    b = lambda dg: os.path.join(d, 'blobs', *dg.split(':'))
    idx = json.load(open(os.path.join(d, 'index.json')))
    m = json.load(open(b(idx['manifests'][0]['digest'])))
    return idx, m, json.load(open(b(m['config']['digest'])))
oi, om, oc = load(sys.argv[1])
ii, im, ic = load(sys.argv[2])
assert oi['manifests'][0]['annotations'][
    'org.opencontainers.image.ref.name'] == 't'
assert oc['config']['Entrypoint'] == ['/usr/bin/tool'], oc['config']
assert 'APP=1' in oc['config']['Env']
assert oc['rootfs']['diff_ids'] == [l['digest'] for l in om['layers']]
assert om['layers'][-1]['mediaType'] == 'application/vnd.erofs.bootstrap.v1'
hist = oc['history']
assert all(h.get('empty_layer') for h in hist[:len(ic['history'])])
assert len(hist) == len(ic['history']) + len(om['layers'])
assert om['annotations']['org.erofs.source.manifest'] == \
    ii['manifests'][0]['digest']
for i, l in enumerate(om['layers'][:-1]):
    assert l['annotations']['org.erofs.device-id'] == str(i + 1)
    assert l['annotations']['org.erofs.source.diff-id'] in \
        ic['rootfs']['diff_ids']
EOF
check "config: entrypoint and env kept, diff_ids, history and annotations as documented" \
	test ! -s "$W/config.chk"
[ -s "$W/config.chk" ] && sed 's/^/# /' "$W/config.chk" | tail -n5

# reproducible
# (the layout as a plain DIR this time: it holds one image)
if conv again --chunksize=64K "$IMG" "$W/out-again" &&
	diff -r "$OUT" "$W/out-again" >/dev/null; then
	ok "reproducible: a second conversion is byte-identical"
else
	nok "reproducible" "$(oneline <"$W/again.err") $(diff -rq "$OUT" "$W/out-again" | oneline)"
fi
rm -rf "$W/out-again"
if SOURCE_DATE_EPOCH=1234567890 conv sde --chunksize=64K "oci:$IMG:t" \
	"$W/out-sde" && ! diff -r "$OUT" "$W/out-sde" >/dev/null &&
	[ "$(files "$OUT" | grep -c .)" = "$(files "$W/out-sde" | grep -c .)" ]; then
	ok "SOURCE_DATE_EPOCH changes the build time only"
else
	nok "SOURCE_DATE_EPOCH" "$(oneline <"$W/sde.err")"
fi
rm -rf "$W/out-sde"

# skopeo round trip
same_blobs() {
	local f
	for f in $(files "$1" | awk '{ print $2 }'); do
		cmp -s "$f" "$2/blobs/sha256/$(basename "$f")" || return 1
	done
}
if skopeo copy -q "oci:$OUT:t" "oci:$W/other:t" >"$W/skopeo.log" 2>&1 &&
	[ "$(jq -r '.manifests[0].digest' "$W/other/index.json")" = \
		"$(jq -r '.manifests[0].digest' "$OUT/index.json")" ] &&
	same_blobs "$OUT" "$W/other"; then
	ok "skopeo copy oci:OUTDIR:t oci:OTHER:t round-trips (same manifest and blobs)"
else
	nok "skopeo copy round trip" "$(oneline <"$W/skopeo.log")"
fi
rm -rf "$W/other"

# ------------------------------------------------------------ other sources
if skopeo copy -q --dest-compress-format=zstd "oci:$IMG:t" "oci:$W/zst:t" \
	>"$W/skz.log" 2>&1 && grep -q 'tar+zstd' "$W"/zst/blobs/sha256/* &&
	conv zst --chunksize=64K "$W/zst" "$W/out-zst"; then
	ok "convert a zstd OCI layout copied by skopeo"
	merged_eq zst "$W/out-zst"
else
	nok "convert a zstd OCI layout" "$(oneline <"$W/skz.log") $(oneline <"$W/zst.err" 2>/dev/null)"
fi
rm -rf "$W/out-zst"

if skopeo copy -q "oci:$IMG:t" "docker-archive:$W/da.tar:test/img:t" \
	>"$W/skd.log" 2>&1 &&
	conv da --chunksize=64K "docker-archive:$W/da.tar:test/img:t" "$W/out-da"; then
	ok "convert a docker-archive written by skopeo"
	merged_eq docker-archive "$W/out-da"
	if [ "$(files "$W/out-da" | awk '$1 == "bootstrap" { print $2 }' | xargs basename)" = \
		"$(files "$OUT" | awk '$1 == "bootstrap" { print $2 }' | xargs basename)" ]; then
		ok "docker-archive and OCI layout give the same bootstrap"
	else
		nok "docker-archive and OCI layout give the same bootstrap" "differs"
	fi
else
	nok "convert a docker-archive" "$(oneline <"$W/skd.log") $(oneline <"$W/da.err" 2>/dev/null)"
fi
rm -rf "$W/out-da"

# older docker save: manifest.json names ID/layer.tar, symlinks to the data
$PY - "$W/da.tar" "$W/da-links.tar" <<'EOF'
import io, json, tarfile, sys
src = tarfile.open(sys.argv[1])
links = {}
for m in src.getmembers():
    if m.issym() and m.name.endswith('/layer.tar'):
        links[m.linkname.split('/')[-1]] = m.name
with tarfile.open(sys.argv[2], 'w') as out:
    for m in src.getmembers():
        if m.name == 'manifest.json':
            man = json.load(src.extractfile(m))
            for e in man:
                e['Layers'] = [links[l] for l in e['Layers']]
            data = json.dumps(man).encode()
            m.size = len(data)
            out.addfile(m, io.BytesIO(data))
        else:
            out.addfile(m, src.extractfile(m) if m.isfile() else None)
EOF
if conv da-links --chunksize=64K "$W/da-links.tar" "$W/out-dal" &&
	[ "$(files "$W/out-dal" | awk '$1 == "bootstrap" { print $2 }' | xargs basename)" = \
		"$(files "$OUT" | awk '$1 == "bootstrap" { print $2 }' | xargs basename)" ]; then
	ok "docker-archive whose layers are symlinked members: the same bootstrap"
else
	nok "docker-archive with symlinked layers" "$(oneline <"$W/da-links.err")"
fi
rm -rf "$W/out-dal"

# --layers: the layer blobs of the layout, in manifest order
mapfile -t LAYERS < <(jq -r '.layers[].digest' \
	"$IMG/blobs/sha256/$(jq -r '.manifests[0].digest' "$IMG/index.json" | cut -d: -f2)" |
	sed "s|sha256:|$IMG/blobs/sha256/|")
if conv layers --chunksize=64K --layers "${LAYERS[@]}" "$W/out-layers"; then
	ok "convert --layers with ${#LAYERS[@]} gzip tarballs"
	merged_eq layers "$W/out-layers"
else
	nok "convert --layers" "$(oneline <"$W/layers.err")"
fi
rm -rf "$W/out-layers"

# ------------------------------------------------------------ --no-merge
NM=$W/out-nm
if conv nomerge --no-merge "oci:$IMG:t" "$NM"; then
	ok "convert --no-merge"
	mapfile -t NL < <(files "$NM" | awk '$1 == "layer" { print $2 }')
	lower=""
	i=0
	for l in "${NL[@]}"; do
		i=$((i + 1))
		mkdir -p "$W/nm/$i"
		if [ -z "$FSCK" ]; then
			peer_missing "--no-merge layer $i: fsck.erofs 1.9.3 --extract"
		elif "$FSCK" --extract="$W/nm-x" "$l" >"$W/nm-fsck" 2>&1; then
			ok "--no-merge layer $i: fsck.erofs 1.9.3 --extract passes"
		else
			nok "--no-merge layer $i: fsck.erofs" "$(tail -n2 "$W/nm-fsck" | oneline)"
		fi
		rm -rf "$W/nm-x"
		$PY "$LIB/erofs_mount.py" mount "$l" "$W/nm/$i" ||
			nok "--no-merge layer $i mounts" "mount failed"
		lower="$W/nm/$i${lower:+:$lower}"
	done
	mkdir -p "$W/ovl"
	# xino=on: inode numbers of different layers do not collide, so
	# hard-link groups can be compared
	if mount -t overlay overlay -o "ro,xino=on,lowerdir=$lower" "$W/ovl" \
		2>"$W/ovl.err"; then
		# directories a layer lists only as parents of its entries show
		# that layer's metadata under overlayfs (see the man page)
		oci_implied_dirs "$W/implied"
		$PY "$LIB/treecmp.py" --max-diffs 100000 "$R" "$W/ovl" >"$W/ovl.cmp" 2>&1
		oci_ovl_filter "$W/ovl.cmp" "$W/implied" >"$W/ovl.left"
		if [ ! -s "$W/ovl.left" ]; then
			ok "--no-merge: ${#NL[@]} layers stacked by overlayfs equal umoci unpack ($(grep -c DIFF "$W/ovl.cmp") metadata differences on $(wc -l <"$W/implied") implied directories)"
		else
			nok "--no-merge: overlayfs stack equals umoci unpack" \
				"$(wc -l <"$W/ovl.left") differences: $(head -n5 "$W/ovl.left" | oneline 600)"
		fi
		umount "$W/ovl"
	else
		nok "--no-merge layers stack with overlayfs" "$(oneline <"$W/ovl.err")"
	fi
	for i in $(seq "${#NL[@]}"); do umount "$W/nm/$i" 2>/dev/null; done
	if [ "$(jq -r '.layers[0].mediaType' \
		"$NM/blobs/sha256/$(jq -r '.manifests[0].digest' "$NM/index.json" | cut -d: -f2)")" = \
		application/vnd.erofs.layer.v1 ]; then
		ok "--no-merge layers have media type application/vnd.erofs.layer.v1"
	else
		nok "--no-merge media type" "wrong"
	fi
else
	nok "convert --no-merge" "$(oneline <"$W/nomerge.err")"
fi
rm -rf "$NM"

# ------------------------------------------------------------ bad input
# mutate SRC DST CASE: a copy of the layout with one defect, digests fixed
mutate() {
	rm -rf "$2"
	cp -a "$1" "$2"
	$PY - "$2" "$3" <<'EOF'
import gzip, hashlib, io, json, os, sys, tarfile
d, case = sys.argv[1], sys.argv[2]
b = lambda dg: os.path.join(d, 'blobs', *dg.split(':'))
def put(data):
    dg = 'sha256:' + hashlib.sha256(data).hexdigest()
    open(b(dg), 'wb').write(data)
    return {'digest': dg, 'size': len(data)}
idx = json.load(open(os.path.join(d, 'index.json')))
m = json.load(open(b(idx['manifests'][0]['digest'])))
c = json.load(open(b(m['config']['digest'])))
cfg_text = None
L = m['layers']
if case == 'corrupt':
    p = b(L[1]['digest'])
    data = bytearray(open(p, 'rb').read())
    data[len(data) // 2] ^= 0x55
    open(p, 'wb').write(data)
elif case == 'missing':
    os.unlink(b(L[1]['digest']))
elif case == 'mediatype':
    L[2]['mediaType'] = 'application/vnd.example.layer.v1.squashfs'
elif case == 'zstd-lie':
    L[0]['mediaType'] = 'application/vnd.oci.image.layer.v1.tar+zstd'
elif case == 'twice':
    L.append(dict(L[0]))
    c['rootfs']['diff_ids'].append(c['rootfs']['diff_ids'][0])
elif case == 'big-json':
    c.setdefault('config', {})['Labels'] = {'pad': 'x' * (5 << 20)}
elif case == 'bad-json':
    cfg_text = json.dumps(c).encode()[:-1] + b',}'
elif case == 'truncated':
    data = open(b(L[1]['digest']), 'rb').read()
    L[1].update(put(data[:len(data) // 2]))
elif case == 'diff-id':
    ids = c['rootfs']['diff_ids']
    ids[2] = 'sha256:' + hashlib.sha256(b'not this layer').hexdigest()
elif case in ('traversal', 'abs-link'):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode='w', format=tarfile.PAX_FORMAT) as t:
        i = tarfile.TarInfo('ok-file')
        i.size = 3
        t.addfile(i, io.BytesIO(b'ok\n'))
        if case == 'traversal':
            i = tarfile.TarInfo('../../convert-evil')
            i.size = 5
            t.addfile(i, io.BytesIO(b'evil\n'))
        else:
            i = tarfile.TarInfo('escape')
            i.type = tarfile.SYMTYPE
            i.linkname = '/tmp'
            t.addfile(i)
            i = tarfile.TarInfo('escape/convert-evil')
            i.size = 5
            t.addfile(i, io.BytesIO(b'evil\n'))
    tar = raw.getvalue()
    desc = put(gzip.compress(tar, mtime=0))
    desc['mediaType'] = 'application/vnd.oci.image.layer.v1.tar+gzip'
    L.append(desc)
    c['rootfs']['diff_ids'].append('sha256:' + hashlib.sha256(tar).hexdigest())
if cfg_text is None:
    cfg_text = json.dumps(c).encode()
m['config'].update(put(cfg_text))
idx['manifests'][0].update(put(json.dumps(m).encode()))
open(os.path.join(d, 'index.json'), 'w').write(json.dumps(idx))
EOF
}

# bad NAME CASE PATTERN: the conversion fails naming PATTERN, leaves nothing
bad() {
	local name=$1 case=$2 pat=$3 bd=$W/bad
	mutate "$IMG" "$W/badimg" "$case" || { nok "$name" "mutate failed"; return; }
	rm -rf "$bd"
	mkdir -p "$bd/cwd"
	(cd "$bd/cwd" && "$CONV" --quiet "oci:$W/badimg:t" "$bd/out") \
		>"$W/bad.out" 2>"$W/bad.err"
	local rc=$? left
	left=$(find "$bd" -mindepth 1 ! -path "$bd/cwd" -printf '%P ')
	if [ $rc -ne 0 ] && grep -qE -- "$pat" "$W/bad.err" && [ -z "$left" ] &&
		[ ! -e /tmp/convert-evil ] && [ ! -e "$W/convert-evil" ]; then
		ok "$name: exit $rc, $(head -n1 "$W/bad.err" | oneline 200)"
	else
		nok "$name" "exit $rc, left [$left], message: $(oneline <"$W/bad.err")"
	fi
	rm -f /tmp/convert-evil
}
bad "a corrupt layer blob" corrupt 'layer 2/4 \(sha256:[0-9a-f]{64}\): .*(corrupt|mismatch)'
bad "a missing layer blob" missing 'layer 2/4 \(sha256:[0-9a-f]{64}\): blob is missing'
bad "an unknown layer media type" mediatype 'layer 3: unknown media type application/vnd.example'
bad "a gzip layer declared zstd" zstd-lie 'layer 1/4 .*media type says zstd, the blob is gzip'
bad "a layer listed twice" twice 'listed twice \(layers 1 and 5\)'
bad "a config over 4 MiB" big-json 'config sha256:[0-9a-f]{64}.*more than'
bad "malformed config JSON" bad-json 'config sha256:[0-9a-f]{64}: malformed JSON'
bad "a truncated layer (digest fixed)" truncated 'layer 2/4 \(sha256:[0-9a-f]{64}\): corrupt or truncated gzip'
bad "a diff_id mismatch" diff-id 'layer 3/4 \(sha256:[0-9a-f]{64}\): diff_id mismatch'
bad "an entry escaping with .." traversal 'layer 5/5 .*convert-evil'
bad "an entry through a symlink out of the tree" abs-link 'layer 5/5 .*escape'

mkdir -p "$W/full" && echo keep >"$W/full/file"
if ! conv full "oci:$IMG:t" "$W/full" && grep -q "not an empty directory" "$W/full.err" &&
	[ "$(ls -A "$W/full")" = file ] && [ -z "$(find "$W" -maxdepth 1 -name '.full.tmp*')" ]; then
	ok "a non-empty OUTDIR is refused and kept"
else
	nok "a non-empty OUTDIR is refused" "$(oneline <"$W/full.err")"
fi

# ------------------------------------------------------------ signals
# waitfor FILE WORD: until a line of FILE starts with WORD (60 s at most)
waitfor() { WAIT_TRIES=600 wait_for grep -qs "^$2" "$1"; }
# sigtest SIG: a conversion held (by a fanotify permission event on the
# first layer blob's open) while its temporary layout directory exists is
# sent SIG; it dies of SIG and leaves neither OUTDIR nor that directory
sigtest() {
	local sig=$1 sd=$W/sig hold pid rc tmp left
	rm -rf "$sd"
	mkdir -p "$sd/run"
	mkfifo "$sd/ctl"
	$PY "$LIB/holdopen.py" "${LAYERS[0]}" <"$sd/ctl" >"$sd/hold" 2>&1 &
	hold=$!
	exec 5>"$sd/ctl"
	if ! waitfor "$sd/hold" ready; then
		nok "SIG$sig during a conversion" "holdopen.py: $(oneline <"$sd/hold")"
		exec 5>&-
		kill "$hold" 2>/dev/null
		wait "$hold" 2>/dev/null
		return
	fi
	"$CONV" --quiet "oci:$IMG:t" "$sd/run/out" 2>"$sd/err" &
	pid=$!
	waitfor "$sd/hold" held
	tmp=$(find "$sd/run" -mindepth 1 -maxdepth 1 -name '.out.tmp*' -printf '%P')
	kill -s "$sig" "$pid"
	echo go >&5
	exec 5>&-
	# (the shell would report the signal on stderr)
	{ wait "$pid"; } 2>/dev/null
	rc=$?
	wait "$hold"
	left=$(find "$sd/run" -mindepth 1 -printf '%P ')
	if [ -n "$tmp" ] && [ "$rc" = $((128 + $(kill -l "$sig"))) ] &&
		[ -z "$left" ]; then
		ok "SIG$sig while the temporary layout $tmp exists: killed by it, nothing left"
	else
		nok "SIG$sig during a conversion" "held with [$tmp], exit $rc, left [$left], $(oneline <"$sd/err")"
	fi
	rm -rf "$sd"
}
for s in INT TERM HUP; do sigtest $s; done

echo "# $fails failed"
[ "$fails" = 0 ]
