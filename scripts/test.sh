#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds arc with ASan+UBSan and -Werror, runs every test
# (unit, integration with real processes), then each libFuzzer target for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --workflow --preset asan
fuzz/run.sh "${ARC_FUZZ_SECONDS:-30}"
