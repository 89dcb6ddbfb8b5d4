#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A ranged HTTP file server on 127.0.0.1 that can be told to stall.

  stallhttp.py DIR PORTFILE

Serves DIR (GET and HEAD, single "Range: bytes=A-B" requests answered with
206 and Content-Range).  While the file DIR/.stall exists every request
waits before answering, so a test can hold a daemon's fetch in flight
(SIGKILL the daemon then, unmount, ...) and release it by removing the
file.  The port it listens on is written to PORTFILE.
"""

import http.server
import os
import re
import socketserver
import sys
import time

ROOT = sys.argv[1]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _serve(self, body):
        while os.path.exists(os.path.join(ROOT, '.stall')):
            time.sleep(0.05)
        path = os.path.join(ROOT, self.path.lstrip('/'))
        if '..' in self.path or not os.path.isfile(path):
            self.send_error(404)
            return
        size = os.path.getsize(path)
        start, end, code = 0, size - 1, 200
        m = re.match(r'bytes=(\d+)-(\d*)$', self.headers.get('Range', ''))
        if m:
            start = int(m.group(1))
            end = min(int(m.group(2)) if m.group(2) else size - 1, size - 1)
            code = 206
        self.send_response(code)
        self.send_header('Content-Length', str(end - start + 1))
        if code == 206:
            self.send_header('Content-Range',
                             'bytes %d-%d/%d' % (start, end, size))
        self.end_headers()
        if body:
            with open(path, 'rb') as f:
                f.seek(start)
                try:
                    self.wfile.write(f.read(end - start + 1))
                except OSError:
                    pass  # the client went away (killed daemon)

    def do_GET(self):
        self._serve(True)

    def do_HEAD(self):
        self._serve(False)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


srv = Server(('127.0.0.1', 0), Handler)
with open(sys.argv[2] + '.tmp', 'w') as f:
    f.write(str(srv.server_address[1]))
os.rename(sys.argv[2] + '.tmp', sys.argv[2])
srv.serve_forever()
