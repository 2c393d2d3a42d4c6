#!/usr/bin/env python3
"""A hostile delivery API for bench/upstream_memory.sh and bench/shutdown.sh.

Speaks GET {base}/notifications?after=&limit=&wait= as docs/delivery-api.md
says, from this document alone (it shares no code with the bridge or the
mock), but serves what a hostile or broken upstream could:

  --item-bytes N   each notification carries N bytes (in rawContent, or in
                   text with --in-text), so pages are as large as allowed
  --page-bytes N   items per page: as many as fit in N bytes (at most limit)
  --total N        notifications in all (ids 1..N, plain decimal), then empty
                   pages; 0 = endless
  --bad-every K    every K-th item holds a number beyond a double (1e400)
  --hold S         hold every request S seconds before answering
  --drip S         drip every answer over S seconds

Prints "hostile upstream listening on http://127.0.0.1:PORT/delivery" once
ready (port 0 picks one). Standard library only.
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--item-bytes", type=int, default=1000)
    p.add_argument("--in-text", action="store_true")
    p.add_argument("--page-bytes", type=int, default=15 << 20)
    p.add_argument("--total", type=int, default=0)
    p.add_argument("--bad-every", type=int, default=0)
    p.add_argument("--hold", type=float, default=0)
    p.add_argument("--drip", type=float, default=0)
    a = p.parse_args()
    blob = "x" * a.item_bytes
    served = {"requests": 0}
    lock = threading.Lock()

    def item(i):
        bad = a.bad_every and i % a.bad_every == 0
        text = blob if a.in_text else "hostile %d" % i
        raw = '{"n":1e400}' if bad else json.dumps({"blob": blob if not a.in_text else ""})
        return ('{"id":"%d","service":"GitHub","project":"Nasqueron","group":"ops",'
                '"type":"push","text":%s,"link":"","rawContent":%s}' % (i, json.dumps(text), raw))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            url = urlparse(self.path)
            if url.path.endswith("/status"):
                return self.send(200, "text/plain", b"ALIVE")
            if not url.path.endswith("/notifications"):
                return self.send(404, "application/json", b'{"error":"not_found"}')
            q = parse_qs(url.query)
            after = int(q.get("after", ["0"])[0])
            limit = int(q.get("limit", ["100"])[0])
            with lock:
                served["requests"] += 1
            if a.hold:
                time.sleep(a.hold)
            per_page = max(1, min(limit, a.page_bytes // max(1, a.item_bytes + 200)))
            last = after + per_page
            if a.total:
                last = min(last, a.total)
            items = [item(i) for i in range(after + 1, last + 1)]
            more = bool(items) and (not a.total or last < a.total)
            cursor = str(last) if items else (str(after) if after else "")
            body = ('{"notifications":[%s],"cursor":"%s","more":%s}'
                    % (",".join(items), cursor, "true" if more else "false")).encode()
            self.send(200, "application/json", body)

        def send(self, status, ctype, body):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not a.drip:
                self.wfile.write(body)
                return
            pieces = max(1, int(a.drip / 0.1))
            step = max(1, len(body) // pieces)
            for off in range(0, len(body), step):
                self.wfile.write(body[off:off + step])
                self.wfile.flush()
                time.sleep(0.1)

    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    print("hostile upstream listening on http://127.0.0.1:%d/delivery"
          % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
