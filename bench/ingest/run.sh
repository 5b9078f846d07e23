#!/usr/bin/env bash
# Ingest benchmark in one command: builds the release preset (arcd, arcctl, arc-sim), then runs
# arcd on 127.0.0.1 port 0 with a temporary database and loads it with arc-sim at 1, 64 and 1000
# connections, with 10,000 idle connections, and paced at 10,000 msgs/s. Prints one table.
#   bench/ingest/run.sh [--scale 0.1] [--keep]
# ARC_BIN=DIR uses binaries already built in DIR (no build step).
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/release-bin.sh
release_bin arcd arcctl arc-sim
exec python3 bench/ingest/bench_ingest.py --bin "$ARC_BIN" --source . "$@"
