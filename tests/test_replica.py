"""Load balancing, layer 3: streaming replicas serve the read pool.

Two of the three Postgres members are replicas of the third (which ones changes on a
failover: test_database_failover.py). Pausing their replay makes their lag as large as
we like: anyone reading a member's page from the read pool sees it as it was, while
the member sees their own new story at once (their reads follow their write)."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from load import pool
from stack import Visitor, broken, primary, psql, replicas, wait_for


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
    """The replicas still receive the primary's WAL, but apply none of it."""
    paused = replicas()
    for replica in paused:
        psql("SELECT pg_wal_replay_pause()", member=replica)
    try:
        yield
    finally:
        for replica in paused:
            psql("SELECT pg_wal_replay_resume()", member=replica)


@pytest.fixture
def author(edge) -> tuple[Visitor, str]:
    username = f"writer_{uuid.uuid4().hex[:10]}"
    return Visitor(edge).sign_up(username), username


def test_two_replicas_stream_from_the_primary_and_serve_the_read_pool(edge, operator):
    """Each acknowledges commits in the quorum (a commit waits for one of them)."""
    primary_status, read_pool = database(edge)
    assert [(r["state"], r["sync_state"]) for r in primary_status["replicas"]] == [
        ("streaming", "quorum")
    ] * 2
    assert read_pool["ok"] and read_pool["served_by"] == "replica", read_pool
    names = [replica["name"] for replica in database_in_detail(operator)[0]["replicas"]]
    assert names == replicas() and primary() not in names
    assert [psql("SELECT pg_is_in_recovery()", member=replica) for replica in names] == ["t", "t"]


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
        lambda: all(replica["behind_bytes"] == 0 for replica in database(edge)[0]["replicas"]),
        timeout=30, what="no lag once idle",
    )  # fmt: skip
    wait_for(lambda: database(edge)[1]["replay_lag_ms"] == 0, timeout=30, what="no lag in time either")


def lsn(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def test_a_replica_that_was_down_replays_what_it_missed(edge, author):
    """While it is away, the other replica serves the read pool, and its replication
    slot on the primary keeps the WAL it misses: once back, it replays it and returns
    to the read pool."""
    writer, username = author
    title = f"Written while a replica was down {uuid.uuid4().hex[:8]}"
    away = replicas()[0]
    with broken(away, "stop") as stopped:
        wait_for(lambda: pool("db-lb", "read_pool")[away].startswith("DOWN"), timeout=30, what=f"{away} out")
        assert database(edge)[1].get("served_by") == "replica", "the other replica serves the reads"
        writer.post_story(title)
        missed = lsn(psql("SELECT pg_current_wal_lsn()"))
        stopped.mend()
        wait_for(
            lambda: pool("db-lb", "read_pool")[away] == "UP", timeout=120, what=f"{away} back in the pool"
        )
    replayed = wait_for(
        lambda: (position := lsn(psql("SELECT pg_last_wal_replay_lsn()", member=away))) >= missed
        and position,
        timeout=60,
        what=f"{away} to replay what it missed",
    )
    print(f"\n{away} back: replayed to {replayed:X}, past {missed:X} written while it was down")
    assert title in Visitor(edge).get(f"/u/{username}").text


def test_with_no_replica_left_reads_go_to_the_primary_and_writes_go_on(edge, author):
    """The read pool's backup is the primary. And the replication is synchronous only
    while a replica can acknowledge: with none left, Patroni stops waiting for one
    (synchronous_mode not strict), so writes go on, unprotected, rather than stop."""
    writer, username = author
    title = f"Written with no replica {uuid.uuid4().hex[:8]}"
    with broken(tuple(replicas()), "stop") as stopped:
        wait_for(
            lambda: database(edge)[1].get("served_by") == "primary", timeout=30, what="reads on the primary"
        )
        writer.post_story(title)
        assert title in Visitor(edge).get(f"/u/{username}").text
        stopped.mend()
        wait_for(
            lambda: database(edge)[1].get("served_by") == "replica", timeout=120, what="the replicas back"
        )
    wait_for(
        lambda: [r["sync_state"] for r in database(edge)[0]["replicas"]] == ["quorum"] * 2,
        timeout=60, what="both replicas in the quorum again",
    )  # fmt: skip
