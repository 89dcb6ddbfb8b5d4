#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# mkfs.erofs as a drop-in for erofs-utils' mkfs.erofs (run as root).
#
#  * containerd's two command lines (--tar=f and --tar=i with the tar
#    appended) for every layer of a multi-layer image made by umoci
#    (deletions, an opaque directory, replaced files, hard links, xattrs):
#    each layer image mounted with mount(2), the layers stacked with
#    overlayfs (lowerdir=top:...:bottom) and the stack compared field by
#    field with `umoci unpack` of the image, allowing only the metadata of
#    directories the top-most layer holding them does not list;
#  * every -E option and inode form checked in the image by an independent
#    reader (tests/lib/erofsimg.py) and through the kernel;
#  * -b 512/1024/2048/4096, --xattr-prefix, --uid/gid-offset,
#    --hard-dereference, --sort, --ignore-mtime mounted and compared;
#  * --help notation, unsupported erofs-utils options refused by name, bad
#    values, the progress line (only on a terminal);
#  * what the format cannot hold is refused naming the file: xattrs beyond
#    the 16-bit count, device numbers, malformed POSIX ACLs; a repeated pax
#    xattr keeps the last value once;
#  * every image checked by erofs-utils 1.9.3's `fsck.erofs --extract`.
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
MKFS=$BUILD/mkfs/mkfs.erofs
PY=${PYTHON:-python3}
export PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$LIB
T=1600000000
UUID=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0

need_root
need_exe mkfs.erofs "$MKFS"
# erofs-utils 1.9.3 for fsck.erofs --extract (its checks are skipped
# without it)
peer_find
FSCK=$PEER_FSCK

scratch mkfs-compat
WORK=$SCRATCH
echo "# mkfs: $MKFS"
echo "# fsck: ${FSCK:-none ($PEER_WHY)}"

# fsck NAME IMAGE: erofs-utils 1.9.3 reads and extracts every file (onto
# a tmpfs, which holds xattrs of any size)
mkdir -p "$WORK/x"
mount -t tmpfs -o size=64m none "$WORK/x"
fsck_img() {
	local name=$1 img=$2 x=$WORK/x/out rc
	if [ -z "$FSCK" ]; then
		peer_missing "$name: fsck.erofs --extract"
		return
	fi
	rm -rf "$x"
	"$FSCK" --extract="$x" --xattrs "$img" >"$WORK/fsck.log" 2>&1
	rc=$?
	rm -rf "$x"
	if [ $rc = 0 ]; then
		ok "$name: fsck.erofs --extract"
	else
		nok "$name: fsck.erofs --extract" \
			"exit $rc: $(tail -n 3 "$WORK/fsck.log" | oneline)"
	fi
}

# tree_eq NAME SOURCE MOUNTPOINT [treecmp options]: the mounted tree
# equals the source (tests/lib/treecmp.py)
tree_eq() {
	local name=$1 src=$2 m=$3
	shift 3
	if $PY "$LIB/treecmp.py" "$src" "$m" "$@" >"$WORK/cmp.log" 2>&1; then
		ok "$name: mounted tree equals the source"
	else
		nok "$name: mounted tree equals the source" \
			"$(head -n 5 "$WORK/cmp.log" | oneline 600)"
	fi
}
# mount_cmp NAME IMAGE SOURCE [treecmp options]: mounted and equal
mount_cmp() {
	local name=$1 img=$2 src=$3 m=$WORK/mnt
	shift 3
	mkdir -p "$m"
	if ! $PY "$LIB/erofs_mount.py" mount "$img" "$m" 2>"$WORK/mnt.log"; then
		nok "$name: mounts" "$(oneline <"$WORK/mnt.log")"
		return 1
	fi
	tree_eq "$name" "$src" "$m" "$@"
	$PY "$LIB/erofs_mount.py" umount "$m"
}

# ---------------------------------------------------------------- options

help=$("$MKFS" --help)
for probe in '--tar=' '-b#' '--xattr-prefix'; do
	if grep -qF -- "$probe" <<<"$help"; then
		ok "--help mentions $probe"
	else
		nok "--help mentions $probe" "not found"
	fi
done

mkdir -p "$WORK/small"
echo hi >"$WORK/small/f"
# refused NAME WANT-IN-MESSAGE ARGS...: exit 2, message names it, no usage
refused() {
	local name=$1 want=$2 rc lines
	shift 2
	rm -f "$WORK/r.img"
	"$MKFS" "$@" "$WORK/r.img" "$WORK/small" >"$WORK/r.out" 2>"$WORK/r.err"
	rc=$?
	lines=$(wc -l <"$WORK/r.err")
	if [ $rc -ne 0 ] && grep -qF -- "$want" "$WORK/r.err" &&
		[ "$lines" -le 2 ] && [ ! -e "$WORK/r.img" ]; then
		ok "$name"
	else
		nok "$name" "exit $rc, $lines lines: $(oneline <"$WORK/r.err")"
	fi
}
refused "-z is refused by name" "option -z" -zlz4
refused "-C is refused by name" "option -C" -C65536
refused "--workers is refused by name" "option --workers" --workers=2
refused "--offset is refused by name" "option --offset" --offset=4096
refused "--incremental is refused by name" "option --incremental" --incremental
refused "-E fragments is refused by name" '"fragments"' -Efragments
refused "-E 48bit is refused by name" '"48bit"' -E48bit
refused "--ungzip=FILE with a directory is refused" "needs an archive" --ungzip=x.tar
refused "unknown -E option" '"bogus"' -Ebogus
refused "--sort=other is refused" "--sort" --sort=other
refused "--ovlfs-strip=2 is refused" "--ovlfs-strip" --ovlfs-strip=2
refused "--tar=x is refused" "--tar" --tar=x
refused "-b above the page size is refused" "block size" -b131072
refused "-b 1000 is refused" "block size" -b1000
refused "-b 256 is refused" "block size" -b256
refused "--uid-offset=abc is refused" "--uid-offset" --uid-offset=abc
refused "force-inode-blockmap with --blobdev is refused" "blockmap" \
	-Eforce-inode-blockmap --chunksize=4096 --blobdev="$WORK/r.blob"
refused "--tar with a directory is refused" "directory" --tar=f

# --ungzip / --unxz without FILE are accepted; compression is detected
tar --format=pax -C "$WORK/small" -cf - . | gzip >"$WORK/small.tgz"
tar --format=pax -C "$WORK/small" -cf - . | xz >"$WORK/small.txz"
"$MKFS" --quiet --ungzip --tar=f "$WORK/u1.img" "$WORK/small.tgz" &&
	"$MKFS" --quiet --unxz --tar=f "$WORK/u2.img" <"$WORK/small.txz" &&
	"$MKFS" --quiet --gzip --tar "$WORK/u3.img" - <"$WORK/small.tgz"
check "--ungzip, --unxz, --gzip, --tar without SOURCE and with -" [ $? = 0 ]
mount_cmp "--tar=f from stdin" "$WORK/u2.img" "$WORK/small"

# the progress line: on a terminal, not off it nor with --quiet
rm -f "$WORK/p.img"
"$MKFS" "$WORK/p.img" "$WORK/small" >"$WORK/p.out" 2>"$WORK/p.err"
check "no progress line off a terminal (stderr empty)" \
	[ $? = 0 -a ! -s "$WORK/p.err" ]
script -qec "'$MKFS' '$WORK/p2.img' '$WORK/small'" /dev/null >"$WORK/p.tty"
if grep -q $'\rmkfs.erofs: [0-9]* entries, .* MiB read, .* MiB stored, .* MiB/s' "$WORK/p.tty"; then
	ok "progress line on a terminal (entries, bytes, rate, \\r-updated)"
else
	nok "progress line on a terminal" "$(oneline <"$WORK/p.tty")"
fi
script -qec "'$MKFS' --quiet '$WORK/p3.img' '$WORK/small'" /dev/null \
	>"$WORK/p.tty"
check "no progress line with --quiet on a terminal" [ ! -s "$WORK/p.tty" ]

# expect_fail NAME RC WANT: the build failed (exit RC), $WORK/r.img is
# absent and the message ($WORK/r.err) contains WANT
expect_fail() {
	if [ "$2" = 1 ] && [ ! -e "$WORK/r.img" ] &&
		grep -qF -- "$3" "$WORK/r.err"; then
		ok "$1"
	else
		nok "$1" "exit $2: $(oneline <"$WORK/r.err")"
	fi
}

# ---------------------------------------------------------------- forms

S=$WORK/src
mkdir -p "$S/dir/sub"
printf 'tail' >"$S/small"			# inline tail by default
head -c 5000 /dev/urandom >"$S/blocks"		# 1 block + a tail
head -c 12288 /dev/urandom >"$S/chunky"		# 3 chunks of 4096
head -c 12288 /dev/zero >>"$S/chunky"
echo big-id >"$S/bigid"
chown 70000:70001 "$S/bigid"			# needs an extended inode
ln -s small "$S/dir/link"
setfattr -n user.one -v 1 "$S/small"
setfattr -n trusted.overlay.opaque -v y "$S/dir"
setfattr -n trusted.overlay.redirect -v /x "$S/dir/sub"
setfattr -n user.long.prefix.a -v A "$S/blocks"
setfattr -n user.long.prefix.b -v B "$S/blocks"
touch -d @1500000000.123456789 "$S/small" "$S/blocks"
touch -d @$T "$S/chunky" "$S/bigid" "$S/dir/link" "$S/dir" "$S/dir/sub" "$S"
touch -h -d @$T "$S/dir/link"

# inspect IMAGE MNT CHECK...: evaluates the python CHECKs on every path
# (variables: img, ino(path) -> inode dict, paths); prints failures
cat >"$WORK/inspect.py" <<'EOF'
import os, sys
import erofsimg
img = erofsimg.Image(sys.argv[1])
mnt = sys.argv[2]
paths = {}
for root, dirs, files in os.walk(mnt):
    for n in dirs + files + ['']:
        p = os.path.join(root, n) if n else root
        rel = os.path.relpath(p, mnt)
        paths[rel] = os.lstat(p).st_ino
def ino(rel):
    return img.inode(paths[rel])
bad = 0
for expr in sys.argv[3:]:
    try:
        r = eval(expr)
    except Exception as e:
        r = 'raised %r' % e
    if r is not True:
        print('FAILED %s (%s)' % (expr, r))
        bad += 1
sys.exit(1 if bad else 0)
EOF

# form NAME "MKFS OPTIONS" "TREECMP OPTIONS" CHECK...
form() {
	local name=$1 opts=$2 copts=$3 img=$WORK/form.img m=$WORK/mnt
	shift 3
	rm -f "$img"
	# shellcheck disable=SC2086
	if ! "$MKFS" --quiet -U $UUID $opts "$img" "$S" 2>"$WORK/f.err"; then
		nok "$name: builds" "$(oneline <"$WORK/f.err")"
		return
	fi
	mkdir -p "$m"
	if ! $PY "$LIB/erofs_mount.py" mount "$img" "$m"; then
		nok "$name: mounts" "mount(2) failed"
		return
	fi
	if $PY "$WORK/inspect.py" "$img" "$m" "$@" >"$WORK/i.log" 2>&1; then
		ok "$name: on-disk form ($# checks)"
	else
		nok "$name: on-disk form" "$(oneline 600 <"$WORK/i.log")"
	fi
	# shellcheck disable=SC2086
	tree_eq "$name" "$S" "$m" $copts
	$PY "$LIB/erofs_mount.py" umount "$m"
	fsck_img "$name" "$img"
}

INL=erofsimg.FLAT_INLINE
PLAIN=erofsimg.FLAT_PLAIN
CHUNK=erofsimg.CHUNK_BASED
form "default" "-T $T --mkfs-time" "" \
	"ino('small')['layout'] == $INL" "ino('blocks')['layout'] == $INL" \
	"ino('small')['extended'] == 1" "ino('bigid')['extended'] == 1" \
	"ino('chunky')['extended'] == 0" \
	"img.compat & erofsimg.COMPAT_SB_CHKSUM != 0" \
	"img.checksum == img.computed_checksum()"
for e in noinline_data ^inline_data; do
	form "-E$e" "-E$e" "" \
		"ino('small')['layout'] == $PLAIN" \
		"ino('blocks')['layout'] == $PLAIN" \
		"ino('dir/link')['layout'] == $INL" \
		"ino('dir')['layout'] == $INL"
done
form "-Eforce-inode-extended" "-Eforce-inode-extended" "" \
	"all(ino(p)['extended'] == 1 for p in paths)"
form "-Eforce-inode-compact (times become the build time)" \
	"-Eforce-inode-compact --force-uid=1 --force-gid=2 -T $T --mkfs-time" \
	"--uid 1 --gid 2 --mtime $T" \
	"all(ino(p)['extended'] == 0 for p in paths)"
form "--ignore-mtime" "--ignore-mtime -T $T --mkfs-time" "--mtime $T" \
	"ino('small')['extended'] == 0" "ino('blocks')['extended'] == 0" \
	"ino('bigid')['extended'] == 1"
form "--preserve-mtime after --ignore-mtime" \
	"--ignore-mtime --preserve-mtime -T $T --mkfs-time" "" \
	"ino('small')['extended'] == 1"
form "-Enosbcrc" "-Enosbcrc" "" \
	"img.compat & erofsimg.COMPAT_SB_CHKSUM == 0" "img.checksum == 0"
form "--chunksize -Eforce-inode-blockmap" \
	"--chunksize=4096 -Eforce-inode-blockmap" "" \
	"ino('chunky')['layout'] == $CHUNK" \
	"img.chunks(ino('chunky'))[1] is False" \
	"len(img.chunks(ino('chunky'))[2]) == 6"
form "--chunksize -Eforce-chunk-indexes" \
	"--chunksize=4096 -Eforce-chunk-indexes" "" \
	"ino('chunky')['layout'] == $CHUNK" \
	"img.chunks(ino('chunky'))[1] is True"
form "--xattr-prefix" \
	"--xattr-prefix=trusted.overlay. --xattr-prefix=user.long.prefix." "" \
	"img.incompat & erofsimg.INCOMPAT_XATTR_PREFIXES != 0" \
	"img.prefixes == [(4, b'overlay.'), (1, b'long.prefix.')]" \
	"sorted(x[0] for x in img.xattrs(ino('blocks'))['inline']) == [b'user.long.prefix.a', b'user.long.prefix.b']" \
	"img.read(ino('dir')['pos'] + ino('dir')['isize'] + 13, 1) == bytes([0x80])" \
	"img.read(ino('blocks')['pos'] + ino('blocks')['isize'] + 13, 1) == bytes([0x81])"
form "--xattr-prefix with -x0 (shared)" \
	"-x0 --xattr-prefix=trusted.overlay. -Exattr-name-filter" "" \
	"img.xattrs(ino('dir/sub'))['shared'][0][0] == b'trusted.overlay.redirect'"
form "--uid-offset/--gid-offset after --force-uid/gid" \
	"--force-uid=5 --force-gid=6 --uid-offset=1000 --gid-offset=0x10" \
	"--uid 1005 --gid 22"
for b in 512 1024 2048 4096; do
	form "-b$b" "-b$b" "" "img.blksz == $b"
done
refused "-Eforce-inode-compact with uid 70000 is refused naming the file" \
	"/: cannot be a compact inode" \
	-Eforce-inode-compact --all-root --force-uid=70000
mkdir -p "$WORK/o1"
echo x >"$WORK/o1/f"
chown 20:20 "$WORK/o1"
chown 3:3 "$WORK/o1/f"
rm -f "$WORK/r.img"
"$MKFS" --quiet --uid-offset=-5 "$WORK/r.img" "$WORK/o1" 2>"$WORK/r.err"
expect_fail "--uid-offset below 0 is refused naming the file" $? "/f: uid 3-5"

# a directory is read in path order whatever --sort says: no byte
# changes; --hard-dereference splits links
mkdir -p "$WORK/hl"
echo data >"$WORK/hl/a"
ln "$WORK/hl/a" "$WORK/hl/b"
ln "$WORK/hl/a" "$WORK/hl/c"
"$MKFS" --quiet -T $T -U $UUID "$WORK/s1.img" "$WORK/hl" &&
	"$MKFS" --quiet -T $T -U $UUID --sort=none "$WORK/s2.img" "$WORK/hl" &&
	"$MKFS" --quiet -T $T -U $UUID --sort=path "$WORK/s3.img" "$WORK/hl"
check "--sort=none and --sort=path are accepted" [ $? = 0 ]
check "--sort leaves a directory's image byte-identical" \
	cmp -s "$WORK/s1.img" "$WORK/s2.img" && cmp -s "$WORK/s1.img" "$WORK/s3.img"
"$MKFS" --quiet -T $T --hard-dereference "$WORK/hd.img" "$WORK/hl"
mkdir -p "$WORK/mnt"
if $PY "$LIB/erofs_mount.py" mount "$WORK/hd.img" "$WORK/mnt"; then
	set -- $(stat -c '%i:%h' "$WORK/mnt/a" "$WORK/mnt/b" "$WORK/mnt/c")
	if [ "$1" != "$2" ] && [ "$2" != "$3" ] && [ "$1" != "$3" ] &&
		[ "${1#*:}" = 1 ] && [ "${2#*:}" = 1 ] && [ "${3#*:}" = 1 ] &&
		cmp -s "$WORK/mnt/a" "$WORK/hl/a" &&
		cmp -s "$WORK/mnt/c" "$WORK/hl/a"; then
		ok "--hard-dereference: three inodes, nlink 1, same data"
	else
		nok "--hard-dereference" "ino:nlink $*"
	fi
	$PY "$LIB/erofs_mount.py" umount "$WORK/mnt"
else
	nok "--hard-dereference: mounts" "mount(2) failed"
fi
fsck_img "--hard-dereference" "$WORK/hd.img"

# ---------------------------------------------------------------- limits

# xattrs beyond the 16-bit inode xattr count: refused naming the file;
# three 65535-byte values still fit and read back
X=$WORK/xa
mkdir -p "$X"
mount -t tmpfs -o size=8m none "$X"
echo f >"$X/three"
echo f >"$X/four"
v=$(head -c 65535 /dev/zero | tr '\0' v)
for i in 1 2 3; do
	setfattr -n "trusted.big$i" -v "$v" "$X/three"
	setfattr -n "trusted.big$i" -v "$v" "$X/four"
done
setfattr -n trusted.big4 -v "$v" "$X/four"
rm -f "$WORK/r.img"
"$MKFS" --quiet "$WORK/r.img" "$X" 2>"$WORK/r.err"
expect_fail "xattrs beyond what an inode holds are refused naming the file" \
	$? four
rm "$X/four"
"$MKFS" --quiet "$WORK/x3.img" "$X" 2>"$WORK/r.err"
check "three 65535-byte xattrs fit one inode" [ $? = 0 ]
mount_cmp "three 65535-byte xattrs" "$WORK/x3.img" "$X"
fsck_img "three 65535-byte xattrs" "$WORK/x3.img"
umount "$X"

# archives with what the format cannot hold, and a repeated pax xattr
$PY - "$WORK" <<'EOF'
import io, sys, tarfile
w = sys.argv[1]
def pax_record(k, v):
    body = ' %s=%s\n' % (k, v)
    n = len(body) + 1
    while len(str(n)) + len(body) != n:
        n += 1
    return ('%d%s' % (n, body)).encode()
with tarfile.open(w + '/dev.tar', 'w', format=tarfile.PAX_FORMAT) as t:
    d = tarfile.TarInfo('sub'); d.type = tarfile.DIRTYPE; t.addfile(d)
    c = tarfile.TarInfo('sub/dev'); c.type = tarfile.CHRTYPE
    c.pax_headers = {'SCHILY.devmajor': '5000', 'SCHILY.devminor': '3000000'}
    t.addfile(c)
with tarfile.open(w + '/acl.tar', 'w', format=tarfile.PAX_FORMAT) as t:
    f = tarfile.TarInfo('badacl')
    f.pax_headers = {'SCHILY.xattr.system.posix_acl_access': 'garbage!'}
    t.addfile(f, io.BytesIO(b''))
with tarfile.open(w + '/dup.tar', 'w', format=tarfile.USTAR_FORMAT) as t:
    data = pax_record('SCHILY.xattr.user.a', 'first') + \
        pax_record('SCHILY.xattr.user.a', 'last')
    x = tarfile.TarInfo('PaxHeaders/f'); x.type = tarfile.XHDTYPE
    x.size = len(data)
    t.addfile(x, io.BytesIO(data))
    f = tarfile.TarInfo('f'); f.size = 2
    t.addfile(f, io.BytesIO(b'ok'))
EOF
rm -f "$WORK/r.img"
"$MKFS" --quiet "$WORK/r.img" "$WORK/dev.tar" 2>"$WORK/r.err"
expect_fail "a device number beyond 12/20 bits is refused naming the file" \
	$? sub/dev
"$MKFS" --quiet "$WORK/r.img" "$WORK/acl.tar" 2>"$WORK/r.err"
expect_fail "a malformed raw POSIX ACL is refused naming the entry" $? badacl
"$MKFS" --quiet "$WORK/dup.img" "$WORK/dup.tar" 2>"$WORK/r.err"
if [ $? = 0 ] && $PY "$LIB/erofs_mount.py" mount "$WORK/dup.img" "$WORK/mnt"; then
	got=$(getfattr --absolute-names -d -m - "$WORK/mnt/f" | grep -c '^user.a=')
	val=$(getfattr --absolute-names --only-values -n user.a "$WORK/mnt/f")
	$PY "$LIB/erofs_mount.py" umount "$WORK/mnt"
	check "a repeated pax xattr keeps the last value once ($got, $val)" \
		[ "$got" = 1 -a "$val" = last ]
	fsck_img "repeated pax xattr" "$WORK/dup.img"
else
	nok "a repeated pax xattr builds and mounts" "$(oneline <"$WORK/r.err")"
fi

# ---------------------------------------------------------------- layers

# a multi-layer image by umoci: files, hard links, xattrs, a symlink, a
# device, a fifo; then deletions and replaced files; then a hand-made
# layer with an opaque directory and a whiteout (umoci writes none)
L=$WORK/oci
if ! command -v umoci >/dev/null; then
	skip "containerd layer conversion" "umoci missing"
	exit $((fails > 0))
fi
(
	set -e
	cd "$WORK"
	umoci init --layout oci
	umoci new --image oci:t0
	umoci unpack --image oci:t0 b0 >/dev/null
	R=b0/rootfs
	mkdir -p $R/etc $R/usr/bin $R/opq/sub $R/keep
	echo one >$R/etc/conf
	echo bin >$R/usr/bin/tool
	ln $R/usr/bin/tool $R/usr/bin/tool2
	echo x >$R/opq/sub/old
	echo y >$R/opq/a
	head -c 70000 /dev/urandom >$R/usr/bin/large
	setfattr -n user.color -v blue $R/etc/conf
	setfattr -n user.dir -v d $R/keep
	ln -s ../etc/conf $R/usr/link
	mknod $R/null c 1 3
	mkfifo $R/fifo
	chown 1000:1000 $R/keep
	umoci repack --image oci:t1 b0
	umoci unpack --image oci:t1 b1 >/dev/null
	R=b1/rootfs
	rm $R/etc/conf
	echo new >$R/usr/bin/tool3
	echo replaced >$R/usr/bin/tool
	rm -rf $R/opq/sub
	echo z >$R/opq/fresh
	umoci repack --image oci:t2 b1
	mkdir -p l3/keep
	echo n >l3/keep/n
	: >l3/keep/.wh..wh..opq
	: >l3/.wh.fifo
	tar --numeric-owner --owner=0 --group=0 -C l3 -cf l3.tar keep/.wh..wh..opq keep/n .wh.fifo
	umoci raw add-layer --image oci:t2 --tag t3 l3.tar
	umoci unpack --image oci:t3 ref >/dev/null
) >"$WORK/umoci.log" 2>&1
if [ $? != 0 ]; then
	nok "umoci builds a 3-layer image" "$(tail -n 3 "$WORK/umoci.log" | oneline)"
	exit 1
fi
ok "umoci builds a 3-layer image"

# the layer tars, bottom first, uncompressed
$PY - "$L" "$WORK" >"$WORK/layers.lst" <<'EOF'
import gzip, json, sys
oci, w = sys.argv[1], sys.argv[2]
idx = json.load(open(oci + '/index.json'))
m = [x for x in idx['manifests']
     if x.get('annotations', {}).get('org.opencontainers.image.ref.name') == 't3'][0]
man = json.load(open(oci + '/blobs/sha256/' + m['digest'].split(':')[1]))
for i, l in enumerate(man['layers']):
    data = open(oci + '/blobs/sha256/' + l['digest'].split(':')[1], 'rb').read()
    if 'gzip' in l['mediaType']:
        data = gzip.decompress(data)
    p = '%s/layer%d.tar' % (w, i)
    open(p, 'wb').write(data)
    print(p)
EOF
mapfile -t LAYERS <"$WORK/layers.lst"

# the directories whose metadata a per-layer conversion cannot know: those
# the top-most layer holding them does not list
$PY - "${LAYERS[@]}" >"$WORK/lenient.lst" <<'EOF'
import os, sys, tarfile
owner = {}
for path in sys.argv[1:]:
    listed, implied = set(), set()
    with tarfile.open(path) as t:
        for e in t:
            n = os.path.normpath(e.name).lstrip('/')
            n = '' if n == '.' else n
            base = os.path.basename(n)
            if e.isdir() and not base.startswith('.wh.'):
                listed.add(n)
            p = os.path.dirname(n)
            while True:
                implied.add(p)
                if not p:
                    break
                p = os.path.dirname(p)
    for d in listed | implied:
        owner[d] = d in listed
for d, was_listed in sorted(owner.items()):
    if not was_listed:
        print(d)
EOF

cat >"$WORK/stackcmp.py" <<'EOF'
import os, stat, sys
ref, got, lenient = sys.argv[1], sys.argv[2], set(
    l.rstrip('\n') for l in open(sys.argv[3]))
diffs = 0
def walk(root):
    out = {}
    for r, ds, fs in os.walk(root):
        for n in ds + fs + ['']:
            p = os.path.join(r, n) if n else r
            rel = os.path.relpath(p, root)
            out['' if rel == '.' else rel] = p
    return out
def xattrs(p):
    return {n: os.getxattr(p, n, follow_symlinks=False)
            for n in os.listxattr(p, follow_symlinks=False)
            if not n.startswith('trusted.overlay.')}
def say(rel, what, a, b):
    global diffs
    diffs += 1
    if diffs <= 20:
        print('DIFF /%s: %s: expected %r, got %r' % (rel, what, a, b))
A, B = walk(ref), walk(got)
for rel in sorted(set(A) | set(B)):
    if rel not in A or rel not in B:
        say(rel, 'presence', rel in A, rel in B)
        continue
    a, b = os.lstat(A[rel]), os.lstat(B[rel])
    if stat.S_IFMT(a.st_mode) != stat.S_IFMT(b.st_mode):
        say(rel, 'type', a.st_mode, b.st_mode)
        continue
    if stat.S_ISDIR(a.st_mode) and rel in lenient:
        continue
    for f in ('st_mode', 'st_uid', 'st_gid', 'st_mtime_ns'):
        if getattr(a, f) != getattr(b, f):
            say(rel, f, getattr(a, f), getattr(b, f))
    if xattrs(A[rel]) != xattrs(B[rel]):
        say(rel, 'xattrs', xattrs(A[rel]), xattrs(B[rel]))
    if stat.S_ISDIR(a.st_mode):
        continue
    if a.st_nlink != b.st_nlink:
        say(rel, 'nlink', a.st_nlink, b.st_nlink)
    if stat.S_ISCHR(a.st_mode) or stat.S_ISBLK(a.st_mode):
        if a.st_rdev != b.st_rdev:
            say(rel, 'rdev', a.st_rdev, b.st_rdev)
    elif stat.S_ISLNK(a.st_mode):
        if os.readlink(A[rel]) != os.readlink(B[rel]):
            say(rel, 'target', os.readlink(A[rel]), os.readlink(B[rel]))
    elif stat.S_ISREG(a.st_mode):
        if open(A[rel], 'rb').read() != open(B[rel], 'rb').read():
            say(rel, 'content', a.st_size, b.st_size)
# hard-link groups (overlayfs without xino: inode numbers of each layer)
ga, gb = {}, {}
for rel in A:
    if rel in B and not os.path.isdir(A[rel]):
        a, b = os.lstat(A[rel]), os.lstat(B[rel])
        ga.setdefault((a.st_dev, a.st_ino), set()).add(rel)
        gb.setdefault((b.st_dev, b.st_ino), set()).add(rel)
if sorted(map(sorted, ga.values())) != sorted(map(sorted, gb.values())):
    say('', 'hard-link groups', sorted(map(sorted, ga.values())),
        sorted(map(sorted, gb.values())))
print('# stackcmp: %d entries, %d differences, %d lenient directories' %
      (len(A), diffs, len(lenient)))
sys.exit(1 if diffs else 0)
EOF

# convert MODE: containerd's line for every layer, mount, stack, compare
convert() {
	local mode=$1 i=0 lower="" img m rc name uuid
	for tarf in "${LAYERS[@]}"; do
		img=$WORK/$mode-layer$i.erofs
		name="containerd --tar=$mode layer $i"
		uuid=$(printf '%08x-0000-5000-8000-%012x' "$i" "$i")
		rm -f "$img"
		if [ "$mode" = f ]; then
			"$MKFS" --tar=f --aufs --quiet -Enoinline_data -b4096 \
				-U "$uuid" "$img" <"$tarf" >"$WORK/c.out" 2>&1
		else
			"$MKFS" --tar=i --aufs --quiet -b4096 -U "$uuid" \
				"$img" <"$tarf" >"$WORK/c.out" 2>&1 &&
				cat "$tarf" >>"$img"
		fi
		rc=$?
		if [ $rc != 0 ] || [ -s "$WORK/c.out" ]; then
			nok "$name: builds quietly" \
				"exit $rc: $(oneline <"$WORK/c.out")"
			return
		fi
		ok "$name: builds quietly"
		fsck_img "$name" "$img"
		m=$WORK/m-$mode-$i
		mkdir -p "$m"
		if ! $PY "$LIB/erofs_mount.py" mount "$img" "$m"; then
			nok "$name: mounts" "mount(2) failed"
			return
		fi
		lower=$m${lower:+:$lower}
		i=$((i + 1))
	done
	m=$WORK/stack-$mode
	mkdir -p "$m"
	if ! mount -t overlay overlay -o "ro,lowerdir=$lower" "$m" \
		2>"$WORK/ov.err"; then
		nok "containerd --tar=$mode: overlayfs stack mounts" \
			"$(oneline <"$WORK/ov.err")"
		return
	fi
	if $PY "$WORK/stackcmp.py" "$WORK/ref/rootfs" "$m" "$WORK/lenient.lst" \
		>"$WORK/stack.log" 2>&1; then
		ok "containerd --tar=$mode: the overlayfs stack equals umoci unpack ($(tail -n 1 "$WORK/stack.log" | sed 's/^# stackcmp: //'))"
	else
		nok "containerd --tar=$mode: the overlayfs stack equals umoci unpack" \
			"$(head -n 6 "$WORK/stack.log" | oneline 900)"
	fi
	umount "$m"
	for ((i = ${#LAYERS[@]} - 1; i >= 0; i--)); do
		umount "$WORK/m-$mode-$i"
	done
}
convert f
convert i

echo "# $fails failed"
exit $((fails > 0))
