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
#  * --sort=none / --sort=path: the data order in the image.
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

# erofs-utils lays file data out in directory-tree order by default
# (--sort=path) and in archive order with --sort=none -Enoinline_data
# (uncompressed); ours always streams it in archive order.  Compared: the
# order of the files' first data blocks, read by erofs-utils' dump.erofs.
S=$WORK/sort
mkdir -p "$S/d"
for f in z a d/m; do head -c 8192 /dev/urandom >"$S/$f"; done
tar -C "$S" -cf "$WORK/sort.tar" z a d/m
# order IMAGE: the paths by data address
order() {
	for f in /z /a /d/m; do
		"$PEER/dump/dump.erofs" --path=$f -e "$1" 2>/dev/null |
			awk -v f=$f '/^ +[0-9]+:/ { print $7 + 0, f; exit }'
	done | sort -n | awk '{ printf "%s ", $2 }'
}
for s in none path; do
	"$MKFS" --quiet --tar=f --sort=$s -Enoinline_data -T 0 -U clear \
		"$WORK/so-$s.img" "$WORK/sort.tar"
done
check "--sort=none and --sort=path: the same image" \
	cmp -s "$WORK/so-none.img" "$WORK/so-path.img"
if [ -n "$PEER" ] && [ -x "$PEER/dump/dump.erofs" ]; then
	"$PMKFS" --quiet --tar=f --sort=none -Enoinline_data -T 0 -U clear \
		"$WORK/sp-none.img" "$WORK/sort.tar" >/dev/null 2>&1
	"$PMKFS" --quiet --tar=f --sort=path -Enoinline_data -T 0 -U clear \
		"$WORK/sp-path.img" "$WORK/sort.tar" >/dev/null 2>&1
	o=$(order "$WORK/so-none.img")
	p=$(order "$WORK/sp-none.img")
	check "--sort=none: data in archive order, as erofs-utils ($o)" \
		[ "$o" = "/z /a /d/m " -a "$o" = "$p" ]
	p=$(order "$WORK/sp-path.img")
	check "--sort=path: erofs-utils' tree order ($p) is not ours (documented)" \
		[ "$p" = "/a /z /d/m " ]
else
	skip "--sort: data order against erofs-utils" "no peer"
fi

echo "# $fails failure(s)"
[ "$fails" = 0 ]
