#!/opt/venv/bin/python3
"""Publish one scheduled job to RabbitMQ and exit. Cron runs this; the work itself
is done by the consumers. Usage: publish-job heartbeat"""

import argparse
import socket
import sys

from kombu.exceptions import OperationalError

from jobqueue import SCHEDULES, make_app, slot_start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="publish-job", description=__doc__)
    parser.add_argument("job", help=f"the job to publish, one of: {', '.join(SCHEDULES)}")
    args = parser.parse_args(argv)
    if args.job not in SCHEDULES:
        parser.error(f"unknown job {args.job!r}; known jobs: {', '.join(SCHEDULES)}")

    slot = slot_start(args.job).isoformat()
    try:
        # With publisher confirms on (jobqueue), this returns once RabbitMQ holds the message.
        make_app().send_task(
            f"jobs.{args.job}",
            kwargs={"slot": slot, "published_by": socket.gethostname()},
            retry=True,
            retry_policy={"max_retries": 5, "interval_start": 1, "interval_step": 2},
        )
    except OperationalError as exc:
        print(
            f"publish-job: could not reach RabbitMQ to publish {args.job} for {slot}: {exc}", file=sys.stderr
        )
        return 1
    print(f"publish-job: published {args.job} for slot {slot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
