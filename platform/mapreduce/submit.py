"""Submitting a job to Spark: the analytics consumer is the driver (client mode).

spark-submit runs the job's script (mapreduce/spark) as a child process, with this
container as the driver and the Spark workers as executors. The code the executors
need travels with the job as a zip (--py-files), and the Postgres JDBC driver as a
jar (--jars), so the same command runs on any cluster: only SPARK_MASTER_URL changes.
"""

import json
import logging
import socket
import subprocess
import tempfile
import threading
import time
import zipfile
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

log = logging.getLogger(__name__)

CODE = Path(__file__).resolve().parent.parent  # the folder holding the mapreduce package
SCRIPTS = {
    "people-you-may-know": "mapreduce/spark/people_you_may_know.py",
    "click-history": "mapreduce/spark/click_history.py",
}
JDBC_JAR = "/usr/share/java/postgresql.jar"  # Debian's libpostgresql-jdbc-java
BEAT_SECONDS = 15
SUMMARY = "summary: "  # the line a job prints last: what the run records (mapreduce/spark)


class SparkJobFailed(Exception):
    """The job did not complete; the message says why, for /status."""


def check_master(url: str) -> None:
    """Fail at once, with a clear reason, when the master does not answer (instead of
    the driver's minute of registration retries)."""
    parts = urlsplit(url)
    if parts.scheme != "spark":
        return  # local[*] and the like: nothing to reach
    try:
        socket.create_connection((parts.hostname, parts.port or 7077), timeout=3).close()
    except OSError as exc:
        raise SparkJobFailed(f"The Spark master {url} does not answer ({exc}).") from exc


def command(job: str, run_id: int, code_zip: Path, options: Sequence[str] = ()) -> list[str]:
    conf = {
        # Executors connect back to the driver: give them this container's address.
        "spark.driver.host": socket.gethostbyname(socket.gethostname()),
        "spark.driver.memory": settings.SPARK_DRIVER_MEMORY,
        "spark.executor.memory": settings.SPARK_EXECUTOR_MEMORY,
        "spark.sql.session.timeZone": "UTC",
        "spark.log.level": "WARN",  # the consumer's log keeps Spark's warnings and errors
        # A lost executor's tasks run again elsewhere (or on the restarted worker).
        "spark.task.maxFailures": "4",
    }
    return [
        "spark-submit",
        "--master",
        settings.SPARK_MASTER_URL,
        "--jars",
        JDBC_JAR,
        "--py-files",
        str(code_zip),
        *(arg for key, value in conf.items() for arg in ("--conf", f"{key}={value}")),
        str(CODE / SCRIPTS[job]),
        "--run-id",
        str(run_id),
        *options,
    ]


def package(folder: Path) -> Path:
    """The map and reduce code, zipped for the executors."""
    path = folder / "mapreduce.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(CODE / "mapreduce" / "__init__.py", "mapreduce/__init__.py")
        for source in (CODE / "mapreduce" / "spark").glob("*.py"):
            archive.write(source, f"mapreduce/spark/{source.name}")
    return path


def run(job: str, run_id: int, keep_alive: Callable[[], bool], options: Sequence[str] = ()) -> dict:
    """Run the job to its end; its summary ({"input_rows", "output_rows"}).

    keep_alive() is called every few seconds while Spark works (the run's lease);
    when it returns False, or the job outlives SPARK_JOB_TIMEOUT, the job is stopped.
    `options` go to the job's script (its --help lists them).
    """
    check_master(settings.SPARK_MASTER_URL)
    with tempfile.TemporaryDirectory() as folder:
        argv = command(job, run_id, package(Path(folder)), options)
        log.info("submitting %s: %s", job, " ".join(argv))
        process = subprocess.Popen(
            argv, cwd=CODE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        tail: deque[str] = deque(maxlen=40)
        reader = threading.Thread(target=_follow, args=(process, tail), daemon=True)
        reader.start()
        deadline = time.monotonic() + settings.SPARK_JOB_TIMEOUT
        while True:
            try:
                status = process.wait(timeout=BEAT_SECONDS)
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() > deadline or not keep_alive():
                    process.kill()
                    process.wait()
                    raise SparkJobFailed(
                        f"{job} stopped after {settings.SPARK_JOB_TIMEOUT} s, or lost its lease."
                    ) from None
        reader.join(timeout=5)
    if status != 0:
        errors = [line for line in tail if "Error" in line or "Exception" in line] or list(tail)[-5:]
        raise SparkJobFailed(f"spark-submit exited with status {status}: " + "\n".join(errors[-5:]))
    for line in reversed(tail):
        if line.startswith(SUMMARY):
            return json.loads(line.removeprefix(SUMMARY))
    raise SparkJobFailed(f"{job} ended without its summary line")


def _follow(process: subprocess.Popen, tail: deque[str]) -> None:
    """Copy the job's output to this consumer's log, keeping its last lines."""
    assert process.stdout is not None
    for line in process.stdout:
        line = line.rstrip()
        log.info("spark: %s", line)
        tail.append(line)
