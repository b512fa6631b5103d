#!/usr/bin/env bash
# A hot-standby replica of $PRIMARY_HOST, streaming its WAL.
#
# First start (no cluster in $PGDATA): create this replica's replication slot on the
# primary (the primary then keeps the WAL this replica has not received yet), copy
# the primary with pg_basebackup into a scratch directory and move it into place
# only once complete, so that an interrupted copy is simply started over.
# --write-recovery-conf leaves standby.signal and the primary's address behind.
# Every start then hands over to the image's own entrypoint, which finds a cluster
# and starts it: read-only queries, WAL replayed as it arrives.
set -Eeuo pipefail
: "${PRIMARY_HOST:?Set PRIMARY_HOST, the primary to replicate}"
: "${POSTGRES_REPLICATION_PASSWORD:?Set POSTGRES_REPLICATION_PASSWORD (see .env.example)}"
slot="${REPLICATION_SLOT:-replica1}"
parent="$(dirname "$PGDATA")"

# As root: own the volume, then come back as the postgres user.
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$parent"
  chown postgres:postgres "$parent"
  exec setpriv --reuid=postgres --regid=postgres --init-groups -- "${BASH_SOURCE[0]}" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  export PGPASSWORD="$POSTGRES_REPLICATION_PASSWORD"
  until pg_isready -q -h "$PRIMARY_HOST"; do
    echo "replica: waiting for the primary ($PRIMARY_HOST)"
    sleep 1
  done
  pg_receivewal -h "$PRIMARY_HOST" -U replicator --no-password --slot "$slot" --create-slot --if-not-exists
  rm -rf "$PGDATA.partial"
  echo "replica: copying the primary (pg_basebackup)"
  pg_basebackup -h "$PRIMARY_HOST" -U replicator --no-password --pgdata "$PGDATA.partial" \
    --slot "$slot" --wal-method stream --checkpoint fast --write-recovery-conf
  mv "$PGDATA.partial" "$PGDATA"
  unset PGPASSWORD
fi

exec docker-entrypoint.sh "$@"
