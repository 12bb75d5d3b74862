#!/usr/bin/env bash
# tierbench against the standard load generators of each tier, on the same work, rounds
# interleaved: scripts/peers/redis.sh (memtier_benchmark and redis-benchmark on Redis) and, when
# present, scripts/peers/sql.sh (pgbench and sysbench on PostgreSQL and MariaDB). Each prints its
# own tables; docs/performance.md records them. Nothing here asserts a number.
#
#   MEMTIER=/path/to/memtier_benchmark scripts/compare-peers.sh [ROUNDS]
#
# Arguments are passed to each peer script. A peer script that fails is reported and the others
# still run; the exit code is the first failure's.
set -uo pipefail
cd "$(dirname "$0")/.."

status=0
for peer in scripts/peers/redis.sh scripts/peers/sql.sh; do
  if [[ ! -f $peer ]]; then
    echo "== $peer: not present, skipped" >&2
    continue
  fi
  echo "== $peer"
  bash "$peer" "$@"
  code=$?
  if [[ $code != 0 ]]; then
    echo "== $peer failed (exit $code)" >&2
    [[ $status == 0 ]] && status=$code
  fi
done
exit "$status"
