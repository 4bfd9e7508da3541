#!/usr/bin/env bash
# Runs a real single-node Apache Kafka broker (KRaft, broker+controller in one JVM) for
# tests and demos, from jars that Maven fetches from Maven Central: no Docker, no download
# site, only the package registries.
#
#   tools/kafka/broker.sh start          fresh broker on free loopback ports; prints bootstrap
#   tools/kafka/broker.sh stop           stop it and delete its data
#   tools/kafka/broker.sh stop-keep-data stop it, keep data, ports and server.properties
#   tools/kafka/broker.sh restart-same   start again on the kept data and the same port
#   tools/kafka/broker.sh status         "running bootstrap=..." (exit 0) or "stopped" (exit 3)
#   tools/kafka/broker.sh fetch          only fetch the jars
#
# The last stdout line of start/restart-same is the bootstrap address (127.0.0.1:PORT);
# everything else goes to stderr.
#
# Environment:
#   KLERO_KAFKA_LIB          jar cache (default tools/kafka/lib)
#   KLERO_RUN_DIR            parent run dir shared with tools/postgres (default <repo>/.run);
#                            this broker lives in $KLERO_RUN_DIR/kafka
#   KLERO_KAFKA_RUN_DIR      exact run dir for this broker (overrides the above)
#   KLERO_KAFKA_START_TIMEOUT seconds to wait for the broker to answer (default 90)
#   KLERO_KAFKA_STOP_TIMEOUT  seconds between SIGTERM and SIGKILL (default 30)
#   KAFKA_HEAP_OPTS          JVM heap (default -Xmx512m -Xms256m)
#   PYTHON                   python with kafka-python for the readiness check
#                            (default <repo>/.venv/bin/python, else python3)
#   JAVA_HOME / JAVA         which java (default java on PATH; Kafka 4 needs Java 17+)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
LIB="${KLERO_KAFKA_LIB:-$HERE/lib}"
RUN="${KLERO_KAFKA_RUN_DIR:-${KLERO_RUN_DIR:-$ROOT/.run}/kafka}"
START_TIMEOUT="${KLERO_KAFKA_START_TIMEOUT:-90}"
STOP_TIMEOUT="${KLERO_KAFKA_STOP_TIMEOUT:-30}"
HEAP="${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}"
if [[ -n "${JAVA:-}" ]]; then :
elif [[ -n "${JAVA_HOME:-}" ]]; then JAVA="$JAVA_HOME/bin/java"
else JAVA=java; fi
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi

PROPS="$RUN/server.properties"
DATA="$RUN/data"
LOGS="$RUN/logs"
PIDFILE="$RUN/pid"
BOOTFILE="$RUN/bootstrap"

log() { echo "broker.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# A stamp of the pom's contents, so a version bump in pom.xml refetches instead of
# silently running the old jars.
pom_stamp() { sha256sum "$HERE/pom.xml" | cut -d' ' -f1; }

have_jars() {
  compgen -G "$LIB/kafka_2.13-*.jar" >/dev/null && [[ -f "$LIB/.pom.sha256" ]] \
    && [[ "$(cat "$LIB/.pom.sha256")" == "$(pom_stamp)" ]]
}

fetch() {
  have_jars && return 0
  # Two starts sharing one cache (parallel CI jobs, a demo and a test run) fetch once.
  mkdir -p "$LIB"
  exec 8>"$LIB/.lock"
  flock 8
  fetch_locked
  flock -u 8
  exec 8>&-
}

fetch_locked() {
  have_jars && return 0
  command -v mvn >/dev/null || die "mvn not found: install Maven (apt-get install -y maven)"
  log "fetching Kafka jars into $LIB (Maven Central)"
  local t0=$SECONDS mvnlog
  # Jars of an older pom would sit on the classpath beside the new ones.
  rm -f "$LIB"/*.jar "$LIB/.pom.sha256"
  mvnlog="$(mktemp)"
  # mvn -q still prints colour escapes on stdout, and stdout is reserved for the address:
  # keep its output in a file and show it only when it fails.
  if ! mvn -B -q -Dstyle.color=never -f "$HERE/pom.xml" dependency:copy-dependencies \
        -DoutputDirectory="$LIB" >"$mvnlog" 2>&1; then
    cat "$mvnlog" >&2
    rm -f "$mvnlog"
    die "mvn could not fetch the Kafka jars"
  fi
  rm -f "$mvnlog"
  pom_stamp >"$LIB/.pom.sha256"
  log "fetched $(ls "$LIB"/*.jar | wc -l) jars in $((SECONDS - t0)) s"
}

# shellcheck disable=SC2206  # HEAP is a list of JVM flags
JVM=("$JAVA" $HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
     -Dkafka.logs.dir="$LOGS" -Dlog4j2.configurationFile="$HERE/log4j2.properties"
     -cp "$LIB/*")
java_cmd() { "${JVM[@]}" "$@"; }

# kill -0 also succeeds on a zombie, and the broker is our own (unreaped) child while
# start is still waiting for it: a process that has exited must count as gone.
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local state
  state="$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)"
  [[ -n "$state" && "$state" != Z ]]
}

running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  [[ -n "$pid" ]] && alive "$pid" || return 1
  # Guard against a recycled pid: it must be our broker on our properties file.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $PROPS" || return 1
  echo "$pid"
}

free_ports() {
  # Both sockets stay open until both ports are known, so the two differ.
  "$PYTHON" - <<'EOF'
import socket
socks = []
for _ in range(2):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

cluster_id() {
  # What `kafka-storage random-uuid` prints (16 random bytes, URL-safe base64, no padding,
  # never starting with '-'), made without paying for a second JVM start.
  "$PYTHON" - <<'EOF'
import base64, uuid
while True:
    s = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
    if not s.startswith("-"):
        print(s)
        break
EOF
}

port_busy() {
  "$PYTHON" - "$1" <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)
EOF
}

write_props() {
  local port="$1" cport="$2"
  cat >"$PROPS" <<EOF
# Written by tools/kafka/broker.sh: one KRaft node that is both broker and controller.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
# One partition each: the internal topics are created on first use, and fifty of them
# cost seconds on a 2-core machine for nothing a single node needs.
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=24
EOF
}

wait_ready() {
  local pid="$1" boot="$2" deadline=$((SECONDS + START_TIMEOUT))
  local use_py=1
  "$PYTHON" -c 'import kafka' 2>/dev/null || {
    use_py=0
    log "$PYTHON has no kafka-python: waiting for the broker's own 'started' log line instead"
  }
  while ((SECONDS < deadline)); do
    if ! alive "$pid"; then
      log "broker exited during start; last log lines:"
      tail -n 40 "$LOGS/server.log" "$LOGS/stdout.log" >&2 2>/dev/null || true
      rm -f "$PIDFILE"
      exit 1
    fi
    # Cheap test first: each kafka-python check costs an interpreter start and, while
    # nothing listens, its whole bootstrap timeout.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/${boot##*:}") 2>/dev/null; then
      sleep 0.5
      continue
    fi
    if ((use_py)); then
      # A metadata round trip through the real protocol, not just an open port.
      if "$PYTHON" - "$boot" >"$LOGS/ready-check.log" 2>&1 <<'EOF'
import sys
from kafka import KafkaAdminClient
admin = KafkaAdminClient(bootstrap_servers=sys.argv[1], request_timeout_ms=5000,
                         bootstrap_timeout_ms=5000, client_id="klero-broker-check")
try:
    admin.list_topics()
finally:
    admin.close()
EOF
      then return 0; fi
    elif grep -q "Kafka Server started" "$LOGS/server.log" 2>/dev/null; then
      return 0
    fi
    sleep 1
  done
  log "broker did not answer on $boot within ${START_TIMEOUT}s; last log lines:"
  tail -n 40 "$LOGS/server.log" >&2 2>/dev/null || true
  if [[ -s "$LOGS/ready-check.log" ]]; then
    log "last readiness check ($PYTHON, kafka-python) said:"
    tail -n 15 "$LOGS/ready-check.log" >&2
  fi
  stop_broker
  exit 1
}

launch() {
  local boot="$1" t0=$SECONDS pid
  mkdir -p "$LOGS"
  # setsid: the broker must outlive the shell (and the job group) that started it.
  setsid "${JVM[@]}" kafka.Kafka "$PROPS" </dev/null >>"$LOGS/stdout.log" 2>&1 &
  pid=$!
  echo "$pid" >"$PIDFILE"
  echo "bootstrap=$boot" >"$BOOTFILE"
  wait_ready "$pid" "$boot"
  log "broker up on $boot (pid $pid) in $((SECONDS - t0)) s; logs in $LOGS"
  echo "$boot"
}

bootstrap_of() { sed -n 's/^bootstrap=//p' "$BOOTFILE"; }

start() {
  local pid
  if pid="$(running_pid)"; then
    log "already running (pid $pid)"
    bootstrap_of
    return 0
  fi
  fetch
  command -v "$JAVA" >/dev/null || die "java not found: Kafka 4 needs Java 17+ (apt-get install -y openjdk-17-jre-headless)"
  if [[ -e "$DATA" ]]; then
    log "removing stale state in $RUN (use restart-same to keep it)"
  fi
  rm -rf "$DATA" "$PROPS" "$PIDFILE" "$BOOTFILE" "$LOGS"
  mkdir -p "$RUN" "$LOGS"
  local port cport id
  read -r port cport < <(free_ports)
  write_props "$port" "$cport"
  id="$(cluster_id)"
  java_cmd kafka.tools.StorageTool format -t "$id" -c "$PROPS" >>"$LOGS/stdout.log" 2>&1 \
    || { tail -n 20 "$LOGS/stdout.log" >&2; die "formatting the KRaft storage failed"; }
  launch "127.0.0.1:$port"
}

restart_same() {
  local pid
  if pid="$(running_pid)"; then
    log "already running (pid $pid)"
    bootstrap_of
    return 0
  fi
  [[ -f "$PROPS" && -f "$DATA/meta.properties" ]] \
    || die "no kept broker in $RUN: run 'stop-keep-data' after 'start' first"
  fetch
  local boot port cport
  boot="$(bootstrap_of)"
  port="${boot##*:}"
  cport="$(sed -n 's/^controller.quorum.voters=1@127.0.0.1://p' "$PROPS")"
  for p in "$port" "$cport"; do
    port_busy "$p" && die "port $p is taken by another process; cannot restart on the same address"
  done
  launch "$boot"
}

stop_broker() {
  local pid
  pid="$(running_pid)" || { rm -f "$PIDFILE"; return 0; }
  log "stopping broker (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
  if alive "$pid"; then
    log "no exit after ${STOP_TIMEOUT}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while alive "$pid"; do sleep 0.1; done
  fi
  rm -f "$PIDFILE"
}

status() {
  local pid
  if pid="$(running_pid)"; then
    echo "running pid=$pid $(cat "$BOOTFILE")"
  else
    echo "stopped"
    return 3
  fi
}

case "${1:-}" in
  start) start ;;
  restart-same) restart_same ;;
  stop) stop_broker; rm -rf "$DATA" "$PROPS" "$BOOTFILE" ;;
  stop-keep-data) stop_broker ;;
  status) status ;;
  fetch) fetch ;;
  *) echo "usage: $0 start|stop|stop-keep-data|restart-same|status|fetch" >&2; exit 2 ;;
esac
