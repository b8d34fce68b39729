# Shared by the scripts: installs Debian packages whose commands are missing.
# Usage: ensure_commands "prometheus promtool:prometheus" "chromedriver:chromium-driver"
# (command, or command:package when the names differ).

ensure_commands() {
    local missing=()
    for spec in "$@"; do
        local cmd="${spec%%:*}" pkg="${spec#*:}"
        command -v "$cmd" >/dev/null || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}
