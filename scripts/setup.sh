#!/usr/bin/env bash
# Installs everything thanos_rs needs on a fresh Debian 12 machine and builds it:
# the Prometheus 2.42 package (the peer the tutorial and the tests run against),
# a virtual environment in .venv with the Python dependencies, and the package
# itself, built as a release wheel (target/wheels) and installed into .venv.
# Needs python3 (3.11 or later) and Rust (Cargo.toml's rust-version). Safe to
# run again; nothing is installed into the system's Python.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

say "system packages: Prometheus 2.42 and promtool; a C compiler for mimalloc, the extension's allocator"
ensure_commands prometheus promtool:prometheus cc:gcc make
require_rust

say "virtual environment: .venv"
ensure_venv .venv
py=.venv/bin/python
"$py" -m pip install --quiet --upgrade pip
# The same maturin that pyproject.toml's build-system allows.
"$py" -m pip install --quiet "maturin==1.16.0"

say "building the wheel (release profile; a first build takes several minutes)"
# Without this, maturin would try to download a Rust toolchain when cargo is missing.
export MATURIN_NO_INSTALL_RUST=1
rm -f target/wheels/thanos_rs-*.whl
.venv/bin/maturin build --release --locked --out target/wheels
wheel="$(ls target/wheels/thanos_rs-*.whl)"

say "installing $wheel with its test and lint dependencies into .venv"
"$py" -m pip install --quiet "$wheel[test,dev]"
# The line above keeps an installed thanos-rs of the same version; this one
# replaces it (an earlier build, or `make dev`'s in-place one) with this wheel.
"$py" -m pip install --quiet --force-reinstall --no-deps "$wheel"
say "done: .venv/bin/python -m thanos_rs --help"
