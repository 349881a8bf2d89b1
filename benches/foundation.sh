#!/usr/bin/env bash
# Foundation benchmark: start-up to ready, idle/loaded RSS, HTTP throughput and p99 latency,
# on SQLite and PostgreSQL. Builds nothing: run `cargo build --release` first.
#
#   cargo build --release && benches/foundation.sh > /tmp/foundation.md
#
# The Markdown report goes to stdout, progress to stderr.
#
# Environment:
#   RATHAUS_BIN     binary to measure (default: target/release/rathaus)
#   STARTUP_RUNS    runs per start-up scenario (default 10)
#   WRK_DURATION    measured wrk duration (default 15s); WRK_WARMUP (default 3s)
#   WRK_THREADS / WRK_CONNECTIONS   (default 1 / 32: server and wrk share the 2 cores)
#   IDLE_SECONDS    idle time before reading the idle RSS (default 5)
#   SKIP_PG=1       leave out PostgreSQL
#   PGHOST PGPORT PGUSER   PostgreSQL server (default 127.0.0.1 5432 postgres, trust auth)
#   BENCH_PG_DB     database to (re)create and drop (default rathaus_bench)
#   KEEP_WORK=1     keep the scratch directory (server logs, raw wrk output)
#   BENCH_RUST_LOG  log filter for the servers (default warn; the server's own default, info,
#                   adds only a few start-up lines: it does not log each request)
#
# All servers are stopped and the scratch directory is removed on exit, also on failure.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
PROBE="$REPO/benches/foundation_probe.py"
BIN="${RATHAUS_BIN:-target/release/rathaus}"
STARTUP_RUNS="${STARTUP_RUNS:-10}"
WRK_DURATION="${WRK_DURATION:-15s}"
WRK_WARMUP="${WRK_WARMUP:-3s}"
WRK_THREADS="${WRK_THREADS:-1}"
WRK_CONNECTIONS="${WRK_CONNECTIONS:-32}"
IDLE_SECONDS="${IDLE_SECONDS:-5}"
SKIP_PG="${SKIP_PG:-0}"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
BENCH_PG_DB="${BENCH_PG_DB:-rathaus_bench}"
PG_URL="postgres://${PGUSER}@${PGHOST}:${PGPORT}/${BENCH_PG_DB}"
export RUST_LOG="${BENCH_RUST_LOG:-warn}"
# psql only: no NOTICE for "DROP DATABASE IF EXISTS" on a database that is not there
psql() { PGOPTIONS="-c client_min_messages=warning" command psql "$@"; }

log() { printf '[foundation] %s\n' "$*" >&2; }
die() { printf 'foundation.sh: %s\n' "$*" >&2; exit 1; }

# ---- preconditions ---------------------------------------------------------------------------
command -v wrk >/dev/null 2>&1 ||
  die "wrk is not installed (Debian/Ubuntu: apt-get install -y wrk). This script installs nothing."
command -v python3 >/dev/null 2>&1 || die "python3 is required (polling helper)."
[ -f "$PROBE" ] || die "helper $PROBE is missing."
case "$BIN" in /*) ;; *) BIN="$PWD/$BIN" ;; esac
[ -x "$BIN" ] || die "binary $BIN not found or not executable: run 'cargo build --release' first, or set RATHAUS_BIN."
if [ "$SKIP_PG" != 1 ]; then
  case "$BENCH_PG_DB" in
    test | postgres | template0 | template1 | "") die "refusing to drop database '$BENCH_PG_DB'; pick another BENCH_PG_DB." ;;
  esac
  if ! command -v psql >/dev/null 2>&1 || ! command -v createdb >/dev/null 2>&1; then
    die "psql/createdb not found (postgresql-client); or set SKIP_PG=1."
  fi
  psql -d postgres -qAtc 'select 1' >/dev/null 2>&1 ||
    die "PostgreSQL at $PGHOST:$PGPORT (user $PGUSER) not reachable; start it or set SKIP_PG=1."
fi

# ---- scratch space and cleanup -----------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/rathaus-foundation.XXXXXX")"
PIDS="$WORK/pids" # one empty file per running server, named by its PID
RUN_CWD="$WORK/cwd" # servers run here, so no ./rathaus.toml from elsewhere is picked up
mkdir -p "$PIDS" "$RUN_CWD"
PG_CREATED=0
HELPER_PID=""

stop_pid() {
  local pid="$1" _
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  wait "$pid" 2>/dev/null || true
  rm -f "$PIDS/$pid"
}

cleanup() {
  local rc=$? f
  trap - EXIT INT TERM
  [ -z "$HELPER_PID" ] || stop_pid "$HELPER_PID" # stops the server it runs, too
  for f in "$PIDS"/*; do
    [ -e "$f" ] && stop_pid "$(basename "$f")"
  done
  if [ "$PG_CREATED" = 1 ]; then
    psql -d postgres -qAtc "DROP DATABASE IF EXISTS \"$BENCH_PG_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
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

reset_pg() {
  psql -d postgres -qAtc "DROP DATABASE IF EXISTS \"$BENCH_PG_DB\" WITH (FORCE)" >/dev/null
  createdb "$BENCH_PG_DB"
  PG_CREATED=1
}
RESET_PG_CMD="PGOPTIONS='-c client_min_messages=warning' psql -d postgres -qAtc 'DROP DATABASE IF EXISTS \"$BENCH_PG_DB\" WITH (FORCE)' && createdb '$BENCH_PG_DB'"

# ---- machine facts -----------------------------------------------------------------------------
NPROC="$(nproc)"
CPU_MODEL="$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
MEM_TOTAL="$(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
VERSION="$("$BIN" --version)" || die "$BIN --version failed." # also warms the page cache
KERNEL="$(uname -r)"
WRK_VERSION="$(wrk --version 2>&1 | awk 'NR==1 {print $1, $2}' || true)"
PG_VERSION="-"
[ "$SKIP_PG" = 1 ] || PG_VERSION="$(psql -d postgres -qAtc 'show server_version')"
COMMIT="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no -- src crates Cargo.toml Cargo.lock 2>/dev/null)" ]; then
  COMMIT="$COMMIT + uncommitted changes to the sources"
fi
HEAD_TIME="$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || echo 0)"
if [ "$(stat -c %Y "$BIN")" -lt "$HEAD_TIME" ]; then
  log "WARNING: $BIN is older than the newest commit; run 'cargo build --release' first."
fi

# ---- 1. start-up to ready ----------------------------------------------------------------------
declare -A SU_MED SU_MAX SU_ALL
startup() { # label mode backend
  local label="$1" mode="$2" backend="$3" out
  local extra=()
  if [ "$backend" = pg ]; then
    extra=(--database-url "$PG_URL" --reset-db "$RESET_PG_CMD")
    PG_CREATED=1
  fi
  log "start-up: $label ($STARTUP_RUNS runs)"
  # In the background + wait, so that a signal reaches our trap at once.
  python3 "$PROBE" startup --bin "$BIN" --mode "$mode" --label "$label" \
    --runs "$STARTUP_RUNS" --work "$WORK" --cwd "$RUN_CWD" --pid-dir "$PIDS" "${extra[@]}" \
    >"$WORK/startup-$label.out" &
  HELPER_PID=$!
  wait "$HELPER_PID" || die "start-up measurement '$label' failed (see above)."
  HELPER_PID=""
  out="$(cat "$WORK/startup-$label.out")"
  local med max all
  read -r med max all <<<"$out"
  SU_MED[$label]="$med" SU_MAX[$label]="$max" SU_ALL[$label]="$all"
  log "  median ${SU_MED[$label]} ms, max ${SU_MAX[$label]} ms; runs: ${SU_ALL[$label]}"
}

startup sqlite-fresh fresh sqlite
startup sqlite-restart restart sqlite
if [ "$SKIP_PG" != 1 ]; then
  startup pg-fresh fresh pg
  startup pg-restart restart pg
fi

# ---- 2./3. RSS and load ------------------------------------------------------------------------
SERVER_PID=""
SERVER_PORT=""
start_server() { # backend data_dir
  local backend="$1" dir="$2"
  SERVER_PORT="$(python3 "$PROBE" freeport)"
  (
    cd "$RUN_CWD"
    unset RATHAUS_DATABASE_URL
    [ "$backend" = pg ] && export RATHAUS_DATABASE_URL="$PG_URL"
    exec "$BIN" demo --listen "127.0.0.1:$SERVER_PORT" --data-dir "$dir" \
      </dev/null >>"$WORK/server-$backend.out" 2>>"$WORK/server-$backend.log"
  ) &
  SERVER_PID=$!
  touch "$PIDS/$SERVER_PID"
  python3 "$PROBE" wait "$SERVER_PORT" 60 >/dev/null ||
    die "$backend server did not become ready; log: $(tail -n 20 "$WORK/server-$backend.log")"
}

rss_mib() { # pid
  awk '/^VmRSS:/ {printf "%.1f", $2/1024}' "/proc/$1/status"
}

declare -A RPS P99 NON2XX SOCKERR NREQ RSS_IDLE RSS_LOAD
to_ms() { # wrk latency value such as 812.00us, 3.21ms, 1.02s, 2.00m
  awk -v v="$1" 'BEGIN {
    n = v; sub(/[a-z]+$/, "", n); u = v; sub(/^[0-9.]+/, "", u);
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1;
    if (f < 0) { print "?"; exit } printf "%.2f", n * f }'
}

run_wrk() { # wrk args...; in the background + wait, so that a signal reaches our trap at once
  wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" "$@" &
  HELPER_PID=$!
  wait "$HELPER_PID" || die "wrk $* failed."
  HELPER_PID=""
}

load() { # backend path
  local backend="$1" path="$2" key="$1 $2" url out status lat
  url="http://127.0.0.1:$SERVER_PORT$path"
  status="$(python3 "$PROBE" status "$url")"
  [ "$status" = 200 ] || die "GET $path on $backend answered $status, expected 200."
  log "wrk $backend $path: warm-up $WRK_WARMUP, then $WRK_DURATION"
  run_wrk -d"$WRK_WARMUP" "$url" >"$WORK/wrk-warmup-$backend${path//\//_}.txt"
  out="$WORK/wrk-$backend${path//\//_}.txt"
  run_wrk -d"$WRK_DURATION" --latency "$url" >"$out"
  kill -0 "$SERVER_PID" 2>/dev/null || die "$backend server died under load; log: $(tail -n 20 "$WORK/server-$backend.log")"
  cat "$out" >&2
  RPS[$key]="$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")"
  lat="$(awk '/Latency Distribution/ {d=1} d && $1 == "99%" {print $2; exit}' "$out")"
  P99[$key]="$(to_ms "$lat")"
  NREQ[$key]="$(awk '/requests in/ {print $1; exit}' "$out")"
  NON2XX[$key]="$(awk -F': *' '/Non-2xx or 3xx responses/ {print $2}' "$out")"
  NON2XX[$key]="${NON2XX[$key]:-0}"
  # "Socket errors: connect 0, read 3, write 0, timeout 0"; the line is absent when all are 0.
  SOCKERR[$key]="$(awk '/Socket errors:/ {sub(/.*Socket errors: */, ""); print}' "$out")"
  SOCKERR[$key]="${SOCKERR[$key]:-none}"
  [ -n "${RPS[$key]}" ] || die "could not parse wrk output $out"
  if [ "${NON2XX[$key]}" != 0 ] || [ "${SOCKERR[$key]}" != none ]; then
    log "WARNING: $backend $path: non-2xx/3xx ${NON2XX[$key]}, socket errors: ${SOCKERR[$key]}"
  fi
}

measure_backend() { # backend
  local backend="$1"
  [ "$backend" = pg ] && reset_pg
  start_server "$backend" "$WORK/serve-$backend"
  log "$backend server ready on port $SERVER_PORT (pid $SERVER_PID); idle ${IDLE_SECONDS}s"
  sleep "$IDLE_SECONDS"
  RSS_IDLE[$backend]="$(rss_mib "$SERVER_PID")"
  load "$backend" /healthz
  load "$backend" /koeln/
  RSS_LOAD[$backend]="$(rss_mib "$SERVER_PID")"
  stop_pid "$SERVER_PID"
}

BACKENDS=(sqlite)
[ "$SKIP_PG" = 1 ] || BACKENDS+=(pg)
for b in "${BACKENDS[@]}"; do measure_backend "$b"; done

# ---- report ------------------------------------------------------------------------------------
name() { [ "$1" = pg ] && echo PostgreSQL || echo SQLite; }
verdict() { awk -v a="$1" -v t="$2" 'BEGIN { print (a + 0 < t + 0) ? "met" : "**missed**" }'; }

cat <<EOF
### Machine

| | |
| --- | --- |
| Date | $(date -u '+%Y-%m-%d %H:%M UTC') |
| Binary | \`$VERSION\`; checkout at commit $COMMIT |
| CPU | $CPU_MODEL |
| nproc | $NPROC |
| Memory | $MEM_TOTAL |
| Kernel | $KERNEL |
| PostgreSQL | $PG_VERSION (local, TCP loopback) |
| Server log filter | \`RUST_LOG=$RUST_LOG\` |
| Load generator | $WRK_VERSION, \`-t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_DURATION --latency\`, $WRK_WARMUP warm-up, loopback, sharing the cores with the server |

### Start-up to ready (spawn of \`rathaus demo\` until \`GET /readyz\` = 200, polled every 2 ms)

| Backend | Scenario | Runs | Median ms | Max ms |
| --- | --- | ---: | ---: | ---: |
EOF
for label in sqlite-fresh sqlite-restart pg-fresh pg-restart; do
  [ -n "${SU_MED[$label]:-}" ] || continue
  case "$label" in
    *-fresh) scen="first start (migrations + seed)" ;;
    *) scen="restart (existing data)" ;;
  esac
  echo "| $(name "${label%%-*}") | $scen | $STARTUP_RUNS | ${SU_MED[$label]} | ${SU_MAX[$label]} |"
done

cat <<EOF

### Resident memory of \`rathaus demo\` (VmRSS, MiB)

| Backend | Idle (ready + ${IDLE_SECONDS} s) | After the wrk runs below |
| --- | ---: | ---: |
EOF
for b in "${BACKENDS[@]}"; do
  echo "| $(name "$b") | ${RSS_IDLE[$b]} | ${RSS_LOAD[$b]} |"
done

cat <<EOF

### HTTP under load

| Backend | Endpoint | Requests/s | p99 ms | Requests | Non-2xx/3xx | Socket errors |
| --- | --- | ---: | ---: | ---: | ---: | --- |
EOF
for b in "${BACKENDS[@]}"; do
  for p in /healthz /koeln/; do
    k="$b $p"
    echo "| $(name "$b") | \`GET $p\` | ${RPS[$k]} | ${P99[$k]} | ${NREQ[$k]} | ${NON2XX[$k]} | ${SOCKERR[$k]} |"
  done
done

cat <<EOF

### Targets

| Target | Measured | Verdict |
| --- | --- | --- |
| Start-up to ready on SQLite < 300 ms | first start max ${SU_MAX[sqlite-fresh]} ms, restart max ${SU_MAX[sqlite-restart]} ms | $(verdict "$(printf '%s\n%s\n' "${SU_MAX[sqlite-fresh]}" "${SU_MAX[sqlite-restart]}" | sort -g | tail -n1)" 300) |
| Idle RSS of \`rathaus demo\` < 40 MB | ${RSS_IDLE[sqlite]} MiB ($(awk -v m="${RSS_IDLE[sqlite]}" 'BEGIN {printf "%.1f", m * 1.048576}') MB) | $(verdict "$(awk -v m="${RSS_IDLE[sqlite]}" 'BEGIN {print m * 1.048576}')" 40) |
EOF
log "done"
