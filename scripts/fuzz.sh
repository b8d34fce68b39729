#!/usr/bin/env bash
# Builds and runs the fuzzer (rust/fuzz) with coverage guidance, on stable Rust.
# Usage: scripts/fuzz.sh <target>|all [--seconds N] [--corpus DIR] [--seed S] [--save DIR]
#        scripts/fuzz.sh <target> --run FILE...     (reproduce a saved input)
#
# The project's crates are compiled with LLVM's SanitizerCoverage edge guards,
# whose callbacks rust/fuzz/src/coverage.rs defines, and with overflow checks
# and debug assertions on, so that an arithmetic overflow or a broken
# invariant is a crash rather than a wrong answer. Only our crates get these
# flags (through this script acting as rustc's wrapper), not the dependencies,
# and the build goes to its own target/fuzz so the normal build is untouched.
set -euo pipefail

if [ -n "${THANOS_FUZZ_WRAPPING:-}" ]; then
    # Called by cargo as `fuzz.sh rustc <args>`.
    rustc="$1"; shift
    case " $* " in
        *" --crate-name thanos_core "* | *" --crate-name thanos_store "* | \
        *" --crate-name thanos_promql "* | *" --crate-name thanos_query "* | \
        *" --crate-name thanos_tsdb "*)
            exec "$rustc" "$@" -C passes=sancov-module \
                -C llvm-args=-sanitizer-coverage-level=3 \
                -C llvm-args=-sanitizer-coverage-trace-pc-guard \
                -C overflow-checks=on -C debug-assertions=on ;;
        *) exec "$rustc" "$@" ;;
    esac
fi

cd "$(dirname "$0")/.."
export THANOS_FUZZ_WRAPPING=1
export RUSTC_WRAPPER="$PWD/scripts/fuzz.sh"
exec cargo run --release --locked -q --target-dir target/fuzz -p thanos-fuzz -- "$@"
