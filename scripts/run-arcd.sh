#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds arc (release) and runs arcd on the shipped config.
# The database goes to ./var/arc.db, the admin socket to ./var/arcd.sock (see config/arcd.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release
exec build/release/bin/arcd --config config/arcd.toml "$@"
