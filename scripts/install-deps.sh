#!/usr/bin/env bash
# Installs the Debian 12 packages arc needs to build, run and test (idempotent).
set -euo pipefail
packages=(
    build-essential cmake ninja-build pkg-config git
    libboost1.81-dev libsqlite3-dev sqlite3 libsodium-dev libfmt-dev libspdlog-dev
    libgtest-dev libgmock-dev libtomlplusplus-dev libcli11-dev nlohmann-json3-dev libssl-dev
    libncurses-dev libexpected-dev libsystemd-dev systemd libhowardhinnant-date-dev tzdata
    libexpat1-dev
    clang libclang-rt-14-dev clang-format
    python3 socat tmux openssl
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
as_root=()
if [ "$(id -u)" -ne 0 ]; then
    as_root=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
