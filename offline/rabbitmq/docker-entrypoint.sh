#!/usr/bin/env bash
# Entrypoint with the official rabbitmq image's contract: rabbitmq-* commands run as
# user rabbitmq; the server owns /var/lib/rabbitmq. RabbitMQ itself (since 3.9) reads
# RABBITMQ_DEFAULT_USER / _PASS / _VHOST and creates that user on a fresh node, so
# they only need to reach it unchanged.
set -euo pipefail

# As root: own the data dir, then come back as user rabbitmq.
if [[ "$1" == rabbitmq* ]] && [ "$(id -u)" = 0 ]; then
  if [ "$1" = rabbitmq-server ]; then
    find /var/lib/rabbitmq \! -user rabbitmq -exec chown rabbitmq:rabbitmq '{}' +
  fi
  exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups -- "$0" "$@"
fi

# Make the Erlang cookie before the server starts, so a CLI call (a healthcheck run
# as root) can never create it first with the wrong owner.
cookie="${HOME:-/var/lib/rabbitmq}/.erlang.cookie"
if [ "$1" = rabbitmq-server ] && [ ! -e "$cookie" ]; then
  (umask 077; od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$cookie")
  chmod 400 "$cookie"
fi

exec "$@"
