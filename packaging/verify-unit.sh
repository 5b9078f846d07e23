#!/usr/bin/env bash
# ctest packaging.unit_verify: stages `cmake --install BUILD` into a temporary DESTDIR and runs
# `systemd-analyze verify` on the installed arcd.service, with the ExecStart path pointing into
# the stage (verify checks that the program exists and is executable). It needs no running
# systemd (containers have none): only the systemd package's unit files. It fails on a non-zero
# exit or any complaint naming the unit (verify only warns on unknown keys or bad values), and it
# first proves on a broken copy that such complaints are seen here.
# Usage: verify-unit.sh CMAKE BUILD_DIR SYSTEMD_ANALYZE UNIT_DIR BIN_DIR CONF_DIR (as installed)
set -euo pipefail
cmake=$1 build=$2 analyze=$3 unitdir=$4 bindir=$5 confdir=$6
stage=$(mktemp -d "${TMPDIR:-/tmp}/arc-unit-XXXXXX")
trap 'rm -rf "$stage"' EXIT

DESTDIR="$stage" "$cmake" --install "$build" >/dev/null
installed="$stage$unitdir/arcd.service"
for f in "$installed" "$stage$bindir/arcd" "$stage$bindir/arcctl" "$stage$confdir/arcd.toml" \
         "$stage$confdir/event-codes.toml" "$stage$unitdir/../../sysusers.d/arc.conf"; do
    [ -e "$f" ] || { echo "not installed: ${f#"$stage"}"; exit 1; }
done
grep -qx "ExecStart=$bindir/arcd --config $confdir/arcd.toml" "$installed" ||
    { echo "ExecStart does not name $bindir/arcd and $confdir/arcd.toml:"; grep ExecStart "$installed"; exit 1; }
grep -q "^path = \"/var/lib/arc/arc.db\"$" "$stage$confdir/arcd.toml" ||
    { echo "installed arcd.toml: storage.path is not /var/lib/arc/arc.db"; exit 1; }

# verify <dir>: runs systemd-analyze on <dir>/arcd.service; prints what it said.
verify() {
    local out rc=0
    out=$(cd "$1" && "$analyze" verify --man=no "$1/arcd.service" 2>&1) || rc=$?
    printf '%s' "$out"
    [ "$rc" -eq 0 ] && ! grep -q 'arcd\.service' <<<"$out"
}

mkdir "$stage/check" "$stage/broken"
sed "s|^ExecStart=$bindir/arcd |ExecStart=$stage$bindir/arcd |" "$installed" \
    >"$stage/check/arcd.service"
sed -e 's/^Type=notify$/Type=notifyy/' "$stage/check/arcd.service" >"$stage/broken/arcd.service"
if verify "$stage/broken" >/dev/null; then
    echo "systemd-analyze verify accepted a broken unit (Type=notifyy): this check would prove nothing"
    exit 1
fi
if ! out=$(verify "$stage/check"); then
    echo "systemd-analyze verify: arcd.service has errors:"
    echo "$out"
    exit 1
fi
echo "arcd.service verified (ExecStart=$bindir/arcd, staged in DESTDIR)"
