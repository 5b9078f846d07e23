#!/usr/bin/env python3
"""bench/console: alarm receipt -> visible in the consoles' stream, with 20 consoles connected.

Starts a real arcd on loopback (ports chosen at run time, a temporary database), connects
CLIENTS subscribe-only clients of the console protocol (`alarms.subscribe` on arcd's admin
socket: the same CHANGE push path arc-console and the operator API use), then sends ALARMS
pendant presses (SIA-DCS "QA", one device each, over TCP, the frame arc-sim sends) at a steady
pace and measures, for every alarm and every client, the time from the frame being sent to
the `opened` CHANGE push arriving at that client. Prints p50/p90/p99/max; target p99 <= 50 ms.

Usage: bench_console.py --arcd PATH --source DIR [--clients 20] [--alarms 200] [--interval-ms 25]
"""

import argparse
import json
import os
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time


def crc16(data: bytes) -> int:
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def sia_frame(account: str, seq: int, code: str, zone: str = "001") -> bytes:
    body = b'"SIA-DCS"%04dL0#%s[#%s|Nri1/%s%s]' % (seq, account.encode(), account.encode(),
                                                  code.encode(), zone.encode())
    return b"\n%04X%04X%s\r" % (crc16(body), len(body), body)


class Admin:
    """A line-oriented JSON connection to arcd's admin socket."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = b""

    def send(self, obj):
        self.sock.sendall(json.dumps(obj).encode() + b"\n")

    def read(self, timeout=30):
        self.sock.settimeout(timeout)
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("arcd closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def request(self, obj):
        self.send(obj)
        while True:
            msg = self.read()
            if "push" not in msg:
                if not msg.get("ok"):
                    raise RuntimeError(f"{obj['cmd']}: {msg.get('error')}")
                return msg["result"]


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arcd", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--alarms", type=int, default=200)
    ap.add_argument("--interval-ms", type=float, default=25.0)
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="arc-bench-console-")
    sock_path = os.path.join(tmp, "arcd.sock")
    log = open(os.path.join(tmp, "arcd.log"), "wb")
    proc = subprocess.Popen(
        [args.arcd, "--config", os.path.join(args.source, "config", "arcd.toml"),
         "--set", f"storage.path={os.path.join(tmp, 'arc.db')}",
         "--set", f"listen.api={sock_path}",
         "--set", "listen.dc09_tcp=127.0.0.1:0", "--set", "listen.dc09_udp=127.0.0.1:0",
         "--set", f"engine.event_codes={os.path.join(args.source, 'config', 'event-codes.toml')}",
         "--set", f"limits.max_api_clients={args.clients + 8}"],
        cwd=tmp, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        admin = None
        while admin is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"arcd did not start; see {tmp}/arcd.log")
            try:
                admin = Admin(sock_path)
            except OSError:
                time.sleep(0.1)
        status = admin.request({"cmd": "status"})
        tcp_port = next(int(l["port"]) for l in status["listeners"] if l["name"] == "dc09_tcp")
        accounts = [f"{0xB000 + i:X}" for i in range(args.alarms)]
        for acct in accounts:
            admin.request({"cmd": "device.add", "account": acct, "protocol": "dc09"})

        # The consoles: subscribe, then one thread reads every client's pushes.
        clients = []
        for _ in range(args.clients):
            c = Admin(sock_path)
            result = c.request({"cmd": "alarms.subscribe", "id": 1})
            assert result["subscribed"], result
            c.sock.setblocking(False)
            clients.append(c)
        arrivals = [dict() for _ in clients]  # account -> perf_counter of the opened push
        stop = threading.Event()

        def reader():
            sel = selectors.DefaultSelector()
            for i, c in enumerate(clients):
                sel.register(c.sock, selectors.EVENT_READ, i)
            while not stop.is_set():
                for key, _ in sel.select(timeout=0.1):
                    i = key.data
                    c = clients[i]
                    try:
                        chunk = c.sock.recv(1 << 20)
                    except BlockingIOError:
                        continue
                    now = time.perf_counter()
                    if not chunk:
                        raise RuntimeError("arcd closed a subscriber")
                    c.buf += chunk
                    while b"\n" in c.buf:
                        line, c.buf = c.buf.split(b"\n", 1)
                        msg = json.loads(line)
                        ch = msg.get("change") or {}
                        if msg.get("push") == "change" and ch.get("change") == "opened":
                            arrivals[i].setdefault(ch["alarm"]["account"], now)

        t = threading.Thread(target=reader, daemon=True)
        t.start()

        sent = {}
        acks = []
        for n, acct in enumerate(accounts):
            with socket.create_connection(("127.0.0.1", tcp_port), timeout=10) as s:
                frame = sia_frame(acct, n + 1, "QA")
                t0 = time.perf_counter()
                s.sendall(frame)
                reply = b""
                while not reply.endswith(b"\r"):
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    reply += chunk
                acks.append((time.perf_counter() - t0) * 1000)
                if b'"ACK"' not in reply:
                    raise RuntimeError(f"{acct}: no ACK: {reply!r}")
                sent[acct] = t0
            time.sleep(args.interval_ms / 1000.0)

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if all(len(a) >= len(accounts) for a in arrivals):
                break
            time.sleep(0.05)
        stop.set()
        t.join(timeout=2)

        lat = []
        missing = 0
        for a in arrivals:
            for acct, t0 in sent.items():
                if acct in a:
                    lat.append((a[acct] - t0) * 1000)
                else:
                    missing += 1
        print("bench/console: alarm receipt -> CHANGE push at each subscribed console")
        print(f"  arcd {args.arcd}")
        print(f"  consoles: {args.clients} subscribe-only protocol clients (alarms.subscribe on "
              f"the admin socket; not {args.clients} ncurses UIs)")
        print(f"  alarms: {len(sent)} pendant presses (SIA-DCS QA over TCP, one device each), "
              f"one every {args.interval_ms:g} ms")
        print(f"  samples: {len(lat)} (alarm x console), missing {missing}")
        print(f"  receipt -> ACK       p50 {pct(acks, 50):7.2f} ms  p99 {pct(acks, 99):7.2f} ms  "
              f"max {max(acks):7.2f} ms")
        print(f"  receipt -> visible   p50 {pct(lat, 50):7.2f} ms  p90 {pct(lat, 90):7.2f} ms  "
              f"p99 {pct(lat, 99):7.2f} ms  max {max(lat) if lat else float('nan'):7.2f} ms")
        verdict = "met" if lat and pct(lat, 99) <= 50 and missing == 0 else "NOT met"
        print(f"  target p99 <= 50 ms: {verdict}")
        return 0 if missing == 0 else 1
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
