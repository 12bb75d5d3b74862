#!/usr/bin/env bash
# The in-process tier: tierbench's reported mean get next to a bare loop over the same keys.
#
# Runs benches/l1_ops.rs's comparison: for zipf 0.99 and uniform keys, 1k and 100k keys, and each
# engine (moka, quick_cache, lru), a bare loop of gets over exactly the key sequence tierbench's
# worker issues (same sampler, same seed; checked against a trace tierbench records) and a
# `tierbench run` of the same scenario (1 worker, all hits, 300-byte values), rounds interleaved
# (A B A B), ranges printed as a Markdown table. No time is asserted.
#
# Usage: scripts/l1-vs-bare-loop.sh [OPS] [ROUNDS] [FILTER]
#   OPS     gets per round (default 3000000)
#   ROUNDS  interleaved rounds (default 2)
#   FILTER  only the scenarios whose label contains it, e.g. zipf-1000 (default: all)
# Set L1_CRITERION=1 to run criterion's bare_get group first.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tierbench/target}"
export L1_OPS="${1:-3000000}" L1_ROUNDS="${2:-2}" L1_FILTER="${3:-}"
if [ -z "${L1_CRITERION:-}" ]; then
    export L1_TABLE_ONLY=1
fi
exec cargo bench --bench l1_ops
