#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Directory entry order from a directory source (the archive path is
# checked by mkfs-tar.sh).  The kernel looks names up by binary search over
# each directory block and across blocks (docs/kernel-facts.md), so every
# block must be sorted by the bytes of the names, shorter prefix first, and
# blocks must follow each other in that order.  The entries are created in
# a shuffled order with names that sort differently as bytes, as signed
# chars and by locale; the dirents are read back from the image with the
# independent reader in tests/lib/erofsimg.py, not through the kernel.
#
# Output: one `ok - NAME` / `not ok - NAME: reason` line per check.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/tap.sh"
MKFS=$BUILD/mkfs/mkfs.erofs
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dirorder.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

if [ ! -x "$MKFS" ]; then
	nok "mkfs.erofs exists" "$MKFS not found (set BUILD)"
	exit 1
fi

python3 - "$WORK/src" <<'PY'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(7)
names = [b'a', b'a.b', b'a-b', b'aa', b'B', b'b', b'\xff', b'\xc3\xa9t\xc3\xa9',
         b'\x7f', b'a\xff', b'Z', b'_', b'0', b'00', b'.hidden', b'..x']
# a big directory (many blocks) and a small one (inline or one block)
big = names + [b'f%04d-%s' % (i, b'x' * (i % 23)) for i in range(400)]
for d, entries in ((b'big', big), (b'small', names)):
    p = os.path.join(root.encode(), d)
    os.makedirs(p)
    order = list(entries)
    rnd.shuffle(order)
    for n in order:
        if rnd.random() < 0.2:
            os.mkdir(os.path.join(p, n))
        else:
            with open(os.path.join(p, n), 'wb') as f:
                f.write(n)
PY

for bs in 4096 512; do
	for inl in "" "-Enoinline_data"; do
		img=$WORK/i-$bs$inl.img
		rm -f "$img"
		if ! "$MKFS" --quiet -b$bs $inl "$img" "$WORK/src" \
			>"$WORK/log" 2>&1; then
			nok "build -b$bs $inl" "$(tr '\n' ' ' <"$WORK/log")"
			continue
		fi
		out=$(python3 - "$img" "$WORK/src" "$HERE/../lib" <<'PY'
import os, sys
sys.path.insert(0, sys.argv[3])
import erofsimg
img = erofsimg.Image(sys.argv[1])
bs = img.blksz

def data(ino):
    """the directory's bytes: full blocks at i_u, the tail inline or not"""
    size, layout = ino['size'], ino['layout']
    out = b''
    nblk = size // bs if layout == 2 else -(-size // bs)
    for i in range(nblk):
        out += img.read((ino['i_u'] + i) * bs, bs)
    if layout == 2 and size % bs:
        out += img.read(ino['body_end'], size % bs)
    return out[:size]

def dirents(nid):
    ino = img.inode(nid)
    raw = data(ino)
    blocks = []
    for off in range(0, len(raw), bs):
        b = raw[off:off + bs]
        n = erofsimg.u16(b, 8) // 12
        offs = [erofsimg.u16(b, 12 * i + 8) for i in range(n)]
        names = []
        for i in range(n):
            end = offs[i + 1] if i + 1 < n else len(b)
            nm = b[offs[i]:end]
            if i + 1 == n:
                nm = nm.rstrip(b'\0')
            names.append((nm, erofsimg.u64(b, 12 * i)))
        blocks.append(names)
    return blocks

problems = []
root = dict((n, nid) for blk in dirents(img.root_nid) for n, nid in blk)
for d in (b'big', b'small'):
    blocks = dirents(root[d])
    flat = [n for blk in blocks for n, _ in blk]
    for k, blk in enumerate(blocks):
        ns = [n for n, _ in blk]
        if ns != sorted(ns):
            problems.append('%s block %d not sorted' % (d.decode(), k))
        if k and blocks[k - 1][-1][0] >= ns[0]:
            problems.append('%s block %d starts before block %d ends' %
                            (d.decode(), k, k - 1))
    want = sorted([b'.', b'..'] + os.listdir(os.path.join(sys.argv[2].encode(), d)))
    if flat != want:
        problems.append('%s: names %r, want %r' % (d.decode(), flat[:6], want[:6]))
    print('%s:%d' % (d.decode(), len(blocks)))
print('PROBLEMS' if problems else 'OK', '; '.join(problems))
PY
)
		case $out in
		*OK*) ok "directory entries sorted by bytes, within and across blocks (-b$bs $inl; blocks: $(echo $out | cut -d' ' -f1-2))" ;;
		*) nok "directory entries sorted (-b$bs $inl)" "$(echo $out)" ;;
		esac
	done
done
[ "$fails" -eq 0 ]
