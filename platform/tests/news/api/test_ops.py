"""news.api.ops: the status a dashboard draws, for anyone; all of it for operators."""

import re

import pytest
from django.db import connections
from django.utils import timezone

from jobs.models import JobRun
from mapreduce.models import Run
from news import operators
from tests.support import acting, member

pytestmark = pytest.mark.django_db

SPARK_ERROR = "The Spark master spark://spark-master:7077 does not answer"


@pytest.fixture
def dead_cache(settings) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # the cache check fails: nothing listens there


@pytest.fixture
def failed_run(db) -> Run:
    now = timezone.now()
    return Run.objects.create(
        job="click-history", slot=now, status=Run.FAILED, started_at=now, heartbeat_at=now, error=SPARK_ERROR
    )


@pytest.fixture
def operator(db) -> dict[str, str]:
    """The header of a call made for an operator."""
    user = member("operator")
    operators.set_operator(user.username, operator=True)
    return acting(user.pk)


def click_history(status: dict) -> dict:
    return next(job for job in status["mapreduce"] if job["job"] == "click-history")


def postgres_version() -> str:
    with connections["default"].cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def test_status_reports_queue_depths_cache_counters_and_last_runs(api):
    JobRun.objects.create(job="heartbeat", slot="2026-01-01T00:00:00Z")
    JobRun.objects.create(job="heartbeat", slot="2026-01-01T00:01:00Z")
    body = api.get("/api/v1/status").json()
    deps = body["dependencies"]
    assert deps["rabbitmq"]["ok"], deps["rabbitmq"]
    assert isinstance(deps["rabbitmq"]["queues"], list)
    assert deps["redis"]["maxmemory_policy"] == "allkeys-lru"
    assert [(run["job"], run["slot"][:16]) for run in body["last_runs"]] == [
        ("heartbeat", "2026-01-01T00:01")
    ]


@pytest.mark.django_db(databases=["default", "replica"])
def test_anyone_sees_states_and_figures_but_no_version_position_address_or_raw_error(
    api, dead_cache, failed_run
):
    response = api.get("/api/v1/status")
    assert response.status_code == 200
    body = response.json()
    deps = body["dependencies"]
    # States and figures
    assert {name: dep["ok"] for name, dep in deps.items()} == {
        "postgres": True,
        "postgres_read_pool": True,
        "redis": False,
        "rabbitmq": True,
    }
    assert deps["redis"]["error"] == "unreachable"
    assert all(isinstance(dep["latency_ms"], float) for dep in deps.values())
    replicas = deps["postgres"]["replicas"]
    assert [set(replica) for replica in replicas] == [{"state", "sync_state", "behind_bytes"}] * 2
    assert {replica["sync_state"] for replica in replicas} == {"quorum"}
    assert deps["postgres_read_pool"]["served_by"] == "replica"
    assert isinstance(deps["postgres_read_pool"]["replay_lag_ms"], int)
    assert click_history(body)["last_run"]["status"] == "failed"
    # Nothing an attacker would read with more interest than an operator
    assert "version" not in deps["postgres"] and "wal_position" not in deps["postgres"]
    assert "replayed" not in deps["postgres_read_pool"]
    assert all("error_message" not in dep for dep in deps.values())
    assert "error" not in click_history(body)["last_run"]
    text = response.content.decode()
    secrets = (postgres_version(), "postgres2", "Connection refused", "127.0.0.1", "spark-master")
    for secret in secrets:
        assert secret not in text, secret
    assert not re.search(r"\b[0-9A-F]{1,8}/[0-9A-F]{1,8}\b", text), "a WAL position"


def test_the_detail_needs_a_member(api):
    response = api.get("/api/v1/status/detail")
    assert response.status_code == 401
    assert "Log in" in response.json()["detail"]


def test_the_detail_refuses_a_member_who_is_not_an_operator(api, ada):
    response = api.get("/api/v1/status/detail", **acting(ada.pk))
    assert response.status_code == 403
    assert response.json() == {"detail": "Only an operator may see the detailed status."}


@pytest.mark.django_db(databases=["default", "replica"])
def test_an_operator_sees_every_detail(api, operator, dead_cache, failed_run):
    response = api.get("/api/v1/status/detail", **operator)
    assert response.status_code == 200
    body = response.json()
    deps = body["dependencies"]
    assert deps["postgres"]["version"] == postgres_version()
    assert "/" in deps["postgres"]["wal_position"]
    names = [replica["name"] for replica in deps["postgres"]["replicas"]]
    assert len(names) == 2 and set(names) < {"postgres1", "postgres2", "postgres3"}
    assert "/" in deps["postgres_read_pool"]["replayed"]
    assert deps["redis"]["error"] == "unreachable"
    assert "Connection refused" in deps["redis"]["error_message"]
    assert click_history(body)["last_run"]["error"] == SPARK_ERROR


def test_an_operator_no_longer_is_one_once_the_flag_is_taken_back(api, ada):
    operators.set_operator(ada.username, operator=True)
    assert api.get("/api/v1/status/detail", **acting(ada.pk)).status_code == 200
    operators.set_operator(ada.username, operator=False)
    assert api.get("/api/v1/status/detail", **acting(ada.pk)).status_code == 403
