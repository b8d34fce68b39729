#!/usr/bin/env bash
# Installs the built wheel (target/wheels, from scripts/setup.sh) into a fresh
# virtual environment of each CPython the abi3 wheel is for, with no cargo or
# rustc on PATH and binary packages only, and runs scripts/smoke.py in each from
# outside the checkout: what `pip install thanos-rs` gives a user without Rust.
# Usage: scripts/smoke_wheel.sh [VERSION...]   (default: 3.11 3.12 3.13)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

root="$PWD"
wheel="$(ls "$root"/target/wheels/thanos_rs-*-abi3-*.whl)"
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(3.11 3.12 3.13)

# python_for VERSION: that CPython's interpreter: on PATH, or installed by pyenv
# (whose shims only answer for the selected version, so ask its folders).
python_for() {
    local v="$1" candidate
    for candidate in "$(command -v "python$v" || true)" \
        "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/"python$v"; do
        [ -x "$candidate" ] && "$candidate" -c 'pass' 2>/dev/null && { echo "$candidate"; return 0; }
    done
    return 1
}

# PATH without any folder that holds cargo or rustc.
no_rust_path() {
    local dir out=""
    IFS=: read -ra dirs <<<"$PATH"
    for dir in "${dirs[@]}"; do
        [ -e "$dir/cargo" ] || [ -e "$dir/rustc" ] || out="$out${out:+:}$dir"
    done
    echo "$out"
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
clean_path="$(no_rust_path)"
missing=()
for v in "${versions[@]}"; do
    if ! python="$(python_for "$v")"; then
        missing+=("$v")
        continue
    fi
    say "smoke test of $(basename "$wheel") on $("$python" -V) ($python)"
    "$python" -m venv "$work/venv$v"
    (
        cd "$work"
        export PATH="$work/venv$v/bin:$clean_path"
        unset CARGO_HOME RUSTUP_HOME  # smoke.py checks that neither cargo nor rustc is found
        # --only-binary: no dependency, and not thanos-rs, may be built from source here.
        python -m pip install --quiet --only-binary=:all: "$wheel"
        python "$root/scripts/smoke.py" "$root/tests/testdata/anchors/prom242-xor-chunks.bin"
    )
done
if [ ${#missing[@]} -gt 0 ]; then
    # Debian 12 has only 3.11: the others come from pyenv (`pyenv install 3.12 3.13`),
    # or name the versions to test as arguments. A version not tested fails the
    # run, so that CI cannot pass without the test it is there for.
    echo "smoke: no CPython ${missing[*]} on this machine (pyenv install ${missing[*]}, or choose versions: $0 3.11)" >&2
    exit 1
fi
