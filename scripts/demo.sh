#!/usr/bin/env bash
# The main job (README): the whole local stack on generated sample data.
# Installs what is missing, starts PostgreSQL and tansu, migrates the warehouse, generates a seeded data
# set, starts the master, two workers and the dashboards, loads the files, waits until everything is
# committed, prints the indicators, and leaves the stack running. `make down` (scripts/stack.sh down) stops it.
source "$(dirname "$0")/lib.sh"
cd "$FF_ROOT"

bash scripts/install-deps.sh
fresh_broker=0
status="$(bash scripts/stack.sh status)"
grep -q "^tansu  up" <<<"$status" || fresh_broker=1
bash scripts/stack.sh up
log "building freelanceflow (release; the first build takes a while on 2 cores)"
cargo build --locked --release -p freelanceflow
mkdir -p "$FF_STATE_DIR/pids" "$FF_STATE_DIR/logs"

"$FF_BIN" migrate
if [ "$fresh_broker" = 1 ]; then
    # tansu keeps its log in memory: a new broker has empty topics, so offsets and the ledger of a
    # previous run mean nothing any more (a production Kafka keeps its log and this never applies)
    psql "$FF_DATABASE_URL" -qtAX -c "TRUNCATE consumer_offsets, fins_chargement, fichiers_charges" >/dev/null
fi
DATA="${FF_DATA_DIR:-$FF_STATE_DIR/data}"
if [ ! -f "$DATA/_manifest.json" ]; then
    "$FF_BIN" generate --out "$DATA" --invoices "${FF_DEMO_INVOICES:-30000}"
fi

start() { # name args...
    local name="$1"; shift
    local pidf="$FF_STATE_DIR/pids/$name.pid"
    if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then return; fi
    nohup "$FF_BIN" "$@" >"$FF_STATE_DIR/logs/$name.log" 2>&1 &
    echo $! >"$pidf"
    log "$name started (log: $FF_STATE_DIR/logs/$name.log)"
}
start master master
start worker-1 worker --id worker-1
start worker-2 worker --id worker-2
# the dashboards' login: user `demo`, a password generated once and kept in the state folder
USERS="$FF_STATE_DIR/dashboard-users.txt"
if [ ! -s "$USERS" ]; then
    head -c 12 /dev/urandom | base64 | tr -d '/+=' > "$FF_STATE_DIR/dashboard-password.txt"
    "$FF_BIN" dashboard-user demo < "$FF_STATE_DIR/dashboard-password.txt" > "$USERS"
    chmod 600 "$USERS" "$FF_STATE_DIR/dashboard-password.txt"
fi
FF_MASTER_URL="http://$FF_MASTER_LISTEN" start dashboard dashboard --users "$USERS"

log "loading $DATA"
"$FF_BIN" loader --input "$DATA"
"$FF_BIN" wait --timeout 900
"$FF_BIN" kpis
cat <<MSG

The stack keeps running:
  dashboards      http://${FF_DASHBOARD_LISTEN:-127.0.0.1:58090}/   user demo, password in $FF_STATE_DIR/dashboard-password.txt
  dashboards API  http://${FF_DASHBOARD_LISTEN:-127.0.0.1:58090}/api/openapi.json
  master API      http://$FF_MASTER_LISTEN/assignment   /locate/245   /kpis   /lag   /healthz
  warehouse       $FF_DATABASE_URL
  Kafka (tansu)   $FF_KAFKA_BROKERS
  logs            $FF_STATE_DIR/logs/
Load more files:  $FF_BIN loader --input DIR
Stop everything:  make down
MSG
