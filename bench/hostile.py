#!/usr/bin/env python3
"""What hostile or broken clients cost notifications-bridge (issue 11):
docs/reliability.md quotes these figures. Not run by CI.

Scenarios (each against a fresh mock API + bridge, loopback only):
  stalled   N clients ask ?backlog=1000 (of 1000 retained notifications of
            ~2 KB) and never read: the bridge's VmRSS and VmHWM before and
            with them connected, its threads, and the bytes it says it holds
            for them (stream_unsent_bytes).
  slowloris M connections send half a request head and dribble a header
            line every second; meanwhile /status, /healthz and /metrics are
            timed (each a fresh connection).
  headers   one connection streams up to 300 MB of header lines: how much
            the bridge took before closing it, and its VmRSS after.
  static    K requests for /style.css with Accept-Encoding: gzip on
            keep-alive connections: the bridge's CPU per request.
  shutdown  S streams while notifications flow, one in ten not reading;
            SIGTERM: time to exit, streams ended with the last chunk.

  bench/hostile.py [--bridge PATH] [--mock PATH] [--scenarios a,b] [-n N] ...
  BRIDGE=build-old/notifications-bridge bench/hostile.py   # another build

Prints one "RESULT scenario=... key=value ..." line per scenario and a
Markdown table. Exits 0 after a run, 2 when something cannot start.
"""
import argparse
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def proc_status(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def cpu_seconds(pid):
    """CPU time of every live thread of `pid`, in s (schedstat: ns)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total / 1e9


def tcp_mem_kb():
    """Memory the kernel holds for every TCP socket (/proc/net/sockstat)."""
    with open("/proc/net/sockstat") as f:
        for line in f:
            if line.startswith("TCP:"):
                parts = line.split()
                return int(parts[parts.index("mem") + 1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    return -1


def metric(port, name):
    try:
        body = urllib.request.urlopen(
            f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except OSError:
        return None
    m = re.search(r"^" + re.escape(name) + r" (\S+)$", body, re.M)
    return float(m.group(1)) if m else None


class Services:
    """A mock API and a bridge as child processes."""

    def __init__(self, args, bridge_flags):
        self.mock = subprocess.Popen(
            [args.mock, "--port", "0", "--log-level", "warn"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.mock_port = self._port(self.mock, "mock")
        self.bridge = subprocess.Popen(
            [args.bridge, "--delivery-url",
             f"http://127.0.0.1:{self.mock_port}/delivery", "--listen",
             "127.0.0.1:0", "--poll-interval", "0.1", "--log-level", "error",
             "--public-dir", os.path.join(ROOT, "public")] + bridge_flags,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.port = self._port(self.bridge, "bridge")

    @staticmethod
    def _port(proc, what):
        line = proc.stdout.readline()
        m = re.search(r"http://[^:]+:(\d+)/", line)
        if not m:
            sys.exit(f"hostile.py: the {what} did not start ({line!r})")
        return int(m.group(1))

    def post(self, text):
        body = json.dumps({"service": "GitHub", "group": "ops", "type": "push",
                           "text": text}).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.mock_port}/gate/Notification/Nasqueron",
            data=body, headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=5).read()

    def wait_published(self, n, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = metric(self.port, "notifications_bridge_notifications_published_total")
            if v is not None and v >= n:
                return True
            time.sleep(0.1)
        return False

    def stop(self):
        for p in (self.bridge, self.mock):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def connect(port, rcvbuf=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    return s


def timed_get(port, path):
    start = time.monotonic()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        ok = data.startswith(b"HTTP/1.1 200") or data.startswith(b"HTTP/1.1 503")
    except OSError:
        ok = False
    return (time.monotonic() - start) * 1000, ok


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * p / 100))] if v else float("nan")


def scenario_stalled(args):
    svc = Services(args, ["--history", "1000", "--max-clients", str(args.n + 100),
                          "--write-timeout", "60"])
    try:
        for i in range(1000):
            svc.post(f"n{i} " + "x" * 2000)
        svc.wait_published(1000)
        time.sleep(0.5)
        pid = svc.bridge.pid
        rss0 = proc_status(pid, "VmRSS")
        kmem0 = tcp_mem_kb()
        socks = []
        for _ in range(args.n):
            s = connect(svc.port, rcvbuf=4096)
            s.sendall(b"GET /events?backlog=1000 HTTP/1.1\r\nHost: x\r\n\r\n")
            socks.append(s)
        time.sleep(3)
        rss1 = proc_status(pid, "VmRSS")
        hwm = proc_status(pid, "VmHWM")
        threads = proc_status(pid, "Threads")
        unsent = metric(svc.port, "notifications_bridge_stream_unsent_bytes")
        clients = metric(svc.port, "notifications_bridge_clients_connected")
        kmem = tcp_mem_kb() - kmem0
        for s in socks:
            s.close()
        return {"scenario": "stalled", "clients": args.n,
                "connected": int(clients or 0), "rss_before_kb": rss0,
                "rss_with_kb": rss1, "hwm_kb": hwm,
                "per_client_kb": round((rss1 - rss0) / max(1, args.n), 1),
                "threads": threads,
                "unsent_kb": -1 if unsent is None else round(unsent / 1024),
                "kernel_tcp_kb": kmem}
    finally:
        svc.stop()


def scenario_slowloris(args):
    svc = Services(args, [])
    try:
        pid = svc.bridge.pid
        rss0 = proc_status(pid, "VmRSS")
        socks = []
        opened = 0
        for _ in range(args.m):
            try:
                s = connect(svc.port)
                s.setblocking(False)
                s.send(b"GET /status HTTP/1.1\r\nHost: x\r\n")
                socks.append(s)
                opened += 1
            except OSError:
                break
        lat, ok = [], 0
        end = time.time() + args.seconds
        while time.time() < end:
            for s in socks:
                try:
                    s.send(b"X-Drip: 1\r\n")
                except OSError:
                    pass
            for path in ("/status", "/healthz", "/metrics"):
                ms, good = timed_get(svc.port, path)
                lat.append(ms)
                ok += good
            time.sleep(0.3)
        alive = 0
        for s in socks:
            try:
                s.recv(1, socket.MSG_PEEK)  # Non-blocking: data or EOF means answered/closed.
            except BlockingIOError:
                alive += 1
            except OSError:
                pass
        rss1 = proc_status(pid, "VmRSS")
        threads = proc_status(pid, "Threads")
        for s in socks:
            s.close()
        return {"scenario": "slowloris", "connections": opened,
                "still_open": alive, "requests": len(lat), "answered": ok,
                "p50_ms": round(pct(lat, 50), 1), "p99_ms": round(pct(lat, 99), 1),
                "max_ms": round(max(lat), 1), "threads": threads,
                "rss_before_kb": rss0, "rss_with_kb": rss1}
    finally:
        svc.stop()


def scenario_headers(args):
    svc = Services(args, [])
    try:
        pid = svc.bridge.pid
        rss0 = proc_status(pid, "VmRSS")
        s = connect(svc.port)
        s.sendall(b"GET /status HTTP/1.1\r\nHost: x\r\n")
        block = (b"X-Flood: " + b"a" * 1000 + b"\r\n") * 1024
        sent, refused = 0, False
        s.settimeout(10)
        start = time.monotonic()
        while sent < 300 * 1024 * 1024:
            try:
                s.sendall(block)
                sent += len(block)
            except OSError:
                refused = True
                break
        took = time.monotonic() - start
        reply = b""
        try:
            reply = s.recv(200)
        except OSError:
            pass
        s.close()
        time.sleep(0.5)
        return {"scenario": "headers", "sent_mb": round(sent / 2**20, 1),
                "refused": int(refused), "seconds": round(took, 2),
                "status": reply.split(b"\r\n")[0].decode(errors="replace") or "(reset)",
                "rss_before_kb": rss0, "rss_after_kb": proc_status(pid, "VmRSS"),
                "hwm_kb": proc_status(pid, "VmHWM")}
    finally:
        svc.stop()


def scenario_static(args):
    svc = Services(args, [])
    try:
        pid = svc.bridge.pid
        req = (b"GET /style.css HTTP/1.1\r\nHost: x\r\n"
               b"Accept-Encoding: gzip, deflate, br\r\n\r\n")
        conns = [connect(svc.port) for _ in range(8)]
        # One request first: the file is read (and compressed) once.
        conns[0].sendall(req)
        conns[0].recv(65536)
        cpu0 = cpu_seconds(pid)
        start = time.monotonic()
        done = 0
        per = args.k // len(conns)
        for c in conns:
            c.settimeout(10)
        for _ in range(per):
            for c in conns:
                c.sendall(req)
            for c in conns:
                got = b""
                while True:
                    got += c.recv(65536)
                    head_end = got.find(b"\r\n\r\n")
                    if head_end < 0:
                        continue
                    m = re.search(rb"Content-Length: (\d+)", got[:head_end])
                    if m and len(got) >= head_end + 4 + int(m.group(1)):
                        break
                done += 1
        cpu = cpu_seconds(pid) - cpu0
        wall = time.monotonic() - start
        enc = b"gzip" if b"Content-Encoding: gzip" in got else b"identity"
        for c in conns:
            c.close()
        return {"scenario": "static", "requests": done,
                "cpu_us_per_request": round(cpu / done * 1e6, 1),
                "requests_per_s": round(done / wall), "encoding": enc.decode(),
                "body_bytes": len(got) - got.find(b"\r\n\r\n") - 4}
    finally:
        svc.stop()


def scenario_shutdown(args):
    svc = Services(args, ["--max-clients", str(args.s + 100)])
    try:
        socks = []
        for i in range(args.s):
            s = connect(svc.port, rcvbuf=2048 if i % 10 == 0 else 0)
            s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
            socks.append(s)
        deadline = time.time() + 30
        while time.time() < deadline:
            if metric(svc.port, "notifications_bridge_clients_connected") == args.s:
                break
            time.sleep(0.1)
        for i in range(10):
            svc.post(f"busy {i} " + "x" * 4000)
        time.sleep(0.1)
        start = time.monotonic()
        svc.bridge.send_signal(signal.SIGTERM)
        code = svc.bridge.wait(30)
        took = time.monotonic() - start
        clean = readers = 0
        for i, s in enumerate(socks):
            if i % 10 == 0:
                s.close()
                continue
            readers += 1
            s.settimeout(2)
            data = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except OSError:
                pass
            clean += data.endswith(b"\r\n0\r\n\r\n")
            s.close()
        return {"scenario": "shutdown", "streams": args.s, "exit": code,
                "exit_ms": round(took * 1000), "readers": readers,
                "ended_cleanly": clean}
    finally:
        svc.stop()


SCENARIOS = {"stalled": scenario_stalled, "slowloris": scenario_slowloris,
             "headers": scenario_headers, "static": scenario_static,
             "shutdown": scenario_shutdown}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    build = os.environ.get("BENCH_BUILD", os.path.join(ROOT, "build-bench"))
    p.add_argument("--bridge", default=os.environ.get(
        "BRIDGE", os.path.join(build, "notifications-bridge")))
    p.add_argument("--mock", default=os.environ.get(
        "MOCK", os.path.join(build, "notifications-mock-api")))
    p.add_argument("--scenarios", default=",".join(SCENARIOS))
    p.add_argument("--label", default="bridge")
    p.add_argument("-n", type=int, default=500, help="stalled clients")
    p.add_argument("-m", type=int, default=2000, help="slowloris connections")
    p.add_argument("-k", type=int, default=4000, help="static requests")
    p.add_argument("-s", type=int, default=1000, help="streams at shutdown")
    p.add_argument("--seconds", type=float, default=5, help="slowloris duration")
    args = p.parse_args()
    for exe in (args.bridge, args.mock):
        if not os.access(exe, os.X_OK):
            sys.exit(f"hostile.py: {exe} is not built (cmake --build {build})")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(args.n, args.m, args.s) * 2 + 1000
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, want)), hard))
    rows = []
    for name in args.scenarios.split(","):
        r = SCENARIOS[name](args)
        r = {"label": args.label, **r}
        print("RESULT " + " ".join(f"{k}={v}" for k, v in r.items()), flush=True)
        rows.append(r)
    print()
    for r in rows:
        print("| " + " | ".join(f"{k} {v}" for k, v in r.items()) + " |")


if __name__ == "__main__":
    main()
