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
#               get only, concurrency CLIENTS, pool CLIENTS, 100k keys) on its own table
#               `tb_peers` in that database, loaded once by a tierbench run before the rounds.
#   MariaDB:    sysbench oltp_point_select --threads=CLIENTS (one table of 100,000 rows in its own
#               database `tb_sysbench`), and tierbench the same way in `tb_sysbench`.`tb_peers`.
# Ops/s: pgbench's tps (one SELECT per transaction), sysbench's queries per second (10 point
# selects per event, its default), tierbench's measured throughput. Client CPU: user + system
# of the client process (GNU time) over its operations; for tierbench, the CPU of the measured
# phase (`client_cpu_s` in its results). p99: pgbench's from its per-transaction log (a 10% sample,
# --sampling-rate 0.1), sysbench's own 99th percentile of an event (10 queries: not comparable
# to a single query's), tierbench's of a get. tierbench holds one connection per worker (the
# pool only replaces a connection that broke): its `pool_wait` is the time to take the held
# connection (and to re-acquire one after a fault); printed apart.
# tierbench runs twice per round: one runtime thread per core (the default) and --threads 1.
# The same statement: each peer also runs tierbench's own get statement on tierbench's own table
# (pgbench -f with a script, sysbench with a Lua script), so that the client is the only thing
# that differs; tierbench's table is loaded once before the rounds (like the peers' tables) and
# dropped at the end. Server CPU: user + system of the server's processes (every process of the
# `postgres` user; `mariadbd`/`mysqld`) over a window of each run (from 3 s to SECS-1 s), per
# operation at the tool's own rate: on a machine whose cores the client and the server share,
# it tells whether a difference in throughput is the client's or the server's work. Shown as
# "-" when the server is not local or SECS < 6.
# Transport: each client's default. libpq (pgbench) and sqlx both prefer TLS, so on a PostgreSQL
# with `ssl = on` (Debian's default) both encrypt; sysbench and sqlx on a MariaDB without SSL
# (`have_ssl = DISABLED` here) both go in the clear.
# Servers: PGURL (default postgres://postgres@127.0.0.1:5432) and MYURL (default
# mysql://root@127.0.0.1:3306). The peers' databases are created when absent and kept (they hold
# only the peers' tables); tierbench's `tb_peers` tables are dropped when the script ends.
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
drop_tables() { # tierbench's tables, kept between the rounds (see "The same statement")
  psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d tb_pgbench -qc "DROP TABLE IF EXISTS tb_peers" >/dev/null 2>&1 || true
  mysql -h "$MYHOST" -P "$MYPORT" -u "$MYUSER" tb_sysbench -e "DROP TABLE IF EXISTS tb_peers" >/dev/null 2>&1 || true
}
trap 'drop_tables; rm -rf "$work"' EXIT

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
  for preload in true false; do
    # keep: the table and rows stay between runs (the load run fills them, each measured run
    # reads them, as the peers' runs read the tables their prepare step filled)
    cat >"$work/tb-$db-$preload.yaml" <<YAML
name: peers-sql-$db
seed: 1
keep: true
tiers:
  - { name: l3, kind: sql, url: "$url", table: tb_peers, pool: $CLIENTS }
data:
  keys: { count: 100000, prefix: "tierbench:peers:", distribution: uniform }
  values: { shape: binary, size: 120 }
workloads:
  - { name: point-get, target: l3, preload: $preload, warmup: 0, duration: $([[ $preload == true ]] && echo 1s || echo "${SECS}s"), concurrency: $CLIENTS, mix: { get: 1 } }
YAML
  done
done

# The same statement as tierbench's get, on tierbench's table, for each peer. The key's colons are
# written as \x3a: pgbench would read ":peers" as one of its variables.
now_ms=$(date +%s%3N)
cat >"$work/same.pgbench" <<SQL
\set id random(0, 99999)
SELECT v FROM tb_peers WHERE k = E'tierbench\\x3apeers\\x3a' || CAST(:id AS text) AND (expires_at IS NULL OR expires_at > $now_ms);
SQL
cat >"$work/same.lua" <<LUA
-- tierbench's get statement on tierbench's table, 10 per event as oltp_point_select does
function thread_init()
  con = sysbench.sql.driver():connect()
  stmt = con:prepare("SELECT v FROM tb_peers WHERE k = ? AND (expires_at IS NULL OR expires_at > ?)")
  key = stmt:bind_create(sysbench.sql.type.VARCHAR, 64)
  now = stmt:bind_create(sysbench.sql.type.BIGINT)
  stmt:bind_param(key, now)
end
function event()
  for _ = 1, 10 do
    key:set("tierbench:peers:" .. sysbench.rand.uniform(0, 99999))
    now:set($now_ms)
    stmt:execute()
  end
end
LUA
SBSAME=(sysbench "$work/same.lua" --db-driver=mysql --mysql-host="$MYHOST" --mysql-port="$MYPORT"
        --mysql-user="$MYUSER" --mysql-db=tb_sysbench)

server_cpu() { # server_cpu DB: CPU-s (user + system) of the local server's processes, or nothing
  local host pids
  if [[ $1 == postgres ]]; then host=$PGHOST; pids=$(pgrep -u postgres || true)
  else host=$MYHOST; pids=$(pgrep -x 'mariadbd|mysqld' || true); fi
  [[ $host == 127.0.0.1 || $host == localhost ]] || return 0
  [[ -n $pids ]] || return 0
  for p in $pids; do cat "/proc/$p/stat" 2>/dev/null; done |
    awk -v t="$(getconf CLK_TCK)" '{ s += $14 + $15 } END { printf "%.3f\n", s / t }'
}

timed() { # timed DB OUT CMD... : runs CMD, output to OUT; prints "wall user sys server-cpu-s window-s"
  local db=$1 out=$2; shift 2
  /usr/bin/time -f "%e %U %S" -o "$work/time" "$@" >"$out" 2>&1 &
  local pid=$! c0='' c1='' t0=0 t1=1
  if (( SECS >= 6 )); then # a window inside the measured phase: from 3 s to SECS-1 s
    sleep 3; c0=$(server_cpu "$db"); t0=$(date +%s.%N)
    sleep $((SECS - 4)); c1=$(server_cpu "$db"); t1=$(date +%s.%N)
  fi
  wait "$pid" || { cat "$out" >&2; exit 3; }
  if [[ -n $c0 && -n $c1 ]]; then
    echo "$(cat "$work/time") $(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" 'BEGIN { print b - a, e - s }')"
  else
    echo "$(cat "$work/time") nan 1"
  fi
}

tierbench() { # tierbench DB ROUND: one runtime thread per core (the default), then --threads 1
  for threads in default 1; do
    if [[ $threads == default ]]; then tool=tierbench; extra=(); else tool=tierbench-t1; extra=(--threads 1); fi
    read -r _ _ _ sc sw < <(timed "$1" "$work/tb.out" "$BIN" run "$work/tb-$1-false.yaml" --no-progress \
      "${extra[@]}" --report "json=$work/tb.json")
    python3 - "$work/tb.json" "$1" "$2" "$tool" "$sc" "$sw" >>"$rows" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))["workloads"][0]
phase = w["phases"][-1]
cpu = phase["client_cpu_s"] / phase["ops"] * 1e6
server = float(sys.argv[5]) / (w["throughput"] * float(sys.argv[6])) * 1e6
wait = next((t["pool_wait"] for t in w["tiers"] if t.get("pool_wait")), None)
wait_mean = wait["latency"]["mean_ns"] / 1e3 if wait else 0.0
print(sys.argv[2], sys.argv[4], sys.argv[3], w["throughput"], cpu,
      w["operations"]["get"]["latency"]["p99_ns"] / 1e6, server, wait_mean)
PY
  done
}

pgbench_row() { # pgbench_row TOOL ROUND ARGS...: one pgbench run, its row
  local tool=$1 round=$2; shift 2
  rm -f "$work"/pgblog.*
  read -r _ u s sc sw < <(timed postgres "$work/pgb.out" "${PGB[@]}" "$@" -M prepared -c "$CLIENTS" \
    -j 2 -T "$SECS" -n -l --sampling-rate 0.1 --log-prefix="$work/pgblog" tb_pgbench)
  python3 - "$work/pgb.out" "$u" "$s" "$round" "$work" "$tool" "$sc" "$sw" >>"$rows" <<'PY'
import glob, re, sys
out = open(sys.argv[1]).read()
tps = float(re.search(r"tps = ([0-9.]+)", out).group(1))
n = int(re.search(r"number of transactions actually processed: (\d+)", out).group(1))
lat = sorted(int(line.split()[2]) for f in glob.glob(sys.argv[5] + "/pgblog.*") for line in open(f))
p99 = lat[int(len(lat) * 0.99)] / 1e3
server = float(sys.argv[7]) / (tps * float(sys.argv[8])) * 1e6
print("postgres", sys.argv[6], sys.argv[4], tps, (float(sys.argv[2]) + float(sys.argv[3])) / n * 1e6, p99, server)
PY
}

sysbench_row() { # sysbench_row TOOL ROUND COMMAND...: one sysbench run, its row
  local tool=$1 round=$2; shift 2
  read -r _ u s sc sw < <(timed mysql "$work/sb.out" "$@" --threads="$CLIENTS" --time="$SECS" \
    --percentile=99 --histogram=off run)
  python3 - "$work/sb.out" "$u" "$s" "$round" "$tool" "$sc" "$sw" >>"$rows" <<'PY'
import re, sys
out = open(sys.argv[1]).read()
m = re.search(r"queries:\s+(\d+)\s+\(([0-9.]+) per sec", out)
n, qps = int(m.group(1)), float(m.group(2))
p99 = float(re.search(r"99th percentile:\s+([0-9.]+)", out).group(1))
server = float(sys.argv[6]) / (qps * float(sys.argv[7])) * 1e6
print("mysql", sys.argv[5], sys.argv[4], qps, (float(sys.argv[2]) + float(sys.argv[3])) / n * 1e6, p99, server)
PY
}

echo "loading tierbench's tables (tb_peers, 100,000 rows, kept until the end)..." >&2
drop_tables
for db in postgres mysql; do
  "$BIN" run "$work/tb-$db-true.yaml" --no-progress >"$work/load" 2>&1 || { cat "$work/load" >&2; exit 3; }
done

rows="$work/rows" # db tool round ops/s cpu_per_1M p99_ms server_us_per_op [pool_wait_mean_us]
: >"$rows"
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round/$ROUNDS: pgbench (its own statement, then tierbench's), tierbench on" \
    "PostgreSQL, sysbench (the same two), tierbench on MariaDB" >&2
  pgbench_row pgbench "$round" -S
  pgbench_row pgbench-same "$round" -f "$work/same.pgbench"
  tierbench postgres "$round"
  sysbench_row sysbench "$round" "${SB[@]}"
  sysbench_row sysbench-same "$round" "${SBSAME[@]}"
  tierbench mysql "$round"
done

python3 - "$rows" "$CLIENTS" "$SECS" <<'PY'
import math, sys
from collections import defaultdict
runs = defaultdict(dict)  # (db, tool) -> round -> (ops, cpu, p99, server[, wait])
for line in open(sys.argv[1]):
    f = line.split()
    runs[(f[0], f[1])][int(f[2])] = tuple(map(float, f[3:]))

def span(values, fmt):
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return "-"
    lo, hi = min(values), max(values)
    return fmt(lo) if fmt(lo) == fmt(hi) else f"{fmt(lo)}–{fmt(hi)}"

k = lambda v: f"{v / 1000:.1f}k"
f1 = lambda v: f"{v:.1f}"
f2 = lambda v: f"{v:.2f}"
print(f"\n{sys.argv[2]} clients, {sys.argv[3]} s, 100,000 rows, primary-key lookups")
print("| server | client | ops/s | client CPU-s per 1M ops | server CPU-µs per op | p99 (ms) |\n"
      "|---|---|---:|---:|---:|---:|")
clients = {
    "postgres": (("pgbench", "pgbench -S -M prepared"),
                 ("pgbench-same", "pgbench -M prepared, tierbench's statement and table"),
                 ("tierbench", "tierbench kind: sql, get only"),
                 ("tierbench-t1", "tierbench, --threads 1")),
    "mysql": (("sysbench", "sysbench oltp_point_select"),
              ("sysbench-same", "sysbench, tierbench's statement and table"),
              ("tierbench", "tierbench kind: sql, get only"),
              ("tierbench-t1", "tierbench, --threads 1")),
}
for db, tools in clients.items():
    for tool, name in tools:
        r = runs.get((db, tool))
        if r:
            print(f"| {'PostgreSQL' if db == 'postgres' else 'MariaDB'} | {name} | "
                  f"{span([v[0] for v in r.values()], k)} | {span([v[1] for v in r.values()], f2)} | "
                  f"{span([v[3] for v in r.values()], f1)} | {span([v[2] for v in r.values()], f2)} |")
for db, peer in (("postgres", "pgbench"), ("mysql", "sysbench")):
    for mine in ("tierbench", "tierbench-t1"):
        for against in (peer, peer + "-same"):
            tb, pr = runs.get((db, mine), {}), runs.get((db, against), {})
            rounds = sorted(set(tb) & set(pr))
            if rounds:
                print(f"{db}: {mine} / {against}, round by round: throughput "
                      f"{span([tb[i][0] / pr[i][0] for i in rounds], f2)}x, client CPU per op "
                      f"{span([tb[i][1] / pr[i][1] for i in rounds], f2)}x, server CPU per op "
                      f"{span([tb[i][3] / pr[i][3] for i in rounds], f2)}x"
                      + (f"; tierbench pool_wait mean {span([tb[i][4] for i in rounds], f2)} µs"
                         if against == peer else ""))
PY
