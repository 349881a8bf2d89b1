#!/usr/bin/env bash
# Online-forms benchmark (issue "Online forms"): on SQLite and on PostgreSQL, each with a fresh
# `rathaus demo`:
#   1. import time of the real FIM schema "Antrag Blaue Karte EU" (`rathaus forms import-fim`,
#      the whole CLI run: read, parse, convert, store);
#   2. rendering the form with all of its 71 fields on one page (`?ansicht=alle`): wrk, p50/p99;
#   3. durable submissions per second through `POST …/forms/{id}/submissions` (validated, stored
#      with its audit entry in one transaction, answered with the receipt's reference number),
#      every request with its own Idempotency-Key; afterwards the stored rows are counted and
#      must equal the 201 answers.
#
#   cargo build --release && benches/forms/run.sh > /tmp/forms-bench.md
#
# Env: RATHAUS_BIN (default target/release/rathaus), BACKENDS ("sqlite postgres"),
#      WRK_DURATION (15s), WRK_WARMUP (3s), WRK_CONNECTIONS (32), PAGE_CONNECTIONS (8),
#      PGURL_BASE (postgres://postgres@127.0.0.1:5432), BENCH_PG_DB (rathaus_forms_bench),
#      KEEP_WORK=1 keeps the scratch directory.
# Markdown goes to stdout, progress to stderr. Servers are stopped and the database dropped on
# exit, also on failure.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$REPO/benches/forms"
SHARED="$(cd "$REPO/.." && pwd)/shared"
BIN="${RATHAUS_BIN:-$REPO/target/release/rathaus}"
BACKENDS="${BACKENDS:-sqlite postgres}"
WRK_DURATION="${WRK_DURATION:-15s}"
WRK_WARMUP="${WRK_WARMUP:-3s}"
WRK_CONNECTIONS="${WRK_CONNECTIONS:-32}"
PAGE_CONNECTIONS="${PAGE_CONNECTIONS:-8}"
PGURL_BASE="${PGURL_BASE:-postgres://postgres@127.0.0.1:5432}"
PGDB="${BENCH_PG_DB:-rathaus_forms_bench}"
SCHEMA="$SHARED/testdata/xdatenfelder/v2/S00000121_Antrag_Blaue_Karte_EU.xdf2.xml"
BODY="$REPO/crates/forms/tests/samples/blaue-karte/valid-minimal.json"

log() { printf '[forms-bench] %s\n' "$*" >&2; }
[ -x "$BIN" ] || { log "no binary at $BIN (cargo build --release)"; exit 1; }
command -v wrk >/dev/null || { log "wrk is missing (apt-get install wrk)"; exit 1; }

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  psql "$PGURL_BASE/postgres" -qc "DROP DATABASE IF EXISTS $PGDB" >/dev/null 2>&1 || true
  [ "${KEEP_WORK:-0}" = 1 ] && log "scratch kept: $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }

start_server() { # backend → sets BASE, SERVER_PID, DATA, DBURL
  local backend="$1"
  DATA="$WORK/$backend"
  mkdir -p "$DATA"
  if [ "$backend" = postgres ]; then
    psql "$PGURL_BASE/postgres" -qc "DROP DATABASE IF EXISTS $PGDB" >/dev/null
    psql "$PGURL_BASE/postgres" -qc "CREATE DATABASE $PGDB" >/dev/null
    DBURL="$PGURL_BASE/$PGDB"
  else
    DBURL="sqlite://$DATA/rathaus.db?mode=rwc"
  fi
  RATHAUS_DATABASE_URL="$DBURL" RUST_LOG=warn RATHAUS_FORMS__ANONYMOUS_SUBMISSIONS_PER_MINUTE=0 RATHAUS_CATALOG_DIR="$SHARED/testdata/ozg-leika" \
    "$BIN" demo --listen 127.0.0.1:0 --data-dir "$DATA" >"$DATA/server.out" 2>"$DATA/server.err" &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    BASE="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$DATA/server.out" | head -n1 || true)"
    [ -n "$BASE" ] && break
    sleep 0.1
  done
  [ -n "$BASE" ] || { log "server did not start"; cat "$DATA/server.err" >&2; exit 1; }
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

rows=()
for backend in $BACKENDS; do
  log "$backend: starting the demo"
  start_server "$backend"
  t0=$(date +%s.%N)
  out="$(RATHAUS_DATABASE_URL="$DBURL" RUST_LOG=warn "$BIN" forms import-fim "$SCHEMA" --tenant koeln --data-dir "$DATA")"
  t1=$(date +%s.%N)
  import_ms=$(python3 -c "print(round(($t1 - $t0) * 1000))")
  form_url="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["url"])' "$out")"
  form_id="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["form_id"])' "$out")"
  fields="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["fields"])' "$out")"
  log "$backend: imported in ${import_ms} ms ($fields fields): $form_url"
  if [ "$backend" = postgres ]; then
    # The demo has just written the catalogue for every tenant: analyse now, so that autovacuum
    # does not start on the same two cores in the middle of a timed part.
    psql -q "$DBURL" -c 'VACUUM (ANALYZE)' >/dev/null
  fi
  page="$BASE$form_url?ansicht=alle"
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$page")" = 200 ] || { log "page not 200"; exit 1; }
  wrk -t1 -c"$PAGE_CONNECTIONS" -d"$WRK_WARMUP" "$page" >/dev/null
  page_result="$(wrk -t1 -c"$PAGE_CONNECTIONS" -d"$WRK_DURATION" --latency -s "$HERE/page.lua" "$page" | grep '^RESULT')"
  log "$backend: page $page_result"
  submit="$BASE/api/v1/tenants/koeln/forms/$form_id/submissions"
  BODY_FILE="$BODY" KEY_PREFIX="warm" wrk -t1 -c"$WRK_CONNECTIONS" -d"$WRK_WARMUP" -s "$HERE/submit.lua" "$submit" >/dev/null
  before="$(RATHAUS_DATABASE_URL="$DBURL" python3 - "$backend" "$DBURL" <<'PY'
import sqlite3, subprocess, sys
backend, url = sys.argv[1], sys.argv[2]
q = "SELECT COUNT(*) FROM submissions"
if backend == "sqlite":
    print(sqlite3.connect(url.split("sqlite://")[1].split("?")[0]).execute(q).fetchone()[0])
else:
    print(subprocess.run(["psql", url, "-tAc", q], capture_output=True, text=True, check=True).stdout.strip())
PY
)"
  sub_result="$(BODY_FILE="$BODY" KEY_PREFIX="run-$backend" wrk -t1 -c"$WRK_CONNECTIONS" -d"$WRK_DURATION" --latency -s "$HERE/submit.lua" "$submit" | grep '^RESULT')"
  log "$backend: submissions $sub_result"
  after="$(python3 - "$backend" "$DBURL" <<'PY'
import sqlite3, subprocess, sys
backend, url = sys.argv[1], sys.argv[2]
q = "SELECT COUNT(*) FROM submissions"
if backend == "sqlite":
    print(sqlite3.connect(url.split("sqlite://")[1].split("?")[0]).execute(q).fetchone()[0])
else:
    print(subprocess.run(["psql", url, "-tAc", q], capture_output=True, text=True, check=True).stdout.strip())
PY
)"
  stored=$((after - before))
  rows+=("| $backend | $import_ms | $(field rps "$page_result") | $(field p50_ms "$page_result") | $(field p99_ms "$page_result") | $(field rps "$sub_result") | $(field p50_ms "$sub_result") | $(field p99_ms "$sub_result") | $(field non2xx "$sub_result") | $stored of $(field requests "$sub_result") |")
  stop_server
done

cat <<EOF
## Online forms: import, page rendering, durable submissions

**Date:** $(date -u '+%Y-%m-%d %H:%M') UTC · **Commit:** \`$(git -C "$REPO" rev-parse --short HEAD)\` ·
**Machine:** $(nproc) vCPUs, load average at the end $(cut -d' ' -f1-3 /proc/loadavg) · wrk $(wrk --version 2>&1 | head -n1 | cut -d' ' -f2)
· page: \`-t1 -c$PAGE_CONNECTIONS -d$WRK_DURATION\`, submissions: \`-t1 -c$WRK_CONNECTIONS -d$WRK_DURATION\` (after a $WRK_WARMUP warm-up each); server and wrk share the cores.

Form: FIM "Antrag Blaue Karte EU" (S00000121, XDF 2, $fields fields), page \`?ansicht=alle\`
(all fields on one page); submission body: \`crates/forms/tests/samples/blaue-karte/valid-minimal.json\`.

| Backend | Import (ms, CLI run) | Page req/s | Page p50 ms | Page p99 ms | Submissions/s | Submit p50 ms | Submit p99 ms | Non-2xx | Stored rows |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
$(printf '%s\n' "${rows[@]}")
EOF
