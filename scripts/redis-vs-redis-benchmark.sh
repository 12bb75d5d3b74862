#!/usr/bin/env bash
# Runs redis-benchmark (Debian's redis-tools) and tierbench on the same Redis work, one after the
# other on this machine, and prints throughput, client CPU seconds per million operations, and
# the ratios. The work: 50 operations in flight, 32-byte values, 100k keys, 1:10 set:get.
#
#   scripts/redis-vs-redis-benchmark.sh [OPS]          (default 1000000 operations)
#
# redis-benchmark cannot mix commands in one run, so it runs GET and SET separately (OPS*10/11
# and OPS/11 requests) and its figures are combined: total requests over total wall time, total
# CPU over total requests. tierbench runs the mix in one workload. Client CPU is user + system
# time of the client process (GNU time). Nothing here asserts a number: docs/performance.md
# records what it printed. Run it against a scratch Redis: redis-benchmark itself writes keys
# named `key:NNNNNNNNNNNN` (tierbench writes only under its prefix and removes them after).
set -euo pipefail
cd "$(dirname "$0")/.."

OPS=${1:-1000000}
# TIERBENCH_REDIS_PIPELINE=P: tierbench sends P operations per round trip with 50/P workers, so
# that 50 operations are still in flight.
PIPELINE=${TIERBENCH_REDIS_PIPELINE:-1}
WORKERS=$(( 50 / PIPELINE ))
URL=${TIERBENCH_REDIS_URL:-redis://127.0.0.1:6379}
HOSTPORT=${URL#redis://}; HOSTPORT=${HOSTPORT%%/*}; HOST=${HOSTPORT%%:*}; PORT=${HOSTPORT##*:}
GETS=$(( OPS * 10 / 11 )); SETS=$(( OPS - GETS ))
command -v redis-benchmark >/dev/null || { echo "redis-benchmark not found: apt-get install redis-tools" >&2; exit 2; }
cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/tierbench
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

timed() { # timed OUT-FILE CMD... → prints "wall user sys" of CMD
  local out=$1; shift
  /usr/bin/time -f "%e %U %S" -o "$work/time" "$@" >"$out" 2>&1
  cat "$work/time"
}

read -r rb_get_wall rb_get_user rb_get_sys < <(timed "$work/rb-get" \
  redis-benchmark -h "$HOST" -p "$PORT" -c 50 -n "$GETS" -d 32 -r 100000 -t get -q)
read -r rb_set_wall rb_set_user rb_set_sys < <(timed "$work/rb-set" \
  redis-benchmark -h "$HOST" -p "$PORT" -c 50 -n "$SETS" -d 32 -r 100000 -t set -q)

cat >"$work/scenario.yaml" <<YAML
name: redis-vs-redis-benchmark
seed: 1
tiers:
  - { name: l2, kind: redis, url: "$URL", connections: ${TIERBENCH_REDIS_CONNECTIONS:-2}, pipeline: $PIPELINE }
data:
  keys: { count: 100000, prefix: "tierbench:rvb:", distribution: uniform }
  values: { shape: binary, size: 32 }
workloads:
  - { name: mixed, target: l2, warmup: 0, ops: $OPS, concurrency: $WORKERS, mix: { get: 10, set: 1 } }
YAML
read -r tb_wall tb_user tb_sys < <(timed "$work/tb" "$BIN" run "$work/scenario.yaml" --no-progress \
  --report "json=$work/tb.json")
tb_tput=$(python3 -c "import json;print(json.load(open('$work/tb.json'))['workloads'][0]['throughput'])")
tb_p99=$(python3 -c "import json;w=json.load(open('$work/tb.json'))['workloads'][0];print(w['operations']['all']['latency']['p99_ns']/1000)")

python3 - "$OPS" "$rb_get_wall" "$rb_get_user" "$rb_get_sys" "$rb_set_wall" "$rb_set_user" "$rb_set_sys" \
  "$tb_tput" "$tb_user" "$tb_sys" "$tb_p99" <<'PY'
import sys
ops, gw, gu, gs, sw, su, ss, tt, tu, ts, tp99 = map(float, sys.argv[1:])
rb_tput = ops / (gw + sw)
rb_cpu = (gu + gs + su + ss) / ops * 1e6
tb_cpu = (tu + ts) / ops * 1e6
print(f"{'client':<16}{'ops/s':>12}{'CPU-s per 1M ops':>20}")
print(f"{'redis-benchmark':<16}{rb_tput:>12.0f}{rb_cpu:>20.2f}")
print(f"{'tierbench':<16}{tt:>12.0f}{tb_cpu:>20.2f}   (p99 {tp99:.0f} us, timed from issue)")
print(f"ratio tierbench/redis-benchmark: throughput {tt / rb_tput:.2f}x, CPU per op {tb_cpu / rb_cpu:.2f}x")
PY
