#!/usr/bin/env bash
# Runs every test: the Rust crates' own tests, then the Python suite against the
# installed package (scripts/setup.sh installs it; Chromium for the UI tests is
# installed here when missing). Fails if any test fails and
# also if pytest collects no test at all.
set -euo pipefail
cd "$(dirname "$0")/.."

# The UI tests drive a real headless browser.
source scripts/lib.sh
ensure_commands chromium chromedriver:chromium-driver

cargo test --workspace --release --locked

# pytest exits 5 when it collects nothing; `set -e` turns that into a failure too.
python -m pytest "$@"
