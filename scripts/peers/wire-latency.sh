#!/usr/bin/env bash
# The latency a client adds to what the wire shows. For each client (tierbench, then
# memtier_benchmark when MEMTIER is given), at each rate: capture the loopback traffic to Redis
# with tshark while the client runs in open loop, pair each request with its reply per TCP
# connection (scripts/peers/wire_pairs.py: RESP parsed, the i-th command with the i-th reply),
# and print the client's own p50/p90/p99 beside the wire's for the same run, and the difference.
# Nothing here asserts a number: docs/performance.md records what it printed.
#
#   [MEMTIER=/path/to/memtier_benchmark] scripts/peers/wire-latency.sh [RATES]
#
# RATES: operations per second, comma-separated (default 5000,50000). The work: 10 connections,
# 8 s, 1:10 set:get, 100k uniform keys (prefilled), 32-byte values, against Redis at
# TIERBENCH_REDIS_URL (default redis://127.0.0.1:6379; loopback only: the capture is on `lo`).
# tierbench: `rate`, `connections: 10`, `concurrency: 50`; memtier: `-t 1 -c 10
# --rate-limiting=RATE/10` (its rate is per connection). A request's wire time runs from the
# capture of the segment that completed it to that of the segment that completed its reply:
# the ground truth a client's figure can only add to (its own timer, its wake-ups, its queue).
# Needs tshark (Debian's package: apt-get install tshark) and permission to capture on `lo`.
set -euo pipefail
cd "$(dirname "$0")/../.."

RATES=${1:-5000,50000}
URL=${TIERBENCH_REDIS_URL:-redis://127.0.0.1:6379}
HOSTPORT=${URL#redis://}; HOSTPORT=${HOSTPORT%%/*}; HOST=${HOSTPORT%%:*}; PORT=${HOSTPORT##*:}
[[ $HOST == "$HOSTPORT" ]] && PORT=6379
command -v tshark >/dev/null || { echo "tshark not found (apt-get install tshark)" >&2; exit 2; }
MEMTIER=${MEMTIER:-$(command -v memtier_benchmark || true)}
cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/tierbench
PAIRS=$(pwd)/scripts/peers/wire_pairs.py
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
SECS=8

capture() { # capture NAME CMD...: runs CMD under a capture; the pairs' latencies to NAME.ns
  local name=$1; shift
  tshark -i lo -f "tcp port $PORT" -w "$work/$name.pcap" -q 2>"$work/tshark.log" &
  local tpid=$!
  sleep 2 # tshark is capturing once it has opened the interface
  "$@" >"$work/$name.out" 2>&1 || { cat "$work/$name.out" >&2; exit 3; }
  sleep 0.5
  kill -INT "$tpid"; wait "$tpid" 2>/dev/null || true
  tshark -r "$work/$name.pcap" -Y 'tcp.len > 0' -T fields -E separator=, \
    -e tcp.stream -e frame.time_epoch -e tcp.dstport -e tcp.payload 2>/dev/null \
    | python3 "$PAIRS" "$PORT" >"$work/$name.ns"
}

summary() { # summary NAME CLIENT_P50_NS CLIENT_P90_NS CLIENT_P99_NS: one table row
  python3 - "$work/$1.ns" "$1" "$2" "$3" "$4" <<'PY'
import sys
ns = sorted(int(l.split()[1]) for l in open(sys.argv[1]) if l.strip())
q = lambda p: ns[min(len(ns) - 1, int(p * len(ns)))]
client = [float(v) for v in sys.argv[3:6]]
wire = [q(0.5), q(0.9), q(0.99)]
us = lambda v: f"{v / 1000:.0f}"
print(f"| {sys.argv[2]} | {' / '.join(us(v) for v in client)} | {' / '.join(us(v) for v in wire)} "
      f"| {us(client[0] - wire[0])} | {us(client[2] - wire[2])} | {len(ns)} |")
PY
}

echo "prefilling 100k keys..." >&2
if [[ -n $MEMTIER ]]; then
  "$MEMTIER" -s "$HOST" -p "$PORT" -t 1 -c 10 --pipeline=50 --ratio=1:0 --key-pattern=P:P \
    --key-minimum=1 --key-maximum=100000 -n allkeys -d 32 --key-prefix=tbpeers:wire: \
    --expiry-range=600-600 --hide-histogram >/dev/null 2>&1
fi

rows=()
for rate in ${RATES//,/ }; do
  cat >"$work/tb.yaml" <<YAML
name: wire-latency
seed: 1
tiers: [{ name: l2, kind: redis, url: "$URL", connections: 10 }]
data: { keys: { count: 100000, prefix: "tbpeers:wiretb:" }, values: { size: 32 } }
workloads:
  - { name: open, target: l2, preload: false, warmup: 0, duration: ${SECS}s, rate: $rate/s, concurrency: 50, mix: { get: 10, set: 1 } }
YAML
  echo "rate $rate/s: tierbench" >&2
  # No preload: its pipelined sets on the same connections would pair as slow requests; gets
  # of missing keys cost the server the same. Setup and cleanup fall outside the window below.
  capture "tb$rate" "$BIN" run "$work/tb.yaml" -q --report "json=$work/tb$rate.json"
  read -r p50 p90 p99 from to < <(python3 - "$work/tb$rate.json" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))["workloads"][0]
l = w["operations"]["all"]["latency"]
start = w["started_ms"] / 1000
print(l["p50_ns"], l["p90_ns"], l["p99_ns"], start, start + w["duration_s"])
PY
)
  # Only the measured phase's pairs (not the preload's sets before it, nor the cleanup after).
  awk -v from="$from" -v to="$to" '$1 >= from && $1 <= to' "$work/tb$rate.ns" >"$work/tb$rate.win"
  mv "$work/tb$rate.win" "$work/tb$rate.ns"
  rows+=("$(summary "tb$rate" "$p50" "$p90" "$p99" | sed "s/| tb$rate /| tierbench, $rate\/s /")")
  if [[ -n $MEMTIER ]]; then
    echo "rate $rate/s: memtier_benchmark" >&2
    capture "mt$rate" "$MEMTIER" -s "$HOST" -p "$PORT" -t 1 -c 10 --rate-limiting=$((rate / 10)) \
      --test-time=$SECS --ratio=1:10 --key-pattern=R:R --key-minimum=1 --key-maximum=100000 \
      -d 32 --key-prefix=tbpeers:wire: --expiry-range=600-600 --hide-histogram \
      --print-percentiles=50,90,99 --json-out-file="$work/mt$rate.json"
    read -r p50 p90 p99 < <(python3 - "$work/mt$rate.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))["ALL STATS"]["Totals"]["Percentile Latencies"]
print(*(float(p[k]) * 1e6 for k in ("p50.00", "p90.00", "p99.00")))
PY
)
    rows+=("$(summary "mt$rate" "$p50" "$p90" "$p99" | sed "s/| mt$rate /| memtier_benchmark, $rate\/s /")")
  fi
done

echo "| client, rate | client p50 / p90 / p99 (µs) | wire p50 / p90 / p99 (µs) | client adds at p50 (µs) | at p99 (µs) | pairs |"
echo "|---|---|---|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
