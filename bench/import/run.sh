#!/usr/bin/env bash
# Import benchmark in one command: builds the release preset (arcd, arcctl, arc-sim), then runs
# arcd on 127.0.0.1 port 0 with a temporary database and measures alarm ACK latency while
# `arcctl import subscribers` loads 10,000 and 50,000 rows. Prints one table.
#   bench/import/run.sh [--rows 10000,50000] [--rate 100] [--duration 20]
# ARC_BIN=DIR uses binaries already built in DIR (no build step).
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/release-bin.sh
release_bin arcd arcctl arc-sim
exec python3 bench/import/bench_import.py --bin "$ARC_BIN" --source . "$@"
