"""platform_layer.health: readiness against the real Postgres, Redis and RabbitMQ."""

import time

import pytest

from platform_layer import health

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
