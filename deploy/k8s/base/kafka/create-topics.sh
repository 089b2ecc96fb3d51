#!/bin/sh
# Create (or bring up to date) the topics declared in topics.conf. Idempotent: partitions only grow,
# configs are set again each run. Runs in the apache/kafka image (kafka-topics.sh, kafka-configs.sh).
# Env: BOOTSTRAP_SERVERS (required), KAFKA_TOPIC_PREFIX (""), REPLICATION_FACTOR (1),
#      MIN_INSYNC_REPLICAS (1), TOPICS_FILE (topics.conf next to this script).
set -eu
: "${BOOTSTRAP_SERVERS:?set BOOTSTRAP_SERVERS}"
prefix=${KAFKA_TOPIC_PREFIX:-}
rf=${REPLICATION_FACTOR:-1}
isr=${MIN_INSYNC_REPLICAS:-1}
file=${TOPICS_FILE:-$(dirname "$0")/topics.conf}
PATH=/opt/kafka/bin:$PATH

grep -v '^[[:space:]]*#' "$file" | grep -v '^[[:space:]]*$' | while read -r name partitions configs; do
  topic=$prefix$name
  configs="$configs,min.insync.replicas=$isr"
  if kafka-topics.sh --bootstrap-server "$BOOTSTRAP_SERVERS" --describe --topic "$topic" >/dev/null 2>&1; then
    current=$(kafka-topics.sh --bootstrap-server "$BOOTSTRAP_SERVERS" --describe --topic "$topic" \
      | sed -n 's/.*PartitionCount: *\([0-9]*\).*/\1/p' | head -n 1)
    if [ "${current:-0}" -lt "$partitions" ]; then
      kafka-topics.sh --bootstrap-server "$BOOTSTRAP_SERVERS" --alter --topic "$topic" --partitions "$partitions"
    fi
    kafka-configs.sh --bootstrap-server "$BOOTSTRAP_SERVERS" --alter --entity-type topics --entity-name "$topic" \
      --add-config "$configs" >/dev/null
    echo "topic $topic: exists, up to date ($configs)"
  else
    set --
    for c in $(echo "$configs" | tr ',' ' '); do set -- "$@" --config "$c"; done
    kafka-topics.sh --bootstrap-server "$BOOTSTRAP_SERVERS" --create --if-not-exists --topic "$topic" \
      --partitions "$partitions" --replication-factor "$rf" "$@"
    echo "topic $topic: created ($partitions partitions; $configs)"
  fi
done
