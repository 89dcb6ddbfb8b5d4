#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# A misbehaving HTTP server for the fetch tests, on 127.0.0.1 only.
#   badhttp.py ROOT STATEDIR
# Serves the files below ROOT; the first path component picks a behaviour:
#   /good/F      honours Range (206, exact Content-Range)
#   /longok/F    the same with a Content-Range line of more than 256 bytes
#   /norange/F   206 without Content-Range
#   /star/F      206 with "Content-Range: bytes */N"
#   /unit/F      206 with "Content-Range: items A-B/N"
#   /shift/F     206 whose range and bytes start one page later
#   /longbad/F   /shift/ with a Content-Range line of more than 256 bytes
#   /ignore/F    ignores Range: 200 and the whole file
#   /huge/F      HEAD and GET claim a Content-Length of 2^63 - 1
#   /toftp/F     302 to ftp://127.0.0.1:FTPPORT/F
# A plain TCP listener stands in for an FTP server: it greets, and records
# every connection in STATEDIR/ftp-connections.  The HTTP port goes to
# STATEDIR/port once both listen.
import os
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT, STATE = sys.argv[1], sys.argv[2]


def ftp_listener(sock):
    while True:
        conn, _ = sock.accept()
        with open(os.path.join(STATE, 'ftp-connections'), 'a') as f:
            f.write('connection\n')
        try:
            conn.sendall(b'220 fake ftp\r\n')
        except OSError:
            pass
        conn.close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        with open(os.path.join(STATE, 'requests'), 'a') as f:
            f.write('%s %s %s\n' % (self.command, self.path,
                                    self.headers.get('Range', '-')))

    def file(self):
        parts = self.path.lstrip('/').split('/', 1)
        if len(parts) != 2 or '..' in parts[1]:
            return parts[0], None
        p = os.path.join(ROOT, parts[1])
        if not os.path.isfile(p):
            return parts[0], None
        with open(p, 'rb') as f:
            return parts[0], f.read()

    def send(self, code, headers, body, head):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if not head and body:
            try:
                self.wfile.write(body)
            except OSError:
                pass

    def answer(self, head):
        mode, data = self.file()
        if mode == 'toftp':
            loc = 'ftp://127.0.0.1:%d/%s' % (FTP_PORT,
                                              self.path.split('/', 2)[2])
            self.send(302, [('Location', loc), ('Content-Length', '0')],
                      b'', head)
            return
        if data is None:
            self.send(404, [('Content-Length', '0')], b'', head)
            return
        n = len(data)
        if mode == 'huge':
            self.send(200, [('Content-Length', str(2**63 - 1))], b'', True)
            self.close_connection = True
            return
        rng = self.headers.get('Range')
        if head or mode == 'ignore' or not rng:
            self.send(200, [('Content-Length', str(n))], data, head)
            return
        a, b = rng.split('=', 1)[1].split('-')
        a, b = int(a), min(int(b), n - 1)
        if mode in ('shift', 'longbad'):
            a, b = min(a + 4096, n - 1), min(b + 4096, n - 1)
        body = data[a:b + 1]
        cr = 'bytes %d-%d/%d' % (a, b, n)
        hdrs = [('Content-Length', str(len(body)))]
        if mode in ('good', 'shift'):
            hdrs.append(('Content-Range', cr))
        elif mode in ('longok', 'longbad'):
            hdrs.append(('Content-Range', cr + ' ' * 300))
        elif mode == 'star':
            hdrs.append(('Content-Range', 'bytes */%d' % n))
        elif mode == 'unit':
            hdrs.append(('Content-Range', 'items %d-%d/%d' % (a, b, n)))
        self.send(206, hdrs, body, head)

    def do_HEAD(self):
        self.answer(True)

    def do_GET(self):
        self.answer(False)


ftp = socket.socket()
ftp.bind(('127.0.0.1', 0))
ftp.listen(8)
FTP_PORT = ftp.getsockname()[1]
threading.Thread(target=ftp_listener, args=(ftp,), daemon=True).start()
srv = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
with open(os.path.join(STATE, 'port.tmp'), 'w') as f:
    f.write('%d\n' % srv.server_address[1])
os.rename(os.path.join(STATE, 'port.tmp'), os.path.join(STATE, 'port'))
srv.serve_forever()
