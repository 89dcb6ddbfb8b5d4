#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Mount an EROFS image with mount(2) directly (file-backed, no loop device).

  erofs_mount.py mount IMAGE DIR [--device BLOB]...   (exit 0 or errno)
  erofs_mount.py umount DIR
  erofs_mount.py readahead DIR [KB]   (print, or set, the mount's
                                       read_ahead_kb)

As a module: `with mounted(image, dir, devices): ...` unmounts in finally;
`try_mount()` returns 0 or the errno.
"""

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import os
import sys

MS_RDONLY = 1
MNT_DETACH = 2

_libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6',
                    use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                        ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


def try_mount(image, target, devices=()):
    """mount(2) IMAGE on TARGET read-only; returns 0 or a positive errno."""
    data = ','.join('device=' + os.path.abspath(d) for d in devices)
    r = _libc.mount(os.fsencode(os.path.abspath(image)),
                    os.fsencode(target), b'erofs', MS_RDONLY,
                    os.fsencode(data) if data else None)
    return 0 if r == 0 else ctypes.get_errno()


def umount(target, lazy_fallback=True):
    r = _libc.umount2(os.fsencode(target), 0)
    if r != 0:
        e = ctypes.get_errno()
        if lazy_fallback and e == errno.EBUSY:
            r = _libc.umount2(os.fsencode(target), MNT_DETACH)
            if r == 0:
                return 0
            e = ctypes.get_errno()
        return e
    return 0


def bdi_readahead_path(target):
    """/sys/class/bdi/NAME/read_ahead_kb of the EROFS mount at TARGET,
    named by FS_IOC_GETFSSYSFSPATH (Linux 6.10+)."""
    # _IOR(0x15, 1, struct fs_sysfs_path { u8 len; u8 name[128]; })
    req = (2 << 30) | (129 << 16) | (0x15 << 8) | 1
    buf = bytearray(129)
    fd = os.open(target, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.ioctl(fd, req, buf)
    finally:
        os.close(fd)
    name = bytes(buf[1:1 + buf[0]]).decode().split('/')[-1]
    return '/sys/class/bdi/%s/read_ahead_kb' % name


@contextlib.contextmanager
def mounted(image, target, devices=()):
    e = try_mount(image, target, devices)
    if e:
        raise OSError(e, 'mount %s on %s: %s' % (image, target,
                                                   os.strerror(e)))
    try:
        yield target
    finally:
        umount(target)


def main(argv):
    if len(argv) >= 3 and argv[0] == 'mount':
        devs = []
        rest = argv[3:]
        while rest:
            if rest[0] == '--device' and len(rest) > 1:
                devs.append(rest[1])
                rest = rest[2:]
            elif rest[0].startswith('--device='):
                devs.append(rest[0][9:])
                rest = rest[1:]
            else:
                sys.exit('erofs_mount: unknown argument %s' % rest[0])
        e = try_mount(argv[1], argv[2], devs)
        if e:
            print('erofs_mount: mount %s on %s: %s (%s)' %
                  (argv[1], argv[2], os.strerror(e), errno.errorcode[e]),
                  file=sys.stderr)
        return e
    if len(argv) == 2 and argv[0] == 'umount':
        e = umount(argv[1])
        if e:
            print('erofs_mount: umount %s: %s' % (argv[1], os.strerror(e)),
                  file=sys.stderr)
        return e
    if len(argv) in (2, 3) and argv[0] == 'readahead':
        path = bdi_readahead_path(argv[1])
        if len(argv) == 3:
            with open(path, 'w') as f:
                f.write(argv[2])
        with open(path) as f:
            print(f.read().strip())
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
