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

# Jobs run as the unprivileged `app`, which may not write to this process's output
# (/proc/1/fd/1 is root's): they write to a FIFO that a reader here copies to it. The
# reader opens it read-write, so it never sees end-of-file between two jobs.
mkfifo -m 0620 /run/jobs.log
chown root:app /run/jobs.log
cat <>/run/jobs.log &

exec cron -f
