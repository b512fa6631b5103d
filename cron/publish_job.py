#!/opt/venv/bin/python3
"""Publish one scheduled job to RabbitMQ and exit. Cron runs this; the consumers do
the work.

    publish-job heartbeat                                   # the current slot: what cron runs
    publish-job rollup-hourly --slot 2026-11-28T10:00:00Z   # a given slot, e.g. one to run again
    publish-job people-you-may-know --now                   # a run of its own, now (make mapreduce)

Two cron containers run the same table, for redundancy. Each first claims the job's
slot in the lock store (a Redis that never evicts): one claim wins and publishes,
then marks the slot published; the other sees that and stops. A claim is a lease:
if its holder dies before publishing, the lease runs out and the other container
takes over, so killing either container loses no slot. If the lock store is down,
both publish: consumers do each (job, slot) once, so that has one effect.
"""

import argparse
import contextlib
import os
import socket
import sys
import time
from datetime import UTC, datetime

import redis
from kombu.exceptions import OperationalError

from jobqueue import MAPREDUCE_JOBS, SCHEDULES, make_app, slot_start, task_name

LEASE_SECONDS = 15  # how long a claimer has to publish before the other may take over
REMEMBER_SECONDS = 8 * 24 * 3600  # how long a published slot stays marked (longer than any slot)


def claim(locks: redis.Redis, key: str, me: str) -> str | None:
    """Wait until this container holds the slot's lease; None when it is already published.

    Returns the holder's description of a published slot instead (`published by cron2`).
    """
    while True:
        if locks.set(key, f"claimed by {me}", nx=True, ex=LEASE_SECONDS):
            return None
        holder = locks.get(key)
        if holder is not None and holder.startswith(b"published"):
            return holder.decode()
        time.sleep(0.25)  # claimed by the other container: wait for its result or its lease to end


def parse_slot(job: str, text: str | None) -> datetime:
    if text is None:
        return slot_start(job)
    slot = datetime.fromisoformat(text)
    if slot.tzinfo is None:
        slot = slot.replace(tzinfo=UTC)
    if slot_start(job, slot) != slot:
        raise ValueError(
            f"{text} is not the start of a {job} slot (did you mean {slot_start(job, slot).isoformat()}?)"
        )
    return slot


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="publish-job", description=__doc__.split("\n\n")[0])
    parser.add_argument("job", help=f"the job to publish, one of: {', '.join(SCHEDULES)}")
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--slot", help="the slot's start, ISO 8601 (default: the current slot)")
    when.add_argument(
        "--now",
        action="store_true",
        help=f"a run of its own, outside the schedule: {', '.join(MAPREDUCE_JOBS)} only",
    )
    args = parser.parse_args(argv)
    if args.job not in SCHEDULES:
        parser.error(f"unknown job {args.job!r}; known jobs: {', '.join(SCHEDULES)}")
    if args.now and args.job not in MAPREDUCE_JOBS:
        parser.error(
            f"--now is for the map-reduce jobs ({', '.join(MAPREDUCE_JOBS)}); give --slot for {args.job}"
        )
    try:
        slot = (
            datetime.now(UTC).replace(microsecond=0) if args.now else parse_slot(args.job, args.slot)
        ).isoformat()
    except ValueError as exc:
        parser.error(f"--slot: {exc}")

    me = socket.gethostname()
    key = f"cron.{args.job}.{slot}"
    locks = redis.Redis.from_url(os.environ["LOCKS_URL"], socket_timeout=2, socket_connect_timeout=2)
    try:
        published_by = claim(locks, key, me)
    except redis.RedisError as exc:
        print(f"publish-job: lock store unavailable ({exc}): publishing anyway", file=sys.stderr)
        locks = None
        published_by = None
    if published_by:
        print(f"publish-job: {args.job} for slot {slot} already {published_by}")
        return 0
    try:
        # With publisher confirms on (jobqueue), this returns once RabbitMQ holds the message.
        make_app().send_task(
            task_name(args.job),
            kwargs={"slot": slot, "published_by": me},
            retry=True,
            retry_policy={"max_retries": 3, "interval_start": 1, "interval_step": 2},
        )
    except OperationalError as exc:
        print(
            f"publish-job: could not reach RabbitMQ to publish {args.job} for {slot}: {exc}", file=sys.stderr
        )
        return 1  # the lease runs out, and the other container (or the next run) may publish it
    if locks is not None:
        # If this fails, at worst the other container publishes the slot too: consumers do it once.
        with contextlib.suppress(redis.RedisError):
            locks.set(key, f"published by {me}", ex=REMEMBER_SECONDS)
    print(f"publish-job: published {args.job} for slot {slot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
