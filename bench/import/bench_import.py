#!/usr/bin/env python3
"""bench/import: what a large CSV import does to alarm ACKs, through a real arcd.

Starts arcd on loopback (ports chosen at run time, a temporary database), registers one DC-09
device and sends it a steady stream of alarms with arc-sim (RATE messages/s for DURATION s, one
connection, one outstanding). Each size is run twice: the stream alone (baseline), then the same
stream with `arcctl import subscribers` of ROWS generated rows (every row with medical notes and a
key-safe code, so the sealing cost is in) started 2 s in. Prints, per size, the import's wall time
and the stream's ACK latency p50/p99/max with and without it: the max is how long an alarm waited
behind the import. Bounded: every process has a deadline and arcd is stopped at the end.

Usage: bench_import.py --bin DIR --source DIR [--rows 10000,50000] [--rate 100] [--duration 20]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from arcbench import start_arcd, stop_arcd  # noqa: E402

ACCOUNT = "5150"


def write_csv(path, rows, prefix):
    with open(path, "w", encoding="utf-8") as f:
        f.write("codice;cognome;nome;data_nascita;comune;indirizzo;civico;telefono;"
                "note_mediche;codice_cassetta\n")
        for i in range(rows):
            f.write(f"{prefix}{i:06d};Rossi{i % 977};Maria;1938-04-{1 + i % 28:02d};Forlì;"
                    f"Via Roma;{1 + i % 200};0543 {100000 + i};"
                    f"diabete, pacemaker dal {1990 + i % 30};{i % 10000:04d}\n")


def sim_cmd(bin_dir, port, rate, duration):
    return [os.path.join(bin_dir, "arc-sim"), "--port", str(port), "--account", ACCOUNT,
            "--count", str(int(rate * duration)), "--rate", str(rate), "--timeout-ms", "10000",
            "--retries", "3", "--deadline-s", str(int(duration * 3 + 30)), "--json"]


def sim_report(proc, timeout):
    out, err = proc.communicate(timeout=timeout)
    if not out:
        raise RuntimeError(f"arc-sim: rc {proc.returncode}: {err.decode().strip()}")
    rep = json.loads(out)
    rep["rc"] = proc.returncode
    return rep


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--rows", default="10000,50000", help="comma-separated import sizes")
    ap.add_argument("--rate", type=float, default=100, help="alarms per second during a run")
    ap.add_argument("--duration", type=float, default=20, help="seconds of alarms per run")
    args = ap.parse_args()
    sizes = [int(s) for s in args.rows.split(",")]
    bin_dir = os.path.abspath(args.bin)

    tmp = tempfile.mkdtemp(prefix="arc-bench-import-")
    arcd = None
    rows = []
    try:
        arcd, sock, st = start_arcd(bin_dir, os.path.abspath(args.source), tmp)
        port = next(int(l["port"]) for l in st["listeners"] if l["name"] == "dc09_tcp")
        arcctl = [os.path.join(bin_dir, "arcctl"), "--socket", sock]
        subprocess.run([*arcctl, "device", "add", "--account", ACCOUNT, "--protocol", "dc09",
                        "--label", "bench"], check=True, capture_output=True, timeout=30)
        for n, size in enumerate(sizes):
            csv_path = os.path.join(tmp, f"subscribers-{size}.csv")
            write_csv(csv_path, size, f"B{n}")
            base = sim_report(subprocess.Popen(sim_cmd(bin_dir, port, args.rate, args.duration),
                                               stdout=subprocess.PIPE, stderr=subprocess.PIPE),
                              args.duration * 3 + 60)
            sim = subprocess.Popen(sim_cmd(bin_dir, port, args.rate, args.duration),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            time.sleep(2)
            t0 = time.monotonic()
            imp = subprocess.run([*arcctl, "--json", "import", "subscribers", csv_path],
                                 capture_output=True, timeout=600)
            import_s = time.monotonic() - t0
            imported = json.loads(imp.stdout or b"{}").get("imported") if imp.returncode == 0 \
                else None
            if imported != size:
                sim.kill()
                raise RuntimeError(f"arcctl import {size}: rc {imp.returncode}, imported "
                                   f"{imported}: {imp.stdout.decode()[:400]} "
                                   f"{imp.stderr.decode().strip()[:400]}")
            loaded = sim_report(sim, args.duration * 3 + 60)
            if import_s + 2 > args.duration:
                print(f"bench_import: the {size}-row import outlasted the alarm stream "
                      f"({import_s:.1f} s); raise --duration", file=sys.stderr)
            rows.append((size, import_s, base, loaded))

        print(f"bench/import: {args.rate:.0f} alarms/s for {args.duration:.0f} s on one DC-09 "
              f"connection; import of subscribers started 2 s in; arcd {bin_dir}")
        print(f"{'rows':>7}{'import s':>10}{'rows/s':>9}  {'stream':<13}{'acked':>7}"
              f"{'p50 ms':>9}{'p99 ms':>9}{'max ms':>10}")
        for size, import_s, base, loaded in rows:
            for label, rep in (("alone", base), ("with import", loaded)):
                lat = rep["latency_ms"]
                lead = (f"{size:>7}{import_s:>10.2f}{size / import_s:>9.0f}" if label == "alone"
                        else " " * 26)
                print(f"{lead}  {label:<13}{rep['acked']:>7}{lat['p50']:>9.3f}"
                      f"{lat['p99']:>9.3f}{lat['max']:>10.3f}"
                      + ("" if rep["rc"] == 0 else f"  (arc-sim exit {rep['rc']})"))
        return 0
    finally:
        stop_arcd(arcd)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
