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

When the read pool fails in the middle of a request (a replica killed), the request
runs once more with every read on the primary: a GET writes nothing, so running it
again is safe. The read pool is then skipped for a few seconds, while HAProxy takes
the replica out of it.

When the primary fails under a GET (killed: until a replica is promoted, the write
pool has no member), the GET runs once more with every read on the read pool, the
reads that would fill a cache included (`fresh_alias`); none of them fills it
(`caching_allowed`), since a replica may be a moment behind. For a few seconds after,
this process's GETs start that way, without trying the primary first. When the read
pool fails too, the GET waits a moment and tries it once more (a member may be back in
the pool a moment before it can answer). A write that finds no primary, or a GET that
finds no database at all, is a 503 with a reason and a Retry-After.
"""

import contextlib
import logging
import re
import time
import weakref
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
# After the primary failed under a GET, how long this process's GETs read the read pool only.
PRIMARY_COOLDOWN_SECONDS = 2.0
# Without the primary, how long a GET whose read pool failed too waits before one more
# try: a member coming back (the old primary, restarting) is put back in the read pool
# as soon as its name resolves again, before its health checks have passed, and taken
# out within two seconds.
READ_POOL_RETRY_PAUSE = 2.0
# What a 503 asks the caller to wait before trying again: a failover takes seconds.
RETRY_AFTER_SECONDS = 3

# A WAL position as Postgres prints it, e.g. 16/B374D848 (the web tier's
# web.platform_client.LSN is the same pattern).
_LSN = re.compile(r"([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})")


def parse_lsn(text: str) -> int | None:
    """A WAL position as Postgres prints it ('16/B374D848'), as a number; None if not one."""
    match = _LSN.fullmatch(text.strip())
    return (int(match[1], 16) << 32) | int(match[2], 16) if match else None


def has_replica() -> bool:
    return REPLICA in settings.DATABASES


class _Cooldown:
    """Until when this process leaves a pool alone, after it failed under a request."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.skip_until = 0.0

    def failed(self) -> None:
        self.skip_until = time.monotonic() + self.seconds

    def usable(self) -> bool:
        return time.monotonic() >= self.skip_until


read_pool = _Cooldown(COOLDOWN_SECONDS)
primary = _Cooldown(PRIMARY_COOLDOWN_SECONDS)


# A read pool connection -> how far the replica it reached has replayed (only grows).
_replayed: "weakref.WeakKeyDictionary[Any, int]" = weakref.WeakKeyDictionary()


def has_replayed(position: int) -> bool:
    """Whether this thread's read pool connection can already see everything up to
    `position`. The read pool balances connections over the replicas, and each has
    replayed as far as it has: what one replica showed says nothing of another, so
    the position seen is kept with the connection it was seen on."""
    replica = connections[REPLICA]
    if replica.connection is not None and position <= _replayed.get(replica.connection, 0):
        return True
    with replica.cursor() as cursor:
        # NULL when the read pool is served by the primary (its backup): all there.
        cursor.execute("SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()::text END")
        (replayed,) = cursor.fetchone()
    if replayed is None:
        return True
    _replayed[replica.connection] = parse_lsn(replayed) or 0
    return position <= _replayed[replica.connection]


@dataclass
class _Reads:
    """The read policy of the request being served."""

    safe: bool  # a GET, a HEAD or a write of no row (rowless): safe to run again
    replica_allowed: bool
    read_after: int | None = None
    decided: bool | None = None  # whether this request reads the replica, once asked
    used_replica: bool = False
    # Answered without the primary: every read on the read pool, and no cache filled.
    without_primary: bool = False
    read_pool_retried: bool = False

    def use_replica(self, after: int | None = None) -> bool:
        """Whether a read goes to the read pool; `after`: a WAL position this read must
        see besides the request's own (a write the caller knows of)."""
        if self.without_primary:
            self.used_replica = True
            return True
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
            return has_replayed(position)
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


def _without_primary() -> bool:
    reads = _reads.get()
    return reads is not None and reads.without_primary


def fresh_alias() -> str:
    """Where a read that fills a shared cache goes: the primary, whose data is current;
    while a GET is answered without the primary, the read pool (and nothing is cached)."""
    return REPLICA if _without_primary() else PRIMARY


def caching_allowed() -> bool:
    """Whether what this request read may fill a shared cache: not while it reads a
    replica in the primary's place, which may be a moment behind."""
    return not _without_primary()


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


def unavailable() -> JsonResponse:
    """The answer when no database can serve a request: a 503 that says when to try again."""
    message = "The database is unavailable (a failover takes seconds); try again shortly."
    response = JsonResponse({"detail": message}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


_ROWLESS_WRITES = re.compile("|".join(settings.ROWLESS_WRITES) or "(?!)")


def rowless(request: HttpRequest) -> bool:
    """Whether the request is one of the writes that change no row (ROWLESS_WRITES)."""
    return bool(_ROWLESS_WRITES.fullmatch(request.path))


def _close(alias: str) -> None:
    with contextlib.suppress(DatabaseError):  # it is broken: that is why it is closed
        connections[alias].close()


class ReadPoolMiddleware:
    """Sets each request's read policy, stamps writes with their WAL position, and
    answers a GET from the other pool when one failed under it."""

    SAFE_METHODS = ("GET", "HEAD")

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not has_replica():
            return self.get_response(request)
        safe = request.method in self.SAFE_METHODS or rowless(request)
        read_after = None
        if safe and READ_AFTER_HEADER in request.headers:
            read_after = parse_lsn(request.headers[READ_AFTER_HEADER])
            if read_after is None:
                message = f"{READ_AFTER_HEADER} must be a WAL position such as 0/16B3748."
                return JsonResponse({"detail": message}, status=400)
        # For a moment after the primary failed under a GET, GETs start without it.
        reads = _Reads(safe, safe, read_after, without_primary=safe and not primary.usable())
        token = _reads.set(reads)
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
        # A GET writes nothing, so running it again is safe: first without the read pool
        # if it used it, then without the primary.
        for fallback in (self._without_read_pool, self._without_primary, self._read_pool_again):
            if reads is None or not fallback(reads):
                continue
            log.warning("%s during %s %s (%s)", fallback.__doc__, request.method, request.path, exception)
            match = request.resolver_match
            if match is None:
                break
            try:
                return match.func(request, *match.args, **match.kwargs)
            except (OperationalError, InterfaceError) as again:
                exception = again
        # No database answers a GET, or no primary a write (down, or a failover under way).
        log.error("database unavailable during %s %s: %s", request.method, request.path, exception)
        return unavailable()

    @staticmethod
    def _without_read_pool(reads: _Reads) -> bool:
        """the read pool failed; answering from the primary"""
        if not reads.used_replica or reads.without_primary:
            return False
        read_pool.failed()
        _close(REPLICA)
        reads.replica_allowed = False
        return True

    @staticmethod
    def _without_primary(reads: _Reads) -> bool:
        """the primary failed; answering from the read pool"""
        if not reads.safe or reads.without_primary:
            return False
        primary.failed()
        _close(PRIMARY)
        reads.without_primary = True
        return True

    @staticmethod
    def _read_pool_again(reads: _Reads) -> bool:
        """the read pool failed too, without the primary; trying it once more"""
        if not reads.without_primary or reads.read_pool_retried:
            return False
        reads.read_pool_retried = True
        _close(REPLICA)
        time.sleep(READ_POOL_RETRY_PAUSE)
        return True

    @staticmethod
    def _stamp(response: HttpResponse) -> None:
        """The WAL position after the write committed (wal_position)."""
        try:
            response[WRITTEN_HEADER] = wal_position()
        except DatabaseError as exc:
            log.warning("could not read the WAL position after a write: %s", exc)
