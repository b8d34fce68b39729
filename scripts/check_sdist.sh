#!/usr/bin/env bash
# Builds the sdist (target/sdist) and checks, outside the checkout, that the
# Rust sources it holds compile with the locked dependencies: every file the
# build needs (proto/ for the build script, Cargo.lock, every crate) is in it.
# `cargo check` rather than a second release build keeps CI's time; it shares
# target/ with clippy, so only our own crates are compiled again.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

rm -f target/sdist/thanos_rs-*.tar.gz
.venv/bin/maturin sdist --out target/sdist
sdist="$(ls target/sdist/thanos_rs-*.tar.gz)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tar xzf "$sdist" -C "$work"
say "checking that $sdist compiles"
cargo check --locked --offline --target-dir "$PWD/target" \
    --manifest-path "$work"/thanos_rs-*/rust/python/Cargo.toml
