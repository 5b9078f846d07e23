#!/bin/sh
# Builds the libFuzzer targets with the "fuzz" preset (clang 14) and runs each for SECONDS seconds
# (default 60), starting from the committed seed corpora. Exits non-zero on any crash, leak,
# sanitizer report or timeout; reproducers land in build/fuzz/artifacts/.
# Usage: fuzz/run.sh [SECONDS] [TARGET...]  (default: every target)
set -eu

seconds=${1:-60}
[ $# -gt 0 ] && shift
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

cmake --preset fuzz
all="fuzz_dc09 fuzz_sia_dcs fuzz_contact_id fuzz_surgard fuzz_csv fuzz_sip_digest fuzz_schedule scaip_mrq_fuzz sip_fuzz"
targets=${*:-$all}
# shellcheck disable=SC2086
cmake --build --preset fuzz --target $targets -- -j2

bin=build/fuzz/bin
mkdir -p build/fuzz/artifacts
status=0
for target in $targets; do
    # New inputs go to a scratch corpus; the committed seeds are read only.
    scratch=build/fuzz/corpus/$target
    mkdir -p "$scratch"
    echo "== $target: ${seconds}s"
    if ! "$bin/$target" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="build/fuzz/artifacts/$target-" \
        "$scratch" "fuzz/corpus/$target"; then
        echo "!! $target failed" >&2
        status=1
    fi
done
exit $status
