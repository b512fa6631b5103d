#!/bin/sh
# Entrypoint of the official haproxy image: flags alone mean haproxy, and haproxy
# runs in master-worker mode (-W, reload with SIGUSR2) in the foreground (-db).
set -e
case "$1" in -*) set -- haproxy "$@" ;; esac
if [ "$1" = haproxy ]; then
  shift
  set -- haproxy -W -db "$@"
fi
exec "$@"
