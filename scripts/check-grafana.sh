#!/usr/bin/env bash
# Checks the Grafana dashboards (observability/grafana/dashboards/*.json):
#  - types: tsc against @grafana/schema, see observability/grafana/typecheck/dashboards.ts;
#  - every panel, query and variable uses the warehouse data source (uid freelanceflow-warehouse);
#  - every relation the SQL reads is created by migrations/*.sql and granted to the reader roles;
#  - dashboard uids are unique.
# Needs node, npm and python3 (stdlib only); installs the pinned npm packages with `npm ci`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GRAFANA="$ROOT/observability/grafana"
TYPECHECK="$GRAFANA/typecheck"

for tool in node npm python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "check-grafana: '$tool' is missing. On Debian/Ubuntu: sudo apt-get install -y nodejs npm python3" >&2
        exit 1
    fi
done

failed=0

echo "== SQL, data sources and uids"
python3 - "$ROOT" <<'PY' || failed=1
import glob, json, os, re, sys

root = sys.argv[1]
WAREHOUSE = "freelanceflow-warehouse"
errors = []

# Relations in creation order, so a later DROP removes one.
relations, granted, grant_all = set(), set(), False
for path in sorted(glob.glob(os.path.join(root, "migrations", "*.sql"))):
    text = re.sub(r"--[^\n]*", " ", open(path, encoding="utf-8").read())
    for m in re.finditer(
            r"\b(CREATE|DROP)\s+(?:OR\s+REPLACE\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?(?:MATERIALIZED\s+)?"
            r"(?:TABLE|VIEW)\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?([\w.\"]+)", text, re.I):
        name = m.group(2).replace('"', "").lower().split(".")[-1]
        (relations.add if m.group(1).upper() == "CREATE" else relations.discard)(name)
    # The Grafana and Power BI logins only get what the reader roles are granted.
    for m in re.finditer(r"\bGRANT\s+SELECT\s+ON\s+(.*?)\s+TO\b", text, re.I | re.S):
        target = m.group(1).strip()
        if re.match(r"ALL\s+TABLES\s+IN\s+SCHEMA", target, re.I):
            grant_all = True
        else:
            target = re.sub(r"^(TABLE)\s+", "", target, flags=re.I)
            granted.update(t.strip().strip('"').lower().split(".")[-1] for t in target.split(","))
if not relations:
    errors.append("no CREATE TABLE/VIEW found in migrations/*.sql")

NAME = r'(?:"[^"]*"|[A-Za-z_][\w$]*)'
TOKEN = re.compile(NAME + r"(?:\." + NAME + r")*|\S")
FROM_IN_CALL = {"EXTRACT", "SUBSTRING", "TRIM", "OVERLAY"}  # FROM inside these is not a relation
END_OF_FROM = {"WHERE", "GROUP", "HAVING", "WINDOW", "ORDER", "LIMIT", "OFFSET", "FETCH", "UNION",
               "INTERSECT", "EXCEPT", "SELECT", "RETURNING"}


def strip_sql(sql):
    sql = re.sub(r"/\*.*?\*/", " ", sql, flags=re.S)
    sql = re.sub(r"--[^\n]*", " ", sql)
    return re.sub(r"'(?:[^']|'')*'", "''", sql)


def read_relations(sql):
    """Relations after FROM, JOIN and the commas of a FROM list, at every depth; function calls
    (unnest(...)), subqueries and CTE names are not relations."""
    toks = TOKEN.findall(strip_sql(sql))
    up = [t.upper() for t in toks]
    ctes = {toks[i].lower() for i in range(len(toks) - 2) if up[i + 1] == "AS" and toks[i + 2] == "("}
    found = []
    frames = [{"call": "", "in_from": False}]  # one per open parenthesis

    def relation_at(j):
        while j < len(toks) and up[j] in ("LATERAL", "ONLY"):
            j += 1
        if j < len(toks) and re.match(r'[A-Za-z_"]', toks[j]) and not (j + 1 < len(toks) and toks[j + 1] == "("):
            name = toks[j].replace('"', "").lower().split(".")[-1]
            if name not in ctes:
                found.append(name)

    for i, t in enumerate(up):
        frame = frames[-1]
        if t == "(":
            frames.append({"call": up[i - 1] if i else "", "in_from": False})
        elif t == ")":
            if len(frames) > 1:
                frames.pop()
        elif t == "FROM":
            if frame["call"] in FROM_IN_CALL or (i and up[i - 1] == "DISTINCT"):
                continue
            frame["in_from"] = True
            relation_at(i + 1)
        elif t == "JOIN" or (t == "," and frame["in_from"]):
            relation_at(i + 1)
        elif t in END_OF_FROM:
            frame["in_from"] = False
    return found


def check_sql(where, sql, used):
    if not sql or not sql.strip():
        errors.append(f"{where}: empty SQL")
        return
    names = read_relations(sql)
    if not names:
        errors.append(f"{where}: reads no relation")
    for name in names:
        used.add(name)
        if name not in relations:
            errors.append(f"{where}: relation '{name}' is not created by migrations/*.sql")
        elif granted and not grant_all and name not in granted:
            errors.append(f"{where}: relation '{name}' is not granted to the reader roles "
                          f"(Grafana and Power BI log in as their members)")


def check_ds(where, ds):
    uid = ds.get("uid") if isinstance(ds, dict) else None
    if uid != WAREHOUSE:
        errors.append(f"{where}: data source uid is {uid!r}, expected {WAREHOUSE!r}")


def panels_of(panels):
    for p in panels:
        yield p
        if p.get("type") == "row":
            yield from panels_of(p.get("panels", []))


uids = {}
files = sorted(glob.glob(os.path.join(root, "observability", "grafana", "dashboards", "*.json")))
if not files:
    errors.append("no dashboard in observability/grafana/dashboards")
for path in files:
    rel = os.path.relpath(path, root)
    try:
        dash = json.load(open(path, encoding="utf-8"))
    except ValueError as e:
        errors.append(f"{rel}: invalid JSON: {e}")
        continue
    uid = dash.get("uid")
    if not uid:
        errors.append(f"{rel}: no uid")
    elif uid in uids:
        errors.append(f"{rel}: uid {uid!r} already used by {uids[uid]}")
    else:
        uids[uid] = rel
    used, n_panels, n_queries = set(), 0, 0
    for var in dash.get("templating", {}).get("list", []):
        if var.get("type") == "query":
            where = f"{rel} variable {var.get('name')!r}"
            check_ds(where, var.get("datasource"))
            query = var.get("query")
            check_sql(where, query.get("rawSql") if isinstance(query, dict) else query, used)
            n_queries += 1
    for p in panels_of(dash.get("panels", [])):
        if p.get("type") == "row":
            continue
        n_panels += 1
        where = f"{rel} panel {p.get('id')} {p.get('title')!r}"
        check_ds(where, p.get("datasource"))
        targets = p.get("targets") or []
        if not targets:
            errors.append(f"{where}: no query")
        for t in targets:
            if "datasource" in t:
                check_ds(f"{where} query {t.get('refId')}", t["datasource"])
            check_sql(f"{where} query {t.get('refId')}", t.get("rawSql"), used)
            n_queries += 1
    print(f"  {rel}: uid {uid}, {n_panels} panels, {n_queries} queries; reads {', '.join(sorted(used))}")

if not granted and not grant_all:
    print("  warning: no GRANT SELECT found in migrations/*.sql; reader grants not checked")
for e in errors:
    print(f"  FAIL {e}")
if errors:
    sys.exit(1)
print(f"  ok: {len(files)} dashboards, uids unique, every relation created"
      + (" and granted" if granted or grant_all else ""))
PY

echo "== types against @grafana/schema"
cd "$TYPECHECK"
# npm ci empties node_modules first: skip it while the tree was installed from this very lock file.
stamp="node_modules/.ff-installed-from"
want="$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    npm ci --no-audit --no-fund --loglevel=error
    echo "$want" >"$stamp"
fi
# Each dashboard as a TypeScript object literal, on the same lines as its .json (see dashboards.ts).
rm -rf generated
mkdir generated
node - "$GRAFANA/dashboards" generated <<'JS' || failed=1
const fs = require('fs');
const path = require('path');
const [src, dst] = process.argv.slice(2);
for (const file of fs.readdirSync(src).filter((f) => f.endsWith('.json')).sort()) {
  const text = fs.readFileSync(path.join(src, file), 'utf8');
  try { JSON.parse(text); } catch (e) { console.error(`  FAIL ${file}: ${e.message}`); process.exitCode = 1; continue; }
  fs.writeFileSync(path.join(dst, file.replace(/\.json$/, '.ts')),
    `import type { DashboardJson } from '../dashboards'; export default ${text.trimEnd()} satisfies DashboardJson;\n`);
}
JS
schema_version="$(node -p "require('./node_modules/@grafana/schema/package.json').version")"
if npx tsc --noEmit -p .; then
    echo "  ok: $(ls generated | wc -l) dashboards match @grafana/schema $schema_version (tsc $(npx tsc --version | cut -d' ' -f2))"
else
    echo "  FAIL tsc (generated/<name>.ts line N is line N of dashboards/<name>.json)"
    failed=1
fi

if [ "$failed" != 0 ]; then
    echo "check-grafana: FAILED" >&2
    exit 1
fi
echo "check-grafana: all checks passed"
