"""Run a map-reduce job on Spark in the foreground, with no run recorded and the pages
untouched: for trying a job's options, and for the benchmark (bench/run.py), which
points it at a generated graph and a scratch table.

    python manage.py spark_job people-you-may-know -- --follows-query "SELECT ..." --table scratch

Prints the job's summary and how long it took, Spark's start included.
"""

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mapreduce import submit


class Command(BaseCommand):
    help = "Run a map-reduce job on Spark now, outside cron's pipeline (no run is recorded)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("job", choices=sorted(submit.SCRIPTS))
        parser.add_argument("options", nargs="*", help="the job script's own options, after --")

    def handle(self, *args: Any, job: str, options: list[str], **rest: Any) -> None:
        started = time.monotonic()
        try:
            summary = submit.run(job, run_id=0, keep_alive=lambda: True, options=options)
        except submit.SparkJobFailed as exc:
            raise CommandError(str(exc)) from exc
        summary["seconds"] = round(time.monotonic() - started, 2)
        self.stdout.write(json.dumps(summary))
