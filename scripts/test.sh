#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds arc with ASan+UBSan and -Werror, runs every test
# (unit, integration with real processes), then each libFuzzer target for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
mkdir -p build
cmake --workflow --preset asan 2>&1 | tee build/test-asan.log
fuzz/run.sh "${ARC_FUZZ_SECONDS:-30}"
# The test summary again, last, where people and CI look for it.
summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' build/test-asan.log | tail -1)
total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$summary")
failed=$(sed -E 's/.* ([0-9]+) tests failed.*/\1/' <<<"$summary")
echo "ctest: $((total - failed)) passed, ${failed} failed"
