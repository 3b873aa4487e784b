#!/usr/bin/env bash
# Installs what the local stack and the tests need on a fresh Debian/Ubuntu machine with Rust:
# PostgreSQL (apt), build tools for librdkafka (apt), the tansu broker (cargo install, ~15-20 min once,
# kept in ~/.cargo/bin) and cargo-nextest when missing. Safe to run again: installs only what is missing.
source "$(dirname "$0")/lib.sh"

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need_apt=()
[ -n "$(pg_bindir)" ] || need_apt+=(postgresql)
command -v make >/dev/null || need_apt+=(make)
command -v g++ >/dev/null || need_apt+=(g++)
command -v curl >/dev/null || need_apt+=(curl)
[ -x /usr/bin/time ] || need_apt+=(time)             # CPU figures of the benchmark
command -v npm >/dev/null || need_apt+=(nodejs npm)   # Grafana dashboard type check
[ -x /usr/bin/chromium ] || need_apt+=(chromium)       # browser tests of the dashboards
command -v promtool >/dev/null || need_apt+=(prometheus) # promtool: checks and tests of the alert rules
if [ ${#need_apt[@]} -gt 0 ]; then
    log "installing with apt: ${need_apt[*]}"
    sudo_ apt-get update -qq
    sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi
# Debian starts a default cluster on 5432; ours is separate and project-local.

# The in-memory storage engine (memory://) needs tansu's `dynostore` feature; the default build has none.
TANSU_MARK="$HOME/.cargo/.freelanceflow-tansu-$TANSU_VERSION-dynostore"
if ! { [ -f "$TANSU_MARK" ] && tansu --version 2>/dev/null | grep -q "$TANSU_VERSION"; }; then
    log "installing tansu $TANSU_VERSION (dynostore) with cargo (about 15-20 minutes on 2 cores, once per machine)"
    CARGO_TARGET_DIR="${TANSU_TARGET_DIR:-$HOME/.cache/freelanceflow/tansu-target}" \
        cargo install --locked tansu --version "$TANSU_VERSION" --features dynostore --force
    touch "$TANSU_MARK"
fi
if ! cargo nextest --version >/dev/null 2>&1; then
    log "installing cargo-nextest"
    cargo install --locked cargo-nextest
fi
log "dependencies ready: PostgreSQL $(basename "$(dirname "$(pg_bindir)")"), $(tansu --version 2>&1 | head -n1)"
