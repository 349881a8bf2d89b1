#!/usr/bin/env bash
# Token-endpoint benchmark: Rathaus (Servicekonto) and oidc-provider (npm) side by side on this
# machine — client_credentials and refresh_token (with rotation) throughput and p99 latency
# (wrk), idle and loaded RSS of each server, and `openssl speed` as a reference for the cost of
# one signature. Builds nothing: run `cargo build --release` and `cd browser && npm ci` first.
#
#   benches/oidc/run.sh > /tmp/oidc-bench.md
#
# The Markdown report goes to stdout, progress to stderr.
#
# Environment:
#   TARGETS         servers to measure, in this order (default "oidc-provider rathaus")
#   SIGNING_ALG     ES256 (default) or RS256, for both servers (Rathaus: RATHAUS_IDENTITY__SIGNING_ALG)
#   RATHAUS_BIN     binary to measure (default: target/release/rathaus)
#   WRK_DURATION    measured wrk duration (default 15s); WRK_WARMUP (default 3s)
#   WRK_THREADS / WRK_CONNECTIONS   (default 1 / 32: servers and wrk share the cores)
#   IDLE_SECONDS    idle time before reading the idle RSS (default 5)
#   POOL_FACTOR     refresh tokens minted per wrk connection and run (default 2)
#   OPENSSL_SECONDS seconds per `openssl speed` test (default 3); SKIP_OPENSSL=1 leaves it out
#   KEEP_WORK=1     keep the scratch directory (server logs, raw wrk output, token files)
#   BENCH_RUST_LOG  log filter for Rathaus (default warn)
#
# All servers are stopped and the scratch directory is removed on exit, also on failure.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$REPO/benches/oidc"
TARGETS="${TARGETS:-oidc-provider rathaus}"
ALG="${SIGNING_ALG:-ES256}"
BIN="${RATHAUS_BIN:-target/release/rathaus}"
WRK_DURATION="${WRK_DURATION:-15s}"
WRK_WARMUP="${WRK_WARMUP:-3s}"
WRK_THREADS="${WRK_THREADS:-1}"
WRK_CONNECTIONS="${WRK_CONNECTIONS:-32}"
IDLE_SECONDS="${IDLE_SECONDS:-5}"
POOL_FACTOR="${POOL_FACTOR:-2}"
OPENSSL_SECONDS="${OPENSSL_SECONDS:-3}"
SKIP_OPENSSL="${SKIP_OPENSSL:-0}"
CC_CLIENT="demo-backoffice:demo-secret"
SPA_CLIENT="demo-spa"

log() { printf '[oidc-bench] %s\n' "$*" >&2; }
die() { printf 'oidc-bench: %s\n' "$*" >&2; exit 1; }

# ---- preconditions ---------------------------------------------------------------------------
case "$ALG" in ES256 | RS256) ;; *) die "SIGNING_ALG must be ES256 or RS256, not '$ALG'." ;; esac
command -v wrk >/dev/null 2>&1 || die "wrk is not installed (Debian: apt-get install -y wrk). This script installs nothing."
command -v node >/dev/null 2>&1 || die "node is required (oidc-provider, token minting)."
[ -d "$REPO/browser/node_modules/oidc-provider" ] && [ -d "$REPO/browser/node_modules/openid-client" ] ||
  die "npm packages missing: run 'cd browser && npm ci' first."
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] ||
  die "Chromium not found at ${CHROMIUM_PATH:-/usr/bin/chromium} (apt-get install -y chromium): it drives the logins that mint refresh tokens."
case "$BIN" in /*) ;; *) BIN="$REPO/$BIN" ;; esac
for t in $TARGETS; do
  case "$t" in
    oidc-provider) ;;
    rathaus) [ -x "$BIN" ] || die "binary $BIN not found: run 'cargo build --release' first, set RATHAUS_BIN, or TARGETS=oidc-provider." ;;
    *) die "unknown target '$t' (oidc-provider, rathaus)." ;;
  esac
done
[ "$SKIP_OPENSSL" = 1 ] || command -v openssl >/dev/null 2>&1 || die "openssl not found; or set SKIP_OPENSSL=1."

# ---- scratch space and cleanup -----------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/rathaus-oidc-bench.XXXXXX")"
SERVER_PID=""

stop_server() {
  local pid="$SERVER_PID" _
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  wait "$pid" 2>/dev/null || true
  SERVER_PID=""
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_server
  if [ "${KEEP_WORK:-0}" = 1 ]; then log "scratch directory kept: $WORK"; else rm -rf "$WORK"; fi
  [ "$rc" = 0 ] || log "FAILED (exit $rc)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- helpers -----------------------------------------------------------------------------------
# start_server NAME: starts it in $WORK/NAME, sets SERVER_PID and ISSUER
start_server() {
  local name="$1" dir="$WORK/$1" _
  mkdir -p "$dir"
  case "$name" in
    oidc-provider)
      (cd "$dir" && exec node "$HERE/op-server.mjs" --alg "$ALG") >"$dir/stdout" 2>"$dir/stderr" &
      ;;
    rathaus)
      (cd "$dir" && RUST_LOG="${BENCH_RUST_LOG:-warn}" RATHAUS_IDENTITY__SIGNING_ALG="$ALG" \
        exec "$BIN" demo --listen 127.0.0.1:0 --data-dir "$dir/data") >"$dir/stdout" 2>"$dir/stderr" &
      ;;
  esac
  SERVER_PID=$!
  ISSUER=""
  for _ in $(seq 1 600); do
    ISSUER="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$dir/stdout" | head -1 || true)"
    [ -n "$ISSUER" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$dir/stderr" >&2; die "$name exited before it was ready."; }
    sleep 0.1
  done
  [ -n "$ISSUER" ] || die "$name did not print its URL within 60 s."
}

# rss_kib PID FIELD (VmRSS or VmHWM)
rss_kib() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

# result_field FILE KEY: value of KEY=… in the RESULT line
result_field() { grep '^RESULT ' "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k {print $2}'; }

json_field() { node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));let v=j;for(const k of process.argv[2].split("."))v=v?.[k];console.log(Array.isArray(v)?v.join(", "):v??"-")' "$1" "$2"; }

run_wrk() { # run_wrk OUT SCRIPT DURATION URL [ENV…]
  local out="$1" script="$2" duration="$3" url="$4"
  shift 4
  env "$@" WRK_THREADS="$WRK_THREADS" wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$duration" --latency \
    -s "$HERE/$script" "$url" >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed ($script)."; }
  grep -q '^RESULT ' "$out" || { cat "$out" >&2; die "no RESULT line from wrk ($script)."; }
}

# ---- machine facts -----------------------------------------------------------------------------
NPROC="$(nproc)"
CPU_MODEL="$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
MEM_TOTAL="$(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
KERNEL="$(uname -r)"
WRK_VERSION="$(wrk --version 2>&1 | awk 'NR==1 {print $1, $2}' || true)"
NODE_VERSION="$(node --version)"
OP_VERSION="$(node -p 'require(process.argv[1]).version' "$REPO/browser/node_modules/oidc-provider/package.json")"
RATHAUS_VERSION="-"
case " $TARGETS " in *" rathaus "*) RATHAUS_VERSION="$("$BIN" --version)" ;; esac
COMMIT="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
BUSY="$(pgrep -x -c 'cargo|rustc' 2>/dev/null || true)"
POOL=$((WRK_CONNECTIONS * POOL_FACTOR))

# ---- measurements ------------------------------------------------------------------------------
declare -A R
for target in $TARGETS; do
  log "$target: starting (alg $ALG)"
  start_server "$target"
  dir="$WORK/$target"
  log "$target: ready at $ISSUER (pid $SERVER_PID); idle ${IDLE_SECONDS}s"
  sleep "$IDLE_SECONDS"
  R[$target.rss_idle]="$(rss_kib "$SERVER_PID" VmRSS)"

  log "$target: minting $((2 * POOL + 1)) refresh tokens in Chromium"
  node "$HERE/mint-refresh-tokens.mjs" --issuer "$ISSUER" --count "$POOL" \
    --out "$dir/tokens-warmup.txt" --out "$dir/tokens-measure.txt" --probe "$dir/probe.json" \
    2> >(grep -v 'oidc-provider \(NOTICE\|WARNING\)' >&2)
  TOKEN_URL="$(json_field "$dir/probe.json" token_endpoint)"
  R[$target.token_url]="$TOKEN_URL"

  BASIC="$(printf '%s' "$CC_CLIENT" | base64 -w0)"
  log "$target: client_credentials: warm-up $WRK_WARMUP, then $WRK_DURATION"
  run_wrk "$dir/cc-warmup.txt" client_credentials.lua "$WRK_WARMUP" "$TOKEN_URL" BASIC_AUTH="$BASIC"
  run_wrk "$dir/cc.txt" client_credentials.lua "$WRK_DURATION" "$TOKEN_URL" BASIC_AUTH="$BASIC"
  log "$target: $(grep '^RESULT' "$dir/cc.txt")"

  log "$target: refresh_token: warm-up $WRK_WARMUP, then $WRK_DURATION"
  run_wrk "$dir/rt-warmup.txt" refresh.lua "$WRK_WARMUP" "$TOKEN_URL" TOKENS_FILE="$dir/tokens-warmup.txt" CLIENT_ID="$SPA_CLIENT"
  run_wrk "$dir/rt.txt" refresh.lua "$WRK_DURATION" "$TOKEN_URL" TOKENS_FILE="$dir/tokens-measure.txt" CLIENT_ID="$SPA_CLIENT"
  log "$target: $(grep '^RESULT' "$dir/rt.txt")"

  R[$target.rss_loaded]="$(rss_kib "$SERVER_PID" VmRSS)"
  R[$target.hwm]="$(rss_kib "$SERVER_PID" VmHWM)"
  stop_server
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

OPENSSL_ROWS=""
if [ "$SKIP_OPENSSL" != 1 ]; then
  for a in rsa2048 ecdsap256; do
    log "openssl speed -multi 2 -seconds $OPENSSL_SECONDS $a"
    out="$(openssl speed -multi 2 -seconds "$OPENSSL_SECONDS" "$a" 2>/dev/null)"
    # e.g. "rsa 2048 bits 0.000228s 0.000013s   4385.0  75730.0"
    case "$a" in
      rsa2048) line="$(printf '%s\n' "$out" | grep -E '^rsa +2048 bits' | tail -1)" ;;
      ecdsap256) line="$(printf '%s\n' "$out" | grep -E '256 bits ecdsa \(nistp256\)' | tail -1)" ;;
    esac
    signs="$(printf '%s\n' "$line" | awk '{print $(NF-1)}')"  # columns: … sign verify sign/s verify/s
    OPENSSL_ROWS+="| \`$a\` | ${signs:-?} | \`${line}\` |"$'\n'
  done
fi

# ---- report ------------------------------------------------------------------------------------
cat <<EOF
## OIDC token endpoint: Rathaus and oidc-provider

**Date:** $(date -u '+%Y-%m-%d %H:%M UTC') · **Commit:** \`$COMMIT\` · **Rathaus:** \`$RATHAUS_VERSION\` ·
**oidc-provider:** $OP_VERSION on Node $NODE_VERSION · **Signing alg:** $ALG

**Machine:** $NPROC vCPUs ($CPU_MODEL), $MEM_TOTAL RAM, Linux $KERNEL; $WRK_VERSION,
\`-t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_DURATION\` after a $WRK_WARMUP warm-up. Servers and wrk share the cores.
Load average before/after: $LOAD_BEFORE / $LOAD_AFTER; cargo/rustc processes at start: ${BUSY:-0}.

| Server | Grant | Requests/s | p50 ms | p99 ms | Non-2xx | Socket errors |
| --- | --- | ---: | ---: | ---: | ---: | --- |
EOF
for target in $TARGETS; do
  dir="$WORK/$target"
  for g in cc rt; do
    f="$dir/$g.txt"
    name="client_credentials"; [ "$g" = rt ] && name="refresh_token (rotating)"
    errs="$(( $(result_field "$f" connect_errors) + $(result_field "$f" read_errors) + $(result_field "$f" write_errors) + $(result_field "$f" timeouts) ))"
    extra=""
    [ "$g" = rt ] && extra=" (starved $(result_field "$f" starved))"
    printf '| %s | %s | %s | %s | %s | %s%s | %s |\n' "$target" "$name" "$(result_field "$f" rps)" \
      "$(result_field "$f" p50_ms)" "$(result_field "$f" p99_ms)" "$(result_field "$f" non2xx)" "$extra" "$errs"
  done
done

cat <<EOF

| Server | RSS idle (MiB) | RSS after load (MiB) | Peak RSS, VmHWM (MiB) |
| --- | ---: | ---: | ---: |
EOF
for target in $TARGETS; do
  printf '| %s | %s | %s | %s |\n' "$target" "$(mib "${R[$target.rss_idle]}")" "$(mib "${R[$target.rss_loaded]}")" "$(mib "${R[$target.hwm]}")"
done

cat <<EOF

What each server returned (one probe request each, before the load):

| Server | Token endpoint | client_credentials answer | refresh answer |
| --- | --- | --- | --- |
EOF
for target in $TARGETS; do
  p="$WORK/$target/probe.json"
  printf '| %s | `%s` | %s; AT %s | %s; AT %s; ID token %s; RT %s |\n' "$target" "${R[$target.token_url]}" \
    "$(json_field "$p" client_credentials.members)" "$(json_field "$p" client_credentials.access_token)" \
    "$(json_field "$p" refresh.members)" "$(json_field "$p" refresh.access_token)" \
    "$(json_field "$p" refresh.id_token)" "$(json_field "$p" refresh.refresh_token)"
done

if [ -n "$OPENSSL_ROWS" ]; then
  cat <<EOF

Reference: \`openssl speed -multi 2 -seconds $OPENSSL_SECONDS\` ($(openssl version)):

| Test | sign/s (both cores) | raw line |
| --- | ---: | --- |
$OPENSSL_ROWS
EOF
fi
