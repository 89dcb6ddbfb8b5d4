#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A misbehaving HTTP server for the hostile-input corpus, on 127.0.0.1.

    server.py WWW_DIR PORT_FILE LOG_FILE

Serves the files of WWW_DIR (HTTP/1.1, keep-alive).  The first path
component chooses the behaviour, the rest names the file:

  /ok/F           honours Range: 206 with a correct Content-Range
  /no-cr/F        206 without Content-Range, body from byte 0
  /cr-star/F      206 with "Content-Range: bytes */SIZE", body from byte 0
  /cr-unit/F      206 with "Content-Range: items A-B/SIZE" (right numbers)
  /cr-long/F      206 whose Content-Range line is over 256 bytes (padding
                  blanks) and names bytes 0-N, body from byte 0
  /no-range/F     ignores Range: 200 with the whole file
  /ftp/F          302 to ftp://127.0.0.1:FTP_PORT/F
  /huge-length/F  HEAD and GET say Content-Length 2^63-1

It also listens on an "FTP" port that greets and hangs up, and logs any
connection to it.  Both ports are written to PORT_FILE ("HTTP FTP") once
listening; every request is logged as "METHOD PATH RANGE -> STATUS".
"""

import http.server
import os
import socket
import sys
import threading

WWW, PORT_FILE, LOG = sys.argv[1:4]
log_lock = threading.Lock()


def log(line):
    with log_lock, open(LOG, 'a') as f:
        f.write(line + '\n')


def ftp_listener(sock):
    while True:
        conn, _ = sock.accept()
        log('FTP-CONNECT')
        try:
            conn.sendall(b'220 hostile test server\r\n')
        finally:
            conn.close()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, headers, body=b''):
        log('%s %s %s -> %d' % (self.command, self.path,
                                self.headers.get('Range', '-'), status))
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        parts = self.path.lstrip('/').split('/', 1)
        if len(parts) != 2 or '..' in parts[1]:
            return self.reply(404, [('Content-Length', '0')])
        mode, name = parts
        path = os.path.join(WWW, name)
        if not os.path.isfile(path):
            return self.reply(404, [('Content-Length', '0')])
        with open(path, 'rb') as f:
            data = f.read()
        size = len(data)
        if mode == 'ftp':
            return self.reply(302, [
                ('Location', 'ftp://127.0.0.1:%d/%s' % (FTP_PORT, name)),
                ('Content-Length', '0')])
        if mode == 'huge-length':
            return self.reply(200, [('Content-Length', str(2**63 - 1))],
                              data)
        rng = self.headers.get('Range')
        if not rng or mode == 'no-range':
            return self.reply(200, [('Content-Length', str(size))], data)
        a, b = rng.split('=', 1)[1].split('-', 1)
        a = int(a)
        b = min(int(b) if b else size - 1, size - 1)
        n = b - a + 1
        if mode == 'ok':
            return self.reply(206, [
                ('Content-Range', 'bytes %d-%d/%d' % (a, b, size)),
                ('Content-Length', str(n))], data[a:b + 1])
        wrong = data[:n]
        hdrs = [('Content-Length', str(n))]
        if mode == 'cr-star':
            hdrs.append(('Content-Range', 'bytes */%d' % size))
        elif mode == 'cr-unit':
            hdrs.append(('Content-Range', 'items %d-%d/%d' % (a, b, size)))
            wrong = data[a:b + 1]
        elif mode == 'cr-long':
            hdrs.append(('Content-Range',
                         ' ' * 250 + 'bytes 0-%d/%d' % (n - 1, size)))
        elif mode != 'no-cr':
            return self.reply(404, [('Content-Length', '0')])
        return self.reply(206, hdrs, wrong)


ftp = socket.socket()
ftp.bind(('127.0.0.1', 0))
ftp.listen(8)
FTP_PORT = ftp.getsockname()[1]
threading.Thread(target=ftp_listener, args=(ftp,), daemon=True).start()
httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
with open(PORT_FILE + '.tmp', 'w') as f:
    f.write('%d %d\n' % (httpd.server_address[1], FTP_PORT))
os.rename(PORT_FILE + '.tmp', PORT_FILE)
httpd.serve_forever()
