#!/usr/bin/env bash
# Start the cron daemon in the foreground with the job table from this folder.
set -o errexit -o nounset -o pipefail

: "${BROKER_URL:?Set BROKER_URL (see .env.example)}"
: "${LOCKS_URL:?Set LOCKS_URL (see docker-compose.yml)}"

# Cron runs jobs with an empty environment: put what the publisher needs at the
# top of the table (cron reads NAME=value lines), readable by root only.
{
  printf 'PATH=%s\n' "$PATH"
  printf 'PYTHONPATH=%s\n' "$PYTHONPATH"
  printf 'BROKER_URL=%s\n' "$BROKER_URL"
  printf 'LOCKS_URL=%s\n' "$LOCKS_URL"
  cat /app/crontab
} > /etc/cron.d/scale-jobs
chmod 0600 /etc/cron.d/scale-jobs

exec cron -f
