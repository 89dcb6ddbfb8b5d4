#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Integration test of erofs-cookies: table and JSON output checked against an
# independent Python re-implementation of the kernel's hashing and naming,
# seeding a cache directory (layout, xattrs, data, no holes), check on full,
# copied, holed and stale caches, refusal of a busy cache directory, of
# symlinks inside the cache, of a FIFO and of blobs the device table
# contradicts, and clear exit-2 failures on malformed bootstraps.
#   BUILD=/path/to/build tests/integration/cookies.sh
set -u

. "$(dirname "$0")/../lib/tap.sh"
EC=$BUILD/cookies/erofs-cookies
OURMKFS=$BUILD/mkfs/mkfs.erofs
DEBMKFS=/usr/bin/mkfs.erofs


T=$(mktemp -d "${TMPDIR:-/tmp}/cookies-test.XXXXXX")
MNT=
cleanup() {
	[ -n "$MNT" ] && umount "$MNT" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

if [ ! -x "$EC" ]; then
	nok "erofs-cookies built" "$EC missing"
	exit 1
fi

# ---- independent reference: fscache_hash, cooked names, paths ----
cat >"$T/ref.py" <<'EOF'
import struct, sys

M = 0xFFFFFFFF

def rol(v, s):
    return ((v << s) | (v >> (32 - s))) & M

def fscache_hash(salt, data):
    assert len(data) % 4 == 0
    x, y = 0, salt
    for (a,) in struct.iter_unpack('<I', data):
        x ^= a
        y ^= x
        x = rol(x, 7)
        x = (x + y) & M
        y = rol(y, 20)
        y = (y * 9) & M
    return ((y ^ ((x * 0x61C88647) & M)) * 0x61C88647) & M

def pad4(b):
    return b + b'\0' * (-len(b) % 4)

def volume_hash(vkey):
    k = vkey.encode()
    buf = bytes([len(k)]) + k + b'\0'
    return fscache_hash(0, pad4(buf))

def cookie(vkey, key):
    h = fscache_hash(volume_hash(vkey), pad4(key.encode()))
    fan = '@%02x' % (h & 0xff)
    return fan, 'cache/I%s/%s/D%s' % (vkey, fan, key)

if sys.argv[1] == 'selftest':
    # docs/kernel-facts.md §28 and the public paths
    assert volume_hash('erofs,test') == 0x6c5d5056
    assert cookie('erofs,test', 'test.img')[1] == 'cache/Ierofs,test/@73/Dtest.img'
    assert cookie('erofs,styxtest9dbeb96981e633e3', '_slab_0')[0] == '@0e'
    assert cookie('erofs,styxtestbf4a1ed3c4d64dd8', '_slab_0')[0] == '@1d'
    assert cookie('erofs,styxtest9dbeb96981e633e3', '_slabimg_0')[0] == '@fb'
    print('selftest ok')
elif sys.argv[1] == 'path':
    print(cookie(sys.argv[2], sys.argv[3])[1])
elif sys.argv[1] == 'patch-tag':
    # set slot 0's tag and blocks, then the superblock checksum
    img = bytearray(open(sys.argv[2], 'rb').read())
    slotoff = struct.unpack_from('<H', img, 1024 + 88)[0] * 128
    tag = sys.argv[3].encode()
    img[slotoff:slotoff + 64] = tag + b'\0' * (64 - len(tag))
    def crc32c(crc, data):
        for b in data:
            crc ^= b
            for _ in range(8):
                crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
        return crc
    blk = bytearray(img[1024:4096])
    blk[4:8] = b'\0' * 4
    struct.pack_into('<I', img, 1024 + 4, crc32c(0xFFFFFFFF, bytes(blk)))
    open(sys.argv[2], 'wb').write(img)
elif sys.argv[1] == 'holes':
    # bytes of data (not holes) in a file
    import os
    fd = os.open(sys.argv[2], os.O_RDONLY)
    end = os.fstat(fd).st_size
    pos = data = 0
    while pos < end:
        try:
            d = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError:
            break
        h = os.lseek(fd, d, os.SEEK_HOLE)
        data += h - d
        pos = h
    print(end - data)
EOF
ref() { python3 "$T/ref.py" "$@"; }
check "python reference reproduces the kernel-facts vectors" \
	sh -c "python3 '$T/ref.py' selftest >/dev/null"

# ---- images ----
mkdir -p "$T/src/sub" "$T/blobs"
head -c 300000 /dev/urandom >"$T/src/big.bin"
echo hello >"$T/src/sub/hello.txt"
head -c 5000 /dev/urandom >"$T/src/odd.bin"
if ! $DEBMKFS -T0 --chunksize=4096 --blobdev="$T/deb-blob" "$T/deb.img" \
	"$T/src" >/dev/null 2>&1; then
	nok "mkfs.erofs (erofs-utils) builds a chunked image" "mkfs failed"
	exit 1
fi
ok "mkfs.erofs (erofs-utils) builds a chunked image"
TAG=$(sha256sum "$T/deb-blob" | cut -c1-64)
FSID=img1
cp "$T/deb.img" "$T/blobs/$FSID"
ref patch-tag "$T/blobs/$FSID" "$TAG"
cp "$T/deb-blob" "$T/blobs/$TAG"
BOOT=$T/blobs/$FSID
BOOTSZ=$(stat -c %s "$BOOT")
BLOBSZ=$(stat -c %s "$T/blobs/$TAG")

# ---- table mode ----
out=$("$EC" "$T/deb.img" 2>&1)
rc=$?
check "table without --fsid prints the device table" \
	test $rc = 0 -a -n "$(echo "$out" | grep 'extra devices: 1')"
out=$("$EC" --fsid=$FSID "$T/deb.img" 2>&1)
rc=$?
check "empty device tag is refused with exit 2" \
	test $rc = 2 -a -n "$(echo "$out" | grep -i 'empty tag')"
out=$("$EC" --fsid=$FSID --device=devkey --json "$T/deb.img" 2>&1)
rc=$?
want=$(ref path erofs,$FSID devkey)
got=$(echo "$out" | jq -r '.cookies[1].cache_path' 2>/dev/null)
check "--device supplies the key of an empty tag" \
	test $rc = 0 -a "$got" = "$want"

J=$T/table.json
"$EC" --fsid=$FSID --blob-dir="$T/blobs" --json "$BOOT" >"$J"
check "JSON table exits 0" test $? = 0
check "JSON volume key" test "$(jq -r .volume_key "$J")" = "erofs,$FSID"
check "JSON volume dir" test "$(jq -r .volume_dir "$J")" = "Ierofs,$FSID"
check "JSON mount options" test "$(jq -r .mount_options "$J")" = "fsid=$FSID"
check "JSON has bootstrap + one blob" test "$(jq '.cookies|length' "$J")" = 2
check "bootstrap cookie key is the fsid" \
	test "$(jq -r '.cookies[0].cookie_key' "$J")" = "$FSID"
check "blob cookie key is the slot tag" \
	test "$(jq -r '.cookies[1].cookie_key' "$J")" = "$TAG"
check "bootstrap object size = file size" \
	test "$(jq -r '.cookies[0].object_size' "$J")" = "$BOOTSZ"
check "blob object size = blob file size" \
	test "$(jq -r '.cookies[1].object_size' "$J")" = "$BLOBSZ"
for i in 0 1; do
	key=$(jq -r ".cookies[$i].cookie_key" "$J")
	want=$(ref path "erofs,$FSID" "$key")
	check "cookie $i path matches the python fscache_hash" \
		test "$(jq -r ".cookies[$i].cache_path" "$J")" = "$want"
	check "cookie $i fanout is the path's directory" \
		test "$(jq -r ".cookies[$i].fanout" "$J")" = \
		"$(echo "$want" | cut -d/ -f3)"
done
out=$("$EC" --fsid=$FSID --blob-dir="$T/blobs" "$BOOT")
check "human table lists the cache paths" \
	test -n "$(echo "$out" | grep -F "$(jq -r '.cookies[1].cache_path' "$J")")"
"$EC" --fsid=$FSID --domain-id=dom --json "$BOOT" >"$T/dom.json"
check "domain_id names the volume" \
	test "$(jq -r .volume_key "$T/dom.json")" = "erofs,dom" \
	-a "$(jq -r .mount_options "$T/dom.json")" = "fsid=$FSID,domain_id=dom"
check "domain_id path matches the python fscache_hash" \
	test "$(jq -r '.cookies[1].cache_path' "$T/dom.json")" = \
	"$(ref path erofs,dom "$TAG")"

# ---- seed ----
C=$T/cache-root
"$EC" seed --cache-dir="$C" --blob-dir="$T/blobs" --fsid=$FSID >/dev/null
check "seed (bootstrap from blob dir) exits 0" test $? = 0
check "seed creates cache/ and graveyard/" test -d "$C/cache" -a -d "$C/graveyard"
VD=$C/cache/Ierofs,$FSID
n=$(find "$VD" -mindepth 1 -maxdepth 1 -type d -name '@??' | wc -l)
check "seed creates 256 fan-out dirs" test "$n" = 256
vx2=$(getfattr -e hex -n user.CacheFiles.cache "$VD" 2>/dev/null |
	sed -n 's/^user.CacheFiles.cache=//p')
check "volume dir xattr is 4 zero bytes" test "$vx2" = "0x00000000"
for i in 0 1; do
	rel=$(jq -r ".cookies[$i].cache_path" "$J")
	size=$(jq -r ".cookies[$i].object_size" "$J")
	src=$BOOT
	[ $i = 1 ] && src=$T/blobs/$TAG
	f=$C/$rel
	check "object $i at its cooked path" test -f "$f"
	want=$(printf '0x%016x0000000000000000%s' "$size" 0100)
	got=$(getfattr -e hex -n user.CacheFiles.cache "$f" 2>/dev/null |
		sed -n 's/^user.CacheFiles.cache=//p')
	check "object $i xattr = be64 size, zero point, type 1, content 0" \
		test "$got" = "$want"
	rsz=$(( (size + 4095) / 4096 * 4096 ))
	check "object $i padded to a 4096 multiple" \
		test "$(stat -c %s "$f")" = "$rsz"
	check "object $i data equals the source" cmp -s -n "$size" "$src" "$f"
	check "object $i padding is zeros" \
		test "$(tail -c +$((size + 1)) "$f" | tr -d '\0' | wc -c)" = 0
	check "object $i has no holes" test "$(ref holes "$f")" = 0
done
check "no temporary files left" \
	test -z "$(find "$C" -name '.seed.*')"

# ---- check ----
"$EC" check --cache-dir="$C" --blob-dir="$T/blobs" --fsid=$FSID "$BOOT" \
	>"$T/check.txt"
check "check of a seeded cache exits 0" test $? = 0
check "check says fully cached" grep -q 'status: fully cached' "$T/check.txt"
"$EC" check --cache-dir="$C" --fsid=$FSID --json "$BOOT" >"$T/check.json"
check "check without sizes uses the xattr size (exit 0)" test $? = 0
check "JSON check: complete, 100% present" \
	test "$(jq -r '.complete' "$T/check.json")" = true \
	-a "$(jq -r '[.cookies[]|.bytes_present==.bytes_needed]|all' "$T/check.json")" = true
cp -a "$C" "$T/copied"
"$EC" check --cache-dir="$T/copied" --blob-dir="$T/blobs" --fsid=$FSID \
	"$BOOT" >/dev/null
check "check works on a copied tree" test $? = 0

blobf=$C/$(jq -r '.cookies[1].cache_path' "$J")
if fallocate -p -o 4096 -l 4096 "$blobf" 2>/dev/null; then
	"$EC" check --cache-dir="$C" --blob-dir="$T/blobs" --fsid=$FSID \
		--json "$BOOT" >"$T/holed.json"
	rc=$?
	check "check with a hole exits 1" test $rc = 1
	need=$(jq -r '.cookies[1].bytes_needed' "$T/holed.json")
	check "check counts the hole" \
		test "$(jq -r '.cookies[1].bytes_present' "$T/holed.json")" = \
		"$((need - 4096))" \
		-a "$(jq -r '.cookies[1].complete' "$T/holed.json")" = false \
		-a "$(jq -r '.cookies[0].complete' "$T/holed.json")" = true
	"$EC" check --cache-dir="$C" --blob-dir="$T/blobs" --fsid=$FSID \
		"$BOOT" >"$T/holed.txt"
	check "human check says NOT fully cached" \
		grep -q 'NOT fully cached' "$T/holed.txt"
else
	skip "check with a hole" "fallocate -p unsupported"
fi
bootf=$C/$(jq -r '.cookies[0].cache_path' "$J")
setfattr -x user.CacheFiles.cache "$bootf"
"$EC" check --cache-dir="$C" --fsid=$FSID --json "$BOOT" >"$T/nox.json"
check "missing xattr: exit 1, reported missing" \
	test $? = 1 -a "$(jq -r '.cookies[0].xattr' "$T/nox.json")" = missing
"$EC" check --cache-dir="$T/nonexistent" --fsid=$FSID "$BOOT" 2>/dev/null
check "check of a missing cache dir exits 2" test $? = 2
"$EC" check --cache-dir="$T/copied" --fsid=$FSID --device=other "$BOOT" \
	>/dev/null
check "check for another key: exit 1" test $? = 1

"$EC" seed --cache-dir="$C" --blob-dir="$T/blobs" --fsid=$FSID "$BOOT" \
	>/dev/null
check "re-seed over an existing cache exits 0" test $? = 0
"$EC" check --cache-dir="$C" --blob-dir="$T/blobs" --fsid=$FSID "$BOOT" \
	>/dev/null
check "re-seeded cache is complete again" test $? = 0
"$EC" seed --cache-dir="$T/c2" --blob-dir="$T/nothere" --fsid=$FSID \
	"$BOOT" 2>/dev/null
check "seed with a missing blob exits 2" test $? = 2
check "seed with a missing blob writes nothing" test ! -e "$T/c2"

# ---- symlinks inside the cache are never followed ----
mkdir -p "$T/outside"
C3=$T/c3
"$EC" seed --cache-dir="$C3" --blob-dir="$T/blobs" --fsid=$FSID "$BOOT" \
	>/dev/null 2>&1
fan=$(jq -r '.cookies[1].fanout' "$J")
rm -rf "$C3/cache/Ierofs,$FSID/$fan"
ln -s "$T/outside" "$C3/cache/Ierofs,$FSID/$fan"
out=$("$EC" seed --cache-dir="$C3" --blob-dir="$T/blobs" --fsid=$FSID \
	"$BOOT" 2>&1)
rc=$?
check "seed refuses a symlinked fan-out dir (exit $rc)" \
	test $rc = 1 -a -n "$(echo "$out" | grep 'symbolic link')"
check "seed wrote nothing through the symlinked fan-out" \
	test -z "$(ls -A "$T/outside")"
"$EC" check --cache-dir="$C3" --blob-dir="$T/blobs" --fsid=$FSID "$BOOT" \
	>/dev/null 2>"$T/c3check.log"
check "check refuses a symlinked fan-out dir (exit 2)" \
	test $? = 2 -a -n "$(grep 'symbolic link' "$T/c3check.log")"
C4=$T/c4
mkdir -p "$C4/cache"
ln -s "$T/outside" "$C4/cache/Ierofs,$FSID"
out=$("$EC" seed --cache-dir="$C4" --blob-dir="$T/blobs" --fsid=$FSID \
	"$BOOT" 2>&1)
rc=$?
check "seed refuses a symlinked volume dir, as a symlink (exit $rc)" \
	test $rc = 1 -a -n "$(echo "$out" | grep 'symbolic link')" \
	-a -z "$(echo "$out" | grep -i xattr)"
check "seed wrote nothing through the symlinked volume dir" \
	test -z "$(ls -A "$T/outside")"

C6=$T/c6
mkdir -p "$C6"
ln -s "$T/outside" "$C6/cache"
out=$("$EC" seed --cache-dir="$C6" --blob-dir="$T/blobs" --fsid=$FSID \
	"$BOOT" 2>&1)
rc=$?
check "seed refuses a symlinked cache/ (exit $rc)" \
	test $rc = 1 -a -n "$(echo "$out" | grep 'symbolic link')" \
	-a -z "$(ls -A "$T/outside")"

# ---- a FIFO is refused, never waited on ----
mkfifo "$T/fifo.img"
timeout 20 "$EC" --fsid=x "$T/fifo.img" >/dev/null 2>"$T/fifo.log"
rc=$?
check "a FIFO bootstrap is refused at once (exit $rc)" \
	test $rc = 2 -a -n "$(grep 'not a regular file' "$T/fifo.log")"

# a directory the kernel will not let go of: a mount point gives the same
# EBUSY from rmdir as a bound cache's S_KERNEL_FILE mark
if [ "$(id -u)" = 0 ] && mkdir -p "$T/busy/cache" &&
	mount -t tmpfs none "$T/busy/cache" 2>/dev/null; then
	MNT=$T/busy/cache
	out=$("$EC" seed --cache-dir="$T/busy" --blob-dir="$T/blobs" \
		--fsid=$FSID "$BOOT" 2>&1)
	rc=$?
	check "seed refuses a busy cache/ (exit 1, says why)" \
		test $rc = 1 -a -n "$(echo "$out" | grep -i 'mount point')"
	check "refused seed created no volume" \
		test ! -e "$T/busy/cache/Ierofs,$FSID"
	umount "$MNT" && MNT=
else
	skip "seed refuses a busy cache/" "needs root and tmpfs"
fi

# ---- malformed input ----
bad() {
	local name=$1 file=$2 out rc
	out=$("$EC" --fsid=x "$file" 2>&1 >/dev/null)
	rc=$?
	check "$name: exit 2 with a message" test $rc = 2 -a -n "$out"
}
head -c 1100 "$BOOT" >"$T/trunc.img"
bad "truncated bootstrap" "$T/trunc.img"
: >"$T/empty.img"
bad "empty bootstrap" "$T/empty.img"
cp "$BOOT" "$T/magic.img"
printf '\0\0\0\0' | dd of="$T/magic.img" bs=1 seek=1024 conv=notrunc 2>/dev/null
bad "bad magic" "$T/magic.img"
cp "$BOOT" "$T/crc.img"
printf 'Z' | dd of="$T/crc.img" bs=1 seek=1160 conv=notrunc 2>/dev/null
bad "bad checksum" "$T/crc.img"
head -c 65536 /dev/urandom >"$T/garbage.img"
bad "random bytes" "$T/garbage.img"
bad "missing file" "$T/does-not-exist"
out=$("$EC" --fsid=a,b "$BOOT" 2>&1 >/dev/null)
check "fsid with a comma: exit 2" test $? = 2 -a -n "$out"
out=$("$EC" --fsid=a/b "$BOOT" 2>&1 >/dev/null)
check "fsid with a slash: exit 2" test $? = 2 -a -n "$out"
"$EC" check --fsid=x "$BOOT" >/dev/null 2>&1
check "check without --cache-dir: exit 2" test $? = 2
"$EC" --bogus-option "$BOOT" >/dev/null 2>&1
check "unknown option: exit 2" test $? = 2

# ---- our mkfs, if it builds images with a cookie table ----
if [ -x "$OURMKFS" ] && "$OURMKFS" --chunksize=4096 --blobdev="$T/our-blob" \
	--fsid=ours --manifest="$T/our.json" "$T/our.img" "$T/src" \
	>/dev/null 2>&1; then
	otag=$(jq -r '.cookies.cookies[1].cookie_key' "$T/our.json" \
		2>/dev/null)
	if [ -n "$otag" ] && [ "$otag" != null ]; then
		mkdir -p "$T/ourblobs"
		cp "$T/our-blob" "$T/ourblobs/$otag"
		"$EC" --fsid=ours --blob-dir="$T/ourblobs" --json "$T/our.img" \
			>"$T/our-ec.json"
		check "our mkfs: image parses" test $? = 0
		a=$(jq -c '[.cookies[]|[.device_id,.cookie_key,.object_size,.fanout,.cache_path]]' "$T/our-ec.json")
		b=$(jq -c '[.cookies.cookies[]|[.device_id,.cookie_key,.object_size,.fanout,.cache_path]]' "$T/our.json")
		check "our mkfs: manifest cookie table = erofs-cookies" \
			test "$a" = "$b"
		# a blob the device table contradicts: never seeded
		head -c 100 "$T/our-blob" >"$T/ourblobs/$otag"
		out=$("$EC" seed --cache-dir="$T/c5" --blob-dir="$T/ourblobs" \
			--fsid=ours "$T/our.img" 2>&1)
		rc=$?
		check "seed refuses a blob shorter than its device (exit $rc)" \
			test $rc = 2 -a -n "$(echo "$out" | grep 'device table')"
		check "refused seed left no cache" test ! -e "$T/c5"
		"$EC" check --cache-dir="$T/copied" --blob-dir="$T/ourblobs" \
			--fsid=ours "$T/our.img" >/dev/null 2>&1
		check "check refuses a blob shorter than its device (exit 2)" \
			test $? = 2
		cp "$T/our-blob" "$T/ourblobs/$otag"
		"$EC" seed --cache-dir="$T/c5" --blob-dir="$T/ourblobs" \
			--fsid=ours "$T/our.img" >/dev/null 2>&1
		check "seed of the right blob works (exit $?)" test $? = 0
	else
		skip "our mkfs manifest cookie table" "no cookie table in manifest"
	fi
else
	skip "our mkfs" "$OURMKFS missing or without --fsid/--manifest"
fi

[ $fails = 0 ]
