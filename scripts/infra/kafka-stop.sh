#!/usr/bin/env bash
# Stop the local Kafka broker started by kafka-start.sh. Idempotent: "not running"
# is success. SIGTERM first (Kafka then does a clean shutdown, which keeps the next
# start fast: no log recovery), SIGKILL after $KAFKA_STOP_TIMEOUT (30) s.
#
# Usage: kafka-stop.sh [--wipe]   --wipe also deletes $KAFKA_DATA_DIR (topics, cluster id).
# Uses the same env vars as kafka-start.sh (KAFKA_DATA_DIR, ...).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=kafka/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/kafka/lib.sh"

wipe=0
for arg in "$@"; do
  case $arg in
    --wipe) wipe=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) kafka_log "unknown argument: $arg (usage: kafka-stop.sh [--wipe])"; exit 2 ;;
  esac
done

if pid=$(kafka_running_pid); then
  kafka_log "stopping Kafka (pid $pid) ..."
  t0=$SECONDS
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    kafka_log "still alive after ${KAFKA_STOP_TIMEOUT}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    # SIGKILL cannot be ignored, but the kernel may need a moment to reap it.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  if kill -0 "$pid" 2>/dev/null; then
    kafka_log "pid $pid would not die"; exit 1
  fi
  kafka_log "stopped in $((SECONDS - t0)) s"
else
  kafka_log "Kafka not running (data dir $KAFKA_DATA_DIR)"
fi
rm -f "$KAFKA_PID_FILE"

if ((wipe)); then
  # Guard against an empty/odd KAFKA_DATA_DIR turning this into rm -rf of something big.
  case ${KAFKA_DATA_DIR%/} in
    ""|/|"$HOME"|"${XDG_CACHE_HOME:-$HOME/.cache}") kafka_log "refusing to wipe '$KAFKA_DATA_DIR'"; exit 1 ;;
  esac
  rm -rf -- "$KAFKA_DATA_DIR"
  kafka_log "wiped $KAFKA_DATA_DIR"
fi
