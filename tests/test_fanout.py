"""Do enough inline, tie up loose ends later: posting writes the story and the
author's own timeline at once; the followers' timelines are filled by the fan-out
consumer. Nothing is lost, nothing is done twice: not when the consumer is killed
in the middle of a fan-out, nor when RabbitMQ (all three nodes) restarts or is down."""

import re
import subprocess
import threading
import time
import uuid
from contextlib import ExitStack

import requests

from stack import (
    BROKER,
    Visitor,
    broken,
    compose,
    compose_command,
    delivered,
    followers_of,
    healthy,
    primary,
    psql,
    unfinished,
    wait_for,
)

CELEBRITY = "user1"  # followed by most of the demo world's 10,000 members


def test_a_post_is_on_the_authors_timeline_at_once_and_reaches_every_follower(edge):
    author = Visitor(edge).log_in("user30")
    story_id = author.post_story(f"Fan-out {uuid.uuid4().hex[:6]}")
    assert f'data-story-id="{story_id}"' in author.get("/").text, "the author's own timeline, inline"
    wait_for(lambda: not unfinished([story_id]), timeout=60, what="the fan-out to every follower")


def test_a_consumer_killed_in_the_middle_of_a_large_fan_out_finishes_it_exactly_once(edge):
    """The fan-out of a celebrity's story is stopped half-way, deterministically: the
    test holds a row lock on one follower in the middle, so the consumer commits the
    batches before that follower and then waits. It is killed while waiting, and
    restarted; the redelivered message completes the fan-out, nobody twice."""
    followers = [
        int(i)
        for i in psql(
            f"SELECT follower_id FROM news_follow f JOIN news_user u ON u.id = f.followee_id "
            f"WHERE u.username = '{CELEBRITY}' ORDER BY follower_id"
        ).split()
    ]
    assert len(followers) > 5000, "the demo world's celebrity has thousands of followers"
    blocker = followers[len(followers) // 2]
    lock = subprocess.Popen(
        compose_command(
            "exec", "-T", primary(), "sh", "-c", 'psql -qAt -U "$POSTGRES_USER" -d "$POSTGRES_DB"'
        ),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    with ExitStack() as mend:  # the consumer is started again whatever happens
        try:
            lock.stdin.write(f"BEGIN; SELECT id FROM news_user WHERE id = {blocker} FOR UPDATE;\n")
            lock.stdin.flush()
            assert lock.stdout.readline().strip() == str(blocker), "the test holds the lock"

            started = time.monotonic()
            story_id = Visitor(edge).log_in(CELEBRITY).post_story(f"Celebrity news {uuid.uuid4().hex[:6]}")
            posted_in = time.monotonic() - started
            # Django's foreign keys are checked at commit (DEFERRABLE INITIALLY DEFERRED):
            # the consumer waits on the lock in the COMMIT of the blocker's batch.
            waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            wait_for(
                lambda: psql(waiting) != "0", timeout=60, what="the fan-out to reach the locked follower"
            )
            killed = mend.enter_context(broken("consumer", "kill"))
        finally:
            lock.communicate("ROLLBACK;\n", timeout=30)
        half_way, _ = delivered(story_id)
        total = followers_of(story_id)
        print(f"\npost by {CELEBRITY} ({total} followers): {posted_in:.2f}s; killed at {half_way}/{total}")
        assert 0 < half_way < total, "the consumer was killed in the middle of the fan-out"
        killed.mend()
    wait_for(lambda: not unfinished([story_id]), timeout=120, interval=1, what="the fan-out to finish")
    assert delivered(story_id) == (total, total), "every follower has the story exactly once"
    # Shown, not only guaranteed by the unique index: the redelivered message ran the
    # fan-out again from the start, and the entries written before the kill were skipped.
    logs = compose("logs", "--no-color", "consumer").stdout
    absorbed = re.search(rf"fan-out of story {story_id}: (\d+) entries written, (\d+) already there", logs)
    assert absorbed, "the consumer reported its rerun"
    assert int(absorbed[2]) >= half_way > 0 and int(absorbed[1]) == total - int(absorbed[2])
    wait_for(lambda: healthy("consumer"), timeout=120, what="the consumer healthy again")


def test_posting_while_rabbitmq_restarts_loses_no_fan_out(edge):
    """Posts go on while the whole broker (its three nodes at once) restarts: every one
    succeeds (the fan-out message waits in the outbox), and every story reaches every
    follower once it is back."""
    authors = [Visitor(edge).log_in(f"user{n}") for n in (40, 41, 42)]
    restart = threading.Thread(target=compose, args=("restart", *BROKER), kwargs={"timeout": 120})
    story_ids: list[int] = []
    deadline = time.monotonic() + 90
    restart.start()
    while (
        (restart.is_alive() or len(story_ids) < 30) and time.monotonic() < deadline and len(story_ids) < 200
    ):
        author = authors[len(story_ids) % len(authors)]
        story_ids.append(author.post_story(f"During the restart {len(story_ids)}"))
    restart.join(timeout=120)
    assert not restart.is_alive(), "RabbitMQ restarted"
    print(f"\n{len(story_ids)} stories posted while RabbitMQ restarted, none refused")
    wait_for(
        lambda: not unfinished(story_ids), timeout=180, interval=2, what="every fan-out after the restart"
    )
    wait_for(lambda: healthy(*BROKER, "relay", "consumer"), timeout=120, what="the queue tier healthy again")


def test_with_rabbitmq_down_posting_succeeds_and_the_fan_out_follows_its_return(edge):
    author = Visitor(edge).log_in("user43")
    with broken(BROKER, "stop"):
        story_id = author.post_story("Posted while the broker is down")
        wait_for(  # (the status is at most a second old on each tier)
            lambda: requests.get(f"{edge}/status.json", timeout=15).json()["outbox"]["waiting"] >= 1,
            timeout=10,
            what="the fan-out message waiting in the outbox, on /status",
        )
        assert unfinished([story_id]) == [story_id]
    wait_for(
        lambda: not unfinished([story_id]), timeout=180, interval=2, what="the fan-out once RabbitMQ is back"
    )
    wait_for(lambda: healthy(*BROKER, "relay", "consumer"), timeout=120, what="the queue tier healthy again")


def test_with_rabbitmq_paused_posting_succeeds_and_the_fan_out_follows(edge):
    """A paused broker accepts connections and answers nothing: posting does not wait
    for it (the fan-out message waits in the outbox), and the relay publishes once it
    answers again."""
    author = Visitor(edge).log_in("user44")
    with broken(BROKER, "pause"):
        story_ids = [author.post_story(f"Posted while the broker is frozen {i}") for i in range(3)]
        assert unfinished(story_ids) == story_ids
    wait_for(lambda: not unfinished(story_ids), timeout=180, interval=2, what="every fan-out after the pause")


def test_with_the_relay_dead_posts_wait_in_the_outbox_and_are_fanned_out_once_after(edge):
    """The relay is one container, and its loss only delays the fan-out: the messages
    wait in Postgres (the outbox, on /status) and, once it is back, are published and
    done, each once. (A second relay would be safe, since each claims its rows with
    SKIP LOCKED, but would only shorten a delay that `restart: unless-stopped` keeps short.)"""
    author = Visitor(edge).log_in("user47")
    with broken("relay", "kill"):
        story_ids = [author.post_story(f"Posted while the relay is dead {i}") for i in range(3)]
        wait_for(
            lambda: requests.get(f"{edge}/status.json", timeout=15).json()["outbox"]["waiting"] >= 3,
            timeout=10, what="the fan-out messages waiting in the outbox, on /status",
        )  # fmt: skip
        assert unfinished(story_ids) == story_ids
    wait_for(lambda: not unfinished(story_ids), timeout=120, interval=1, what="the fan-outs once it is back")
    assert [delivered(story) for story in story_ids] == [(followers_of(story),) * 2 for story in story_ids]


def test_with_the_consumer_down_messages_wait_in_the_jobs_queue(edge):
    """Posting works; the fan-out message waits in RabbitMQ's jobs queue (on /status),
    and is done, once, when the consumer returns."""
    author = Visitor(edge).log_in("user45")

    def jobs_waiting() -> int:
        rabbitmq = requests.get(f"{edge}/status.json", timeout=15).json()["dependencies"]["rabbitmq"]
        # (no queues when the management API did not answer this time)
        return next((queue["messages"] for queue in rabbitmq.get("queues", []) if queue["name"] == "jobs"), 0)

    with broken("consumer", "stop"):
        story_id = author.post_story("Posted while the consumer is away")
        wait_for(
            lambda: jobs_waiting() >= 1, timeout=60, what="the fan-out message waiting in the jobs queue"
        )
        assert unfinished([story_id]) == [story_id]
    wait_for(lambda: not unfinished([story_id]), timeout=180, interval=2, what="the fan-out once it is back")
    assert delivered(story_id)[0] == delivered(story_id)[1], "nobody got the story twice"
    wait_for(lambda: healthy("consumer"), timeout=120, what="the consumer healthy again")


def test_with_rabbitmq_paused_clicks_still_redirect_and_every_one_is_stored(edge):
    """A paused broker accepts connections and answers nothing: the click publisher
    gives up on it after its timeout, writes clicks inline, and loses none. (Eight
    stories, by a reader of the test's own: a reader's clicks on one story count once
    per window.)"""
    newest = requests.get(f"{edge}/newest", timeout=10).text
    story_ids = list(dict.fromkeys(int(found) for found in re.findall(r'data-story-id="(\d+)"', newest)))
    referrer = f"paused-{uuid.uuid4().hex[:8]}.example"
    clicks = 8
    reader = Visitor(edge).sign_up(f"paused_{uuid.uuid4().hex[:8]}")
    with broken(BROKER, "pause"):
        answers = [
            reader.session.get(
                f"{edge}/s/{story_id}/go",
                headers={"Referer": f"https://{referrer}/"},
                allow_redirects=False,
                timeout=30,
            ).status_code
            for story_id in story_ids[:clicks]
        ]
    assert answers == [302] * clicks
    count = f"SELECT count(*) FROM news_click WHERE referrer_domain = '{referrer}'"
    wait_for(lambda: int(psql(count)) == clicks, timeout=60, what="every click stored")
    wait_for(lambda: healthy(*BROKER, "click-consumer"), timeout=120, what="the click stream healthy again")
