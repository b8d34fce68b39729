#!/usr/bin/env bash
# Runs every test: the Rust crates' own tests, a bounded fuzzing run, then the
# Python suite against the installed package (scripts/setup.sh installs it;
# Chromium for the UI tests is installed here when missing). Fails if any test
# fails, if an input crashes the fuzzer, and also if pytest collects no test at all.
set -euo pipefail
cd "$(dirname "$0")/.."

# The UI tests drive a real headless browser.
source scripts/lib.sh
ensure_commands chromium chromedriver:chromium-driver

cargo test --workspace --release --locked

# Fuzzing: every target for 20 s from the committed corpus (tests/fuzz/corpus),
# coverage-guided; an input that panics, aborts or hangs fails the script.
scripts/fuzz.sh all --seconds 20

# pytest exits 5 when it collects nothing; `set -e` turns that into a failure too.
python -m pytest "$@"
