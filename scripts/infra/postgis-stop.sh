#!/usr/bin/env bash
# Stop the local PostgreSQL cluster started by postgis-start.sh. Idempotent.
set -euo pipefail
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if command -v pg_lsclusters >/dev/null && pg_lsclusters -h | awk '$1=="15" && $2=="main" {print $4}' | grep -q online; then
  as_root pg_ctlcluster --skip-systemctl-redirect 15 main stop
  echo "postgis: stopped"
else
  echo "postgis: not running"
fi
