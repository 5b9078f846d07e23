# Sourced by bench/*/run.sh (bash, from the repository root): `release_bin TARGET...` builds the
# release preset's TARGETs and sets ARC_BIN=build/release/bin, unless ARC_BIN is already set
# (binaries built elsewhere: no build step).
release_bin() {
    if [ -z "${ARC_BIN:-}" ]; then
        cmake --preset release >/dev/null
        cmake --build --preset release --target "$@"
        ARC_BIN=build/release/bin
    fi
}
