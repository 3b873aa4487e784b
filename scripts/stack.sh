#!/usr/bin/env bash
# The local stack: a project-local PostgreSQL and the tansu Kafka-protocol broker, on loopback.
#   scripts/stack.sh up       start PostgreSQL and tansu (idempotent), create the role and database
#   scripts/stack.sh down     stop everything the stack started (pipeline processes too)
#   scripts/stack.sh status   what runs
#   scripts/stack.sh reset    down, then delete the state folder (data, logs)
source "$(dirname "$0")/lib.sh"
PGDATA="$FF_STATE_DIR/pgdata"
LOGS="$FF_STATE_DIR/logs"
PIDS="$FF_STATE_DIR/pids"

pg_up() {
    local bin; bin="$(pg_bindir)"
    [ -n "$bin" ] || { log "PostgreSQL is not installed: run scripts/install-deps.sh"; exit 1; }
    mkdir -p "$FF_STATE_DIR" "$LOGS" "$PIDS"
    if [ "$(id -u)" = 0 ]; then
        # the postgres user must reach the state folder
        chmod o+x "$FF_STATE_DIR"; chown postgres "$LOGS"
        local d="$FF_STATE_DIR"
        while [ "$d" != / ]; do chmod o+x "$d" 2>/dev/null || true; d="$(dirname "$d")"; done
    fi
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        log "initialising PostgreSQL in $PGDATA"
        mkdir -p "$PGDATA"
        [ "$(id -u)" = 0 ] && chown postgres "$PGDATA"
        as_pg_user "$bin/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
        cat >> "$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $FF_PG_PORT
unix_socket_directories = '$PGDATA'
max_connections = 100
shared_buffers = 512MB
fsync = on
synchronous_commit = on
max_wal_size = 4GB
CONF
    fi
    if ! as_pg_user "$bin/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
        log "starting PostgreSQL on 127.0.0.1:$FF_PG_PORT"
        as_pg_user "$bin/pg_ctl" -D "$PGDATA" -l "$LOGS/postgresql.log" -w -t 60 start >/dev/null
    fi
    local psql=("$bin/psql" -h 127.0.0.1 -p "$FF_PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA)
    if [ "$("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'freelanceflow'")" != 1 ]; then
        "${psql[@]}" -c "CREATE ROLE freelanceflow LOGIN CREATEDB CREATEROLE PASSWORD 'freelanceflow'"
    fi
    # CREATEROLE: the migrations create the read-only roles of the dashboards and Power BI
    "${psql[@]}" -c "ALTER ROLE freelanceflow CREATEROLE"
}

kafka_up() {
    command -v tansu >/dev/null || { log "tansu is not installed: run scripts/install-deps.sh"; exit 1; }
    mkdir -p "$LOGS" "$PIDS"
    if [ -f "$PIDS/tansu.pid" ] && kill -0 "$(cat "$PIDS/tansu.pid")" 2>/dev/null; then return; fi
    log "starting tansu (in-memory storage) on 127.0.0.1:$FF_KAFKA_PORT"
    RUST_LOG="${TANSU_LOG:-warn}" nohup tansu broker --listener-url "tcp://127.0.0.1:$FF_KAFKA_PORT" \
        --advertised-listener-url "tcp://127.0.0.1:$FF_KAFKA_PORT" \
        --storage-engine memory://tansu/ >"$LOGS/tansu.log" 2>&1 &
    local pid=$!
    echo $pid > "$PIDS/tansu.pid"
    if ! wait_port 127.0.0.1 "$FF_KAFKA_PORT" 30 || ! kill -0 $pid 2>/dev/null; then
        log "tansu did not start (is port $FF_KAFKA_PORT taken?): see $LOGS/tansu.log"; exit 1
    fi
}

stop_pid() {
    local f="$1"
    [ -f "$f" ] || return 0
    local pid; pid="$(cat "$f")"
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
}

down() {
    if [ -d "$PIDS" ]; then
        for f in "$PIDS"/*.pid; do [ -e "$f" ] && stop_pid "$f"; done
    fi
    local bin; bin="$(pg_bindir)"
    if [ -n "$bin" ] && [ -s "$PGDATA/PG_VERSION" ]; then
        as_pg_user "$bin/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null 2>&1 || true
    fi
    log "stack stopped"
}

status() {
    local bin; bin="$(pg_bindir)"
    if [ -s "$PGDATA/PG_VERSION" ] && as_pg_user "$bin/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
        echo "postgresql  up    127.0.0.1:$FF_PG_PORT  ($FF_DATABASE_URL)"
    else
        echo "postgresql  down"
    fi
    if [ -d "$PIDS" ]; then
        for f in "$PIDS"/*.pid; do
            [ -e "$f" ] || continue
            local name; name="$(basename "$f" .pid)"
            if kill -0 "$(cat "$f")" 2>/dev/null; then echo "$name  up    pid $(cat "$f")"; else echo "$name  down"; fi
        done
    fi
}

case "${1:-up}" in
    up) pg_up; kafka_up; log "stack up: PostgreSQL 127.0.0.1:$FF_PG_PORT, Kafka (tansu) $FF_KAFKA_BROKERS" ;;
    down) down ;;
    status) status ;;
    reset) down; rm -rf "$FF_STATE_DIR"; log "state removed" ;;
    *) echo "usage: $0 up|down|status|reset" >&2; exit 2 ;;
esac
