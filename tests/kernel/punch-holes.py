#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Turn all-zero chunks of chunk-based files into EROFS_NULL_ADDR holes.

    punch-holes.py IMAGE NID...

erofs-utils 1.5 (Debian 12) never writes chunk holes: it maps every all-zero
chunk to one shared zero block.  The kernel test for docs/kernel-facts.md §22 (a hole followed
by data in one readahead window reads back as zeros in 6.12's fscache mode)
needs real holes, so this rewrites the chunk table entries of the given
inodes (nids as printed by dump.erofs --path) in place and recomputes the
superblock checksum.  Only single-device images (data in the image itself)
are handled.  Prints the number of entries changed per nid.
"""
import struct
import sys

NULL_ADDR = 0xFFFFFFFF


def crc32c_raw(data, crc=0xFFFFFFFF):
    """Reflected CRC-32C without the final inversion (what erofs stores)."""
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: punch-holes.py IMAGE NID...")
    path = sys.argv[1]
    img = bytearray(open(path, "rb").read())
    if len(img) < 4096:
        sys.exit(f"{path}: too small for an EROFS image")
    sb = 1024
    magic, = struct.unpack_from("<I", img, sb)
    if magic != 0xE0F5E1E2:
        sys.exit(f"{path}: bad EROFS magic {magic:#x}")
    compat, = struct.unpack_from("<I", img, sb + 8)
    blkbits = img[sb + 12]
    if blkbits != 12:
        sys.exit(f"{path}: block size 2^{blkbits}, want 4096")
    extra_devices, = struct.unpack_from("<H", img, sb + 86)
    if extra_devices:
        sys.exit(f"{path}: has {extra_devices} extra devices; unsupported")
    meta, = struct.unpack_from("<I", img, sb + 40)
    bs = 1 << blkbits
    zero_chunk = None
    for arg in sys.argv[2:]:
        nid = int(arg)
        off = meta * bs + nid * 32
        if off + 64 > len(img):
            sys.exit(f"nid {nid}: beyond the image")
        fmt, xcount = struct.unpack_from("<HH", img, off)
        ext = fmt & 1
        layout = (fmt >> 1) & 7
        if layout != 4:
            sys.exit(f"nid {nid}: layout {layout} is not chunk-based")
        if ext:
            size, = struct.unpack_from("<Q", img, off + 8)
            isize = 64
        else:
            size, = struct.unpack_from("<I", img, off + 8)
            isize = 32
        cfmt, = struct.unpack_from("<H", img, off + 16)
        chunkbits = blkbits + (cfmt & 0x1F)
        indexes = bool(cfmt & 0x20)
        unit = 8 if indexes else 4
        xsize = 12 + 4 * (xcount - 1) if xcount else 0
        table = off + isize + xsize
        table = (table + unit - 1) // unit * unit
        nchunks = (size + (1 << chunkbits) - 1) >> chunkbits
        zero_chunk = bytes(1 << chunkbits)
        changed = 0
        for i in range(nchunks):
            ent = table + i * unit + (4 if indexes else 0)
            blk, = struct.unpack_from("<I", img, ent)
            if blk == NULL_ADDR:
                continue
            start = blk * bs
            length = min(1 << chunkbits, size - (i << chunkbits))
            length = (length + bs - 1) // bs * bs
            if start + length > len(img):
                sys.exit(f"nid {nid}: chunk {i} beyond the image")
            if img[start:start + length] == zero_chunk[:length]:
                struct.pack_into("<I", img, ent, NULL_ADDR)
                changed += 1
        print(f"nid {nid}: {changed} of {nchunks} chunks made holes")
    if compat & 1:
        struct.pack_into("<I", img, sb + 4, 0)
        struct.pack_into("<I", img, sb + 4, crc32c_raw(img[sb:bs]))
    with open(path, "wb") as f:
        f.write(img)


if __name__ == "__main__":
    main()
