#!/usr/bin/env bash
# Starts the 3-node cluster of this folder on loopback, stores under ${GUICHET_NATS_STORE:-./data/cluster}.
# Its users' keys are made at first start under that directory's secrets/ (owner-only files):
# gateways and readers given --data "$base" find theirs there.
# Then: guichet server --data data/cluster --nats nats://127.0.0.1:4222,nats://127.0.0.1:4223 --replicas 3 --port 12345
#       guichet server --data data/cluster --nats nats://127.0.0.1:4223,nats://127.0.0.1:4224 --replicas 3 --port 12346
#       guichet audit --data data/cluster
# Stop with Ctrl-C (stops all three).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
base=${GUICHET_NATS_STORE:-$PWD/data/cluster}
mkdir -p "$base"
eval "$(node "$here/../../dist/src/cli/main.js" nats-keys --data "$base")"
pids=()
for n in 1 2 3; do
  mkdir -p "$base/n$n"
  GUICHET_NATS_STORE="$base/n$n" nats-server -c "$here/n$n.conf" &
  pids+=($!)
done
trap 'kill "${pids[@]}" 2>/dev/null; wait' INT TERM EXIT
wait
