#!/usr/bin/env bash
# Service-catalogue search benchmark: Rathaus' in-process search (tantivy), the same search through
# the HTTP API, and the PostgreSQL full-text peer described in
# ../shared/testdata/search-queries/README.md, side by side in one run on the same 52 queries.
#
#   benches/catalog_search.sh > /tmp/catalog_search.md
#
# The Markdown report goes to stdout, progress to stderr. Results: docs/benchmarks.md, section
# "Service catalogue search".
#
# What it does:
#   0. Builds (unless given in the environment) the example and the server:
#        cargo build --release -p rathaus-catalog --example search_bench
#        cargo build --release --bin rathaus
#   1. In process: target/release/examples/search_bench (index build time and heap, search p50/p99
#      on one thread, searches/s on 2 threads, top-5 relevance against
#      benches/data/search_relevance.tsv; see the example's header for the method).
#   2. HTTP: starts `rathaus demo` on a free loopback port with a scratch data directory, waits
#      until GET /api/v1/services answers 200, checks all 52 queries once (status, top-5 relevance
#      for tenant koeln), then `wrk -t1 -c16 -d15s --latency` with a Lua script that cycles through
#      the 52 queries (`/api/v1/services?q=<urlencoded>&tenant=koeln&limit=10`), after a 3 s warm-up.
#   3. PostgreSQL: creates the database rathaus_search_bench, loads 400 tenants x a deterministic
#      60 % of the 5,251 LeiKa services with COPY from a generated CSV (same 60 % rule as the
#      example), stored generated tsvector column over name || legal_basis ('german'), GIN index on
#      (tenant_id, tsv) via btree_gin, VACUUM ANALYZE (each step timed); measures top-5 relevance
#      for tenant 1 with psql, then pgbench -M prepared, 4 clients, one script per query (picked at
#      random per transaction), the tenant random per transaction; p50/p99 from pgbench's
#      per-transaction log (sampled). Drops the database at the end.
#   Before each timed part it waits until no rustc, no nextest and no `cargo build/test/...` process
#   runs (other engineers' builds and tests on the machine distort the numbers), for at most
#   QUIET_TIMEOUT seconds; during the part it checks twice a second, and repeats the part (up to
#   MAX_ATTEMPTS times) when one started meanwhile. The report says how many attempts it took and
#   which parts could not be measured undisturbed.
#
# Environment:
#   SEARCH_BENCH_BIN  the example binary (default: build it, target/release/examples/search_bench)
#   RATHAUS_BIN       the server binary (default: build it, target/release/rathaus)
#   SEARCHES          searches in the in-process throughput run (default 200000)
#   BENCH_THREADS     threads of the in-process throughput run (default 2)
#   WRK_DURATION (15s) WRK_WARMUP (3s) WRK_THREADS (1) WRK_CONNECTIONS (16)
#   PG_DURATION (15) PG_WARMUP (5) PG_CLIENTS (4) PG_JOBS (2) PG_LOG_SAMPLING (0.1)
#   PGHOST PGPORT PGUSER   PostgreSQL server (default 127.0.0.1 5432 postgres, trust auth)
#   BENCH_PG_DB       database to create and drop (default rathaus_search_bench)
#   SKIP_HTTP=1 SKIP_PG=1   leave a part out
#   QUIET_TIMEOUT     longest wait for other builds/tests to finish, seconds (default 3600)
#   MAX_ATTEMPTS      attempts per timed part when builds/tests disturb it (default 5)
#   KEEP_WORK=1       keep the scratch directory (logs, generated CSV, raw outputs)
#   BENCH_RUST_LOG    log filter of the server (default warn)
#
# Needs: cargo (unless both binaries are given), python3, curl, wrk, psql/createdb/pgbench.
# The server and the database are stopped/dropped and the scratch directory removed on exit,
# also on failure or Ctrl-C.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="$(cd "$REPO/.." && pwd)/shared/testdata"
QUERIES="$SHARED/search-queries/queries.txt"
CATALOG="$SHARED/ozg-leika"
LABELS="$REPO/benches/data/search_relevance.tsv"
SEARCHES="${SEARCHES:-200000}"
BENCH_THREADS="${BENCH_THREADS:-2}"
WRK_DURATION="${WRK_DURATION:-15s}"
WRK_WARMUP="${WRK_WARMUP:-3s}"
WRK_THREADS="${WRK_THREADS:-1}"
WRK_CONNECTIONS="${WRK_CONNECTIONS:-16}"
PG_DURATION="${PG_DURATION:-15}"
PG_WARMUP="${PG_WARMUP:-5}"
PG_CLIENTS="${PG_CLIENTS:-4}"
PG_JOBS="${PG_JOBS:-2}"
PG_LOG_SAMPLING="${PG_LOG_SAMPLING:-0.1}"
PG_TENANTS=400
SKIP_HTTP="${SKIP_HTTP:-0}"
SKIP_PG="${SKIP_PG:-0}"
QUIET_TIMEOUT="${QUIET_TIMEOUT:-3600}"
MAX_ATTEMPTS="${MAX_ATTEMPTS:-5}"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
BENCH_PG_DB="${BENCH_PG_DB:-rathaus_search_bench}"
export RUST_LOG="${BENCH_RUST_LOG:-warn}"
psql() { PGOPTIONS="-c client_min_messages=warning" command psql -X -v ON_ERROR_STOP=1 "$@"; }

log() { printf '[catalog_search] %s\n' "$*" >&2; }
die() { printf 'catalog_search.sh: %s\n' "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }

# ---- preconditions ---------------------------------------------------------------------------
command -v python3 >/dev/null 2>&1 || die "python3 is required."
[ -f "$QUERIES" ] || die "queries not found: $QUERIES"
[ -f "$CATALOG/leika_leistungen.csv" ] || die "catalogue not found: $CATALOG"
[ -f "$LABELS" ] || die "relevance labels not found: $LABELS"
if [ "$SKIP_HTTP" != 1 ]; then
  command -v wrk >/dev/null 2>&1 || die "wrk is not installed (apt-get install -y wrk), or set SKIP_HTTP=1."
  command -v curl >/dev/null 2>&1 || die "curl is required for the HTTP part, or set SKIP_HTTP=1."
fi
if [ "$SKIP_PG" != 1 ]; then
  case "$BENCH_PG_DB" in
    test | postgres | template0 | template1 | "") die "refusing to use database '$BENCH_PG_DB'; pick another BENCH_PG_DB." ;;
  esac
  for c in psql createdb pgbench; do
    command -v "$c" >/dev/null 2>&1 || die "$c not found (postgresql-client), or set SKIP_PG=1."
  done
  psql -d postgres -qAtc 'select 1' >/dev/null 2>&1 ||
    die "PostgreSQL at $PGHOST:$PGPORT (user $PGUSER) not reachable; start it or set SKIP_PG=1."
fi

# ---- scratch space and cleanup -----------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/rathaus-catalog-search.XXXXXX")"
SERVER_PID=""
MON_PID=""
PG_CREATED=0

cleanup() {
  local rc=$? _
  trap - EXIT INT TERM
  if [ -n "$MON_PID" ]; then kill "$MON_PID" 2>/dev/null || true; wait "$MON_PID" 2>/dev/null || true; fi
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "$PG_CREATED" = 1 ]; then
    psql -d postgres -qAtc "DROP DATABASE IF EXISTS \"$BENCH_PG_DB\" WITH (FORCE)" >/dev/null 2>&1 ||
      log "WARNING: could not drop database $BENCH_PG_DB"
  fi
  if [ "${KEEP_WORK:-0}" = 1 ]; then
    log "scratch directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  [ "$rc" = 0 ] || log "FAILED (exit $rc)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Other engineers' compilers and test runners on the machine.
busy() {
  pgrep -x rustc >/dev/null 2>&1 || pgrep -f nextest >/dev/null 2>&1 ||
    pgrep -f '^[^ ]*cargo( [^ ]+)* (build|test|check|clippy|bench)( |$)' >/dev/null 2>&1
}
DISTURBED=""
ATTEMPTS=""
wait_quiet() { # label
  local waited=0
  while busy; do
    if [ "$waited" = 0 ]; then log "waiting for other builds/tests to finish before: $1"; fi
    if [ "$waited" -ge "$QUIET_TIMEOUT" ]; then
      log "WARNING: still busy after ${QUIET_TIMEOUT}s; measuring anyway: $1"
      return 0
    fi
    sleep 5
    waited=$((waited + 5))
  done
  # a build may be between two rustc processes: ask again
  sleep 3
  if busy; then wait_quiet "$1"; fi
}
# measure LABEL FUNCTION: runs FUNCTION when the machine is quiet, watching for builds/tests
# meanwhile; repeats it when one ran.
measure() {
  local label="$1" fn="$2" attempt
  for attempt in $(seq 1 "$MAX_ATTEMPTS"); do
    wait_quiet "$label"
    rm -f "$WORK/disturbed"
    (while :; do if busy; then : >"$WORK/disturbed"; fi; sleep 0.5; done) &
    MON_PID=$!
    "$fn"
    kill "$MON_PID" 2>/dev/null || true
    wait "$MON_PID" 2>/dev/null || true
    MON_PID=""
    if [ ! -e "$WORK/disturbed" ]; then
      ATTEMPTS="$ATTEMPTS $label: $attempt;"
      return 0
    fi
    log "a build or test ran during: $label (attempt $attempt of $MAX_ATTEMPTS)"
  done
  ATTEMPTS="$ATTEMPTS $label: $MAX_ATTEMPTS;"
  DISTURBED="$DISTURBED $label;"
}

# ---- binaries ------------------------------------------------------------------------------------
abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
[ -z "${SEARCH_BENCH_BIN:-}" ] || SEARCH_BENCH_BIN="$(abs "$SEARCH_BENCH_BIN")"
[ -z "${RATHAUS_BIN:-}" ] || RATHAUS_BIN="$(abs "$RATHAUS_BIN")"
cd "$REPO"
if [ -z "${SEARCH_BENCH_BIN:-}" ]; then
  log "building the example (cargo build --release -p rathaus-catalog --example search_bench)"
  cargo build --release -p rathaus-catalog --example search_bench >&2
  SEARCH_BENCH_BIN="$REPO/target/release/examples/search_bench"
fi
if [ "$SKIP_HTTP" != 1 ] && [ -z "${RATHAUS_BIN:-}" ]; then
  log "building the server (cargo build --release --bin rathaus)"
  cargo build --release --bin rathaus >&2
  RATHAUS_BIN="$REPO/target/release/rathaus"
fi
[ -x "$SEARCH_BENCH_BIN" ] || die "example binary $SEARCH_BENCH_BIN not found."
[ "$SKIP_HTTP" = 1 ] || [ -x "$RATHAUS_BIN" ] || die "server binary $RATHAUS_BIN not found."

# ---- machine facts -----------------------------------------------------------------------------
NPROC="$(nproc)"
CPU_MODEL="$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
MEM_TOTAL="$(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
KERNEL="$(uname -r)"
COMMIT="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no -- src crates Cargo.toml Cargo.lock 2>/dev/null)" ]; then
  COMMIT="$COMMIT + uncommitted changes to the sources"
fi
WRK_VERSION="-"
[ "$SKIP_HTTP" = 1 ] || WRK_VERSION="$(wrk --version 2>&1 | awk 'NR==1 {print $1, $2}' || true)"
PG_VERSION="-"
[ "$SKIP_PG" = 1 ] || PG_VERSION="$(psql -d postgres -qAtc 'show server_version')"
STARTED="$(date -u '+%Y-%m-%d %H:%M UTC')"

# The 52 queries, as the example and the labels read them.
mapfile -t QS < <(grep -v -e '^#' -e '^[[:space:]]*$' "$QUERIES")
[ "${#QS[@]}" -gt 0 ] || die "no queries in $QUERIES"
log "${#QS[@]} queries"

# ---- 1. in process -------------------------------------------------------------------------------
inprocess() {
  log "in process: $SEARCH_BENCH_BIN ($SEARCHES searches on $BENCH_THREADS threads)"
  "$SEARCH_BENCH_BIN" --data "$CATALOG" --queries "$QUERIES" --labels "$LABELS" --tenants "$PG_TENANTS" \
    --threads "$BENCH_THREADS" --searches "$SEARCHES" --kv "$WORK/inproc.kv" --misses >"$WORK/inproc.md"
}
measure "in-process" inprocess
cat "$WORK/inproc.md" >&2
kv() { sed -n "s/^$2=//p" "$1" | head -n1; }

# ---- 2. HTTP -------------------------------------------------------------------------------------
if [ "$SKIP_HTTP" != 1 ]; then
  mkdir -p "$WORK/cwd" "$WORK/data"
  # The server runs in a scratch directory (no stray ./rathaus.toml); the catalogue comes from the
  # shared test data like in a demo started from the repository.
  log "HTTP: starting rathaus demo"
  (cd "$WORK/cwd" && exec env RATHAUS_CATALOG_DIR="$CATALOG" "$RATHAUS_BIN" demo --listen 127.0.0.1:0 \
    --data-dir "$WORK/data" >"$WORK/server.log" 2>&1) &
  SERVER_PID=$!
  BASE=""
  for _ in $(seq 1 600); do
    BASE="$(grep -o 'Rathaus bereit: http://[0-9.:]*/' "$WORK/server.log" 2>/dev/null | head -n1 | sed 's/^Rathaus bereit: //; s#/$##')" || true
    [ -n "$BASE" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; die "server exited."; }
    sleep 0.1
  done
  [ -n "$BASE" ] || { cat "$WORK/server.log" >&2; die "server did not print its address."; }
  READY=0
  for _ in $(seq 1 600); do
    code="$(curl -s -o /dev/null -w '%{http_code}' "$BASE/api/v1/services?q=Hund&tenant=koeln" || true)"
    if [ "$code" = 200 ]; then READY=1; break; fi
    sleep 0.1
  done
  [ "$READY" = 1 ] || { cat "$WORK/server.log" >&2; die "services API did not answer 200 within 60 s."; }
  log "HTTP: server at $BASE, search ready"

  # Check every query once (status, relevance in the top 5 for koeln) and write the wrk script.
  python3 - "$BASE" "$QUERIES" "$LABELS" "$WORK" <<'PY'
import json, sys, urllib.parse, urllib.request
base, queries, labels, work = sys.argv[1:5]
qs = [l for l in open(queries, encoding="utf-8").read().splitlines() if l.strip() and not l.startswith("#")]
lab = {}
for l in open(labels, encoding="utf-8").read().splitlines():
    if l.strip() and not l.startswith("#"):
        q, keys = l.split("\t", 1)
        lab[q] = {k.strip() for k in keys.split(",") if k.strip()}
paths = ["/api/v1/services?q=%s&tenant=koeln&limit=10" % urllib.parse.quote(q, safe="") for q in qs]
bad, ok, missed = [], 0, []
for q, p in zip(qs, paths):
    try:
        with urllib.request.urlopen(base + p.replace("limit=10", "limit=5"), timeout=10) as r:
            body = json.load(r)
    except Exception as e:  # noqa: BLE001
        bad.append(f"{q}: {e}")
        continue
    hits = set()
    for it in body["items"][:5]:
        if it.get("leika"):
            hits.add(it["leika"])
        hits.add("id:" + it["url"].rstrip("/").rsplit("/", 1)[-1])
    if hits & lab[q]:
        ok += 1
    else:
        missed.append(q)
with open(f"{work}/http.kv", "w", encoding="utf-8") as f:
    f.write(f"http_relevant={ok}\nhttp_missed={'|'.join(missed)}\nhttp_errors={'|'.join(bad)}\n")
with open(f"{work}/queries.lua", "w", encoding="utf-8") as f:
    f.write("local paths = {\n")
    for p in paths:
        f.write('  "%s",\n' % p)
    f.write("}\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n"
            "  return wrk.format(\"GET\", paths[i])\nend\n")
if bad:
    sys.exit("HTTP check failed: " + "; ".join(bad))
PY
  http_load() {
    log "HTTP: warm-up $WRK_WARMUP"
    wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$WRK_WARMUP" -s "$WORK/queries.lua" "$BASE" >/dev/null
    log "HTTP: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_DURATION --latency"
    wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$WRK_DURATION" --latency -s "$WORK/queries.lua" "$BASE" >"$WORK/wrk.out"
    # The same endpoint without a search (empty q answers "no hits" after loading the tenant and
    # its offers): the HTTP and per-request database share of the cost.
    log "HTTP: wrk on an empty query (no search), 5s"
    wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d5s --latency "$BASE/api/v1/services?q=&tenant=koeln&limit=10" >"$WORK/wrk-empty.out"
  }
  measure "HTTP" http_load
  cat "$WORK/wrk.out" >&2
  HTTP_RSS_KB="$(awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)"
  python3 - "$WORK/wrk.out" "$HTTP_RSS_KB" "$WORK/wrk-empty.out" >>"$WORK/http.kv" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
e = open(sys.argv[3]).read()
def ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
lat = {p: ms(v, u) for p, v, u in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", t, re.M)}
rps = re.search(r"Requests/sec:\s+([\d.]+)", t).group(1)
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
sock = re.search(r"Socket errors:(.*)", t)
req = re.search(r"(\d+) requests in", t).group(1)
print(f"http_rps={float(rps):.0f}")
print(f"http_requests={req}")
for p in ("50", "75", "90", "99"):
    print(f"http_p{p}_ms={lat.get(p, 0):.2f}")
print(f"http_non2xx={non2xx.group(1) if non2xx else 0}")
print(f"http_socket_errors={sock.group(1).strip() if sock else 'none'}")
print(f"http_rss_mib={int(sys.argv[2]) / 1024:.1f}")
erps = float(re.search(r"Requests/sec:\s+([\d.]+)", e).group(1))
print(f"http_empty_rps={erps:.0f}")
m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", e, re.M)
print(f"http_empty_p99_ms={ms(m.group(1), m.group(2)):.2f}")
PY
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
fi

# ---- 3. PostgreSQL ---------------------------------------------------------------------------------
if [ "$SKIP_PG" != 1 ]; then
  log "PostgreSQL: generating $PG_TENANTS tenants x 60 % of the services as CSV"
  python3 - "$CATALOG/leika_leistungen.csv" "$WORK/rows.csv" "$WORK/services.csv" "$PG_TENANTS" <<'PY'
import csv, sys
src, out, allout, tenants = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
M = (1 << 64) - 1
def mix(z):  # SplitMix64 finaliser, as `mix` in crates/catalog/examples/search_bench.rs
    z = (z + 0x9E3779B97F4A7C15) & M
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return z ^ (z >> 31)
rows = []
for r in csv.DictReader(open(src, encoding="utf-8", newline="")):
    key = r["service_key"] if r["service_key"].isdigit() else None
    rows.append((int(r["id"]), key, r["name"], r["legal_basis"] or None))
n = 0
with open(out, "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f)
    for t in range(1, tenants + 1):  # tenant-major: one tenant's rows are close together on disk
        for sid, key, name, legal in rows:
            if mix((t << 32) | (sid & 0xFFFFFFFF)) % 100 < 60:
                w.writerow((t, sid, key, name, legal))
                n += 1
with open(allout, "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f)
    for sid, key, name, legal in rows:
        w.writerow((0, sid, key, name, legal))
print(n, len(rows), file=sys.stderr)
PY
  PG_ROWS="$(wc -l <"$WORK/rows.csv")"
  log "PostgreSQL: $PG_ROWS rows; creating database $BENCH_PG_DB"
  psql -d postgres -qAtc "DROP DATABASE IF EXISTS \"$BENCH_PG_DB\" WITH (FORCE)" >/dev/null
  createdb "$BENCH_PG_DB"
  PG_CREATED=1
  pg() { psql -d "$BENCH_PG_DB" -qAt "$@"; }
  pg -c "CREATE EXTENSION IF NOT EXISTS btree_gin"
  TABLE_DDL="(
      tenant_id   int  NOT NULL,
      service_id  int  NOT NULL,
      leika_key   text,
      name        text NOT NULL,
      legal_basis text,
      tsv tsvector GENERATED ALWAYS AS (to_tsvector('german', name || ' ' || coalesce(legal_basis, ''))) STORED
    )"
  pg -c "CREATE TABLE tenant_services $TABLE_DDL"
  pg -c "CREATE TABLE services_all $TABLE_DDL" # the whole catalogue once, for the relevance check only
  pg -c "\\copy services_all (tenant_id, service_id, leika_key, name, legal_basis) FROM '$WORK/services.csv' WITH (FORMAT csv)"
  pg -c "CREATE INDEX ON services_all USING gin (tsv)"

  pg_setup() {
    pg -c "DROP INDEX IF EXISTS tenant_services_fts" -c "TRUNCATE tenant_services" -c "CHECKPOINT"
    log "PostgreSQL: COPY"
    t0="$(now_ms)"
    pg -c "\\copy tenant_services (tenant_id, service_id, leika_key, name, legal_basis) FROM '$WORK/rows.csv' WITH (FORMAT csv)"
    t1="$(now_ms)"
    log "PostgreSQL: CREATE INDEX (GIN on tenant_id, tsv)"
    pg -c "SET maintenance_work_mem = '512MB'" -c "CREATE INDEX tenant_services_fts ON tenant_services USING gin (tenant_id, tsv)"
    t2="$(now_ms)"
    pg -c "VACUUM ANALYZE tenant_services"
    t3="$(now_ms)"
  }
  measure "PostgreSQL set-up" pg_setup
  pg -c "VACUUM ANALYZE services_all"
  {
    echo "pg_rows=$PG_ROWS"
    echo "pg_copy_ms=$((t1 - t0))"
    echo "pg_index_ms=$((t2 - t1))"
    echo "pg_analyze_ms=$((t3 - t2))"
    echo "pg_setup_ms=$((t3 - t0))"
    echo "pg_table_mib=$(pg -c "select round(pg_table_size('tenant_services') / 1048576.0, 1)")"
    echo "pg_index_mib=$(pg -c "select round(pg_relation_size('tenant_services_fts') / 1048576.0, 1)")"
  } >"$WORK/pg.kv"
  pg -c "EXPLAIN SELECT leika_key, name FROM tenant_services, websearch_to_tsquery('german', 'Hundesteuer') q WHERE tenant_id = 7 AND tsv @@ q ORDER BY ts_rank(tsv, q) DESC LIMIT 10" >"$WORK/pg.explain"
  cat "$WORK/pg.explain" >&2

  # Relevance (tenant 1, and the whole catalogue once) and "no hit" count, with the benchmark's query.
  log "PostgreSQL: relevance"
  python3 - "$QUERIES" "$WORK/relevance.sql" <<'PY'
import sys
qs = [l for l in open(sys.argv[1], encoding="utf-8").read().splitlines() if l.strip() and not l.startswith("#")]
with open(sys.argv[2], "w", encoding="utf-8") as f:
    for i, q in enumerate(qs):
        lit = "'" + q.replace("'", "''") + "'"
        for tag, table, cond in (("t", "tenant_services", "tenant_id = 1 AND "), ("a", "services_all", "")):
            f.write(f"SELECT {i}, '{tag}', coalesce(leika_key, 'id:' || service_id) FROM (SELECT leika_key, service_id "
                    f"FROM {table}, websearch_to_tsquery('german', {lit}) q WHERE {cond}tsv @@ q "
                    f"ORDER BY ts_rank(tsv, q) DESC LIMIT 5) s;\n")
        f.write(f"SELECT {i}, 'n', count(*) FROM tenant_services, websearch_to_tsquery('german', {lit}) q "
                f"WHERE tenant_id = 1 AND tsv @@ q;\n")
PY
  pg -F $'\t' -f "$WORK/relevance.sql" >"$WORK/relevance.out"
  python3 - "$QUERIES" "$LABELS" "$WORK/relevance.out" >>"$WORK/pg.kv" <<'PY'
import sys
qs = [l for l in open(sys.argv[1], encoding="utf-8").read().splitlines() if l.strip() and not l.startswith("#")]
lab = {}
for l in open(sys.argv[2], encoding="utf-8").read().splitlines():
    if l.strip() and not l.startswith("#"):
        q, keys = l.split("\t", 1)
        lab[q] = {k.strip() for k in keys.split(",") if k.strip()}
top = {"t": {}, "a": {}}
count = {}
for line in open(sys.argv[3], encoding="utf-8").read().splitlines():
    i, tag, v = line.split("\t")
    if tag == "n":
        count[int(i)] = int(v)
    else:
        top[tag].setdefault(int(i), set()).add(v)
for tag, name in (("t", "tenant"), ("a", "all")):
    miss = [q for i, q in enumerate(qs) if not (top[tag].get(i, set()) & lab[q])]
    print(f"pg_relevant_{name}={len(qs) - len(miss)}")
    print(f"pg_missed_{name}={'|'.join(miss)}")
empty = [q for i, q in enumerate(qs) if count.get(i, 0) == 0]
print(f"pg_nohit={len(empty)}")
print(f"pg_nohit_queries={'|'.join(empty)}")
PY

  # pgbench: one script per query, picked at random per transaction; the query text is a
  # parameter ($2 of the prepared statement), the tenant random per transaction ($1).
  mkdir -p "$WORK/pgbench"
  PGB_ARGS=()
  for i in "${!QS[@]}"; do
    n=$((i + 1))
    printf '%s\n' "\\set tenant random(1, $PG_TENANTS)" \
      "SELECT leika_key, name FROM tenant_services, websearch_to_tsquery('german', :q$n) q WHERE tenant_id = :tenant AND tsv @@ q ORDER BY ts_rank(tsv, q) DESC LIMIT 10;" \
      >"$WORK/pgbench/q$n.sql"
    PGB_ARGS+=(-f "$WORK/pgbench/q$n.sql" -D "q$n=${QS[$i]}")
  done
  pg_load() {
    rm -f "$WORK/pgbench"/log*
    log "PostgreSQL: pgbench warm-up ${PG_WARMUP}s"
    pgbench -n -M prepared -c "$PG_CLIENTS" -j "$PG_JOBS" -T "$PG_WARMUP" "${PGB_ARGS[@]}" "$BENCH_PG_DB" >/dev/null 2>&1
    log "PostgreSQL: pgbench -M prepared -c $PG_CLIENTS -j $PG_JOBS -T $PG_DURATION"
    (cd "$WORK/pgbench" && pgbench -n -M prepared -c "$PG_CLIENTS" -j "$PG_JOBS" -T "$PG_DURATION" \
      -l --sampling-rate "$PG_LOG_SAMPLING" --log-prefix "$WORK/pgbench/log" "${PGB_ARGS[@]}" \
      "$BENCH_PG_DB" >"$WORK/pgbench.out" 2>"$WORK/pgbench.err")
  }
  measure "pgbench" pg_load
  grep -E '^(number of|latency|tps|initial)' "$WORK/pgbench.out" >&2 || true
  python3 - "$WORK/pgbench.out" "$WORK/pgbench" >>"$WORK/pg.kv" <<'PY'
import glob, math, re, sys
out = open(sys.argv[1]).read()
tps = float(re.search(r"^tps = ([\d.]+)", out, re.M).group(1))
tx = re.search(r"number of transactions actually processed: (\d+)", out).group(1)
failed = re.search(r"number of failed transactions: (\d+)", out)
lat = []
for f in glob.glob(sys.argv[2] + "/log*"):
    for line in open(f):
        p = line.split()
        if len(p) >= 3:
            lat.append(int(p[2]))
lat.sort()
def pct(p):
    return lat[max(1, math.ceil(p / 100 * len(lat))) - 1] / 1000 if lat else 0
print(f"pg_tps={tps:.0f}")
print(f"pg_tx={tx}")
print(f"pg_failed={failed.group(1) if failed else 0}")
print(f"pg_lat_samples={len(lat)}")
for p in (50, 90, 99):
    print(f"pg_p{p}_ms={pct(p):.3f}")
print(f"pg_p999_ms={pct(99.9):.3f}")
PY
fi

# ---- report ------------------------------------------------------------------------------------------
I="$WORK/inproc.kv"
H="$WORK/http.kv"
P="$WORK/pg.kv"
[ -f "$H" ] || : >"$H"
[ -f "$P" ] || : >"$P"
fmt() { python3 -c 'import sys; v=sys.argv[1]; print(f"{float(v):,.0f}".replace(",", " ") if v else "-")' "${1:-}"; }
lst() { # a|b|c -> `a`, `b`, `c`
  # shellcheck disable=SC2016 # the backticks are Markdown, not command substitution
  python3 -c 'import sys; v=[x for x in sys.argv[1].split("|") if x]; print(", ".join(f"`{x}`" for x in v) if v else "none")' "${1:-}"
}
verdict() { case "$1" in 1) echo "**met**" ;; 0) echo "**missed**" ;; *) echo "not measured" ;; esac; }
# ge/lt a b: 1 or 0; "-" when a value is missing (a part was skipped)
ge() { python3 -c 'import sys; a,b=sys.argv[1:3]; print("-" if not a or not b or float(b)==0 else int(float(a) >= float(b)))' "${1:-}" "${2:-}"; }
lt() { python3 -c 'import sys; a,b=sys.argv[1:3]; print("-" if not a or not b else int(float(a) < float(b)))' "${1:-}" "${2:-}"; }

QPS="$(kv "$I" qps)"
P99_MS="$(python3 -c 'import sys; print(f"{float(sys.argv[1])/1000:.3f}")' "$(kv "$I" p99_us)")"
P50_MS="$(python3 -c 'import sys; print(f"{float(sys.argv[1])/1000:.3f}")' "$(kv "$I" p50_us)")"
PG_TPS="$(kv "$P" pg_tps)"

cat <<EOF
**Date:** $STARTED · **Commit:** \`$COMMIT\`

**Machine:** $NPROC vCPUs ("$CPU_MODEL"), $MEM_TOTAL RAM, Linux $KERNEL; PostgreSQL $PG_VERSION on the same
machine over TCP loopback; $WRK_VERSION. Everything shares the $NPROC cores.

| Measure | Rathaus, in process | Rathaus, HTTP API | PostgreSQL full-text search |
| --- | ---: | ---: | ---: |
| Data | $(fmt "$(kv "$I" docs)") services in one index + $(kv "$I" tenants) offer bit sets | same, tenant \`koeln\` | $(fmt "$(kv "$P" pg_rows)") rows ($PG_TENANTS tenants × 60 %) |
| Set-up | index build $(kv "$I" build_ms_median) ms (median of $(kv "$I" builds)) | built in the background at start | $(fmt "$(kv "$P" pg_setup_ms)") ms: COPY $(fmt "$(kv "$P" pg_copy_ms)") + GIN $(fmt "$(kv "$P" pg_index_ms)") + ANALYZE $(fmt "$(kv "$P" pg_analyze_ms)") |
| Size | index $(python3 -c 'import sys; print(f"{int(sys.argv[1])/1048576:.1f}")' "$(kv "$I" index_heap_bytes)") MiB + documents $(python3 -c 'import sys; print(f"{int(sys.argv[1])/1048576:.1f}")' "$(kv "$I" docs_heap_bytes)") MiB (heap) | server RSS $(kv "$H" http_rss_mib) MiB after the run | table $(kv "$P" pg_table_mib) MiB + GIN $(kv "$P" pg_index_mib) MiB |
| Latency p50 | $P50_MS ms (1 thread) | $(kv "$H" http_p50_ms) ms | $(kv "$P" pg_p50_ms) ms |
| Latency p99 | $P99_MS ms (1 thread) | $(kv "$H" http_p99_ms) ms | $(kv "$P" pg_p99_ms) ms |
| Queries/s | $(fmt "$QPS") ($(kv "$I" threads) threads) | $(fmt "$(kv "$H" http_rps)") (wrk, $WRK_CONNECTIONS connections) | $(fmt "$PG_TPS") (pgbench, $PG_CLIENTS clients) |
| Relevant service in top 5 | $(kv "$I" relevant_tenant) / 52 (tenant 1); $(kv "$I" relevant_state) / 52 (no tenant) | $(kv "$H" http_relevant) / 52 (koeln) | $(kv "$P" pg_relevant_tenant) / 52 (tenant 1); $(kv "$P" pg_relevant_all) / 52 (all services) |
| Queries with no hit at all | 0 | | $(kv "$P" pg_nohit) / 52 (tenant 1) |

| Goal | Result | Verdict |
| --- | --- | --- |
| ≥ 5 × PostgreSQL's queries/s ($(fmt "$(python3 -c 'import sys; print(5*float(sys.argv[1] or 0))' "${PG_TPS:-0}")")) | $(fmt "$QPS") searches/s in process | $(verdict "$(ge "$QPS" "$(python3 -c 'import sys; print(5*float(sys.argv[1] or 0))' "${PG_TPS:-0}")")") |
| p99 < 1 ms, search call in process | $P99_MS ms | $(verdict "$(lt "$P99_MS" 1)") |
| p99 < 5 ms through HTTP | $(kv "$H" http_p99_ms) ms | $(verdict "$(lt "$(kv "$H" http_p99_ms)" 5)") |
| relevant service in top 5 for ≥ 50 of 52 | $(kv "$I" relevant_tenant) / 52 | $(verdict "$(ge "$(kv "$I" relevant_tenant)" 50)") |

Missed in the top 5 — Rathaus (tenant 1): $(lst "$(kv "$I" missed_tenant)"); Rathaus (no tenant): $(lst "$(kv "$I" missed_state)");
HTTP (koeln): $(if [ "$SKIP_HTTP" = 1 ]; then echo "not measured"; else lst "$(kv "$H" http_missed)"; fi).
PostgreSQL (tenant 1): $(if [ "$SKIP_PG" = 1 ]; then echo "not measured"; else lst "$(kv "$P" pg_missed_tenant)"; fi).
PostgreSQL (all services): $(if [ "$SKIP_PG" = 1 ]; then echo "not measured"; else lst "$(kv "$P" pg_missed_all)"; fi).
PostgreSQL no hit at all (tenant 1): $(if [ "$SKIP_PG" = 1 ]; then echo "not measured"; else lst "$(kv "$P" pg_nohit_queries)"; fi).

HTTP: $(fmt "$(kv "$H" http_requests)") requests, non-2xx/3xx: $(kv "$H" http_non2xx), socket errors: $(kv "$H" http_socket_errors); p75/p90 $(kv "$H" http_p75_ms)/$(kv "$H" http_p90_ms) ms.
The same endpoint with an empty query (tenant and offers loaded, no search): $(fmt "$(kv "$H" http_empty_rps)") requests/s, p99 $(kv "$H" http_empty_p99_ms) ms.
In process: p90 $(kv "$I" p90_us) µs, p99.9 $(kv "$I" p999_us) µs, max $(kv "$I" max_us) µs over $(kv "$I" latency_calls) calls; 1 thread $(fmt "$(kv "$I" qps_1thread)") searches/s; build min $(kv "$I" build_ms_min) ms, peak heap during build +$(python3 -c 'import sys; print(f"{int(sys.argv[1])/1048576:.1f}")' "$(kv "$I" build_peak_bytes)") MiB.
PostgreSQL: $(fmt "$(kv "$P" pg_tx)") transactions, failed: $(kv "$P" pg_failed), p90 $(kv "$P" pg_p90_ms) ms, p99.9 $(kv "$P" pg_p999_ms) ms ($(kv "$P" pg_lat_samples) sampled latencies).
Attempts per timed part (repeated when another build/test ran meanwhile):$ATTEMPTS disturbed in every attempt:${DISTURBED:- none}.

<details><summary>In-process details</summary>

$(cat "$WORK/inproc.md")

</details>
EOF
log "done"
