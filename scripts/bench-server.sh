#!/usr/bin/env bash
# fulcrumd under load on loopback, in one run: Health (a no-op round trip,
# the protocol's floor) with 64 clients, ATP pipelined, durable 2-line
# reservations with 64 clients and with 8 × 8 pipelined, and OptimizeAndReserve (5 lines × 100 nodes)
# with the network on the server and, beside it, spelled out in every request.
# Prints one JSON line per run (fulcrum bench --json) with fulcrumd's CPU
# (user + system, from /proc/PID/stat, over the whole run including the
# bench's stocking of its positions) per request: fulcrumd_cpu_us_per_op.
#
# Usage: scripts/bench-server.sh [SECONDS]   (default 10 per run)
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH=${1:-10}
WORK=$(mktemp -d /tmp/fulcrum-bench.XXXXXX)
bash scripts/setup.sh
swift build -c release --product fulcrumd >/dev/null
swift build -c release --product fulcrum >/dev/null
BIN=$(swift build -c release --show-bin-path)

"$BIN/fulcrum" generate --network --seed 7 --nodes 100 --skus 200 >"$WORK/network.json"
"$BIN/fulcrumd" serve --data "$WORK/data" --listen 127.0.0.1:0 --network "$WORK/network.json" --json \
  >"$WORK/fulcrumd.out" 2>"$WORK/fulcrumd.err" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; sleep 0.5; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do grep -q listening "$WORK/fulcrumd.out" && break; sleep 0.1; done
ADDRESS=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["listening"])' "$WORK/fulcrumd.out")

# fulcrumd's user + system CPU so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER/stat"; }
bench() {
  local before after
  before=$(cpu_ticks)
  "$BIN/fulcrum" bench --server "$ADDRESS" --duration-seconds "$SECONDS_EACH" --json "$@" | tail -1 >"$WORK/run.json"
  after=$(cpu_ticks)
  python3 - "$WORK/run.json" "$before" "$after" "$(getconf CLK_TCK)" <<'PY'
import json, sys
run = json.loads(open(sys.argv[1]).read())
seconds = (int(sys.argv[3]) - int(sys.argv[2])) / int(sys.argv[4])
run["fulcrumd_cpu_seconds"] = round(seconds, 2)
run["fulcrumd_cpu_us_per_op"] = round(seconds * 1e6 / run["ok"], 2) if run["ok"] else None
print(json.dumps(run))
PY
}
bench --op health --clients 64
bench --op atp --clients 4 --pipeline 128
bench --op reserve --clients 64
bench --op reserve --clients 8 --pipeline 8
bench --op optimize-and-reserve --clients 16 --server-network --seed 7
bench --op optimize-and-reserve --clients 16 --seed 7
"$BIN/fulcrum" stats --server "$ADDRESS" --json
