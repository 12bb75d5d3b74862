#!/usr/bin/env bash
# Soak test: runs an L1 (memory) → Redis stack at a steady open-loop rate for a long
# time (30 minutes by default) with a release tierbench, samples the process's resident memory
# every 10 s, and fails when memory grew after the first minutes. "Memory stays flat" means: the
# median RSS of the last tenth of the samples is within 10% (or 4 MiB) of the median of the
# samples from minute 2 to minute 4 (after the caches and histograms have filled). The stack has
# no SQLite tier on purpose: its page cache lives in tierbench's process and would be counted.
#
#   scripts/soak.sh [DURATION] [RATE]     (defaults 30m and 3000/s; Redis on 127.0.0.1:6379)
#
# Writes the samples to soak-rss.csv (seconds,rss_kib) and the result document to soak.json in
# $SOAK_DIR (default: a temporary folder, printed). TIERBENCH_BIN=path runs that binary.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${1:-30m}
RATE=${2:-3000/s}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
if [ -z "${TIERBENCH_BIN:-}" ]; then
    cargo build --release --quiet
    BIN=${CARGO_TARGET_DIR:-target}/release/tierbench
else
    BIN=$TIERBENCH_BIN
fi
work=${SOAK_DIR:-$(mktemp -d)}
mkdir -p "$work"
echo "soak: $DURATION at $RATE; files in $work"
cat > "$work/soak.yaml" <<YAML
name: soak
description: A long steady run to check that tierbench's memory stays flat.
seed: 7
tiers:
  - { name: l1, kind: memory, engine: moka, max_entries: 20000 }
  - { name: l2, kind: redis, url: "$REDIS_URL" }
data:
  keys: { count: 200000, prefix: "tbsoak:", distribution: zipf, zipf_exponent: 0.9 }
  values: { shape: json, size: 100..800 }
workloads:
  - name: steady
    target: stack
    warmup: 0
    concurrency: 8
    phases:
      - { name: steady, duration: $DURATION, rate: $RATE }
    mix: { get: 80, set: 15, delete: 5 }
YAML
"$BIN" run "$work/soak.yaml" --report "json=$work/soak.json" --report "text=$work/soak.txt" --no-progress &
pid=$!
echo "seconds,rss_kib" > "$work/soak-rss.csv"
start=$(date +%s)
while kill -0 "$pid" 2>/dev/null; do
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$rss" ] && echo "$(( $(date +%s) - start )),$rss" >> "$work/soak-rss.csv"
    sleep 10
done
wait "$pid" || { echo "soak: tierbench exited $?" >&2; exit 1; }
python3 - "$work/soak-rss.csv" <<'PY'
import csv, statistics, sys
rows = [(int(r["seconds"]), int(r["rss_kib"])) for r in csv.DictReader(open(sys.argv[1]))]
if len(rows) < 20:
    sys.exit(f"soak: only {len(rows)} samples: run longer")
early = [k for s, k in rows if 120 <= s <= 240] or [k for _, k in rows[len(rows) // 10 : len(rows) // 5]]
late = [k for _, k in rows[-max(3, len(rows) // 10):]]
a, b = statistics.median(early), statistics.median(late)
peak = max(k for _, k in rows)
print(f"soak: {len(rows)} samples over {rows[-1][0]} s; RSS early {a/1024:.1f} MiB, "
      f"late {b/1024:.1f} MiB ({(b - a) / a * 100:+.1f}%), peak {peak/1024:.1f} MiB")
if b - a > max(0.10 * a, 4096):
    sys.exit("soak: memory grew")
PY
grep -E "ops|result" "$work/soak.txt" | tail -3
