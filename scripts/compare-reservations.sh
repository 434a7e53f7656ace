#!/usr/bin/env bash
# Durable 2-line reservations with 64 clients, in one run, on loopback:
#   Fulcrum     fulcrumd + `fulcrum bench --op reserve` (LMDB, group commit, fsync)
#   PostgreSQL  pgbench: both lines' conditional UPDATE ... WHERE available >= quantity
#               in one transaction (a PL/pgSQL function), synchronous_commit = on
#   Redis       redis-benchmark: a Lua script that checks both keys and
#               decrements them, appendonly with appendfsync always
# Installs PostgreSQL 15 and Redis 7 from Debian when missing and runs its own
# throwaway instances on 127.0.0.1. Prints a table and, last, one JSON line.
#
# Usage: scripts/compare-reservations.sh [SECONDS]   (default 15 per system)
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH=${1:-15}
CLIENTS=64
SKUS=1000
WORK=$(mktemp -d /tmp/fulcrum-compare.XXXXXX)
PG_PORT=55432
REDIS_PORT=56379
PG_BIN=/usr/lib/postgresql/15/bin

bash scripts/setup.sh postgresql postgresql-contrib redis-server redis-tools
swift build -c release --product fulcrumd >/dev/null
swift build -c release --product fulcrum >/dev/null
BIN=$(swift build -c release --show-bin-path)

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$WORK/pg/postmaster.pid" ] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  [ -f "$WORK/redis.pid" ] && kill "$(cat "$WORK/redis.pid")" 2>/dev/null || true
  sleep 1
  rm -rf "$WORK"
}
trap cleanup EXIT

# Latency percentiles (ms) from one number (microseconds) per line on stdin.
percentiles() {
  python3 -c '
import sys
values = sorted(float(line) for line in sys.stdin if line.strip())
pick = lambda q: values[min(len(values) - 1, int(len(values) * q))] / 1000 if values else 0
print("%.3f %.3f" % (pick(0.5), pick(0.99)))'
}

echo "== Fulcrum: fulcrumd, fulcrum bench --op reserve --clients $CLIENTS"
"$BIN/fulcrumd" serve --data "$WORK/fulcrum" --listen 127.0.0.1:0 --json >"$WORK/fulcrumd.out" 2>"$WORK/fulcrumd.err" &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$WORK/fulcrumd.out" && break; sleep 0.1; done
FULCRUM_ADDRESS=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["listening"])' "$WORK/fulcrumd.out")
"$BIN/fulcrum" bench --server "$FULCRUM_ADDRESS" --op reserve --clients $CLIENTS --duration-seconds "$SECONDS_EACH" --json >"$WORK/fulcrum.json"
kill -TERM "${pids[0]}" && wait "${pids[0]}" || true
read -r F_RATE F_P50 F_P99 < <(python3 -c '
import json,sys; r=json.load(open(sys.argv[1])); print("%.0f %.3f %.3f" % (r["per_second"], r["p50_ms"], r["p99_ms"]))' "$WORK/fulcrum.json")

echo "== PostgreSQL 15: pgbench -c $CLIENTS, synchronous_commit = on"
mkdir -p "$WORK/pg" && chown postgres "$WORK" "$WORK/pg"
runuser -u postgres -- "$PG_BIN/initdb" -D "$WORK/pg" -A trust -U postgres >/dev/null
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg/log" -w start -o \
  "-p $PG_PORT -k $WORK -c listen_addresses=127.0.0.1 -c max_connections=200 -c synchronous_commit=on -c fsync=on -c shared_buffers=256MB" >/dev/null
psql=(psql -h 127.0.0.1 -p $PG_PORT -U postgres -q -v ON_ERROR_STOP=1)
"${psql[@]}" -c "CREATE DATABASE bench"
"${psql[@]}" -d bench <<SQL
CREATE TABLE stock (sku integer PRIMARY KEY, available bigint NOT NULL);
INSERT INTO stock SELECT s, 1000000000 FROM generate_series(1, $SKUS) AS s;
-- Both lines or neither: a line without enough stock raises, which rolls back.
CREATE FUNCTION reserve2(a integer, qa bigint, b integer, qb bigint) RETURNS void AS \$\$
BEGIN
  UPDATE stock SET available = available - qa WHERE sku = a AND available >= qa;
  IF NOT FOUND THEN RAISE EXCEPTION 'insufficient stock for %', a; END IF;
  UPDATE stock SET available = available - qb WHERE sku = b AND available >= qb;
  IF NOT FOUND THEN RAISE EXCEPTION 'insufficient stock for %', b; END IF;
END \$\$ LANGUAGE plpgsql;
SQL
cat >"$WORK/reserve.sql" <<SQL
\set a random(1, $SKUS)
\set b random(1, $SKUS)
SELECT reserve2(:a, 1, :b, 1);
SQL
chmod a+r "$WORK/reserve.sql"
(cd "$WORK" && pgbench -h 127.0.0.1 -p $PG_PORT -U postgres -n -M prepared -c $CLIENTS -j 2 -T "$SECONDS_EACH" \
  -f "$WORK/reserve.sql" -l --log-prefix="$WORK/pglog" bench >"$WORK/pgbench.out" 2>&1) || { cat "$WORK/pgbench.out"; exit 1; }
P_RATE=$(awk '/^tps = / {printf "%.0f", $3}' "$WORK/pgbench.out")
read -r P_P50 P_P99 < <(cat "$WORK"/pglog* | awk '{print $3}' | percentiles)
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null

echo "== Redis 7: redis-benchmark -c $CLIENTS, EVALSHA, appendfsync always"
mkdir -p "$WORK/redis"
redis-server --port $REDIS_PORT --bind 127.0.0.1 --dir "$WORK/redis" --save "" --appendonly yes \
  --appendfsync always --daemonize yes --pidfile "$WORK/redis.pid" --logfile "$WORK/redis/log"
for _ in $(seq 50); do redis-cli -p $REDIS_PORT ping >/dev/null 2>&1 && break; sleep 0.1; done
# redis-benchmark's __rand_int__ is a 12-digit zero-padded number below -r.
redis-cli -p $REDIS_PORT EVAL "for i = 0, $SKUS - 1 do redis.call('SET', string.format('stock:%012d', i), 1000000000) end" 0 >/dev/null
SHA=$(redis-cli -p $REDIS_PORT SCRIPT LOAD "
local a = tonumber(redis.call('GET', KEYS[1]) or '0')
local b = tonumber(redis.call('GET', KEYS[2]) or '0')
if a < tonumber(ARGV[1]) or b < tonumber(ARGV[2]) then return 0 end
redis.call('DECRBY', KEYS[1], ARGV[1])
redis.call('DECRBY', KEYS[2], ARGV[2])
return 1")
REQUESTS=$((SECONDS_EACH * 45000))
redis-benchmark -p $REDIS_PORT -c $CLIENTS -n $REQUESTS -r $SKUS --csv \
  EVALSHA "$SHA" 2 stock:__rand_int__ stock:__rand_int__ 1 1 >"$WORK/redis.csv"
read -r R_RATE R_P50 R_P99 < <(python3 -c '
import csv,sys; row=list(csv.DictReader(open(sys.argv[1])))[-1]
print("%.0f %.3f %.3f" % (float(row["rps"]), float(row["p50_latency_ms"]), float(row["p99_latency_ms"])))' "$WORK/redis.csv")
[ "$(redis-cli -p $REDIS_PORT CONFIG GET appendfsync | tail -1)" = always ]

echo
printf '%-12s %12s %10s %10s\n' system "per second" "p50 ms" "p99 ms"
printf '%-12s %12s %10s %10s\n' Fulcrum "$F_RATE" "$F_P50" "$F_P99"
printf '%-12s %12s %10s %10s\n' PostgreSQL "$P_RATE" "$P_P50" "$P_P99"
printf '%-12s %12s %10s %10s\n' Redis "$R_RATE" "$R_P50" "$R_P99"
python3 - $CLIENTS "$F_RATE" "$F_P50" "$F_P99" "$P_RATE" "$P_P50" "$P_P99" "$R_RATE" "$R_P50" "$R_P99" <<'PY'
import json, sys
clients, numbers = int(sys.argv[1]), [float(x) for x in sys.argv[2:]]
result = {"clients": clients}
for index, name in enumerate(["fulcrum", "postgresql", "redis"]):
    result[name] = dict(zip(["per_second", "p50_ms", "p99_ms"], numbers[3 * index:3 * index + 3]))
result["fulcrum_over_postgresql"] = round(numbers[0] / numbers[3], 2)
result["fulcrum_over_redis"] = round(numbers[0] / numbers[6], 2)
print("Fulcrum / PostgreSQL = %.1fx, Fulcrum / Redis = %.2fx" % (result["fulcrum_over_postgresql"], result["fulcrum_over_redis"]))
print(json.dumps(result, sort_keys=True))
PY
