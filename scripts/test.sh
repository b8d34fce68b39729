#!/usr/bin/env bash
# Runs every test: the Rust crates' own tests, then the Python suite against the
# installed package (scripts/setup.sh installs it). Fails if any test fails and
# also if pytest collects no test at all.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --workspace --release --locked

# pytest exits 5 when it collects nothing; `set -e` turns that into a failure too.
python -m pytest "$@"
