#!/usr/bin/env bash
# fulcrumd under load on loopback, in one run: ATP pipelined, durable 2-line
# reservations with 64 clients, and OptimizeAndReserve (5 lines × 100 nodes)
# with the network on the server and, beside it, spelled out in every request.
# Prints one JSON line per run (fulcrum bench --json).
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

bench() { "$BIN/fulcrum" bench --server "$ADDRESS" --duration-seconds "$SECONDS_EACH" --json "$@"; }
bench --op atp --clients 4 --pipeline 128
bench --op reserve --clients 64
bench --op optimize-and-reserve --clients 16 --server-network --seed 7
bench --op optimize-and-reserve --clients 16 --seed 7
"$BIN/fulcrum" stats --server "$ADDRESS" --json
