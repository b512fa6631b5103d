"""Map-reduce on Spark, the whole path as the article draws it: cron publishes a
message -> the analytics consumer submits the Spark job -> the job reads the read pool
and writes its rows -> the pages show them, with when they were computed. Then the
failures: a Spark worker killed mid-job, the master down."""

import re
import time

import pytest
import requests

from stack import Visitor, broken, compose, psql, published, wait_for

SPARK = ("spark-master", "spark-worker", "analytics-consumer")
MEMBER = "user3"  # a demo member who follows a few others
JOB_TIMEOUT = 600  # seconds: a run on the demo world takes about a minute on 2 cores


@pytest.fixture(scope="module")
def analytics(stack) -> None:
    """The analytics profile, started if `make analytics` did not already."""
    # --no-deps: the stack fixture started the rest; a drill before may have left a
    # dependency's health check a few seconds behind, which `up` would refuse.
    compose(
        "--profile", "analytics", "up", "--no-build", "--no-deps", "--detach",
        "--wait", "--wait-timeout", "300", *SPARK, timeout=400,
    )  # fmt: skip


def publish_now(job: str) -> str:
    """What `make mapreduce` does: cron's publisher, a run of its own; its slot."""
    output = compose("exec", "-T", "cron1", "publish-job", job, "--now").stdout
    return re.search(r"for slot (\S+)", output).group(1)


def job_status(edge: str, job: str, operator: Visitor | None = None) -> dict:
    """The job on /status.json, or on an operator's /status/detail.json (its errors too)."""
    if operator:
        jobs = operator.get("/status/detail.json").json()["mapreduce"]
    else:
        jobs = requests.get(f"{edge}/status.json", timeout=10).json()["mapreduce"]
    return next(entry for entry in jobs if entry["job"] == job)


def finished_run(edge: str, job: str, slot: str) -> dict:
    """The run of `slot`, once it has ended (succeeded, failed or skipped)."""

    def ended() -> dict | None:
        run = job_status(edge, job)["last_run"]
        if run and run["slot"][:19] == slot[:19] and run["status"] != "running":
            return run
        return None

    return wait_for(ended, timeout=JOB_TIMEOUT, interval=2, what=f"the {job} run of {slot} to end")


def run_job(edge: str, job: str) -> dict:
    run = finished_run(edge, job, publish_now(job))
    assert run["status"] == "succeeded", run
    return run


def stored_suggestions(member: str) -> list[tuple[int, int]]:
    """The member's (suggested member, mutuals) rows of the latest succeeded run."""
    rows = psql(
        f"""SELECT s.suggested_id, s.mutuals FROM mapreduce_suggestedmember s
        JOIN news_user u ON u.id = s.member_id AND u.username = '{member}'
        WHERE s.run_id = (SELECT id FROM mapreduce_run WHERE job = 'people-you-may-know'
                          AND status = 'succeeded' ORDER BY finished_at DESC LIMIT 1)
        ORDER BY s.rank"""
    )
    return [tuple(map(int, row.split("|"))) for row in rows.splitlines()]


def sql_suggestions(member: str) -> list[tuple[int, int]]:
    """The same answer from one SQL query, written independently of the Spark job."""
    rows = psql(
        f"""WITH me AS (SELECT id FROM news_user WHERE username = '{member}'),
             mine AS (SELECT followee_id FROM news_follow WHERE follower_id = (SELECT id FROM me))
        SELECT f2.followee_id, count(*) FROM news_follow f1
        JOIN news_follow f2 ON f2.follower_id = f1.followee_id
        WHERE f1.follower_id = (SELECT id FROM me)
          AND f2.followee_id <> (SELECT id FROM me)
          AND f2.followee_id NOT IN (SELECT followee_id FROM mine)
        GROUP BY f2.followee_id ORDER BY count(*) DESC, f2.followee_id LIMIT 10"""
    )
    return [tuple(map(int, row.split("|"))) for row in rows.splitlines()]


def shown_people(edge: str, member: str) -> list[tuple[str, int]]:
    home = Visitor(edge).log_in(member).get("/").text
    shown = re.findall(r'data-testid="person" data-username="([^"]+)" data-mutuals="(\d+)"', home)
    return [(name, int(mutuals)) for name, mutuals in shown]


def test_the_spark_masters_ui_lists_its_worker(analytics):
    """The README's address of the Spark UI, on loopback: the cluster a user watches."""
    master = requests.get(f"http://{published('spark-master', 8080)}/json/", timeout=10).json()
    assert master["status"] == "ALIVE"
    assert [worker["state"] for worker in master["workers"] if worker["state"] == "ALIVE"] == ["ALIVE"]
    assert master["cores"] == 2


def test_cron_to_spark_to_postgres_to_the_home_page(edge, analytics):
    run = run_job(edge, "people-you-may-know")
    assert run["consumed_by"] == "analytics-consumer"
    assert run["input_rows"] > 1000, "it read the demo world's follows"
    expected = sql_suggestions(MEMBER)
    assert len(expected) == 10, "the demo member has suggestions to show"
    assert stored_suggestions(MEMBER) == expected, "Spark's answer is SQL's, ties in the same order"
    ids = ",".join(str(member_id) for member_id, _ in expected)
    names = dict(
        row.split("|") for row in psql(f"SELECT id, username FROM news_user WHERE id IN ({ids})").splitlines()
    )
    assert shown_people(edge, MEMBER) == [(names[str(member_id)], mutuals) for member_id, mutuals in expected]
    status = job_status(edge, "people-you-may-know")
    assert status["results_from"] == run["finished_at"]


def test_the_click_history_reaches_the_analytics_page_with_its_chart(edge, analytics):
    run_job(edge, "click-history")
    day, visits = psql(
        "SELECT (created_at AT TIME ZONE 'UTC')::date, count(*) FROM news_click "
        "WHERE created_at > now() - interval '20 days' GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
    ).split("|")
    page = requests.get(f"{edge}/analytics", timeout=10).text
    assert f'data-testid="history-bar" data-day="{day}" data-total="{visits}"' in page
    assert 'data-testid="history-week"' in page and 'data-testid="history-computed"' in page


# The driver's own UI, inside the analytics consumer: how many tasks its executors run now.
ACTIVE_TASKS = """
import json, urllib.request as u
base = "http://localhost:4040/api/v1/applications"
apps = json.load(u.urlopen(base, timeout=3))
executors = [e for a in apps for e in json.load(u.urlopen(f"{base}/{a['id']}/executors", timeout=3))]
print(sum(e["activeTasks"] for e in executors if e["id"] != "driver"))
"""


def active_tasks() -> int:
    result = compose("exec", "-T", "analytics-consumer", "python3", "-c", ACTIVE_TASKS, check=False)
    return int(result.stdout.strip()) if result.returncode == 0 and result.stdout.strip() else 0


def test_a_spark_worker_killed_mid_job_loses_no_result(edge, analytics):
    """Tasks are running on the worker when it is killed: Spark runs them again once
    the worker is back, and the run ends succeeded, with the same answer."""
    before = stored_suggestions(MEMBER)
    slot = publish_now("people-you-may-know")
    wait_for(lambda: active_tasks() > 0, timeout=120, interval=0.5, what="the job's tasks to start")
    time.sleep(5)  # deliberate: into the job's heavy part (the reads and the first shuffle)
    wait_for(lambda: active_tasks() > 0, timeout=60, interval=0.2, what="tasks running on the worker")
    with broken("spark-worker", "kill") as worker:
        time.sleep(3)  # deliberate: the master notices the lost worker and its executor
        assert job_status(edge, "people-you-may-know")["last_run"]["status"] == "running"
        worker.mend()
    run = finished_run(edge, "people-you-may-know", slot)
    assert run["status"] == "succeeded", run
    assert stored_suggestions(MEMBER) == before


def test_with_the_master_down_a_run_fails_cleanly_and_the_previous_results_stay(edge, analytics, operator):
    served = job_status(edge, "people-you-may-know")["results_from"]
    people = shown_people(edge, MEMBER)
    with broken("spark-master", "stop"):
        run = finished_run(edge, "people-you-may-know", publish_now("people-you-may-know"))
        assert run["status"] == "failed"
        status = job_status(edge, "people-you-may-know")
        assert status["results_from"] == served, "the pages still show the last good run"
        assert shown_people(edge, MEMBER) == people

        # Why it failed is for operators; anyone sees that it did.
        def failed_in_detail() -> dict | None:
            last = job_status(edge, "people-you-may-know", operator)["last_run"]
            return last if last and last["slot"] == run["slot"] else None

        # (the status is at most a second old on each tier)
        failed = wait_for(failed_in_detail, timeout=10, what="the failed run on the operators' status")
        assert "spark-master:7077 does not answer" in failed["error"]
        assert "error" not in run, "not for anyone"
        assert 'data-testid="mapreduce-error"' in operator.get("/status/detail").text
        assert 'data-testid="mapreduce-error"' not in requests.get(f"{edge}/status", timeout=10).text
