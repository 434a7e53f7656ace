#!/usr/bin/env bash
# Replication's figures, in one run on 127.0.0.1 (docs/replication.md):
#   1. durable 2-line reservations, 64 clients (fulcrum bench --op reserve):
#      a single fulcrumd, then the leader of a 3-replica cluster on a 3-member etcd;
#      the followers' lag sampled meanwhile (entries, and milliseconds at that rate);
#   2. ATP served by a follower (fulcrum bench --op atp, 64 clients);
#   3. failover: kill -9 of the leader to the first write another replica accepts (3 times).
# Prints a table and, last, one JSON line. Installs etcd-server when missing.
#
# Usage: scripts/bench-cluster.sh [SECONDS]   (default 10 per load)
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH=${1:-10}
CLIENTS=${CLIENTS:-64}
WORK=$(mktemp -d /tmp/fulcrum-bench-cluster.XXXXXX)
bash scripts/setup.sh etcd-server
swift build -c release --product fulcrumd >/dev/null
swift build -c release --product fulcrum >/dev/null
BIN=$(swift build -c release --show-bin-path)

declare -A pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
json_field() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(eval(sys.argv[1], {}, {"d": d}))' "$1"; }

wait_listening() {
  for _ in $(seq 200); do grep -q listening "$1" && return 0; sleep 0.05; done
  echo "not listening: $1"; cat "$1"; exit 1
}

echo "== a single fulcrumd"
SINGLE=127.0.0.1:$(free_port)
"$BIN/fulcrumd" serve --data "$WORK/single" --listen "$SINGLE" --json >"$WORK/single.out" 2>"$WORK/single.err" &
pids[single]=$!
wait_listening "$WORK/single.out"
"$BIN/fulcrum" bench --server "$SINGLE" --op reserve --clients $CLIENTS --duration-seconds "$SECONDS_EACH" --json >"$WORK/single.json"
kill -TERM "${pids[single]}"; wait "${pids[single]}" || true; unset 'pids[single]'

echo "== etcd: 3 members; fulcrumd: 3 replicas"
peers="" endpoints=""
declare -a client_ports peer_ports
for i in 0 1 2; do client_ports[$i]=$(free_port); peer_ports[$i]=$(free_port); done
for i in 0 1 2; do peers+="${peers:+,}e$i=http://127.0.0.1:${peer_ports[$i]}"; endpoints+="${endpoints:+,}http://127.0.0.1:${client_ports[$i]}"; done
for i in 0 1 2; do
  etcd --name "e$i" --data-dir "$WORK/etcd-$i" \
    --listen-client-urls "http://127.0.0.1:${client_ports[$i]}" --advertise-client-urls "http://127.0.0.1:${client_ports[$i]}" \
    --listen-peer-urls "http://127.0.0.1:${peer_ports[$i]}" --initial-advertise-peer-urls "http://127.0.0.1:${peer_ports[$i]}" \
    --initial-cluster "$peers" --initial-cluster-state new >"$WORK/etcd-$i.log" 2>&1 &
  pids[etcd$i]=$!
done
declare -a replica
start_replica() {
  "$BIN/fulcrumd" serve --data "$WORK/replica-$1" --listen "${replica[$1]}" --cluster bench --etcd "$endpoints" --json \
    >"$WORK/replica-$1.out" 2>>"$WORK/replica-$1.err" &
  pids[replica$1]=$!
  wait_listening "$WORK/replica-$1.out"
}
for i in 0 1 2; do replica[$i]=127.0.0.1:$(free_port); done
for i in 0 1 2; do start_replica "$i"; done
ALL="${replica[0]},${replica[1]},${replica[2]}"

leader_index() {
  for _ in $(seq 100); do
    for i in 0 1 2; do
      role=$("$BIN/fulcrum" stats --server "${replica[$i]}" --json --timeout-ms 1000 2>/dev/null | json_field 'd["replication"]["role"]' 2>/dev/null || true)
      [ "$role" = leader ] && { echo "$i"; return 0; }
    done
    sleep 0.1
  done
  return 1
}
L=$(leader_index)
F=$(( (L + 1) % 3 ))

echo "== reservations through the cluster's leader; follower ${replica[$F]} sampled"
"$BIN/fulcrum" bench --server "${replica[$L]}" --op reserve --clients $CLIENTS --duration-seconds "$SECONDS_EACH" --json >"$WORK/cluster.json" &
bench=$!
: >"$WORK/lag"
while kill -0 "$bench" 2>/dev/null; do
  # The follower first: the leader read after it makes each sample an upper bound of the lag.
  follower_stats=$("$BIN/fulcrum" stats --server "${replica[$F]}" --json --timeout-ms 1000 2>/dev/null || true)
  leader_stats=$("$BIN/fulcrum" stats --server "${replica[$L]}" --json --timeout-ms 1000 2>/dev/null || true)
  if [ -n "$leader_stats" ] && [ -n "$follower_stats" ]; then
    echo "$(date +%s.%N) $(echo "$leader_stats" | json_field 'd["replication"]["applied"]') $(echo "$follower_stats" | json_field 'd["replication"]["applied"]')" >>"$WORK/lag"
  fi
  sleep 0.2
done
wait "$bench"

echo "== ATP served by follower ${replica[$F]}"
"$BIN/fulcrum" bench --server "${replica[$L]}" --read-from "${replica[$F]}" --op atp --clients $CLIENTS --duration-seconds "$SECONDS_EACH" --json >"$WORK/atp.json"

echo "== failover: kill -9 of the leader to the first accepted write (3 times)"
: >"$WORK/failover"
for round in 1 2 3; do
  L=$(leader_index)
  kill -KILL "${pids[replica$L]}"; wait "${pids[replica$L]}" 2>/dev/null || true
  start=$(date +%s%N)
  until "$BIN/fulcrum" adjust --server "$ALL" --node FAILOVER --sku S --delta 1 --timeout-ms 1000 >/dev/null 2>&1; do sleep 0.02; done
  echo $(( ($(date +%s%N) - start) / 1000000 )) >>"$WORK/failover"
  start_replica "$L"
  sleep 1
done

python3 - "$WORK" "$SECONDS_EACH" <<'EOF'
import json, statistics, sys
work, seconds = sys.argv[1], float(sys.argv[2])
single = json.load(open(f"{work}/single.json"))
cluster = json.load(open(f"{work}/cluster.json"))
atp = json.load(open(f"{work}/atp.json"))
samples = [tuple(map(float, line.split())) for line in open(f"{work}/lag") if len(line.split()) == 3]
lags = [max(0.0, leader - follower) for _, leader, follower in samples]
# Entries per second at the leader over the samples: turns a lag in entries into milliseconds.
rate = (samples[-1][1] - samples[0][1]) / (samples[-1][0] - samples[0][0]) if len(samples) > 1 and samples[-1][0] > samples[0][0] else 0
lag_ms = [lag / rate * 1000 for lag in lags] if rate > 0 else []
failovers = [int(line) for line in open(f"{work}/failover")]
ratio = cluster["per_second"] / single["per_second"] if single["per_second"] else 0
print()
print(f"{'':42} {'per second':>12} {'p50 ms':>8} {'p99 ms':>8}")
print(f"{'single fulcrumd, reserve (2 lines)':42} {single['per_second']:12.0f} {single['p50_ms']:8.3f} {single['p99_ms']:8.3f}")
print(f"{'3-replica cluster leader, reserve':42} {cluster['per_second']:12.0f} {cluster['p50_ms']:8.3f} {cluster['p99_ms']:8.3f}")
print(f"{'follower, ATP':42} {atp['per_second']:12.0f} {atp['p50_ms']:8.3f} {atp['p99_ms']:8.3f}")
print(f"cluster / single: {ratio:.2f}; log entries per second at the leader: {rate:.0f}")
if lags:
    print(f"follower lag (upper bounds: the leader is read after the follower): median {statistics.median(lags):.0f} entries, max {max(lags):.0f} "
          f"(~{statistics.median(lag_ms) if lag_ms else 0:.1f} ms median, {max(lag_ms) if lag_ms else 0:.1f} ms max at that rate; {len(lags)} samples)")
print(f"failover, kill -9 to the first accepted write: {failovers} ms (median {statistics.median(failovers)} ms)")
print(json.dumps({
    "single_per_second": round(single["per_second"]), "cluster_per_second": round(cluster["per_second"]),
    "cluster_ratio": round(ratio, 3), "cluster_p50_ms": cluster["p50_ms"], "cluster_p99_ms": cluster["p99_ms"],
    "follower_atp_per_second": round(atp["per_second"]),
    "follower_lag_entries_median": statistics.median(lags) if lags else None, "follower_lag_entries_max": max(lags) if lags else None,
    "follower_lag_ms_median": round(statistics.median(lag_ms), 1) if lag_ms else None,
    "failover_ms": failovers, "failover_ms_median": statistics.median(failovers),
}))
EOF
