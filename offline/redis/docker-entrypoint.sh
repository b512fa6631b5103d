#!/bin/sh
# Entrypoint with the official redis image's contract: flags or a *.conf as first
# argument mean redis-server; the server runs as user redis with protected mode off
# unless asked for.
set -e

# `docker run IMAGE --maxmemory 64mb` or `IMAGE /path/redis.conf` mean redis-server.
case "$1" in -*|*.conf) set -- redis-server "$@" ;; esac

# As root: own the data in /data, then come back as user redis (umask 0077 like official).
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  find . \! -user redis -exec chown redis '{}' +
  umask 0077
  exec setpriv --reuid=redis --regid=redis --init-groups -- "$0" "$@"
fi

# The official image builds Redis with protected-mode off by default, so other
# containers can connect without a password; Debian keeps the upstream default (on).
# Add "--protected-mode no" right after the config file (if any) unless the args or
# that file set protected-mode; later options still win, as with the official image.
if [ "$1" = redis-server ]; then
  shift
  conf=; case "${1:-}" in *.conf|-) conf="$1"; shift ;; esac
  protected=no
  for arg in "$@"; do case "$arg" in --protected-mode) protected= ;; esac; done
  if [ -f "$conf" ] && grep -qi '^[[:space:]]*protected-mode' "$conf"; then protected=; fi
  set -- ${protected:+--protected-mode "$protected"} "$@"
  set -- redis-server ${conf:+"$conf"} "$@"
fi

exec "$@"
