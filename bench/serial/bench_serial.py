#!/usr/bin/env python3
"""bench/serial: serial-receiver ingest, line written -> ACK (event stored), through a real arcd.

Starts arcd on loopback (ports chosen at run time, a temporary database) with one [[serial]]
port on a socat pseudo-terminal pair and listen.receiver_tcp on, then runs arc-sim as the
hardware receiver: LINES Sur-Gard Contact ID lines into the pty (one outstanding at a time, as a
real receiver sends), then the same over TCP with B32 headers. Each run is repeated RUNS times;
the table shows each run and the median run (by p50). Bounded: every arc-sim call has a deadline.

Usage: bench_serial.py --bin DIR --source DIR [--lines 2000] [--runs 3]
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


def run_sim(bin_dir, args):
    r = subprocess.run([os.path.join(bin_dir, "arc-sim"), "--json", "--deadline-s", "120", *args],
                       capture_output=True, timeout=180)
    if r.returncode != 0:
        raise RuntimeError(f"arc-sim failed ({r.returncode}): {r.stderr.decode()}")
    return json.loads(r.stdout)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("socat") is None:
        print("bench_serial: socat is not installed", file=sys.stderr)
        return 2

    tmp = tempfile.mkdtemp(prefix="arc-bench-serial-")
    arcd_end = os.path.join(tmp, "rcv-arcd")
    device_end = os.path.join(tmp, "rcv-device")
    socat = subprocess.Popen(["socat", f"pty,raw,echo=0,link={arcd_end}",
                              f"pty,raw,echo=0,link={device_end}"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    arcd = None
    try:
        wait_for(lambda: os.path.exists(arcd_end) and os.path.exists(device_end), "socat")
        with open(os.path.join(args.source, "config", "arcd.toml")) as f:
            config = f.read()
        config_path = os.path.join(tmp, "arcd.toml")
        with open(config_path, "w") as f:
            f.write(config + f'\n[[serial]]\nname = "bench"\ndevice = "{arcd_end}"\n'
                    'baud = 115200\nformat = "surgard"\n')
        arcd, sock_path, st = start_arcd(args.bin, args.source, tmp,
                                         ["listen.receiver_tcp=127.0.0.1:0"], config_path)
        wait_for(lambda: (status(sock_path) or {}).get("receivers", {}).get("serial", [{}])[0]
                 .get("open"), "the serial port open")
        tcp_port = next(int(l["port"]) for l in st["listeners"] if l["name"] == "receiver_tcp")

        rows = []
        for label, extra in (("serial pty (115200 baud)", ["--serial", device_end,
                                                          "--baud", "115200"]),
                             ("receiver TCP + B32", ["--receiver-tcp", "--port", str(tcp_port),
                                                     "--b32"])):
            runs = []
            for i in range(args.runs):
                # Many accounts and counting zones: every line is a distinct event; E602 is a
                # periodic test (routine lane), E101 a pendant (alarm lane): half and half.
                for event in ("E602", "E101"):
                    rep = run_sim(args.bin, [*extra, "--count", str(args.lines // 2),
                                             "--accounts", "500",
                                             "--account", f"{1000 + i * 1000:04d}"[:4],
                                             "--event", event, "--quiet"])
                    runs.append((label, event, rep))
            rows.append(runs)

        print(f"bench/serial: {args.lines // 2} lines per run and event kind, {args.runs} runs, "
              f"arcd {args.bin}")
        print(f"{'path':<26}{'event':<7}{'acked':>7}{'lines/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
              f"{'max ms':>9}")
        for runs in rows:
            for label, event, rep in runs:
                lat = rep["latency_ms"]
                print(f"{label:<26}{event:<7}{rep['acked']:>7}{rep['msgs_per_s']:>10.0f}"
                      f"{lat['p50']:>9.3f}{lat['p99']:>9.3f}{lat['max']:>9.3f}")
            for event in ("E602", "E101"):
                mine = [r for r in runs if r[1] == event]
                mid = sorted(mine, key=lambda r: r[2]["latency_ms"]["p50"])[len(mine) // 2]
                lat = mid[2]["latency_ms"]
                print(f"{'  median run':<26}{event:<7}{mid[2]['acked']:>7}"
                      f"{statistics.median(r[2]['msgs_per_s'] for r in mine):>10.0f}"
                      f"{lat['p50']:>9.3f}{lat['p99']:>9.3f}{lat['max']:>9.3f}")
        return 0
    finally:
        stop_arcd(arcd)
        socat.terminate()
        socat.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
