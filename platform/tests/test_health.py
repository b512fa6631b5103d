"""Readiness and status against the real Postgres, Redis and RabbitMQ of the stack."""

import time

import pytest

from jobs.models import JobRun
from news.cache import Cache
from platform_layer import dns, health

pytestmark = pytest.mark.django_db


def test_every_dependency_is_ready(client):
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert set(body["checks"]) == {"postgres", "redis", "rabbitmq"}


def test_a_dead_cache_is_reported_quickly_not_raised(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    started = time.perf_counter()
    checks = health.readiness()
    assert checks["redis"]["ok"] is False
    assert "Error" in checks["redis"]["error"]
    assert checks["postgres"]["ok"] is True
    assert time.perf_counter() - started < 5


def test_a_vanished_host_costs_the_deadline_not_the_resolvers_retries():
    # A stopped container's name is gone from Docker's DNS: depending on the engine
    # and the host's resolvers, the lookup fails at once or hangs for seconds.
    started = time.perf_counter()
    with pytest.raises(OSError):
        dns.resolve("no-such-service", 6379, timeout=0.3)
    assert time.perf_counter() - started < 2


def test_a_cache_whose_host_vanished_is_a_quick_miss():
    vanished = Cache("redis://no-such-service:6379/0", timeout=0.25)
    started = time.perf_counter()
    assert vanished.get("user", "user.1") is None
    assert vanished.errors == 1
    assert time.perf_counter() - started < 2


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
