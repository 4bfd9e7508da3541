#!/usr/bin/env bash
# The whole test suite against real components: starts Apache Kafka and PostgreSQL in a
# private run folder, runs pytest with KLERO_REQUIRE_REAL=1 (a missing component fails
# instead of skipping), and stops everything it started, whatever happened.
set -euo pipefail
cd "$(dirname "$0")/.."

export KLERO_RUN_DIR="${KLERO_RUN_DIR:-$(mktemp -d /tmp/klero-test.XXXXXX)}"
PY=.venv/bin/python

stop_all() {
  bash tools/kafka/broker.sh stop >/dev/null 2>&1 || true
  bash tools/postgres/server.sh stop >/dev/null 2>&1 || true
}
trap stop_all EXIT

echo "test.sh: starting Apache Kafka and PostgreSQL (run folder $KLERO_RUN_DIR)"
KLERO_TEST_KAFKA_BOOTSTRAP="$(bash tools/kafka/broker.sh start | tail -n 1)"
KLERO_TEST_POSTGRES_URL="$(bash tools/postgres/server.sh start | tail -n 1)"
KLERO_TEST_CHROMIUM="$(bash tools/browser/ensure.sh | tail -n 1)"
# helm, pinned, built from the Go module proxy on first use and cached under tools/helm/bin.
export KLERO_HELM="$(bash tools/helm/install.sh | tail -n 1)"
export KLERO_TEST_KAFKA_BOOTSTRAP KLERO_TEST_POSTGRES_URL KLERO_TEST_CHROMIUM KLERO_REQUIRE_REAL=1
echo "test.sh: kafka $KLERO_TEST_KAFKA_BOOTSTRAP, postgres $KLERO_TEST_POSTGRES_URL"

"$PY" -m pytest -q "$@"
