#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Generate a deterministic source tree for mkfs.erofs integration tests.

The tree is described first as a list of entries (fully determined by the
seed and the options), then materialised on disk in the requested order:
"forward", "reverse" or "shuffle".  Trees generated with the same seed and
kind but different orders hold exactly the same names, contents and
metadata; only directory order on disk, inode numbers, xattr insertion
order and which hard-link name was created first differ.

Kinds:
  full   every entry type and attribute the builder must preserve
  dedup  repeated content, all-zero chunks, files sharing some chunks
  small  a handful of files (fast negative tests)

Must run as root (devices, ownership, trusted.* xattrs).
"""

import argparse
import hashlib
import os
import random
import socket
import stat
import sys

MIB = 1 << 20
KIB = 1 << 10

# POSIX ACL xattr encoding (linux/posix_acl_xattr.h)
ACL_USER_OBJ, ACL_USER, ACL_GROUP_OBJ, ACL_GROUP, ACL_MASK, ACL_OTHER = \
    0x01, 0x02, 0x04, 0x08, 0x10, 0x20


def acl_value(entries):
    """entries: list of (tag, perm, id); returns the xattr blob."""
    out = bytearray((2).to_bytes(4, 'little'))
    for tag, perm, qid in sorted(entries, key=lambda e: (e[0], e[2])):
        out += tag.to_bytes(2, 'little') + perm.to_bytes(2, 'little')
        out += (qid & 0xffffffff).to_bytes(4, 'little')
    return bytes(out)


def ext_acl(uid, perm):
    und = 0xffffffff
    return acl_value([(ACL_USER_OBJ, 6, und), (ACL_USER, perm, uid),
                      (ACL_GROUP_OBJ, 4, und), (ACL_MASK, 7, und),
                      (ACL_OTHER, 4, und)])


def vfs_cap_v2(permitted, inheritable=0):
    """security.capability, VFS_CAP_REVISION_2 with the effective bit."""
    magic = 0x02000000 | 0x000001
    b = magic.to_bytes(4, 'little')
    b += (permitted & 0xffffffff).to_bytes(4, 'little')
    b += (inheritable & 0xffffffff).to_bytes(4, 'little')
    b += (permitted >> 32).to_bytes(4, 'little')
    b += (inheritable >> 32).to_bytes(4, 'little')
    return b


class Tree:
    def __init__(self, seed):
        self.seed = seed
        self.rng = random.Random(seed)
        self.entries = []   # dicts, parents before children
        self.dirs = {'': None}

    def data(self, tag, n):
        """Deterministic pseudo-random bytes, independent of call order."""
        r = random.Random(hashlib.sha256(
            b'%d/%s' % (self.seed, os.fsencode(tag))).digest())
        return r.randbytes(n)

    def mtime(self):
        return self.rng.randrange(10**9, 1_700_000_000) * 10**9 + \
            self.rng.randrange(1, 10**9)

    def add(self, path, typ, **kw):
        parent = os.path.dirname(path)
        assert parent in self.dirs, path
        e = dict(path=path, type=typ, mode=kw.pop('mode', None),
                 uid=kw.pop('uid', 0), gid=kw.pop('gid', 0),
                 mtime=kw.pop('mtime', None) or self.mtime(),
                 xattrs=kw.pop('xattrs', []))
        e.update(kw)
        if e['mode'] is None:
            e['mode'] = {'dir': 0o755, 'file': 0o644, 'symlink': 0o777,
                         'chr': 0o600, 'blk': 0o660, 'fifo': 0o644,
                         'sock': 0o755, 'link': 0}[typ]
        if typ == 'dir':
            self.dirs[path] = e
        self.entries.append(e)
        return e


def build_full(t, big, bigdir_n, maxname=255):
    rng = t.rng
    t.add('f', 'dir', mode=0o755)
    # regular files of many sizes (tails of all kinds)
    t.add('f/empty', 'file', content=('zeros', 0))
    sizes = [1, 2, 3, 7, 100, 511, 512, 513, 1000, 1023, 1024, 1025, 2047,
             2048, 3000, 4000, 4095, 4096, 4097, 8191, 8192, 8193, 12288,
             16385, 65535, 65536, 65537, 100000, 300001, 1048576 + 17]
    for s in sizes:
        t.add('f/r%d' % s, 'file', content=('rand', s))
    t.add('f/zeros-40k', 'file', content=('zeros', 40960))
    t.add('f/zeros-tail', 'file', content=('zeros', 5000))
    # sparse: holes at start, middle and end
    t.add('f/sparse', 'file', content=('sparse', 10 * MIB + 123,
          [(3 * MIB, 5000), (7 * MIB + 4096, 8192), (10 * MIB, 100)]))
    t.add('f/sparse-tailhole', 'file', content=('sparse', 6 * MIB,
          [(MIB, 4096)]))
    if big:
        # >= 4 GiB, mostly holes: compact i_size cannot hold it
        t.add('f/big4g', 'file', content=('sparse', (4 << 30) + 4097,
              [(0, 4096), (2 << 30, 65536), ((4 << 30) - 100, 4197)]),
              mtime=t.mtime())
    # modes
    t.add('modes', 'dir', mode=0o1777)
    for m in (0o4755, 0o2755, 0o6711, 0o7777, 0o1644, 0o0000, 0o0400,
              0o0111, 0o2070):
        t.add('modes/m%04o' % m, 'file', mode=m, content=('rand', 10))
    t.add('modes/sgid-dir', 'dir', mode=0o2775)
    t.add('modes/sticky-dir', 'dir', mode=0o1755)
    t.add('modes/d0700', 'dir', mode=0o700)
    t.add('modes/d0000', 'dir', mode=0o000)
    # ownership
    t.add('own', 'dir')
    for uid, gid in ((0, 0), (1, 1), (1000, 100), (65534, 65534),
                     (65535, 65535), (65536, 7), (9, 65536),
                     (100000, 200000), (2**31, 2**31 + 1),
                     (4294967294, 4294967293)):
        t.add('own/u%d-g%d' % (uid, gid), 'file', uid=uid, gid=gid,
              content=('rand', 33))
    t.add('own/dir-hi', 'dir', uid=123456, gid=654321)
    t.add('own/dir-hi/sym', 'symlink', uid=70000, gid=70001,
          target='../u0-g0')
    # timestamps
    t.add('time', 'dir')
    for i, ns in enumerate((0, 1, 999999999, 10**9, 1234567890 * 10**9 +
                            987654321, 2**32 * 10**9 + 5, 2**33 * 10**9 +
                            123456789)):
        t.add('time/t%d' % i, 'file', mtime=ns or None, content=('rand', 5))
    # names
    t.add('names', 'dir')
    t.add('names/' + 'n' * maxname, 'file', content=('rand', 17))
    t.add('names/' + 'd' * maxname, 'dir')
    t.add('names/' + 'd' * maxname + '/' + 'x' * (maxname - 1) + 'y', 'file',
          content=('rand', 3))
    for nm in ('-dash', '.hidden', '..dots', 'A', 'a', 'a.b', 'a-b', 'a b',
               'Zcap', '~tilde', 'caf\u00e9', '\u65e5\u672c', 'x' * 100,
               'newline\nname', 'tab\tname', '#hash', '@at', '=eq', ':c'):
        t.add('names/' + nm, 'file', content=('rand', len(nm)))
    t.add(os.fsdecode(b'names/bad-utf8-\xff\xfe'), 'file', content=('rand', 9))
    t.add(os.fsdecode(b'names/\x01ctl'), 'file', content=('rand', 9))
    # deep path (stays below PATH_MAX including a mount-point prefix)
    p = 'deep'
    t.add(p, 'dir')
    for i in range(40):
        p += '/' + ('lvl%02d-' % i) + 'q' * 80
        t.add(p, 'dir')
    t.add(p + '/leaf', 'file', content=('rand', 77))
    # directories
    t.add('dirs', 'dir')
    t.add('dirs/empty', 'dir')
    t.add('dirs/empty-sticky', 'dir', mode=0o1777)
    t.add('dirs/big', 'dir')
    for i in range(bigdir_n):
        nm = 'entry-%06d-%s' % (i, 'z' * (i % 37))
        t.add('dirs/big/' + nm, 'file', mode=0o600 | (i % 8) << 3,
              content=('rand', i % 13))
    for i in range(30):
        t.add('dirs/big/sub%02d' % i, 'dir')
    # symlinks
    t.add('sym', 'dir')
    t.add('sym/short', 'symlink', target='x')
    t.add('sym/rel', 'symlink', target='../f/r100')
    t.add('sym/abs', 'symlink', target='/etc/passwd')
    t.add('sym/dangling', 'symlink', target='does/not/exist')
    t.add('sym/dir', 'symlink', target='../dirs')
    for n in (60, 61, 1000, 2000, 3000, 4000, 4094, 4095):
        t.add('sym/len%d' % n, 'symlink',
              target=('t/' * n)[:n - 1] + 'Z')
    t.add('sym/weird', 'symlink', target='a b\t\u00e9/..//./x')
    # special files
    t.add('dev', 'dir')
    for maj, mnr in ((1, 3), (0, 0), (4, 64), (259, 300000), (4095, 1048575),
                     (254, 255), (8, 256)):
        t.add('dev/c%d_%d' % (maj, mnr), 'chr', rdev=(maj, mnr),
              uid=maj, gid=mnr & 0xffff)
        t.add('dev/b%d_%d' % (maj, mnr), 'blk', rdev=(maj, mnr))
    t.add('dev/fifo', 'fifo', mode=0o620)
    t.add('dev/fifo-sgid', 'fifo', mode=0o2666)
    t.add('dev/sock', 'sock')
    t.add('dev/sock2', 'sock', mode=0o700, uid=70000)
    # hard links
    t.add('hl', 'dir')
    t.add('hl/a', 'file', content=('rand', 6000), mode=0o4750, uid=5, gid=6)
    t.add('hl/b', 'link', target='hl/a')
    t.add('f/hl-a-too', 'link', target='hl/a')
    t.add('dirs/empty-sticky/hl-a-3', 'link', target='hl/a')
    t.add('hl/small', 'file', content=('rand', 3))
    t.add('hl/small2', 'link', target='hl/small')
    t.add('hl/empty', 'file', content=('zeros', 0))
    t.add('hl/empty2', 'link', target='hl/empty')
    t.add('hl/fifo', 'fifo')
    t.add('hl/fifo2', 'link', target='hl/fifo')
    t.add('hl/chr', 'chr', rdev=(10, 20))
    t.add('hl/chr2', 'link', target='hl/chr')
    t.add('hl/sym', 'symlink', target='a')
    t.add('hl/sym2', 'link', target='hl/sym')
    t.add('hl/hi', 'file', content=('rand', 4096 * 3), uid=100000)
    t.add('hl/hi2', 'link', target='hl/hi')
    # xattrs
    t.add('xa', 'dir', xattrs=[('user.dirattr', b'dir value'),
                               ('trusted.overlay.opaque', b'y')])
    cap = vfs_cap_v2((1 << 10) | (1 << 12) | (1 << 21) | (1 << 38))
    t.add('xa/cap', 'file', content=('rand', 200),
          xattrs=[('security.capability', cap)])
    t.add('xa/all', 'file', content=('rand', 1500), xattrs=[
        ('user.a', b'1'), ('user.empty', b''),
        ('user.' + 'L' * 250, b'long name'),
        ('user.big', t.data('xa-big', 3000)),
        ('trusted.t1', b'trusted value'),
        ('trusted.overlay.origin', t.data('origin', 29)),
        ('security.foo', b'bar\0baz'),
        ('security.selinux', b'system_u:object_r:etc_t:s0\0'),
        ('system.posix_acl_access', ext_acl(1234, 7))])
    t.add('xa/acl-dir', 'dir', mode=0o750, xattrs=[
        ('system.posix_acl_access', ext_acl(4321, 5)),
        ('system.posix_acl_default', ext_acl(2222, 6))])
    t.add('xa/acl-dir/inherits', 'file', content=('rand', 10), xattrs=[
        ('system.posix_acl_access', ext_acl(2222, 6))])
    t.add('xa/many', 'file', content=('zeros', 0), xattrs=[
        ('user.k%03d' % i, t.data('many%d' % i, i % 50)) for i in range(60)])
    t.add('xa/symlink', 'symlink', target='cap',
          xattrs=[('trusted.sym', b'on a symlink'),
                  ('security.s', b'sec')])
    t.add('xa/fifo', 'fifo', xattrs=[('trusted.f', b'fifo xattr')])
    t.add('xa/dev', 'chr', rdev=(1, 7), xattrs=[('trusted.d', b'dev')])
    # shared: the same (name, value) on several inodes
    for i in range(6):
        t.add('xa/sh%d' % i, 'file', content=('rand', 100 + i), xattrs=[
            ('user.shared', b'common value'),
            ('trusted.overlay.opaque', b'y'),
            ('security.capability', cap),
            ('user.own%d' % i, b'private'),
            ('user.shared2', b'v%d' % (i % 2))])
    t.add('xa/tail-and-xattrs', 'file', content=('rand', 3500),
          xattrs=[('user.pad', t.data('pad', 400))])
    t.add('xa/hl', 'file', content=('rand', 10),
          xattrs=[('user.onhardlink', b'1')])
    t.add('xa/hl2', 'link', target='xa/hl')
    # files whose inode needs extension only because of one field
    t.add('ext', 'dir')
    t.add('ext/bigsize-sparse', 'file',
          content=('sparse', 5 * MIB, [(4 * MIB, 10)]))


def build_dedup(t, big):
    rng = t.rng
    A = t.data('A', MIB)
    B = t.data('B', MIB)
    C = t.data('C', MIB)
    t.add('d', 'dir')
    # identical files
    for i in range(4):
        t.add('d/copy%d' % i, 'file', content=('bytes', A + B[:12345]))
    # sharing some chunks: A|B, A|C, C|B (1 MiB aligned pieces)
    t.add('d/ab', 'file', content=('bytes', A + B))
    t.add('d/ac', 'file', content=('bytes', A + C))
    t.add('d/cb', 'file', content=('bytes', C + B + b'tail'))
    # all-zero chunks, inside files and whole files
    t.add('d/zero-2m', 'file', content=('zeros', 2 * MIB))
    t.add('d/zero-odd', 'file', content=('zeros', 3 * MIB + 777))
    t.add('d/a-zero-b', 'file', content=('bytes', A + bytes(MIB) + B))
    t.add('d/sparse', 'file', content=('sparse', 8 * MIB,
          [(2 * MIB, MIB), (5 * MIB, 4096)]))
    # same partial tail in several files
    for i in range(3):
        t.add('d/tail%d' % i, 'file', content=('bytes', t.data('tail', 5000)))
    # small repeated 4 KiB pattern: dedups inside one file at 4 KiB chunks
    t.add('d/pattern', 'file', content=('bytes', t.data('pat', 4096) * 64))
    t.add('d/uniq', 'file', content=('rand', 777777))
    t.add('d/empty', 'file', content=('zeros', 0))
    t.add('d/sub', 'dir')
    t.add('d/sub/copy', 'file', content=('bytes', A + B[:12345]))
    t.add('d/sub/link', 'link', target='d/ab')
    if big:
        t.add('d/big4g', 'file', content=('sparse', (4 << 30) + 8192,
              [(0, MIB), (3 << 30, 4096), ((4 << 30), 8192)]))
        t.add('d/big4g-copy-data', 'file', content=('bytes', A))


def build_small(t):
    t.add('s', 'dir')
    t.add('s/a', 'file', content=('rand', 5000))
    t.add('s/b', 'file', content=('rand', 10), xattrs=[('user.x', b'1')])
    t.add('s/l', 'symlink', target='a')
    t.add('s/e', 'dir')


def write_content(path, e, t):
    kind = e['content'][0]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        if kind == 'zeros':
            n = e['content'][1]
            blk = bytes(MIB)
            off = 0
            while off < n:
                off += os.write(fd, blk[:min(MIB, n - off)])
        elif kind == 'rand':
            os.write(fd, t.data(e['path'], e['content'][1]))
        elif kind == 'bytes':
            buf = e['content'][1]
            off = 0
            while off < len(buf):
                off += os.write(fd, buf[off:off + 8 * MIB])
        elif kind == 'sparse':
            _, size, segs = e['content']
            for off, n in segs:
                os.pwrite(fd, t.data('%s@%d' % (e['path'], off), n), off)
            os.ftruncate(fd, size)
        else:
            raise ValueError(kind)
    finally:
        os.close(fd)


def make_socket(path):
    d, b = os.path.split(path)
    cwd = os.open('.', os.O_RDONLY)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.chdir(d)
        s.bind(b)
    finally:
        s.close()
        os.fchdir(cwd)
        os.close(cwd)


def materialise(t, root, order):
    os.makedirs(root, exist_ok=True)
    ents = list(t.entries)
    swap = {}
    if order == 'reverse':
        # parents must exist first: directories forward, the rest reversed
        ents = [e for e in ents if e['type'] == 'dir'] + \
            [e for e in reversed(ents) if e['type'] != 'dir']
    elif order == 'shuffle':
        r = random.Random(t.seed * 7919 + 1)
        dirs = [e for e in ents if e['type'] == 'dir']
        rest = [e for e in ents if e['type'] != 'dir']
        r.shuffle(rest)
        # hard links need their target: move each link after its target
        ents = dirs + [e for e in rest if e['type'] != 'link'] + \
            [e for e in rest if e['type'] == 'link']
        # half the time create the link name first and the "original" last
        swap = {}
        for e in rest:
            if e['type'] == 'link' and r.random() < 0.5:
                swap[e['path']] = e['target']
    if order == 'reverse':
        rest_links = [e for e in ents if e['type'] == 'link']
        ents = [e for e in ents if e['type'] != 'link'] + rest_links

    byp = {e['path']: e for e in t.entries}
    created = set()
    for e in ents:
        p = os.path.join(root, e['path'])
        typ = e['type']
        if typ == 'dir':
            os.mkdir(p, 0o700)
        elif typ == 'file':
            write_content(p, e, t)
        elif typ == 'symlink':
            os.symlink(e['target'], p)
        elif typ in ('chr', 'blk'):
            fmt = stat.S_IFCHR if typ == 'chr' else stat.S_IFBLK
            os.mknod(p, fmt | 0o600, os.makedev(*e['rdev']))
        elif typ == 'fifo':
            os.mkfifo(p, 0o600)
        elif typ == 'sock':
            make_socket(p)
        elif typ == 'link':
            tgt = os.path.join(root, e['target'])
            if e['path'] in swap:
                # recreate the target through the link name: same inode,
                # but the other name was created first
                os.link(tgt, p, follow_symlinks=False)
                tmp = tgt + '.swap'
                os.rename(tgt, tmp)
                os.link(tmp, tgt, follow_symlinks=False)
                os.unlink(tmp)
            else:
                os.link(tgt, p, follow_symlinks=False)
            continue
        created.add(e['path'])
        xa = list(e['xattrs'])
        if order == 'reverse':
            xa.reverse()
        elif order == 'shuffle':
            random.Random(os.fsencode(e['path'])).shuffle(xa)
        # chown first: it drops security.capability and setuid bits
        os.chown(p, e['uid'], e['gid'], follow_symlinks=False)
        if typ != 'symlink':
            os.chmod(p, e['mode'])
        for name, val in xa:
            os.setxattr(p, name, val, follow_symlinks=False)
        if typ == 'file' or typ not in ('dir',):
            os.utime(p, ns=(e['mtime'], e['mtime']), follow_symlinks=False)
    # fix up modes/ownership that chown may have altered (suid bits are
    # cleared by chown) and directory times, children first
    for e in t.entries:
        if e['type'] in ('link', 'symlink'):
            continue
        os.chmod(os.path.join(root, e['path']), e['mode'])
    for e in reversed(t.entries):
        if e['type'] == 'link':
            continue
        p = os.path.join(root, e['path'])
        if e['type'] != 'dir':
            os.utime(p, ns=(e['mtime'], e['mtime']), follow_symlinks=False)
    for e in sorted((e for e in t.entries if e['type'] == 'dir'),
                    key=lambda e: -e['path'].count('/')):
        p = os.path.join(root, e['path'])
        os.utime(p, ns=(e['mtime'], e['mtime']))
    os.chmod(root, 0o755)
    os.chown(root, 0, 0)
    os.utime(root, ns=(t.root_mtime, t.root_mtime))


def generate(root, seed=1, kind='full', order='forward', big=False,
             bigdir=10050, maxname=255):
    t = Tree(seed)
    t.root_mtime = t.mtime()
    if kind == 'full':
        build_full(t, big, bigdir, maxname)
    elif kind == 'dedup':
        build_dedup(t, big)
    elif kind == 'small':
        build_small(t)
    else:
        raise ValueError(kind)
    materialise(t, root, order)
    return t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('dest')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--kind', default='full',
                    choices=('full', 'dedup', 'small'))
    ap.add_argument('--order', default='forward',
                    choices=('forward', 'reverse', 'shuffle'))
    ap.add_argument('--big', action='store_true',
                    help='add a sparse file larger than 4 GiB')
    ap.add_argument('--bigdir', type=int, default=10050,
                    help='entries in the big directory (full kind)')
    ap.add_argument('--max-name', type=int, default=255,
                    help='longest file name (erofs-utils 1.5 needs 254)')
    a = ap.parse_args()
    if os.path.lexists(a.dest) and os.listdir(a.dest):
        sys.exit('gentree: %s: exists and is not empty' % a.dest)
    generate(a.dest, a.seed, a.kind, a.order, a.big, a.bigdir,
             a.max_name)


if __name__ == '__main__':
    main()
