#!/usr/bin/env bash
# Alarm-queue benchmarks in one command: builds the release preset, then
#  1. bench_queue: the engine alone, 100,000 open alarms and a 50,000-event storm (simulated clock);
#  2. bench_stream.py: the same storm through a real arcd on 127.0.0.1, pendant presses at 10/s,
#     timed from the device's send to the push showing the alarm at the head of the queue.
#   bench/queue/run.sh [--scale 0.2] [--seconds 60] [--keep]   (options go to bench_stream.py)
# ARC_BIN=DIR uses binaries already built in DIR (no build step).
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/release-bin.sh
release_bin arcd arcctl bench_queue
"$ARC_BIN/bench_queue"
exec python3 bench/queue/bench_stream.py --bin "$ARC_BIN" --source . "$@"
