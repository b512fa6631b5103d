"""web.views.ops: the status page, every tier's state: states and figures for anyone,
every detail for operators."""

import re
import threading
import time

import pytest
from django.conf import settings

from web.platform_client import PlatformUnavailable, platform
from web.views import ops

# What only operators see: names of fields that hold versions, addresses, WAL positions
# and the raw text of errors.
DETAILS = {"version", "wal_position", "replayed", "address", "error_message", "name"}


@pytest.fixture(autouse=True)
def fresh_status(monkeypatch):
    """Each test starts with no status kept yet in this process (it keeps one for a second)."""
    monkeypatch.setattr(ops, "public_status", ops._OncePerLifetime(ops.ask_platform, ops.STATUS_LIFETIME))


@pytest.fixture
def asked(monkeypatch) -> list[float]:
    """When this process asked the platform for its status, each time."""
    times: list[float] = []
    status = platform.status

    def counted() -> dict:
        times.append(time.monotonic())
        return status()

    monkeypatch.setattr(platform, "status", counted)
    return times


def keys(data, parent: str = "") -> set[str]:
    """Every key of a JSON document, at any depth (a queue's `name` aside: those are
    the names of queues, not of servers)."""
    if isinstance(data, dict):
        found = {key for key in data if not (key == "name" and parent == "queues")}
        return found | {key for name, value in data.items() for key in keys(value, name)}
    if isinstance(data, list):
        return {key for item in data for key in keys(item, parent)}
    return set()


def test_the_status_page_shows_every_tier(client):
    data = client.get("/status.json").json()
    assert data["web_node"] == settings.NODE_NAME
    assert set(data["dependencies"]) == {"postgres", "postgres_read_pool", "redis", "rabbitmq"}
    assert all(dep["ok"] for dep in data["dependencies"].values()), data


def test_anyone_sees_states_and_figures_and_nothing_for_operators_only(client):
    response = client.get("/status.json")
    data = response.json()
    assert {name: dep["ok"] for name, dep in data["dependencies"].items()} == dict.fromkeys(
        data["dependencies"], True
    )
    assert all(isinstance(dep["latency_ms"], float) for dep in data["dependencies"].values())
    assert data["dependencies"]["postgres"]["replicas"][0]["state"] == "streaming"
    assert data["platform_client"]["mode"] == "balancer"
    assert not keys(data) & DETAILS, keys(data) & DETAILS
    assert "platform-lb" not in response.content.decode(), "no address"
    html = client.get("/status").content.decode()
    assert 'data-testid="status-view" data-detail="false"' in html
    assert "PostgreSQL (primary)" in html and "platform-lb" not in html


def test_two_hits_within_a_second_ask_the_platform_once(client, asked):
    first = client.get("/status.json").json()
    second = client.get("/status").content.decode()
    assert len(asked) == 1
    assert first["computed_at"] in second, "the same status"


def test_a_status_older_than_a_second_is_asked_again(client, asked, monkeypatch):
    client.get("/status.json")
    later = time.monotonic() + ops.STATUS_LIFETIME
    monkeypatch.setattr(ops.time, "monotonic", lambda: later)
    client.get("/status.json")
    assert len(asked) == 2


def test_callers_waiting_for_a_platform_that_fails_share_the_failure(monkeypatch):
    """A platform that does not answer costs the callers waiting one timeout, not one
    each; the next caller asks again."""
    tries: list[float] = []

    def unavailable() -> dict:
        tries.append(time.monotonic())
        time.sleep(0.2)  # the platform's timeout, shortened
        raise PlatformUnavailable("GET /api/v1/status: read timed out")

    monkeypatch.setattr(platform, "status", unavailable)
    failures: list[Exception] = []

    def ask() -> None:
        try:
            ops.public_status()
        except PlatformUnavailable as failure:
            failures.append(failure)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(failures), len(tries)) == (4, 1)
    with pytest.raises(PlatformUnavailable):
        ops.public_status()
    assert len(tries) == 2, "a failure is not kept for later callers"


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
    down = {"ok": False, "error": "unreachable", "latency_ms": 1.0, "queues": None}
    status = {**status, "dependencies": {**status["dependencies"], "rabbitmq": down}}
    monkeypatch.setattr(platform, "status", lambda: status)
    html = client.get("/status").content.decode()
    assert 'data-testid="queues-unknown"' in html
    assert 'data-testid="dependency-error">unreachable<' in html


@pytest.mark.parametrize("path", ["/status/detail", "/status/detail.json"])
def test_the_detail_is_refused_to_a_visitor(client, path):
    response = client.get(path)
    assert response.status_code == 403
    assert b"Log in with an operator" in response.content


def test_the_detail_is_refused_to_a_member_who_is_not_an_operator(member, login):
    """The platform says who is an operator: a 403 page with its reason."""
    response = login(member).get("/status/detail")
    assert response.status_code == 403
    assert b"Only an operator may see the detailed status." in response.content


def test_an_operator_sees_every_detail(member, login, monkeypatch):
    """(Who is an operator is the platform's to say: news.operators, tested there. Here
    the platform answers for an operator as it would.)"""
    asked_for = []
    status = platform.status()
    postgres = {
        **status["dependencies"]["postgres"],
        "version": "17.5 (Debian 17.5-1)",
        "wal_position": "0/3A00F1C8",
        "replicas": [
            {
                "name": "postgres2",
                "state": "streaming",
                "sync_state": "quorum",
                "replayed": "0/3A00F1C8",
                "behind_bytes": 0,
            }
        ],
    }
    redis = {
        "ok": False,
        "error": "unreachable",
        "error_message": "ConnectionError: Error 111 connecting to redis:6379.",
    }
    detail = {**status, "dependencies": {**status["dependencies"], "postgres": postgres, "redis": redis}}

    def status_detail(acting) -> dict:
        asked_for.append(acting.id)
        return detail

    monkeypatch.setattr(platform, "status_detail", status_detail)
    client = login(member)
    html = client.get("/status/detail").content.decode()
    assert asked_for == [member["id"]], "asked for the logged-in member"
    assert 'data-testid="status-view" data-detail="true"' in html
    assert "PostgreSQL 17.5 (Debian 17.5-1) (primary), WAL at <code>0/3A00F1C8</code>" in html
    assert "replica <code>postgres2</code>" in html
    assert "streaming (quorum)" in html
    assert (
        'data-testid="dependency-error-message">ConnectionError: Error 111 connecting to redis:6379.<' in html
    )
    assert "platform-lb:9000" in html, "how this node reaches the platform"
    data = client.get("/status/detail.json").json()
    assert data["platform_client"]["address"] == "http://platform-lb:9000"
    assert data["dependencies"]["postgres"]["version"] == "17.5 (Debian 17.5-1)"


def test_readiness_names_no_address(client, monkeypatch):
    def unavailable(*args, **kwargs):
        raise PlatformUnavailable("GET /readyz: HTTPConnectionPool(host='platform-lb', port=9000): refused")

    monkeypatch.setattr(platform, "get", unavailable)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"ready": False, "platform": "unavailable"}
