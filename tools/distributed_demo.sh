#!/usr/bin/env bash
# `make demo-distributed`: the four services as separate processes on a real Kafka broker
# and PostgreSQL, both started in a private run folder and stopped on exit whatever
# happened; demos/distributed.py drives a small assembly through the HTTP and gRPC
# APIs and prints what each service answers.
set -euo pipefail
cd "$(dirname "$0")/.."

export KLERO_RUN_DIR="$(mktemp -d /tmp/klero-demo-distributed.XXXXXX)"
PY=.venv/bin/python

stop_all() {
  bash tools/kafka/broker.sh stop >/dev/null 2>&1 || true
  bash tools/postgres/server.sh stop >/dev/null 2>&1 || true
  rm -rf "$KLERO_RUN_DIR"
}
trap stop_all EXIT

echo "demo-distributed: starting Apache Kafka and PostgreSQL (run folder $KLERO_RUN_DIR)"
KLERO_KAFKA_BOOTSTRAP="$(bash tools/kafka/broker.sh start | tail -n 1)"
KLERO_POSTGRES_URL="$(bash tools/postgres/server.sh start | tail -n 1)"
export KLERO_KAFKA_BOOTSTRAP KLERO_POSTGRES_URL
echo "demo-distributed: kafka $KLERO_KAFKA_BOOTSTRAP, postgres $KLERO_POSTGRES_URL"

"$PY" -m demos.distributed --workdir "$KLERO_RUN_DIR/cluster" "$@"
