"""web.views.ops: the status page, every tier's state."""

import re

from django.conf import settings

from web.platform_client import platform


def test_the_status_page_shows_every_tier(client):
    data = client.get("/status.json").json()
    assert data["web_node"] == settings.NODE_NAME
    assert set(data["dependencies"]) == {"postgres", "postgres_read_pool", "redis", "rabbitmq"}
    assert all(dep["ok"] for dep in data["dependencies"].values()), data


def test_the_status_page_shows_the_outbox_and_the_dead_letter_queues(client):
    data = client.get("/status.json").json()
    assert set(data["outbox"]) == {"waiting", "oldest_seconds"}
    html = client.get("/status").content.decode()
    assert 'data-testid="outbox"' in html and 'data-testid="outbox-waiting"' in html
    queues = dict(re.findall(r'data-queue="([^"]+)" data-messages="(\d+)"', html))
    work = ["analytics", "clicks", "exports", "jobs"]
    assert {*work, "jobs.dead-letter", "exports.dead-letter", "clicks.dead-letter"} <= set(queues), queues
    assert list(queues)[:4] == work, "work queues first, dead letters after"
    assert 'data-testid="last-runs"' in html and "heartbeat" in html


def queue(name: str, messages: int, consumers: int) -> dict:
    """A queue as the platform's status reports it."""
    return {
        "name": name,
        "messages": messages,
        "messages_ready": messages,
        "messages_unacknowledged": 0,
        "consumers": consumers,
    }


def test_dead_letters_and_an_outbox_backlog_stand_out(client, monkeypatch):
    status = platform.status()
    queues = [queue("jobs", 0, 1), queue("jobs.dead-letter", 3, 0)]
    rabbitmq = {"ok": True, "latency_ms": 1.0, "queues": queues}
    status = {
        **status,
        "outbox": {"waiting": 12, "oldest_seconds": 42.5},
        "dependencies": {**status["dependencies"], "rabbitmq": rabbitmq},
    }
    monkeypatch.setattr(platform, "status", lambda: status)
    html = client.get("/status").content.decode()
    assert 'data-testid="outbox-waiting">12<' in html and 'data-testid="outbox-oldest">42.5 s<' in html
    row = re.search(r'data-queue="jobs.dead-letter".*?</tr>', html, re.S).group(0)
    assert 'class="dead-letter"' in row and '<td class="num down">3</td>' in row


def test_the_status_page_says_when_queue_depths_are_unknown(client, monkeypatch):
    status = platform.status()
    down = {"ok": False, "error": "ConnectionError: refused", "latency_ms": 1.0}
    status = {**status, "dependencies": {**status["dependencies"], "rabbitmq": down}}
    monkeypatch.setattr(platform, "status", lambda: status)
    html = client.get("/status").content.decode()
    assert 'data-testid="queues-unknown"' in html and "ConnectionError: refused" in html
