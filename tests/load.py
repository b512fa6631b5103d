"""A bounded Locust load in the background, for the failover tests: what it sent, what
failed, and what its members saw acknowledged, counted against Postgres after."""

import csv
import json
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stack import compose_command, haproxy_rows, haproxy_status, psql, published, stats_csv, wait_for

# The longest a background load may run; a test ends it as soon as its drill is over.
LOAD_CAP_SECONDS = 180
# How long the load goes on after the broken part is back, served by it again.
TAIL_SECONDS = 3


def frontend_requests(stats: str) -> int:
    """Requests the edge has received so far (its frontend's counter on the stats page)."""
    for row in haproxy_rows(stats_csv(stats)):
        if row["pxname"] == "www" and row["svname"] == "FRONTEND":
            return int(row["req_tot"] or 0)
    raise AssertionError("no www frontend on the stats page")


@contextmanager
def background_load(stats: str, users: int = 20) -> Iterator[dict]:
    """A headless Locust run against the edge, in the background, from the moment its
    requests flow until the block ends, then TAIL_SECONDS more. The block must end
    while Locust still runs (its cap is LOAD_CAP_SECONDS), so that the load covers
    everything the block waited for. After the block, the dict holds the run's
    requests, failures, Locust's table of the failures, and what its members wrote
    (loadtest/locustfile.py: the stories acknowledged, the clicks sent).

    Locust writes its results to files in a folder of the host's, never to the output
    the test reads: nothing else (a build, compose's progress) can mix with them."""
    before = frontend_requests(stats)
    results = Path(tempfile.mkdtemp(prefix="locust-"))
    results.chmod(0o777)  # Locust runs as an unprivileged user in its container
    name = f"locust-{uuid.uuid4().hex[:8]}"
    run = compose_command(
        "--profile", "loadtest", "run", "--rm", "--no-deps", "-T", "--name", name,
        "--volume", f"{results}:/results",
        "locust", "--headless", "-u", str(users), "-r", str(users), "-t", f"{LOAD_CAP_SECONDS}s",
        "--host", "http://edge-lb:8080", "--json-file", "/results/stats", "--csv", "/results/run",
        "--writes-file", "/results/writes.json", "--only-summary",
    )  # fmt: skip
    process = subprocess.Popen(run, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    totals: dict = {}
    try:
        wait_for(lambda: frontend_requests(stats) > before + 50, timeout=120, what="Locust's load to flow")
        yield totals
        assert process.poll() is None, (
            f"the load stopped before the drill was over: raise LOAD_CAP_SECONDS ({LOAD_CAP_SECONDS}s)"
        )
        time.sleep(TAIL_SECONDS)
    finally:
        subprocess.run(["docker", "kill", "--signal", "TERM", name], capture_output=True)
        _, err = process.communicate(timeout=120)
    assert process.returncode in (0, 1), f"Locust did not run: {err[-2000:]}"  # 1: it saw failures
    endpoints = json.loads((results / "stats.json").read_text())
    totals["requests"] = sum(endpoint["num_requests"] for endpoint in endpoints)
    totals["failures"] = sum(endpoint["num_failures"] for endpoint in endpoints)
    with open(results / "run_failures.csv", newline="") as failures:
        totals["report"] = "\n".join(
            f"{row['Occurrences']} x {row['Method']} {row['Name']}: {row['Error']}"
            for row in csv.DictReader(failures)
        )
    totals["writes"] = json.loads((results / "writes.json").read_text())
    shutil.rmtree(results)


def assert_nothing_failed_or_lost(load: dict) -> None:
    """No request failed: every GET was answered, and every write acknowledged (a
    member sends a form again, same write key, when its answer is lost). Every
    acknowledged story is stored once, and no story twice; no click counted twice."""
    assert load["failures"] == 0, load["report"]
    writes = load["writes"]
    rows = psql(
        f"SELECT title, count(*) FROM news_story WHERE title LIKE 'Load {writes['run']} %' GROUP BY title"
    )
    stored = {title: int(count) for title, count in (row.rsplit("|", 1) for row in rows.splitlines())}
    assert writes["posted"], "the members posted"
    assert {title: stored.get(title) for title in writes["posted"]} == dict.fromkeys(writes["posted"], 1)
    assert set(stored) <= set(writes["sent"])
    assert all(count == 1 for count in stored.values()), "no story stored twice"
    counted = f"SELECT count(*) FROM news_click WHERE referrer_domain = 'load-{writes['run']}.example'"
    clicks = wait_for(
        lambda: (n := int(psql(counted))) >= writes["clicks_acknowledged"] and n, timeout=60,
        what="every acknowledged click counted",
    )  # fmt: skip
    assert clicks <= writes["clicks_sent"], "no click counted twice"
    print(
        f"  and {len(writes['posted'])} stories posted, each stored once ({writes['resent']} forms "
        f"sent again); {clicks} of {writes['clicks_sent']} clicks counted, none twice"
    )


def pool(balancer: str, backend: str) -> dict[str, str]:
    """Server -> status of a backend of an inner balancer (platform-lb, db-lb), from its
    stats page, published on loopback like the edge's."""
    return haproxy_status(f"http://{published(balancer, 8404)}", backend)
