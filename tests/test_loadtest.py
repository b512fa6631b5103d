"""make loadtest-headless: a bounded Locust run that writes its reports, and fails on
a failed request or a slow 95th percentile."""

import csv

from stack import ROOT, make

REPORTS = ROOT / "reports"
# The stack is up already (the `stack` fixture): make need not check it again (`-o up`).
RUNNING = ("-o", "up")


def test_a_headless_run_writes_its_reports_and_passes_when_nothing_failed(stack):
    run = make(*RUNNING, "loadtest-headless", "USERS=4", "DURATION=10s", timeout=300)
    assert run.returncode == 0
    assert (REPORTS / "locust.html").stat().st_size > 0
    with open(REPORTS / "locust_stats.csv", newline="") as stats:
        total = next(row for row in csv.DictReader(stats) if row["Name"] == "Aggregated")
    assert int(total["Request Count"]) > 0 and int(total["Failure Count"]) == 0
    assert "Closed" in run.stdout, "the run's members are removed after it"


def test_a_run_fails_when_its_95th_percentile_is_over_the_limit(stack):
    run = make(*RUNNING, "loadtest-headless", "USERS=2", "DURATION=5s", "MAX_P95=1", check=False, timeout=300)
    assert run.returncode != 0
    assert "over the 1 ms allowed" in run.stdout + run.stderr
