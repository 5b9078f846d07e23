#!/usr/bin/env bash
# SCAIP benchmark in one command: builds the release preset (arcd, arcctl, arc-sim), then runs arcd
# on 127.0.0.1 port 0 with listen.scaip_udp and listen.scaip_tcp and a temporary database, and
# loads it with arc-sim --scaip (heartbeats and battery-low alarms, 1 and 8 senders, UDP and TCP).
# Prints one table: snu=0 per second and request -> <mrs> snu=0 latency (p50, p99, max).
#   bench/scaip/run.sh [--count 1000] [--connections 1,8] [--runs 3]
# ARC_BIN=DIR uses binaries already built in DIR (no build step).
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/release-bin.sh
release_bin arcd arcctl arc-sim
exec python3 bench/scaip/bench_scaip.py --bin "$ARC_BIN" --source . "$@"
