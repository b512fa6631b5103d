"""No single point of failure in the queue (README: Failover): RabbitMQ runs as three
nodes, and every queue is a quorum queue replicated on all three. Under a Locust load
(load.py), the node leading the fan-out's queue is killed while members post and
click: no request fails, every fan-out completes exactly once, every click is stored
exactly once, and the node rejoins with every queue's replica."""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from load import assert_nothing_failed_or_lost, background_load
from stack import BROKER, Visitor, broken, compose, delivered, followers_of, healthy, unfinished, wait_for

pytestmark = pytest.mark.usefixtures("load_accounts_closed")


def quorum_queues(node: str) -> dict[str, dict]:
    """Each quorum queue's leader and members, as `node` (a live one) sees the cluster."""
    listing = compose(
        "exec", "-T", node, "rabbitmqctl", "--quiet", "list_queues", "name", "type", "leader", "members",
        "--formatter", "json", timeout=60,
    )  # fmt: skip
    return {queue["name"]: queue for queue in json.loads(listing.stdout) if queue["type"] == "quorum"}


@contextmanager
def posting_with_followers(edge: str) -> Iterator[list[int]]:
    """Demo members with followers post a story about every second, from a thread,
    until the block ends; the list holds the ids of the stories acknowledged so far.
    (The load's members have no followers: their fan-outs have nobody to reach.)"""
    authors = [Visitor(edge, load_generator=True).log_in(f"user{n}") for n in (2, 3, 4)]
    posted: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def post() -> None:
        try:
            while not stop.wait(1.0) and len(posted) < 200:
                posted.append(authors[len(posted) % len(authors)].post_story(f"Broker drill {len(posted)}"))
        except BaseException as exc:  # reported by the test, in its own thread
            errors.append(exc)

    thread = threading.Thread(target=post)
    thread.start()
    try:
        yield posted
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not errors, f"a post failed: {errors[0]!r}"


def test_killing_a_rabbitmq_node_under_load_loses_no_message_and_repeats_no_effect(stats, edge):
    """The node that leads the `jobs` queue (the fan-out's: the worst one to lose) is
    killed while members post and click.
    The other two elect new leaders, the clients reconnect to them by themselves, and
    the work goes on while the node is dead: every fan-out completes exactly once,
    every click is stored exactly once, no request fails. Started again, the node
    rejoins and every quorum queue has its three replicas again."""
    before = quorum_queues("rabbitmq1")
    victim = before["jobs"]["leader"].removeprefix("rabbit@")
    survivor = next(node for node in BROKER if node != victim)
    with background_load(stats) as load, posting_with_followers(edge) as posted:
        wait_for(lambda: len(posted) >= 3, timeout=30, what="stories posted before the kill")
        with broken(victim, "kill") as breakage:
            wait_for(
                lambda: quorum_queues(survivor)["jobs"]["leader"] != f"rabbit@{victim}", timeout=60,
                what="a new leader of the jobs queue",
            )  # fmt: skip
            moved_after = time.monotonic() - breakage.broken_at
            # Stories posted after the kill are fanned out while the node is still dead.
            after_kill = len(posted)
            wait_for(lambda: len(posted) >= after_kill + 5, timeout=30, what="stories posted after the kill")
            during = posted[after_kill:]
            wait_for(
                lambda: not unfinished(during), timeout=90, interval=1,
                what=f"the fan-out of the stories posted with {victim} dead",
            )  # fmt: skip
            fanned_out_after = time.monotonic() - breakage.broken_at
            breakage.mend()
            wait_for(lambda: healthy(victim), timeout=120, what=f"{victim} healthy again")
    stories = list(posted)
    wait_for(lambda: not unfinished(stories), timeout=120, interval=1, what="every fan-out")
    twice = [story for story in stories if delivered(story) != (followers_of(story),) * 2]
    assert not twice, f"stories whose fan-out reached someone twice or not at all: {twice}"
    wait_for(
        lambda: all(len(queue["members"]) == len(BROKER) for queue in quorum_queues(victim).values()),
        timeout=120, interval=2, what=f"every quorum queue with a replica on {victim} again",
    )  # fmt: skip
    print(
        f"\nkill {victim} (leader of jobs) under load: {load['requests']} requests, {load['failures']} "
        f"failed; jobs led by another node {moved_after:.1f}s after the kill, the fan-outs posted "
        f"meanwhile done {fanned_out_after:.1f}s after it; {len(stories)} stories, each fanned out once"
    )
    assert_nothing_failed_or_lost(load)
