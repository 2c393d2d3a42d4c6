#!/usr/bin/env python3
"""Figures for docs/reliability.md ("Client faults") that tests only bound
by counts: how long healthy clients wait for a batch while others stall,
how much the bridge's memory grows with stalled clients, how soon vanished
clients free their slots, how long SIGTERM takes with open streams.

    bench/client_faults.py                 # build/ binaries, every figure
    BENCH_BUILD=build-bench bench/client_faults.py stalled
    bench/client_faults.py stalled --stalled 1,10,100

Runs notifications-mock-api and notifications-bridge on free loopback
ports; prints one line per figure. Python 3 standard library only. Exits 0
after a run (whatever it measured), 1 when a program cannot be started.
"""

import argparse
import json
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import time
import urllib.request

BUILD = os.environ.get("BENCH_BUILD", "build")
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def start(argv, ready):
    """A child process and the port from its first stdout line."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    m = re.search(r"http://[^ ]*:(\d+)", line)
    if ready not in line or not m:
        p.kill()
        sys.exit("cannot start %s: %r" % (argv[0], line))
    return p, int(m.group(1))


class Servers:
    def __init__(self, bridge_args=()):
        self.mock, self.mock_port = start(
            [BUILD + "/notifications-mock-api", "--port", "0", "--log-level",
             "warn", "--retention", "100000"], "listening on")
        self.bridge, self.port = start(
            [BUILD + "/notifications-bridge", "--delivery-url",
             "http://127.0.0.1:%d/delivery" % self.mock_port, "--listen",
             "127.0.0.1:0", "--log-level", "warn"] + list(bridge_args),
            "listening on")

    def post(self, text):
        body = json.dumps({"service": "GitHub", "group": "ops",
                           "type": "push", "text": text}).encode()
        req = urllib.request.Request(
            "http://127.0.0.1:%d/gate/Notification/Nasqueron" %
            self.mock_port, data=body,
            headers={"Content-Type": "application/json"})
        OPENER.open(req).read()

    def metric(self, name):
        text = OPENER.open("http://127.0.0.1:%d/metrics" % self.port).read()
        m = re.search(r"\n%s (\S+)" % re.escape(name), text.decode())
        return float(m.group(1)) if m else -1

    def proc(self, field):
        with open("/proc/%d/status" % self.bridge.pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return -1

    def stop(self):
        for p in (self.bridge, self.mock):
            if p.poll() is None:
                p.kill()
                p.wait()


def stream(port, rcvbuf=0):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /events HTTP/1.1\r\nHost: bench\r\n\r\n")
    return s


def wait_metric(servers, name, value, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if servers.metric(name) == value:
            return True
        time.sleep(0.005)
    return False


class Readers:
    """Healthy clients: count `event: notification` on each stream."""

    def __init__(self, port, n):
        self.sel = selectors.DefaultSelector()
        self.counts = {}
        for _ in range(n):
            s = stream(port)
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ, [0, b""])

    def wait_all(self, count, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(k.data[0] >= count for k in self.sel.get_map().values()):
                return True
            for key, _ in self.sel.select(0.05):
                try:
                    data = key.fileobj.recv(1 << 20)
                except BlockingIOError:
                    continue
                tail = key.data[1] + data
                key.data[0] += tail.count(b"event: notification\n")
                key.data[1] = tail[-32:].replace(b"event: notification\n", b"")
        return False


def stalled(args):
    for n_stalled in [int(x) for x in args.stalled.split(",")]:
        servers = Servers(["--poll-interval", "0.2"])
        try:
            stalls = [stream(servers.port, 2048) for _ in range(n_stalled)]
            readers = Readers(servers.port, args.healthy)
            wait_metric(servers, "notifications_bridge_clients_connected",
                        n_stalled + args.healthy)
            rss_before = servers.proc("VmRSS")
            worst, sent = 0.0, 0
            for _ in range(args.batches):
                t = time.monotonic()
                for _ in range(args.per_batch):
                    servers.post("x" * args.size)
                sent += args.per_batch
                readers.wait_all(sent)
                worst = max(worst, time.monotonic() - t)
            print("stalled: %d stalled + %d healthy clients, %d x %d B: "
                  "healthy got each batch within %.0f ms (poll 200 ms); "
                  "bridge RSS %d -> %d kB (peak %d kB); %d streams left" %
                  (n_stalled, args.healthy, sent, args.size, worst * 1000,
                   rss_before, servers.proc("VmRSS"), servers.proc("VmHWM"),
                   servers.metric("notifications_bridge_clients_connected")),
                  flush=True)
            for s in stalls:
                s.close()
        finally:
            servers.stop()


def vanished(args):
    servers = Servers(["--heartbeat", "60"])
    try:
        socks = [stream(servers.port) for _ in range(args.vanish)]
        wait_metric(servers, "notifications_bridge_clients_connected",
                    args.vanish)
        t = time.monotonic()
        for i, s in enumerate(socks):
            if i % 2 == 0:  # RST
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             b"\x01\x00\x00\x00\x00\x00\x00\x00")
            else:
                s.shutdown(socket.SHUT_WR)
            s.close()
        wait_metric(servers, "notifications_bridge_clients_connected", 0)
        print("vanished: %d clients (half RST, half half-close) freed in "
              "%.0f ms (heartbeat 60 s)" %
              (args.vanish, (time.monotonic() - t) * 1000), flush=True)
    finally:
        servers.stop()


def sigterm(args):
    servers = Servers(["--max-clients", str(args.streams + 100)])
    try:
        socks = [stream(servers.port) for _ in range(args.streams)]
        wait_metric(servers, "notifications_bridge_clients_connected",
                    args.streams)
        threads, rss = servers.proc("Threads"), servers.proc("VmRSS")
        t = time.monotonic()
        servers.bridge.send_signal(signal.SIGTERM)
        code = servers.bridge.wait()
        print("sigterm: %d open streams (%d threads, %d kB RSS): exit %d "
              "in %.0f ms" % (args.streams, threads, rss, code,
                              (time.monotonic() - t) * 1000), flush=True)
        for s in socks:
            s.close()
    finally:
        servers.stop()


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="*",
                        default=["stalled", "vanished", "sigterm"])
    parser.add_argument("--stalled", default="1,10,100",
                        help="stalled clients per run (default 1,10,100)")
    parser.add_argument("--healthy", type=int, default=20)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--per-batch", type=int, default=30)
    parser.add_argument("--size", type=int, default=8000)
    parser.add_argument("--vanish", type=int, default=10)
    parser.add_argument("--streams", type=int, default=1000)
    args = parser.parse_args()
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    for what in args.what:
        {"stalled": stalled, "vanished": vanished, "sigterm": sigterm}[what](
            args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
