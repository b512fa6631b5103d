"""Off-line processing: cron only publishes; consumers take the messages from RabbitMQ
and record their work in Postgres; poison messages end in dead-letter queues; two
cron containers publish each slot once."""

import random
import re
import subprocess
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest
import requests

from stack import (
    BROKER,
    Visitor,
    broken,
    compose,
    compose_command,
    env_value,
    psql,
    published,
    redis_cli,
    wait_for,
)

CRONS = ("cron1", "cron2")
JOBS = (
    "heartbeat",
    "rollup-hourly",
    "rollup-daily",
    "refresh-suggestions",
    "purge-stories",
    "expire-answers",
    "expire-exports",
)


def runs(job: str, slot: str) -> list[str]:
    """Who published the recorded runs of (job, slot)."""
    out = psql(f"SELECT published_by FROM jobs_jobrun WHERE job = '{job}' AND slot = '{slot}'")
    return out.splitlines()


def unused_slots(count: int) -> list[str]:
    """Heartbeat slots (whole minutes) in the past that no earlier run can have used."""
    start = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(minutes=random.randrange(2_000_000))
    return [(start + timedelta(minutes=i)).isoformat() for i in range(count)]


@pytest.fixture(scope="module")
def rabbitmq_api(stack) -> tuple[str, tuple[str, str]]:
    return f"http://{published('rabbitmq1', 15672)}/api", (
        env_value("RABBITMQ_USER"),
        env_value("RABBITMQ_PASSWORD"),
    )


def queue_depth(rabbitmq_api, queue: str) -> int:
    url, auth = rabbitmq_api
    return requests.get(f"{url}/queues/%2F/{queue}", auth=auth, timeout=5).json().get("messages", 0)


def test_a_job_published_by_cron_is_consumed(edge):
    # The very command the cron table runs every minute.
    # Published now, or already this minute by the daemon of either cron container.
    output = compose("exec", "-T", "cron1", "publish-job", "heartbeat").stdout
    slot = re.search(r"for slot (\S+)", output).group(1)
    assert slot.endswith("+00:00"), output

    def consumed() -> dict | None:
        runs = requests.get(f"{edge}/status.json", timeout=10).json()["last_runs"]
        return next((run for run in runs if run["job"] == "heartbeat" and run["slot"] >= slot[:19]), None)

    run = wait_for(consumed, timeout=60, what="the consumer to record the heartbeat")
    assert run["consumed_by"] == "consumer", "the consumer names its service"
    assert psql(f"SELECT count(*) FROM jobs_jobrun WHERE job = 'heartbeat' AND slot = '{slot}'") == "1"


def test_both_cron_daemons_run_the_same_table_of_publish_only_jobs():
    for cron in CRONS:
        table = compose("exec", "-T", cron, "cat", "/etc/cron.d/scale-jobs").stdout
        for job in JOBS:
            assert f"publish-job {job}" in table
        assert "BROKER_URL=amqp://" in table
        compose("exec", "-T", cron, "sh", "-c", 'kill -0 "$(cat /var/run/crond.pid)"')


def test_an_unknown_job_or_slot_is_a_clear_cli_error():
    result = compose("exec", "-T", "cron1", "publish-job", "no-such-job", check=False)
    assert result.returncode == 2
    assert f"unknown job 'no-such-job'; known jobs: {', '.join(JOBS)}" in result.stderr
    result = compose(
        "exec", "-T", "cron1", "publish-job", "rollup-hourly", "--slot", "2026-01-01T10:30", check=False
    )
    assert result.returncode == 2
    assert "not the start of a rollup-hourly slot (did you mean 2026-01-01T10:00:00+00:00?)" in result.stderr
    assert "Traceback" not in result.stderr


def test_two_cron_containers_publish_each_slot_once():
    """Both containers fire for the same slots at the same moment, as their identical
    tables make them do every minute: one publishes, the other sees it published."""
    slots = unused_slots(4)
    for slot in slots:
        both = [
            subprocess.Popen(
                compose_command("exec", "-T", cron, "publish-job", "heartbeat", "--slot", slot),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for cron in CRONS
        ]
        outputs = [process.communicate(timeout=60)[0] for process in both]
        published_lines = [out for out in outputs if "publish-job: published heartbeat" in out]
        assert len(published_lines) == 1, outputs
        assert sum("already published by" in out for out in outputs) == 1, outputs
    for slot in slots:
        wait_for(lambda slot=slot: runs("heartbeat", slot), timeout=60, what=f"the heartbeat of {slot}")
        assert len(runs("heartbeat", slot)) == 1


def lock(key: str, command: str = "GET") -> str:
    """A command on one key of the lock store (GET, TTL)."""
    return redis_cli("redis-locks", command, key).strip()


def test_a_slot_claimed_by_a_cron_container_that_died_is_published_by_the_other():
    """cron1 claims a slot and dies before publishing (RabbitMQ is paused, so it is
    stuck between its claim and its publish when it is killed): its 15-second lease
    runs out and cron2 takes over. Then, with cron1 still dead, cron2 alone keeps
    publishing every minute."""
    [slot] = unused_slots(1)
    key = f"cron.heartbeat.{slot}"
    with ExitStack() as mend:
        paused = mend.enter_context(broken(BROKER, "pause"))
        holder = subprocess.Popen(
            compose_command("exec", "-T", "cron1", "publish-job", "heartbeat", "--slot", slot),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        mend.callback(holder.wait, timeout=60)
        wait_for(lambda: lock(key) == "claimed by cron1", timeout=30, what="cron1 to claim the slot")
        mend.enter_context(broken("cron1", "kill"))
        lease = int(lock(key, "TTL"))
        assert 0 < lease <= 15, f"cron1 died holding a live lease ({lease}s left)"
        paused.mend()
        # A claim only ends when its lease runs out: cron2 waits for that, then publishes.
        output = compose("exec", "-T", "cron2", "publish-job", "heartbeat", "--slot", slot).stdout
        assert f"published heartbeat for slot {slot}" in output
        assert lock(key) == "published by cron2"
        assert wait_for(lambda: runs("heartbeat", slot), timeout=60, what="the heartbeat") == ["cron2"]

        # The daemon: the next minute's heartbeat is published by cron2 alone.
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        query = (
            "SELECT published_by FROM jobs_jobrun WHERE job = 'heartbeat' "
            f"AND slot > '{now.isoformat()}' ORDER BY slot LIMIT 1"
        )
        assert (
            wait_for(lambda: psql(query), timeout=130, interval=2, what="cron2's next heartbeat") == "cron2"
        )


def test_with_the_lock_store_down_both_crons_publish_and_the_job_runs_once():
    """redis-locks is one container, and its loss loses no slot: neither cron can claim
    it, so both publish it (never neither), and the consumer, unique on (job, slot),
    does it once and ignores the second message."""
    [slot] = unused_slots(1)
    with broken("redis-locks", "stop"):
        both = [
            subprocess.Popen(
                compose_command("exec", "-T", cron, "publish-job", "heartbeat", "--slot", slot),
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            )
            for cron in CRONS
        ]  # fmt: skip
        outputs = [process.communicate(timeout=120)[0] for process in both]
        for output in outputs:
            assert "lock store unavailable" in output and f"published heartbeat for slot {slot}" in output, (
                output
            )
        assert len(wait_for(lambda: runs("heartbeat", slot), timeout=60, what="the heartbeat")) == 1
        ignored = f"heartbeat for {slot} already done: duplicate message ignored"
        wait_for(
            lambda: ignored in compose("logs", "--no-color", "--since", "5m", "consumer").stdout, timeout=60,
            what="the consumer to ignore the second message",
        )  # fmt: skip
    assert len(runs("heartbeat", slot)) == 1, "the heartbeat ran once"


def test_a_rollup_published_for_an_hour_counts_that_hours_clicks():
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    slot = (hour + timedelta(hours=1)).isoformat()
    compose("exec", "-T", "cron1", "publish-job", "rollup-hourly", "--slot", slot)
    wait_for(lambda: runs("rollup-hourly", slot), timeout=60, what="the hourly rollup")
    counted = psql(
        "SELECT coalesce(sum(visits), 0) FROM news_referrervisits "
        f"WHERE period = 'hour' AND bucket_start = '{hour.isoformat()}'"
    )
    clicks = psql(
        f"SELECT count(*) FROM news_click WHERE created_at >= '{hour.isoformat()}' AND created_at < '{slot}'"
    )
    assert counted == clicks != "0"


def test_poison_messages_go_to_the_dead_letter_queues_and_block_nothing(rabbitmq_api):
    """A body that is not JSON, a task nobody knows, a task whose arguments make it
    fail, and a click that is not a click: each ends in a dead-letter queue, and a
    good message published right behind them is consumed. (A message whose consumer
    keeps dying is dead-lettered after six deliveries: platform/tests/jobqueue.)"""
    url, auth = rabbitmq_api
    before = {queue: queue_depth(rabbitmq_api, queue) for queue in ("jobs.dead-letter", "clicks.dead-letter")}

    def publish(queue: str, payload: str, **properties) -> None:
        body = {
            "properties": properties,
            "routing_key": queue,
            "payload": payload,
            "payload_encoding": "string",
        }
        response = requests.post(f"{url}/exchanges/%2F/amq.default/publish", json=body, auth=auth, timeout=5)
        assert response.json() == {"routed": True}

    publish("jobs", "{not json", content_type="application/json", content_encoding="utf-8")
    publish("jobs", "[[], {}, {}]", content_type="application/json", content_encoding="utf-8",
            headers={"task": "jobs.no_such_task", "id": "poison-unknown-task", "lang": "py"})  # fmt: skip
    poison_task = "make_app().send_task('jobs.fanout', kwargs={'story_id': 'not a number'})"
    compose("exec", "-T", "cron1", "python3", "-c", f"from jobqueue import make_app; {poison_task}")
    publish("clicks", '{"story_id": "one"}', content_type="application/json")
    # A good job right behind them, before any has been dead-lettered.
    [slot] = unused_slots(1)
    compose("exec", "-T", "cron1", "publish-job", "heartbeat", "--slot", slot)

    wait_for(lambda: runs("heartbeat", slot), timeout=60, what="the good job behind the poison ones")
    wait_for(
        lambda: queue_depth(rabbitmq_api, "jobs.dead-letter") >= before["jobs.dead-letter"] + 3,
        timeout=60,
        what="three poison jobs in jobs.dead-letter",
    )
    wait_for(
        lambda: queue_depth(rabbitmq_api, "clicks.dead-letter") >= before["clicks.dead-letter"] + 1,
        timeout=60,
        what="the poison click in clicks.dead-letter",
    )


def test_with_the_click_consumer_down_clicks_redirect_and_wait_in_their_queue(edge, rabbitmq_api):
    """Click-throughs still redirect; the events wait in the clicks queue, and are
    written, each once, when the click consumer returns. (Five stories, by a reader of
    the test's own: a reader's clicks on one story count once per window.)"""
    newest = requests.get(f"{edge}/newest", timeout=10).text
    story_ids = list(dict.fromkeys(int(found) for found in re.findall(r'data-story-id="(\d+)"', newest)))
    referrer = f"waiting-{random.randrange(10**9)}.example"
    count = f"SELECT count(*) FROM news_click WHERE referrer_domain = '{referrer}'"
    clicks = 5
    reader = Visitor(edge).sign_up(f"waiting_{random.randrange(10**9)}")
    with broken("click-consumer", "stop"):
        before = queue_depth(rabbitmq_api, "clicks")
        for story_id in story_ids[:clicks]:
            response = reader.session.get(
                f"{edge}/s/{story_id}/go", headers={"Referer": f"https://{referrer}/"},
                allow_redirects=False, timeout=10,
            )  # fmt: skip
            assert response.status_code == 302
        wait_for(
            lambda: queue_depth(rabbitmq_api, "clicks") >= before + clicks, timeout=30,
            what="the clicks waiting in their queue",
        )  # fmt: skip
        assert psql(count) == "0", "nothing written while the consumer is away"
    wait_for(lambda: psql(count) == str(clicks), timeout=60, what="the waiting clicks written")


def test_with_both_cron_containers_down_no_job_is_published():
    """The last runs stop advancing: no heartbeat for the minute slot that begins while
    both are down, though the daemons publish one at the start of every minute."""

    def heartbeats_after(moment: datetime) -> int:
        return int(psql(f"SELECT count(*) FROM jobs_jobrun WHERE job = 'heartbeat' AND slot > '{moment}'"))

    with broken("cron1", "stop"), broken("cron2", "stop"):
        stopped = datetime.now(UTC)
        this_minute = stopped.replace(second=0, microsecond=0)
        # Proving an absence takes a wait: past the next minute's start, and the few
        # seconds its heartbeat would take to be published and consumed.
        time.sleep(75 - stopped.second)
        assert heartbeats_after(this_minute) == 0
    wait_for(lambda: heartbeats_after(this_minute) > 0, timeout=130, interval=2, what="heartbeats again")


def test_the_queues_are_durable_quorum_queues_with_dead_letter_queues(rabbitmq_api):
    url, auth = rabbitmq_api
    for name in ("jobs", "exports", "clicks"):
        queue = requests.get(f"{url}/queues/%2F/{name}", auth=auth, timeout=5).json()
        assert (queue["durable"], queue["type"]) == (True, "quorum"), queue
        assert queue["arguments"]["x-dead-letter-routing-key"] == f"{name}.dead-letter"
        dead = requests.get(f"{url}/queues/%2F/{name}.dead-letter", auth=auth, timeout=5).json()
        assert (dead["durable"], dead["type"]) == (True, "quorum"), dead


def test_members_get_suggestions_computed_off_line(edge):
    member = Visitor(edge).log_in("user100")
    home = wait_for(
        lambda: (page := member.get("/")) and 'data-testid="suggestion"' in page.text and page,
        timeout=90,
        interval=2,
        what="suggestions computed after the demo world loaded",
    )
    assert 'data-testid="suggestions-empty"' not in home.text
