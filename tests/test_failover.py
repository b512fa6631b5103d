"""Failure is boring for clients: under a headless Locust run in the background, a
web node, a platform node, the database replica or a RabbitMQ node is killed, a
platform node paused, the cache stopped, or the web tier restarted one node at a
time, and no request fails. A platform node is killed twice: behind HAProxy, and with the web
nodes as smart clients. The load runs until the broken part is back (and a few
seconds more), so it covers the recovery too. The figures (requests, failures,
seconds until a node is marked down and until it is back) are printed for the
benchmark report."""

import csv
import json
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from stack import (
    BROKER,
    Visitor,
    broken,
    compose,
    compose_command,
    delivered,
    followers_of,
    haproxy_rows,
    haproxy_status,
    healthy,
    make,
    psql,
    published,
    redis_cli,
    stats_csv,
    unfinished,
    wait_for,
)

WEB_NODES = ("web1", "web2", "web3")
# The longest a background load may run; a test ends it as soon as its drill is over.
LOAD_CAP_SECONDS = 180
# How long the load goes on after the broken part is back, served by it again.
TAIL_SECONDS = 3


def frontend_requests(stats: str) -> int:
    """Requests the edge has received so far (its frontend's counter on the stats page)."""
    for row in haproxy_rows(stats_csv(stats)):
        if row["pxname"] == "www" and row["svname"] == "FRONTEND":
            return int(row["req_tot"] or 0)
    raise AssertionError("no www frontend on the stats page")


@contextmanager
def background_load(stats: str, users: int = 20) -> Iterator[dict]:
    """A headless Locust run against the edge, in the background, from the moment its
    requests flow until the block ends, then TAIL_SECONDS more. The block must end
    while Locust still runs (its cap is LOAD_CAP_SECONDS), so that the load covers
    everything the block waited for. After the block, the dict holds the run's
    requests, failures, Locust's table of the failures, and what its members wrote
    (loadtest/locustfile.py: the stories acknowledged, the clicks sent).

    Locust writes its results to files in a folder of the host's, never to the output
    the test reads: nothing else (a build, compose's progress) can mix with them."""
    before = frontend_requests(stats)
    results = Path(tempfile.mkdtemp(prefix="locust-"))
    results.chmod(0o777)  # Locust runs as an unprivileged user in its container
    name = f"locust-{uuid.uuid4().hex[:8]}"
    run = compose_command(
        "--profile", "loadtest", "run", "--rm", "--no-deps", "-T", "--name", name,
        "--volume", f"{results}:/results",
        "locust", "--headless", "-u", str(users), "-r", str(users), "-t", f"{LOAD_CAP_SECONDS}s",
        "--host", "http://edge-lb:8080", "--json-file", "/results/stats", "--csv", "/results/run",
        "--writes-file", "/results/writes.json", "--only-summary",
    )  # fmt: skip
    process = subprocess.Popen(run, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    totals: dict = {}
    try:
        wait_for(lambda: frontend_requests(stats) > before + 50, timeout=120, what="Locust's load to flow")
        yield totals
        assert process.poll() is None, (
            f"the load stopped before the drill was over: raise LOAD_CAP_SECONDS ({LOAD_CAP_SECONDS}s)"
        )
        time.sleep(TAIL_SECONDS)
    finally:
        subprocess.run(["docker", "kill", "--signal", "TERM", name], capture_output=True)
        _, err = process.communicate(timeout=120)
    assert process.returncode in (0, 1), f"Locust did not run: {err[-2000:]}"  # 1: it saw failures
    endpoints = json.loads((results / "stats.json").read_text())
    totals["requests"] = sum(endpoint["num_requests"] for endpoint in endpoints)
    totals["failures"] = sum(endpoint["num_failures"] for endpoint in endpoints)
    with open(results / "run_failures.csv", newline="") as failures:
        totals["report"] = "\n".join(
            f"{row['Occurrences']} x {row['Method']} {row['Name']}: {row['Error']}"
            for row in csv.DictReader(failures)
        )
    totals["writes"] = json.loads((results / "writes.json").read_text())
    shutil.rmtree(results)


@pytest.fixture(autouse=True)
def load_accounts_closed():
    """The load's members (loadtest_...) and all they wrote go after each test."""
    yield
    compose(
        "run", "--rm", "--no-deps", "-T", "platform1",
        "python", "manage.py", "close_accounts", "--username-prefix", "loadtest_",
    )  # fmt: skip


def assert_nothing_failed_or_lost(load: dict) -> None:
    """No request failed: every GET was answered, and every write acknowledged (a
    member sends a form again, same write key, when its answer is lost). Every
    acknowledged story is stored once, and no story twice; no click counted twice."""
    assert load["failures"] == 0, load["report"]
    writes = load["writes"]
    rows = psql(
        f"SELECT title, count(*) FROM news_story WHERE title LIKE 'Load {writes['run']} %' GROUP BY title"
    )
    stored = {title: int(count) for title, count in (row.rsplit("|", 1) for row in rows.splitlines())}
    assert writes["posted"], "the members posted"
    assert {title: stored.get(title) for title in writes["posted"]} == dict.fromkeys(writes["posted"], 1)
    assert set(stored) <= set(writes["sent"])
    assert all(count == 1 for count in stored.values()), "no story stored twice"
    counted = f"SELECT count(*) FROM news_click WHERE referrer_domain = 'load-{writes['run']}.example'"
    clicks = wait_for(
        lambda: (n := int(psql(counted))) >= writes["clicks_acknowledged"] and n, timeout=60,
        what="every acknowledged click counted",
    )  # fmt: skip
    assert clicks <= writes["clicks_sent"], "no click counted twice"
    print(
        f"  and {len(writes['posted'])} stories posted, each stored once ({writes['resent']} forms "
        f"sent again); {clicks} of {writes['clicks_sent']} clicks counted, none twice"
    )


def pool(balancer: str, backend: str) -> dict[str, str]:
    """Server -> status of a backend of an inner balancer (platform-lb, db-lb), from its
    stats page, published on loopback like the edge's."""
    return haproxy_status(f"http://{published(balancer, 8404)}", backend)


@dataclass(frozen=True)
class Drill:
    """Break `service` as `how` says, under load; `status` reads it as its balancer sees it."""

    service: str
    how: str
    status: Callable[[str], str]
    where: str  # the balancer and pool, for the report


DRILLS = [
    Drill("web2", "kill", lambda stats: haproxy_status(stats, "web")["web2"], "the edge"),
    # Paused, a node accepts connections and answers nothing: a GET waiting on it is
    # retried on another node when its balancer's server timeout expires (8 s at the
    # edge, 4 s in the platform pool).
    Drill("web2", "pause", lambda stats: haproxy_status(stats, "web")["web2"], "the edge"),
    Drill("platform1", "kill", lambda _: pool("platform-lb", "platform_pool")["platform1"], "platform-lb"),
    Drill("platform1", "pause", lambda _: pool("platform-lb", "platform_pool")["platform1"], "platform-lb"),
    # Stopped gracefully: gunicorn finishes its requests in flight, then exits.
    Drill("platform1", "stop", lambda _: pool("platform-lb", "platform_pool")["platform1"], "platform-lb"),
    # Reads move to the primary (the read pool's backup), then back to the replica.
    Drill("postgres-replica", "kill", lambda _: pool("db-lb", "read_pool")["replica"], "the read pool"),
]


@pytest.mark.parametrize("drill", DRILLS, ids=lambda drill: f"{drill.how}-{drill.service}")
def test_a_node_broken_under_load_fails_no_request(stats, drill):
    with background_load(stats) as load, broken(drill.service, drill.how) as breakage:
        wait_for(
            lambda: drill.status(stats).startswith("DOWN"), timeout=30, interval=0.2,
            what=f"{drill.where} to mark {drill.service} down",
        )  # fmt: skip
        down_after = time.monotonic() - breakage.broken_at
        breakage.mend()
        wait_for(
            lambda: drill.status(stats) == "UP", timeout=120, what=f"{drill.service} back in {drill.where}"
        )
        back_after = time.monotonic() - breakage.mended_at
    print(
        f"\n{drill.how} {drill.service} under load: {load['requests']} requests, {load['failures']} failed; "
        f"out of {drill.where} after {down_after:.1f}s, back {back_after:.1f}s after it was mended"
    )
    assert_nothing_failed_or_lost(load)


def test_a_rolling_restart_of_the_web_tier_under_load_fails_no_request(stats):
    """The command users run, `make rolling-restart`: one node at a time, each healthy
    and back in rotation before the next. gunicorn drains its in-flight requests on
    SIGTERM, and the edge sends new ones to the others."""
    with background_load(stats) as load:
        restart = make("rolling-restart", check=False, timeout=600)
        assert restart.returncode == 0, restart.stdout + restart.stderr
        for node in WEB_NODES:
            assert f"{node} is healthy and back in rotation" in restart.stdout
        assert set(haproxy_status(stats, "web").values()) == {"UP"}
    print(f"\nrolling restart under load: {load['requests']} requests, {load['failures']} failed")
    assert_nothing_failed_or_lost(load)


def cached_keys() -> int:
    return int(redis_cli("redis", "dbsize").strip())


def test_stopping_the_cache_under_load_fails_no_request(stats, edge):
    """The cache is optional: with Redis gone, pages come from Postgres (a dead cache
    costs each worker one short timeout, then is skipped for a moment); once back,
    it refills as pages are read."""

    def redis_ok() -> bool:
        return requests.get(f"{edge}/status.json", timeout=15).json()["dependencies"]["redis"]["ok"]

    with background_load(stats) as load:
        with broken("redis", "stop"):
            wait_for(lambda: not redis_ok(), timeout=30, what="the platform to see the cache down")
        wait_for(redis_ok, timeout=60, what="the cache back")
        # It comes back empty (memory only), and the pages read under load refill it.
        refilled = wait_for(cached_keys, timeout=30, what="the cache refilling")
    print(
        f"\nstop Redis under load: {load['requests']} requests, {load['failures']} failed; "
        f"{refilled} keys cached again after its return"
    )
    assert_nothing_failed_or_lost(load)


@contextmanager
def web_tier_as(client: str, stats: str) -> Iterator[None]:
    """The web nodes recreated with PLATFORM_CLIENT=client; as configured again after."""

    def recreate(env: dict[str, str]) -> None:
        compose("up", "--no-build", "--detach", "--no-deps", "--wait", *WEB_NODES, env=env)
        wait_for(lambda: set(haproxy_status(stats, "web").values()) == {"UP"}, timeout=60, what="web tier up")

    recreate({"PLATFORM_CLIENT": client})
    try:
        yield
    finally:
        recreate({})


def test_killing_a_platform_node_under_load_with_smart_clients_fails_no_request(stats, edge):
    """No platform-lb between the tiers: each web worker skips the dead node once it
    failed twice there (a GET that failed is tried on the other node), and tries it
    again by itself after two seconds."""

    def seen_by_a_web_worker() -> dict:
        status = requests.get(f"{edge}/status.json", timeout=15).json()
        breakers = {node["node"]: node["breaker"] for node in status["platform_client"]["nodes"]}
        return {"breaker": breakers["platform1"], "answered_by": status["platform_node"]}

    with web_tier_as("smart", stats):
        assert requests.get(f"{edge}/status.json", timeout=15).json()["platform_client"]["mode"] == "smart"
        with background_load(stats) as load, broken("platform1", "kill") as breakage:
            wait_for(
                lambda: seen_by_a_web_worker()["breaker"] == "open", timeout=30, interval=0.2,
                what="a web worker to skip platform1",
            )  # fmt: skip
            skipped_after = time.monotonic() - breakage.broken_at
            breakage.mend()
            wait_for(
                lambda: seen_by_a_web_worker()["answered_by"] == "platform1", timeout=120,
                what="calls to reach platform1 again",
            )  # fmt: skip
            back_after = time.monotonic() - breakage.mended_at
    print(
        f"\nkill platform1 under load, smart clients: {load['requests']} requests, "
        f"{load['failures']} failed; a web worker skipped it after {skipped_after:.1f}s, "
        f"calls reached it {back_after:.1f}s after its start"
    )
    assert_nothing_failed_or_lost(load)


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
