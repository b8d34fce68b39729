#!/usr/bin/env bash
# Runs every test: the Rust crates' own tests, a bounded fuzzing run, then the
# Python suite with .venv's Python, against the package installed there
# (scripts/setup.sh installs the wheel; `make dev` an in-place build). Chromium
# for the UI tests is installed here when missing. Fails if any test fails, if
# an input crashes the fuzzer, and also if pytest collects no test at all.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib.sh
if [ ! -x .venv/bin/python ]; then
    echo "no .venv here: run scripts/setup.sh first" >&2
    exit 1
fi
# The UI tests drive a real headless browser.
ensure_commands chromium chromedriver:chromium-driver

say "cargo test (release)"
cargo test --workspace --release --locked

# Fuzzing: every target for 20 s from the committed corpus (tests/fuzz/corpus),
# coverage-guided; an input that panics, aborts or hangs fails the script.
say "fuzzing every target for 20 s"
scripts/fuzz.sh all --seconds 20

# pytest exits 5 when it collects nothing; `set -e` turns that into a failure too.
say "the Python suite"
.venv/bin/python -m pytest "$@"
