#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""On-disk checks of an EROFS image against its mounted tree (TAP lines).

  erofs_check.py selftest
  erofs_check.py layout IMAGE MOUNTED --name NAME [options]
  erofs_check.py csum IMAGE            (exit 0 if the sb checksum is right)
  erofs_check.py flip IMAGE OFFSET     (xor the byte at OFFSET with 0xff)

`layout` assumes the mounted tree was already proven equal to the source
(treecmp.py) and checks the builder's on-disk decisions: superblock
fields and checksum, compact vs extended inodes, inline tails, shared
xattrs (-x N), the xattr name bloom filter, chunk tables, dedup of chunk
data, blob size, device slot, and (--manifest) the JSON manifest.  Prints `ok - NAME: check` / `not ok - ...`
lines followed by `# ` details; exit 1 if any check failed.
"""

import argparse
import ctypes
import ctypes.util
import errno
import hashlib
import json
import os
import random
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import erofsimg as E  # noqa: E402


class Tap:
    def __init__(self, name):
        self.name = name
        self.failed = 0

    def check(self, what, problems, skip=None):
        if skip:
            print('ok - %s: %s # SKIP %s' % (self.name, what, skip))
            return
        if problems:
            self.failed += 1
            print('not ok - %s: %s: %s' % (self.name, what, problems[0]))
            for p in problems[1:25]:
                print('#   %s' % p)
            if len(problems) > 25:
                print('#   ... %d more' % (len(problems) - 25))
        else:
            print('ok - %s: %s' % (self.name, what))


def walk(root):
    out = {'': os.lstat(root)}
    stack = ['']
    while stack:
        d = stack.pop()
        with os.scandir(os.path.join(root, d) if d else root) as it:
            for de in it:
                rel = os.path.join(d, de.name) if d else de.name
                st = os.lstat(os.path.join(root, rel))
                out[rel] = st
                if stat.S_ISDIR(st.st_mode):
                    stack.append(rel)
    return out


def show(rel):
    return '/' + os.fsencode(rel).decode('utf-8', 'backslashreplace')


def mounted_xattrs(p):
    out = {}
    for n in os.listxattr(p, follow_symlinks=False):
        out[os.fsencode(n)] = os.getxattr(p, n, follow_symlinks=False)
    return out


def cmd_layout(a):
    t = Tap(a.name)
    img = E.Image(a.image)
    bs = img.blksz
    tree = walk(a.mounted)
    inodes = {}                    # nid -> (rel, stat)
    for rel, st in sorted(tree.items()):
        inodes.setdefault(st.st_ino, (rel, st))

    # ---- superblock
    p = []
    if not img.compat & E.COMPAT_SB_CHKSUM:
        p.append('feature_compat %#x lacks SB_CHKSUM' % img.compat)
    elif img.computed_checksum() != img.checksum:
        p.append('stored checksum %#010x, computed %#010x' %
                 (img.checksum, img.computed_checksum()))
    t.check('superblock checksum', p)

    p = []
    if img.incompat & ~0x7f:
        p.append('incompat %#x has bits unknown to 6.12' % img.incompat)
    if img.incompat & 0x33:
        p.append('incompat %#x has compression bits' % img.incompat)
    if img.dirblkbits:
        p.append('dirblkbits %d' % img.dirblkbits)
    if b'\0' not in img.volume_name:
        p.append('volume_name without NUL')
    if img.blksz != a.blksz:
        p.append('block size %d, expected %d' % (img.blksz, a.blksz))
    if img.root_nid != tree[''].st_ino:
        p.append('root_nid %d but root st_ino %d' %
                 (img.root_nid, tree[''].st_ino))
    if img.inos != len(inodes):
        p.append('inos %d, mounted tree has %d inodes' %
                 (img.inos, len(inodes)))
    if a.build_time is not None and (img.build_time, img.build_time_nsec) \
            != (a.build_time, 0):
        p.append('build_time %d.%09d, expected %d' %
                 (img.build_time, img.build_time_nsec, a.build_time))
    if a.uuid is not None:
        exp = bytes.fromhex(a.uuid.replace('-', '')) if a.uuid != 'clear' \
            else bytes(16)
        if img.uuid != exp:
            p.append('uuid %s, expected %s' % (img.uuid.hex(), exp.hex()))
    if a.label is not None:
        got = img.volume_name.split(b'\0')[0]
        if got != a.label.encode():
            p.append('volume_name %r, expected %r' % (got, a.label))
    want_chunked = a.chunksize is not None
    if want_chunked != bool(img.incompat & E.INCOMPAT_CHUNKED_FILE):
        p.append('CHUNKED_FILE bit %s with chunksize %s' %
                 (bool(img.incompat & E.INCOMPAT_CHUNKED_FILE), a.chunksize))
    if bool(a.blob) != bool(img.incompat & E.INCOMPAT_DEVICE_TABLE):
        p.append('DEVICE_TABLE bit %s with blob %s' %
                 (bool(img.incompat & E.INCOMPAT_DEVICE_TABLE), a.blob))
    if a.blob and img.extra_devices != 1:
        p.append('extra_devices %d, expected 1' % img.extra_devices)
    t.check('superblock fields', p)

    # ---- device slot
    if a.blob:
        p = []
        bsize = os.path.getsize(a.blob)
        h = hashlib.sha256()
        with open(a.blob, 'rb') as f:
            while True:
                b = f.read(8 << 20)
                if not b:
                    break
                h.update(b)
        if img.devices:
            d = img.devices[0]
            if d['tag'] != h.hexdigest().encode():
                p.append('slot tag %r, sha256 of blob %s' %
                         (d['tag'], h.hexdigest()))
            if d['rawtag'][64:] or (len(d['tag']) < 64 and
                                    any(d['rawtag'][len(d['tag']):])):
                p.append('tag not NUL padded')
            if bsize % bs:
                p.append('blob size %d is not a multiple of %d' % (bsize, bs))
            if d['blocks'] != bsize // bs:
                p.append('slot blocks %d, blob has %d blocks' %
                         (d['blocks'], bsize // bs))
        t.check('device slot', p, skip=a.skip_tag and 'erofs-utils 1.5 '
                'leaves the tag empty')

    # ---- inodes: reader cross-check, compact vs extended
    p_fmt, p_fields, p_inline, p_layout = [], [], [], []
    parsed = {}
    for nid, (rel, st) in sorted(inodes.items()):
        try:
            ino = img.inode(nid)
        except E.ImageError as e:
            p_fields.append('%s: %s' % (show(rel), e))
            continue
        parsed[nid] = ino
        for fld, exp in (('mode', st.st_mode), ('uid', st.st_uid),
                         ('gid', st.st_gid), ('nlink', st.st_nlink)):
            if ino[fld] != exp:
                p_fields.append('%s nid %d: on-disk %s %r, stat %r' %
                                (show(rel), nid, fld, ino[fld], exp))
        if (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)) and \
                ino['size'] != st.st_size:
            p_fields.append('%s: on-disk size %d, stat %d' %
                            (show(rel), ino['size'], st.st_size))
        bt = img.build_time * 10**9 + img.build_time_nsec
        need = []
        if st.st_mtime_ns != bt:
            need.append('mtime')
        if st.st_uid > 0xffff or st.st_gid > 0xffff:
            need.append('id')
        if st.st_nlink > 0xffff:
            need.append('nlink')
        if ino['size'] >= 1 << 32:
            need.append('size')
        if bool(need) != bool(ino['extended']):
            p_fmt.append('%s nid %d: %s, expected %s (%s)' % (
                show(rel), nid,
                'extended' if ino['extended'] else 'compact',
                'extended' if need else 'compact',
                ','.join(need) or 'mtime == build time, ids and size fit'))
        lay = ino['layout']
        typ = stat.S_IFMT(st.st_mode)
        if lay not in (E.FLAT_PLAIN, E.FLAT_INLINE, E.CHUNK_BASED):
            p_layout.append('%s: datalayout %d' % (show(rel), lay))
        if lay == E.CHUNK_BASED and typ != stat.S_IFREG:
            p_layout.append('%s: chunk-based non-regular' % show(rel))
        if a.chunksize and typ == stat.S_IFREG and st.st_size and \
                lay != E.CHUNK_BASED:
            p_layout.append('%s: datalayout %d, expected chunk-based' %
                            (show(rel), lay))
        if not a.chunksize and lay == E.CHUNK_BASED:
            p_layout.append('%s: chunk-based without --chunksize' %
                            show(rel))
        # inline tails
        if typ in (stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK) and \
                lay != E.CHUNK_BASED:
            size = ino['size']
            tail = size % bs
            fits = tail and ino['isize'] + ino['xattr_isize'] + tail <= bs
            if lay == E.FLAT_INLINE:
                end = ino['body_end']
                if tail == 0 and size:
                    p_inline.append('%s: FLAT_INLINE with size %d, a '
                                    'multiple of the block size' %
                                    (show(rel), size))
                elif (end % bs) + tail > bs:
                    p_inline.append('%s: inline tail crosses a block' %
                                    show(rel))
            elif fits and not (typ == stat.S_IFREG and a.chunksize):
                p_inline.append('%s: %d-byte tail (inode %d + xattrs %d) '
                                'fits a block but datalayout is %d' %
                                (show(rel), tail, ino['isize'],
                                 ino['xattr_isize'], lay))
    t.check('on-disk inode fields match stat', p_fields)
    t.check('compact inodes where they suffice, extended where needed',
            p_fmt)
    t.check('data layouts', p_layout)
    t.check('small tails inline where they fit', p_inline,
            skip=a.skip_inline and a.skip_inline)

    # ---- xattrs: parser vs kernel, sharing, name filter
    p_x, p_share, p_filter = [], [], []
    occ = {}
    xmap = {}
    for nid, (rel, st) in inodes.items():
        mx = mounted_xattrs(os.path.join(a.mounted, rel))
        xmap[nid] = mx
        for kv in mx.items():
            occ[kv] = occ.get(kv, 0) + 1
    if a.no_xattrs:
        n = sum(1 for i in parsed.values() if i['xattr_icount'])
        if n:
            p_x.append('%d inodes carry an xattr body with -x -1' % n)
        if img.xattr_prefix_count:
            p_x.append('%d long prefixes with -x -1' %
                       img.xattr_prefix_count)
    for nid, ino in sorted(parsed.items()):
        rel = inodes[nid][0]
        try:
            xs = img.xattrs(ino)
        except E.ImageError as e:
            p_x.append('%s: %s' % (show(rel), e))
            continue
        mx = xmap[nid]
        if xs is None:
            if mx:
                p_x.append('%s: no xattr body but kernel lists %d' %
                           (show(rel), len(mx)))
            continue
        if ino['xattr_icount'] == 1:
            p_x.append('%s: i_xattr_icount 1' % show(rel))
        disk = {}
        for name, val, idx, suf in xs['shared'] + xs['inline']:
            if name in disk:
                p_x.append('%s: xattr %r stored twice' % (show(rel), name))
            disk[name] = val
        if disk != mx:
            p_x.append('%s: parsed xattrs %s != kernel %s' %
                       (show(rel), sorted(disk), sorted(mx)))
        if a.xattr_tolerance is not None and a.xattr_tolerance >= 0:
            for name, val, idx, suf in xs['shared']:
                if occ.get((name, val), 0) <= a.xattr_tolerance:
                    p_share.append('%s: %r shared but on %d inode(s)' %
                                   (show(rel), name, occ.get((name, val))))
            for name, val, idx, suf in xs['inline']:
                if occ.get((name, val), 0) > a.xattr_tolerance:
                    p_share.append('%s: %r inline but on %d inodes' %
                                   (show(rel), name, occ[(name, val)]))
        if a.filter:
            exp = 0
            for name in mx:
                idx, suf = E.split_xattr_name(name)
                exp |= 1 << E.filter_bit(idx, suf)
            exp = ~exp & 0xffffffff
            if xs['filter'] != exp:
                p_filter.append('%s: h_name_filter %#010x, expected %#010x'
                                % (show(rel), xs['filter'], exp))
        elif xs['filter'] and img.compat & E.COMPAT_XATTR_FILTER:
            pass
    if a.filter:
        if not img.compat & E.COMPAT_XATTR_FILTER:
            p_filter.insert(0, 'feature_compat %#x lacks XATTR_FILTER' %
                            img.compat)
        if img.xattr_filter_reserved:
            p_filter.insert(0, 'xattr_filter_reserved %d' %
                            img.xattr_filter_reserved)
        # absent names must report ENODATA, present ones must be readable
        r = random.Random(7)
        for nid, (rel, st) in sorted(inodes.items()):
            if not xmap[nid]:
                continue
            mp = os.path.join(a.mounted, rel)
            for k in range(24):
                ns = ('user.', 'trusted.', 'security.')[k % 3]
                name = ns + 'absent%d' % r.randrange(10**6)
                if os.fsencode(name) in xmap[nid]:
                    continue
                try:
                    os.getxattr(mp, name, follow_symlinks=False)
                    p_filter.append('%s: absent %s readable' %
                                    (show(rel), name))
                except OSError as e:
                    if e.errno != errno.ENODATA:
                        p_filter.append('%s: getxattr %s: %s' %
                                        (show(rel), name, e))
    elif img.compat & E.COMPAT_XATTR_FILTER:
        p_filter.append('XATTR_FILTER compat bit set without -E '
                        'xattr-name-filter')
    t.check('xattrs parsed from disk equal the kernel view', p_x)
    if a.xattr_tolerance is not None and not a.no_xattrs:
        t.check('xattrs on more than %d inodes shared, others inline' %
                a.xattr_tolerance, p_share)
    t.check('xattr name filter bits', p_filter)

    # ---- chunks and dedup
    stats = dict(chunks=0, unique=0, zero=0, regular_files=0, bytes_in=0)
    for nid, (rel, st) in inodes.items():
        if stat.S_ISREG(st.st_mode):
            stats['regular_files'] += 1
            stats['bytes_in'] += st.st_size
    if a.chunksize:
        p_c, p_d = [], []
        where = {}     # content hash -> set of addresses
        what = {}      # address -> set of content hashes
        zero_addrs = set()
        zero_len = 0
        nz_len = {}
        nz_plen = {}
        blob_size = os.path.getsize(a.blob) if a.blob else None
        zbuf = bytes(a.chunksize)
        for nid, (rel, st) in sorted(inodes.items()):
            if not stat.S_ISREG(st.st_mode) or not st.st_size:
                continue
            ino = parsed.get(nid)
            if ino is None or ino['layout'] != E.CHUNK_BASED:
                continue
            csize, indexes, tab = img.chunks(ino)
            stats['chunks'] += len(tab)
            if csize != a.chunksize:
                p_c.append('%s: chunk size %d, expected %d' %
                           (show(rel), csize, a.chunksize))
                continue
            if bool(a.blob) and not indexes:
                p_c.append('%s: block map instead of chunk indexes with '
                           'a blob device' % show(rel))
            src = os.path.join(a.source or a.mounted, rel)
            fd = os.open(src, os.O_RDONLY)
            try:
                for i, (dev, blk) in enumerate(tab):
                    off = i * csize
                    ln = min(csize, st.st_size - off)
                    plen = (ln + bs - 1) // bs * bs
                    try:
                        nxt = os.lseek(fd, off, os.SEEK_DATA)
                    except OSError:
                        nxt = st.st_size
                    if nxt >= off + ln:
                        data = None         # a hole of the source
                        iszero = True
                    else:
                        data = os.pread(fd, ln, off)
                        iszero = data == zbuf[:ln]
                    if blk == E.NULL_ADDR:
                        if not iszero:
                            p_c.append('%s: chunk %d is a hole but holds '
                                       'data' % (show(rel), i))
                        continue
                    if a.blob and dev != 1:
                        p_c.append('%s: chunk %d on device %d' %
                                   (show(rel), i, dev))
                    if not a.blob and dev != 0:
                        p_c.append('%s: chunk %d on device %d without a '
                                   'blob' % (show(rel), i, dev))
                    limit = blob_size if a.blob else img.size
                    if (blk * bs + plen) > limit:
                        p_c.append('%s: chunk %d at block %d +%d beyond '
                                   'device size %d' % (show(rel), i, blk,
                                                       plen, limit))
                    addr = (dev, blk)
                    if iszero:
                        stats['zero'] += 1
                        zero_addrs.add(addr)
                        zero_len = max(zero_len, plen)
                        continue
                    # a chunk is its exact bytes; chunks that only become
                    # equal after zero padding may but need not share
                    h = hashlib.sha256(data).digest()
                    ph = hashlib.sha256(data + bytes(plen - ln)).digest()
                    where.setdefault(h, set()).add(addr)
                    what.setdefault(addr, set()).add(ph)
                    nz_len[h] = plen
                    nz_plen[ph] = plen
            finally:
                os.close(fd)
        for h, addrs in where.items():
            if len(addrs) > 1:
                p_d.append('a %d-byte chunk is stored %d times, at blocks %s'
                           % (nz_len[h], len(addrs),
                              sorted(b for d, b in addrs)[:8]))
        for addr, hs in what.items():
            if len(hs) > 1:
                p_d.append('block %d holds %d different chunks' %
                           (addr[1], len(hs)))
        if len(zero_addrs) > 1:
            p_d.append('all-zero chunks stored at %d places: %s' %
                       (len(zero_addrs), sorted(zero_addrs)[:8]))
        stats['unique'] = len(nz_len)
        t.check('chunk tables', p_c)
        t.check('each distinct chunk stored once, zero chunks shared', p_d)
        if a.blob:
            z = zero_len if zero_addrs else 0
            exp = sum(nz_len.values()) + z
            low = sum(nz_plen.values()) + z
            p = []
            if not low <= blob_size <= exp:
                p.append('blob is %d bytes; %d distinct non-zero chunks '
                         '(%d bytes) + zero chunk (%d bytes) = %d' %
                         (blob_size, len(nz_len), sum(nz_len.values()),
                          z, exp))
            t.check('blob size == distinct chunks + one zero chunk', p)
            if a.expect_zero_chunk:
                t.check('zero chunks map to a shared zero block',
                        [] if zero_addrs else
                        ['no chunk maps to a stored zero block (holes?)'])
    if a.manifest:
        manifest_checks(t, a, img, stats)
    return 1 if t.failed else 0


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        while True:
            b = f.read(8 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def manifest_checks(t, a, img, stats):
    p = []
    try:
        with open(a.manifest) as f:
            m = json.load(f)
    except (OSError, ValueError) as e:
        t.check('manifest is valid JSON', [str(e)])
        return
    t.check('manifest is valid JSON', [])
    img = E.Image(a.image)

    def get(d, *keys):
        for k in keys:
            if not isinstance(d, dict) or k not in d:
                p.append('missing key %s' % '.'.join(keys))
                return None
            d = d[k]
        return d
    bsz = get(m, 'bootstrap', 'size')
    bsha = get(m, 'bootstrap', 'sha256')
    if bsz is not None and bsz != os.path.getsize(a.image):
        p.append('bootstrap.size %s, file has %d' %
                 (bsz, os.path.getsize(a.image)))
    if bsha is not None and bsha != sha256_file(a.image):
        p.append('bootstrap.sha256 %s != sha256 of image' % bsha)
    t.check('manifest bootstrap size and sha256', p)

    p = []
    blobs = m.get('blobs')
    if not isinstance(blobs, list):
        p.append('blobs is not a list')
        blobs = []
    if a.blob:
        if len(blobs) != 1:
            p.append('%d blobs listed, expected 1' % len(blobs))
        for b in blobs[:1]:
            sha = sha256_file(a.blob)
            if b.get('sha256') != sha:
                p.append('blob sha256 %s, file %s' % (b.get('sha256'), sha))
            if b.get('tag') != sha:
                p.append('blob tag %s, sha256 of file %s' %
                         (b.get('tag'), sha))
            if 'blocks' in b and b['blocks'] * img.blksz != \
                    os.path.getsize(a.blob):
                p.append('blob blocks %s, file has %d bytes' %
                         (b['blocks'], os.path.getsize(a.blob)))
            if b.get('size') != os.path.getsize(a.blob):
                p.append('blob size %s, file %d' %
                         (b.get('size'), os.path.getsize(a.blob)))
            bp = b.get('path')
            if not isinstance(bp, str) or not os.path.exists(
                    os.path.join(os.path.dirname(a.manifest), bp)) or \
                    not os.path.samefile(os.path.join(
                        os.path.dirname(a.manifest), bp), a.blob):
                p.append('blob path %r does not name the blob file' % bp)
            if img.devices and img.devices[0]['tag'].decode() != \
                    b.get('tag'):
                p.append('device slot tag %r != manifest tag %r' %
                         (img.devices[0]['tag'], b.get('tag')))
    elif blobs:
        p.append('%d blobs listed without --blobdev' % len(blobs))
    t.check('manifest blobs (tag == sha256, size, path)', p)

    p = []
    c = m.get('counts')
    if not isinstance(c, dict):
        p.append('counts missing')
        c = {}
    for k in ('inodes', 'chunks', 'bytes_in', 'bytes_stored',
              'bytes_deduplicated'):
        if not isinstance(c.get(k), int) or c.get(k) < 0:
            p.append('counts.%s = %r' % (k, c.get(k)))
    if not p:
        if c['inodes'] != img.inos:
            p.append('counts.inodes %d, superblock inos %d' %
                     (c['inodes'], img.inos))
        if c['bytes_in'] != stats['bytes_in']:
            p.append('counts.bytes_in %d, regular files hold %d bytes' %
                     (c['bytes_in'], stats['bytes_in']))
        if c.get('regular_files', stats['regular_files']) != \
                stats['regular_files']:
            p.append('counts.regular_files %s, image has %d' %
                     (c.get('regular_files'), stats['regular_files']))
        if c['chunks'] != stats['chunks']:
            p.append('counts.chunks %d, image has %d chunk entries' %
                     (c['chunks'], stats['chunks']))
        if a.chunksize and 'unique_chunks' in c and \
                c['unique_chunks'] != stats['unique']:
            p.append('counts.unique_chunks %s, image has %d distinct '
                     'non-zero chunks' % (c['unique_chunks'],
                                          stats['unique']))
        if a.chunksize and 'zero_chunks' in c and \
                c['zero_chunks'] != stats['zero']:
            p.append('counts.zero_chunks %s, image has %d all-zero chunk '
                     'entries (holes not counted)' % (c['zero_chunks'],
                                                      stats['zero']))
        if a.blob and c['bytes_stored'] > os.path.getsize(a.blob):
            p.append('counts.bytes_stored %d > blob size %d' %
                     (c['bytes_stored'], os.path.getsize(a.blob)))
        if c['bytes_deduplicated'] > c['bytes_in']:
            p.append('bytes_deduplicated %d exceed bytes_in %d' %
                     (c['bytes_deduplicated'], c['bytes_in']))
        for k, v in (('stored', c['bytes_stored']),
                     ('deduplicated', c['bytes_deduplicated'])):
            print('# %s: manifest bytes_%s %d (bytes_in %d)' %
                  (t.name, k, v, c['bytes_in']))
        if a.dedup and not c['bytes_deduplicated'] > 0:
            p.append('bytes_deduplicated %d on the dedup tree' %
                     c['bytes_deduplicated'])
    t.check('manifest counts', p)


def cmd_selftest(a):
    t = Tap('selftest')
    p = []
    if E.crc32c_raw(0xffffffff, b'123456789') ^ 0xffffffff != 0xE3069283:
        p.append('crc32c("123456789") wrong')
    t.check('crc32c test vector', p)
    p = []
    for data, seed, exp in ((b'', 0, 0x02CC5D05), (b'abc', 0, 0x32D153FF),
                            (b'Nobody inspects the spammish repetition', 0,
                             0xE2293B2F)):
        if E.xxh32(data, seed) != exp:
            p.append('xxh32(%r, %d) = %#x, expected %#x' %
                     (data, seed, E.xxh32(data, seed), exp))
    lib = ctypes.util.find_library('xxhash')
    if lib:
        x = ctypes.CDLL(lib)
        x.XXH32.restype = ctypes.c_uint32
        x.XXH32.argtypes = [ctypes.c_char_p, ctypes.c_size_t,
                            ctypes.c_uint32]
        r = random.Random(1)
        for i in range(300):
            d = r.randbytes(r.randrange(0, 80))
            s = r.randrange(1 << 32)
            if E.xxh32(d, s) != x.XXH32(d, len(d), s):
                p.append('xxh32 differs from libxxhash for %r seed %d' %
                         (d, s))
                break
    t.check('xxh32 test vectors%s' % (' and libxxhash cross-check'
                                      if lib else ''), p)
    return 1 if t.failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    s = sub.add_parser('layout')
    s.add_argument('image')
    s.add_argument('mounted')
    s.add_argument('--name', required=True)
    s.add_argument('--blksz', type=int, default=4096)
    s.add_argument('--blob')
    s.add_argument('--chunksize', type=int)
    s.add_argument('--build-time', type=int)
    s.add_argument('--uuid')
    s.add_argument('--label')
    s.add_argument('--xattr-tolerance', type=int)
    s.add_argument('--no-xattrs', action='store_true')
    s.add_argument('--filter', action='store_true')
    s.add_argument('--expect-zero-chunk', action='store_true')
    s.add_argument('--skip-tag', action='store_true')
    s.add_argument('--skip-inline')
    s.add_argument('--source', help='read chunk contents from the source '
                   '(holes found with SEEK_DATA are not read)')
    s.add_argument('--manifest')
    s.add_argument('--dedup', action='store_true',
                   help='manifest must report deduplicated bytes')
    s = sub.add_parser('selftest')
    s = sub.add_parser('csum')
    s.add_argument('image')
    s = sub.add_parser('flip')
    s.add_argument('image')
    s.add_argument('offset', type=int)
    a = ap.parse_args()
    if a.cmd == 'layout':
        try:
            return cmd_layout(a)
        except (OSError, E.ImageError, ValueError, KeyError) as e:
            print('not ok - %s: layout checks could not complete: %s' %
                  (a.name, e))
            return 1
    if a.cmd == 'selftest':
        return cmd_selftest(a)
    if a.cmd == 'csum':
        img = E.Image(a.image)
        ok = img.compat & 1 and img.computed_checksum() == img.checksum
        print('stored %#010x computed %#010x compat %#x' %
              (img.checksum, img.computed_checksum(), img.compat))
        return 0 if ok else 1
    if a.cmd == 'flip':
        with open(a.image, 'r+b') as f:
            f.seek(a.offset)
            b = f.read(1)
            f.seek(a.offset)
            f.write(bytes([b[0] ^ 0xff]))
        return 0
    return 2


if __name__ == '__main__':
    sys.exit(main())
