"""platform_layer.health: readiness against the real Postgres, Redis and RabbitMQ."""

import pytest

from platform_layer import health
from tests.support import silent_server

pytestmark = pytest.mark.django_db


def test_every_dependency_is_ready(client):
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert set(body["checks"]) == {"postgres", "redis", "rabbitmq"}


def test_a_dead_cache_is_reported_not_raised(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    checks = health.readiness()
    assert checks["redis"]["ok"] is False
    assert "Error" in checks["redis"]["error"]
    assert checks["postgres"]["ok"] is True


def test_a_cache_that_never_answers_is_reported_after_its_timeout(settings):
    """A paused Redis accepts the connection and says nothing: the check gives up
    after the cache's socket timeout, tried once."""
    with silent_server() as (port, attempts):
        settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
        checks = health.readiness()
        assert attempts() == 1
    assert checks["redis"]["ok"] is False
    assert "Timeout" in checks["redis"]["error"]
