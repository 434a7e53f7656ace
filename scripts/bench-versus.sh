#!/usr/bin/env bash
# This tree's fulcrumd beside an earlier commit's, in one run: the earlier
# commit is built (release) in a worktree, then both servers take the same
# loads from this tree's `fulcrum bench`, alternating old, new, old, new so
# drift on the machine falls on both: ATP (4 connections × 128 pipelined),
# durable 2-line reservations (64 clients, then 8 × 8 pipelined), OptimizeAndReserve with the
# network on the server (16 clients), then orders through the standard
# journeys on a --demo server (order.created over RPC, 16 clients, until
# every journey is done). Prints one JSON line per run, then the
# median of each and new/old. Each server takes the load from its own
# tree's `fulcrum bench`, so the two may speak different payloads.
#
# Usage: scripts/bench-versus.sh REV [SECONDS] [ROUNDS]   (default 8 s, 2 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."

REV=${1:?usage: scripts/bench-versus.sh REV [SECONDS] [ROUNDS]}
SECONDS_EACH=${2:-8}
ROUNDS=${3:-2}
WORK=$(mktemp -d /tmp/fulcrum-versus.XXXXXX)
OLD_TREE=${OLD_TREE:-/tmp/fulcrum-versus-$(git rev-parse --short "$REV")}   # a worktree of REV, made when absent
bash scripts/setup.sh
swift build -c release --product fulcrumd >/dev/null
swift build -c release --product fulcrum >/dev/null
BIN=$(swift build -c release --show-bin-path)
if [ ! -d "$OLD_TREE" ]; then git worktree add -f --detach "$OLD_TREE" "$REV" >/dev/null; fi
(cd "$OLD_TREE" && swift build -c release --product fulcrumd >/dev/null && swift build -c release --product fulcrum >/dev/null)
OLD_BIN=$(cd "$OLD_TREE" && swift build -c release --show-bin-path)
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; sleep 0.5; rm -rf "$WORK"' EXIT

"$BIN/fulcrum" generate --network --seed 7 --nodes 100 --skus 200 >"$WORK/network.json"

# run LABEL BIN: a fresh server from BIN, the three loads from BIN's bench, stopped.
run() {
  local label=$1 bin=$2
  rm -rf "$WORK/data"
  "$bin/fulcrumd" serve --data "$WORK/data" --listen 127.0.0.1:0 --network "$WORK/network.json" --json \
    >"$WORK/fulcrumd.out" 2>"$WORK/fulcrumd.err" &
  SERVER=$!
  for _ in $(seq 100); do grep -q listening "$WORK/fulcrumd.out" && break; sleep 0.1; done
  local address
  address=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["listening"])' "$WORK/fulcrumd.out")
  bench() { "$bin/fulcrum" bench --server "$address" --duration-seconds "$SECONDS_EACH" --json "$@" | tail -1; }
  for load in "atp --clients 4 --pipeline 128" "reserve --clients 64" "reserve --clients 8 --pipeline 8" \
    "optimize-and-reserve --clients 16 --server-network --seed 7"; do
    # shellcheck disable=SC2086
    echo "{\"server\": \"$label\", \"bench\": $(bench --op $load)}" | tee -a "$WORK/runs.jsonl"
  done
  kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=
  rm -rf "$WORK/data"
  "$bin/fulcrumd" serve --data "$WORK/data" --listen 127.0.0.1:0 --demo --json >"$WORK/fulcrumd.out" 2>"$WORK/fulcrumd.err" &
  SERVER=$!
  for _ in $(seq 100); do grep -q listening "$WORK/fulcrumd.out" && break; sleep 0.1; done
  address=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["listening"])' "$WORK/fulcrumd.out")
  echo "{\"server\": \"$label\", \"bench\": $(bench --op orders --clients 16)}" | tee -a "$WORK/runs.jsonl"
  kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=
}
for _ in $(seq "$ROUNDS"); do
  run "old $REV" "$OLD_BIN"
  run new "$BIN"
done

python3 - "$WORK/runs.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
medians = {}
for run in runs:
    side = "new" if run["server"] == "new" else "old"
    bench = run["bench"]
    if "journeys_per_second" in bench:  # the orders load reports journeys done per second
        bench = {"op": "orders", "clients": 16, "pipeline": 1, "per_second": bench["journeys_per_second"]}
    load = f'{bench["op"]} {bench["clients"]}x{bench["pipeline"]}'
    medians.setdefault(load, {}).setdefault(side, []).append(bench["per_second"])
summary = {}
for load, sides in medians.items():
    old, new = statistics.median(sides["old"]), statistics.median(sides["new"])
    summary[load] = {"old_per_second": round(old), "new_per_second": round(new), "new_over_old": round(new / old, 3)}
print(json.dumps(summary))
PY
