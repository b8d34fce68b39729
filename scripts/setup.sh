#!/usr/bin/env bash
# Installs everything thanos_rs needs on a fresh Debian 12 machine and builds it:
# the Prometheus 2.42 package (the peer the tutorial and the tests run against),
# the Python dependencies, and the package itself with its Rust core in release
# mode. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib.sh
# A C compiler builds mimalloc, the extension's allocator.
ensure_commands prometheus promtool:prometheus cc:gcc

# Without cargo on PATH maturin would try to download a toolchain; fail instead.
export MATURIN_NO_INSTALL_RUST=1
python -m pip install --quiet --upgrade pip
python -m pip install --quiet ".[test]"
