#!/usr/bin/env python3
"""End-to-end storm benchmark through a real arcd: a mains-loss storm (50,000 events from 50,000
homes within 60 s) while pendant presses arrive at 10/s. A subscriber on the admin socket
(alarms.subscribe) timestamps every push; an operator connection takes, acknowledges and closes
each pendant alarm as soon as it is pushed, as a Centrale Operativa would.

Prints the time from a pendant frame leaving the device to the push that shows its alarm at the
head of the queue (p50/p99/max over all presses; target p99 <= 50 ms), how the storm was
grouped, and the storm's ACK latency. Loopback only, bounded in count and time.

    bench/queue/bench_stream.py --bin build/release/bin --source . [--scale 0.2]
"""

import argparse
import json
import os
import queue
import shutil
import socket
import statistics
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


def frame(account: str, seq: int, code: str) -> bytes:
    body = b'"SIA-DCS"%04dL0#%s[#%s|Nri1/%s001]' % (seq % 9999 + 1, account.encode(),
                                                       account.encode(), code.encode())
    return b"\n%04X%04X%s\r" % (crc16(body), len(body), body)


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, int(round(p / 100.0 * (len(ordered) - 1)))))
    return ordered[k]


class Api:
    """A blocking admin-socket connection (newline-delimited JSON)."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(path)
        self.buf = b""

    def send(self, req):
        self.sock.sendall(json.dumps(req).encode() + b"\n")

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise EOFError("arcd closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def request(self, req):
        self.send(req)
        while True:
            msg = self.line()
            if "push" not in msg:
                if not msg.get("ok"):
                    raise RuntimeError(f"{req}: {msg}")
                return msg["result"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of the 50,000-event storm")
    ap.add_argument("--seconds", type=float, default=60.0, help="storm duration")
    ap.add_argument("--connections", type=int, default=16, help="storm sender connections")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    args.source = os.path.abspath(args.source)

    storm_events = int(50000 * args.scale)
    duration = args.seconds
    pendant_rate = 10.0
    tmp = tempfile.mkdtemp(prefix="arc-bench-stream-")
    sock_path = os.path.join(tmp, "arcd.sock")
    log = open(os.path.join(tmp, "arcd.log"), "wb")
    arcd = subprocess.Popen(
        [os.path.join(args.bin, "arcd"), "--config", os.path.join(args.source, "config", "arcd.toml"),
         "--set", f"storage.path={os.path.join(tmp, 'arc.db')}", "--set", f"listen.api={sock_path}",
         "--set", "listen.dc09_tcp=127.0.0.1:0", "--set", "listen.dc09_udp=",
         "--set", "dc09.ack_unknown_account=true",
         "--set", f"engine.event_codes={os.path.join(args.source, 'config', 'event-codes.toml')}",
         "--set", "log.level=warn"],
        cwd=tmp, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        port = 0
        while time.monotonic() < deadline and not port:
            try:
                status = Api(sock_path).request({"cmd": "status"})
                port = next(l["port"] for l in status["listeners"] if l["name"] == "dc09_tcp")
            except (OSError, EOFError, StopIteration):
                time.sleep(0.1)
        if not port:
            raise SystemExit("arcd did not start")

        # Subscriber: timestamps each push as it arrives.
        sub = Api(sock_path)
        snapshot = sub.request({"cmd": "alarms.subscribe"})
        pushes = queue.Queue()
        stop = threading.Event()

        def read_pushes():
            sub.sock.settimeout(1)
            while not stop.is_set():
                try:
                    msg = sub.line()
                except socket.timeout:
                    continue
                except (EOFError, OSError):
                    return
                pushes.put((time.monotonic(), msg))

        reader = threading.Thread(target=read_pushes, daemon=True)
        reader.start()

        sent_at = {}      # pendant account -> monotonic send time
        at_head = {}      # pendant account -> monotonic time its alarm was pushed at the head
        storm_acks = []   # ACK latency of storm frames (s)
        push_count = [0]
        overflow = [False]
        operator_errors = []
        pendant_ids = {}  # alarm id -> pendant account
        open_pendants = set()
        on_top = {}  # pendant account -> push time with no storm alarm ahead of it
        to_answer = queue.Queue()
        operator = Api(sock_path)

        def handle_pushes():
            while not stop.is_set() or not pushes.empty():
                try:
                    t, msg = pushes.get(timeout=0.2)
                except queue.Empty:
                    continue
                if msg.get("push") == "overflow":
                    overflow[0] = True
                    continue
                push_count[0] += 1
                change = msg.get("change", {})
                alarm = change.get("alarm") or {}
                account = alarm.get("account", "")
                kind = change.get("change")
                if kind == "opened" and account in sent_at:
                    pendant_ids[alarm["id"]] = account
                    # Nothing but older presses the operator has not answered yet may be ahead.
                    older = len(open_pendants)
                    open_pendants.add(alarm["id"])
                    if change.get("rank") == older:
                        on_top[account] = t
                elif kind == "closed":
                    open_pendants.discard(alarm.get("id"))
                # A press reaches the head when a push first shows its alarm there: at once, or
                # when the operator closed the press before it.
                head = change.get("head")
                if head in pendant_ids and pendant_ids[head] not in at_head:
                    at_head[pendant_ids[head]] = t
                    to_answer.put(head)

        def answer():
            # The operator answers each press at the head, so the next one finds it free.
            while not stop.is_set() or not to_answer.empty():
                try:
                    aid = to_answer.get(timeout=0.2)
                except queue.Empty:
                    continue
                try:
                    operator.request({"cmd": "alarm.take", "alarm": aid, "actor": "bench"})
                    operator.request({"cmd": "alarm.acknowledge", "alarm": aid, "actor": "bench"})
                    operator.request({"cmd": "alarm.close", "alarm": aid, "actor": "bench",
                                      "outcome": "bench"})
                except (RuntimeError, OSError, EOFError) as e:
                    operator_errors.append(str(e))

        answering = threading.Thread(target=answer, daemon=True)
        answering.start()

        handler = threading.Thread(target=handle_pushes, daemon=True)
        handler.start()

        start = time.monotonic()

        def storm_sender(index):
            mine = range(index, storm_events, args.connections)
            interval = duration * args.connections / max(1, storm_events)
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                for n, i in enumerate(mine):
                    due = start + n * interval + index * interval / args.connections
                    delay = due - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    account = f"{0x100000 + i:X}"
                    t0 = time.monotonic()
                    s.sendall(frame(account, n, "AT"))
                    reply = b""
                    while not reply.endswith(b"\r"):
                        chunk = s.recv(4096)
                        if not chunk:
                            return
                        reply += chunk
                    storm_acks.append(time.monotonic() - t0)

        def pendant_sender():
            count = int(duration * pendant_rate)
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                for n in range(count):
                    due = start + n / pendant_rate
                    delay = due - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    account = f"{0xF00000 + n:X}"
                    data = frame(account, n, "QA")
                    sent_at[account] = time.monotonic()
                    s.sendall(data)
                    reply = b""
                    while not reply.endswith(b"\r"):
                        chunk = s.recv(4096)
                        if not chunk:
                            return
                        reply += chunk

        senders = [threading.Thread(target=storm_sender, args=(i,)) for i in range(args.connections)]
        senders.append(threading.Thread(target=pendant_sender))
        for t in senders:
            t.start()
        for t in senders:
            t.join(timeout=duration * 3 + 60)
        elapsed = time.monotonic() - start
        time.sleep(1.0)  # the last pushes
        stop.set()
        handler.join(timeout=30)
        answering.join(timeout=30)

        listing = Api(sock_path).request({"cmd": "alarms", "limit": 10000})
        storms = [a for a in listing["alarms"] if a["storm"]]
        latencies = [1000 * (at_head[a] - sent_at[a]) for a in at_head]
        top_latencies = [1000 * (on_top[a] - sent_at[a]) for a in on_top]
        missing = [a for a in sent_at if a not in at_head]

        print(f"storm: {len(storm_acks)} of {storm_events} mains_loss events ACKed in {elapsed:.1f} s "
              f"({len(storm_acks) / elapsed:.0f}/s); ACK latency p50 "
              f"{1000 * percentile(storm_acks, 50):.2f} ms, p99 {1000 * percentile(storm_acks, 99):.2f} ms")
        print(f"grouping: {len(listing['alarms'])} queue entries after the storm "
              f"({len(storms)} storm alarm(s) with {sum(s['members'] for s in storms)} members; "
              f"{listing['open']} open in the queue)")
        print(f"subscriber: {push_count[0]} pushes received; overflow: {overflow[0]}; "
              f"snapshot at subscribe had {snapshot['open']} open")
        p99 = percentile(top_latencies, 99)
        print(f"pendant receipt -> its alarm in the subscriber's stream at the head (only older "
              f"unanswered presses ahead, no storm alarm), {len(top_latencies)} of {len(sent_at)} "
              f"presses at {pendant_rate:.0f}/s: p50 {statistics.median(top_latencies):.2f} ms, "
              f"p99 {p99:.2f} ms, max {max(top_latencies):.2f} ms "
              f"(target p99 <= 50 ms: {'met' if p99 <= 50 else 'NOT met'})")
        print(f"pendant receipt -> rank 0 in the stream, including the wait for this bench's "
              f"operator to close the press before it: p50 {statistics.median(latencies):.2f} ms, "
              f"p99 {percentile(latencies, 99):.2f} ms, max {max(latencies):.2f} ms")
        if operator_errors:
            print(f"operator errors: {len(operator_errors)}, first: {operator_errors[0]}")
        if missing:
            print(f"WARNING: {len(missing)} pendant presses never reached the head in the stream")
        late = len(sent_at) - len(top_latencies)
        if late:
            print(f"WARNING: {late} presses had a storm alarm ahead of them when pushed")
        return 0 if not missing and not late and not overflow[0] else 1
    finally:
        arcd.terminate()
        try:
            arcd.wait(timeout=30)
        except subprocess.TimeoutExpired:
            arcd.kill()
        log.close()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
