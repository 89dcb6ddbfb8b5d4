#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Compare a mounted EROFS tree with its source, field by field.

  treecmp.py SOURCE MOUNTED [options]

Compared for every entry (the root included): presence, file type, mode
(with setuid/setgid/sticky), uid, gid, size (regular files, symlinks),
mtime with nanoseconds, rdev (devices), nlink (hard-link count inside the
image for non-directories, 2 + subdirectories for directories), hard-link
grouping, symlink target, every xattr (list and values, trusted.*,
security.*, system.posix_acl_*) and the full content of regular files.
Holes of the source (SEEK_DATA/SEEK_HOLE) are compared against zeros
without reading them, the mounted side is always read completely.

Options describe what the builder was asked to change:
  --mtime S           every entry has mtime S.000000000 (mkfs -T S)
  --clamp S           mtimes newer than S become S.0 (SOURCE_DATE_EPOCH)
  --uid N / --gid N   forced owner (--force-uid/--force-gid, --all-root)
  --no-xattrs         the image holds no xattrs at all (mkfs -x -1)
  --exclude-path P    P (relative to SOURCE) and its subtree are absent
  --exclude-regex RE  relative paths matching RE (re.search) are absent
Prints one line per difference; exit 1 if there is any.
"""

import argparse
import os
import re
import stat
import sys

CHUNK = 8 << 20


class Cmp:
    def __init__(self, a):
        self.a = a
        self.diffs = 0
        self.shown = 0
        self.maxshow = a.max_diffs
        self.excl_paths = set(p.strip('/') for p in a.exclude_path)
        self.excl_re = [re.compile(r) for r in a.exclude_regex]
        self.buf1 = bytearray(CHUNK)
        self.buf2 = bytearray(CHUNK)
        self.zeros = bytes(CHUNK)

    def diff(self, path, field, exp, got):
        self.diffs += 1
        if self.shown < self.maxshow:
            self.shown += 1
            print('DIFF /%s: %s: expected %s, got %s' %
                  (os.fsencode(path).decode('utf-8', 'backslashreplace'),
                   field, exp, got))

    def excluded(self, rel):
        if rel in self.excl_paths:
            return True
        return any(r.search(rel) for r in self.excl_re)

    def walk(self, root, apply_excl):
        """Returns {relpath: stat_result}, relpaths without leading '/'."""
        out = {'': os.lstat(root)}
        stack = ['']
        while stack:
            d = stack.pop()
            try:
                entries = list(os.scandir(os.path.join(root, d) if d
                                          else root))
            except OSError as e:
                self.diff(d, 'readdir', 'success', e)
                continue
            if True:
                for de in entries:
                    rel = os.path.join(d, de.name) if d else de.name
                    if apply_excl and self.excluded(rel):
                        continue
                    try:
                        st = os.lstat(os.path.join(root, rel))
                    except OSError as e:
                        self.diff(rel, 'lstat', 'success', e)
                        continue
                    out[rel] = st
                    if stat.S_ISDIR(st.st_mode):
                        stack.append(rel)
        return out

    def expected_mtime(self, ns):
        if self.a.mtime is not None:
            return self.a.mtime * 10**9
        if self.a.clamp is not None and ns > self.a.clamp * 10**9:
            return self.a.clamp * 10**9
        return ns

    def xattrs(self, p):
        names = os.listxattr(p, follow_symlinks=False)
        out = {}
        for n in names:
            try:
                out[n] = os.getxattr(p, n, follow_symlinks=False)
            except OSError as e:
                out[n] = 'getxattr error: %s' % e
        return out

    def content(self, rel, sp, mp, size):
        fs = os.open(sp, os.O_RDONLY)
        fm = os.open(mp, os.O_RDONLY)
        try:
            off = 0
            while off < size:
                n = min(CHUNK, size - off)
                try:
                    data = os.lseek(fs, off, os.SEEK_DATA)
                except OSError:
                    data = size
                mv2 = memoryview(self.buf2)[:n]
                got = os.preadv(fm, [mv2], off)
                if got != n:
                    self.diff(rel, 'content', '%d bytes at %d' % (n, off),
                              'short read of %d' % got)
                    return
                # bytes/bytearray equality is a memcmp; memoryview
                # equality is an element loop, far too slow for GiBs
                b2 = self.buf2 if n == CHUNK else bytes(mv2)
                if data >= off + n:
                    same = b2 == (self.zeros if n == CHUNK
                                  else self.zeros[:n])
                    exp = None
                else:
                    mv1 = memoryview(self.buf1)[:n]
                    got1 = os.preadv(fs, [mv1], off)
                    if got1 != n:
                        self.diff(rel, 'source read', n, got1)
                        return
                    same = (self.buf1 if n == CHUNK else bytes(mv1)) == b2
                    exp = mv1
                if not same:
                    ref = exp if exp is not None else memoryview(self.zeros)
                    i = next(i for i in range(n) if ref[i] != mv2[i])
                    self.diff(rel, 'content at offset %d' % (off + i),
                              '%#04x' % ref[i], '%#04x' % mv2[i])
                    return
                off += n
            # nothing past EOF
            extra = os.pread(fm, 1, size)
            if extra:
                self.diff(rel, 'content past EOF', 'nothing', extra)
        finally:
            os.close(fs)
            os.close(fm)

    def run(self, src, mnt):
        a = self.a
        s = self.walk(src, True)
        m = self.walk(mnt, False)
        for rel in sorted(set(s) - set(m)):
            self.diff(rel, 'presence', 'present', 'missing')
        for rel in sorted(set(m) - set(s)):
            self.diff(rel, 'presence', 'absent', 'present')
        common = sorted(set(s) & set(m))

        # hard-link groups and directory link counts inside the image
        sgroups = {}
        mgroups = {}
        subdirs = {}
        for rel in s:
            st = s[rel]
            if stat.S_ISDIR(st.st_mode):
                if rel:
                    par = os.path.dirname(rel)
                    subdirs[par] = subdirs.get(par, 0) + 1
            else:
                sgroups.setdefault((st.st_dev, st.st_ino), set()).add(rel)
        for rel in m:
            if not stat.S_ISDIR(m[rel].st_mode):
                mgroups.setdefault(m[rel].st_ino, set()).add(rel)
        for grp in sgroups.values():
            inos = {m[r].st_ino for r in grp if r in m}
            if len(inos) > 1:
                self.diff(sorted(grp)[0], 'hard-link group',
                          'one inode for %s' % sorted(grp),
                          '%d inodes' % len(inos))
            for ino in inos:
                if mgroups[ino] != grp:
                    self.diff(sorted(grp)[0], 'hard-link group',
                              sorted(grp), sorted(mgroups[ino]))
        # distinct inodes must not share an inode number
        seen = {}
        for rel in common:
            if stat.S_ISDIR(m[rel].st_mode):
                ino = m[rel].st_ino
                if ino in seen:
                    self.diff(rel, 'st_ino', 'unique',
                              'same as /%s' % seen[ino])
                seen[ino] = rel

        self.compared = 0
        for rel in common:
            ss, ms = s[rel], m[rel]
            sp = os.path.join(src, rel) if rel else src
            mp = os.path.join(mnt, rel) if rel else mnt
            self.compared += 1
            if stat.S_IFMT(ss.st_mode) != stat.S_IFMT(ms.st_mode):
                self.diff(rel, 'type', oct(stat.S_IFMT(ss.st_mode)),
                          oct(stat.S_IFMT(ms.st_mode)))
                continue
            if stat.S_IMODE(ss.st_mode) != stat.S_IMODE(ms.st_mode):
                self.diff(rel, 'mode', '%04o' % stat.S_IMODE(ss.st_mode),
                          '%04o' % stat.S_IMODE(ms.st_mode))
            euid = a.uid if a.uid is not None else ss.st_uid
            egid = a.gid if a.gid is not None else ss.st_gid
            if euid != ms.st_uid:
                self.diff(rel, 'uid', euid, ms.st_uid)
            if egid != ms.st_gid:
                self.diff(rel, 'gid', egid, ms.st_gid)
            emt = self.expected_mtime(ss.st_mtime_ns)
            if emt != ms.st_mtime_ns:
                self.diff(rel, 'mtime', '%d.%09d' % divmod(emt, 10**9),
                          '%d.%09d' % divmod(ms.st_mtime_ns, 10**9))
            isdir = stat.S_ISDIR(ss.st_mode)
            if isdir:
                enl = 2 + subdirs.get(rel, 0)
            else:
                enl = len(sgroups[(ss.st_dev, ss.st_ino)])
            if enl != ms.st_nlink:
                self.diff(rel, 'nlink', enl, ms.st_nlink)
            if stat.S_ISCHR(ss.st_mode) or stat.S_ISBLK(ss.st_mode):
                if ss.st_rdev != ms.st_rdev:
                    self.diff(rel, 'rdev', '%d:%d' % (os.major(ss.st_rdev),
                              os.minor(ss.st_rdev)), '%d:%d' %
                              (os.major(ms.st_rdev), os.minor(ms.st_rdev)))
            if stat.S_ISREG(ss.st_mode) or stat.S_ISLNK(ss.st_mode):
                if ss.st_size != ms.st_size:
                    self.diff(rel, 'size', ss.st_size, ms.st_size)
            if stat.S_ISLNK(ss.st_mode):
                try:
                    t1, t2 = os.readlink(os.fsencode(sp)), \
                        os.readlink(os.fsencode(mp))
                    if t1 != t2:
                        self.diff(rel, 'symlink target', t1[:80],
                                  t2[:80] if t2 is not None else None)
                except OSError as e:
                    self.diff(rel, 'readlink', 'success', e)
            try:
                sx = {} if a.no_xattrs else self.xattrs(sp)
                mx = self.xattrs(mp)
            except OSError as e:
                self.diff(rel, 'listxattr', 'success', e)
            else:
                for n in sorted(set(sx) - set(mx)):
                    self.diff(rel, 'xattr ' + n, 'present', 'missing')
                for n in sorted(set(mx) - set(sx)):
                    self.diff(rel, 'xattr ' + n, 'absent', 'present')
                for n in sorted(set(sx) & set(mx)):
                    if sx[n] != mx[n]:
                        self.diff(rel, 'xattr ' + n + ' value',
                                  sx[n][:64], mx[n][:64])
            if stat.S_ISREG(ss.st_mode) and ss.st_size == ms.st_size:
                try:
                    self.content(rel, sp, mp, ss.st_size)
                except OSError as e:
                    self.diff(rel, 'read', 'success', e)
            if isdir:
                # lookups must agree with readdir (sorted directories)
                try:
                    names = os.listdir(os.fsencode(mp))
                except OSError as e:
                    self.diff(rel, 'readdir', 'success', e)
        if self.diffs > self.shown:
            print('DIFF ... and %d more differences' %
                  (self.diffs - self.shown))
        return self.diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('source')
    ap.add_argument('mounted')
    ap.add_argument('--mtime', type=int)
    ap.add_argument('--clamp', type=int)
    ap.add_argument('--uid', type=int)
    ap.add_argument('--gid', type=int)
    ap.add_argument('--no-xattrs', action='store_true')
    ap.add_argument('--exclude-path', action='append', default=[])
    ap.add_argument('--exclude-regex', action='append', default=[])
    ap.add_argument('--max-diffs', type=int, default=300)
    a = ap.parse_args()
    c = Cmp(a)
    n = c.run(a.source, a.mounted)
    print('# treecmp: %d entries compared, %d differences' %
          (c.compared, n))
    sys.exit(1 if n else 0)


if __name__ == '__main__':
    main()
