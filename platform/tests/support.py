"""What the unit tests share: members and follows with names that never collide, a
look at the raw cache, and a server that never answers."""

import contextlib
import json
import socket
import uuid
from collections.abc import Callable, Iterator

from news.cache import cache
from news.models import Follow, User
from signins import assertions


def member(name: str) -> User:
    return User.objects.create(username=f"{name}_{uuid.uuid4().hex[:6]}", name=name)


def acting(user_id: int) -> dict[str, str]:
    """The header a call made for this member carries: the assertion of a new sign-in,
    as the web tier sends it (for the test client's **extra)."""
    return {"HTTP_X_MEMBER_ASSERTION": assertions.issue(user_id)}


def follow(follower: User, followee: User) -> None:
    Follow.objects.create(follower=follower, followee=followee)


@contextlib.contextmanager
def silent_server() -> Iterator[tuple[int, Callable[[], int]]]:
    """A TCP port that accepts connections and never answers, like a paused container.
    Yields the port and a function counting the connections made to it so far: how
    often a client tried, the measure of what a dead dependency costs it."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.setblocking(False)
        accepted: list[socket.socket] = []

        def attempts() -> int:
            with contextlib.suppress(BlockingIOError):
                while True:
                    accepted.append(server.accept()[0])
            return len(accepted)

        try:
            yield server.getsockname()[1], attempts
        finally:
            for connection in accepted:
                connection.close()


def cached(key: str) -> dict | None:
    """What the cache holds under `key`, bypassing the hit and miss counters."""
    raw = cache.client.get(key)
    return None if raw is None else json.loads(raw)
