#!/usr/bin/env bash
# Starts the 3-node cluster of this folder on loopback, stores under ${GUICHET_NATS_STORE:-./data/cluster}.
# Then: guichet server --nats nats://127.0.0.1:4222,nats://127.0.0.1:4223 --replicas 3 --port 12345
#       guichet server --nats nats://127.0.0.1:4223,nats://127.0.0.1:4224 --replicas 3 --port 12346
# Stop with Ctrl-C (stops all three).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
base=${GUICHET_NATS_STORE:-$PWD/data/cluster}
pids=()
for n in 1 2 3; do
  mkdir -p "$base/n$n"
  GUICHET_NATS_STORE="$base/n$n" nats-server -c "$here/n$n.conf" &
  pids+=($!)
done
trap 'kill "${pids[@]}" 2>/dev/null; wait' INT TERM EXIT
wait
