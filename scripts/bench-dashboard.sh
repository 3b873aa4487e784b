#!/usr/bin/env bash
# Dashboard API latency at 1M invoices: p50/p95/max of every dashboard API, measured on the warehouse
# left by `make bench` (scripts/bench.sh runs first if there is none). Prints the figures and prepends
# them to docs/benchmarks.md. Bar of issue #4: p95 below 100 ms.
source "$(dirname "$0")/lib.sh"
cd "$FF_ROOT"
N="${FF_BENCH_REQUESTS:-200}"

bash scripts/stack.sh up
BASE="${FF_ADMIN_DATABASE_URL%/*}"
find_db() {
    psql "$FF_ADMIN_DATABASE_URL" -qtAX -c "SELECT datname FROM pg_database WHERE datname ~ '^bench_[0-9]+$' ORDER BY datname DESC" |
    while read -r db; do
        n=$(psql "$BASE/$db" -qtAX -c "SELECT count(*) FROM factures" 2>/dev/null || echo 0)
        if [ "${n:-0}" -ge 900000 ]; then echo "$db"; break; fi
    done
}
DB="${FF_BENCH_DB:-$(find_db)}"
if [ -z "$DB" ]; then
    log "no warehouse with 1M invoices yet: running scripts/bench.sh first"
    bash scripts/bench.sh
    DB="$(find_db)"
fi
cargo build --locked --release -p freelanceflow
export FF_DATABASE_URL="$BASE/$DB"
"$FF_BIN" migrate >/dev/null   # the dashboard views of newer migrations
export FF_TOPIC_PROFILS="${DB}_profils" FF_TOPIC_FACTURES="${DB}_factures" FF_TOPIC_DLQ="${DB}_dlq" FF_GROUP="${DB}_workers"
MASTER="127.0.0.1:$(( 20000 + RANDOM % 20000 ))"
DASH="127.0.0.1:$(( 20000 + RANDOM % 20000 ))"
LOGS="$FF_STATE_DIR/logs/$DB-dashboard"; mkdir -p "$LOGS"
PASSWORD="bench-$RANDOM$RANDOM"
echo "$PASSWORD" | "$FF_BIN" dashboard-user bench > "$LOGS/users.txt"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
FF_MASTER_LISTEN="$MASTER" "$FF_BIN" master >"$LOGS/master.log" 2>&1 & pids+=($!)
"$FF_BIN" dashboard --listen "$DASH" --users "$LOGS/users.txt" --master-url "http://$MASTER" >"$LOGS/dashboard.log" 2>&1 & pids+=($!)
wait_port "${DASH%:*}" "${DASH#*:}" 30
wait_port "${MASTER%:*}" "${MASTER#*:}" 30
rows=$(psql "$FF_DATABASE_URL" -qtAX -c "SELECT count(*) FROM factures")
skill=$(psql "$FF_DATABASE_URL" -qtAX -c "SELECT libelle FROM v_competences ORDER BY nb_freelances DESC LIMIT 1")

table=$(python3 - "$DASH" "$PASSWORD" "$N" "$skill" <<'PY'
import http.cookiejar, statistics, sys, time, urllib.parse, urllib.request
dash, password, n, skill = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
body = urllib.parse.urlencode({"user": "bench", "password": password, "next": "/financier"}).encode()
opener.open(f"http://{dash}/login", body).read()
q = urllib.parse.quote(skill)
endpoints = ["/api/financier", f"/api/financier?from=2024-01&to=2024-12&competence={q}",
             "/api/ressources", f"/api/ressources?competence={q}", "/api/temps-reel"]
for path in endpoints:
    for _ in range(10):
        opener.open(f"http://{dash}{path}").read()
    ms = []
    for _ in range(n):
        t = time.perf_counter()
        r = opener.open(f"http://{dash}{path}")
        r.read()
        assert r.status == 200, (path, r.status)
        ms.append((time.perf_counter() - t) * 1000)
    ms.sort()
    p = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]
    print(f"| `{path.replace('|', '%7C')}` | {p(0.5):.1f} | **{p(0.95):.1f}** | {ms[-1]:.1f} |")
PY
)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
report=$(cat <<MD
## Dashboard API latency ($(date -u +%Y-%m-%d), commit $commit)

Machine: $(nproc) cores; release build; \`scripts/bench-dashboard.sh\`: $N sequential requests per API (after
10 warm-up requests) on the warehouse of the 1M-line benchmark ($rows invoices), master running, no load
running. Skill filter: \`$skill\`. Bar of issue #4: p95 below 100 ms.

| API | p50 ms | p95 ms | max ms |
| --- | --- | --- | --- |
$table
MD
)
echo "$report"
{
    sed -n '1,/^## /{/^## /!p}' docs/benchmarks.md
    echo "$report"
    echo
    sed -n '/^## /,$p' docs/benchmarks.md
} > docs/benchmarks.md.new
mv docs/benchmarks.md.new docs/benchmarks.md
