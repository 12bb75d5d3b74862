#!/usr/bin/env bash
# tierbench's memcached client (its own meta-protocol codec over its own connections) against the
# `async-memcached` crate driving the same work, rounds interleaved (A B A B ...). Prints ops/s,
# client CPU-s per 1M operations and p99 per client (ranges over the rounds).
# Nothing here asserts a number: docs/performance.md records what it printed.
#
#   scripts/peers/async-memcached.sh [ROUNDS]        (default 3 rounds)
#
# The work: 50 tasks, each with one request in flight on a connection of its own (the crate's
# `Client` is one connection that takes one request at a time), 32-byte values, 100k uniform
# keys, 1:10 set:get, OPS operations (default 1,000,000), against TIERBENCH_MEMCACHED_URL
# (default memcache://127.0.0.1:11211), on a multi-thread tokio runtime with one thread per core
# for both. tierbench runs it as `concurrency: 50, connections: 50`; the harness below is a
# small program written here for the comparison (a task per connection timing each call into an
# HDR histogram, as tierbench does), built in a cache folder outside this tree. A third row:
# tierbench's own layout for the same 50 workers (2 connections, one task writing each
# connection's ready requests in one write), which the crate's one-request-per-Client cannot do.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${1:-3}
OPS=${OPS:-1000000}
URL=${TIERBENCH_MEMCACHED_URL:-memcache://127.0.0.1:11211}
HOSTPORT=${URL#memcache://}; HOSTPORT=${HOSTPORT%%/*}
[[ $HOSTPORT == *:* ]] || HOSTPORT="$HOSTPORT:11211"
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time not found (apt-get install time)" >&2; exit 2; }
cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/tierbench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The harness: its own cargo project in a cache folder (never in this tree).
harness=${XDG_CACHE_HOME:-$HOME/.cache}/tierbench-peers/async-memcached
mkdir -p "$harness/src"
cat >"$harness/Cargo.toml" <<'TOML'
[package]
name = "amc-harness"
version = "0.1.0"
edition = "2024"

[dependencies]
async-memcached = "0.6"
tokio = { version = "1", features = ["rt-multi-thread", "macros", "time"] }
hdrhistogram = "7"
rand = { version = "0.9", features = ["small_rng"] }

[profile.release]
lto = "thin"
codegen-units = 1
TOML
cat >"$harness/src/main.rs" <<'RUST'
//! 50 tasks, each one async-memcached Client (one connection), 1:10 set:get over 100k keys;
//! prints "ops_per_s p99_ns cpu_s".
use async_memcached::{AsciiProtocol, Client};
use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};
use std::time::Instant;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (addr, ops, tasks): (String, u64, u64) =
        (args[1].clone(), args[2].parse().unwrap(), args[3].parse().unwrap());
    let value = vec![b'x'; 32];
    // Preload every key once (left out of the figures, as tierbench's preload is).
    let mut c = Client::new(format!("tcp://{addr}")).await.expect("connect");
    for k in 0..100_000u64 {
        c.set(format!("tbpeers:amc:{k}"), &value[..], Some(600), None).await.expect("set");
    }
    let mut clients = Vec::new();
    for _ in 0..tasks {
        clients.push(Client::new(format!("tcp://{addr}")).await.expect("connect"));
    }
    let cpu0 = cpu_s();
    let start = Instant::now();
    let mut handles = Vec::new();
    for (t, mut client) in clients.into_iter().enumerate() {
        let share = ops / tasks + u64::from((t as u64) < ops % tasks);
        let value = value.clone();
        handles.push(tokio::spawn(async move {
            let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
            let mut rng = rand::rngs::SmallRng::seed_from_u64(t as u64);
            let mut key = String::with_capacity(32);
            for _ in 0..share {
                use std::fmt::Write;
                key.clear();
                let _ = write!(key, "tbpeers:amc:{}", rng.random_range(0..100_000u64));
                let t0 = Instant::now();
                if rng.random_range(0..11) == 0 {
                    client.set(key.as_str(), &value[..], Some(600), None).await.expect("set");
                } else {
                    client.get(key.as_str()).await.expect("get");
                }
                h.record(t0.elapsed().as_nanos() as u64).unwrap();
            }
            h
        }));
    }
    let mut all = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
    for handle in handles {
        all.add(handle.await.unwrap()).unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{} {} {}", all.len() as f64 / secs, all.value_at_quantile(0.99), cpu_s() - cpu0);
}

/// User + system CPU seconds of this process so far (/proc/self/stat, clock ticks of 100 Hz).
fn cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap().split_whitespace().collect();
    (fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap()) / 100.0
}
RUST
echo "building the async-memcached harness in $harness..." >&2
(cd "$harness" && CARGO_TARGET_DIR="$harness/target" cargo build --release --quiet)
AMC=$harness/target/release/amc-harness

cat >"$work/tb.yaml" <<YAML
name: peers-async-memcached
seed: 1
tiers: [{ name: mc, kind: memcached, url: "$URL", connections: 50 }]
data: { keys: { count: 100000, prefix: "tbpeers:tb:" }, values: { size: 32 } }
workloads:
  - { name: mixed, target: mc, preload: true, warmup: 0, ops: $OPS, concurrency: 50, mix: { get: 10, set: 1 } }
YAML
# tierbench's own layout for the same 50 workers: 2 connections, each driven by one task that
# writes every ready request in one write (the crate cannot: one request at a time per Client).
sed 's/connections: 50/connections: 2/' "$work/tb.yaml" >"$work/tb2.yaml"

: >"$work/rows"
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round/$ROUNDS: async-memcached" >&2
  read -r ops p99 cpu < <("$AMC" "$HOSTPORT" "$OPS" 50)
  echo "async-memcached $round $ops $p99 $cpu" >>"$work/rows"
  for layout in tb tb2; do
    echo "round $round/$ROUNDS: tierbench ($layout)" >&2
    "$BIN" run "$work/$layout.yaml" -q --threads "$(nproc)" --report "json=$work/r.json" >/dev/null
    python3 - "$work/r.json" "$round" "$layout" >>"$work/rows" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))["workloads"][0]
cpu = w["phases"][-1]["client_cpu_s"]  # the measured phase's CPU (the preload left out)
tool = {"tb": "tierbench", "tb2": "tierbench-2conn"}[sys.argv[3]]
print(tool, sys.argv[2], w["throughput"], w["operations"]["all"]["latency"]["p99_ns"], cpu)
PY
  done
done

python3 - "$work/rows" "$OPS" <<'PY'
import sys
from collections import defaultdict
rows = defaultdict(dict)
for line in open(sys.argv[1]):
    tool, rnd, ops, p99, cpu = line.split()
    rows[tool][int(rnd)] = (float(ops), float(p99), float(cpu))
per_m = 1e6 / float(sys.argv[2])
def span(v, f):
    lo, hi = min(v), max(v)
    return f(lo) if f(lo) == f(hi) else f"{f(lo)}–{f(hi)}"
print("| client | ops/s | CPU-s per 1M ops | p99 |\n|---|---:|---:|---:|")
for tool in ("tierbench", "async-memcached", "tierbench-2conn"):
    r = rows[tool].values()
    print(f"| {tool} | {span([v[0] for v in r], lambda x: f'{x/1000:.0f}k')} | "
          f"{span([v[2] * per_m for v in r], lambda x: f'{x:.2f}')} | "
          f"{span([v[1] / 1000 for v in r], lambda x: f'{x:.0f} µs')} |")
a, b = rows["tierbench"], rows["async-memcached"]
common = sorted(set(a) & set(b))
print("tierbench / async-memcached ops/s, round by round:",
      span([a[i][0] / b[i][0] for i in common], lambda x: f"{x:.2f}×"),
      "; CPU per op:", span([a[i][2] / b[i][2] for i in common], lambda x: f"{x:.2f}×"))
PY
