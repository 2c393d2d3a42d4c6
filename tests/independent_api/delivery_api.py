#!/usr/bin/env python3
"""A second implementation of the delivery API (docs/delivery-api.md).

Written from the document alone, in another language and with another JSON
library than the bridge and notifications-mock-api (which share the C++
writer and parser), so that the end-to-end tests can show the bridge
follows the contract and not merely its own mock. Python 3 standard library
only.

Where the contract leaves a choice, this one deliberately differs from the
mock's, within the contract:
  - ids are a plain decimal counter ("1", "2", ..., "10"): shortlex order,
    not byte order ("9" < "10");
  - `time` has microseconds ("2026-11-28T12:00:00.123456Z");
  - the JSON is written as PHP does: "\\/" and "\\uXXXX" escapes
    (surrogate pairs for characters beyond the BMP).

What the tests need besides the contract (`GET {base}/status`,
`GET {base}/notifications` with `after`, `limit`, `wait`, the errors):
  - a gate to add notifications, `POST /gate/Notification/{project}`, as
    the document describes the mock's (same body, same answer);
  - --retention N: only the newest N notifications are kept; an `after`
    that is no longer retained, or was never issued, answers 410;
  - --overlap N: a page with at least one new item also starts with up to N
    items the caller already has (`after` and those just before it);
  - --fixtures FILE: a JSON array of gate-shaped objects with `project`;
  - --token-file FILE: requests must carry `Authorization: Bearer TOKEN`
    (`status` excepted);
  - --ignore-wait: behave as an API that does not implement `wait` (an
    unknown parameter, ignored: answers at once);
  - `GET /_test/requests`: how many `GET {base}/notifications` requests
    were answered so far, counted here rather than by the caller.

Once serving it prints one line on stdout:
  delivery_api.py listening on http://HOST:PORT{base}
"""

import argparse
import datetime
import http.server
import json
import re
import sys
import threading
import urllib.parse

ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
DIGITS_RE = re.compile(r"^[0-9]+$")
MAX_GATE_BODY = 1024 * 1024


def php_json(value):
    """JSON as PHP's json_encode writes it: ASCII only, slashes escaped."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    # "/" only ever appears inside strings in JSON text.
    return text.replace("/", "\\/")


def now_rfc3339():
    t = datetime.datetime.now(datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class BadRequest(Exception):
    pass


class Store:
    """The retained notifications, oldest first. Thread-safe."""

    def __init__(self, retention, overlap):
        self.retention = retention
        self.overlap = overlap
        self.cond = threading.Condition()
        self.items = []  # guarded by cond
        self.next_id = 1  # guarded by cond
        self.requests = 0  # guarded by cond

    def add(self, fields):
        with self.cond:
            item = dict(fields)
            item["id"] = str(self.next_id)
            item["time"] = now_rfc3339()
            self.next_id += 1
            self.items.append(item)
            if len(self.items) > self.retention:
                del self.items[: len(self.items) - self.retention]
            self.cond.notify_all()
            return item

    def position_after(self, after):
        """Index of the first item newer than `after`; None when `after`
        is not retained (dropped, or never issued). Caller holds cond."""
        if after is None:
            return 0
        for i, item in enumerate(self.items):
            if item["id"] == after:
                return i + 1
        return None

    def page(self, after, limit, wait):
        """(status, body) for GET notifications."""
        with self.cond:
            self.requests += 1
            start = self.position_after(after)
            if start is None:
                return 410, gone(after)
            if start == len(self.items) and wait > 0:
                # Held until something newer arrives, or `wait` seconds.
                self.cond.wait_for(
                    lambda: self.position_after(after) is None
                    or self.position_after(after) < len(self.items),
                    timeout=wait)
                start = self.position_after(after)
                if start is None:
                    return 410, gone(after)
            new = self.items[start:]
            old = []
            if new and after is not None and self.overlap > 0:
                # Keep room for at least one new item.
                count = min(self.overlap, start, limit - 1)
                old = self.items[start - count:start]
            taken = new[: limit - len(old)]
            page = old + taken
            more = len(taken) < len(new)
            if page:
                cursor = page[-1]["id"]
            else:
                cursor = after if after is not None else ""
            return 200, {"notifications": page, "cursor": cursor,
                         "more": more}

    def request_count(self):
        with self.cond:
            return self.requests


def gone(after):
    return {"error": "gone",
            "message": "cursor %s is no longer retained; restart without "
                       "after" % after}


def error(code, message):
    return {"error": code, "message": message}


def parse_query(query, known):
    """(after, limit, wait) from the query; each `known` parameter at most
    once, the others ignored."""
    params = {}
    for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        if name in known:
            if name in params:
                raise BadRequest("parameter %s repeated" % name)
            params[name] = value
    after = params.get("after")
    if after is not None and not ID_RE.match(after):
        raise BadRequest("after must be 1-128 characters of [A-Za-z0-9._:-]")
    limit = 100
    if "limit" in params:
        text = params["limit"]
        if not DIGITS_RE.match(text) or not 1 <= int(text) <= 1000:
            raise BadRequest("limit must be an integer in 1..1000")
        limit = int(text)
    wait = 0
    if "wait" in params:
        text = params["wait"]
        if not DIGITS_RE.match(text) or not 0 <= int(text) <= 300:
            raise BadRequest("wait must be whole seconds in 0..300")
        wait = int(text)
    return after, limit, wait


def gate_fields(body, project):
    """The notification's fields from a gate body, or BadRequest."""
    try:
        obj = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise BadRequest("body is not JSON: %s" % e)
    if not isinstance(obj, dict):
        raise BadRequest("body must be a JSON object")
    fields = {}
    for name in ("service", "group", "type"):
        if not isinstance(obj.get(name), str):
            raise BadRequest("%s must be a string" % name)
        fields[name] = obj[name]
    p = obj.get("project")
    if p is not None and not isinstance(p, str):
        raise BadRequest("project must be a string")
    fields["project"] = p if p is not None else project
    for name in ("text", "link"):
        v = obj.get(name)
        if v is not None and not isinstance(v, str):
            raise BadRequest("%s must be a string or null" % name)
        fields[name] = v
    fields["rawContent"] = obj.get("rawContent")
    return fields


def make_handler(store, base, token, known):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # Quiet: stderr is for errors.
            pass

        def send(self, status, body, content_type="application/json"):
            data = (php_json(body) if content_type == "application/json"
                    else body).encode("ascii")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            if status == 401:
                self.send_header("WWW-Authenticate", "Bearer")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def authorized(self):
            if token is None:
                return True
            scheme, _, presented = self.headers.get(
                "Authorization", "").partition(" ")
            return scheme.lower() == "bearer" and presented == token

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            if url.path == base + "/status":
                return self.send(200, "ALIVE", "text/plain")
            if url.path == "/_test/requests":
                return self.send(200, {"requests": store.request_count()})
            if not self.authorized():
                return self.send(401, error("unauthorized", "token required"))
            if url.path != base + "/notifications":
                return self.send(404, error("not_found", "unknown path"))
            try:
                after, limit, wait = parse_query(url.query, known)
            except BadRequest as e:
                return self.send(400, error("bad_request", str(e)))
            status, body = store.page(after, limit, wait)
            self.send(status, body)

        def do_POST(self):
            url = urllib.parse.urlsplit(self.path)
            prefix = "/gate/Notification/"
            if not self.authorized():
                return self.send(401, error("unauthorized", "token required"))
            if not url.path.startswith(prefix) or url.path == prefix:
                return self.send(404, error("not_found", "unknown path"))
            length = int(self.headers.get("Content-Length", "0"))
            if length > MAX_GATE_BODY:
                self.close_connection = True
                return self.send(413, error("payload_too_large",
                                            "body above 1 MiB"))
            try:
                fields = gate_fields(
                    self.rfile.read(length),
                    urllib.parse.unquote(url.path[len(prefix):]))
            except BadRequest as e:
                return self.send(400, error("bad_request", str(e)))
            item = store.add(fields)
            key = ".".join(item[k] or "" for k in
                           ("project", "group", "service", "type")).lower()
            self.send(200, {"id": item["id"], "time": item["time"],
                            "routingKey": key})

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--base", default="/delivery")
    parser.add_argument("--retention", type=int, default=10000)
    parser.add_argument("--overlap", type=int, default=0)
    parser.add_argument("--fixtures")
    parser.add_argument("--token-file")
    parser.add_argument("--ignore-wait", action="store_true")
    args = parser.parse_args()
    if args.retention < 1 or args.overlap < 0:
        parser.error("--retention must be at least 1, --overlap at least 0")

    store = Store(args.retention, args.overlap)
    if args.fixtures:
        with open(args.fixtures, "rb") as f:
            for obj in json.load(f):
                store.add(gate_fields(json.dumps(obj).encode("utf-8"),
                                      obj.get("project")))
    token = None
    if args.token_file:
        with open(args.token_file) as f:
            token = f.readline().strip()

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True  # Held long-polls do not delay the exit.
        request_queue_size = 128  # The listen backlog (default 5).

    known = ("after", "limit") if args.ignore_wait else ("after", "limit",
                                                          "wait")
    server = Server((args.host, args.port),
                    make_handler(store, args.base, token, known))
    host, port = server.server_address[:2]
    print("delivery_api.py listening on http://%s:%d%s" % (host, port,
                                                           args.base),
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
