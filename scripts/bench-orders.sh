#!/usr/bin/env bash
# Orders per second through orchestration, in one run on one fulcrumd (--demo
# network, the standard journeys): order.created events over the binary RPC
# (fulcrum bench --op orders, 16 clients, then 64), then Shopify webhooks through the Shopify shim
# (HMAC-signed, from scripts/shopify-load.py). Each counts orders from intake
# to reserved, released to fulfillment and their messages queued for the
# warehouse, over the time until fulcrumd has processed every event.
#
# Usage: scripts/bench-orders.sh [SECONDS]   (default 10 per run)
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH=${1:-10}
WORK=$(mktemp -d /tmp/fulcrum-bench-orders.XXXXXX)
bash scripts/setup.sh
swift build -c release --product fulcrumd >/dev/null
swift build -c release --product fulcrum >/dev/null
BIN=$(swift build -c release --show-bin-path)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; sleep 0.5; rm -rf "$WORK"' EXIT

"$BIN/fulcrumd" serve --data "$WORK/data" --listen 127.0.0.1:0 --demo --json >"$WORK/fulcrumd.out" 2>"$WORK/fulcrumd.err" &
PIDS+=($!)
for _ in $(seq 100); do grep -q listening "$WORK/fulcrumd.out" && break; sleep 0.1; done
ADDRESS=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["listening"])' "$WORK/fulcrumd.out")

"$BIN/fulcrum" bench --server "$ADDRESS" --op orders --clients 16 --duration-seconds "$SECONDS_EACH" --json
"$BIN/fulcrum" bench --server "$ADDRESS" --op orders --clients 64 --duration-seconds "$SECONDS_EACH" --json

cat >"$WORK/mapping.yaml" <<'YAML'
version: 1
provider: shopify
skus: {SHOP-TEE: TEE-BLK-M, SHOP-CAP: CAP-RED, SHOP-JEANS: JEANS-32}
YAML
"$BIN/fulcrum" shim shopify --listen 127.0.0.1:0 --server "$ADDRESS" --secret bench --mapping "$WORK/mapping.yaml" --json \
  >"$WORK/shim.out" 2>"$WORK/shim.err" &
PIDS+=($!)
for _ in $(seq 100); do grep -q listening "$WORK/shim.out" && break; sleep 0.1; done
SHIM=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["listening"])' "$WORK/shim.out")
START=$(date +%s.%N)
python3 scripts/shopify-load.py "http://$SHIM/webhook" bench "$SECONDS_EACH" 8
while [ "$("$BIN/fulcrum" stats --server "$ADDRESS" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["events_queued"])')" != 0 ]; do
  sleep 0.05
done
END=$(date +%s.%N)
echo "{\"shopify_journeys_drained_after_seconds\": $(python3 -c "print(round($END - $START, 2))")}"
