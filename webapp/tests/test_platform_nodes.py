"""The smart client (web.platform_nodes): a client-side pool that notices by itself
which platform nodes are down and which have come back.

Most tests run it against small HTTP servers in this process, stopped and started
at will; the last one against the stack's real platform nodes."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from urllib3 import Timeout
from urllib3.exceptions import ProtocolError

from web import platform_nodes
from web.platform_nodes import Node, NoNodeAnswered, SmartPool, from_settings

TIMEOUT = Timeout(connect=1, read=5)


class FakeNode:
    """An HTTP server on loopback that names itself in X-Served-By; it can be stopped
    and started again on the same port, as a container is."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.posts = 0
        self.port = 0
        self.server: ThreadingHTTPServer | None = None
        self.start()

    def start(self) -> None:
        node = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                self.send_response(200)
                self.send_header("X-Served-By", node.name)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                node.posts += 1
                self._answer()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class HangUp:
    """A node that accepts a request and dies before answering it."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.requests = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            connection, _ = self.listener.accept()
            connection.recv(65536)
            self.requests += 1
            connection.close()


@pytest.fixture(autouse=True)
def quick_recovery(monkeypatch):
    monkeypatch.setattr(platform_nodes, "SECONDS_OPEN", 0.3)


@pytest.fixture
def nodes():
    started = [FakeNode("a"), FakeNode("b")]
    yield started
    for node in started:
        if node.server.socket.fileno() != -1:
            node.stop()


def call(pool: SmartPool, method: str = "GET") -> str:
    response = pool.send(method, "/", timeout=TIMEOUT)
    return response.headers["X-Served-By"]


def breakers(pool: SmartPool) -> list[str]:
    return [node["breaker"] for node in pool.state(addresses=True)["nodes"]]


def test_calls_take_the_nodes_in_turn(nodes):
    pool = SmartPool([node.url for node in nodes])
    assert [call(pool) for _ in range(4)] == ["a", "b", "a", "b"]


def test_a_dead_node_costs_no_get_and_is_skipped_after_two_failures(nodes):
    pool = SmartPool([node.url for node in nodes])
    nodes[1].stop()
    assert [call(pool) for _ in range(6)] == ["a"] * 6
    assert breakers(pool) == ["closed", "open"]


def test_a_node_that_comes_back_is_used_again_by_itself(nodes):
    pool = SmartPool([node.url for node in nodes])
    nodes[1].stop()
    for _ in range(4):
        call(pool)
    assert breakers(pool)[1] == "open"
    nodes[1].start()
    deadline = time.monotonic() + 5
    while "b" not in {call(pool) for _ in range(2)}:
        assert time.monotonic() < deadline, "the node that came back was never used again"
        time.sleep(0.1)
    assert breakers(pool) == ["closed", "closed"]


def test_a_post_that_was_refused_goes_to_the_next_node(nodes):
    pool = SmartPool([node.url for node in reversed(nodes)])  # b first
    nodes[1].stop()
    assert call(pool, "POST") == "a"
    assert nodes[0].posts == 1


def test_a_post_that_reached_a_node_is_never_sent_again(nodes):
    dying = HangUp()
    pool = SmartPool([dying.url, nodes[0].url])
    with pytest.raises(ProtocolError):  # the connection closed with no answer
        call(pool, "POST")
    assert (dying.requests, nodes[0].posts) == (1, 0)
    # The same failure on a GET, which changes nothing: tried on the next node.
    pool = SmartPool([dying.url, nodes[0].url])
    assert call(pool) == "a"


def test_a_write_named_by_an_idempotency_key_is_sent_to_the_next_node(nodes):
    """The platform answers a repeat of a keyed write as the first: sending it again
    after a node died under it is safe."""
    dying = HangUp()
    pool = SmartPool([dying.url, nodes[0].url])
    response = pool.send("POST", "/", headers={"Idempotency-Key": "k"}, timeout=TIMEOUT)
    assert response.headers["X-Served-By"] == "a"
    assert (dying.requests, nodes[0].posts) == (1, 1)


def test_a_node_whose_name_does_not_resolve_is_skipped(nodes):
    """A container that is gone has no name; a lookup of it may hang, but not the calls."""
    pool = SmartPool(["http://no-such-platform-node.invalid:8000", nodes[0].url])
    assert [call(pool) for _ in range(3)] == ["a"] * 3
    assert call(pool, "POST") == "a"
    assert pool.state(addresses=True)["nodes"][0]["address"] is None


def test_with_every_node_down_the_call_fails_clearly(nodes):
    pool = SmartPool([node.url for node in nodes])
    for node in nodes:
        node.stop()
    for _ in range(3):
        with pytest.raises(NoNodeAnswered, match="no platform node answered"):
            call(pool)


@pytest.mark.parametrize(
    "make",
    [
        lambda: from_settings("fancy", "http://platform-lb:9000", []),
        lambda: SmartPool([]),
        lambda: Node("ftp://platform1"),
    ],
)
def test_a_wrong_setting_says_what_to_fix(make):
    with pytest.raises(ImproperlyConfigured):
        make()


def test_the_real_platform_nodes_share_the_calls():
    """Straight to platform1 and platform2, bypassing platform-lb."""
    pool = SmartPool(["http://platform1:8000", "http://platform2:8000"])
    token = {"Authorization": f"Bearer {settings.PLATFORM_API_TOKEN}"}
    answers = [pool.send("GET", "/api/v1/stories", headers=token, timeout=TIMEOUT) for _ in range(4)]
    served = {answer.headers["X-Served-By"] for answer in answers}
    assert served == {"platform1", "platform2"}
    assert {node["address"] for node in pool.state(addresses=True)["nodes"]} != {None}
