#!/usr/bin/env bash
# What TLS costs, in one run: the same loads against a plaintext fulcrumd and
# then against one serving TLS (an EC P-256 certificate made here by openssl):
# RPC ATP (4 connections × 128 pipelined), durable 2-line reservations (64
# clients), and the gateway's GET /v1/atp under wrk. Connections are kept
# open, so this measures the record layer, not handshakes. Prints one JSON
# line per load and mode, then the TLS/plaintext ratios.
#
# Usage: scripts/bench-tls.sh [SECONDS]   (default 10 per load)
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH=${1:-10}
WORK=$(mktemp -d /tmp/fulcrum-bench-tls.XXXXXX)
bash scripts/setup.sh wrk
swift build -c release --product fulcrumd >/dev/null
swift build -c release --product fulcrum >/dev/null
BIN=$(swift build -c release --show-bin-path)
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; sleep 0.5; rm -rf "$WORK"' EXIT

key() { echo -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$WORK/$1.key"; }
openssl req -x509 $(key ca) -out "$WORK/ca.pem" -days 2 -subj /CN=bench-ca 2>/dev/null
openssl req $(key server) -out "$WORK/server.csr" -subj /CN=server 2>/dev/null
echo "subjectAltName=IP:127.0.0.1" >"$WORK/server.ext"
openssl x509 -req -in "$WORK/server.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial \
  -out "$WORK/server.pem" -days 2 -extfile "$WORK/server.ext" 2>/dev/null

# run MODE [fulcrumd flags...]: start a fresh fulcrumd, load it, stop it.
run() {
  local mode=$1; shift
  local client=() scheme=http
  [ "$mode" = tls ] && client=(--ca "$WORK/ca.pem") && scheme=https
  rm -rf "$WORK/data"
  "$BIN/fulcrumd" serve --data "$WORK/data" --listen 127.0.0.1:0 --http 127.0.0.1:0 --json "$@" \
    >"$WORK/fulcrumd.out" 2>"$WORK/fulcrumd.err" &
  SERVER=$!
  for _ in $(seq 100); do grep -q listening "$WORK/fulcrumd.out" && break; sleep 0.1; done
  read -r ADDRESS HTTP < <(python3 -c 'import json,sys; o=json.loads(open(sys.argv[1]).readline()); print(o["listening"], o["http"])' "$WORK/fulcrumd.out")
  "$BIN/fulcrum" bench --server "$ADDRESS" "${client[@]}" --op atp --clients 4 --pipeline 128 \
    --duration-seconds "$SECONDS_EACH" --json | tail -1 >"$WORK/$mode-atp.json"
  "$BIN/fulcrum" bench --server "$ADDRESS" "${client[@]}" --op reserve --clients 64 \
    --duration-seconds "$SECONDS_EACH" --json | tail -1 >"$WORK/$mode-reserve.json"
  wrk -t1 -c64 -d"${SECONDS_EACH}s" --latency -s scripts/wrk-atp.lua "$scheme://$HTTP" >"$WORK/$mode-wrk.txt"
  kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=
}
run plain
run tls --tls-cert "$WORK/server.pem" --tls-key "$WORK/server.key"

python3 - "$WORK" <<'PY'
import json, re, sys
work = sys.argv[1]
def wrk(mode):
    text = open(f"{work}/{mode}-wrk.txt").read()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    match = re.search(r"\s50%\s+([\d.]+)(us|ms|s)", text)
    value, unit = float(match.group(1)), match.group(2)
    p50 = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    return {"per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
            "p50_ms": p50, "non_2xx": int(errors.group(1)) if errors else 0}
rows = {}
for mode in ("plain", "tls"):
    for load in ("atp", "reserve"):
        rows[(mode, load)] = json.loads(open(f"{work}/{mode}-{load}.json").read())
    rows[(mode, "http-atp")] = wrk(mode)
    for load in ("atp", "reserve", "http-atp"):
        print(json.dumps({"mode": mode, "load": load, **rows[(mode, load)]}))
print(json.dumps({"tls_over_plain": {
    load: round(rows[("tls", load)]["per_second"] / rows[("plain", load)]["per_second"], 3)
    for load in ("atp", "reserve", "http-atp")}}))
PY
