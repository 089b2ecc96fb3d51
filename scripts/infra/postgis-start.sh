#!/usr/bin/env bash
# Install (once) and start PostgreSQL 15 + PostGIS 3 from Debian packages, then create the role and the
# three service databases with the postgis extension. Idempotent and fast when already in place.
set -euo pipefail

PG_VERSION=15
PG_CLUSTER=main
PG_PORT="${PG_PORT:-5432}"
PG_USER="${PG_USER:-territory}"
PG_PASSWORD="${PG_PASSWORD:-territory}"
DATABASES=(territory_geo territory_assignment territory_metrics)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

if ! dpkg -s "postgresql-${PG_VERSION}-postgis-3" >/dev/null 2>&1; then
  echo "postgis: installing postgresql-${PG_VERSION}-postgis-3 from Debian packages"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "postgresql-${PG_VERSION}" "postgresql-${PG_VERSION}-postgis-3" >/dev/null
fi

if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "${PG_VERSION} ${PG_CLUSTER}"; then
  echo "postgis: creating cluster ${PG_VERSION}/${PG_CLUSTER} on port ${PG_PORT}"
  as_root pg_createcluster "${PG_VERSION}" "${PG_CLUSTER}" -p "${PG_PORT}" >/dev/null
fi

status=$(pg_lsclusters -h | awk -v v="${PG_VERSION}" -v c="${PG_CLUSTER}" '$1==v && $2==c {print $4}')
if [ "${status}" != "online" ]; then
  echo "postgis: starting cluster ${PG_VERSION}/${PG_CLUSTER}"
  as_root pg_ctlcluster --skip-systemctl-redirect "${PG_VERSION}" "${PG_CLUSTER}" start
fi
PG_PORT=$(pg_lsclusters -h | awk -v v="${PG_VERSION}" -v c="${PG_CLUSTER}" '$1==v && $2==c {print $3}')

for _ in $(seq 1 30); do
  as_postgres pg_isready -q -p "${PG_PORT}" && break
  sleep 1
done
as_postgres pg_isready -q -p "${PG_PORT}" || { echo "postgis: server did not become ready" >&2; exit 1; }

psql_admin() { as_postgres psql -p "${PG_PORT}" -v ON_ERROR_STOP=1 -qAt "$@"; }

# Superuser so that migrations (and tests creating throwaway databases) can create the postgis
# extension; this cluster is for local development and tests only.
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname='${PG_USER}'")" != "1" ]; then
  psql_admin -c "CREATE ROLE ${PG_USER} LOGIN SUPERUSER PASSWORD '${PG_PASSWORD}'"
fi
for db in "${DATABASES[@]}"; do
  if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname='${db}'")" != "1" ]; then
    psql_admin -c "CREATE DATABASE ${db} OWNER ${PG_USER}"
  fi
  psql_admin -d "${db}" -c "CREATE EXTENSION IF NOT EXISTS postgis"
done

echo "postgis: ready on 127.0.0.1:${PG_PORT} ($(psql_admin -d territory_geo -c 'SELECT postgis_lib_version()') / $(psql_admin -c 'SHOW server_version'))"
