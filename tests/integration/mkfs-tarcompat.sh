#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# mkfs.erofs's tar options against erofs-utils 1.9.3's mkfs.erofs (run as
# root):
#
#  * --tar=headerball: ustar, GNU and pax headerballs (tar headers whose
#    regular files have no body; written with Python's tarfile) built by
#    both tools, with --aufs whiteouts; both images mounted with mount(2)
#    and compared field by field (tests/lib/treecmp.py), file data reading
#    zeros, the image taking no space for it; erofs-utils' fsck.erofs
#    reads ours;
#  * --ungzip=FILE / --unxz=FILE: FILE is `gzip -dc` / `xz -dc` of the
#    input byte for byte (also from stdin, also with --tar=i and
#    headerball); a corrupt stream or a failed build leaves no FILE; FILE
#    may not be DEST or the source;
#  * --sort=none / --sort=path: the data order in the image;
#  * reproducible by default (erofs-utils takes the time and a random
#    UUID): without -T, -U or SOURCE_DATE_EPOCH two builds give the same
#    bytes, containerd's line too; the UUID derived from the content
#    changes with it; fsck.erofs and the kernel accept such images.
#
# Environment: BUILD (default: build/ of this tree), PEER_BUILD (the script
# that builds erofs-utils 1.9.3 and prints its directory; default
# ../shared/peers/build-erofs-utils.sh next to the tree), TMPDIR.
# Output: one `ok - NAME` / `not ok - NAME: reason` line per check.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
LIB=$HERE/../lib
TOP=$(cd "$HERE/../.." && pwd)
. "$LIB/tap.sh"
BUILD=${BUILD:-$TOP/build}
MKFS=$BUILD/mkfs/mkfs.erofs
PY=${PYTHON:-python3}
export PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$LIB

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP must run as root"
	exit 0
fi
if [ ! -x "$MKFS" ]; then
	nok "mkfs.erofs exists" "$MKFS not found (set BUILD)"
	exit 1
fi

# erofs-utils 1.9.3: its mkfs.erofs to compare with, its fsck.erofs
PEER=
for s in "${PEER_BUILD:-}" "$TOP/../shared/peers/build-erofs-utils.sh" \
	"$TOP/../../shared/peers/build-erofs-utils.sh"; do
	if [ -n "$s" ] && [ -x "$s" ]; then
		PEER=$("$s" 2>/dev/null | tail -n 1)
		break
	fi
done
PMKFS=${PEER:+$PEER/mkfs/mkfs.erofs}
PFSCK=${PEER:+$PEER/fsck/fsck.erofs}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mkfs-tarcompat.XXXXXX")
cleanup() {
	findmnt -rn -o TARGET | grep -F "$WORK" | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
	rm -rf "$WORK"
}
[ -n "${KEEP:-}" ] && cleanup() { echo "# kept $WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
echo "# mkfs: $MKFS"
echo "# peer: ${PEER:-none}"
oneline() { head -c "${1:-300}" | tr '\n' ' '; }
mnt() { $PY "$LIB/erofs_mount.py" mount "$1" "$2"; }
umnt() { $PY "$LIB/erofs_mount.py" umount "$1"; }

# ------------------------------------------------------------ headerball

# mkhb.py OUT FORMAT: a headerball (headers only) with every entry type,
# long names, pax xattrs and fractional times, whiteouts; BIG adds a file
# over 8 GiB (a base-256 size in GNU format)
cat >"$WORK/mkhb.py" <<'EOF'
import sys, tarfile
fmt = {'gnu': tarfile.GNU_FORMAT, 'pax': tarfile.PAX_FORMAT,
       'ustar': tarfile.USTAR_FORMAT}[sys.argv[2]]
out = open(sys.argv[1], 'wb')
def ent(name, type=tarfile.REGTYPE, size=0, mode=0o644, mtime=1600000000,
        link='', uid=0, gid=0, pax=None, dev=(0, 0)):
    ti = tarfile.TarInfo(name)
    ti.type, ti.size, ti.mode = type, size, mode
    ti.mtime, ti.linkname = mtime, link
    ti.uid, ti.gid = uid, gid
    ti.devmajor, ti.devminor = dev
    if pax:
        ti.pax_headers = pax
    out.write(ti.tobuf(fmt, 'utf-8', 'surrogateescape'))
ent('./', tarfile.DIRTYPE, mode=0o755)
ent('dir/', tarfile.DIRTYPE, mode=0o750, uid=7, gid=8)
ent('dir/a', size=5000, uid=1000, gid=1000, mtime=1500000000)
ent('dir/b', size=3 << 20, mode=0o600)
ent('dir/empty')
ent('dir/link', tarfile.SYMTYPE, link='a', mode=0o777)
ent('dir/hard', tarfile.LNKTYPE, link='dir/a')
ent('fifo', tarfile.FIFOTYPE)
ent('null', tarfile.CHRTYPE, dev=(1, 3))
ent('old/', tarfile.DIRTYPE, mode=0o755)
ent('old/.wh.gone', size=0)
ent('opq/', tarfile.DIRTYPE, mode=0o755)
ent('opq/.wh..wh..opq', size=0)
ent('opq/kept', size=10)
if fmt != tarfile.USTAR_FORMAT:
    ent('dir/' + 'long-name-' * 15, size=10)
    ent('dir/long-link', tarfile.SYMTYPE, link='target-' * 20, mode=0o777)
if fmt == tarfile.PAX_FORMAT:
    ent('px', size=77, mtime=1600000000.25, uid=4000000,
        pax={'SCHILY.xattr.user.foo': 'bar',
             'SCHILY.xattr.trusted.t': 'tv',
             'LIBARCHIVE.xattr.user.b64': 'AAECAw=='})
if len(sys.argv) > 3:
    ent('big', size=(1 << 33) + 3)
out.write(b'\0' * 1024)
EOF

for fmt in ustar gnu pax; do
	hb=$WORK/hb-$fmt.tar
	$PY "$WORK/mkhb.py" "$hb" $fmt
	"$MKFS" --quiet --tar=headerball --aufs -T 1600000000 "$WORK/o-$fmt.img" \
		"$hb" 2>"$WORK/o.err"
	check "headerball ($fmt): built" [ $? = 0 -a -s "$WORK/o-$fmt.img" ]
	# no data stored: the image is metadata only (the files hold 3 MiB)
	sz=$(stat -c '%s %b' "$WORK/o-$fmt.img")
	check "headerball ($fmt): no data in the image ($sz)" \
		[ "${sz% *}" -le 65536 ]
	if [ -z "$PMKFS" ] || [ ! -x "$PMKFS" ]; then
		skip "headerball ($fmt): same tree as erofs-utils" "no peer"
		continue
	fi
	"$PMKFS" --quiet --tar=headerball --aufs -T 1600000000 \
		"$WORK/p-$fmt.img" "$hb" >"$WORK/p.log" 2>&1
	mkdir -p "$WORK/mo" "$WORK/mp"
	if mnt "$WORK/o-$fmt.img" "$WORK/mo" && mnt "$WORK/p-$fmt.img" "$WORK/mp"
	then
		if $PY "$LIB/treecmp.py" "$WORK/mp" "$WORK/mo" >"$WORK/cmp.log" 2>&1
		then
			ok "headerball ($fmt): mounted tree equals erofs-utils' field by field"
		else
			nok "headerball ($fmt): mounted tree equals erofs-utils'" \
				"$(head -n 5 "$WORK/cmp.log" | oneline 600)"
		fi
		check "headerball ($fmt): file data reads as zeros" \
			cmp -s "$WORK/mo/dir/b" <(head -c $((3 << 20)) /dev/zero)
		check "headerball ($fmt): whiteout and opaque directory" \
			[ -c "$WORK/mo/old/gone" -a \
			"$(getfattr --only-values -n trusted.overlay.opaque \
				"$WORK/mo/opq" 2>/dev/null)" = y ]
	else
		nok "headerball ($fmt): both images mount" "mount failed"
	fi
	umnt "$WORK/mo" 2>/dev/null
	umnt "$WORK/mp" 2>/dev/null
	if "$PFSCK" "$WORK/o-$fmt.img" >"$WORK/fsck.log" 2>&1; then
		ok "headerball ($fmt): erofs-utils fsck.erofs accepts ours"
	else
		nok "headerball ($fmt): erofs-utils fsck.erofs accepts ours" \
			"$(tail -n 3 "$WORK/fsck.log" | oneline)"
	fi
done

# over 8 GiB: a base-256 size; still no space taken
$PY "$WORK/mkhb.py" "$WORK/hb-big.tar" gnu big
"$MKFS" --quiet --tar=headerball "$WORK/big.img" - <"$WORK/hb-big.tar"
check "headerball: a file over 8 GiB (base-256 size) from stdin" [ $? = 0 ]
mkdir -p "$WORK/mb"
if mnt "$WORK/big.img" "$WORK/mb"; then
	check "headerball: its size is kept ($(stat -c %s "$WORK/mb/big"))" \
		[ "$(stat -c %s "$WORK/mb/big")" = $(((1 << 33) + 3)) ]
	check "headerball: its last bytes read as zeros" \
		cmp -s <(tail -c 4096 "$WORK/mb/big") <(head -c 4096 /dev/zero)
	umnt "$WORK/mb"
else
	nok "headerball: the big image mounts" "mount failed"
fi
check "headerball: the image stays small ($(stat -c %s "$WORK/big.img"))" \
	[ "$(stat -c %s "$WORK/big.img")" -le 65536 ]

# a full tar is not a headerball: its bodies look like corrupt headers
tar -C "$WORK" -cf "$WORK/full.tar" mkhb.py
"$MKFS" --quiet --tar=headerball "$WORK/f.img" "$WORK/full.tar" \
	2>"$WORK/f.err"
rc=$?
check "headerball: a tar with bodies is refused naming the offset" \
	[ $rc != 0 -a ! -e "$WORK/f.img" ] && grep -q "at offset 512" "$WORK/f.err"

# ------------------------------------------------- --ungzip=FILE / --unxz=FILE

U=$WORK/usrc
mkdir -p "$U/d"
head -c 300000 /dev/urandom >"$U/d/r"
echo small >"$U/s"
tar --format=pax -C "$U" -cf - . | gzip >"$WORK/u.tgz"
tar --format=gnu -C "$U" -cf - . | xz >"$WORK/u.txz"
gzip -c "$WORK/hb-pax.tar" >"$WORK/hb.tgz"

"$MKFS" --quiet --tar=f --ungzip="$WORK/u.tar" "$WORK/u.img" "$WORK/u.tgz"
check "--ungzip=FILE: builds" [ $? = 0 ]
check "--ungzip=FILE: FILE is gzip -dc of the input, byte for byte" \
	cmp -s "$WORK/u.tar" <(gzip -dc "$WORK/u.tgz")
"$MKFS" --quiet --tar=f --unxz="$WORK/x.tar" "$WORK/x.img" <"$WORK/u.txz"
check "--unxz=FILE from stdin: FILE is xz -dc of the input" \
	cmp -s "$WORK/x.tar" <(xz -dc "$WORK/u.txz")
"$MKFS" --quiet --tar=headerball --ungzip="$WORK/h.tar" "$WORK/h.img" \
	"$WORK/hb.tgz"
check "--ungzip=FILE with --tar=headerball: FILE is the headerball" \
	cmp -s "$WORK/h.tar" "$WORK/hb-pax.tar"
mkdir -p "$WORK/mu"
if mnt "$WORK/u.img" "$WORK/mu"; then
	if $PY "$LIB/treecmp.py" "$U" "$WORK/mu" >"$WORK/cmp.log" 2>&1; then
		ok "--ungzip=FILE: the image equals the source"
	else
		nok "--ungzip=FILE: the image equals the source" \
			"$(head -n 5 "$WORK/cmp.log" | oneline 600)"
	fi
	umnt "$WORK/mu"
else
	nok "--ungzip=FILE: the image mounts" "mount failed"
fi
if [ -n "$PMKFS" ] && [ -x "$PMKFS" ]; then
	"$PMKFS" --quiet --tar=f --ungzip="$WORK/pu.tar" "$WORK/pu.img" \
		"$WORK/u.tgz" >"$WORK/p.log" 2>&1
	check "--ungzip=FILE: the same FILE as erofs-utils writes" \
		cmp -s "$WORK/u.tar" "$WORK/pu.tar"
else
	skip "--ungzip=FILE: the same FILE as erofs-utils writes" "no peer"
fi

# a corrupt stream: no FILE, no DEST, an older FILE untouched
cp "$WORK/u.tgz" "$WORK/bad.tgz"
printf '\377' | dd of="$WORK/bad.tgz" bs=1 seek=100000 conv=notrunc 2>/dev/null
"$MKFS" --quiet --tar=f --ungzip="$WORK/bad.tar" "$WORK/bad.img" \
	"$WORK/bad.tgz" 2>"$WORK/bad.err"
rc=$?
check "--ungzip=FILE: a corrupt stream fails and leaves no FILE, no DEST" \
	[ $rc != 0 -a ! -e "$WORK/bad.tar" -a ! -e "$WORK/bad.img" ]
echo old >"$WORK/old.tar"
"$MKFS" --quiet --tar=f --ungzip="$WORK/old.tar" "$WORK/bad.img" \
	"$WORK/bad.tgz" 2>/dev/null
check "--ungzip=FILE: a failed build leaves an existing FILE as it was" \
	[ "$(cat "$WORK/old.tar")" = old ]
# a build failing after the stream was read whole (a bad entry)
printf 'x' >"$WORK/dd"
tar -C "$WORK" -cf - --transform 's|^dd|../escape|' dd | gzip >"$WORK/esc.tgz"
"$MKFS" --quiet --tar=f --ungzip="$WORK/esc.tar" "$WORK/esc.img" \
	"$WORK/esc.tgz" 2>/dev/null
check "--ungzip=FILE: a refused entry leaves no FILE" \
	[ $? != 0 -a ! -e "$WORK/esc.tar" ]
"$MKFS" --quiet --tar=f --ungzip="$WORK/same.img" "$WORK/same.img" \
	"$WORK/u.tgz" 2>"$WORK/same.err"
rc=$?
check "--ungzip=FILE: FILE may not be DEST" \
	[ $rc != 0 -a ! -e "$WORK/same.img" ] && grep -q "same file" "$WORK/same.err"
cp "$WORK/u.tgz" "$WORK/src.tgz"
"$MKFS" --quiet --tar=f --ungzip="$WORK/src.tgz" "$WORK/s2.img" \
	"$WORK/src.tgz" 2>"$WORK/same.err"
rc=$?
check "--ungzip=FILE: FILE may not be the source (left untouched)" \
	[ $rc != 0 -a ! -e "$WORK/s2.img" ] &&
	cmp -s "$WORK/src.tgz" "$WORK/u.tgz" && grep -q "same file" "$WORK/same.err"
"$MKFS" --quiet --ungzip="$WORK/dir.tar" "$WORK/d.img" "$U" 2>"$WORK/d.err"
rc=$?
check "--ungzip=FILE with a directory SOURCE is refused" \
	[ $rc != 0 -a ! -e "$WORK/d.img" -a ! -e "$WORK/dir.tar" ]

# ---------------------------------------------------------------- --sort

# erofs-utils lays file data out in path order (its default --sort=path,
# and always for a directory): depth first, a directory's files by name in
# byte order before its subdirectories, a hard-linked file at its first
# name, a deduplicated chunk where first referenced, replaced archive
# entries dropped; --sort=none -Enoinline_data keeps archive order.  Every
# file's blocks are filled with one byte value of its own (shared values:
# shared chunks), so the data's order is the list of those values over the
# image's (or blob's) blocks; ours must equal erofs-utils' list.
S=$WORK/sort
mkdir -p "$S/dir"
cat >"$WORK/mksort.py" <<'EOF'
import io, sys, tarfile
out = tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT)
def d(name):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode = tarfile.DIRTYPE, 0o755
    out.addfile(ti)
def f(name, data):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    out.addfile(ti, io.BytesIO(data))
def blk(c, n=4096):
    return bytes([ord(c)]) * n
# archive order is not path order: deep entries and late parents first
for x in ('z/', 'z/deep/', 'z/deep/er/', 'Zd/', 'Zd/A/', 'a_dir/'):
    d(x)
f('z/deep/er/f', blk('f', 6000))
f('z/big', blk('X') + blk('Y'))
d('al/')
ti = tarfile.TarInfo('al/link')
ti.type, ti.linkname = tarfile.LNKTYPE, 'z/big'
out.addfile(ti)
f('m', blk('Z') + blk('Y'))          # Y shared with z/big
f('c', blk('W') + blk('Z'))          # Z shared with m
f('q', blk('V'))                     # replaced below: V never stored
f('e', b'')
f('s', blk('s', 100))                # a tail only
f('Zd/A/n', blk('n', 5000))
for i, n in enumerate(('\u00e4', 'a-b', 'a.b', 'ab', 'Z', '_x', 'B', 'a')):
    f(n, blk(chr(0x30 + i), 4096 + 300 * i))
for x in ('B_dir/', 'B_dir/x/', 'B_dir/x/y/', 'a_dir/A/', 'a_dir/A/B/',
          'a_dir/A/B/C/'):
    d(x)
f('a_dir/A/B/C/q3', blk('3', 9000))
f('B_dir/x/y/deep', blk('d'))
f('a_dir/q', blk('Q', 4096 * 3))
f('B_dir/x/y/Alpha', blk('A'))
f('Zd/m', blk('M'))
f('B_dir/x/file', blk('F'))
f('a_dir/A/q2', blk('2'))
f('B_dir/Afile', blk('a'))
f('q', blk('U'))
out.close()
EOF
# blocks FILE: one character per block holding one byte value (then zeros)
cat >"$WORK/blocks.py" <<'EOF'
import sys
s = []
with open(sys.argv[1], 'rb') as f:
    while True:
        b = f.read(4096)
        if not b:
            break
        t = b.rstrip(b'\0')
        if t and t == t[:1] * len(t) and 0x30 <= t[0] < 0x7f:
            s.append(chr(t[0]))
print(''.join(s))
EOF
blocks() { $PY "$WORK/blocks.py" "$1"; }
$PY "$WORK/mksort.py" "$WORK/sort.tar"
gzip -9n <"$WORK/sort.tar" >"$WORK/sort.tgz"
tar -C "$S/dir" -xf "$WORK/sort.tar"
UUID=6b0e2d4c-7a1f-4e55-9c3b-2f8d1e0a5b77
# sortcase NAME SOURCE OURS-ARGS... -- PEER-ARGS...: compares block lists
sortcase() {
	local name=$1 src=$2 oa=() pa=() o p
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		oa+=("$1")
		shift
	done
	shift
	pa=("$@")
	rm -f "$S/o.img" "$S/o.blob" "$S/p.img" "$S/p.blob"
	if ! "$MKFS" --quiet -T 0 -U clear "${oa[@]}" "$S/o.img" "$src" \
		2>"$S/o.err"; then
		nok "--sort: $name" "$(oneline <"$S/o.err")"
		return
	fi
	"$PMKFS" --quiet -T 0 -U clear "${pa[@]}" "$S/p.img" "$src" \
		>/dev/null 2>&1
	o=$(blocks "$S/o.img")
	p=$(blocks "$S/p.img")
	if [ -e "$S/o.blob" ]; then
		o="$o|$(blocks "$S/o.blob")"
		p="$p|$(blocks "$S/p.blob")"
	fi
	check "--sort: $name: data order $o as erofs-utils'" [ "$o" = "$p" ]
	echo "$o" >"$S/last.order"
}
if [ -n "$PMKFS" ] && [ -x "$PMKFS" ]; then
	NI=-Enoinline_data
	BD="--blobdev=$S/o.blob"
	PBD="--blobdev=$S/p.blob"
	# ours keeps archive order by default (erofs-utils: path order)
	sortcase "tar, default: archive order" "$WORK/sort.tar" --tar=f $NI \
		-- --tar=f --sort=none $NI
	sortcase "tar, --sort=path" "$WORK/sort.tar" --tar=f --sort=path $NI \
		-- --tar=f --sort=path $NI
	sortcase "tar, --sort=path, tails inline" "$WORK/sort.tar" --tar=f \
		--sort=path -- --tar=f
	sortcase "gzip tar, --sort=path" "$WORK/sort.tgz" --tar=f --sort=path \
		$NI -- --tar=f --ungzip $NI
	sortcase "containerd's line with --sort=none" "$WORK/sort.tar" \
		--tar=f --aufs --quiet -Enoinline_data -b4096 -U $UUID \
		--sort=none \
		-- --tar=f --aufs --quiet -Enoinline_data -b4096 -U $UUID \
		--sort=none
	sortcase "containerd's line with --sort=path" "$WORK/sort.tar" \
		--tar=f --aufs --quiet -Enoinline_data -b4096 -U $UUID \
		--sort=path \
		-- --tar=f --aufs --quiet -Enoinline_data -b4096 -U $UUID
	sortcase "tar, chunks deduplicated in the image" "$WORK/sort.tar" \
		--tar=f --sort=path $NI --chunksize=4096 \
		-- --tar=f $NI --chunksize=4096
	sortcase "tar, chunks deduplicated in a blob" "$WORK/sort.tar" \
		--tar=f --sort=path $NI --chunksize=4096 "$BD" \
		-- --tar=f $NI --chunksize=4096 "$PBD"
	check "--sort: each chunk once, V dropped ($(cat "$S/last.order"))" \
		[ "$(cat "$S/last.order")" = "|66445577112233WZYUs0aFAdMnnQ3Xff" ]
	sortcase "tar, --sort=none -Enoinline_data: archive order" \
		"$WORK/sort.tar" --tar=f --sort=none $NI \
		-- --tar=f --sort=none $NI
	sortcase "directory" "$S/dir" --
	sortcase "directory, --sort=none -Enoinline_data (still path)" \
		"$S/dir" --sort=none $NI -- --sort=none $NI
	sortcase "directory, chunks in a blob" "$S/dir" --chunksize=4096 \
		"$BD" -- --chunksize=4096 "$PBD"
else
	skip "--sort: data order against erofs-utils" "no peer"
fi
"$MKFS" --quiet -T 0 -U clear --tar=f "$S/n1.img" "$WORK/sort.tar"
"$MKFS" --quiet -T 0 -U clear --tar=f --sort=none "$S/n2.img" "$WORK/sort.tar"
"$MKFS" --quiet -T 0 -U clear --tar=f --sort=path "$S/n3.img" "$WORK/sort.tar"
check "--sort: archive order by default, tails inline or not" \
	cmp -s "$S/n1.img" "$S/n2.img"
check "--sort=path: another layout, the same files" \
	[ "$(blocks "$S/n1.img")" != "$(blocks "$S/n3.img")" ]
# the blob copied into a new file: with temporary names instead of
# O_TMPFILE, only the outputs remain
mkdir -p "$S/nt"
EROFS_NO_O_TMPFILE=1 "$MKFS" --quiet -T 0 -U clear --tar=f --sort=path \
	--chunksize=4096 --blobdev="$S/nt/b.blob" "$S/nt/o.img" "$WORK/sort.tar"
rc=$?
check "--sort=path with temporary names leaves only the outputs" \
	[ $rc = 0 -a "$(ls -A "$S/nt" | tr '\n' ' ')" = "b.blob o.img " ]

# every layout reads back the archive's files (erofs-utils' fsck.erofs
# --extract, the kernel), and a build is reproducible
n=0
for a in "--sort=path -Enoinline_data" "--sort=path" \
	"--sort=path --chunksize=4096" \
	"--sort=path -Enoinline_data --chunksize=4096 --blobdev=$S/r.blob" \
	"-Enoinline_data --chunksize=8192 --blobdev=$S/r.blob"; do
	n=$((n + 1))
	rm -f "$S/r.img" "$S/r.blob" "$S/r1.blob" "$S/r2.img"
	# shellcheck disable=SC2086
	"$MKFS" --quiet -T 0 -U clear --tar=f $a "$S/r.img" "$WORK/sort.tar" \
		2>"$S/r.err"
	rc=$?
	dev=()
	if [ -e "$S/r.blob" ]; then
		mv "$S/r.blob" "$S/r1.blob"
		dev=(--device "$S/r1.blob")
	fi
	# shellcheck disable=SC2086
	"$MKFS" --quiet -T 0 -U clear --tar=f $a "$S/r2.img" "$WORK/sort.tar" \
		2>>"$S/r.err"
	same=yes
	cmp -s "$S/r.img" "$S/r2.img" || same=no
	if [ ${#dev[@]} = 2 ]; then
		cmp -s "$S/r1.blob" "$S/r.blob" || same=no
	fi
	check "--sort layout $n (--tar=f $a): built twice, byte-identical" \
		[ $rc = 0 -a $same = yes ]
	if [ -n "$PFSCK" ] && [ -x "$PFSCK" ]; then
		rm -rf "$S/x"
		pdev=()
		[ ${#dev[@]} = 2 ] && pdev=(--device="${dev[1]}")
		"$PFSCK" "${pdev[@]}" --extract="$S/x" "$S/r.img" \
			>"$S/f.log" 2>&1 && diff -r "$S/dir" "$S/x" >>"$S/f.log"
		rc=$?
		check "--sort layout $n: erofs-utils' fsck.erofs --extract" \
			[ $rc = 0 ]
	fi
	mkdir -p "$S/m"
	if $PY "$LIB/erofs_mount.py" mount "$S/r.img" "$S/m" "${dev[@]}"; then
		diff -r "$S/dir" "$S/m" >"$S/d.log" 2>&1
		rc=$?
		umnt "$S/m"
		check "--sort layout $n: the kernel reads the files back" \
			[ $rc = 0 ]
	else
		skip "--sort layout $n: the kernel reads the files back" \
			"no EROFS mount"
	fi
done

# --- reproducible by default: no -T, no -U, no SOURCE_DATE_EPOCH ---------
R=$WORK/repro
mkdir -p "$R/src/sub"
head -c 200000 /dev/urandom >"$R/src/big"
echo tail >"$R/src/sub/small"
ln -s big "$R/src/link"
tar -C "$R/src" -cf "$R/a.tar" .
uuid_of() { od -An -tx1 -j $((1024 + 48)) -N 16 "$1" | tr -d ' \n'; }
(
	unset SOURCE_DATE_EPOCH
	for i in 1 2; do
		"$MKFS" --quiet "$R/flat$i.img" "$R/src"
		"$MKFS" --quiet --chunksize=65536 --blobdev="$R/t$i.blob" \
			"$R/t$i.img" "$R/a.tar"
		"$MKFS" --tar=f --aufs --quiet -Enoinline_data -b4096 \
			-U 3d0b5f6c-1c2e-4d7a-9e55-0f6a7b8c9d0e "$R/c$i.img" \
			<"$R/a.tar"
		"$MKFS" --quiet -U random "$R/r$i.img" "$R/src"
	done
	printf x >>"$R/src/sub/small"
	"$MKFS" --quiet "$R/flat3.img" "$R/src"
) >"$R/log" 2>&1
check "reproducible: a directory, flat, built twice gives the same bytes" \
	cmp "$R/flat1.img" "$R/flat2.img"
check "reproducible: a tar into a bootstrap and a blob, twice" \
	sh -c "cmp '$R/t1.img' '$R/t2.img' && cmp '$R/t1.blob' '$R/t2.blob'"
check "reproducible: containerd's line with -U, twice" \
	cmp "$R/c1.img" "$R/c2.img"
check "the derived UUID is not zero, and a changed file changes it" \
	sh -c "[ '$(uuid_of "$R/flat1.img")' != 00000000000000000000000000000000 ] &&
		[ '$(uuid_of "$R/flat1.img")' != '$(uuid_of "$R/flat3.img")' ]"
check "-U random still gives a new UUID each time" \
	[ "$(uuid_of "$R/r1.img")" != "$(uuid_of "$R/r2.img")" ]
if [ -n "$PFSCK" ] && [ -x "$PFSCK" ]; then
	check "erofs-utils' fsck.erofs accepts the derived UUID's superblock" \
		sh -c "'$PFSCK' '$R/flat1.img' && '$PFSCK' --device='$R/t1.blob' '$R/t1.img'"
else
	skip "erofs-utils' fsck.erofs accepts the derived UUID's superblock" \
		"no erofs-utils 1.9.3"
fi
mkdir -p "$R/m"
if $PY "$LIB/erofs_mount.py" mount "$R/t1.img" "$R/m" --device "$R/t1.blob"; then
	cmp "$R/src/big" "$R/m/big" >"$R/cmp.log" 2>&1
	rc=$?
	umnt "$R/m"
	check "the kernel mounts the derived-UUID image and reads it back" \
		[ $rc = 0 ]
else
	skip "the kernel mounts the derived-UUID image and reads it back" \
		"no EROFS mount"
fi

echo "# $fails failure(s)"
[ "$fails" = 0 ]
