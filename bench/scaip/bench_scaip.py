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
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from arcbench import start_arcd, status, stop_arcd, wait_for  # noqa: E402

CID = "7000"
PASSWORD = "Bench-scaip-pw-1"  # 16 characters: the device key, the SIP digest password


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
        arcd, sock_path, st = start_arcd(
            args.bin, args.source, tmp,
            ["listen.scaip_udp=127.0.0.1:0", "listen.scaip_tcp=127.0.0.1:0"])
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
        stop_arcd(arcd)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
