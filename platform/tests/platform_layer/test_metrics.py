"""platform_layer.metrics: what Prometheus reads from a platform node, through the
node's own /metrics (the dashboard's series: tests/test_dashboard.py reads them live)."""

import re
from datetime import UTC, datetime

import pytest

from jobs.models import JobRun, OutboxMessage
from news import members

pytestmark = pytest.mark.django_db


def sample(page: str, name: str, **labels: str) -> float | None:
    """The value of the one sample of `name` with exactly these labels, or None
    (prometheus_client writes labels in name order)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    pattern = rf"^{name}{{{re.escape(wanted)}}} (\S+)$" if labels else rf"^{name} (\S+)$"
    found = re.search(pattern, page, re.M)
    return float(found.group(1)) if found else None


def metrics(client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    return response.content.decode()


def test_metrics_are_open_to_prometheus_without_the_api_token(client):
    assert client.get("/metrics").status_code == 200
    assert client.get("/api/v1/status").status_code == 401


def test_each_request_is_counted_by_view_method_and_status(api, client):
    counted = {"view": "get_story", "method": "GET", "code": "404"}
    before = sample(metrics(client), "http_requests_total", **counted) or 0
    assert api.get("/api/v1/stories/999999999").status_code == 404
    page = metrics(client)
    assert sample(page, "http_requests_total", **counted) == before + 1
    assert sample(page, "http_request_duration_seconds_count", view="get_story") >= 1


def test_probes_are_not_traffic(client):
    client.get("/healthz")
    client.get("/metrics")
    page = metrics(client)
    assert 'view="healthz"' not in page and 'view="metrics"' not in page


def test_cache_lookups_are_counted_per_cache_as_hits_and_misses(client, ada):
    before_miss = sample(metrics(client), "platform_cache_lookups_total", cache="user", result="miss") or 0
    before_hit = sample(metrics(client), "platform_cache_lookups_total", cache="user", result="hit") or 0
    members.get_user(ada.pk)  # a miss, which fills the cache
    members.get_user(ada.pk)  # a hit
    members.get_users([ada.pk])  # a hit
    page = metrics(client)
    assert sample(page, "platform_cache_lookups_total", cache="user", result="miss") == before_miss + 1
    assert sample(page, "platform_cache_lookups_total", cache="user", result="hit") == before_hit + 2


def test_the_outbox_and_each_jobs_last_slot_are_read_when_prometheus_asks(client):
    OutboxMessage.objects.all().delete()
    OutboxMessage.objects.create(task="fanout", kwargs={"story_id": 1})
    OutboxMessage.objects.create(task="fanout", kwargs={"story_id": 2})
    slot = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    JobRun.objects.create(job="heartbeat", slot=slot.replace(minute=1), published_by="cron1")
    JobRun.objects.create(job="heartbeat", slot=slot.replace(minute=2), published_by="cron2")
    page = metrics(client)
    assert sample(page, "platform_state_read_ok") == 1
    assert sample(page, "platform_outbox_waiting") == 2
    assert sample(page, "platform_outbox_oldest_seconds") >= 0
    # The newest slot, and who published it.
    assert (
        sample(page, "jobs_last_slot_timestamp_seconds", published_by="cron2", task="heartbeat") is not None
    )
    assert sample(page, "jobs_last_slot_timestamp_seconds", published_by="cron1", task="heartbeat") is None
