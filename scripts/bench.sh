#!/usr/bin/env bash
# End-to-end benchmark: N invoice lines (default 1,000,000) from files to committed warehouse rows, on
# the local stack, with the time of a plain PostgreSQL COPY of the same cleaned rows as the floor.
# Prints the figures and writes them to docs/benchmarks.md.
source "$(dirname "$0")/lib.sh"
cd "$FF_ROOT"
N="${FF_BENCH_INVOICES:-1000000}"

bash scripts/install-deps.sh
bash scripts/stack.sh up
cargo build --locked --release -p freelanceflow

DATA="$FF_STATE_DIR/bench-data-$N"
if [ ! -f "$DATA/_manifest.json" ]; then
    "$FF_BIN" generate --out "$DATA" --invoices "$N" --files 8 >/dev/null
fi
BASE="${FF_ADMIN_DATABASE_URL%/*}"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
# A fresh pipeline (database, topics, group, master, two workers) named $1; logs in $LOGS.
pipeline() {
    TAG="$1"
    export FF_DATABASE_URL="$BASE/$TAG"
    export FF_TOPIC_PROFILS="${TAG}_profils" FF_TOPIC_FACTURES="${TAG}_factures" FF_TOPIC_DLQ="${TAG}_dlq" FF_GROUP="${TAG}_workers"
    export FF_MASTER_LISTEN="127.0.0.1:$(( 20000 + RANDOM % 20000 ))"
    "$FF_BIN" migrate >/dev/null
    local empty; empty="$(mktemp -d)"
    "$FF_BIN" loader --input "$empty" --database-url none >/dev/null 2>&1   # creates the topics
    LOGS="$FF_STATE_DIR/logs/$TAG"; mkdir -p "$LOGS"
    "$FF_BIN" master >"$LOGS/master.log" 2>&1 & pids+=($!)
    "$FF_BIN" worker --id worker-1 >"$LOGS/worker-1.log" 2>&1 & W1=$!
    "$FF_BIN" worker --id worker-2 >"$LOGS/worker-2.log" 2>&1 & W2=$!
    pids+=($W1 $W2)
    sleep 8   # the group forms
}
pipeline "bench_$(date +%s)"

now() { date +%s.%N; }
# CPU seconds (user + system, with those of exited children such as PostgreSQL backends) used so far by
# the processes whose command line matches $1.
cpu() {
    python3 - "$1" <<'PY'
import os, re, sys
tick, total = os.sysconf("SC_CLK_TCK"), 0
for pid in filter(str.isdigit, os.listdir("/proc")):
    if int(pid) == os.getpid():
        continue
    try:
        cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        continue
    if re.search(sys.argv[1], cmd):
        f = stat.rsplit(")", 1)[1].split()
        total += sum(int(x) for x in f[11:15])  # utime stime cutime cstime
print(f"{total / tick:.1f}")
PY
}
cpu_pg0=$(cpu "(^|/)postgres[: ]"); cpu_kafka0=$(cpu "tansu broker")
t0=$(now)
/usr/bin/time -f "%U %S" -o "$LOGS/loader.cpu" "$FF_BIN" loader --input "$DATA" >"$LOGS/loader.txt" 2>"$LOGS/loader.log"
t1=$(now)
"$FF_BIN" wait --timeout 3000 >/dev/null 2>"$LOGS/wait.log"
t2=$(now)
cpu_loader=$(awk '{printf "%.1f", $1 + $2}' "$LOGS/loader.cpu")
cpu_workers=$(cpu "freelanceflow worker"); cpu_master=$(cpu "freelanceflow master")
cpu_pg=$(python3 -c "print(round($(cpu "(^|/)postgres[: ]") - $cpu_pg0, 1))")
cpu_kafka=$(python3 -c "print(round($(cpu 'tansu broker') - $cpu_kafka0, 1))")

PSQL=(psql "$FF_DATABASE_URL" -qtAX -v ON_ERROR_STOP=1)
rows=$("${PSQL[@]}" -c "SELECT count(*) FROM factures")
published=$(grep -Eo '[0-9]+ records published' "$LOGS/loader.txt" | grep -Eo '^[0-9]+')
CSV="$(mktemp -d)/factures.csv"
chmod 777 "$(dirname "$CSV")"
"${PSQL[@]}" -c "\\copy (SELECT * FROM factures) TO '$CSV' (FORMAT csv)"
"${PSQL[@]}" -c "CREATE TABLE copy_floor (LIKE factures INCLUDING ALL)"
c0=$(now)
"${PSQL[@]}" -c "\\copy copy_floor FROM '$CSV' (FORMAT csv)"
c1=$(now)

# Latency: a steady feed of invoices, produce time (Kafka CreateTime) to row committed.
LAT_N="${FF_BENCH_LATENCY_INVOICES:-30000}"
RATE="${FF_BENCH_RATE:-1000}"
LDATA="$FF_STATE_DIR/bench-latency-$LAT_N"
if [ ! -f "$LDATA/_manifest.json" ]; then
    "$FF_BIN" generate --out "$LDATA" --invoices "$LAT_N" --seed 7 >/dev/null
fi
kill "${pids[@]}" 2>/dev/null || true; pids=()   # the throughput run's processes
pipeline "${TAG}_lat"
"$FF_BIN" loader --input "$LDATA" --rate "$RATE" >"$LOGS/loader.txt" 2>"$LOGS/loader.log"
"$FF_BIN" wait --timeout 600 >/dev/null 2>"$LOGS/wait.log"
kill -TERM "$W1" "$W2"; wait "$W1" "$W2" 2>/dev/null || true
lat() { grep -h "commit latency" "$LOGS"/worker-*.log | grep -Eo "$1=[0-9]+" | cut -d= -f2 | sort -n | tail -n 1; }
p50=$(lat p50_ms); p95=$(lat p95_ms); p99=$(lat p99_ms)
measured=$(python3 -c 'import sys; print(sum(map(int, sys.argv[1:])))' $(grep -h "commit latency" "$LOGS"/worker-*.log | grep -Eo "invoices=[0-9]+" | cut -d= -f2))

read -r e2e pub copy <<<"$(python3 -c "print(f'{$t2-$t0:.2f} {$t1-$t0:.2f} {$c1-$c0:.2f}')")"
rate=$(python3 -c "print(round($N/$e2e))")
pubrate=$(python3 -c "print(round($published/$pub))")
ratio=$(python3 -c "print(f'{$e2e/$copy:.1f}')")
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
report=$(cat <<MD
## End-to-end throughput ($(date -u +%Y-%m-%d), commit $commit)

Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; PostgreSQL and tansu (in-memory) on
loopback; release build; master + 2 workers; \`scripts/bench.sh\` with $N invoice lines in 8 CSV files
(plus 1,005 profiles, 3% invalid rows, 1% duplicates).

| measure | value |
| --- | --- |
| invoice lines | $N |
| rows committed to \`factures\` | $rows |
| loader: records published | $published in ${pub} s = **$pubrate records/s** |
| end to end, files to committed rows | ${e2e} s = **$rate invoice lines/s** |
| floor: plain \`COPY\` of the same cleaned rows (same columns, indexes and checks; no reference check) | ${copy} s |
| end to end / COPY | ${ratio}x |
| CPU seconds during the run (2 cores): loader, tansu, workers, master, PostgreSQL | $cpu_loader, $cpu_kafka, $cpu_workers, $cpu_master, $cpu_pg |
| latency, invoice produced -> row committed, steady ${RATE} records/s ($measured invoices; worst of the 2 workers) | p50 ${p50} ms, **p95 ${p95} ms**, p99 ${p99} ms |
MD
)
echo "$report"
{
    echo "# Benchmarks"
    echo
    echo "Figures printed by \`make bench\` (\`scripts/bench.sh\`), newest first. Bars of issue #2: at least"
    echo "50,000 invoices/s end to end at 1M invoices, within 3x of the COPY time."
    echo
    echo "$report"
    echo
    if [ -f docs/benchmarks.md ]; then sed -n '/^## /,$p' docs/benchmarks.md; fi
} > docs/benchmarks.md.new
mv docs/benchmarks.md.new docs/benchmarks.md
