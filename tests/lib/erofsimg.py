# SPDX-License-Identifier: GPL-2.0-or-later
"""A small, independent reader of the uncompressed EROFS on-disk format as
Linux 6.12 reads it (superblock, device table, inodes, xattrs, chunk
indexes), plus CRC32C and XXH32 written from their definitions.  Used by
the integration tests to check layout decisions the kernel does not
report (compact vs extended inodes, inline tails, shared xattrs, name
filter bits, chunk dedup)."""

import os
import struct

SUPER_OFFSET = 1024
MAGIC = 0xE0F5E1E2
NULL_ADDR = 0xFFFFFFFF

COMPAT_SB_CHKSUM = 0x1
COMPAT_MTIME = 0x2
COMPAT_XATTR_FILTER = 0x4
INCOMPAT_CHUNKED_FILE = 0x4
INCOMPAT_DEVICE_TABLE = 0x8
INCOMPAT_XATTR_PREFIXES = 0x40

FLAT_PLAIN, COMPRESSED_FULL, FLAT_INLINE, COMPRESSED_COMPACT, CHUNK_BASED = \
    range(5)
CHUNK_FORMAT_INDEXES = 0x20

XATTR_PREFIX = {1: 'user.', 2: 'system.posix_acl_access',
                3: 'system.posix_acl_default', 4: 'trusted.', 6: 'security.'}
FILTER_SEED = 0x25BBE08F

# ---------------------------------------------------------------- CRC32C

_CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def crc32c_raw(crc, data):
    """Reflected CRC-32C update without pre/post inversion."""
    t = _CRC_TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xff] ^ (crc >> 8)
    return crc


# ---------------------------------------------------------------- XXH32

_P1, _P2, _P3, _P4, _P5 = 2654435761, 2246822519, 3266489917, 668265263, \
    374761393
_M = 0xffffffff


def _rotl(x, r):
    return ((x << r) | (x >> (32 - r))) & _M


def xxh32(data, seed=0):
    n = len(data)
    i = 0
    if n >= 16:
        v = [(seed + _P1 + _P2) & _M, (seed + _P2) & _M, seed & _M,
             (seed - _P1) & _M]
        while i + 16 <= n:
            for k in range(4):
                lane = int.from_bytes(data[i:i + 4], 'little')
                v[k] = (_rotl((v[k] + lane * _P2) & _M, 13) * _P1) & _M
                i += 4
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) +
             _rotl(v[3], 18)) & _M
    else:
        h = (seed + _P5) & _M
    h = (h + n) & _M
    while i + 4 <= n:
        h = (h + int.from_bytes(data[i:i + 4], 'little') * _P3) & _M
        h = (_rotl(h, 17) * _P4) & _M
        i += 4
    while i < n:
        h = (h + data[i] * _P5) & _M
        h = (_rotl(h, 11) * _P1) & _M
        i += 1
    h ^= h >> 15
    h = (h * _P2) & _M
    h ^= h >> 13
    h = (h * _P3) & _M
    h ^= h >> 16
    return h


def filter_bit(index, name_suffix):
    """Bloom bit of an xattr (short index 1..6, name after the prefix)."""
    return xxh32(name_suffix, FILTER_SEED + index) & 31


def split_xattr_name(full):
    """'user.foo' -> (1, b'foo'); ACL names -> (2|3, b'')."""
    b = os.fsencode(full)
    for idx in (2, 3):
        if b == XATTR_PREFIX[idx].encode():
            return idx, b''
    for idx in (1, 4, 6):
        p = XATTR_PREFIX[idx].encode()
        if b.startswith(p):
            return idx, b[len(p):]
    return None, b


# ---------------------------------------------------------------- image

class ImageError(Exception):
    pass


def u16(b, o):
    return struct.unpack_from('<H', b, o)[0]


def u32(b, o):
    return struct.unpack_from('<I', b, o)[0]


def u64(b, o):
    return struct.unpack_from('<Q', b, o)[0]


class Image:
    def __init__(self, path):
        self.path = path
        self.f = open(path, 'rb')
        self.size = os.fstat(self.f.fileno()).st_size
        sb = self.read(SUPER_OFFSET, 128)
        if u32(sb, 0) != MAGIC:
            raise ImageError('%s: bad magic %#x' % (path, u32(sb, 0)))
        self.sb = sb
        self.checksum = u32(sb, 4)
        self.compat = u32(sb, 8)
        self.blkszbits = sb[12]
        self.blksz = 1 << self.blkszbits
        self.extslots = sb[13]
        self.root_nid = u16(sb, 14)
        self.inos = u64(sb, 16)
        self.build_time = u64(sb, 24)
        self.build_time_nsec = u32(sb, 32)
        self.blocks = u32(sb, 36)
        self.meta_blkaddr = u32(sb, 40)
        self.xattr_blkaddr = u32(sb, 44)
        self.uuid = bytes(sb[48:64])
        self.volume_name = bytes(sb[64:80])
        self.incompat = u32(sb, 80)
        self.extra_devices = u16(sb, 86) if \
            self.incompat & INCOMPAT_DEVICE_TABLE else 0
        self.devt_slotoff = u16(sb, 88)
        self.dirblkbits = sb[90]
        self.xattr_prefix_count = sb[91]
        self.xattr_prefix_start = u32(sb, 92)
        self.packed_nid = u64(sb, 96)
        self.xattr_filter_reserved = sb[104]
        self.devices = []
        for i in range(self.extra_devices):
            d = self.read(self.devt_slotoff * 128 + 128 * i, 128)
            self.devices.append(dict(tag=bytes(d[:64]).split(b'\0')[0],
                                     rawtag=bytes(d[:64]),
                                     blocks=u32(d, 64),
                                     mapped_blkaddr=u32(d, 68)))
        self.prefixes = []
        pos = self.xattr_prefix_start * 4
        for i in range(self.xattr_prefix_count):
            ln = u16(self.read(pos, 2), 0)
            rec = self.read(pos + 2, ln)
            self.prefixes.append((rec[0], bytes(rec[1:])))
            pos = (pos + 2 + ln + 3) & ~3

    def read(self, off, n):
        if off < 0 or off + n > self.size:
            raise ImageError('%s: read [%d, +%d) beyond image size %d' %
                             (self.path, off, n, self.size))
        self.f.seek(off)
        return self.f.read(n)

    def csum_range(self):
        ln = self.blksz - SUPER_OFFSET if self.blksz > SUPER_OFFSET \
            else self.blksz
        return SUPER_OFFSET, ln

    def computed_checksum(self):
        off, ln = self.csum_range()
        data = bytearray(self.read(off, ln))
        data[4:8] = b'\0\0\0\0'
        return crc32c_raw(0xffffffff, data)

    def iloc(self, nid):
        return self.meta_blkaddr * self.blksz + nid * 32

    def inode(self, nid):
        pos = self.iloc(nid)
        raw = self.read(pos, 32)
        fmt = u16(raw, 0)
        ino = dict(nid=nid, pos=pos, format=fmt, extended=fmt & 1,
                   layout=(fmt >> 1) & 7, xattr_icount=u16(raw, 2),
                   mode=u16(raw, 4))
        if fmt & 1:
            raw = self.read(pos, 64)
            ino.update(isize=64, size=u64(raw, 8), i_u=u32(raw, 16),
                       uid=u32(raw, 24), gid=u32(raw, 28),
                       mtime=u64(raw, 32), mtime_nsec=u32(raw, 40),
                       nlink=u32(raw, 44))
        else:
            ino.update(isize=32, nlink=u16(raw, 6), size=u32(raw, 8),
                       i_u=u32(raw, 16), uid=u16(raw, 24),
                       gid=u16(raw, 26), mtime=self.build_time,
                       mtime_nsec=self.build_time_nsec)
        ic = ino['xattr_icount']
        ino['xattr_isize'] = 0 if ic == 0 else 12 + 4 * (ic - 1)
        ino['body_end'] = pos + ino['isize'] + ino['xattr_isize']
        return ino

    def xattr_entry(self, pos, limit=None):
        """Returns (full_name_bytes, value, short_index, suffix, next_pos)."""
        h = self.read(pos, 4)
        nlen, idx, vsz = h[0], h[1], u16(h, 2)
        body = self.read(pos + 4, nlen + vsz)
        name, val = body[:nlen], body[nlen:]
        end = pos + ((4 + nlen + vsz + 3) & ~3)
        if limit is not None and end > limit:
            raise ImageError('xattr entry at %d overruns ibody end %d' %
                             (pos, limit))
        if idx & 0x80:
            p = idx & 0x7f
            if p >= len(self.prefixes):
                raise ImageError('xattr entry at %d: prefix %d of %d' %
                                 (pos, p, len(self.prefixes)))
            base, infix = self.prefixes[p]
            suffix = infix + name
            idx = base
        else:
            suffix = name
        if idx not in XATTR_PREFIX:
            raise ImageError('xattr entry at %d: name index %d' % (pos, idx))
        pre = XATTR_PREFIX[idx].encode()
        return pre + suffix, val, idx, suffix, end

    def xattrs(self, ino):
        """Returns dict(filter, shared=[(name,val,idx,suffix)],
        inline=[...]) or None when the inode has no xattr body."""
        if not ino['xattr_isize']:
            return None
        base = ino['pos'] + ino['isize']
        hdr = self.read(base, 12)
        res = dict(filter=u32(hdr, 0), shared=[], inline=[],
                   shared_ids=[])
        cnt = hdr[4]
        pos = base + 12
        for i in range(cnt):
            sid = u32(self.read(pos, 4), 0)
            res['shared_ids'].append(sid)
            e = self.xattr_entry(self.xattr_blkaddr * self.blksz + 4 * sid)
            res['shared'].append(e[:4])
            pos += 4
        end = base + ino['xattr_isize']
        while pos < end:
            if self.read(pos, 4) == b'\0\0\0\0':
                pos += 4
                continue
            e = self.xattr_entry(pos, end)
            res['inline'].append(e[:4])
            pos = e[4]
        return res

    def chunks(self, ino):
        """Chunk table of a CHUNK_BASED inode: (chunksize, indexes,
        [(device_id, blkaddr)])."""
        fmt = ino['i_u'] & 0xffff
        if fmt & ~0x3f:
            raise ImageError('nid %d: chunk format %#x' % (ino['nid'], fmt))
        chunkbits = self.blkszbits + (fmt & 0x1f)
        csize = 1 << chunkbits
        unit = 8 if fmt & CHUNK_FORMAT_INDEXES else 4
        pos = (ino['body_end'] + unit - 1) & ~(unit - 1)
        n = (ino['size'] + csize - 1) >> chunkbits
        raw = self.read(pos, n * unit)
        out = []
        for i in range(n):
            if unit == 8:
                out.append((u16(raw, 8 * i + 2), u32(raw, 8 * i + 4)))
            else:
                out.append((0, u32(raw, 4 * i)))
        return csize, unit == 8, out
