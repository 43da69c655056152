#!/usr/bin/env bash
# Builds the pychrony wheels, installs the default one into a venv under target/, and runs the
# Python tests against the installed package (never the source tree).
#
#   pychrony-py/tests/run.sh [pytest args...]
#
# Environment: PYTHON (default python3) creates the venv; PYCHRONY_VENV (default target/py-venv);
# XTASK_BIN (default: built here) is the xtask binary the chronyd fixture runs;
# PYCHRONY_EXTRA_PYTHONS (default: python3.10 and python3.13 if found, see test_other_pythons.py).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
VENV=${PYCHRONY_VENV:-$ROOT/target/py-venv}
# The ci venv's pinned tools, written once in xtask/src/python.rs (TOOLS).
read -r -a TOOLS < <(sed -n '/^pub const TOOLS: &str =/,/;$/p' xtask/src/python.rs | grep -o '"[^"]*"' | tr -d '"') || true
[ "${#TOOLS[@]}" -gt 0 ] || { echo "run.sh: no TOOLS pins in xtask/src/python.rs" >&2; exit 1; }

# 1. The venv with pinned tools.
[ -x "$VENV/bin/python" ] || "${PYTHON:-python3}" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "${TOOLS[@]}"

# 2. The default wheel (bundled C library), installed into the venv.
rm -rf target/py-wheels
"$VENV/bin/maturin" build -m pychrony-py/Cargo.toml --out target/py-wheels
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps \
    "$(ls "$ROOT"/target/py-wheels/chrony_monitor-*.whl)"

# 3. The fixture CLI.
if [ -z "${XTASK_BIN:-}" ]; then
    cargo build -q -p xtask
    export XTASK_BIN=$ROOT/target/debug/xtask
fi

# 4. A wheel linked to a "system" libchrony (shared library in a temp prefix), for the
#    ChronyLibraryError test: test_system_libchrony.py installs it into a venv of its own.
PREFIX=$ROOT/target/py-system-libchrony
rm -rf "$PREFIX" target/py-wheels-system
"$XTASK_BIN" system-lib "$PREFIX"
PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig "$VENV/bin/maturin" build -m pychrony-py/Cargo.toml \
    --no-default-features --auditwheel skip --out target/py-wheels-system
PYCHRONY_SYSTEM_WHEEL=$(ls "$ROOT"/target/py-wheels-system/chrony_monitor-*.whl)
export PYCHRONY_SYSTEM_WHEEL PYCHRONY_SYSTEM_LIBDIR=$PREFIX/lib

# 5. The tests (the contract, the fixture, stubtest and mypy --strict run from pytest).
exec "$VENV/bin/python" -m pytest -p no:cacheprovider pychrony-py/tests "$@"
