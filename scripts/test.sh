#!/usr/bin/env bash
# The test command (README, CI): installs what is missing, starts the local stack (PostgreSQL + tansu on
# loopback), builds the binary the end-to-end tests run, then runs every test with cargo-nextest.
# The stack is stopped again if this script started it.
source "$(dirname "$0")/lib.sh"
cd "$FF_ROOT"

bash scripts/install-deps.sh
started_stack=0
status="$(bash scripts/stack.sh status)"
if ! grep -q "^tansu  up" <<<"$status"; then started_stack=1; fi
bash scripts/stack.sh up
if [ "$started_stack" = 1 ] && [ "${FF_KEEP_STACK:-0}" != 1 ]; then
    trap 'bash scripts/stack.sh down' EXIT
fi

log "building (target dir $CARGO_TARGET_DIR)"
# the whole workspace with its tests at once: one feature resolution, so the binary the end-to-end
# tests run and the test binaries share their dependencies
# Grafana dashboards: type-checked against Grafana's published schema, queries against the migrations
bash scripts/check-grafana.sh
# Kubernetes manifests: the Helm chart (render, lint, checks), kubernetes-validate, checkov
bash scripts/check-k8s.sh
# Prometheus alert rules: promtool check rules, and their unit tests (promtool test rules)
bash scripts/check-alerts.sh
cargo build --locked --workspace --all-targets
export FF_BIN="$CARGO_TARGET_DIR/debug/freelanceflow"
log "running the tests"
cargo nextest run --locked --workspace --no-fail-fast "$@"
