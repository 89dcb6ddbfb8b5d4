#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Integration tests of mkfs.erofs with an archive as SOURCE (run as root).
#
# Generated trees (tests/lib/gentree.py) are archived with GNU tar (pax,
# xattrs, ACLs, numeric owners, sparse files); images are built from the
# archive and from the directory with the same options, and must be
# byte-identical (bootstrap and blob); the image built from the archive is
# checked with fsck.erofs (erofs-utils 1.9.3's for 512- and 1024-byte
# blocks, which Debian's 1.5 cannot read), mounted with mount(2) and
# compared with the directory field by field (tests/lib/treecmp.py).
# Then: compressed archives (gzip, zstd, xz, bzip2, lz4) and stdin give the
# same bytes; archives of GNU tar, bsdtar and Python's tarfile in every
# format each writes equal GNU tar's extraction when mounted, and
# erofs-utils 1.9.3's fsck.erofs --extract accepts them; crafted archives
# check tar semantics (later entries win, implicit parents,
# hard links, path normalisation) on the mounted image; sparse entries stay
# holes in the spool, and so do zeros (DEST on a small tmpfs); bad input
# fails cleanly with a message naming the entry and nothing left in DEST's
# directory.
#
# Two things of the generated tree cannot travel through a GNU tar archive
# and are removed from the source before archiving it: sockets (GNU tar
# skips them) and hard links between fifos or device nodes (GNU tar
# archives each name as its own node).
#
# Environment: BUILD (default: build/ of this tree), FSCK (default
# /usr/bin/fsck.erofs), PEER_BUILD (see tests/lib/peer.sh: the script that
# builds erofs-utils 1.9.3; its checks are skipped without it unless CI or
# PEER_REQUIRED is set), TMPDIR.
# Output: one `ok - NAME` / `not ok - NAME: reason` line per check.

set -u

BUILD=${BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
MKFS=$BUILD/mkfs/mkfs.erofs
FSCK=${FSCK:-/usr/bin/fsck.erofs}
HERE=$(cd "$(dirname "$0")" && pwd)
LIB=$HERE/../lib
PY=${PYTHON:-python3}
export PYTHONDONTWRITEBYTECODE=1

. "$LIB/mkfs-common.sh"
. "$LIB/scratch.sh"
. "$LIB/peer.sh"
peer_find

need_root
need_exe mkfs.erofs "$MKFS"

scratch mkfs-tar
WORK=$SCRATCH
MNT=$WORK/mnt
mkdir -p "$MNT" "$WORK/src" "$WORK/out"
echo "# mkfs: $MKFS"
echo "# scratch: $WORK"

# A directory is read in path order (a directory's files by name, then its
# subdirectories); an archive built with --sort=path has its data laid out
# in that order too, so it gives the directory build's bytes (GNU tar's
# --sort=name only makes the archives reproducible)
TAROPTS=(--format=pax --xattrs "--xattrs-include=*" --acls --numeric-owner --sparse --sort=name)
for o in "${TAROPTS[@]}"; do
	if ! tar --help | grep -q -- "${o%%=*}"; then
		notok "GNU tar supports $o"
		exit 1
	fi
done

# ------------------------------------------------------------ sources
gen() {	# gen DIR ARGS...: a tree GNU tar can carry completely
	local d=$1
	shift
	if ! $PY "$LIB/gentree.py" "$d" "$@" >"$WORK/gen.log" 2>&1; then
		notok "gentree $*: $(tail -n1 "$WORK/gen.log")"
		exit 1
	fi
	$PY - "$d" <<'EOF'
import os, stat, sys
seen = set()
for dp, dns, fns in os.walk(sys.argv[1]):
    for n in sorted(fns):
        p = os.path.join(dp, n)
        st = os.lstat(p)
        if stat.S_ISSOCK(st.st_mode):
            os.unlink(p)
        elif not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)) \
                and st.st_nlink > 1:
            if st.st_ino in seen:
                os.unlink(p)
            seen.add(st.st_ino)
EOF
}
mktar() {	# mktar DIR OUT
	tar -C "$1" "${TAROPTS[@]}" -cf "$2" . 2>"$WORK/tar.log"
	local rc=$?
	check "GNU tar archives $(basename "$1") (${TAROPTS[*]})" $rc \
		"exit $rc: $(oneline <"$WORK/tar.log")"
	return $rc
}
FULL=$WORK/src/full
DEDUP=$WORK/src/dedup
gen "$FULL" --kind full --seed 31
gen "$DEDUP" --kind dedup --seed 32
mktar "$FULL" "$WORK/full.tar" || exit 1
mktar "$DEDUP" "$WORK/dedup.tar" || exit 1

# ------------------------------------------------------------ tar = dir
# same NAME TREE TAR "MKFS ARGS" "TREECMP ARGS" BLOB(0|1) [ENV]
same() {
	local name=$1 tree=$2 tarf=$3 margs=$4 cargs=$5 useblob=$6 env=${7:-}
	local o=$WORK/out/$name
	mkdir -p "$o"
	local s rc
	for s in dir tar; do
		local src=$tree b=()
		[ $s = tar ] && src=$tarf && b=(--sort=path)
		[ "$useblob" = 1 ] && b+=("--blobdev=$o/$s.blob")
		# shellcheck disable=SC2086
		env $env "$MKFS" $margs "${b[@]}" "$o/$s.img" "$src" >"$o/$s.log" 2>&1
		rc=$?
		if [ $rc -ne 0 ]; then
			notok "$name: build from the $s: exit $rc: $(oneline <"$o/$s.log")"
			return
		fi
	done
	ok "$name: builds from the directory and the archive ($margs${env:+, $env})"
	cmp "$o/dir.img" "$o/tar.img" >"$o/cmp.log" 2>&1
	check "$name: bootstraps from archive and directory are byte-identical" $? \
		"$(oneline <"$o/cmp.log")"
	if [ "$useblob" = 1 ]; then
		cmp "$o/dir.blob" "$o/tar.blob" >"$o/cmp.log" 2>&1
		check "$name: blobs are byte-identical" $? "$(oneline <"$o/cmp.log")"
	fi
	local dev=() mopt=()
	[ "$useblob" = 1 ] && { dev=("--device=$o/tar.blob"); mopt=(--device "$o/tar.blob"); }
	local fsck
	fsck=$(fsck_for "$margs")
	if [ -z "$fsck" ]; then
		peer_missing "$name: fsck.erofs 1.9.3 (-b 512/1024)"
	else
		"$fsck" "${dev[@]}" "$o/tar.img" >"$o/fsck.log" 2>&1
		rc=$?
		check "$name: fsck.erofs$([ "$fsck" = "$PEER_FSCK" ] && echo " 1.9.3") accepts the archive's image" $rc \
			"exit $rc: $(tail -n 3 "$o/fsck.log" | oneline)"
	fi
	local m=$MNT/$name err
	mkdir -p "$m"
	if ! err=$($PY "$LIB/erofs_mount.py" mount "$o/tar.img" "$m" "${mopt[@]}" 2>&1); then
		notok "$name: mount(2): $err"
		return
	fi
	# shellcheck disable=SC2086
	$PY "$LIB/treecmp.py" "$tree" "$m" $cargs >"$o/treecmp.log" 2>&1
	rc=$?
	check "$name: the archive's mounted image equals the source tree ($(tail -n1 "$o/treecmp.log" | sed 's/^# treecmp: //'))" \
		$rc "$(grep -m 5 DIFF "$o/treecmp.log" | oneline 600)"
	$PY "$LIB/erofs_mount.py" umount "$m"
	rm -rf "$o"
}

same flat "$FULL" "$WORK/full.tar" "-T $T --mkfs-time -U $UUID" "" 0
same flat-T "$FULL" "$WORK/full.tar" "-T $T -U $UUID" "--mtime $T" 0
same chunk64k-blob "$FULL" "$WORK/full.tar" \
	"-T $T --mkfs-time -U $UUID --chunksize 65536" "" 1
same xattrs-shared-filter-1k "$FULL" "$WORK/full.tar" \
	"-b 1024 -x 0 -E xattr-name-filter -T $T --mkfs-time -U $UUID" "" 0
same exclude "$FULL" "$WORK/full.tar" \
	"-T $T --mkfs-time -U $UUID --exclude-path=dirs/big --exclude-path=hl/b --exclude-regex=^sym/len" \
	"--exclude-path dirs/big --exclude-path hl/b --exclude-regex ^sym/len" 0
same dedup-4k-blob "$DEDUP" "$WORK/dedup.tar" \
	"-T $T --mkfs-time -U $UUID --chunksize 4096" "" 1
same dedup-1m-blob-sde "$DEDUP" "$WORK/dedup.tar" \
	"-U $UUID --chunksize 1M --all-root" "--uid 0 --gid 0 --clamp $SDE" 1 \
	"SOURCE_DATE_EPOCH=$SDE"

# ------------------------------------------------------------ compression, stdin
comp() {
	local C=$WORK/comp
	mkdir -p "$C"
	local args=(-T $T --mkfs-time -U "$UUID" --chunksize 65536)
	if ! "$MKFS" --quiet "${args[@]}" "--blobdev=$C/ref.blob" "$C/ref.img" \
		"$WORK/full.tar" >"$C/log" 2>&1; then
		notok "compressed: reference build: $(oneline <"$C/log")"
		return
	fi
	local z
	for z in gzip zstd xz bzip2 lz4; do
		if ! command -v $z >/dev/null; then
			skip "compressed: $z" "no $z program to make the archive"
			continue
		fi
		$z -c <"$WORK/full.tar" >"$C/full.tar.$z"
		"$MKFS" --quiet "${args[@]}" "--blobdev=$C/$z.blob" "$C/$z.img" \
			"$C/full.tar.$z" >"$C/log" 2>&1 &&
			cmp "$C/ref.img" "$C/$z.img" >>"$C/log" 2>&1 &&
			cmp "$C/ref.blob" "$C/$z.blob" >>"$C/log" 2>&1
		check "compressed: $z-compressed archive gives the same bootstrap and blob" \
			$? "$(oneline <"$C/log")"
		rm -f "$C/$z.img" "$C/$z.blob"
	done
	"$MKFS" --quiet "${args[@]}" "--blobdev=$C/stdin.blob" "$C/stdin.img" - \
		<"$C/full.tar.gzip" >"$C/log" 2>&1 &&
		cmp "$C/ref.img" "$C/stdin.img" >>"$C/log" 2>&1 &&
		cmp "$C/ref.blob" "$C/stdin.blob" >>"$C/log" 2>&1
	check "compressed: gzip archive on stdin (SOURCE \"-\") gives the same bytes" \
		$? "$(oneline <"$C/log")"
	# a tar whose first member is named "BZh91AY&SY" starts like a bzip2
	# stream: compressed, it is decompressed once (libarchive would stack
	# a bzip2 filter on the decompressed bytes and fail)
	mkdir -p "$C/bz"
	echo data >"$C/bz/BZh91AY&SY"
	tar -C "$C/bz" --format=ustar -cf "$C/bz.tar" 'BZh91AY&SY'
	gzip -c <"$C/bz.tar" >"$C/bz.tar.gzip"
	"$MKFS" --quiet -T $T -U "$UUID" "$C/bz-gzip.img" "$C/bz.tar.gzip" \
		>"$C/log" 2>&1
	for z in zstd xz lz4; do
		command -v $z >/dev/null || continue
		$z -c <"$C/bz.tar" >"$C/bz.tar.$z"
		"$MKFS" --quiet -T $T -U "$UUID" "$C/bz-$z.img" "$C/bz.tar.$z" \
			>"$C/log" 2>&1 &&
			cmp "$C/bz-gzip.img" "$C/bz-$z.img" >>"$C/log" 2>&1
		check "compressed: $z archive whose tar starts like bzip2 (member BZh91AY&SY) is decompressed once" \
			$? "$(oneline <"$C/log")"
	done
	rm -rf "$C"
}
comp

# ------------------------------------------------------------ tools x formats
# Archives of one small tree made by GNU tar, bsdtar and Python's tarfile in
# every format each writes; each image mounted with mount(2) must equal what
# GNU tar extracts from the same archive as root, and erofs-utils 1.9.3's
# fsck.erofs --extract must accept it and extract the same contents.
FSCK19=$PEER_FSCK
matrix_tree() {	# matrix_tree DIR FULL(0|1)
	local d=$1
	mkdir -p "$d/dir/sub" "$d/empty-dir"
	printf 'hello\n' >"$d/dir/f"
	head -c 70000 /dev/urandom >"$d/big"
	: >"$d/empty"
	chmod 4755 "$d/big"
	chmod 0640 "$d/dir/f"
	ln -s dir/f "$d/sym"
	ln "$d/dir/f" "$d/hard"
	chown 1234:5678 "$d/dir/f"
	if [ "$2" = 1 ]; then
		mkfifo "$d/fifo"
		mknod "$d/chr" c 1 3
		mknod "$d/blk" b 7 200
		printf 'x' >"$d/dir/$(printf 'L%.0s' $(seq 1 150))"
		printf 'u' >"$d/dir/caf$(printf '\303\251')"
		setfattr -n user.k -v value "$d/dir/f"
	fi
	find "$d" -exec touch -h -d @1500000000.123456789 {} +
}
matrix_one() {	# matrix_one NAME ARCHIVE
	local name=$1 a=$2 X=$WORK/matrix
	local ex=$X/ex m=$X/m img=$X/img log=$X/log rc
	rm -rf "$ex" "$X/fx" "$img"
	mkdir -p "$ex" "$m"
	if ! tar --xattrs "--xattrs-include=*" --numeric-owner \
		--delay-directory-restore -xpf "$a" \
		-C "$ex" >"$log" 2>&1; then
		notok "formats: $name: GNU tar cannot extract it: $(oneline <"$log")"
		return
	fi
	if ! "$MKFS" --quiet -U "$UUID" "$img" "$a" >"$log" 2>&1; then
		notok "formats: $name: build: $(oneline <"$log")"
		return
	fi
	if ! $PY "$LIB/erofs_mount.py" mount "$img" "$m" >"$log" 2>&1; then
		notok "formats: $name: mount(2): $(oneline <"$log")"
		return
	fi
	$PY "$LIB/treecmp.py" "$ex" "$m" >"$log" 2>&1
	check "formats: $name: the mounted image equals GNU tar's extraction" $? \
		"$(grep -m 3 DIFF "$log" | oneline 400)"
	$PY "$LIB/erofs_mount.py" umount "$m"
	if [ -z "$FSCK19" ]; then
		peer_missing "formats: $name: fsck.erofs 1.9.3 --extract"
		return
	fi
	"$FSCK19" --extract="$X/fx" --xattrs "$img" >"$log" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		notok "formats: $name: fsck.erofs 1.9.3 --extract: exit $rc: $(tail -n 3 "$log" | oneline)"
		return
	fi
	diff -r --no-dereference "$ex" "$X/fx" 2>&1 |
		grep -v -E '^File .* is a (fifo|character special file|block special file) while file .* is a (fifo|character special file|block special file)$' >"$log"
	[ ! -s "$log" ]
	check "formats: $name: fsck.erofs 1.9.3 --extract accepts it and extracts the same contents" $? \
		"$(oneline <"$log")"
}
matrix() {
	local X=$WORK/matrix f src
	mkdir -p "$X"
	matrix_tree "$X/full" 1
	matrix_tree "$X/small" 0
	for f in pax gnu ustar v7; do
		src=$X/full
		case $f in ustar | v7) src=$X/small ;; esac
		if tar --format=$f --xattrs "--xattrs-include=*" --numeric-owner \
			-C "$src" -cf "$X/gnu-$f.tar" . 2>"$X/log"; then
			matrix_one "GNU tar --format=$f" "$X/gnu-$f.tar"
		else
			notok "formats: GNU tar --format=$f: $(oneline <"$X/log")"
		fi
	done
	if command -v bsdtar >/dev/null; then
		for f in pax gnutar ustar v7tar; do
			src=$X/full
			case $f in ustar | v7tar) src=$X/small ;; esac
			if bsdtar --format $f --numeric-owner -C "$src" \
				-cf "$X/bsd-$f.tar" . 2>"$X/log"; then
				matrix_one "bsdtar --format $f" "$X/bsd-$f.tar"
			else
				notok "formats: bsdtar --format $f: $(oneline <"$X/log")"
			fi
		done
	else
		skip "formats: bsdtar" "no bsdtar (libarchive-tools)"
	fi
	for f in PAX GNU USTAR; do
		src=$X/full
		[ $f = USTAR ] && src=$X/small
		if $PY - "$src" "$X/py-$f.tar" $f >"$X/log" 2>&1 <<'EOF'
import sys, tarfile
src, out, fmt = sys.argv[1:]
with tarfile.open(out, 'w', format=getattr(tarfile, fmt + '_FORMAT')) as tf:
    tf.add(src, arcname='.')
EOF
		then
			matrix_one "Python tarfile $f" "$X/py-$f.tar"
		else
			notok "formats: Python tarfile $f: $(oneline <"$X/log")"
		fi
	done
	rm -rf "$X"
}
matrix

# ------------------------------------------------------------ tar semantics
# crafted archives (Python's tarfile, pax)
craft() {	# craft CASE OUT
	$PY - "$1" "$2" <<'EOF'
import io, sys, tarfile
case, out = sys.argv[1], sys.argv[2]
tf = tarfile.open(out, 'w', format=tarfile.PAX_FORMAT)

def add(name, kind='file', data=b'', mode=0o644, mtime=1000, uid=0, gid=0,
        target=None, pax=None):
    ti = tarfile.TarInfo(name)
    ti.mode, ti.mtime, ti.uid, ti.gid = mode, mtime, uid, gid
    ti.type = {'file': tarfile.REGTYPE, 'dir': tarfile.DIRTYPE,
               'sym': tarfile.SYMTYPE, 'link': tarfile.LNKTYPE,
               'fifo': tarfile.FIFOTYPE}[kind]
    if target is not None:
        ti.linkname = target
    if pax:
        ti.pax_headers = pax
    if kind == 'file':
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    else:
        tf.addfile(ti)

if case == 'semantics':
    add('a', data=b'first', mode=0o644, mtime=1001)
    add('a', data=b'second version', mode=0o600, mtime=1002)
    add('p/q/r', data=b'deep', mtime=3000)
    add('d/x', data=b'in d', mtime=4000)
    add('d/', 'dir', mode=0o700, uid=7, gid=8, mtime=5000)
    add('h1', data=b'old', mtime=1003)
    add('h2', 'link', target='h1')
    add('h1', data=b'new', mtime=1004)
    add('h3', data=b'shared', mode=0o4755, mtime=1005)
    add('sub/h4', 'link', target='./h3')
    add('./sub//h5', 'link', target='.//h3')
    add('e', data=b'a file first')
    add('e', 'dir', mode=0o750, mtime=1006)
    add('s', 'sym', target='somewhere')
    add('s', data=b'file now', mtime=1007)
    add('.//abs/y', data=b'abs')
    add('./c//d/./z', data=b'z')
    add('emptydir', 'dir')
    add('emptydir', data=b'was a dir')
    add('fifo', 'fifo', mode=0o620)
    add('xa', data=b'x', pax={'SCHILY.xattr.user.k': 'v1'})
    add('xa', data=b'x', pax={'SCHILY.xattr.user.k2': 'v2'})
    add('./', 'dir', mode=0o711, mtime=6000)
elif case == 'dotdot':
    add('fine', data=b'1')
    add('../x', data=b'escape')
elif case == 'dotdot-inside':
    add('a/b', data=b'1')
    add('a/../../etc/x', data=b'escape')
elif case == 'over-nonempty-dir':
    add('d/x', data=b'1')
    add('d', data=b'file over a full dir')
elif case == 'link-missing':
    add('f', data=b'1')
    add('lnk', 'link', target='nowhere')
elif case == 'link-to-dir':
    add('dd/', 'dir')
    add('lnk', 'link', target='dd')
elif case == 'long-name':
    add('ok/' + 'n' * 256, data=b'1')
elif case == 'parent-not-dir':
    add('f', data=b'1')
    add('f/g', data=b'2')
elif case == 'symlink-on-path':
    add('l', 'sym', target='/etc')
    add('l/passwd', data=b'never written through the link')
elif case == 'link-later':
    add('h', 'link', target='later')
    add('later', data=b'1')
elif case == 'control-chars':
    add('a\x1b[31m\nb/../../x', data=b'1')
elif case == 'big-device':
    ti = tarfile.TarInfo('dev')
    ti.type = tarfile.CHRTYPE
    ti.pax_headers = {'SCHILY.devmajor': '5000', 'SCHILY.devminor': '3000000'}
    tf.addfile(ti)
elif case == 'raw-acl':
    add('f', data=b'1',
        pax={'SCHILY.xattr.system.posix_acl_access': 'garbage'})
tf.close()
EOF
}

semantics() {
	local S=$WORK/sem
	mkdir -p "$S/m"
	craft semantics "$S/s.tar" || { notok "semantics: craft the archive"; return; }
	if ! "$MKFS" --quiet -U clear "$S/s.img" "$S/s.tar" >"$S/log" 2>&1; then
		notok "semantics: build: $(oneline <"$S/log")"
		return
	fi
	ok "semantics: build from a crafted archive"
	if ! $PY "$LIB/erofs_mount.py" mount "$S/s.img" "$S/m" >"$S/log" 2>&1; then
		notok "semantics: mount(2): $(oneline <"$S/log")"
		return
	fi
	tally < <($PY - "$S/m" <<'EOF'
import os, stat, sys
m = sys.argv[1]

def t(name, cond, why=''):
    print(('ok - semantics: %s' % name) if cond else
          ('not ok - semantics: %s: %s' % (name, why)))

def rd(p):
    with open(os.path.join(m, p), 'rb') as f:
        return f.read()

def st(p):
    return os.lstat(os.path.join(m, p))

a = st('a')
t('a later entry replaces an earlier one (data, mode, mtime)',
  rd('a') == b'second version' and stat.S_IMODE(a.st_mode) == 0o600 and
  a.st_mtime_ns == 1002 * 10**9, '%r %o %d' % (rd('a'), a.st_mode, a.st_mtime_ns))
p, q = st('p'), st('p/q')
t('missing parents are created 0777 root:root with the mtime of the entry',
  all(stat.S_ISDIR(x.st_mode) and stat.S_IMODE(x.st_mode) == 0o777 and
      x.st_uid == 0 and x.st_gid == 0 and x.st_mtime_ns == 3000 * 10**9
      for x in (p, q)) and rd('p/q/r') == b'deep',
  '%o %d:%d %d' % (p.st_mode, p.st_uid, p.st_gid, p.st_mtime_ns))
d = st('d')
t('a directory entry after its implicit creation sets its metadata',
  stat.S_IMODE(d.st_mode) == 0o700 and d.st_uid == 7 and d.st_gid == 8 and
  d.st_mtime_ns == 5000 * 10**9 and rd('d/x') == b'in d',
  '%o %d:%d %d' % (d.st_mode, d.st_uid, d.st_gid, d.st_mtime_ns))
h1, h2 = st('h1'), st('h2')
t('replacing a hard-linked name leaves the other name the old inode',
  rd('h1') == b'new' and rd('h2') == b'old' and h1.st_nlink == 1 and
  h2.st_nlink == 1 and h1.st_ino != h2.st_ino,
  '%r %r nlink %d %d' % (rd('h1'), rd('h2'), h1.st_nlink, h2.st_nlink))
h3, h4, h5 = st('h3'), st('sub/h4'), st('sub/h5')
t('hard links (targets "./h3", ".//h3") share one inode, nlink 3, setuid kept',
  h3.st_ino == h4.st_ino == h5.st_ino and h3.st_nlink == 3 and
  rd('sub/h4') == b'shared' and stat.S_IMODE(h3.st_mode) == 0o4755,
  'ino %d %d %d nlink %d mode %o' % (h3.st_ino, h4.st_ino, h5.st_ino,
                                     h3.st_nlink, h3.st_mode))
e = st('e')
t('a directory replaces a file', stat.S_ISDIR(e.st_mode) and
  stat.S_IMODE(e.st_mode) == 0o750, '%o' % e.st_mode)
s = st('s')
t('a file replaces a symlink', stat.S_ISREG(s.st_mode) and
  rd('s') == b'file now', '%o' % s.st_mode)
t('a file replaces an empty directory',
  stat.S_ISREG(st('emptydir').st_mode) and rd('emptydir') == b'was a dir')
t('".//abs/y" and "./c//d/./z" are normalised',
  rd('abs/y') == b'abs' and rd('c/d/z') == b'z')
t('fifo with its mode', stat.S_ISFIFO(st('fifo').st_mode) and
  stat.S_IMODE(st('fifo').st_mode) == 0o620)
xa = os.listxattr(os.path.join(m, 'xa'), follow_symlinks=False)
t('a replaced entry\'s xattrs are the later ones', xa == ['user.k2'] and
  os.getxattr(os.path.join(m, 'xa'), 'user.k2') == b'v2', repr(xa))
r = os.stat(m)
t('a root entry ("./") at the end sets the root\'s metadata',
  stat.S_IMODE(r.st_mode) == 0o711 and r.st_mtime_ns == 6000 * 10**9,
  '%o %d' % (r.st_mode, r.st_mtime_ns))
names = sorted(os.listdir(m))
want = sorted(['a', 'abs', 'c', 'd', 'e', 'emptydir', 'fifo', 'h1', 'h2',
               'h3', 'p', 's', 'sub', 'xa'])
t('the root holds exactly the expected names', names == want, repr(names))
EOF
)
	$PY "$LIB/erofs_mount.py" umount "$S/m"
	rm -rf "$S"
}
semantics

# ------------------------------------------------------------ implicit root
# An archive without a "./" entry: the root is 0777 root:root, as
# erofs-utils makes it, with the build's fixed time (-T, even with
# --mkfs-time); the same archive gives the same bytes; and erofs-utils
# 1.9.3 gives the same root (mode, owner, time) with -T, and the same
# missing parent directory for an archive of "d/f" alone.
noroot() {
	local N=$WORK/noroot got want
	mkdir -p "$N/src/d" "$N/m"
	echo hi >"$N/src/d/f"
	chown 1234:5678 "$N/src/d" "$N/src/d/f"
	touch -d @1500000000 "$N/src/d/f" "$N/src/d"
	# members "d" and "d/f" only: no entry for the root
	tar -C "$N/src" "${TAROPTS[@]}" -cf "$N/a.tar" d
	local i
	for i in 1 2; do
		if ! "$MKFS" --quiet -T $T --mkfs-time -U $UUID "$N/$i.img" \
			"$N/a.tar" >"$N/log" 2>&1; then
			notok "implicit root: build: $(oneline <"$N/log")"
			return
		fi
	done
	cmp "$N/1.img" "$N/2.img" >"$N/log" 2>&1
	check "implicit root: the same archive gives the same bytes" $? \
		"$(oneline <"$N/log")"
	if ! $PY "$LIB/erofs_mount.py" mount "$N/1.img" "$N/m" >"$N/log" 2>&1; then
		notok "implicit root: mount(2): $(oneline <"$N/log")"
		return
	fi
	got=$(stat -c '%a %u:%g %Y' "$N/m")
	$PY "$LIB/erofs_mount.py" umount "$N/m"
	[ "$got" = "777 0:0 $T" ]
	check "implicit root: mode 0777, root:root, the -T time" $? \
		"got $got"
	if [ -z "$PEER_MKFS" ]; then
		peer_missing "implicit root: the root erofs-utils 1.9.3 makes"
	else
		if ! "$MKFS" --quiet -T $T -U $UUID "$N/o.img" "$N/a.tar" \
			>"$N/log" 2>&1 ||
			! "$PEER_MKFS" --quiet --tar=f -T $T -U $UUID "$N/p.img" \
				"$N/a.tar" >"$N/log" 2>&1; then
			notok "implicit root: build with -T: $(oneline <"$N/log")"
			return
		fi
		# "Uid: 0   Gid: 0  Access: 0777/rwxrwxrwx" and "Timestamp: ..."
		got=$("$PEER_DUMP" --path=/ "$N/o.img" | grep -E '^(Uid|Timestamp)')
		want=$("$PEER_DUMP" --path=/ "$N/p.img" | grep -E '^(Uid|Timestamp)')
		[ -n "$want" ] && [ "$got" = "$want" ]
		check "implicit root: as erofs-utils 1.9.3 makes it with -T ($(echo $want))" \
			$? "ours: $(echo $got)"
		tar -C "$N/src" "${TAROPTS[@]}" -cf "$N/b.tar" --no-recursion d/f
		if ! "$MKFS" --quiet -T $T --mkfs-time -U $UUID "$N/ob.img" \
			"$N/b.tar" >"$N/log" 2>&1 ||
			! "$PEER_MKFS" --quiet --tar=f -T $T --mkfs-time -U $UUID \
				"$N/pb.img" "$N/b.tar" >"$N/log" 2>&1; then
			notok "implicit parent: build: $(oneline <"$N/log")"
			return
		fi
		got=$("$PEER_DUMP" --path=/d "$N/ob.img" | grep -E '^(Uid|Timestamp)')
		want=$("$PEER_DUMP" --path=/d "$N/pb.img" | grep -E '^(Uid|Timestamp)')
		[ -n "$want" ] && [ "$got" = "$want" ]
		check "implicit parent: as erofs-utils 1.9.3 makes it ($(echo $want))" \
			$? "ours: $(echo $got)"
	fi
	rm -rf "$N"
}
noroot

# ------------------------------------------------------------ sparse entries
sparse() {
	local P=$WORK/sparse
	mkdir -p "$P/src" "$P/fs"
	truncate -s 2G "$P/src/holey"
	printf 'head' | dd of="$P/src/holey" conv=notrunc status=none
	printf 'middle' | dd of="$P/src/holey" bs=1 seek=$((1 << 30)) conv=notrunc status=none
	printf 'tail' | dd of="$P/src/holey" bs=1 seek=$(((2 << 30) - 4)) conv=notrunc status=none
	tar -C "$P/src" "${TAROPTS[@]}" -cf "$P/s.tar" . 2>"$P/log" ||
		{ notok "sparse: GNU tar: $(oneline <"$P/log")"; return; }
	if ! mount -t tmpfs -o size=16m sparse "$P/fs"; then
		notok "sparse: mount a 16 MiB tmpfs"
		return
	fi
	local v
	for v in flat chunk; do
		local a=() m=()
		[ $v = chunk ] && a=(--chunksize 1M "--blobdev=$P/fs/$v.blob")
		if ! "$MKFS" --quiet -T $T "${a[@]}" "$P/fs/$v.img" "$P/s.tar" >"$P/log" 2>&1; then
			notok "sparse: $v: a 2 GiB sparse entry with DEST on a 16 MiB tmpfs: $(oneline <"$P/log")"
			continue
		fi
		ok "sparse: $v: a 2 GiB sparse entry builds with DEST (and the spool) on a 16 MiB tmpfs"
		# file-backed mounts need a page-cache file system, not tmpfs
		mkdir -p "$P/m"
		cp --sparse=always "$P/fs/$v.img" "$P/$v.img"
		[ $v = chunk ] && { cp "$P/fs/$v.blob" "$P/$v.blob"; m=(--device "$P/$v.blob"); }
		if $PY "$LIB/erofs_mount.py" mount "$P/$v.img" "$P/m" "${m[@]}" >"$P/log" 2>&1; then
			$PY "$LIB/treecmp.py" "$P/src" "$P/m" --mtime $T >"$P/cmp.log" 2>&1
			check "sparse: $v: mounted sparse file equals the source" $? \
				"$(grep -m 3 DIFF "$P/cmp.log" | oneline)"
			$PY "$LIB/erofs_mount.py" umount "$P/m"
		else
			notok "sparse: $v: mount(2): $(oneline <"$P/log")"
		fi
		rm -f "$P/fs/$v.img" "$P/fs/$v.blob" "$P/$v.img" "$P/$v.blob"
	done
	# 64 MiB of zeros stored as data (not sparse) in a .tar.gz: no
	# temporary space either
	mkdir -p "$P/z"
	head -c 64M /dev/zero >"$P/z/zeros"
	tar -C "$P/z" -cf - . | gzip -1 >"$P/z.tar.gz"
	"$MKFS" --quiet -T $T --chunksize 1M "--blobdev=$P/fs/z.blob" \
		"$P/fs/z.img" "$P/z.tar.gz" >"$P/log" 2>&1
	check "sparse: 64 MiB of zeros in a .tar.gz build with DEST (and the spool) on a 16 MiB tmpfs" \
		$? "$(oneline <"$P/log")"
	rm -rf "$P/z" "$P/fs/z.img" "$P/fs/z.blob"
	umount "$P/fs"
	rm -rf "$P"
}
sparse

# ------------------------------------------------------------ failures
# expect_fail NAME PATTERN SOURCE [MKFS ARGS...]: non-zero exit (no signal),
# PATTERN in the message, nothing left in DEST's directory
expect_fail() {
	local name=$1 pat=$2 src=$3
	shift 3
	local F=$WORK/fail/out
	mkdir -p "$F"
	"$MKFS" "$@" --chunksize 4096 "--blobdev=$F/blob" "--manifest=$F/m.json" \
		"$F/img" "$src" >"$WORK/fail/log" 2>&1
	local rc=$? left
	left=$(ls -A "$F" | oneline)
	fail_verdict "$name" $rc "$WORK/fail/log" "$pat" "$left"
	rm -rf "$F"
}

failures() {
	local X=$WORK/fail
	mkdir -p "$X"
	local c
	for c in dotdot:../x dotdot-inside:a/../../etc/x \
		over-nonempty-dir:'"d"' link-missing:nowhere link-to-dir:dd \
		long-name:nnnnnnnn parent-not-dir:'"f"' \
		symlink-on-path:'"l" is not a directory' link-later:'"later"' \
		control-chars:'a\x1b[31m\x0ab' big-device:'device number 5000:3000000' \
		raw-acl:'is not a POSIX ACL'; do
		craft "${c%%:*}" "$X/${c%%:*}.tar"
		expect_fail "crafted archive: ${c%%:*}" "${c#*:}" "$X/${c%%:*}.tar"
	done
	# damaged input
	head -c 3000000 "$WORK/full.tar" >"$X/trunc-data.tar"
	expect_fail "archive truncated inside an entry's data" "$X/trunc-data.tar" \
		"$X/trunc-data.tar"
	head -c 100000 "$WORK/full.tar" >"$X/trunc-hdr.tar"
	expect_fail "archive truncated early" "$X/trunc-hdr.tar" "$X/trunc-hdr.tar"
	gzip -c <"$WORK/dedup.tar" | head -c 500000 >"$X/trunc.tar.gz"
	expect_fail "truncated gzip stream" "$X/trunc.tar.gz" "$X/trunc.tar.gz"
	# compressed streams are checked to their very end
	local sz
	gzip -c <"$WORK/dedup.tar" >"$X/flip.tar.gz"
	sz=$(stat -c %s "$X/flip.tar.gz")
	printf '\x55' | dd of="$X/flip.tar.gz" bs=1 seek=$((sz - 100000)) \
		conv=notrunc status=none
	expect_fail "gzip with a byte flipped 100,000 bytes before its end" \
		"$X/flip.tar.gz: " "$X/flip.tar.gz"
	gzip -c <"$WORK/dedup.tar" | head -c -4 >"$X/cut.tar.gz"
	expect_fail "gzip with its trailer cut" "inside the trailer" "$X/cut.tar.gz"
	{ gzip -c <"$WORK/dedup.tar"; echo garbage; } >"$X/garbage.tar.gz"
	expect_fail "gzip with garbage after its end" "garbage after member" \
		"$X/garbage.tar.gz"
	lz4 -c <"$WORK/dedup.tar" | head -c -4 >"$X/cut.tar.lz4"
	expect_fail "lz4 missing its last 4 bytes" "lz4: truncated lz4 input" \
		"$X/cut.tar.lz4"
	mkdir -p "$X/b2048"
	printf 'small' >"$X/b2048/f"
	tar -b 2048 -C "$X/b2048" -cf "$X/b2048.tar" .
	local z
	for z in zstd xz; do
		$z -c <"$X/b2048.tar" | head -c -4 >"$X/b2048.tar.$z"
		expect_fail "$z of a tar -b 2048 archive, its checksum cut" \
			"$X/b2048.tar.$z: $z" "$X/b2048.tar.$z"
	done
	# a few KiB claiming 1 TiB: refused before any table is built
	mkdir -p "$X/huge"
	truncate -s 1T "$X/huge/f"
	tar --sparse -C "$X/huge" -cf "$X/huge.tar" .
	rm -rf "$X/huge"
	expect_fail "a sparse entry claiming 1 TiB at 4 KiB chunks" \
		"chunk indexes (the limit" "$X/huge.tar"
	cp "$WORK/dedup.tar" "$X/corrupt.tar"
	# smash the second header's name and checksum
	local off
	off=$($PY - "$X/corrupt.tar" <<'EOF'
import sys
d = open(sys.argv[1], 'rb').read()
# the first ustar header after the first one
i = d.find(b'ustar\x00', 1024)
print(i - 257)
EOF
)
	printf '\xff%.0s' $(seq 1 200) | dd of="$X/corrupt.tar" bs=1 seek="$off" conv=notrunc status=none
	expect_fail "corrupt header" "$X/corrupt.tar" "$X/corrupt.tar"
	# not archives at all
	head -c 5000 /dev/urandom >"$X/random.bin"
	expect_fail "random bytes as SOURCE" \
		"$X/random.bin: not a directory or a readable archive" "$X/random.bin"
	printf 'just some text\n' >"$X/text.txt"
	expect_fail "text file as SOURCE" \
		"$X/text.txt: not a directory or a readable archive" "$X/text.txt"
	: >"$X/empty"
	expect_fail "empty file as SOURCE" \
		"$X/empty: not a directory or a readable archive" "$X/empty"
	expect_fail "missing SOURCE" "$X/nonexistent" "$X/nonexistent"
	rm -rf "$X"
}
failures

echo "# $PASSED passed, $FAILED failed"
[ $FAILED -eq 0 ]
