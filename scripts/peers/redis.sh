#!/usr/bin/env bash
# memtier_benchmark, redis-benchmark and tierbench on the same Redis work, rounds interleaved
# (A B C A B C ...), at depth 1 and depth 10. Prints ops/s, client CPU-s per 1M operations and
# p99 per tool (ranges over the rounds), and tierbench's ratios to memtier_benchmark (and, at
# depth 10, to the pipelined redis-benchmark ceiling). Nothing here asserts a number:
# docs/performance.md records what it printed.
#
#   MEMTIER=/path/to/memtier_benchmark scripts/peers/redis.sh [ROUNDS]      (default 3 rounds)
#
# The work: 50 operations in flight, 32-byte values, 100k uniform keys, 1:10 set:get, OPS
# operations (default 1,000,000) per run.
#   depth 1:  memtier -t 2 -c 25 (one request in flight per connection), redis-benchmark -c 50,
#             tierbench concurrency 50 (2 connections, the default: one task drives each
#             connection's 25 workers, each with one request in flight)
#   tierbench runs twice per round: one runtime thread per core (--threads $(nproc)) and
#   --threads 1 (its default when the server is on this machine)
#   depth 10: memtier -t 1 -c 5 --pipeline=10, redis-benchmark -c 5 -P 10, tierbench pipeline 10
#             × concurrency 5 over 5 connections (one per worker, as memtier's); and redis-benchmark -c 50 -P 16 GET as the server's ceiling
# Client CPU is user + system time of the client process (GNU time); for tierbench, the CPU its
# process used during the measured phase (`client_cpu_s` in its results: its preload of the
# 100k keys is left out, as memtier and redis-benchmark have none). Latency: memtier and
# redis-benchmark time each request from its send (pipelined: each request of a batch from its
# own send); tierbench times each operation from its issue, pipelined from the write that sent
# it to the read that brought its reply (each worker keeps a window of 10 in flight on its own
# connection, as memtier's clients do).
# redis-benchmark cannot mix commands in one run: it runs GET and SET apart (OPS*10/11 and
# OPS/11 requests), combined as total requests over total wall time and total CPU over total
# requests; its p99 is the GET run's. Keys: `tbpeers:mt:*` (memtier, prefilled), `tbpeers:rb:*`
# (redis-benchmark, prefilled), tierbench's own prefix (preloaded): every GET can hit. The
# script removes them at the end (SCAN + UNLINK, never a flush).
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${1:-3}
OPS=${OPS:-1000000}
URL=${TIERBENCH_REDIS_URL:-redis://127.0.0.1:6379}
HOSTPORT=${URL#redis://}; HOSTPORT=${HOSTPORT%%/*}; HOST=${HOSTPORT%%:*}; PORT=${HOSTPORT##*:}
[[ $HOST == "$HOSTPORT" ]] && PORT=6379
MEMTIER=${MEMTIER:-$(command -v memtier_benchmark || true)}
if [[ -z $MEMTIER || ! -x $MEMTIER ]]; then
  echo "memtier_benchmark not found: build it from its public repository outside this tree" \
       "and set MEMTIER=/path/to/memtier_benchmark" >&2
  exit 2
fi
for tool in redis-benchmark redis-cli python3; do
  command -v "$tool" >/dev/null || { echo "$tool not found (apt-get install redis-tools python3)" >&2; exit 2; }
done
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time not found (apt-get install time)" >&2; exit 2; }
cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/tierbench
work=$(mktemp -d)
cleanup() {
  redis-cli -h "$HOST" -p "$PORT" --scan --pattern 'tbpeers:*' \
    | xargs -r -n 500 redis-cli -h "$HOST" -p "$PORT" unlink >/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

GETS=$(( OPS * 10 / 11 )); SETS=$(( OPS - GETS ))
VALUE=$(printf 'v%.0s' {1..32})
RB=(redis-benchmark -h "$HOST" -p "$PORT" -r 100000 --csv)
MT=("$MEMTIER" -s "$HOST" -p "$PORT" --ratio=1:10 --key-pattern=R:R --key-minimum=1
    --key-maximum=100000 -d 32 --key-prefix=tbpeers:mt: --hide-histogram)

timed() { # timed OUT CMD... : runs CMD, output to OUT; prints "wall user sys"
  local out=$1; shift
  /usr/bin/time -f "%e %U %S" -o "$work/time" "$@" >"$out" 2>&1 || { cat "$out" >&2; exit 3; }
  cat "$work/time"
}

echo "prefilling 100k keys for memtier_benchmark and redis-benchmark..." >&2
"$MEMTIER" -s "$HOST" -p "$PORT" -t 1 -c 10 --pipeline=50 --ratio=1:0 --key-pattern=P:P \
  --key-minimum=1 --key-maximum=100000 -n allkeys -d 32 --key-prefix=tbpeers:mt: \
  --hide-histogram >/dev/null 2>&1
"${RB[@]}" -c 10 -P 100 -n 500000 SET 'tbpeers:rb:__rand_int__' "$VALUE" >/dev/null

for depth in 1 10; do
  workers=$(( 50 / depth ))
  # Depth 10: one connection per worker, as memtier's -c 5 (the default 2 shared connections
  # carry 5 workers' batches at depth 10: 0.7x the throughput on a quiet machine).
  conns=""; [[ $depth == 10 ]] && conns=", connections: $workers"
  cat >"$work/tb$depth.yaml" <<YAML
name: peers-redis-depth-$depth
seed: 1
tiers:
  - { name: l2, kind: redis, url: "$URL", pipeline: $depth$conns }
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
    # A: memtier_benchmark
    if [[ $depth == 1 ]]; then mt=(-t 2 -c 25 -n $(( OPS / 50 ))); else mt=(-t 1 -c 5 --pipeline=10 -n $(( OPS / 5 ))); fi
    read -r _ u s < <(timed "$work/mt.out" "${MT[@]}" "${mt[@]}" --json-out-file="$work/mt.json")
    python3 - "$work/mt.json" "$u" "$s" "$depth" "$round" >>"$rows" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["ALL STATS"]["Totals"]
cpu = (float(sys.argv[2]) + float(sys.argv[3])) / t["Count"] * 1e6
print(sys.argv[4], "memtier", sys.argv[5], t["Ops/sec"], cpu, t["Percentile Latencies"]["p99.00"])
PY
    # B: redis-benchmark (GET and SET runs)
    if [[ $depth == 1 ]]; then rb=(-c 50); else rb=(-c 5 -P 10); fi
    read -r gw gu gs < <(timed "$work/rb-get" "${RB[@]}" "${rb[@]}" -n "$GETS" GET 'tbpeers:rb:__rand_int__')
    read -r sw su ss < <(timed "$work/rb-set" "${RB[@]}" "${rb[@]}" -n "$SETS" SET 'tbpeers:rb:__rand_int__' "$VALUE")
    python3 - "$work/rb-get" "$OPS" "$gw" "$gu" "$gs" "$sw" "$su" "$ss" "$depth" "$round" >>"$rows" <<'PY'
import csv, sys
row = list(csv.DictReader(open(sys.argv[1])))[-1]
ops, gw, gu, gs, sw, su, ss = map(float, sys.argv[2:9])
print(sys.argv[9], "redis-benchmark", sys.argv[10], ops / (gw + sw), (gu + gs + su + ss) / ops * 1e6, row["p99_latency_ms"])
PY
    if [[ $depth == 10 ]]; then
      read -r _ u s < <(timed "$work/rb-ceiling" "${RB[@]}" -c 50 -P 16 -n "$OPS" GET 'tbpeers:rb:__rand_int__')
      python3 - "$work/rb-ceiling" "$OPS" "$u" "$s" "$round" >>"$rows" <<'PY'
import csv, sys
row = list(csv.DictReader(open(sys.argv[1])))[-1]
ops, u, s = map(float, sys.argv[2:5])
print(10, "ceiling", sys.argv[5], row["rps"], (u + s) / ops * 1e6, row["p99_latency_ms"])
PY
    fi
    # C: tierbench, one runtime thread per core, then D: one thread (--threads 1, the default here)
    for threads in default 1; do
      # One runtime thread per core, then one (the default when the server is on this machine).
      if [[ $threads == default ]]; then tool=tierbench; extra=(--threads "$(nproc)"); else tool=tierbench-t1; extra=(--threads 1); fi
      read -r _ u s < <(timed "$work/tb.out" "$BIN" run "$work/tb$depth.yaml" --no-progress \
        "${extra[@]}" --report "json=$work/tb.json")
      python3 - "$work/tb.json" "$u" "$s" "$depth" "$round" "$tool" >>"$rows" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))["workloads"][0]
phase = w["phases"][-1]
cpu = phase["client_cpu_s"] / phase["ops"] * 1e6
whole = (float(sys.argv[2]) + float(sys.argv[3])) / phase["ops"] * 1e6
print(sys.argv[4], sys.argv[6], sys.argv[5], w["throughput"], cpu, w["operations"]["all"]["latency"]["p99_ns"] / 1e6, whole)
PY
    done
  done
done

python3 - "$rows" <<'PY'
import sys
from collections import defaultdict
runs = defaultdict(dict)  # (depth, tool) -> round -> (ops, cpu, p99, whole)
for line in open(sys.argv[1]):
    f = line.split()
    runs[(int(f[0]), f[1])][int(f[2])] = tuple(map(float, f[3:]))

def span(values, fmt):
    lo, hi = min(values), max(values)
    return fmt(lo) if fmt(lo) == fmt(hi) else f"{fmt(lo)}–{fmt(hi)}"

k = lambda v: f"{v / 1000:.1f}k" if v < 1e6 else f"{v / 1e6:.2f}M"
f2 = lambda v: f"{v:.2f}"
for depth in (1, 10):
    print(f"\ndepth {depth}: 50 in flight" + (", 10 per round trip" if depth == 10 else ""))
    print(f"| client | ops/s | client CPU-s per 1M ops | p99 (ms) |\n|---|---:|---:|---:|")
    for tool in ("memtier", "redis-benchmark", "tierbench", "tierbench-t1", "ceiling"):
        r = runs.get((depth, tool))
        if not r:
            continue
        name = {"ceiling": "redis-benchmark -c 50 -P 16 GET (ceiling)",
                "tierbench-t1": "tierbench --threads 1"}.get(tool, tool)
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
        print(f"{tool} whole-process CPU-s per 1M (preload included): "
              f"{span([v[3] for v in tb.values()], f2)}")
        if (depth, "ceiling") in runs:
            ce = runs[(depth, "ceiling")]
            print(f"{tool} / ceiling: {span([tb[i][0] / ce[i][0] for i in sorted(set(tb) & set(ce))], f2)}x")
PY
