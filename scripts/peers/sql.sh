#!/usr/bin/env bash
# pgbench and sysbench against tierbench's SQL tier (L3) on the same servers, rounds interleaved
# (pgbench, tierbench on PostgreSQL, sysbench, tierbench on MariaDB, then again). Prints ops/s,
# client CPU-s per 1M operations and p99 per tool (ranges over the rounds) and tierbench's ratio
# to its peer, round by round. Nothing here asserts a number: docs/performance.md records what
# it printed ("SQL tier against pgbench and sysbench").
#
#   scripts/peers/sql.sh [ROUNDS]        (default 3 rounds; SECS=10 CLIENTS=8 by default;
#                                         TIERBENCH=path runs that binary instead of building)
#
# The work: CLIENTS clients, SECS seconds, 100,000 rows, primary-key lookups only.
#   PostgreSQL: pgbench -S -M prepared -c CLIENTS -j 2 on its own database `tb_pgbench`
#               (pgbench -i -s 1: 100,000 rows in pgbench_accounts), and tierbench (kind: sql,
#               get only, concurrency CLIENTS, pool CLIENTS, 100k keys preloaded) on its own
#               table `tb_peers` in that database.
#   MariaDB:    sysbench oltp_point_select --threads=CLIENTS (one table of 100,000 rows in its own
#               database `tb_sysbench`), and tierbench the same way in `tb_sysbench`.`tb_peers`.
# Ops/s: pgbench's tps (one SELECT per transaction), sysbench's queries per second (10 point
# selects per event, its default), tierbench's measured throughput. Client CPU: user + system
# of the client process (GNU time) over its operations; for tierbench, the CPU of the measured
# phase (`client_cpu_s` in its results: the preload is left out, as the peers load their data
# with a separate command). p99: pgbench's from its per-transaction log (a 10% sample,
# --sampling-rate 0.1), sysbench's own 99th percentile of an event (10 queries: not comparable
# to a single query's), tierbench's of a get. tierbench holds one connection per worker (the
# pool only replaces a connection that broke): its `pool_wait` is the time to take the held
# connection (and to re-acquire one after a fault); printed apart.
# tierbench runs twice per round: one runtime thread per core (the default) and --threads 1.
# Transport: each client's default. libpq (pgbench) and sqlx both prefer TLS, so on a PostgreSQL
# with `ssl = on` (Debian's default) both encrypt; sysbench and sqlx on a MariaDB without SSL
# (`have_ssl = DISABLED` here) both go in the clear.
# Servers: PGURL (default postgres://postgres@127.0.0.1:5432) and MYURL (default
# mysql://root@127.0.0.1:3306). The peers' databases are created when absent and kept (they hold
# only the peers' tables); tierbench drops its table at the end of each run.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${1:-3}
SECS=${SECS:-10}
CLIENTS=${CLIENTS:-8}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
MYURL=${MYURL:-mysql://root@127.0.0.1:3306}
pg_hostport=${PGURL#*@}; PGHOST=${pg_hostport%%:*}; PGPORT=${pg_hostport##*:}; PGPORT=${PGPORT%%/*}
pg_user=${PGURL#postgres://}; PGUSER=${pg_user%%@*}
my_hostport=${MYURL#*@}; MYHOST=${my_hostport%%:*}; MYPORT=${my_hostport##*:}; MYPORT=${MYPORT%%/*}
my_user=${MYURL#mysql://}; MYUSER=${my_user%%@*}
PGBENCH=${PGBENCH:-$(ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | tail -1 || true)}
if [[ -z $PGBENCH || ! -x $PGBENCH ]]; then
  echo "pgbench not found (apt-get install postgresql-contrib, or set PGBENCH=path)" >&2; exit 2
fi
for tool in sysbench psql mysql python3; do
  command -v "$tool" >/dev/null || { echo "$tool not found (apt-get install sysbench postgresql-client mariadb-client python3)" >&2; exit 2; }
done
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time not found (apt-get install time)" >&2; exit 2; }
if [[ -n ${TIERBENCH:-} ]]; then
  BIN=$TIERBENCH # a given build (e.g. one kept from before a change)
else
  cargo build --release --quiet
  BIN=${CARGO_TARGET_DIR:-target}/release/tierbench
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

SB=(sysbench oltp_point_select --db-driver=mysql --mysql-host="$MYHOST" --mysql-port="$MYPORT"
    --mysql-user="$MYUSER" --mysql-db=tb_sysbench --tables=1 --table-size=100000)
PGB=("$PGBENCH" -h "$PGHOST" -p "$PGPORT" -U "$PGUSER")

echo "preparing tb_pgbench (pgbench -i -s 1) and tb_sysbench (sysbench prepare)..." >&2
if [[ -z $(psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -Atc \
      "SELECT 1 FROM pg_database WHERE datname = 'tb_pgbench'") ]]; then
  psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -qc "CREATE DATABASE tb_pgbench"
fi
"${PGB[@]}" -i -s 1 -q tb_pgbench >"$work/init" 2>&1 || { cat "$work/init" >&2; exit 3; }
mysql -h "$MYHOST" -P "$MYPORT" -u "$MYUSER" -e "CREATE DATABASE IF NOT EXISTS tb_sysbench"
"${SB[@]}" cleanup >/dev/null 2>&1 || true
"${SB[@]}" prepare >"$work/init" 2>&1 || { cat "$work/init" >&2; exit 3; }

for db in postgres mysql; do
  if [[ $db == postgres ]]; then url="$PGURL/tb_pgbench"; else url="$MYURL/tb_sysbench"; fi
  cat >"$work/tb-$db.yaml" <<YAML
name: peers-sql-$db
seed: 1
tiers:
  - { name: l3, kind: sql, url: "$url", table: tb_peers, pool: $CLIENTS }
data:
  keys: { count: 100000, prefix: "tierbench:peers:", distribution: uniform }
  values: { shape: binary, size: 120 }
workloads:
  - { name: point-get, target: l3, preload: true, warmup: 0, duration: ${SECS}s, concurrency: $CLIENTS, mix: { get: 1 } }
YAML
done

timed() { # timed OUT CMD... : runs CMD, output to OUT; prints "wall user sys"
  local out=$1; shift
  /usr/bin/time -f "%e %U %S" -o "$work/time" "$@" >"$out" 2>&1 || { cat "$out" >&2; exit 3; }
  cat "$work/time"
}

tierbench() { # tierbench DB ROUND: one runtime thread per core (the default), then --threads 1
  for threads in default 1; do
    if [[ $threads == default ]]; then tool=tierbench; extra=(); else tool=tierbench-t1; extra=(--threads 1); fi
    read -r _ _ _ < <(timed "$work/tb.out" "$BIN" run "$work/tb-$1.yaml" --no-progress \
      "${extra[@]}" --report "json=$work/tb.json")
    python3 - "$work/tb.json" "$1" "$2" "$tool" >>"$rows" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))["workloads"][0]
phase = w["phases"][-1]
cpu = phase["client_cpu_s"] / phase["ops"] * 1e6
wait = next((t["pool_wait"] for t in w["tiers"] if t.get("pool_wait")), None)
wait_mean = wait["latency"]["mean_ns"] / 1e3 if wait else 0.0
print(sys.argv[2], sys.argv[4], sys.argv[3], w["throughput"], cpu,
      w["operations"]["get"]["latency"]["p99_ns"] / 1e6, wait_mean)
PY
  done
}

rows="$work/rows" # db tool round ops/s cpu_per_1M p99_ms [pool_wait_mean_us]
: >"$rows"
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round/$ROUNDS: pgbench, tierbench (PostgreSQL), sysbench, tierbench (MariaDB)" >&2
  rm -f "$work"/pgblog.*
  read -r _ u s < <(timed "$work/pgb.out" "${PGB[@]}" -S -M prepared -c "$CLIENTS" -j 2 -T "$SECS" \
    -n -l --sampling-rate 0.1 --log-prefix="$work/pgblog" tb_pgbench)
  python3 - "$work/pgb.out" "$u" "$s" "$round" "$work" >>"$rows" <<'PY'
import glob, re, sys
out = open(sys.argv[1]).read()
tps = float(re.search(r"tps = ([0-9.]+)", out).group(1))
n = int(re.search(r"number of transactions actually processed: (\d+)", out).group(1))
lat = sorted(int(line.split()[2]) for f in glob.glob(sys.argv[5] + "/pgblog.*") for line in open(f))
p99 = lat[int(len(lat) * 0.99)] / 1e3
print("postgres pgbench", sys.argv[4], tps, (float(sys.argv[2]) + float(sys.argv[3])) / n * 1e6, p99)
PY
  tierbench postgres "$round"
  read -r _ u s < <(timed "$work/sb.out" "${SB[@]}" --threads="$CLIENTS" --time="$SECS" \
    --percentile=99 --histogram=off run)
  python3 - "$work/sb.out" "$u" "$s" "$round" >>"$rows" <<'PY'
import re, sys
out = open(sys.argv[1]).read()
m = re.search(r"queries:\s+(\d+)\s+\(([0-9.]+) per sec", out)
n, qps = int(m.group(1)), float(m.group(2))
p99 = float(re.search(r"99th percentile:\s+([0-9.]+)", out).group(1))
print("mysql sysbench", sys.argv[4], qps, (float(sys.argv[2]) + float(sys.argv[3])) / n * 1e6, p99)
PY
  tierbench mysql "$round"
done

python3 - "$rows" "$CLIENTS" "$SECS" <<'PY'
import sys
from collections import defaultdict
runs = defaultdict(dict)  # (db, tool) -> round -> (ops, cpu, p99[, wait])
for line in open(sys.argv[1]):
    f = line.split()
    runs[(f[0], f[1])][int(f[2])] = tuple(map(float, f[3:]))

def span(values, fmt):
    lo, hi = min(values), max(values)
    return fmt(lo) if fmt(lo) == fmt(hi) else f"{fmt(lo)}–{fmt(hi)}"

k = lambda v: f"{v / 1000:.1f}k"
f2 = lambda v: f"{v:.2f}"
print(f"\n{sys.argv[2]} clients, {sys.argv[3]} s, 100,000 rows, primary-key lookups")
print("| server | client | ops/s | client CPU-s per 1M ops | p99 (ms) |\n|---|---|---:|---:|---:|")
for db, peer in (("postgres", "pgbench -S -M prepared"), ("mysql", "sysbench oltp_point_select")):
    for tool, name in ((peer.split()[0], peer), ("tierbench", "tierbench kind: sql, get only"),
                       ("tierbench-t1", "tierbench, --threads 1")):
        r = runs.get((db, tool))
        if r:
            print(f"| {'PostgreSQL' if db == 'postgres' else 'MariaDB'} | {name} | "
                  f"{span([v[0] for v in r.values()], k)} | {span([v[1] for v in r.values()], f2)} | "
                  f"{span([v[2] for v in r.values()], f2)} |")
for db, peer in (("postgres", "pgbench"), ("mysql", "sysbench")):
  for mine in ("tierbench", "tierbench-t1"):
    tb, pr = runs.get((db, mine), {}), runs.get((db, peer), {})
    rounds = sorted(set(tb) & set(pr))
    if rounds:
        print(f"{db}: {mine} / {peer}, round by round: throughput "
              f"{span([tb[i][0] / pr[i][0] for i in rounds], f2)}x, client CPU per op "
              f"{span([tb[i][1] / pr[i][1] for i in rounds], f2)}x; tierbench pool_wait mean "
              f"{span([tb[i][3] for i in rounds], f2)} µs")
PY
