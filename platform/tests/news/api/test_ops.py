"""news.api.ops: the status a dashboard draws."""

import pytest

from jobs.models import JobRun

pytestmark = pytest.mark.django_db


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
