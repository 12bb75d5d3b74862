#!/usr/bin/env bash
# What the live metrics endpoint and the live page cost a run, and how fast the endpoint
# answers under load. Rounds interleaved: off (neither), idle (--metrics-listen, nobody asks),
# on (a scraper asks /metrics every 100 ms with curl), dash (--dashboard with a page's event
# stream open), on two workloads:
#   redis: a lone Redis tier, 8 workers, 1:10 set:get, 8 s, PIPELINE operations in flight per
#          worker (default 1; 4 reaches ~200k ops/s on 2 cores);
#   l1:    an in-process moka tier of 1k keys, 2 workers, get only, 4 s (the mean get in ns).
# Prints each round's throughput (and the L1's mean get), and the scrapes' response times
# (p50, p99, max) under the Redis load. Nothing here asserts a number: docs/performance.md
# records what it printed.
#
#   [PIPELINE=4] scripts/metrics-overhead.sh [ROUNDS]   (default 3; TIERBENCH_REDIS_URL as elsewhere)
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${1:-3}
PIPELINE=${PIPELINE:-1}
URL=${TIERBENCH_REDIS_URL:-redis://127.0.0.1:6379}
command -v curl >/dev/null || { echo "curl not found" >&2; exit 2; }
cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/tierbench
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cat >"$work/redis.yaml" <<YAML
name: metrics-overhead-redis
seed: 1
tiers: [{ name: l2, kind: redis, url: "$URL", pipeline: $PIPELINE }]
data: { keys: { count: 100000, prefix: "tierbench:metrics-overhead:" }, values: { size: 32 } }
workloads:
  - { name: mixed, target: l2, warmup: 0, duration: 8s, concurrency: 8, preload: true, mix: { get: 10, set: 1 } }
YAML
cat >"$work/l1.yaml" <<YAML
name: metrics-overhead-l1
seed: 1
tiers: [{ name: l1, kind: memory, engine: moka, max_entries: 1000 }]
data: { keys: { count: 1000 }, values: { size: 32 } }
workloads:
  - { name: gets, target: l1, warmup: 0, duration: 4s, concurrency: 2, preload: true, mix: { get: 1 } }
YAML

scraper() { # scraper OUT: asks /metrics every 100 ms, one response time (s) per line
  while true; do
    # Only answered scrapes count (none before the endpoint is up, or after it is gone).
    if t=$(curl -sf -o /dev/null -w '%{time_total}' "http://127.0.0.1:$PORT/metrics" 2>/dev/null); then
      echo "$t" >>"$1"
    fi
    sleep 0.1
  done
}

: >"$work/rows"
for round in $(seq 1 "$ROUNDS"); do
  for kind in redis l1; do
    for mode in off idle on dash; do
      echo "round $round/$ROUNDS: $kind, exporter $mode" >&2
      extra=()
      [[ $mode == idle || $mode == on ]] && extra=(--metrics-listen "127.0.0.1:$PORT")
      [[ $mode == dash ]] && extra=(--dashboard "127.0.0.1:$PORT")
      spid=
      if [[ $mode == on ]]; then
        scraper "$work/scrapes-$kind" & spid=$!
      elif [[ $mode == dash ]]; then
        # A page's event stream, reconnecting until the dashboard is up.
        (while ! curl -sfN "http://127.0.0.1:$PORT/events" >/dev/null 2>&1; do sleep 0.05; done) & spid=$!
      fi
      "$BIN" run "$work/$kind.yaml" -q "${extra[@]}" --report "json=$work/r.json" >/dev/null
      if [[ -n $spid ]]; then kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; fi
      python3 - "$work/r.json" "$kind" "$mode" "$round" >>"$work/rows" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))["workloads"][0]
mean = w["operations"]["all"]["latency"]["mean_ns"]
print(sys.argv[2], sys.argv[3], sys.argv[4], w["throughput"], mean)
PY
    done
  done
done

python3 - "$work/rows" "$work/scrapes-redis" <<'PY'
import sys
from collections import defaultdict
rows = defaultdict(dict)
for line in open(sys.argv[1]):
    kind, mode, rnd, tput, mean = line.split()
    rows[(kind, mode)][int(rnd)] = (float(tput), float(mean))
def span(v, f):
    lo, hi = min(v), max(v)
    return f(lo) if f(lo) == f(hi) else f"{f(lo)}–{f(hi)}"
k = lambda v: f"{v / 1000:.1f}k"
ns = lambda v: f"{v:.1f}"
print("| workload | endpoint | ops/s | mean (ns) |\n|---|---|---:|---:|")
for kind in ("redis", "l1"):
    for mode in ("off", "idle", "on", "dash"):
        r = rows[(kind, mode)]
        print(f"| {kind} | {mode} | {span([v[0] for v in r.values()], k)} | {span([v[1] for v in r.values()], ns)} |")
    off = rows[(kind, "off")]
    for mode in ("idle", "on", "dash"):
        on = rows[(kind, mode)]
        ratios = [on[i][0] / off[i][0] for i in sorted(set(on) & set(off))]
        print(f"{kind}: throughput {mode} / off, round by round: {span(ratios, lambda v: f'{v:.3f}')}")
times = sorted(float(t) * 1000 for t in open(sys.argv[2]) if t.strip())
if times:
    q = lambda p: times[min(len(times) - 1, int(p * len(times)))]
    print(f"scrapes under the Redis load: {len(times)}, p50 {q(0.5):.2f} ms, p99 {q(0.99):.2f} ms, max {times[-1]:.2f} ms")
PY
