#!/usr/bin/env bash
# As root: own the data volume, then run the command (Patroni) as the postgres user.
# Patroni as PID 1 reaps the processes Postgres leaves behind, as an init would.
set -Eeuo pipefail
data="${PATRONI_POSTGRESQL_DATA_DIR:?Set PATRONI_POSTGRESQL_DATA_DIR}"
if [ "$(id -u)" = 0 ]; then
  parent="$(dirname "$data")"
  mkdir -p "$parent"
  chown postgres:postgres "$parent"
  exec setpriv --reuid=postgres --regid=postgres --init-groups -- "${BASH_SOURCE[0]}" "$@"
fi
exec "$@"
