"""Load balancing, layer 3: a streaming replica serves the read pool.

Pausing the replica's replay makes its lag as large as we like: anyone reading a
member's page from the read pool sees it as it was, while the member sees their own
new story at once (their reads follow their write to the primary)."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from stack import Visitor, broken, compose, psql, wait_for


def replica_sql(sql: str) -> str:
    return compose(
        "exec", "-T", "postgres-replica", "sh", "-c",
        'psql -v ON_ERROR_STOP=1 -qtA -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "$0"', sql,
    ).stdout.strip()  # fmt: skip


def database(edge: str) -> tuple[dict, dict]:
    """The primary (with its replicas) and the read pool, as the platform reports them
    to anyone: states and lags (at most a second or two old)."""
    dependencies = requests.get(f"{edge}/status.json", timeout=15).json()["dependencies"]
    return dependencies["postgres"], dependencies["postgres_read_pool"]


def database_in_detail(operator: Visitor) -> tuple[dict, dict]:
    """The same, as an operator sees it: names and WAL positions too."""
    dependencies = operator.get("/status/detail.json").json()["dependencies"]
    return dependencies["postgres"], dependencies["postgres_read_pool"]


@contextmanager
def replay_paused() -> Iterator[None]:
    """The replica still receives the primary's WAL, but applies none of it."""
    replica_sql("SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        replica_sql("SELECT pg_wal_replay_resume()")


@pytest.fixture
def author(edge) -> tuple[Visitor, str]:
    username = f"writer_{uuid.uuid4().hex[:10]}"
    return Visitor(edge).sign_up(username), username


def test_the_replica_streams_from_the_primary_and_serves_the_read_pool(edge, operator):
    primary, read_pool = database(edge)
    assert [replica["state"] for replica in primary["replicas"]] == ["streaming"], primary
    assert read_pool["ok"] and read_pool["served_by"] == "replica", read_pool
    assert [replica["name"] for replica in database_in_detail(operator)[0]["replicas"]] == ["replica1"]
    assert replica_sql("SELECT pg_is_in_recovery()") == "t"


def test_a_lagging_replica_serves_stale_reads_but_a_member_sees_their_own_writes(edge, author):
    writer, username = author
    anonymous = Visitor(edge)
    title = f"Written while the replica waits {uuid.uuid4().hex[:8]}"
    wait_for(lambda: anonymous.get(f"/u/{username}").ok, timeout=30, what="the new member on the replica")
    with replay_paused():
        writer.post_story(title)
        # The writer's next pages read at least their write: from the primary.
        assert title in writer.get(f"/u/{username}").text
        assert title in writer.get("/").text  # their home timeline
        # Anyone else reads the member's stories from the replica, which has not replayed it.
        stale = anonymous.get(f"/u/{username}")
        assert stale.status_code == 200 and 'data-testid="no-stories"' in stale.text, "no story yet"
        # (the status is at most a second old on each tier)
        primary, read_pool = wait_for(
            lambda: (found := database(edge))[0]["replicas"][0]["behind_bytes"]
            and found[1]["replay_paused"]
            and found,
            timeout=10,
            what="the status to show the replica behind, its replay paused",
        )
        behind = primary["replicas"][0]["behind_bytes"]
        print(f"\nreplica paused: {behind} bytes behind the primary")
        assert behind > 0 and read_pool["replay_paused"] is True, (primary, read_pool)
        # The lag in time keeps growing while the replay waits (it is not the last lag measured).
        first = read_pool["replay_lag_ms"]
        assert first > 0, read_pool
        wait_for(lambda: database(edge)[1]["replay_lag_ms"] > first, timeout=10, what="the lag to grow")
    # Replay resumes: the replica catches up, and everyone sees the story.
    wait_for(
        lambda: title in anonymous.get(f"/u/{username}").text, timeout=30, what="the replica to catch up"
    )
    wait_for(
        lambda: database(edge)[0]["replicas"][0]["behind_bytes"] == 0, timeout=30, what="no lag once idle"
    )
    wait_for(lambda: database(edge)[1]["replay_lag_ms"] == 0, timeout=30, what="no lag in time either")


def lsn(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def test_a_replica_that_was_down_replays_what_it_missed(edge, author, operator):
    """Its replication slot kept the WAL written while it was away: once back, it
    replays it, and the read pool serves the stories posted meanwhile (the positions,
    on the operators' status)."""
    writer, username = author
    title = f"Written while the replica was down {uuid.uuid4().hex[:8]}"
    with broken("postgres-replica", "stop") as stopped:
        # (while HAProxy moves the read pool to its backup, the read pool may not answer at all)
        wait_for(
            lambda: database(edge)[1].get("served_by") == "primary", timeout=30, what="reads on the primary"
        )
        writer.post_story(title)
        missed = lsn(psql("SELECT pg_current_wal_lsn()"))
        stopped.mend()
        wait_for(
            lambda: database(edge)[1].get("served_by") == "replica", timeout=120, what="the replica back"
        )
    replayed = wait_for(
        lambda: (pool := database_in_detail(operator)[1]).get("replayed")
        and lsn(pool["replayed"]) >= missed
        and pool,
        timeout=60,
        what="the replica to replay what it missed",
    )
    print(f"\nreplica back: replayed to {replayed['replayed']}, past {missed:X} written while it was down")
    # Someone else's reads come from the replica again, and it has the story.
    assert title in Visitor(edge).get(f"/u/{username}").text
