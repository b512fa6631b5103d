"""The read and write pools (platform_layer.db): which query goes where.

The `replica` alias reaches the test database through the real read pool (the
replica copies it from the primary); the whole-stack tests/test_replica.py watches a lagging replica.
"""

import time

import pytest
from django.db import OperationalError, connections, transaction

from idempotency.models import KeptAnswer
from news import members, stories
from news.cache import cache
from news.models import Story
from platform_layer import db


@pytest.fixture
def reads():
    """Serve a GET's reads: the policy ReadPoolMiddleware sets for one."""

    def start(read_after: int | None = None) -> db._Reads:
        policy = db._Reads(safe=True, replica_allowed=True, read_after=read_after)
        tokens.append(db._reads.set(policy))
        return policy

    tokens = []
    yield start
    for token in reversed(tokens):
        db._reads.reset(token)


@pytest.fixture(autouse=True)
def fresh_pools(monkeypatch):
    monkeypatch.setattr(db, "read_pool", db._Cooldown(db.COOLDOWN_SECONDS))
    monkeypatch.setattr(db, "primary", db._Cooldown(db.PRIMARY_COOLDOWN_SECONDS))


def route() -> str:
    return db.ReadPoolRouter().db_for_read(Story)


def test_the_replica_is_configured_as_the_read_pool(settings):
    assert settings.DATABASES["replica"]["PORT"] != settings.DATABASES["default"]["PORT"]
    assert settings.DATABASES["replica"]["TEST"]["MIRROR"] == "default"


@pytest.mark.parametrize(
    ("text", "position"),
    [("0/16B3748", 0x16B3748), ("16/b374d848", 0x16_B374D848), ("FFFFFFFF/FFFFFFFF", 2**64 - 1)],
)
def test_a_wal_position_reads_as_a_number(text, position):
    assert db.parse_lsn(text) == position


@pytest.mark.parametrize("text", ["", "16", "16/", "/1", "0x16/1", "123456789/0", "1/2/3", "1/2 x"])
def test_anything_else_is_not_a_wal_position(text):
    assert db.parse_lsn(text) is None


def test_outside_a_request_every_read_goes_to_the_primary():
    """Consumers, the relay and commands: no read policy, the primary only."""
    assert route() == db.PRIMARY


@pytest.mark.django_db(transaction=True)  # no test transaction around it
def test_a_gets_reads_go_to_the_read_pool(reads):
    reads()
    assert route() == db.REPLICA


@pytest.mark.django_db(transaction=True)  # no test transaction around it
def test_a_read_inside_a_transaction_on_the_primary_stays_there(reads):
    reads()
    with transaction.atomic():
        assert route() == db.PRIMARY
    assert route() == db.REPLICA


@pytest.mark.django_db(transaction=True)  # no test transaction around it
def test_after_a_read_pool_failure_reads_go_to_the_primary_for_a_while(reads, monkeypatch):
    db.read_pool.failed()
    reads()
    assert route() == db.PRIMARY
    monkeypatch.setattr(db.read_pool, "skip_until", 0.0)
    assert route() == db.REPLICA


@pytest.mark.django_db(transaction=True)  # no test transaction around it
def test_a_write_not_yet_replayed_sends_the_reads_to_the_primary(reads, monkeypatch):
    """The replica says how far it has replayed; a later write is read on the primary."""
    monkeypatch.setattr(db, "has_replayed", lambda position: position <= 100)
    reads(read_after=101)
    assert route() == db.PRIMARY
    reads(read_after=100)
    assert route() == db.REPLICA


@pytest.mark.django_db(transaction=True)  # no test transaction around it
def test_a_read_that_must_see_a_later_write_goes_to_the_primary_until_it_is_replayed(reads, monkeypatch):
    """A search must see the latest story write (news.stories.search); the request's
    other reads are not held back by it."""
    monkeypatch.setattr(db, "has_replayed", lambda position: position <= 100)
    reads()
    assert db.read_alias(after=101) == db.PRIMARY
    assert db.read_alias(after=100) == db.REPLICA
    assert route() == db.REPLICA


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_a_position_seen_replayed_needs_no_question_on_the_same_connection(reads, monkeypatch):
    """Asked once on a connection, the replica it reached is not asked again for an
    earlier position; a new connection (perhaps to another replica) is asked again."""
    assert db.has_replayed(db.parse_lsn("0/1"))
    asked = []
    cursor = connections[db.REPLICA].cursor
    monkeypatch.setattr(connections[db.REPLICA], "cursor", lambda: asked.append(1) or cursor())
    reads(read_after=db.parse_lsn("0/1"))
    assert route() == db.REPLICA
    assert asked == []
    connections[db.REPLICA].close()
    assert db.has_replayed(db.parse_lsn("0/1"))
    assert asked == [1]


@pytest.mark.django_db(databases=["default", "replica"])
def test_the_replica_says_how_far_it_has_replayed():
    """Through the real read pool: the primary's current position is replayed within
    moments; a position far ahead is not."""
    assert not db.has_replayed(db.parse_lsn("FFFFFFFF/0"))
    with connections[db.PRIMARY].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        now = db.parse_lsn(cursor.fetchone()[0])
    deadline = time.monotonic() + 10
    while not db.has_replayed(now):
        assert time.monotonic() < deadline, "the replica did not replay the primary's position in 10 s"
        time.sleep(0.05)


@pytest.mark.django_db
def test_a_write_answers_with_its_wal_position(api):
    response = api.post(
        "/api/v1/users", {"username": "lsn", "password": "pw-123456", "name": "L"}, "application/json"
    )
    assert response.status_code == 201
    written = db.parse_lsn(response.headers[db.WRITTEN_HEADER])
    with connections[db.PRIMARY].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        assert written <= db.parse_lsn(cursor.fetchone()[0])


@pytest.mark.django_db
def test_a_refused_write_and_a_read_carry_no_wal_position(api):
    refused = api.post("/api/v1/users", {"username": ""}, "application/json")
    assert refused.status_code == 400
    assert db.WRITTEN_HEADER not in refused.headers
    assert db.WRITTEN_HEADER not in api.get("/api/v1/stories").headers


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
@pytest.mark.parametrize(("read_after", "read_from"), [("0/1", db.REPLICA), ("FFFFFFFF/0", db.PRIMARY)])
def test_a_read_after_position_chooses_the_pool(api, monkeypatch, read_after, read_from):
    """Through the middleware and the real read pool: a position the replica has
    replayed long ago is read on the replica; one it has not reached, on the primary."""
    routes = []

    def newest(limit: int, offset: int):
        routes.append(route())
        return [], False

    monkeypatch.setattr(stories, "newest", newest)
    response = api.get("/api/v1/stories", HTTP_X_READ_AFTER_LSN=read_after)
    assert response.status_code == 200
    assert routes == [read_from]


@pytest.mark.parametrize("bad", ["yesterday", "0/1; DROP", "1/2/3", "\x00"])
@pytest.mark.django_db
def test_a_malformed_read_after_position_is_a_400(api, bad):
    response = api.get("/api/v1/stories", HTTP_X_READ_AFTER_LSN=bad)
    assert response.status_code == 400
    assert "X-Read-After-LSN" in response.json()["detail"]


@pytest.mark.django_db(transaction=True)  # no test transaction around it
def test_a_get_whose_read_pool_fails_is_answered_from_the_primary(api, monkeypatch):
    """The replica dies under a request: the request runs again, reading the primary."""
    routes = []

    def newest(limit: int, offset: int):
        routes.append(route())
        if routes[-1] == db.REPLICA:
            raise OperationalError("server closed the connection unexpectedly")
        return [], False

    monkeypatch.setattr(stories, "newest", newest)
    response = api.get("/api/v1/stories")
    assert response.status_code == 200
    assert routes == [db.REPLICA, db.PRIMARY]
    assert not db.read_pool.usable()


@pytest.mark.django_db
def test_a_write_is_never_run_twice_and_a_dead_database_is_a_503(api, monkeypatch):
    calls = []

    def create_user(*args, **kwargs):
        calls.append(route())
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(members, "create_user", create_user)
    body = {"username": "once", "password": "pw-123456", "name": "O"}
    response = api.post("/api/v1/users", body, "application/json")
    assert calls == [db.PRIMARY]
    assert response.status_code == 503
    assert "database is unavailable" in response.json()["detail"]
    assert response["Retry-After"] == str(db.RETRY_AFTER_SECONDS)


@pytest.mark.django_db(transaction=True)
def test_a_get_failing_on_both_pools_is_a_503_with_a_retry_after(api, monkeypatch):
    routes = []

    def newest(limit: int, offset: int):
        routes.append(route())
        raise OperationalError("connection refused")

    monkeypatch.setattr(stories, "newest", newest)
    monkeypatch.setattr(db, "READ_POOL_RETRY_PAUSE", 0.0)
    response = api.get("/api/v1/stories")
    assert routes == [db.REPLICA, db.PRIMARY, db.REPLICA, db.REPLICA]
    assert response.status_code == 503
    assert response["Retry-After"] == str(db.RETRY_AFTER_SECONDS)


@pytest.mark.django_db(transaction=True)  # no test transaction around it
def test_a_get_whose_primary_fails_is_answered_from_the_read_pool_and_fills_no_cache(api, monkeypatch):
    """The primary dies under a GET (until a replica is promoted, the write pool has no
    member): the GET runs again with every read on the read pool, those that would
    fill a cache included, and fills none; for a moment, the next GETs start there."""
    seen = []

    def newest(limit: int, offset: int):
        seen.append((db.fresh_alias(), db.caching_allowed()))
        if seen[-1][0] == db.PRIMARY:
            raise OperationalError("server closed the connection unexpectedly")
        return [], False

    monkeypatch.setattr(stories, "newest", newest)
    assert api.get("/api/v1/stories").status_code == 200
    assert seen == [(db.PRIMARY, True), (db.REPLICA, False)]
    assert not db.primary.usable()
    assert api.get("/api/v1/stories").status_code == 200
    assert seen[2:] == [(db.REPLICA, False)]


@pytest.mark.django_db(transaction=True)  # no test transaction around it
def test_nothing_read_without_the_primary_reaches_the_cache(reads):
    """A record read from a replica in the primary's place is served, not cached."""
    reads().without_primary = True
    key = f"test.{time.monotonic_ns()}"
    cache.set(key, {"id": 1}, 60)
    cache.set_if_newer(key, {"id": 1, "version": 1}, 60)
    cache.add(key, 1, 60)
    cache.set_many_if_newer({key: {"id": 1, "version": 1}}, 60)
    assert cache.client.get(key) is None


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_a_click_changes_no_row_so_it_reads_as_a_get_and_keeps_no_answer(api, monkeypatch):
    """A click through is a write of an event, not of a row (ROWLESS_WRITES): its reads
    go to the read pool, it is answered without the primary when the primary fails, and
    no answer is kept for its key in Postgres (the event's id, made from it, is enough)."""
    author = members.create_user("clicked_author", "pw-123456", "C")
    story = stories.create_story(author["id"], "Clicked through", "https://example.com/through", "")
    seen = []
    record = stories.record_click

    def record_click(*args, **kwargs):
        seen.append(route())
        if seen[-1] == db.PRIMARY or len(seen) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return record(*args, **kwargs)

    monkeypatch.setattr(stories, "record_click", record_click)
    response = api.post(
        f"/api/v1/stories/{story['id']}/clicks", {"referrer_domain": "", "visitor": ""}, "application/json",
        HTTP_IDEMPOTENCY_KEY="click-1",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["url"] == "https://example.com/through"
    assert seen == [db.REPLICA, db.PRIMARY, db.REPLICA]
    assert not KeptAnswer.objects.exists()
    assert db.WRITTEN_HEADER not in response.headers
