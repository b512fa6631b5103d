"""platform_layer.health: readiness and status against the real Postgres, Redis and
RabbitMQ (what anyone sees of the status, and what operators see: tests/news/api/test_ops.py)."""

import threading
import time

import pytest
from django.db import OperationalError, connections

from platform_layer import health
from tests.support import silent_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_checks(monkeypatch) -> list[float]:
    """When each run of the Redis check started, one of the checks a status computes."""
    started: list[float] = []
    check = health._redis

    def counted():
        started.append(time.monotonic())
        return check()

    monkeypatch.setattr(health, "_redis", counted)
    return started


def test_every_dependency_is_ready(client):
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert set(body["checks"]) == {"postgres", "redis", "rabbitmq"}


def test_a_dead_cache_is_reported_not_raised(settings, caplog):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    checks = health.readiness()
    assert checks["redis"]["ok"] is False
    assert checks["redis"]["error"] == "unreachable"
    assert "Connection refused" in checks["redis"]["error_message"]
    assert "Connection refused" in caplog.text, "the raw error is logged"
    assert checks["postgres"]["ok"] is True


def test_a_cache_that_never_answers_is_reported_after_its_timeout(settings):
    """A paused Redis accepts the connection and says nothing: the check gives up
    after the cache's socket timeout, tried once."""
    with silent_server() as (port, attempts):
        settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
        checks = health.readiness()
        assert attempts() == 1
    assert checks["redis"]["ok"] is False
    assert checks["redis"]["error"] == "timeout"
    assert "Timeout" in checks["redis"]["error_message"]


@pytest.mark.parametrize(
    ("exception", "category"),
    [
        (TimeoutError("looking up 'redis' took over 1s"), "timeout"),
        (ConnectionRefusedError(111, "Connection refused"), "unreachable"),
        (OperationalError('connection to server at "10.0.0.5", port 5432 failed'), "unreachable"),
        (KeyError("maxmemory"), "error"),
    ],
)
def test_a_failure_is_named_by_its_kind_and_its_text_kept_apart(exception, category):
    def check():
        raise exception

    result = health._timed(check)
    assert (result["ok"], result["error"]) == (False, category)
    assert str(exception) in result["error_message"]


def test_two_status_calls_within_a_second_compute_it_once(redis_checks):
    first = health.status()
    second = health.status()
    assert second is first
    assert len(redis_checks) == 1


def test_a_status_older_than_a_second_is_computed_again(redis_checks, monkeypatch):
    first = health.status()
    later = time.monotonic() + health.STATUS_LIFETIME
    monkeypatch.setattr(health.time, "monotonic", lambda: later)
    assert health.status()["computed_at"] > first["computed_at"]
    assert len(redis_checks) == 2


@pytest.mark.django_db(transaction=True)  # each thread its own connection, seeing committed rows
def test_callers_arriving_together_wait_for_one_computation(redis_checks):
    answers: list[dict] = []

    def ask() -> None:
        try:
            answers.append(health.status())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 8 and all(answer is answers[0] for answer in answers)
    assert len(redis_checks) == 1


def test_a_failed_computation_is_not_kept(monkeypatch):
    """The read pool's middleware answers a GET again when the replica failed under it:
    that second try must compute, not get the failure back."""
    tries = []

    def backlog():
        tries.append(1)
        if len(tries) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return {"waiting": 0, "oldest_seconds": 0.0}

    monkeypatch.setattr(health.outbox, "backlog", backlog)
    with pytest.raises(OperationalError):
        health.status()
    assert health.status()["outbox"] == {"waiting": 0, "oldest_seconds": 0.0}
    assert len(tries) == 2
