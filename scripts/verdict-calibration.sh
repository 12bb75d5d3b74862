#!/usr/bin/env bash
# How often the regression verdict is wrong, measured, for the three ways of comparing:
#   compare    one run per side (`tierbench compare A.json B.json`);
#   history    `run --baseline NAME` against the last saved runs of NAME;
#   ab         `tierbench ab BASE CANDIDATE --rounds 6` (interleaved, paired).
# A/A cases (the same scenario on both sides: any non-zero exit is a false alarm) and A/B cases
# (the origin 30% or 10% slower: exit 5 is a detection), with and without a noisy neighbour (a
# CPU hog switched on and off every 1.5 s, as on shared CI runners). No server needed: an
# in-process L1 in front of a simulated origin.
#
#   scripts/verdict-calibration.sh [PAIRS] [MODES]   # default 10 per case, "compare history ab"
#
# Prints one line per case: pairs, false alarms or detections, and the rate. docs/verdicts.md
# records the figures of this machine and the method.
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${1:-10}
MODES=${2:-compare history ab}
BIN=${TIERBENCH:-target/release/tierbench}
[ -x "$BIN" ] || BIN="${CARGO_TARGET_DIR:-target}/release/tierbench"
[ -x "$BIN" ] || { cargo build --release --locked >&2; BIN="${CARGO_TARGET_DIR:-target}/release/tierbench"; }
work=$(mktemp -d)
hog_pid=""
cleanup() { [ -n "$hog_pid" ] && kill "$hog_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

cat >"$work/s.yaml" <<'YAML'
name: calibration
seed: 1
tiers: [{ name: l1, kind: memory, engine: lru, max_entries: 500 }]
data: { keys: { count: 5000, distribution: zipf, zipf_exponent: 0.9 }, values: { size: 64 } }
origin: { latency: 200us }
workloads:
  - { name: reads, target: stack, warmup: 2000, duration: 3s, concurrency: 8, mix: { get: 1 } }
YAML

run() { # run OUT [--set ...]
  local out=$1; shift
  "$BIN" run "$work/s.yaml" -q --report "json=$out" "$@" >/dev/null 2>&1 || true
}

neighbour_on() {
  ( while :; do timeout 1.5 sh -c 'while :; do :; done' || true; sleep 1.5; done ) &
  hog_pid=$!
}
neighbour_off() { [ -n "$hog_pid" ] && kill "$hog_pid" 2>/dev/null; pkill -P "$hog_pid" 2>/dev/null || true; hog_pid=""; }

case_line() { # NAME B_LATENCY WANT(alarm|detect)
  local name=$1 latency=$2 want=$3 hits=0
  for i in $(seq 1 "$PAIRS"); do
    run "$work/a.json"
    run "$work/b.json" --set "origin.latency=$latency"
    set +e
    "$BIN" compare "$work/a.json" "$work/b.json" --report "json=$work/cmp-$want-$i.json" >/dev/null 2>&1
    code=$?
    set -e
    if [ "$want" = alarm ] && [ "$code" -ne 0 ]; then hits=$((hits + 1)); fi
    if [ "$want" = detect ] && [ "$code" -eq 5 ]; then hits=$((hits + 1)); fi
  done
  local what=$([ "$want" = alarm ] && echo "false alarms" || echo "detections")
  printf '%-44s %3d pairs  %3d %-12s %5.0f%%\n' "$name" "$PAIRS" "$hits" "$what" \
    "$(echo "100 * $hits / $PAIRS" | bc -l)"
  # The A/A changes per metric: what a noise floor must cover (its 95th percentile).
  if [ "$want" = alarm ]; then
    python3 - "$work" <<'PY'
import glob, json, sys
changes = {}
for f in glob.glob(sys.argv[1] + "/cmp-alarm-*.json"):
    for m in json.load(open(f))["comparison"]["metrics"]:
        if m.get("change"):
            changes.setdefault(m["metric"], []).append(abs(m["change"]["relative"]))
for metric, xs in sorted(changes.items()):
    xs.sort()
    p95 = xs[min(len(xs) - 1, int(0.95 * len(xs)))]
    print(f"    A/A |change| of {metric:<14} median {100 * xs[len(xs) // 2]:5.1f}%  p95 {100 * p95:5.1f}%  max {100 * xs[-1]:5.1f}%")
PY
    rm -f "$work"/cmp-alarm-*.json
  fi
}

ab_line() { # NAME CANDIDATE_LATENCY WANT(alarm|detect)
  local name=$1 latency=$2 want=$3 hits=0
  sed "s/latency: 200us/latency: $latency/" "$work/s1.yaml" >"$work/c1.yaml"
  for i in $(seq 1 "$PAIRS"); do
    set +e
    "$BIN" ab "$work/s1.yaml" "$work/c1.yaml" --rounds 6 -q >/dev/null 2>&1
    code=$?
    set -e
    if [ "$want" = alarm ] && [ "$code" -ne 0 ]; then hits=$((hits + 1)); fi
    if [ "$want" = detect ] && [ "$code" -eq 5 ]; then hits=$((hits + 1)); fi
  done
  local what=$([ "$want" = alarm ] && echo "false alarms" || echo "detections")
  printf '%-44s %3d runs   %3d %-12s %5.0f%%\n' "$name" "$PAIRS" "$hits" "$what" \
    "$(echo "100 * $hits / $PAIRS" | bc -l)"
}

history_line() { # NAME LATENCY WANT(alarm|detect): against 5 saved runs of the base
  local name=$1 latency=$2 want=$3 hits=0
  for i in $(seq 1 "$PAIRS"); do
    set +e
    TIERBENCH_BASELINE_DIR="$work/baselines" "$BIN" run "$work/s.yaml" -q \
      --set "origin.latency=$latency" --baseline calib --report "json=$work/h.json" >/dev/null 2>&1
    code=$?
    set -e
    if [ "$want" = alarm ] && [ "$code" -ne 0 ]; then hits=$((hits + 1)); fi
    if [ "$want" = detect ] && [ "$code" -eq 5 ]; then hits=$((hits + 1)); fi
  done
  local what=$([ "$want" = alarm ] && echo "false alarms" || echo "detections")
  printf '%-44s %3d runs   %3d %-12s %5.0f%%\n' "$name" "$PAIRS" "$hits" "$what" \
    "$(echo "100 * $hits / $PAIRS" | bc -l)"
}

save_history() { # five runs of the base saved as baseline `calib`
  rm -rf "$work/baselines"
  for _ in 1 2 3 4 5; do
    TIERBENCH_BASELINE_DIR="$work/baselines" "$BIN" run "$work/s.yaml" -q --save-baseline calib >/dev/null 2>&1 || true
  done
}

sed 's/duration: 3s/duration: 1s/' "$work/s.yaml" >"$work/s1.yaml"
echo "tierbench verdict calibration: $PAIRS per case ($(nproc) cores, $(date -u +%Y-%m-%d))"
for mode in $MODES; do
  case $mode in
    compare)
      case_line "compare A/A quiet" 200us alarm
      case_line "compare A/B origin +30% quiet" 260us detect
      case_line "compare A/B origin +10% quiet" 220us detect
      neighbour_on
      case_line "compare A/A noisy neighbour" 200us alarm
      case_line "compare A/B origin +30% noisy neighbour" 260us detect
      neighbour_off ;;
    history)
      save_history
      history_line "history A/A quiet" 200us alarm
      history_line "history A/B origin +30% quiet" 260us detect
      # A neighbour that comes and goes is there when the history is saved too.
      neighbour_on
      save_history
      history_line "history A/A noisy neighbour" 200us alarm
      history_line "history A/B origin +30% noisy neighbour" 260us detect
      neighbour_off ;;
    ab)
      ab_line "ab A/A quiet (6 rounds of 1 s)" 200us alarm
      ab_line "ab A/B origin +10% quiet" 220us detect
      neighbour_on
      ab_line "ab A/A noisy neighbour" 200us alarm
      ab_line "ab A/B origin +10% noisy neighbour" 220us detect
      neighbour_off ;;
  esac
done
