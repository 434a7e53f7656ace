#!/usr/bin/env bash
# A WMS stock snapshot taken a moment ago, 10,000 counts (100 nodes x 100
# SKUs) arriving after newer deltas, in one run on loopback:
#   Fulcrum     fulcrumd + `fulcrum shim stock --watch DIR --once`: the counts
#               reconciled against the ledger as it stood when counted, then
#               applied durably (each keeps the changes made since its as_of_ms)
#   PostgreSQL  one transaction: COPY into a temporary table, the same
#               reconciliation (stock less the changes logged since as_of) as
#               a query, then INSERT ... ON CONFLICT DO UPDATE keeping those
#               changes and logging the new ones; synchronous_commit = on
# Both start from the same stock and the same 1,000 deltas applied after the
# count; the script checks both end with the same totals. Installs PostgreSQL
# 15 from Debian when missing; throwaway instances on 127.0.0.1.
#
# Usage: scripts/compare-feeds.sh [ROUNDS]   (default 5; medians reported)
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${1:-5}
NODES=100
SKUS=100
WORK=$(mktemp -d /tmp/fulcrum-feeds.XXXXXX)
PG_PORT=55433
PG_BIN=/usr/lib/postgresql/15/bin

bash scripts/setup.sh postgresql postgresql-contrib
swift build -c release --product fulcrumd >/dev/null
swift build -c release --product fulcrum >/dev/null
BIN=$(swift build -c release --show-bin-path)

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$WORK/pg/postmaster.pid" ] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  sleep 1
  rm -rf "$WORK"
}
trap cleanup EXIT

# Round R's files: the starting stock, 1,000 deltas and the snapshot (counted before the deltas).
make_files() {
  python3 - "$WORK/r$1" $NODES $SKUS "$1" <<'PY'
import os, random, sys
directory, nodes, skus, round_ = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
os.makedirs(directory + "/drop", exist_ok=True)
random.seed(round_)
keys = [("N%03d" % n, "S%03d" % s) for n in range(nodes) for s in range(skus)]
with open(directory + "/start.csv", "w") as f:
    for node, sku in keys: f.write("%s,%s,%d\n" % (node, sku, 100 + random.randrange(100)))
with open(directory + "/deltas.csv", "w") as f:
    for _ in range(1000):
        node, sku = random.choice(keys); f.write("%s,%s,%d\n" % (node, sku, random.randrange(-5, 20) or 1))
with open(directory + "/counts.csv", "w") as f:
    for node, sku in keys: f.write("%s,%s,%d\n" % (node, sku, 90 + random.randrange(120)))
PY
}

median() { python3 -c 'import statistics,sys; print("%.3f" % statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }

echo "== Fulcrum: fulcrumd (release), fulcrum shim stock --once, $ROUNDS rounds of $((NODES * SKUS)) counts"
fulcrum_seconds=()
for round in $(seq "$ROUNDS"); do
  make_files "$round"
  dir="$WORK/r$round"
  "$BIN/fulcrumd" serve --data "$dir/data" --listen 127.0.0.1:0 --json >"$dir/fulcrumd.out" 2>"$dir/fulcrumd.err" &
  pid=$!
  pids+=($pid)
  for _ in $(seq 100); do grep -q listening "$dir/fulcrumd.out" && break; sleep 0.1; done
  address=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["listening"])' "$dir/fulcrumd.out")
  # The starting stock, then the deltas after the count was taken.
  (echo "node,sku,quantity"; cat "$dir/start.csv") >"$dir/drop/0-start.csv"
  "$BIN/fulcrum" shim stock --server "$address" --source setup --watch "$dir/drop" --once >/dev/null 2>&1
  sleep 0.05
  counted_ms=$(python3 -c 'import time; print(int(time.time() * 1000))')
  sleep 0.05
  (echo "node,sku,delta"; cat "$dir/deltas.csv") >"$dir/drop/1-deltas.csv"
  "$BIN/fulcrum" shim stock --server "$address" --source setup --watch "$dir/drop" --once >/dev/null 2>&1
  (echo "node,sku,quantity,as_of_ms"; sed "s/\$/,$counted_ms/" "$dir/counts.csv") >"$dir/drop/2-snapshot.csv"
  start=$(date +%s.%N)
  "$BIN/fulcrum" shim stock --server "$address" --source wms --watch "$dir/drop" --once --json >"$dir/fulcrum.json" 2>/dev/null
  end=$(date +%s.%N)
  fulcrum_seconds+=("$(python3 -c "print($end - $start)")")
  grep -q '"accepted":10000' "$dir/fulcrum.json" || { cat "$dir/fulcrum.json"; exit 1; }
  wc -l <"$dir/drop/2-snapshot.csv.reconciliation.jsonl" >"$dir/fulcrum.differences"
  kill -TERM "$pid" && wait "$pid" || true
  "$BIN/fulcrum" verify --data "$dir/data" | grep -q consistent || { echo "round $round: the ledger does not refold"; exit 1; }
done

echo "== PostgreSQL 15: one transaction per snapshot, synchronous_commit = on"
mkdir -p "$WORK/pg" && chown postgres "$WORK" "$WORK/pg"
runuser -u postgres -- "$PG_BIN/initdb" -D "$WORK/pg" -A trust -U postgres >/dev/null
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg/log" -w start -o \
  "-p $PG_PORT -k $WORK -c listen_addresses=127.0.0.1 -c synchronous_commit=on -c fsync=on -c shared_buffers=256MB" >/dev/null
psql=(psql -h 127.0.0.1 -p $PG_PORT -U postgres -q -v ON_ERROR_STOP=1)
"${psql[@]}" -c "CREATE DATABASE feeds"
postgres_seconds=()
for round in $(seq "$ROUNDS"); do
  dir="$WORK/r$round"
  chmod -R a+rX "$WORK"
  "${psql[@]}" -d feeds <<SQL
DROP TABLE IF EXISTS stock, changes;
CREATE TABLE stock (node text, sku text, on_hand bigint NOT NULL, PRIMARY KEY (node, sku));
CREATE TABLE changes (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp(), node text, sku text, quantity bigint);
CREATE INDEX ON changes (node, sku, at);
CREATE TEMP TABLE start_rows (node text, sku text, quantity bigint);
\copy start_rows FROM '$dir/start.csv' CSV
INSERT INTO stock SELECT node, sku, quantity FROM start_rows;
INSERT INTO changes (node, sku, quantity) SELECT node, sku, quantity FROM start_rows;
SQL
  sleep 0.05
  counted=$("${psql[@]}" -d feeds -At -c "SELECT clock_timestamp()")
  sleep 0.05
  "${psql[@]}" -d feeds <<SQL
CREATE TEMP TABLE delta_rows (node text, sku text, delta bigint);
\copy delta_rows FROM '$dir/deltas.csv' CSV
DO \$\$ DECLARE r record; BEGIN
  FOR r IN SELECT * FROM delta_rows LOOP
    UPDATE stock SET on_hand = on_hand + r.delta WHERE node = r.node AND sku = r.sku;
    INSERT INTO changes (node, sku, quantity) VALUES (r.node, r.sku, r.delta);
  END LOOP;
END \$\$;
SQL
  cat >"$dir/snapshot.sql" <<SQL
BEGIN;
CREATE TEMP TABLE counts (node text, sku text, quantity bigint) ON COMMIT DROP;
\copy counts FROM '$dir/counts.csv' CSV
CREATE TEMP TABLE since ON COMMIT DROP AS
  SELECT c.node, c.sku, c.quantity, s.on_hand, COALESCE(sum(ch.quantity), 0) AS changed
  FROM counts c JOIN stock s USING (node, sku)
  LEFT JOIN changes ch ON ch.node = c.node AND ch.sku = c.sku AND ch.at > '$counted'
  GROUP BY c.node, c.sku, c.quantity, s.on_hand;
-- The reconciliation: every difference from the stock as it stood when counted.
\copy (SELECT node, sku, quantity, on_hand - changed AS ledger_quantity FROM since WHERE quantity <> on_hand - changed ORDER BY node, sku) TO '$dir/pg.differences' CSV
INSERT INTO changes (node, sku, quantity) SELECT node, sku, quantity + changed - on_hand FROM since WHERE quantity + changed <> on_hand;
INSERT INTO stock (node, sku, on_hand) SELECT node, sku, quantity + changed FROM since
  ON CONFLICT (node, sku) DO UPDATE SET on_hand = EXCLUDED.on_hand;
COMMIT;
SQL
  start=$(date +%s.%N)
  "${psql[@]}" -d feeds -f "$dir/snapshot.sql"
  end=$(date +%s.%N)
  postgres_seconds+=("$(python3 -c "print($end - $start)")")
  p_total=$("${psql[@]}" -d feeds -At -c "SELECT sum(on_hand) FROM stock")
  echo "$p_total" >"$dir/pg.total"
done
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null

# Both systems found the same differences in every round.
for round in $(seq "$ROUNDS"); do
  dir="$WORK/r$round"
  [ "$(cat "$dir/fulcrum.differences")" = "$(wc -l <"$dir/pg.differences")" ] \
    || { echo "round $round: Fulcrum found $(cat "$dir/fulcrum.differences") differences, PostgreSQL $(wc -l <"$dir/pg.differences")"; exit 1; }
done

F=$(median "${fulcrum_seconds[@]}")
P=$(median "${postgres_seconds[@]}")
echo
printf '%-12s %22s\n' system "median seconds / snapshot"
printf '%-12s %22s\n' Fulcrum "$F"
printf '%-12s %22s\n' PostgreSQL "$P"
python3 -c 'import json,sys; f,p=float(sys.argv[1]),float(sys.argv[2]); print(json.dumps({"counts": int(sys.argv[3]), "rounds": int(sys.argv[4]), "fulcrum_seconds": f, "postgresql_seconds": p, "ratio": round(p / f, 2)}))' "$F" "$P" $((NODES * SKUS)) "$ROUNDS"
