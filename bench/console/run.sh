#!/bin/sh
# bench/console: alarm receipt -> visible in 20 consoles' streams (p50/p99, target <= 50 ms).
# Uses build/release's arcd when built (cmake --preset release && cmake --build --preset
# release --target arcd), else build/asan's (sanitizers slow it: the figures are then an upper
# bound). Extra arguments go to bench_console.py (--clients, --alarms, --interval-ms).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
arcd=""
for preset in release debug asan; do
    if [ -x "$root/build/$preset/bin/arcd" ]; then
        arcd="$root/build/$preset/bin/arcd"
        break
    fi
done
if [ -z "$arcd" ]; then
    echo "run.sh: no arcd built (cmake --build --preset release --target arcd)" >&2
    exit 2
fi
exec python3 "$here/bench_console.py" --arcd "$arcd" --source "$root" "$@"
