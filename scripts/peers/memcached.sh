#!/usr/bin/env bash
# memtier_benchmark (--protocol memcache_text) and tierbench on the same memcached work, rounds
# interleaved (A B A B ...), at depth 1 and depth 10. Prints ops/s, client CPU-s per 1M
# operations and p99 per tool (ranges over the rounds), and tierbench's ratios to memtier.
# Nothing here asserts a number: docs/performance.md records what it printed.
#
#   MEMTIER=/path/to/memtier_benchmark scripts/peers/memcached.sh [ROUNDS]   (default 3 rounds)
#
# The work: 50 operations in flight, 32-byte values, 100k uniform keys, 1:10 set:get, OPS
# operations (default 1,000,000) per run, against TIERBENCH_MEMCACHED_URL (default
# memcache://127.0.0.1:11211).
#   depth 1:  memtier -t 2 -c 25; tierbench concurrency 50 on 2 connections (one task drives
#             each connection's 25 workers, each with one request in flight)
#   depth 10: memtier -t 1 -c 5 --pipeline=10; tierbench pipeline 10 x concurrency 5, one
#             connection per worker (as memtier's)
#   tierbench runs twice per round: one runtime thread per core (--threads $(nproc)) and
#   --threads 1 (its default when the server is on this machine).
# Client CPU is user + system time of the client process (GNU time); for tierbench, the CPU its
# process used during the measured phase (`client_cpu_s`: its preload is left out, as memtier's
# prefill is a run of its own). memtier speaks the classic text protocol (get/set), tierbench
# the meta protocol (mg/ms): the same round trips, one request and one reply per operation.
# Keys: `tbpeers:mt:*` (memtier, prefilled) and tierbench's own prefix (preloaded, removed by
# tierbench at its end); memtier's keys expire after the run (its --expiry-range 600).
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${1:-3}
OPS=${OPS:-1000000}
URL=${TIERBENCH_MEMCACHED_URL:-memcache://127.0.0.1:11211}
HOSTPORT=${URL#memcache://}; HOSTPORT=${HOSTPORT%%/*}; HOST=${HOSTPORT%%:*}; PORT=${HOSTPORT##*:}
[[ $HOST == "$HOSTPORT" ]] && PORT=11211
MEMTIER=${MEMTIER:-$(command -v memtier_benchmark || true)}
if [[ -z $MEMTIER || ! -x $MEMTIER ]]; then
  echo "memtier_benchmark not found: build it from its public repository outside this tree" \
       "and set MEMTIER=/path/to/memtier_benchmark" >&2
  exit 2
fi
command -v python3 >/dev/null || { echo "python3 not found" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time not found (apt-get install time)" >&2; exit 2; }
cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/tierbench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

MT=("$MEMTIER" -s "$HOST" -p "$PORT" --protocol=memcache_text --ratio=1:10 --key-pattern=R:R
    --key-minimum=1 --key-maximum=100000 -d 32 --key-prefix=tbpeers:mt: --expiry-range=600-600
    --hide-histogram)

timed() { # timed OUT CMD... : runs CMD, output to OUT; prints "wall user sys"
  local out=$1; shift
  /usr/bin/time -f "%e %U %S" -o "$work/time" "$@" >"$out" 2>&1 || { cat "$out" >&2; exit 3; }
  cat "$work/time"
}

echo "prefilling 100k keys for memtier_benchmark..." >&2
"$MEMTIER" -s "$HOST" -p "$PORT" --protocol=memcache_text -t 1 -c 10 --pipeline=50 --ratio=1:0 \
  --key-pattern=P:P --key-minimum=1 --key-maximum=100000 -n allkeys -d 32 \
  --key-prefix=tbpeers:mt: --expiry-range=600-600 --hide-histogram >/dev/null 2>&1

for depth in 1 10; do
  workers=$(( 50 / depth ))
  conns=""; [[ $depth == 10 ]] && conns=", connections: $workers"
  cat >"$work/tb$depth.yaml" <<YAML
name: peers-memcached-depth-$depth
seed: 1
tiers:
  - { name: l2, kind: memcached, url: "$URL", pipeline: $depth$conns }
data:
  keys: { count: 100000, prefix: "tierbench:peers:", distribution: uniform }
  values: { shape: binary, size: 32 }
workloads:
  - { name: mixed, target: l2, warmup: 0, ops: $OPS, concurrency: $workers, mix: { get: 10, set: 1 } }
YAML
done

rows="$work/rows" # depth tool round ops/s cpu_per_1M p99_ms
: >"$rows"
for round in $(seq 1 "$ROUNDS"); do
  for depth in 1 10; do
    echo "round $round/$ROUNDS, depth $depth" >&2
    if [[ $depth == 1 ]]; then mt=(-t 2 -c 25 -n $(( OPS / 50 ))); else mt=(-t 1 -c 5 --pipeline=10 -n $(( OPS / 5 ))); fi
    read -r _ u s < <(timed "$work/mt.out" "${MT[@]}" "${mt[@]}" --json-out-file="$work/mt.json")
    python3 - "$work/mt.json" "$u" "$s" "$depth" "$round" >>"$rows" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["ALL STATS"]["Totals"]
cpu = (float(sys.argv[2]) + float(sys.argv[3])) / t["Count"] * 1e6
print(sys.argv[4], "memtier", sys.argv[5], t["Ops/sec"], cpu, t["Percentile Latencies"]["p99.00"])
PY
    for threads in default 1; do
      # One runtime thread per core, then one (the default when the server is on this machine).
      if [[ $threads == default ]]; then tool=tierbench; extra=(--threads "$(nproc)"); else tool=tierbench-t1; extra=(--threads 1); fi
      read -r _ u s < <(timed "$work/tb.out" "$BIN" run "$work/tb$depth.yaml" --no-progress \
        "${extra[@]}" --report "json=$work/tb.json")
      python3 - "$work/tb.json" "$depth" "$round" "$tool" >>"$rows" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))["workloads"][0]
phase = w["phases"][-1]
cpu = phase["client_cpu_s"] / phase["ops"] * 1e6
print(sys.argv[2], sys.argv[4], sys.argv[3], w["throughput"], cpu, w["operations"]["all"]["latency"]["p99_ns"] / 1e6)
PY
    done
  done
done

python3 - "$rows" <<'PY'
import sys
from collections import defaultdict
runs = defaultdict(dict)  # (depth, tool) -> round -> (ops, cpu, p99)
for line in open(sys.argv[1]):
    f = line.split()
    runs[(int(f[0]), f[1])][int(f[2])] = tuple(map(float, f[3:6]))

def span(values, fmt):
    lo, hi = min(values), max(values)
    return fmt(lo) if fmt(lo) == fmt(hi) else f"{fmt(lo)}–{fmt(hi)}"

k = lambda v: f"{v / 1000:.1f}k" if v < 1e6 else f"{v / 1e6:.2f}M"
f2 = lambda v: f"{v:.2f}"
for depth in (1, 10):
    print(f"\ndepth {depth}: 50 in flight" + (", 10 per round trip" if depth == 10 else ""))
    print("| client | ops/s | client CPU-s per 1M ops | p99 (ms) |\n|---|---:|---:|---:|")
    for tool in ("memtier", "tierbench", "tierbench-t1"):
        r = runs.get((depth, tool))
        if not r:
            continue
        name = {"tierbench-t1": "tierbench --threads 1"}.get(tool, tool)
        print(f"| {name} | {span([v[0] for v in r.values()], k)} | "
              f"{span([v[1] for v in r.values()], f2)} | {span([v[2] for v in r.values()], f2)} |")
    mt = runs[(depth, "memtier")]
    for tool in ("tierbench", "tierbench-t1"):
        tb = runs.get((depth, tool))
        if not tb:
            continue
        rounds = sorted(set(tb) & set(mt))
        tput = [tb[i][0] / mt[i][0] for i in rounds]
        cpu = [tb[i][1] / mt[i][1] for i in rounds]
        print(f"{tool} / memtier, round by round: throughput {span(tput, f2)}x, "
              f"client CPU per op {span(cpu, f2)}x")
PY
