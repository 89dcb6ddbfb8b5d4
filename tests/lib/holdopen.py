#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hold the next open(2) of a file until told to let it go (as root).

  holdopen.py FILE

Puts a fanotify FAN_OPEN_PERM mark on FILE and prints "ready".  The next
process that opens FILE then waits in open(2); the script prints
"held PID" and waits for a line on stdin, answers FAN_ALLOW, prints
"released" and exits (later opens are not held).  A test uses it to stop
a program at a known point (say, while its temporary output exists), send
it a signal and let it run on.  Exits 1 with "timeout" when nothing opens
FILE within 120 seconds.
"""

import ctypes
import os
import select
import struct
import sys

FAN_CLOEXEC = 0x1
FAN_CLASS_CONTENT = 0x4
FAN_MARK_ADD = 0x1
FAN_OPEN_PERM = 0x10000
FAN_ALLOW = 0x1
AT_FDCWD = -100
# struct fanotify_event_metadata: u32 event_len, u8 vers, u8 reserved,
# u16 metadata_len, u64 mask, s32 fd, s32 pid
META = struct.Struct('=IBBHQii')

libc = ctypes.CDLL(None, use_errno=True)
libc.fanotify_init.argtypes = [ctypes.c_uint, ctypes.c_uint]
libc.fanotify_mark.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_uint64,
                               ctypes.c_int, ctypes.c_char_p]


def main():
    fan = libc.fanotify_init(FAN_CLOEXEC | FAN_CLASS_CONTENT, os.O_RDONLY)
    if fan < 0:
        sys.exit('fanotify_init: ' + os.strerror(ctypes.get_errno()))
    if libc.fanotify_mark(fan, FAN_MARK_ADD, FAN_OPEN_PERM, AT_FDCWD,
                          os.fsencode(sys.argv[1])) < 0:
        sys.exit('fanotify_mark %s: %s' %
                 (sys.argv[1], os.strerror(ctypes.get_errno())))
    print('ready', flush=True)
    if not select.select([fan], [], [], 120)[0]:
        print('timeout', flush=True)
        sys.exit(1)
    buf = os.read(fan, 4096)
    _, _, _, _, mask, fd, pid = META.unpack_from(buf)
    print('held %d' % pid, flush=True)
    sys.stdin.readline()
    os.write(fan, struct.pack('=iI', fd, FAN_ALLOW))
    os.close(fd)
    print('released', flush=True)
    # closing the group lets any other open waiting on it through
    os.close(fan)


if __name__ == '__main__':
    main()
