"""Load balancing, layer 1: the edge HAProxy spreads users across the web nodes and
keeps the site answering when one of them stops."""

import http.client
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import requests

from stack import broken, env_value, haproxy_status, make, served_by, stats_csv, wait_for

WEB_NODES = {"web1", "web2", "web3"}


def test_requests_through_the_edge_reach_all_three_web_nodes(edge):
    nodes = {served_by(requests.get(f"{edge}/healthz", timeout=5)) for _ in range(30)}
    assert nodes == WEB_NODES


def test_the_stats_page_shows_every_web_node_up(stats):
    assert haproxy_status(stats, "web") == {"web1": "UP", "web2": "UP", "web3": "UP"}


def test_the_stats_page_asks_for_the_credentials_in_env(stats):
    assert requests.get(f"{stats}/;csv", timeout=5).status_code == 401
    wrong = requests.get(f"{stats}/;csv", auth=(env_value("HAPROXY_STATS_USER"), "guess"), timeout=5)
    assert wrong.status_code == 401
    assert "web1" in stats_csv(stats)


def test_the_stats_port_serves_prometheus_metrics(stats):
    metrics = requests.get(f"{stats}/metrics", timeout=5).text
    for node in sorted(WEB_NODES):
        assert f'haproxy_server_status{{proxy="web",server="{node}",state="UP"}} 1' in metrics


def test_make_drain_takes_a_node_out_of_rotation_and_make_enable_puts_it_back(edge, stats):
    """Through HAProxy's runtime API: a drained server gets no new requests."""
    try:
        make("drain", "SERVER=web3")
        assert haproxy_status(stats, "web")["web3"] == "DRAIN"
        assert "web3" not in {served_by(requests.get(f"{edge}/healthz", timeout=5)) for _ in range(15)}
    finally:
        make("enable", "SERVER=web3")
    assert haproxy_status(stats, "web")["web3"] == "UP"
    wait_for(
        lambda: "web3" in {served_by(requests.get(f"{edge}/healthz", timeout=5)) for _ in range(6)},
        timeout=10,
        what="web3 serving again",
    )


def test_make_drain_refuses_a_server_its_balancer_does_not_know():
    result = make("drain", "SERVER=web9", check=False)
    assert result.returncode != 0
    assert "No such server" in result.stderr


def test_an_idle_connection_outlives_the_load_generators_think_time(edge):
    """A client that pauses as long as a Locust user (up to 2 s) can reuse its
    connection: had the edge closed it first, the next request would die with
    "Remote end closed connection without response" (the keep-alive race)."""
    address = urlsplit(edge)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        for _ in range(2):
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            time.sleep(2.5)
    finally:
        connection.close()


def test_stopping_one_web_node_leaves_the_site_answering(edge, stats):
    """Stop web2: no request fails; HAProxy marks it down, then up again after a start.
    Every request made meanwhile counts, those made while waiting included."""
    session = requests.Session()
    outcomes: list[str] = []  # every request's: the node that answered, or what went wrong

    def fetch_home() -> str:
        try:
            response = session.get(f"{edge}/", timeout=10)
        except requests.RequestException as exc:
            outcomes.append(f"failed: {exc!r}")
            return "none"
        outcomes.append(served_by(response) if response.ok else f"failed: {response.status_code}")
        return served_by(response)

    def web2(state: tuple[str, ...]) -> Callable[[], bool]:
        def check() -> bool:
            fetch_home()
            return haproxy_status(stats, "web")["web2"].startswith(state)

        return check

    with broken("web2", "stop") as stopped:
        wait_for(web2(("DOWN", "MAINT")), timeout=30, interval=0.2, what="HAProxy to take web2 out")
        marked_down = time.monotonic() - stopped.broken_at
        assert {fetch_home() for _ in range(20)} == {"web1", "web3"}, "only the live nodes serve"
        stopped.mend()
        wait_for(web2(("UP",)), timeout=90, what="web2 back in rotation")
        back_after = time.monotonic() - stopped.mended_at
    print(f"\nweb2 stopped: out of rotation after {marked_down:.1f}s, back {back_after:.1f}s after its start")
    wait_for(lambda: "web2" in {fetch_home() for _ in range(6)}, timeout=30, what="web2 serving")
    failed = [outcome for outcome in outcomes if outcome.startswith("failed")]
    assert failed == [], f"{len(failed)} of {len(outcomes)} requests failed while web2 stopped: {failed}"
