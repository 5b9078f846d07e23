#!/usr/bin/env python3
"""bench/scaip: SCAIP ingest through a real arcd, request -> <mrs> snu=0 (event stored).

Starts arcd on loopback (ports chosen at run time, a temporary database) with listen.scaip_udp and
listen.scaip_tcp on, registers SCAIP devices with arcctl, then runs arc-sim --scaip as the senders:
SIP MESSAGE + <mrq>, digest challenge answered once per connection, 200 OK, then arcd's own
MESSAGE carrying the <mrs> after the commit. One request outstanding per connection (as a SCAIP
sender works); CONNECTIONS senders at once, all as one device. Two kinds of traffic: heartbeats (mty=PI, routine
lane) and battery-low alarms (stc=16, alarm lane; technical, so no HOLD). Each run is repeated
RUNS times; the table shows each run and the median run (by p50). Bounded: every arc-sim call
has a deadline and arcd is stopped at the end.

Usage: bench_scaip.py --bin DIR --source DIR [--count 1000] [--connections 1,8] [--runs 3]
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

CID = "7000"
PASSWORD = "Bench-scaip-pw-1"  # 16 characters: the device key, the SIP digest password


def wait_for(predicate, what, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def status(sock_path):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(sock_path)
            s.sendall(b'{"id":1,"cmd":"status"}\n')
            buf = b""
            while b"\n" not in buf:
                chunk = s.recv(65536)
                if not chunk:
                    return None
                buf += chunk
            msg = json.loads(buf.split(b"\n", 1)[0])
            return msg.get("result") if msg.get("ok") else None
    except OSError:
        return None


def run_sim(bin_dir, args):
    r = subprocess.run([os.path.join(bin_dir, "arc-sim"), "--scaip", "--json",
                        "--deadline-s", "120", *args], capture_output=True, timeout=180)
    if not r.stdout:
        raise RuntimeError(f"arc-sim failed ({r.returncode}): {r.stderr.decode()}")
    rep = json.loads(r.stdout)
    if r.returncode != 0:
        print(f"bench_scaip: warning: arc-sim exit {r.returncode}: ok {rep['ok']} of "
              f"{rep['messages']}, unanswered {rep['unanswered']}", file=sys.stderr)
    return rep


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--count", type=int, default=1000, help="requests per run and kind")
    parser.add_argument("--connections", default="1,8", help="comma-separated sender counts")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    conns = [int(c) for c in args.connections.split(",")]

    tmp = tempfile.mkdtemp(prefix="arc-bench-scaip-")
    arcd = None
    try:
        sock_path = os.path.join(tmp, "arcd.sock")
        log = open(os.path.join(tmp, "arcd.log"), "wb")
        arcd = subprocess.Popen(
            [os.path.join(args.bin, "arcd"), "--config",
             os.path.join(args.source, "config", "arcd.toml"),
             "--set", f"storage.path={os.path.join(tmp, 'arc.db')}",
             "--set", f"listen.api={sock_path}",
             "--set", "listen.dc09_tcp=127.0.0.1:0", "--set", "listen.dc09_udp=127.0.0.1:0",
             "--set", "listen.operator=127.0.0.1:0",
             "--set", "listen.scaip_udp=127.0.0.1:0", "--set", "listen.scaip_tcp=127.0.0.1:0",
             "--set", "log.level=warn",
             "--set", f"engine.event_codes={os.path.join(args.source, 'config', 'event-codes.toml')}"],
            stdout=log, stderr=log)
        st = wait_for(lambda: status(sock_path), "arcd")
        ports = {l.get("name"): l.get("port") for l in st["listeners"]}
        r = subprocess.run([os.path.join(args.bin, "arcctl"), "--socket", sock_path, "--json",
                            "device", "add", "--account", CID, "--protocol", "scaip",
                            "--key", PASSWORD, "--label", "bench"],
                           capture_output=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError(f"arcctl device add {CID}: {r.stderr.decode()}")

        rows = []
        for transport in ("udp", "tcp"):
            for c in conns:
                runs = []
                for i in range(args.runs):
                    for kind, extra in (("PI", ["--mty", "PI", "--dty", "2"]),
                                        ("stc16", ["--stc", "16", "--dty", "27"])):
                        cmd = ["--port", str(int(ports[f"scaip_{transport}"])), "--account", CID,
                               "--password", PASSWORD, "--connections", str(c),
                               "--count", str(max(1, args.count // c)), *extra]
                        if transport == "tcp":
                            cmd.append("--tcp")
                        rep = run_sim(args.bin, cmd)
                        runs.append((transport, c, kind, {
                            "ok": rep["ok"], "msgs_per_s": rep["msgs_per_s"],
                            "p50": rep["latency_ms"]["p50"], "p99": rep["latency_ms"]["p99"],
                            "max": rep["latency_ms"]["max"]}))
                rows.append(runs)

        print(f"bench/scaip: {args.count} requests per run and kind, {args.runs} runs, "
              f"arcd {args.bin}")
        print("latency = first SIP MESSAGE of a request -> its <mrs> snu=0 (committed); "
              "one request outstanding per sender")
        print(f"{'transport':<10}{'senders':>8} {'kind':<7}{'snu=0':>7}{'msgs/s':>9}"
              f"{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
        for runs in rows:
            for transport, c, kind, rep in runs:
                print(f"{transport:<10}{c:>8} {kind:<7}{rep['ok']:>7}{rep['msgs_per_s']:>9.0f}"
                      f"{rep['p50']:>9.3f}{rep['p99']:>9.3f}{rep['max']:>9.3f}")
            for kind in ("PI", "stc16"):
                mine = [r for r in runs if r[2] == kind]
                mid = sorted(mine, key=lambda r: r[3]["p50"])[len(mine) // 2]
                rep = mid[3]
                print(f"{'  median':<10}{mid[1]:>8} {kind:<7}{rep['ok']:>7}"
                      f"{statistics.median(r[3]['msgs_per_s'] for r in mine):>9.0f}"
                      f"{rep['p50']:>9.3f}{rep['p99']:>9.3f}{rep['max']:>9.3f}")
        final = status(sock_path) or {}
        print(f"arcd scaip counters: {json.dumps(final.get('scaip', {}))}")
        return 0
    finally:
        if arcd is not None:
            arcd.terminate()
            try:
                arcd.wait(timeout=15)
            except subprocess.TimeoutExpired:
                arcd.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
