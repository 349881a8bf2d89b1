#!/usr/bin/env bash
# Invoices validated per second over the visible XRechnung test suite (warm, one process), rathaus
# (all cores) beside the oracle (official XSLT rules in SaxonC, stylesheets compiled once), and
# the peak memory of both. Usage: crates/einvoice/benches/xrechnung.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../../.."
rounds="${1:-10}"
shared="$(cd ../shared && pwd)"
mapfile -t files < <(find "$shared/testdata/xrechnung/visible" -name '*.xml' | sort)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build -q --release -p rathaus-einvoice --example xrechnung_bench
bin="$CARGO_TARGET_DIR/release/examples/xrechnung_bench"
echo "== rathaus (${#files[@]} files x $rounds rounds, $(nproc) threads)"
/usr/bin/time -f 'peak RSS %M KiB' "$bin" --rounds "$rounds" --threads "$(nproc)" "${files[@]}"
echo "== rathaus, 1 thread"
"$bin" --rounds "$rounds" --threads 1 "${files[@]}"
echo "== oracle (SaxonC, one process)"
/usr/bin/time -f 'peak RSS %M KiB' python3 - "$shared/tools/xrechnung-oracle.py" "$rounds" "${files[@]}" <<'PY'
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location('oracle', sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
rounds, files = int(sys.argv[2]), sys.argv[3:]
o = m.Oracle()
for f in files: o.validate(f)  # warm-up: compiles stylesheets and schemas
t = time.time()
for _ in range(rounds):
    for f in files: o.validate(f)
dt = time.time() - t
print(f"{rounds*len(files)} validations in {dt:.3f} s: {rounds*len(files)/dt:.1f} invoices/s", file=sys.stderr)
PY
