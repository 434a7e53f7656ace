#!/usr/bin/env bash
# A replicated Fulcrum on 127.0.0.1 (docs/replication.md): a 3-member etcd
# cluster (the log and the leader's lease) and 3 fulcrumd replicas of cluster
# "demo", each with its own LMDB under $CLUSTER_DATA. Prints how to talk to
# them; Ctrl-C stops them all (the data stays: run it again to restart them).
# Installs etcd-server when missing. Needs the release build (make cluster builds it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh etcd-server

data=${CLUSTER_DATA:-./cluster-data}
bin=.build/release
mkdir -p "$data"
pids=()
stop() {
  trap - INT TERM EXIT
  echo "stopping the replicas, then etcd"
  for pid in "${pids[@]:3}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait "${pids[@]:3}" 2>/dev/null || true
  for pid in "${pids[@]:0:3}"; do kill -TERM "$pid" 2>/dev/null || true; done
  # A member that lost its quorum can linger in its shutdown: bounded, then killed.
  for _ in $(seq 50); do
    alive=0
    for pid in "${pids[@]:0:3}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" -eq 1 ] || break
    sleep 0.1
  done
  for pid in "${pids[@]:0:3}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

peers=""
for i in 1 2 3; do peers+="${peers:+,}e$i=http://127.0.0.1:$((2378 + 2 * i))"; done
endpoints=""
for i in 1 2 3; do
  client=$((2377 + 2 * i)) peer=$((2378 + 2 * i))
  endpoints+="${endpoints:+,}http://127.0.0.1:$client"
  etcd --name "e$i" --data-dir "$data/etcd-$i" \
    --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "$peers" --initial-cluster-state new --initial-cluster-token fulcrum-demo \
    > "$data/etcd-$i.log" 2>&1 &
  pids+=($!)
done

replicas=""
for i in 1 2 3; do
  rpc=127.0.0.1:$((7400 + i)) http=127.0.0.1:$((8080 + i))
  replicas+="${replicas:+,}$rpc"
  "$bin/fulcrumd" serve --data "$data/replica-$i" --listen "$rpc" --http "$http" --demo \
    --cluster demo --etcd "$endpoints" > "$data/replica-$i.log" 2>&1 &
  pids+=($!)
done

for i in 1 2 3; do
  for _ in $(seq 100); do grep -q "listening" "$data/replica-$i.log" && break; sleep 0.1; done
  grep -q "listening" "$data/replica-$i.log" || { echo "replica $i did not start:"; cat "$data/replica-$i.log"; exit 1; }
done

cat <<EOF
Fulcrum cluster "demo": etcd at $endpoints, replicas at $replicas
(operations pages: http://127.0.0.1:8081/ .. :8083/; logs and data in $data)

  $bin/fulcrum stats --server 127.0.0.1:7401                 # role, term, leader, applied, lag
  $bin/fulcrum atp --server 127.0.0.1:7402 --sku CAP-RED       # any replica serves reads
  $bin/fulcrum reserve --server $replicas --order A1 --line DC-EAST:CAP-RED:1 --key A1
                                                               # writes follow the leader
  kill -9 \$(pgrep -f 'listen 127.0.0.1:740[1-3]' | head -1)   # another replica takes over

Ctrl-C stops them all.
EOF
wait
