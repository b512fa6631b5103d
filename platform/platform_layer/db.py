"""Reads from the read pool, writes to the write pool: the article's third layer.

Postgres runs as a primary and a streaming replica, behind HAProxy
(haproxy/database.cfg). The `default` database is the write pool (the primary);
`replica` is the read pool (the replica, with the primary as its backup).

Which queries the replica serves:
- only the reads of a GET or HEAD request (ReadPoolMiddleware), outside any
  transaction on the primary. Consumers, the relay and management commands use the
  primary only;
- never a read that fills a shared cache: services read those with
  `.using(PRIMARY)`. A value read from a lagging replica would be cached as if
  current, and outlive the lag. Except a search (news.stories.search), the costliest
  read: it reads the replica only once the replica has replayed the latest story
  write (`read_alias(after=...)`), so what it caches is as current as the primary;
- read-your-own-writes: the response to a write carries the primary's WAL position
  after it (X-Written-LSN). A caller that sends it back (X-Read-After-LSN) reads
  from the replica only once the replica has replayed that far; until then, from
  the primary.

When the read pool fails in the middle of a request (the replica killed), the
request runs once more with every read on the primary: a GET writes nothing, so
running it again is safe. The replica is then skipped for a few seconds, while
HAProxy takes it out of the read pool. When the primary does not answer, the
request is a 503 with a reason.
"""

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.db.models import Model
from django.http import HttpRequest, HttpResponse, JsonResponse

log = logging.getLogger(__name__)

PRIMARY = "default"
REPLICA = "replica"
WRITTEN_HEADER = "X-Written-LSN"
READ_AFTER_HEADER = "X-Read-After-LSN"
# After the read pool failed, how long this process reads from the primary only.
COOLDOWN_SECONDS = 5.0

# A WAL position as Postgres prints it, e.g. 16/B374D848 (the web tier's
# web.platform_client.LSN is the same pattern).
_LSN = re.compile(r"([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})")


def parse_lsn(text: str) -> int | None:
    """A WAL position as Postgres prints it ('16/B374D848'), as a number; None if not one."""
    match = _LSN.fullmatch(text.strip())
    return (int(match[1], 16) << 32) | int(match[2], 16) if match else None


def has_replica() -> bool:
    return REPLICA in settings.DATABASES


class _ReadPoolState:
    """What this process knows of the read pool: how far the replica has replayed
    (only grows), and until when to leave it alone after a failure."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.replayed = 0
        self.skip_until = 0.0

    def failed(self) -> None:
        with self._lock:
            self.skip_until = time.monotonic() + COOLDOWN_SECONDS

    def usable(self) -> bool:
        return time.monotonic() >= self.skip_until

    def has_replayed(self, position: int) -> bool:
        """Whether the read pool can already see everything up to `position`."""
        if position <= self.replayed:
            return True
        with connections[REPLICA].cursor() as cursor:
            # NULL when the read pool is served by the primary (its backup): all there.
            cursor.execute("SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()::text END")
            (replayed,) = cursor.fetchone()
        if replayed is None:
            return True
        with self._lock:
            self.replayed = max(self.replayed, parse_lsn(replayed) or 0)
            return position <= self.replayed


read_pool = _ReadPoolState()


@dataclass
class _Reads:
    """The read policy of the request being served."""

    replica_allowed: bool
    read_after: int | None = None
    decided: bool | None = None  # whether this request reads the replica, once asked
    used_replica: bool = False

    def use_replica(self, after: int | None = None) -> bool:
        """Whether a read goes to the read pool; `after`: a WAL position this read must
        see besides the request's own (a write the caller knows of)."""
        if not self.replica_allowed or not read_pool.usable():
            return False
        if connections[PRIMARY].in_atomic_block:
            return False  # a read inside a write transaction must see that transaction
        if self.decided is None:
            self.decided = self._replayed(self.read_after)
        use = self.decided and self._replayed(after)
        self.used_replica |= use
        return use

    @staticmethod
    def _replayed(position: int | None) -> bool:
        if position is None:
            return True
        try:
            return read_pool.has_replayed(position)
        except DatabaseError as exc:
            log.warning("read pool unavailable (%s); reading from the primary", exc)
            read_pool.failed()
            return False


_reads: ContextVar[_Reads | None] = ContextVar("reads", default=None)


def read_alias(after: int | None = None) -> str:
    """Where a read of the request being served goes (the router's answer); with
    `after`, to the read pool only once the replica has replayed that WAL position."""
    reads = _reads.get()
    return REPLICA if reads is not None and reads.use_replica(after) else PRIMARY


def wal_position() -> str:
    """The primary's WAL position now: a read that must see what has committed so far
    needs a replica that has replayed at least this far."""
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        (position,) = cursor.fetchone()
    return position


class ReadPoolRouter:
    """https://docs.djangoproject.com/en/5.2/topics/db/multi-db/#automatic-database-routing"""

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        return read_alias()

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        return PRIMARY

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True  # the same data on both sides

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == PRIMARY  # a replica copies the primary's schema; it is never migrated


Handler = Callable[[HttpRequest], HttpResponse]


class ReadPoolMiddleware:
    """Sets each request's read policy, stamps writes with their WAL position, and
    answers a GET from the primary when the read pool failed under it."""

    SAFE_METHODS = ("GET", "HEAD")

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not has_replica():
            return self.get_response(request)
        safe = request.method in self.SAFE_METHODS
        read_after = None
        if safe and READ_AFTER_HEADER in request.headers:
            read_after = parse_lsn(request.headers[READ_AFTER_HEADER])
            if read_after is None:
                message = f"{READ_AFTER_HEADER} must be a WAL position such as 0/16B3748."
                return JsonResponse({"detail": message}, status=400)
        token = _reads.set(_Reads(replica_allowed=safe, read_after=read_after))
        try:
            response = self.get_response(request)
        finally:
            _reads.reset(token)
        if not safe and response.status_code < 400:
            self._stamp(response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        reads = _reads.get()
        if reads is not None and reads.used_replica:
            log.warning(
                "read pool failed during %s %s (%s); answering from the primary",
                request.method,
                request.path,
                exception,
            )
            read_pool.failed()
            with contextlib.suppress(DatabaseError):  # it is broken: that is why it is closed
                connections[REPLICA].close()
            reads.replica_allowed = False
            match = request.resolver_match
            try:
                if match is not None:
                    return match.func(request, *match.args, **match.kwargs)
            except (OperationalError, InterfaceError) as again:
                exception = again
        # The primary does not answer (down, restarting): a reason and a 503, not a 500.
        log.error("database unavailable during %s %s: %s", request.method, request.path, exception)
        return JsonResponse({"detail": "The database is unavailable; try again in a moment."}, status=503)

    @staticmethod
    def _stamp(response: HttpResponse) -> None:
        """The WAL position after the write committed (wal_position)."""
        try:
            response[WRITTEN_HEADER] = wal_position()
        except DatabaseError as exc:
            log.warning("could not read the WAL position after a write: %s", exc)
