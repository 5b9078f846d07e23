#!/usr/bin/env python3
"""Ingest benchmark: arcd on 127.0.0.1 (port 0, temporary database, synchronous=FULL as shipped)
loaded by arc-sim; prints durable ACKed msgs/s, reply latency and the daemon's commit batches.

Usage: bench_ingest.py --bin DIR --source DIR [--scale F] [--keep]
Every run is bounded in messages and time; nothing leaves 127.0.0.1.
"""

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import arcbench  # noqa: E402

ACCOUNT = "1234"


def arcctl(bin_dir, sock, *args):
    r = subprocess.run([os.path.join(bin_dir, "arcctl"), "--socket", sock, "--json", *args],
                       capture_output=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError(f"arcctl {args}: {r.stderr.decode().strip()}")
    return json.loads(r.stdout)


def start_arcd(bin_dir, source, tmp):
    # One peer (127.0.0.1) opens all the connections of the benchmark, idle ones included.
    proc, sock, st = arcbench.start_arcd(
        bin_dir, source, tmp,
        ["limits.max_connections_per_peer=20000", "limits.idle_timeout_s=600"])
    port = next(l["port"] for l in st["listeners"] if l.get("name") == "dc09_tcp")
    return proc, sock, port


def cpu_seconds(pid):
    """User + system CPU time of a process, from /proc (Linux)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def storage(bin_dir, sock):
    s = arcctl(bin_dir, sock, "status")["storage"]
    return s.get("batches", 0), s.get("events", 0)


def run_sim(bin_dir, port, connections, total, rate=0, idle=0, deadline_s=240):
    count = max(1, total // connections)
    cmd = [os.path.join(bin_dir, "arc-sim"), "--port", str(port), "--account", ACCOUNT,
           "--connections", str(connections), "--count", str(count), "--rate", str(rate),
           "--idle", str(idle), "--timeout-ms", "5000", "--retries", "3",
           "--deadline-s", str(deadline_s), "--json"]
    r = subprocess.run(cmd, capture_output=True, timeout=deadline_s + 60)
    if not r.stdout:
        raise RuntimeError(f"arc-sim: rc {r.returncode}: {r.stderr.decode().strip()}")
    rep = json.loads(r.stdout)
    rep["rc"] = r.returncode
    return rep


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="directory with arcd, arcctl, arc-sim")
    ap.add_argument("--source", required=True, help="repository root (config/arcd.toml)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every message count")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    bin_dir = os.path.abspath(args.bin)
    source = os.path.abspath(args.source)

    def n(x):
        return max(1, int(x * args.scale))

    # (label, connections, messages, rate msgs/s, idle connections, target text, target test)
    runs = [
        ("1 connection", 1, n(20_000), 0, 0, "", None),
        ("64 connections", 64, n(200_000), 0, 0, "", None),
        ("1000 connections", 1000, n(300_000), 0, 0, ">= 50,000 msgs/s",
         lambda rep: rep["msgs_per_s"] >= 50_000),
        ("64 + 10,000 idle", 64, n(64_000), 0, 10_000, "", None),
        ("64 at 10,000/s", 64, n(100_000), 10_000, 0, "p99 <= 10 ms",
         lambda rep: rep["latency_ms"]["p99"] <= 10.0),
    ]

    tmp = tempfile.mkdtemp(prefix="arc-bench-ingest-")
    proc = None
    rows = []
    ok = True
    try:
        proc, sock, port = start_arcd(bin_dir, source, tmp)
        arcctl(bin_dir, sock, "device", "add", "--account", ACCOUNT, "--protocol", "dc09",
               "--label", "bench")
        print(f"arcd on 127.0.0.1:{port}, database {tmp}/arc.db (synchronous=FULL)",
              file=sys.stderr)
        for label, conns, total, rate, idle, target, met in runs:
            b0, e0 = storage(bin_dir, sock)
            d0, s0 = cpu_seconds(proc.pid), children_cpu_seconds()
            rep = run_sim(bin_dir, port, conns, total, rate, idle)
            d1, s1 = cpu_seconds(proc.pid), children_cpu_seconds()
            b1, e1 = storage(bin_dir, sock)
            acked = max(rep["acked"], 1)
            batches = b1 - b0
            mean = (e1 - e0) / batches if batches else 0.0
            lat = rep["latency_ms"]
            rows.append([label, str(conns), str(rep["messages"]),
                         f"{rep['msgs_per_s']:,.0f}", f"{lat['p50']:.2f}", f"{lat['p99']:.2f}",
                         f"{lat['max']:.2f}", str(batches), f"{mean:.1f}",
                         f"{(d1 - d0) * 1e6 / acked:.1f}", f"{(s1 - s0) * 1e6 / acked:.1f}", target,
                         "" if met is None else ("met" if met(rep) else "NOT met"),
                         "ok" if rep["rc"] == 0 else
                         f"FAIL acked {rep['acked']}/{rep['messages']} nak {rep['nak']} "
                         f"timeouts {rep['timeouts']} errors {rep['errors']}"
                         + (f" idle {rep['idle_open']}" if idle else "")])
            ok = ok and rep["rc"] == 0
            print(f"  done: {label}: {rep}", file=sys.stderr)
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if args.keep or not ok:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    header = ["run", "conns", "msgs", "ACKed msgs/s", "p50 ms", "p99 ms", "max ms",
              "batches", "mean batch", "arcd CPU us/msg", "sim CPU us/msg", "target", "met?", "every reply"]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    for row in [header] + rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    print(f"({os.cpu_count()} CPUs; load average before the last run: "
          f"{os.getloadavg()[0]:.2f}; arcd and arc-sim share the machine)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
