#!/usr/bin/env bash
# Start a local single-node Apache Kafka broker (KRaft combined mode: the one JVM is
# both broker and controller) from Maven Central jars, with the machine's Java 17+.
# No Docker and no Kafka tarball: only Maven Central is reachable from our machines.
#
# Idempotent: if our broker is already up it says so and exits 0. The first run
# resolves the jars (~45 MB) into $KAFKA_HOME_DIR/libs; later runs reuse them
# (stamp = sha256 of kafka/pom.xml) and keep the data in $KAFKA_DATA_DIR.
#
# Env (defaults): KAFKA_PORT (19092), KAFKA_CONTROLLER_PORT (19093),
#   KAFKA_DATA_DIR (${XDG_CACHE_HOME:-~/.cache}/territory/kafka-data),
#   KAFKA_HOME_DIR (${XDG_CACHE_HOME:-~/.cache}/territory/kafka),
#   KAFKA_START_TIMEOUT (180 s: a loaded 2-core machine), KAFKA_HEAP_OPTS (-Xmx512m -Xms256m), JAVA_HOME.
# Stop with scripts/infra/kafka-stop.sh [--wipe].
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=kafka/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/kafka/lib.sh"

t_start=$SECONDS
mkdir -p "$KAFKA_DATA_DIR" "$KAFKA_HOME_DIR"

# Serialize concurrent starts against the same data dir (e.g. two test sessions):
# both would otherwise try to resolve/format/launch at once.
exec 9>"$KAFKA_DATA_DIR/.start.lock"
flock -w $((KAFKA_START_TIMEOUT + 600)) 9 || { kafka_log "could not take $KAFKA_DATA_DIR/.start.lock"; exit 1; }

# --- fast path: already running ----------------------------------------------------
already_pid=""
if pid=$(kafka_running_pid); then
  if kafka_port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    kafka_log "Kafka $KAFKA_VERSION already running on $KAFKA_HOST:$KAFKA_PORT (pid $pid, data $KAFKA_DATA_DIR)"
    exit 0
  fi
  # Alive but not listening yet: a previous start is still booting; just wait for it.
  already_pid=$pid
  kafka_log "broker pid $pid is alive but $KAFKA_HOST:$KAFKA_PORT is not open yet; waiting for it"
fi

# --- preflight ----------------------------------------------------------------------
command -v "$JAVA" >/dev/null || { kafka_log "java not found (set JAVA_HOME or install openjdk-17)"; exit 1; }
# Kafka 4.x brokers need Java 17+. `java -version` prints e.g. 'openjdk version "17.0.15"'.
java_major=$("$JAVA" -version 2>&1 | sed -n 's/.* version "\([0-9]*\).*/\1/p' | head -n1)
if [[ -z $java_major || $java_major -lt 17 ]]; then
  kafka_log "Kafka $KAFKA_VERSION needs Java 17+, found '${java_major:-?}' ($JAVA)"; exit 1
fi

if [[ -z $already_pid ]]; then
  # Someone else owns the port (another broker, another data dir...): starting would
  # only fail later with a less obvious BindException.
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    if kafka_port_open "$KAFKA_HOST" "$p"; then
      kafka_log "port $KAFKA_HOST:$p is already in use by another process (not our broker for $KAFKA_DATA_DIR)"
      exit 1
    fi
  done
fi

# --- jars: resolve once per pom checksum --------------------------------------------
pom_sum=$(sha256sum "$KAFKA_POM" | cut -d' ' -f1)
if [[ -f $KAFKA_LIBS/.pom.sha256 && $(<"$KAFKA_LIBS/.pom.sha256") == "$pom_sum" ]]; then
  : # cached: no Maven, no network
else
  command -v mvn >/dev/null || { kafka_log "mvn not found (apt-get install maven)"; exit 1; }
  kafka_log "resolving Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS ..."
  t_mvn=$SECONDS
  # Resolve into a fresh dir and swap it in, so an interrupted download never leaves
  # a half-filled libs/ carrying a valid stamp, and a pom change never leaves stale
  # jars of the previous version on the classpath.
  tmp_libs="$KAFKA_HOME_DIR/libs.tmp.$$"
  rm -rf "$tmp_libs"
  if ! mvn -B -q -f "$KAFKA_POM" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$tmp_libs" >"$KAFKA_HOME_DIR/mvn.log" 2>&1; then
    kafka_log "mvn dependency resolution failed:"; tail -n 40 "$KAFKA_HOME_DIR/mvn.log" >&2
    rm -rf "$tmp_libs"; exit 1
  fi
  echo "$pom_sum" >"$tmp_libs/.pom.sha256"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp_libs" "$KAFKA_LIBS"
  kafka_log "resolved $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars in $((SECONDS - t_mvn)) s"
fi
# Quoted glob: the JVM expands `dir/*` to every jar in dir itself.
CP="$KAFKA_LIBS/*"
JAVA_TOOL=("$JAVA" -Xmx256m -Dlog4j2.configurationFile="$KAFKA_LOG4J_CONF" -cp "$CP")

if [[ -z $already_pid ]]; then
  # --- config (rewritten every start so env overrides apply) ------------------------
  # A KRaft voter's controller endpoint is written into the metadata log at format
  # time; refuse to reuse data formatted for another controller port rather than
  # start a quorum that points at an endpoint nobody listens on.
  if [[ -f $KAFKA_DATA_DIR/controller.port && $(<"$KAFKA_DATA_DIR/controller.port") != "$KAFKA_CONTROLLER_PORT" ]]; then
    kafka_log "$KAFKA_DATA_DIR was formatted for controller port $(<"$KAFKA_DATA_DIR/controller.port"), not $KAFKA_CONTROLLER_PORT;"
    kafka_log "use the old KAFKA_CONTROLLER_PORT, another KAFKA_DATA_DIR, or scripts/infra/kafka-stop.sh --wipe"
    exit 1
  fi
  cat >"$KAFKA_SERVER_PROPS.tmp" <<EOF
# Generated by scripts/infra/kafka-start.sh on every start; edits are overwritten.
# Single node, KRaft combined mode (broker + controller in one JVM), loopback only.
process.roles=broker,controller
node.id=1
# Dynamic quorum (KIP-853): formatted with --standalone, so no controller.quorum.voters.
controller.quorum.bootstrap.servers=$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_LOG_DIRS
# One broker: every internal topic must live with replication factor 1.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests should not wait 3 s for the first consumer-group rebalance.
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
num.partitions=3
EOF
  mv "$KAFKA_SERVER_PROPS.tmp" "$KAFKA_SERVER_PROPS"

  # --- format storage once ----------------------------------------------------------
  # The cluster id is generated once and kept: formatting again with another id
  # would make the broker refuse its existing log dir.
  if [[ ! -s $KAFKA_DATA_DIR/cluster.id ]]; then
    "${JAVA_TOOL[@]}" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1 >"$KAFKA_DATA_DIR/cluster.id.tmp"
    [[ -s $KAFKA_DATA_DIR/cluster.id.tmp ]] || { kafka_log "StorageTool random-uuid produced nothing"; exit 1; }
    mv "$KAFKA_DATA_DIR/cluster.id.tmp" "$KAFKA_DATA_DIR/cluster.id"
  fi
  cluster_id=$(<"$KAFKA_DATA_DIR/cluster.id")
  if [[ ! -f $KAFKA_LOG_DIRS/meta.properties ]]; then
    kafka_log "formatting $KAFKA_LOG_DIRS (cluster id $cluster_id)"
    if ! "${JAVA_TOOL[@]}" kafka.tools.StorageTool format --standalone \
          -t "$cluster_id" -c "$KAFKA_SERVER_PROPS" >"$KAFKA_DATA_DIR/format.log" 2>&1; then
      kafka_log "storage format failed:"; cat "$KAFKA_DATA_DIR/format.log" >&2; exit 1
    fi
    echo "$KAFKA_CONTROLLER_PORT" >"$KAFKA_DATA_DIR/controller.port"
  fi

  # --- launch -----------------------------------------------------------------------
  # Keep the previous run's output for post-mortems, start the new one empty (the
  # readiness check greps it).
  [[ -f $KAFKA_OUT ]] && mv -f "$KAFKA_OUT" "$KAFKA_OUT.prev"
  # nohup: survive the calling shell's exit/SIGHUP. $! is the JVM's own pid because
  # nohup execs java. `9>&-`: the broker must not inherit (and so hold forever) the
  # start lock. GC flags as in Kafka's own kafka-run-class.sh.
  # shellcheck disable=SC2086  # KAFKA_HEAP_OPTS is a list of flags
  nohup "$JAVA" $KAFKA_HEAP_OPTS \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_LOG4J_CONF" \
    -Dkafka.logs.dir="$KAFKA_DATA_DIR" \
    -cp "$CP" kafka.Kafka "$KAFKA_SERVER_PROPS" \
    </dev/null >"$KAFKA_OUT" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$KAFKA_PID_FILE"
  kafka_log "started Kafka $KAFKA_VERSION (pid $pid), waiting up to ${KAFKA_START_TIMEOUT}s for $KAFKA_HOST:$KAFKA_PORT"
else
  pid=$already_pid
fi

# --- readiness ----------------------------------------------------------------------
# Port open is not enough (the socket server binds before the broker has caught up
# with the metadata log), so also wait for KafkaRaftServer's "Kafka Server started"
# line and then do a real metadata round trip with TopicCommand --list.
cat >"$KAFKA_DATA_DIR/client.properties" <<'EOF'
# Used by the readiness check: fail fast instead of the admin client's 60 s default.
request.timeout.ms=5000
default.api.timeout.ms=10000
EOF
fail() {
  kafka_log "$1"
  kafka_log "--- last lines of $KAFKA_OUT ---"
  tail -n 60 "$KAFKA_OUT" >&2 2>/dev/null || true
  exit 1
}
rm -f "$KAFKA_DATA_DIR/readiness.log"
deadline=$((SECONDS + KAFKA_START_TIMEOUT))
while :; do
  if ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$KAFKA_PID_FILE"
    fail "broker process $pid exited during startup"
  fi
  if kafka_port_open "$KAFKA_HOST" "$KAFKA_PORT" &&
     grep -q 'Kafka Server started' "$KAFKA_OUT" 2>/dev/null &&
     timeout 30 "${JAVA_TOOL[@]}" org.apache.kafka.tools.TopicCommand \
       --bootstrap-server "$KAFKA_HOST:$KAFKA_PORT" \
       --command-config "$KAFKA_DATA_DIR/client.properties" --list \
       >"$KAFKA_DATA_DIR/readiness.log" 2>&1; then
    break
  fi
  if ((SECONDS >= deadline)); then
    [[ -s $KAFKA_DATA_DIR/readiness.log ]] && { kafka_log "last readiness check output:"; tail -n 20 "$KAFKA_DATA_DIR/readiness.log" >&2; }
    # Do not leave a half-started broker behind: the next start would only find it.
    "$KAFKA_INFRA_DIR/../kafka-stop.sh" >&2 || true
    fail "broker not ready after ${KAFKA_START_TIMEOUT}s (stopped it)"
  fi
  sleep 0.5
done
kafka_log "Kafka $KAFKA_VERSION ready on $KAFKA_HOST:$KAFKA_PORT (pid $pid, data $KAFKA_DATA_DIR) in $((SECONDS - t_start)) s"
