"""Web node tests, run inside the web image against the stack's real platform pool."""

import re

import pytest
from django.conf import settings
from django.test import RequestFactory

from web import errors
from web.platform_client import platform
from web.platform_nodes import Balancer


def test_home_lists_stories_from_the_platform(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="story"') == 20, "a full first page of demo stories"
    assert response["X-Served-By"] == settings.NODE_NAME
    assert re.search(r'data-testid="platform-node">platform\d', html)


def test_pages_link_hashed_assets_on_the_cdn_host(client):
    html = client.get("/").content.decode()
    assert re.search(re.escape(settings.STATIC_URL) + r"web/site\.[0-9a-f]{12}\.css", html)


@pytest.mark.parametrize("page", ["0", "-1", "x", "501", "1e3", "２"])
def test_a_bad_page_number_is_a_400_with_a_message(client, page):
    response = client.get("/", {"page": page})
    assert response.status_code == 400
    assert b"whole number" in response.content


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
    assert {"jobs", "clicks", "jobs.dead-letter", "clicks.dead-letter"} <= set(queues), queues
    assert list(queues)[:2] == ["clicks", "jobs"], "work queues first, dead letters after"
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


def test_a_dead_platform_pool_is_a_503_page_not_a_crash(client, monkeypatch):
    monkeypatch.setattr(platform, "nodes", Balancer("http://127.0.0.1:1"))
    response = client.get("/")
    assert response.status_code == 503
    assert b"Platform unavailable" in response.content
    assert client.get("/healthz").status_code == 200, "liveness does not depend on the platform"
    assert client.get("/readyz").status_code == 503, "readiness does"


def test_a_dead_platform_pool_is_a_503_json_error_on_the_public_api(client, monkeypatch):
    monkeypatch.setattr(platform, "nodes", Balancer("http://127.0.0.1:1"))
    response = client.get("/api/stories")
    assert response.status_code == 503
    assert response.json()["error"] == "Platform unavailable"


def test_the_500_page_needs_neither_the_request_nor_the_platform(monkeypatch):
    monkeypatch.setattr(platform, "nodes", Balancer("http://127.0.0.1:1"))
    response = errors.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert b"Something went wrong" in response.content
    assert settings.NODE_NAME.encode() in response.content


def test_unknown_pages_are_404_pages_in_the_site_template(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert b'data-testid="web-node"' in response.content


def test_the_header_offers_log_in_to_visitors(client):
    html = client.get("/newest").content.decode()
    assert 'data-testid="nav-login"' in html and 'data-testid="nav-signup"' in html
    assert 'data-testid="nav-search"' in html
