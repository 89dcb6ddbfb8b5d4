#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Receive N sd_notify datagrams on a unix socket, as a service manager
does: prints each message (newlines as \\n) and, when it carried an fd
(SCM_RIGHTS, the FDSTORE=1 protocol), what that fd is.

  notifysock.py SOCKET N OUT
"""
import array
import os
import socket
import sys

s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[3], 'w') as out:
    for _ in range(int(sys.argv[2])):
        msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(4))
        what = ''
        for lvl, typ, data in anc:
            if lvl == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                fd = array.array('i', data[:4])[0]
                what = os.readlink('/proc/self/fd/%d' % fd)
        out.write('%s %s\n' % (msg.decode().replace('\n', '\\n'), what))
        out.flush()
