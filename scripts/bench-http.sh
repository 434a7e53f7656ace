#!/usr/bin/env bash
# ATP over HTTP beside ATP over the binary RPC, one fulcrumd, one run:
# `fulcrum bench --op atp` (4 connections × 128 pipelined; it also stocks the
# positions), then wrk against the gateway's GET /v1/atp on the same
# positions. Prints both rates and their ratio as one JSON line, with
# fulcrumd's CPU (user + system from /proc/PID/stat) per request of each.
#
# Usage: scripts/bench-http.sh [SECONDS] [WRK_CONNECTIONS]   (default 10 s, 64 connections;
# one wrk thread: the load generator shares the two cores with the server)
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH=${1:-10}
CONNECTIONS=${2:-64}
WORK=$(mktemp -d /tmp/fulcrum-bench-http.XXXXXX)
bash scripts/setup.sh wrk
swift build -c release --product fulcrumd >/dev/null
swift build -c release --product fulcrum >/dev/null
BIN=$(swift build -c release --show-bin-path)

"$BIN/fulcrumd" serve --data "$WORK/data" --listen 127.0.0.1:0 --http 127.0.0.1:0 --json \
  >"$WORK/fulcrumd.out" 2>"$WORK/fulcrumd.err" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; sleep 0.5; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do grep -q listening "$WORK/fulcrumd.out" && break; sleep 0.1; done
read -r ADDRESS HTTP < <(python3 -c 'import json,sys; o=json.loads(open(sys.argv[1]).readline()); print(o["listening"], o["http"])' "$WORK/fulcrumd.out")

# fulcrumd's user + system CPU so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER/stat"; }
"$BIN/fulcrum" bench --server "$ADDRESS" --op atp --clients 4 --pipeline 128 --duration-seconds 2 --json >/dev/null  # stocks the positions
RPC_START=$(cpu_ticks)
"$BIN/fulcrum" bench --server "$ADDRESS" --op atp --clients 4 --pipeline 128 --duration-seconds "$SECONDS_EACH" --json >"$WORK/rpc.json"
RPC_END=$(cpu_ticks)
wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_EACH}s" --latency -s scripts/wrk-atp.lua "http://$HTTP" >"$WORK/wrk.txt"
HTTP_END=$(cpu_ticks)
python3 - "$WORK/rpc.json" "$WORK/wrk.txt" "$CONNECTIONS" "$RPC_START" "$RPC_END" "$HTTP_END" "$(getconf CLK_TCK)" <<'PY'
import json, re, sys
rpc = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
text = open(sys.argv[2]).read()
http = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
def latency(p):
    match = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)" % p, text)
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
rpc_rate = rpc["per_second"]
rpc_start, rpc_end, http_end, tick = map(int, sys.argv[4:8])
http_requests = int(re.search(r"(\d+) requests in", text).group(1))
rpc_cpu_us = (rpc_end - rpc_start) / tick * 1e6 / rpc["ok"]
http_cpu_us = (http_end - rpc_end) / tick * 1e6 / http_requests
print(json.dumps({
    "rpc_atp_per_second": rpc_rate, "rpc": rpc,
    "http_atp_per_second": http, "http_connections": int(sys.argv[3]),
    "http_p50_ms": latency(50), "http_p99_ms": latency(99),
    "http_non_2xx": int(errors.group(1)) if errors else 0,
    "http_over_rpc": round(http / rpc_rate, 3) if rpc_rate else None,
    "rpc_fulcrumd_cpu_us_per_request": round(rpc_cpu_us, 2), "http_fulcrumd_cpu_us_per_request": round(http_cpu_us, 2),
    "http_cpu_over_rpc": round(http_cpu_us / rpc_cpu_us, 2),
}))
PY
