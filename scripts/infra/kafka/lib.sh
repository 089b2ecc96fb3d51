# Shared settings and helpers for kafka-start.sh / kafka-stop.sh. Sourced, not run.
# shellcheck shell=bash disable=SC2034  # variables are used by the sourcing scripts

# Everything is overridable from the environment so tests/CI can run a second
# broker side by side (other ports + other data dir).
KAFKA_PORT=${KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-19093}
# Jars (shared by every data dir; keyed by the pom's checksum).
KAFKA_HOME_DIR=${KAFKA_HOME_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/territory/kafka}
# Broker state: server.properties, cluster id, KRaft metadata + topic logs, pid, stdout log.
KAFKA_DATA_DIR=${KAFKA_DATA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/territory/kafka-data}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-180}
KAFKA_STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-30}
# Modest heap: a dev/test broker on a 2-core box that also runs the test suite.
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}

KAFKA_HOST=127.0.0.1
KAFKA_INFRA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KAFKA_POM="$KAFKA_INFRA_DIR/pom.xml"
KAFKA_LOG4J_CONF="$KAFKA_INFRA_DIR/log4j2.properties"
KAFKA_LIBS="$KAFKA_HOME_DIR/libs"
KAFKA_LOG_DIRS="$KAFKA_DATA_DIR/kraft-logs"
KAFKA_SERVER_PROPS="$KAFKA_DATA_DIR/server.properties"
KAFKA_PID_FILE="$KAFKA_DATA_DIR/kafka.pid"
KAFKA_OUT="$KAFKA_DATA_DIR/kafka.out"
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java

# The version is baked in the pom; read it from there so messages never lie.
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM")

kafka_log() { echo "[kafka] $*" >&2; }

# True when something accepts TCP connections on host:port. Pure bash (/dev/tcp),
# so it needs no nc/ss; `timeout` keeps a filtered port from hanging us.
kafka_port_open() {
  # shellcheck disable=SC2016  # $0/$1 expand in the inner bash, on purpose
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# Prints the pid of *our* broker if it is alive, else nothing (and returns 1).
# The pid file alone is not trusted: after a reboot or a crash the pid may belong
# to an unrelated process, so the command line must name kafka.Kafka and this
# data dir's server.properties.
kafka_running_pid() {
  local pid
  [[ -f $KAFKA_PID_FILE ]] || return 1
  pid=$(<"$KAFKA_PID_FILE")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r /proc/$pid/cmdline ]]; then
    local cmd
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline")
    [[ $cmd == *kafka.Kafka* && $cmd == *"$KAFKA_SERVER_PROPS"* ]] || return 1
  fi
  echo "$pid"
}
