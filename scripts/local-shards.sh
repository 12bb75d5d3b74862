#!/usr/bin/env bash
# Runs deploy/kubernetes on this machine: N shard processes started together, each told which
# shard it is the way an Indexed Job tells its pods (JOB_COMPLETION_INDEX=i, TIERBENCH_SHARDS=N)
# with one common start (TIERBENCH_START_AT), then the merge Job's command on their results.
#
#   scripts/local-shards.sh SCENARIO [N] [DIR]
#
# SCENARIO is copied to DIR/scenario/scenario.yaml (the ConfigMap's mount), results and reports go
# to DIR/results/ (the shared volume), each shard's output to DIR/logs/shard-I.log. DIR defaults to
# a new temporary directory (printed) and must not contain white space. Environment:
#   TIERBENCH           the binary (default: tierbench on PATH, else target/release/tierbench)
#   TIERBENCH_START_AT  the common start (default: 5 s from now)
#   TIERBENCH_MERGE_WAIT  how long the merge waits for the shards' documents (default: 1m)
#   REDIS_PASSWORD ...  whatever the scenario's ${VAR}s need, as the Secret gives them to the pods
# Exit code: the merge's (0 all thresholds held on the whole, 1 a threshold failed, 2 a shard's
# result is missing, ...; see README "Exit codes").
set -euo pipefail

# The command lines of the manifests, token for token: shards-job.yaml's container args and
# merge-job.yaml's `sh -c` line. tests/indexed_job.rs fails when these differ from the manifests.
# Below, as in the pods, /scenario and /results are the mounts and $(JOB_COMPLETION_INDEX) is
# expanded to the shard's index (Kubernetes does that for container args).
SHARD_ARGS='run /scenario/scenario.yaml --report json=/results/shard-$(JOB_COMPLETION_INDEX).json --report text'
MERGE_COMMAND='exec tierbench merge --wait "$TIERBENCH_MERGE_WAIT" $(seq -f /results/shard-%g.json 0 $((TIERBENCH_SHARDS - 1))) -o /results/total.json --cleanup /scenario/scenario.yaml --report text=/results/report.txt --report markdown=/results/report.md --report html=/results/report.html --report junit=/results/junit.xml --report text'

usage() { sed -n '5,6p' "$0" | sed 's/^# *//' >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 3 ] || usage
scenario=$1
shards=${2:-3}
dir=${3:-$(mktemp -d "${TMPDIR:-/tmp}/tierbench-shards.XXXXXX")}
[ -f "$scenario" ] || { echo "local-shards: no scenario file $scenario" >&2; exit 2; }
[[ $shards =~ ^[1-9][0-9]*$ ]] || { echo "local-shards: N must be a whole number >= 1, not $shards" >&2; exit 2; }
[[ $dir =~ [[:space:]] ]] && { echo "local-shards: DIR must not contain white space: $dir" >&2; exit 2; }

if [ -z "${TIERBENCH:-}" ]; then
  if command -v tierbench >/dev/null; then TIERBENCH=tierbench
  else TIERBENCH="$(cd "$(dirname "$0")/.." && pwd)/target/release/tierbench"; fi
fi
export TIERBENCH
start=${TIERBENCH_START_AT:-$(date -u -d '+5 seconds' +%Y-%m-%dT%H:%M:%SZ)}

mkdir -p "$dir/scenario" "$dir/results" "$dir/logs"
cp "$scenario" "$dir/scenario/scenario.yaml"
# The manifests' paths, moved to this machine's.
localize() {
  local line=${1//\/scenario\//$dir/scenario/}
  printf '%s' "${line//\/results\//$dir/results/}"
}

echo "local-shards: $shards shards of $scenario starting $start in $dir" >&2
pids=()
for ((i = 0; i < shards; i++)); do
  line=$(localize "$SHARD_ARGS")
  read -r -a args <<<"${line//\$(JOB_COMPLETION_INDEX)/$i}"
  JOB_COMPLETION_INDEX=$i TIERBENCH_SHARDS=$shards TIERBENCH_START_AT=$start \
    "$TIERBENCH" "${args[@]}" >"$dir/logs/shard-$i.log" 2>&1 &
  pids+=($!)
done
# Like the Job: every shard runs to its end whatever the others do.
for i in "${!pids[@]}"; do
  code=0
  wait "${pids[$i]}" || code=$?
  echo "local-shards: shard $i exited $code (log: $dir/logs/shard-$i.log)" >&2
done

merge=$(localize "$MERGE_COMMAND")
code=0
TIERBENCH_SHARDS=$shards TIERBENCH_MERGE_WAIT=${TIERBENCH_MERGE_WAIT:-1m} TIERBENCH_START_AT=$start \
  sh -c "${merge/exec tierbench /exec \"\$TIERBENCH\" }" || code=$?
echo "local-shards: merge exited $code; results and reports in $dir/results" >&2
exit "$code"
