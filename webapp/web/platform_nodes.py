"""How a web node reaches the platform pool: through HAProxy, or as a smart client.

PLATFORM_CLIENT picks one (docker-compose.yml, .env.example):

- `balancer` (the default): one address, `platform-lb:9000`. HAProxy health-checks
  the platform nodes, spreads the calls and retries them; this side knows nothing.
- `smart`: the article's alternative. The web node knows every platform node
  (PLATFORM_NODES), takes them in turn and notices by itself which are down and
  which have come back. Each node has a circuit breaker (pybreaker): two failures
  in a row open it and the node is skipped; two seconds later one call is let
  through and, if it succeeds, the node is back in the rotation. A GET that fails
  on one node is tried on the next, and so is a write that carries an idempotency
  key (the platform answers a repeat as it answered the first); any other write
  only when it never reached a node (its connection was refused or not made in
  time), so a write is never made twice.

What HAProxy did for us and a smart client must do itself:
- names: Docker forgets a stopped container's name, and looking it up may then hang
  for seconds. Each node's address is looked up in the background and the last
  good one kept, as HAProxy's resolvers do (`hold`); a node whose name has never
  resolved is skipped (`init-addr none`);
- shared knowledge: each gunicorn worker has its own breakers and learns of a
  failure by itself, with a failed attempt or two of its own; one HAProxy learns
  once, by its health checks, for all its clients.
"""

import itertools
import os
import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import pybreaker
import urllib3
from django.core.exceptions import ImproperlyConfigured
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError

SAFE_METHODS = ("GET", "HEAD")
FAILURES_TO_OPEN = 2
SECONDS_OPEN = 2.0
LOOKUP_EVERY_SECONDS = 1.0
# Keep-alive connections kept per address: one per gunicorn thread is enough; a call
# that finds them all busy opens another and closes it afterwards.
CONNECTIONS_KEPT = 8


class NoNodeAnswered(HTTPError):
    """Every node of the pool was down, skipped or failed the call."""


def _send(http: urllib3.PoolManager | urllib3.HTTPConnectionPool, method: str, url: str, **kwargs: Any):
    # retries=False: a failure is raised as it happened (the caller decides what to
    # send again, and where); the platform never redirects.
    return http.urlopen(method, url, retries=False, redirect=False, **kwargs)


class Balancer:
    """Every call to one load-balanced address."""

    mode = "balancer"

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.pool = urllib3.connection_from_url(self.url, maxsize=CONNECTIONS_KEPT)

    def send(self, method: str, path: str, **kwargs: Any) -> urllib3.BaseHTTPResponse:
        return _send(self.pool, method, path, **kwargs)

    def state(self, addresses: bool) -> dict:
        """What /status shows of it: the balancer's address only with `addresses`."""
        return {"mode": self.mode, **({"address": self.url} if addresses else {})}


class Node:
    """One platform node: its name, its last known address and its circuit breaker."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ImproperlyConfigured(f"PLATFORM_NODES: not an http:// URL of a platform node: {url!r}")
        self.name = parts.hostname
        self.port = parts.port or 80
        self.address: str | None = None  # None until the name first resolves
        self.looked_up = threading.Event()  # set after the first lookup, answered or not
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=FAILURES_TO_OPEN,
            reset_timeout=SECONDS_OPEN,
            name=self.name,
            throw_new_error_on_trip=False,  # the caller wants the real error, to try the next node
        )

    def url(self, path: str) -> str:
        return f"http://{self.address}:{self.port}{path}"

    def look_up(self) -> None:
        """Refresh the address; when the name does not resolve, keep the last one."""
        try:
            self.address = socket.getaddrinfo(self.name, self.port, type=socket.SOCK_STREAM)[0][4][0]
        except OSError:
            pass
        finally:
            self.looked_up.set()

    def state(self, addresses: bool) -> dict:
        return {
            "node": self.name,
            **({"address": self.address} if addresses else {}),
            "breaker": self.breaker.current_state,  # closed (in use), open (skipped), half-open
            "failures": self.breaker.fail_counter,
        }


def replayable(method: str, headers: dict[str, str]) -> bool:
    """Whether sending the request again, to another node, is safe."""
    return method in SAFE_METHODS or "Idempotency-Key" in headers


def never_sent(error: HTTPError) -> bool:
    """Whether a request surely never reached a node: no connection was made."""
    return isinstance(error, (ConnectTimeoutError, NewConnectionError))


class SmartPool:
    """The client-side pool of platform nodes."""

    mode = "smart"

    def __init__(self, urls: list[str]) -> None:
        if not urls:
            raise ImproperlyConfigured("The smart client needs PLATFORM_NODES, the platform nodes' URLs.")
        self.nodes = [Node(url) for url in urls]
        # Connections by address (a node's address changes when its container is replaced).
        self.http = urllib3.PoolManager(maxsize=CONNECTIONS_KEPT)
        self._turn = itertools.count()
        self._lock = threading.Lock()
        self._looking_up_in: int | None = None  # the process whose lookup threads run

    def _keep_looking_up(self) -> None:
        """Once per process (gunicorn forks its workers, and threads do not survive a fork)."""
        if self._looking_up_in == os.getpid():
            return
        with self._lock:
            if self._looking_up_in == os.getpid():
                return
            for node in self.nodes:
                threading.Thread(target=self._look_up_forever, args=(node,), daemon=True).start()
            # A name that hangs (its container is gone) must not hold up the first call.
            deadline = time.monotonic() + LOOKUP_EVERY_SECONDS
            for node in self.nodes:
                node.looked_up.wait(max(0.0, deadline - time.monotonic()))
            self._looking_up_in = os.getpid()

    @staticmethod
    def _look_up_forever(node: Node) -> None:
        while True:
            node.look_up()
            time.sleep(LOOKUP_EVERY_SECONDS)

    def send(self, method: str, path: str, **kwargs: Any) -> urllib3.BaseHTTPResponse:
        """Call the next node in turn; on failure, the following ones (see the module)."""
        self._keep_looking_up()
        first = next(self._turn) % len(self.nodes)
        headers = kwargs.pop("headers", None) or {}
        error: Exception | None = None
        for node in self.nodes[first:] + self.nodes[:first]:
            if node.address is None:  # its name never resolved yet (HAProxy: `init-addr none`)
                error = error or NoNodeAnswered(f"{node.name}: no address known yet")
                continue
            try:
                return node.breaker.call(
                    _send, self.http, method, node.url(path), headers={**headers, "Host": node.name}, **kwargs
                )
            except pybreaker.CircuitBreakerError as exc:  # open: skipped, nothing sent
                error = error or exc
            except HTTPError as exc:
                if not replayable(method, headers) and not never_sent(exc):
                    raise
                error = exc
        raise NoNodeAnswered(f"no platform node answered: {error}") from error

    def state(self, addresses: bool) -> dict:
        """What /status shows of it: each node's address only with `addresses`."""
        return {"mode": self.mode, "nodes": [node.state(addresses) for node in self.nodes]}


def from_settings(mode: str, balancer_url: str, node_urls: list[str]) -> Balancer | SmartPool:
    if mode == Balancer.mode:
        return Balancer(balancer_url)
    if mode == SmartPool.mode:
        return SmartPool(node_urls)
    raise ImproperlyConfigured(
        f"PLATFORM_CLIENT must be {Balancer.mode!r} or {SmartPool.mode!r}, not {mode!r}."
    )
