#!/bin/sh
# bench/serial: Sur-Gard lines written -> ACK (event durable) through a real arcd, on a socat pty
# and over receiver TCP. Uses build/release's binaries when built, else build/asan's (sanitizers
# slow it: the figures are then an upper bound). Extra arguments go to bench_serial.py
# (--lines, --runs).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=""
for preset in release debug asan; do
    if [ -x "$root/build/$preset/bin/arcd" ] && [ -x "$root/build/$preset/bin/arc-sim" ]; then
        bin="$root/build/$preset/bin"
        break
    fi
done
if [ -z "$bin" ]; then
    echo "run.sh: no arcd built (cmake --build --preset release --target arcd arc-sim)" >&2
    exit 2
fi
exec python3 "$here/bench_serial.py" --bin "$bin" --source "$root" "$@"
