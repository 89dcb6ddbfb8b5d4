#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Make the metadata-rich source tree of the kernel suite (needs root: owners,
# devices, trusted./security. xattrs).
#
#   tests/kernel/mktree.sh DIR BUILD_TIME
#
# Hard links (also across directories and 1000 in one directory), symlinks
# (relative, absolute, dangling, to a directory, a 4095-byte target),
# character and block devices, a fifo, a socket, empty files, a sparse file,
# an all-zero file, a file with a zero chunk inside, files sharing chunks,
# file tails of every length class, setuid/setgid/sticky modes, owners beyond
# 16 bits, nanosecond and post-2038 times, times equal to BUILD_TIME (compact
# inodes), user./trusted./security. xattrs and a POSIX ACL, a directory with
# 2100 entries, a 40-level deep path and a 255-byte name.  Random data comes
# from /dev/urandom: every run makes a different tree.

set -euo pipefail
d=$1
T=$2
rm -rf "$d"
mkdir -p "$d"
cd "$d"

rnd() { head -c "$2" /dev/urandom > "$1"; }

# --- regular files: sizes around block and chunk boundaries, tails ---
mkdir files
: > files/empty
for n in 1 100 4095 4096 4097 65535 65536 65537 200000 1048575 1048577; do
	rnd "files/r$n" "$n"
done
rnd files/big 2600000
# all zeros, and a zero chunk (at every chunk size) inside random data
head -c 300000 /dev/zero > files/zeros
{
	head -c 70000 /dev/urandom
	head -c 1048576 /dev/zero
	head -c 5000 /dev/urandom
} > files/zeromiddle
# sparse: holes are zero chunks for mkfs, data at 1 MiB + 5 and at the end
truncate -s 3M files/sparse
printf 'sparse data' | dd of=files/sparse bs=1 seek=$((1048576 + 5)) conv=notrunc status=none
printf 'end' >> files/sparse
# chunk sharing: a copy, a prefix, a file made of a repeated 64 KiB piece
cp files/r200000 files/copy200000
head -c 65536 files/r1048577 > files/prefix64k
piece=$(mktemp)
rnd "$piece" 65536
for i in 1 2 3 4 5 6 7 8; do cat "$piece"; done > files/repeated
rm -f "$piece"
# name with a space and UTF-8
echo "spaced" > "files/with space ü"

# --- modes and owners ---
mkdir modes
for m in 4755 2755 6755 1755 7777 0000 0600 0444; do
	echo "mode $m" > "modes/m$m"
	chmod "$m" "modes/m$m"
done
mkdir modes/sticky && chmod 1777 modes/sticky
mkdir modes/sgiddir && chmod 2775 modes/sgiddir
echo owned > modes/u1000 && chown 1000:1000 modes/u1000
echo owned > modes/u65534 && chown 65534:65534 modes/u65534
echo owned > modes/u70000 && chown 70000:80000 modes/u70000
echo owned > modes/g5 && chown 0:5 modes/g5
mkdir modes/dir70000 && chown 70000:70001 modes/dir70000

# --- links ---
mkdir links links/other
echo "linked" > links/hl-a
ln links/hl-a links/hl-b
ln links/hl-a links/other/hl-c
ln -s ../files/r100 links/rel
ln -s /etc/passwd links/abs
ln -s does-not-exist links/dangling
ln -s ../files links/todir
long=$(printf 'x%.0s' $(seq 1 4095))
ln -s "$long" links/long4095
ln -s "$(printf 'a/%.0s' $(seq 1 30))end" links/manyslashes
chown -h 1000:1000 links/rel

# --- special files ---
mkdir special
mknod special/null c 1 3
mknod special/sda1 b 8 1
mknod special/bigdev c 4095 1048575
mknod special/extblk b 259 131072
mkfifo special/fifo
chmod 0620 special/fifo
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' special/sock

# --- xattrs ---
mkdir xattrs
echo x > xattrs/user
setfattr -n user.one -v "value one" xattrs/user
setfattr -n user.bin -v 0x00ff10ee00 xattrs/user
setfattr -n user.empty xattrs/user
echo x > xattrs/long
setfattr -n user.long -v "$(printf 'L%.0s' $(seq 1 1500))" xattrs/long
echo x > xattrs/trusted
setfattr -n trusted.overlay.opaque -v y xattrs/trusted
setfattr -n security.test -v sec xattrs/trusted
ln -s user xattrs/symlink
setfattr -h -n trusted.onlink -v t xattrs/symlink
setfattr -n user.ondir -v d xattrs
echo x > xattrs/acl
setfacl -m u:1000:rw,g:5:r xattrs/acl
mkdir xattrs/defacl
setfacl -d -m u:1000:rwx xattrs/defacl
# one xattr on many inodes (shared xattr area)
for i in $(seq 1 8); do
	echo "$i" > "xattrs/shared$i"
	setfattr -n user.shared -v "the same value" "xattrs/shared$i"
done

# --- a directory with 2100 entries ---
mkdir bigdir
echo target > bigdir/target
python3 - <<'PY'
import os
for i in range(1, 1001):
    open("bigdir/empty-%d" % i, "w").close()
    os.link("bigdir/target", "bigdir/hard-%d" % i)
for i in range(1, 100):
    with open("bigdir/small-%d" % i, "w") as f:
        f.write("small %d\n" % i)
PY

# --- deep path and a 255-byte name ---
p=deep
for i in $(seq 1 40); do p=$p/d$i; done
mkdir -p "$p"
echo bottom > "$p/bottom"
name=$(printf 'n%.0s' $(seq 1 255))
echo long name > "deep/$name"

# --- times: nanoseconds everywhere, post-2038, exactly the build time ---
python3 - <<'PY'
import os
paths = []
for top, dirs, files in os.walk(".", topdown=False):
    paths += [os.path.join(top, n) for n in sorted(files) + sorted(dirs)]
for i, p in enumerate(paths, 1):
    ns = (1600000000 + i * 7919) * 10**9 + (i * 123456789) % 10**9
    os.utime(p, ns=(ns, ns), follow_symlinks=False)
PY
touch -d "@4102444800.5" files/r1 modes/m0444
touch -h -d "@$T" files/r100 files/empty links/rel modes/u1000
touch -d "@$T" xattrs
touch -d "@1234567890.000000001" .
