# Shared settings of the local stack (sourced by the other scripts).
# Everything lives under $FF_STATE_DIR (default: .ff/ in the repository), on loopback ports.
set -euo pipefail
FF_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export FF_STATE_DIR="${FF_STATE_DIR:-$FF_ROOT/.ff}"
export FF_PG_PORT="${FF_PG_PORT:-55432}"
export FF_KAFKA_PORT="${FF_KAFKA_PORT:-59092}"
export FF_MASTER_LISTEN="${FF_MASTER_LISTEN:-127.0.0.1:58080}"
export FF_DATABASE_URL="${FF_DATABASE_URL:-postgres://freelanceflow:freelanceflow@127.0.0.1:$FF_PG_PORT/freelances_db}"
export FF_ADMIN_DATABASE_URL="${FF_ADMIN_DATABASE_URL:-postgres://freelanceflow:freelanceflow@127.0.0.1:$FF_PG_PORT/postgres}"
export FF_KAFKA_BROKERS="${FF_KAFKA_BROKERS:-127.0.0.1:$FF_KAFKA_PORT}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/freelanceflow/target}"
export PATH="$HOME/.cargo/bin:$PATH"
FF_BIN="$CARGO_TARGET_DIR/release/freelanceflow"
TANSU_VERSION=0.6.0

log() { printf '\033[1m[freelanceflow]\033[0m %s\n' "$*" >&2; }

pg_bindir() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        if [ -x "$d/initdb" ]; then echo "$d"; fi
    done | sort -V | tail -n 1
}

# Runs a command as the owner of the PostgreSQL data directory (initdb refuses root).
as_pg_user() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

wait_port() { # host port seconds
    local i
    for i in $(seq 1 $(( $3 * 10 ))); do
        if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}
