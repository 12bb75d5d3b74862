#!/usr/bin/env bash
# Replays a long CSV trace (10M lines, ~150 MB, by default) through a release tierbench against an
# in-process LRU tier (10,000 entries) and prints the peak RSS (GNU time's "Maximum resident set
# size"), the wall time, the operations completed and the throughput. Fails when the operations
# completed differ from the trace's records or the peak RSS is over 64 MiB. The trace is the one
# tests/big_inputs.rs writes (same generator, a million keys, 81% get / 13% set with a size / 6%
# delete); the test replays 2M lines with the debug binary, this the full size.
#
#   scripts/big-trace.sh [LINES] [CONCURRENCY]      (defaults 10000000 and 2)
#
# FORMAT=redis_monitor writes the same requests as a `redis-cli MONITOR` capture instead
# (`1700000000.000001 [0 127.0.0.1:50000] "GET" "key:1"`, a set's value quoted in full), with
# every 20th get an `MGET` of three keys: the replay must complete one operation per key.
#
# TIERBENCH_BIN=path runs that binary instead of building one (e.g. an older build, to compare).
set -euo pipefail
cd "$(dirname "$0")/.."

LINES=${1:-10000000}
CONCURRENCY=${2:-2}
LIMIT_KIB=$(( 64 * 1024 ))
[ -x /usr/bin/time ] || { echo "GNU time not found: apt-get install time" >&2; exit 2; }
if [ -z "${TIERBENCH_BIN:-}" ]; then
    cargo build --release --quiet
    BIN=${CARGO_TARGET_DIR:-target}/release/tierbench
else
    BIN=$TIERBENCH_BIN
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

FORMAT=${FORMAT:-csv}
python3 - "$LINES" "$work/big.csv" "$FORMAT" "$work/records" <<'PY'
import sys
lines, path, fmt, records_path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
x, mask, records = 12345, (1 << 64) - 1, 0
buf = ["key,op,size\n"] if fmt == "csv" else ["OK\n"]
with open(path, "w") as out:
    for i in range(lines):
        x = (x * 6364136223846793005 + 1442695040888963407) & mask
        key, r = (x >> 33) % 1000000, (x >> 20) & 15
        size = 64 + ((x >> 40) & 255)
        if fmt == "csv":
            records += 1
            if r <= 12:
                buf.append(f"key:{key},get\n")
            elif r <= 14:
                buf.append(f"key:{key},set,{size}\n")
            else:
                buf.append(f"key:{key},delete\n")
        else:
            head = f"{1700000000 + i // 1000000}.{i % 1000000:06d} [0 127.0.0.1:50000] "
            if r <= 12 and i % 20 == 0:
                records += 3
                buf.append(head + f'"MGET" "key:{key}" "key:{key + 1}" "key:{key + 2}"\n')
            elif r <= 12:
                records += 1
                buf.append(head + f'"GET" "key:{key}"\n')
            elif r <= 14:
                records += 1
                buf.append(head + f'"SET" "key:{key}" "{"v" * size}"\n')
            else:
                records += 1
                buf.append(head + f'"DEL" "key:{key}"\n')
        if len(buf) >= 100000:
            out.write("".join(buf))
            buf = []
    out.write("".join(buf))
open(records_path, "w").write(str(records))
PY
RECORDS=$(cat "$work/records")

cat > "$work/big.yaml" <<YAML
name: big-trace
seed: 1
tiers: [{ name: l1, kind: memory, engine: lru, max_entries: 10000 }]
data: { keys: { count: 1000, prefix: "bt:" }, values: { size: 64 } }
workloads:
  - { name: replay, target: l1, warmup: 0, ops: $(( 3 * RECORDS )), concurrency: $CONCURRENCY, trace: { path: big.csv, format: $FORMAT } }
YAML

/usr/bin/time -v "$BIN" run "$work/big.yaml" --no-progress --report "json=$work/result.json" \
    > "$work/out.txt" 2> "$work/time.txt" || { cat "$work/out.txt" "$work/time.txt" >&2; exit 1; }
rss=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$work/time.txt")
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): *//p' "$work/time.txt")
cpu=$(awk -F': *' '/User time|System time/ { s += $2 } END { print s }' "$work/time.txt")
read -r ops measured throughput < <(python3 -c '
import json, sys
w = json.load(open(sys.argv[1]))["workloads"][0]
print(w["ops"], round(w["duration_s"], 2), round(w["throughput"]))' "$work/result.json")
echo "trace: $LINES lines, $RECORDS records, $FORMAT ($(du -m "$work/big.csv" | cut -f1) MB), concurrency $CONCURRENCY"
echo "peak RSS: $(( rss / 1024 )) MiB ($rss KiB); wall $wall (validation included), CPU ${cpu}s"
echo "completed: $ops operations in ${measured}s measured, $throughput ops/s"
[ "$ops" -eq "$RECORDS" ] || { echo "FAIL: $ops operations completed, the trace holds $RECORDS records" >&2; exit 1; }
[ "$rss" -le "$LIMIT_KIB" ] || { echo "FAIL: peak RSS $rss KiB over $LIMIT_KIB KiB" >&2; exit 1; }
echo "ok"
