#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Integration tests of mkfs.erofs on the host kernel (run as root).
#
# Generated source trees (tests/lib/gentree.py) are built with a matrix of
# options; every image is checked with Debian's fsck.erofs (erofs-utils
# 1.9.3's for 512- and 1024-byte blocks, which 1.5 cannot read), mounted with
# mount(2) (file-backed, device=BLOB), compared with its source field by
# field (tests/lib/treecmp.py) and its on-disk decisions are checked by an
# independent reader (tests/lib/erofs_check.py).  Then: reproducibility,
# failures (bad input, vanishing entries, full disk), the superblock
# checksum, manifests.
#
# Environment: BUILD (default build/ at the top of the tree), MKFS (default
# $BUILD/mkfs/mkfs.erofs; /usr/bin/mkfs.erofs selects erofs-utils 1.5
# compatibility mode), FSCK (default /usr/bin/fsck.erofs), PEER_BUILD (see
# tests/lib/peer.sh; without the peer the small-block fsck checks are skipped
# unless CI or PEER_REQUIRED is set), ONLY (a regex of configuration names
# to run), TMPDIR.
# Output: one `ok - NAME` / `not ok - NAME: reason` line per check.

set -u

BUILD=${BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
MKFS=${MKFS:-$BUILD/mkfs/mkfs.erofs}
FSCK=${FSCK:-/usr/bin/fsck.erofs}
ONLY=${ONLY:-.}
HERE=$(cd "$(dirname "$0")" && pwd)
LIB=$HERE/../lib
PY=${PYTHON:-python3}
export PYTHONDONTWRITEBYTECODE=1

. "$LIB/mkfs-common.sh"
. "$LIB/peer.sh"
peer_find
indent() { sed -e 's/^/#   /' | head -n "${1:-15}"; }

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP must run as root"
	exit 0
fi
if [ ! -x "$MKFS" ]; then
	notok "mkfs.erofs exists: $MKFS not found (set BUILD or MKFS)"
	exit 1
fi

# Our mkfs or Debian's erofs-utils 1.5 (used to validate this harness)?
if "$MKFS" --help 2>&1 | grep -q -- '--mkfs-time'; then
	OURS=1
	MAXNAME=255
	XDEF=""			# our default xattr tolerance is 1
else
	OURS=0
	MAXNAME=254		# 1.5 cannot handle 255-byte names
	XDEF="-x1"		# 1.5 defaults to 2
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mkfs-it.XXXXXX")
BGPID=
cleanup() {
	[ -n "$BGPID" ] && kill "$BGPID" 2>/dev/null && wait "$BGPID" 2>/dev/null
	# unmount everything below WORK, deepest first
	findmnt -rn -o TARGET | grep -F "$WORK" | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "# mkfs: $MKFS ($([ $OURS = 1 ] && echo ours || echo erofs-utils 1.5 compatibility mode))"
echo "# scratch: $WORK"

tally < <($PY "$LIB/erofs_check.py" selftest)

# ------------------------------------------------------------ source trees
gen() {	# gen DIR ARGS...
	local d=$1
	shift
	if ! $PY "$LIB/gentree.py" "$d" --max-name $MAXNAME "$@" \
		>"$WORK/gen.log" 2>&1; then
		notok "gentree $*: $(tail -n1 "$WORK/gen.log")"
		return 1
	fi
}
FULL=$WORK/src/full
DEDUP=$WORK/src/dedup
BIG=$WORK/src/big
SMALL=$WORK/src/small
mkdir -p "$WORK/src"
gen "$FULL" --kind full --seed 11 || exit 1
gen "$DEDUP" --kind dedup --seed 12 || exit 1
gen "$SMALL" --kind small --seed 14 || exit 1
NEED_BIG=0
echo big-1m-blob big-flat | tr ' ' '\n' | grep -Eq "$ONLY" && NEED_BIG=1
[ $NEED_BIG = 1 ] && { gen "$BIG" --kind dedup --seed 13 --big || exit 1; }

MNT=$WORK/mnt
mkdir -p "$MNT"

# ------------------------------------------------------------ one configuration
# run_cfg NAME TREE BLOB(0|1) "MKFS ARGS" "TREECMP ARGS" "LAYOUT ARGS" [ENV]
run_cfg() {
	local name=$1 tree=$2 useblob=$3 margs=$4 cargs=$5 largs=$6 env=${7:-}
	echo "$name" | grep -Eq "$ONLY" || return 0
	local t0=$SECONDS
	local out=$WORK/cfg/$name
	mkdir -p "$out"
	local img=$out/img blob=$out/blob man=$out/manifest.json
	local extra=() dev=() mopt=()
	[ "$useblob" = 1 ] && { extra+=("--blobdev=$blob"); dev=("--device=$blob"); mopt=(--device "$blob"); }
	[ $OURS = 1 ] && extra+=("--manifest=$man")
	# shellcheck disable=SC2086
	env $env "$MKFS" $margs "${extra[@]}" "$img" "$tree" >"$out/mkfs.log" 2>&1
	local rc=$?
	if [ $rc -ne 0 ]; then
		notok "$name: build: exit $rc: $(head -c 300 "$out/mkfs.log" | tr '\n' ' ')"
		return
	fi
	ok "$name: build ($margs${env:+, $env})"
	local fsck
	fsck=$(fsck_for "$margs")
	if [ -z "$fsck" ]; then
		peer_missing "$name: fsck.erofs 1.9.3 (-b 512/1024)"
	else
		"$fsck" "${dev[@]}" "$img" >"$out/fsck.log" 2>&1
		rc=$?
		check "$name: fsck.erofs$([ "$fsck" = "$PEER_FSCK" ] && echo " 1.9.3")" $rc "exit $rc: $(tail -n 3 "$out/fsck.log" | tr '\n' ' ')"
	fi
	# fsck --extract writes the whole tree back: only a few configurations
	if echo "$name" | grep -Eq '^(flat|chunk64k-blob|dedup-4k-blob|dedup-64k)$'; then
		"$FSCK" "${dev[@]}" --extract="$out/x" "$img" >"$out/fsckx.log" 2>&1
		rc=$?
		if [ $rc -ne 0 ]; then
			notok "$name: fsck.erofs --extract: exit $rc: $(tail -n 2 "$out/fsckx.log" | tr '\n' ' ')"
		else
			diff -r --no-dereference "$tree" "$out/x" 2>&1 |
				grep -Ev '^File .* is a (.*) while file .* is a \1$' \
				>"$out/extract.diff"
			[ -s "$out/extract.diff" ]
			check "$name: fsck.erofs --extract gives the source contents" $((!$?)) \
				"$(head -n 3 "$out/extract.diff" | tr '\n' ' ')"
		fi
		rm -rf "$out/x"
	fi
	local m=$MNT/$name
	mkdir -p "$m"
	local err
	err=$($PY "$LIB/erofs_mount.py" mount "$img" "$m" "${mopt[@]}" 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then
		notok "$name: mount(2): $err; dmesg: $(dmesg | tail -n 2 | tr '\n' ' ')"
		return
	fi
	ok "$name: mount(2) on the host kernel"
	# shellcheck disable=SC2086
	$PY "$LIB/treecmp.py" "$tree" "$m" $cargs >"$out/treecmp.log" 2>&1
	rc=$?
	check "$name: mounted tree equals the source ($(tail -n1 "$out/treecmp.log" | sed 's/^# treecmp: //'))" \
		$rc "differences listed below"
	[ $rc -ne 0 ] && indent 20 <"$out/treecmp.log"
	local lextra=()
	[ "$useblob" = 1 ] && lextra+=(--blob "$blob")
	[ $OURS = 1 ] && lextra+=(--manifest "$man")
	[ $OURS = 0 ] && lextra+=(--skip-tag)
	# shellcheck disable=SC2086
	tally < <($PY "$LIB/erofs_check.py" layout "$img" "$m" --name "$name" \
		--source "$tree" "${lextra[@]}" $largs 2>&1)
	$PY "$LIB/erofs_mount.py" umount "$m"
	check "$name: umount" $? "umount failed"
	echo "# $name: $((SECONDS - t0)) s"
}

X1="--xattr-tolerance 1"
[ $OURS = 1 ] || X1="--xattr-tolerance 1"

run_cfg flat "$FULL" 0 "$XDEF -T $T -U $UUID" "--mtime $T" \
	"--build-time $T --uuid $UUID $X1"
if [ $OURS = 1 ]; then
	run_cfg flat-label "$SMALL" 0 "-T $T -L erofs-label-15c -U clear" \
		"--mtime $T" "--build-time $T --label erofs-label-15c --uuid clear"
	run_cfg flat-mkfs-time "$FULL" 0 "-T $T --mkfs-time" "" \
		"--build-time $T $X1"
	run_cfg flat-sde "$FULL" 0 "" "--clamp $SDE" "--build-time $SDE $X1" \
		"SOURCE_DATE_EPOCH=$SDE"
	run_cfg flat-sde-mkfs-time "$DEDUP" 0 "--mkfs-time" "" \
		"--build-time $SDE $X1" "SOURCE_DATE_EPOCH=$SDE"
	run_cfg blk1024 "$FULL" 0 "-b 1024 -T $T" "--mtime $T" \
		"--blksz 1024 --build-time $T $X1"
	run_cfg blk512-chunk "$DEDUP" 1 "-b 512 --chunksize 4096 -T $T" \
		"--mtime $T" "--blksz 512 --chunksize 4096 --expect-zero-chunk"
	run_cfg filter "$FULL" 0 "-E xattr-name-filter -T $T --mkfs-time" "" \
		"--filter --build-time $T $X1"
	run_cfg filter-shared "$FULL" 0 "-E xattr-name-filter -x 0" "" \
		"--filter --xattr-tolerance 0"
else
	skip "flat-mkfs-time, flat-sde, blk1024, filter" "erofs-utils 1.5 lacks these options"
	run_cfg flat-own-mtime "$FULL" 0 "$XDEF --preserve-mtime" "" "$X1"
fi
run_cfg flat-now "$DEDUP" 0 "$XDEF" "" "$X1"
run_cfg owners "$FULL" 0 "$XDEF -T $T --force-uid=4000000000 --force-gid=70000" \
	"--mtime $T --uid 4000000000 --gid 70000" "--build-time $T"
run_cfg owners16 "$FULL" 0 "$XDEF -T $T --force-uid=7 --force-gid=65535" \
	"--mtime $T --uid 7 --gid 65535" "--build-time $T"
run_cfg all-root "$FULL" 0 "$XDEF -T $T --all-root" "--mtime $T --uid 0 --gid 0" \
	"--build-time $T"
run_cfg exclude "$FULL" 0 \
	"$XDEF -T $T --exclude-path=hl/b --exclude-path=dirs/big --exclude-path=xa/sh0 --exclude-regex=^sym/len --exclude-regex=^names/a" \
	"--mtime $T --exclude-path hl/b --exclude-path dirs/big --exclude-path xa/sh0 --exclude-regex ^sym/len --exclude-regex ^names/a" \
	"--build-time $T $X1"
run_cfg no-xattrs "$FULL" 0 "-x -1 -T $T" "--mtime $T --no-xattrs" "--no-xattrs"
run_cfg xattr-shared-all "$FULL" 0 "-x 0 -T $T" "--mtime $T" "--xattr-tolerance 0"
run_cfg xattr-shared-3 "$FULL" 0 "-x 3 -T $T" "--mtime $T" "--xattr-tolerance 3"
run_cfg chunk4k "$FULL" 0 "$XDEF -T $T --chunksize 4096" "--mtime $T" \
	"--chunksize 4096 $X1"
run_cfg chunk64k-blob "$FULL" 1 "$XDEF -T $T --chunksize 65536" "--mtime $T" \
	"--chunksize 65536 $X1"
run_cfg chunk1m-blob "$FULL" 1 "$XDEF -T $T --chunksize 1048576 -U $UUID" "--mtime $T" \
	"--chunksize 1048576 --uuid $UUID"
run_cfg dedup-4k-blob "$DEDUP" 1 "$XDEF -T $T --chunksize 4096" "--mtime $T" \
	"--chunksize 4096 --expect-zero-chunk --dedup"
run_cfg dedup-64k "$DEDUP" 0 "$XDEF -T $T --chunksize 65536" "--mtime $T" \
	"--chunksize 65536 --dedup"
run_cfg dedup-64k-blob "$DEDUP" 1 "$XDEF -T $T --chunksize 65536" "--mtime $T" \
	"--chunksize 65536 --expect-zero-chunk --dedup"
run_cfg dedup-1m-blob "$DEDUP" 1 "$XDEF --chunksize 1M" "" \
	"--chunksize 1048576 --expect-zero-chunk --dedup"
run_cfg big-1m-blob "$BIG" 1 "$XDEF -T $T --chunksize 1048576" "--mtime $T" \
	"--chunksize 1048576 --expect-zero-chunk --dedup"
run_cfg big-flat "$BIG" 0 "$XDEF -T $T" "--mtime $T" "--build-time $T"
if [ -f "$WORK/cfg/big-flat/img" ]; then
	# all-zero blocks are holes: the >4 GiB image must stay sparse
	alloc=$(($(stat -c %b "$WORK/cfg/big-flat/img") * 512))
	size=$(stat -c %s "$WORK/cfg/big-flat/img")
	[ $size -gt $((4 << 30)) ] && [ $alloc -lt $((64 << 20)) ]
	check "big-flat: image is sparse on disk" $? \
		"apparent size $size, allocated $alloc bytes"
fi

# more than 65535 links to one inode (ext4 stops at 65000: use tmpfs)
if echo nlink | grep -Eq "$ONLY"; then
	NL=$WORK/src/tmpfs
	mkdir -p "$NL"
	if mount -t tmpfs -o size=64m,mode=0755 nlink "$NL"; then
		mkdir -p "$NL/t/links"
		echo "many links" >"$NL/t/links/0"
		touch -d @1500000000.123456789 "$NL/t/links/0"
		$PY -c 'import os,sys
d=sys.argv[1]
for i in range(1, 70001): os.link(d + "/0", d + "/%d" % i)' "$NL/t/links"
		touch -d @1500000000 "$NL/t/links" "$NL/t"
		run_cfg nlink "$NL/t" 0 "$XDEF -T $T --mkfs-time" "" "--build-time $T"
		umount "$NL"
	else
		notok "nlink: cannot mount tmpfs"
	fi
fi

# ------------------------------------------------------------ reproducibility
repro() {
	echo repro | grep -Eq "$ONLY" || return 0
	local R=$WORK/repro
	mkdir -p "$R/tmpfs"
	if ! mount -t tmpfs -o size=512m,mode=0755 repro "$R/tmpfs"; then
		notok "repro: mount tmpfs"
		return
	fi
	gen "$R/a" --kind full --seed 21 --order forward || return
	gen "$R/b" --kind full --seed 21 --order reverse || return
	gen "$R/tmpfs/c" --kind full --seed 21 --order shuffle || return
	# the trees must really be equal (mtimes, xattrs, links...)
	$PY "$LIB/treecmp.py" "$R/a" "$R/tmpfs/c" >"$R/srccmp.log" 2>&1
	check "repro: generated trees a (ext4, forward) and c (tmpfs, shuffled) are equal" $? \
		"$(head -n 3 "$R/srccmp.log" | tr '\n' ' ')"
	local opts="$XDEF -T $T -U $UUID"
	local v args
	for v in flat chunk; do
		args=$opts
		[ $v = chunk ] && args="$opts --chunksize 65536"
		local t
		for t in a b tmpfs/c; do
			local o=$R/out-$v-${t##*/}
			local b=()
			[ $v = chunk ] && b=("--blobdev=$o.blob")
			# shellcheck disable=SC2086
			"$MKFS" $args "${b[@]}" "$o.img" "$R/$t" >"$o.log" 2>&1 ||
				{ notok "repro: $v build of $t: $(head -c 200 "$o.log")"; continue 2; }
		done
		cmp "$R/out-$v-a.img" "$R/out-$v-b.img" >"$R/cmp.log" 2>&1 &&
			cmp "$R/out-$v-a.img" "$R/out-$v-c.img" >>"$R/cmp.log" 2>&1
		check "repro: $v: same bootstrap bytes for trees created in different orders (ext4 forward/reverse, tmpfs shuffled)" \
			$? "$(tr '\n' ' ' <"$R/cmp.log")"
		if [ $v = chunk ]; then
			cmp "$R/out-$v-a.blob" "$R/out-$v-b.blob" >"$R/cmp.log" 2>&1 &&
				cmp "$R/out-$v-a.blob" "$R/out-$v-c.blob" >>"$R/cmp.log" 2>&1
			check "repro: $v: same blob bytes" $? "$(tr '\n' ' ' <"$R/cmp.log")"
		fi
	done
	if [ $OURS = 1 ]; then
		SOURCE_DATE_EPOCH=$SDE "$MKFS" -U "$UUID" "$R/sde1.img" "$R/a" >/dev/null 2>&1 &&
			sleep 1.1 &&
			SOURCE_DATE_EPOCH=$SDE "$MKFS" -U "$UUID" "$R/sde2.img" "$R/tmpfs/c" >/dev/null 2>&1 &&
			cmp "$R/sde1.img" "$R/sde2.img" >"$R/cmp.log" 2>&1
		check "repro: SOURCE_DATE_EPOCH builds at different times are identical" $? \
			"$(tr '\n' ' ' <"$R/cmp.log")"
		"$MKFS" -T $T -U random "$R/r1.img" "$R/a" >/dev/null 2>&1 &&
			"$MKFS" -T $T -U random "$R/r2.img" "$R/a" >/dev/null 2>&1
		local u1 u2
		u1=$(od -An -tx1 -j 1072 -N 16 "$R/r1.img" | tr -d ' \n')
		u2=$(od -An -tx1 -j 1072 -N 16 "$R/r2.img" | tr -d ' \n')
		[ -n "$u1" ] && [ "$u1" != "$u2" ] && [ "$u1" != 00000000000000000000000000000000 ]
		check "repro: -U random gives different UUIDs" $? "$u1 vs $u2"
	fi
	umount "$R/tmpfs"
	rm -rf "$R"
}
repro

# ------------------------------------------------------------ checksum
csum() {
	echo csum | grep -Eq "$ONLY" || return 0
	local C=$WORK/csum bs
	mkdir -p "$C/m"
	for bs in 4096 1024; do
		local bopt=""
		if [ $bs != 4096 ]; then
			[ $OURS = 1 ] || continue
			bopt="-b $bs"
		fi
		# shellcheck disable=SC2086
		"$MKFS" $bopt $XDEF -T $T "$C/good.img" "$SMALL" >"$C/log" 2>&1 ||
			{ notok "csum: build -b $bs: $(head -c 200 "$C/log")"; continue; }
		$PY "$LIB/erofs_check.py" csum "$C/good.img" >"$C/log" 2>&1
		check "csum: -b $bs: stored superblock checksum equals CRC32C of [1024, $((bs > 1024 ? bs : 2048)))" $? "$(cat "$C/log")"
		$PY "$LIB/erofs_mount.py" mount "$C/good.img" "$C/m" >"$C/log" 2>&1
		check "csum: -b $bs: unmodified image mounts" $? "$(cat "$C/log")" &&
			$PY "$LIB/erofs_mount.py" umount "$C/m"
		local end=$((bs > 1024 ? bs : 2048)) off
		for off in 1040 1130 $((end - 1)); do
			cp "$C/good.img" "$C/bad.img"
			$PY "$LIB/erofs_check.py" flip "$C/bad.img" $off
			# only look at kernel messages logged after a marker of
			# our own (never clear the ring buffer: others may be
			# reading it; counting lines fails once it is full)
			local mark="erofs-ondemand-csum-$$-$bs-$off-$RANDOM"
			echo "$mark" >/dev/kmsg
			local e
			e=$($PY "$LIB/erofs_mount.py" mount "$C/bad.img" "$C/m" 2>&1)
			local rc=$?
			if [ $rc -eq 0 ]; then
				$PY "$LIB/erofs_mount.py" umount "$C/m"
				notok "csum: -b $bs: byte $off flipped: the kernel mounted it"
			elif [ $rc -eq 74 ]; then	# EBADMSG
				dmesg | sed -n "/$mark/,\$p" | grep -q 'invalid checksum'
				check "csum: -b $bs: byte $off flipped: mount fails with EBADMSG, dmesg 'invalid checksum'" \
					$? "no 'invalid checksum' in dmesg"
			else
				notok "csum: -b $bs: byte $off flipped: expected EBADMSG, got $e"
			fi
		done
	done
	rm -rf "$C"
}
csum

# ------------------------------------------------------------ failures
# expect_fail NAME DEST-PATH-TO-BE-ABSENT PATTERN-IN-MESSAGE CMD...
expect_fail() {
	local name=$1 dest=$2 pat=$3
	shift 3
	"$@" >"$WORK/fail.log" 2>&1
	local rc=$? left
	left=$(ls -A "$(dirname "$dest")" 2>/dev/null | grep -v '^keep' | tr '\n' ' ')
	fail_verdict "$name" $rc "$WORK/fail.log" "$pat" "$left"
	find "$(dirname "$dest")" -mindepth 1 -delete 2>/dev/null
}

failures() {
	echo fail | grep -Eq "$ONLY" || return 0
	local F=$WORK/fail
	mkdir -p "$F/out"
	expect_fail "source is a regular file" "$F/out/img" "$SMALL/s/a" \
		"$MKFS" "$F/out/img" "$SMALL/s/a"
	expect_fail "source does not exist" "$F/out/img" "$F/nonexistent" \
		"$MKFS" "$F/out/img" "$F/nonexistent"
	if [ $OURS = 1 ]; then
		local cs
		for cs in 3000 1024 0 4097 abc 1G7; do
			expect_fail "--chunksize=$cs" "$F/out/img" "$cs" \
				"$MKFS" --chunksize=$cs "--blobdev=$F/out/blob" "$F/out/img" "$SMALL"
		done
		expect_fail "-b 3000" "$F/out/img" "3000" "$MKFS" -b 3000 "$F/out/img" "$SMALL"
		expect_fail "-L with 16 characters" "$F/out/img" "0123456789abcdef" \
			"$MKFS" -L 0123456789abcdef "$F/out/img" "$SMALL"
		expect_fail "blob in a missing directory" "$F/out/img" "$F/nodir/blob" \
			"$MKFS" --chunksize=4096 "--blobdev=$F/nodir/blob" "$F/out/img" "$SMALL"
		expect_fail "bad --exclude-regex" "$F/out/img" "[unclosed" \
			"$MKFS" "--exclude-regex=[unclosed" "$F/out/img" "$SMALL"
	fi

	# a file that cannot be read even by root: a write-only sysfs
	# attribute (open for reading fails with EACCES) bind-mounted into
	# the tree
	local U=$F/unreadable
	mkdir -p "$U/d"
	echo x >"$U/d/victim"
	if [ -e /sys/bus/pci/rescan ] && mount --bind /sys/bus/pci/rescan "$U/d/victim" 2>/dev/null; then
		if cat "$U/d/victim" >/dev/null 2>&1; then
			skip "fail: unreadable file" "bind-mounted sysfs file is readable"
		else
			expect_fail "unreadable file" "$F/out/img" "victim" \
				"$MKFS" "$F/out/img" "$U"
			if [ $OURS = 1 ]; then
				expect_fail "unreadable file (chunked, blob)" "$F/out/img" "victim" \
					"$MKFS" --chunksize 4096 "--blobdev=$F/out/blob" "$F/out/img" "$U"
			fi
		fi
		umount "$U/d/victim"
	else
		skip "fail: unreadable file" "cannot bind-mount a write-only sysfs file"
	fi
	# a pre-existing DEST survives a failed build unchanged
	echo keep >"$F/out/keep.img"
	cp "$F/out/keep.img" "$F/keep.orig"
	mount --bind /sys/bus/pci/rescan "$U/d/victim" 2>/dev/null
	"$MKFS" "$F/out/keep.img" "$U" >/dev/null 2>&1
	local rc=$?
	umount "$U/d/victim" 2>/dev/null
	[ $rc -ne 0 ] && cmp -s "$F/out/keep.img" "$F/keep.orig"
	check "fail: a failed build leaves an existing DEST untouched" $? "rc=$rc, DEST changed"
	rm -f "$F/out/keep.img"

	# full disk: DEST (and blob) on a 1 MiB tmpfs, source has ~3 MiB
	local FD=$F/full
	mkdir -p "$FD/fs"
	if mount -t tmpfs -o size=1m full "$FD/fs"; then
		expect_fail "full disk (DEST)" "$FD/fs/img" "$FD/fs/" \
			"$MKFS" "$FD/fs/img" "$DEDUP/d/sub"
		if [ $OURS = 1 ]; then
			# the blob fills up; DEST is on a roomy disk
			mkdir -p "$FD/out"
			"$MKFS" --chunksize=4096 "--blobdev=$FD/fs/blob" "$FD/out/img" \
				"$DEDUP/d/sub" >"$WORK/fail.log" 2>&1
			local rc=$?
			local left
			left=$(ls -A "$FD/fs" "$FD/out" | grep -v ':$' | grep -v '^$' | tr '\n' ' ')
			if [ $rc -ne 0 ] && [ -z "$left" ] && grep -qF "$FD/fs/" "$WORK/fail.log"; then
				ok "fail: full disk (blob): exit $rc, names the blob, nothing left"
			else
				notok "fail: full disk (blob): exit $rc, left: '$left', message: $(head -c 200 "$WORK/fail.log" | tr '\n' ' ')"
			fi
		fi
		umount "$FD/fs"
	else
		notok "fail: full disk: cannot mount a small tmpfs"
	fi

	# entries vanishing during the walk: a background loop keeps creating
	# and deleting files and directories; every build must either fail
	# cleanly (message naming a source path, nothing left) or produce a
	# consistent image
	local V=$F/vanish
	mkdir -p "$V/src/churn" "$F/vout"
	local i
	for i in $(seq 1 3000); do echo "$i" >"$V/src/churn/f$i"; done
	(
		while :; do
			for i in $(seq 1 3000); do
				rm -f "$V/src/churn/f$i"
				mkdir -p "$V/src/churn/d$i"
				echo "$i" >"$V/src/churn/d$i/x"
			done
			for i in $(seq 1 3000); do
				rm -rf "$V/src/churn/d$i"
				echo "$i" >"$V/src/churn/f$i"
			done
		done
	) >/dev/null 2>&1 &
	BGPID=$!
	local fails=0 succ=0 bad=""
	for i in 1 2 3 4 5 6; do
		rm -f "$F/vout/img"
		"$MKFS" "$F/vout/img" "$V/src" >"$WORK/vanish.log" 2>&1
		local rc=$?
		if [ $rc -ne 0 ]; then
			fails=$((fails + 1))
			[ $rc -ge 128 ] && bad="$bad; run $i killed by signal"
			grep -qF "$V/src/churn/" "$WORK/vanish.log" ||
				grep -qE 'churn/[fd][0-9]' "$WORK/vanish.log" ||
				bad="$bad; run $i message: $(head -c 150 "$WORK/vanish.log" | tr '\n' ' ')"
			[ -n "$(ls -A "$F/vout")" ] && bad="$bad; run $i left $(ls -A "$F/vout" | tr '\n' ' ')"
		else
			succ=$((succ + 1))
			"$FSCK" "$F/vout/img" >/dev/null 2>&1 ||
				bad="$bad; run $i: fsck.erofs rejects the image"
		fi
	done
	kill "$BGPID" 2>/dev/null
	wait "$BGPID" 2>/dev/null
	BGPID=
	[ -z "$bad" ]
	check "fail: entries vanishing during the walk ($fails failed cleanly, $succ consistent images)" \
		$? "${bad#; }"
	[ $fails -gt 0 ] && echo "#   last message: $(head -n1 "$WORK/vanish.log")"
}
failures

# ------------------------------------------------------------ CLI basics
if [ $OURS = 1 ] && echo cli | grep -Eq "$ONLY"; then
	"$MKFS" --help >"$WORK/help.log" 2>&1
	check "cli: --help exits 0" $? "$(head -c 100 "$WORK/help.log")"
	"$MKFS" --version >"$WORK/help.log" 2>&1
	check "cli: --version exits 0" $? "$(head -c 100 "$WORK/help.log")"
	mkdir -p "$WORK/cli"
	"$MKFS" --quiet -T $T "$WORK/cli/img" "$SMALL" >"$WORK/cli/out" 2>&1
	rc=$?
	[ $rc -eq 0 ] && [ ! -s "$WORK/cli/out" ]
	check "cli: --quiet prints nothing on success" $? "rc=$rc: $(head -c 100 "$WORK/cli/out")"
	"$MKFS" --no-such-option "$WORK/cli/img2" "$SMALL" >/dev/null 2>&1
	[ $? -ne 0 ] && [ ! -e "$WORK/cli/img2" ]
	check "cli: unknown option fails" $? "exit 0 or image written"
fi

echo "# $PASSED passed, $FAILED failed"
[ $FAILED -eq 0 ]
