# Shared by the scripts: status lines, Debian packages for missing commands,
# and the project's virtual environment. Sourced, not run.

# say MESSAGE: one status line, so that a long build says which step it is in.
say() {
    printf '==> %s\n' "$*" >&2
}

# ensure_commands "prometheus" "promtool:prometheus" "chromedriver:chromium-driver"
# installs the Debian packages whose commands are missing (command, or
# command:package when the names differ).
ensure_commands() {
    local missing=()
    for spec in "$@"; do
        local cmd="${spec%%:*}" pkg="${spec#*:}"
        command -v "$cmd" >/dev/null || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    apt_install "${missing[@]}"
}

apt_install() {
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    say "installing Debian packages: $*"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "$@"
}

# find_python: prints the path of the first Python 3.11 or later, trying
# $THANOS_PYTHON first. Debian 12 has `python3` (3.11) and no `python`, so
# `python` is never asked for.
find_python() {
    local candidate
    for candidate in ${THANOS_PYTHON:-} python3 python3.13 python3.12 python3.11; do
        command -v "$candidate" >/dev/null || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    echo "no Python 3.11 or later found (tried \$THANOS_PYTHON, python3, python3.13, python3.12, python3.11)" >&2
    return 1
}

# ensure_venv DIR: makes DIR a working virtual environment with pip, unless it
# is one already. A global install is not an option: Debian's pip refuses it
# (PEP 668), and it would mix our pinned dependencies with the system's.
ensure_venv() {
    local venv="$1" python
    if "$venv/bin/python" -c 'import pip' >/dev/null 2>&1; then
        return 0
    fi
    python="$(find_python)" || return 1
    say "creating the virtual environment $venv with $python ($("$python" -V 2>&1))"
    rm -rf "$venv"
    if ! "$python" -m venv "$venv"; then
        # Debian keeps venv's pip bootstrap (ensurepip) in a package of its own.
        rm -rf "$venv"
        apt_install python3-venv
        "$python" -m venv "$venv"
    fi
}

# require_rust: fails with what to do when cargo is missing or older than the
# workspace's rust-version (Debian 12's own rustc is 1.63; rustup has current).
require_rust() {
    local need have
    need="$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)"
    if ! command -v cargo >/dev/null; then
        echo "building from source needs Rust $need or later (cargo not found): https://rustup.rs" >&2
        return 1
    fi
    have="$(cargo --version | cut -d' ' -f2)"
    if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1)" != "$need" ]; then
        echo "building from source needs Rust $need or later; cargo is $have (rustup update)" >&2
        return 1
    fi
}
