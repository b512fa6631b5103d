"""Liveness, readiness and the state of each dependency.

Liveness (/healthz) says the process serves requests; the load balancer checks it,
so an outage of a shared dependency never marks every node of the pool down at once.
Readiness (/readyz) says whether Postgres (its write pool), Redis and RabbitMQ answer
from this node. The read pool is not part of it: without the replica, reads go to
the primary. Status (/api/v1/status) adds the counters a dashboard draws: replica
lag, cache hits and misses, queue depths, the outbox, the last run of each job.

Anyone may read the status (the web tier shows it at /status): news.api.ops answers
with its states and figures only. What would help an attacker more than an operator
(versions, WAL positions, server names, the raw text of an error) only operators
see (/api/v1/status/detail). A failed check names a category (`error`: unreachable,
timeout or error); its raw text goes to the log and to `error_message`.

The status is computed at most once a second in each process, whatever the traffic
(`status`).
"""

import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import quote, unquote, urlsplit

import redis
import requests
from django.conf import settings
from django.db import OperationalError, connections
from django.utils import timezone

from jobs import outbox
from jobs.models import JobRun
from mapreduce import runs
from news.cache import cache
from news.cache import client as cache_client
from platform_layer.db import PRIMARY, REPLICA, has_replica
from platform_layer.dns import resolve

log = logging.getLogger(__name__)


def _timed(check: Callable[[], dict[str, Any] | None]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        details = check() or {}
        result = {"ok": True, **details}
    except Exception as exc:  # any failure of a dependency is a state to report, not a crash
        message = f"{type(exc).__name__}: {exc}"
        log.warning("status: %s failed: %s", check.__name__.strip("_"), message)
        result = {"ok": False, "error": failure(exc), "error_message": message}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


TIMEOUTS = (TimeoutError, redis.TimeoutError, requests.Timeout)
# Refused, reset, a name that does not resolve, a database that does not answer.
UNREACHABLE = (
    ConnectionError,
    socket.gaierror,
    redis.ConnectionError,
    requests.ConnectionError,
    OperationalError,
)


def failure(exc: Exception) -> str:
    """What kind of failure a check met, in a word anyone may read."""
    if isinstance(exc, TIMEOUTS):
        return "timeout"
    if isinstance(exc, UNREACHABLE):
        return "unreachable"
    return "error"


def _postgres() -> dict[str, Any]:
    """The primary (the write pool), and how far behind it each streaming replica is."""
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version'), pg_current_wal_lsn()::text")
        version, position = cursor.fetchone()
        # (Not pg_stat_replication.replay_lag: it keeps its last value while replay is
        # paused. The read pool reports the lag in time, measured on the replica.)
        cursor.execute(
            """
            SELECT application_name, state, sync_state, replay_lsn::text,
                   pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint
            FROM pg_stat_replication ORDER BY application_name
            """
        )
        replicas = [
            {"name": name, "state": state, "sync_state": sync, "replayed": replayed, "behind_bytes": behind}
            for name, state, sync, replayed, behind in cursor.fetchall()
        ]
    return {"version": version, "wal_position": position, "replicas": replicas}


def _read_pool() -> dict[str, Any]:
    """Which server answers the read pool, and how current it is."""
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(
            """
            SELECT pg_is_in_recovery(),
                   CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()::text END,
                   CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END,
                   CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
                        ELSE round(extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::bigint
                   END
            """
        )
        standby, replayed, paused, lag = cursor.fetchone()
    if not standby:
        return {"served_by": "primary", "note": "no replica is in the pool; reads go to the primary"}
    # replay_lag_ms: 0 when the replica has replayed all the WAL it received; otherwise
    # how long ago the newest transaction it shows committed on the primary.
    return {"served_by": "replica", "replayed": replayed, "replay_paused": paused, "replay_lag_ms": lag}


def _redis() -> dict[str, Any]:
    client = cache_client(settings.REDIS_URL, settings.REDIS_SOCKET_TIMEOUT)
    # (a synchronous client: its answers are dicts, not the awaitables its hints allow)
    memory = cast(dict[str, Any], client.info("memory"))
    stats = cast(dict[str, Any], client.info("stats"))
    return {
        "used_memory": memory["used_memory"],
        "maxmemory": memory["maxmemory"],
        "maxmemory_policy": memory["maxmemory_policy"],
        "keyspace_hits": stats["keyspace_hits"],
        "keyspace_misses": stats["keyspace_misses"],
        "evicted_keys": stats["evicted_keys"],
    }


def _broker_address() -> tuple[str, int]:
    url = urlsplit(settings.BROKER_URL)
    return url.hostname or "rabbitmq", url.port or 5672


def _rabbitmq_port() -> None:
    """Some node of the cluster accepts connections: the broker's name resolves to every
    node alive, and a client connects to the first that answers, as this check does."""
    host, port = _broker_address()
    error: OSError = OSError(f"{host} resolves to no address")
    for family, kind, proto, _, address in resolve(host, port, timeout=1):
        with socket.socket(family, kind, proto) as sock:
            sock.settimeout(1)
            try:
                sock.connect(address)
                return
            except OSError as exc:
                error = exc
    raise error


# Celery's own plumbing (remote-control replies, native delayed delivery): not work queues.
CELERY_INTERNAL = (".pidbox", "celery_delayed_", "celeryev.")


def _rabbitmq_queues() -> dict[str, Any]:
    """Depth and consumer count of each work queue, from the RabbitMQ management API."""
    url = urlsplit(settings.BROKER_URL)
    api = urlsplit(settings.RABBITMQ_API_URL)
    resolve(api.hostname or "rabbitmq", api.port or 80, timeout=2)  # requests' own lookup has no deadline
    vhost = quote(unquote(url.path[1:]) or "/", safe="")  # amqp://host/ is the "/" virtual host
    response = requests.get(
        f"{settings.RABBITMQ_API_URL}/queues/{vhost}",
        auth=(settings.RABBITMQ_MONITOR_USER, settings.RABBITMQ_MONITOR_PASSWORD),
        params={"columns": "name,messages,messages_ready,messages_unacknowledged,consumers"},
        timeout=2,
    )
    response.raise_for_status()
    queues = [q for q in response.json() if not any(part in q["name"] for part in CELERY_INTERNAL)]
    return {"queues": sorted(queues, key=lambda queue: queue["name"])}


def readiness() -> dict[str, dict[str, Any]]:
    return {
        "postgres": _timed(_postgres),
        "redis": _timed(_redis),
        "rabbitmq": _timed(_rabbitmq_port),
    }


# How long a computed status is served again. Per process (each gunicorn worker keeps
# its own) rather than shared in Redis: the status must still be told with Redis down,
# and a few computations a second across the pool cost the dependencies nothing.
STATUS_LIFETIME = 1.0  # seconds


class _OncePerLifetime:
    """`compute`'s answer, computed at most once per `lifetime` seconds in this process.
    Callers that arrive while it is computed wait for it rather than compute it too. A
    failure is not kept: the next caller computes again (the read pool's middleware
    answers a GET again from the primary when the replica failed under it)."""

    def __init__(self, compute: Callable[[], dict[str, Any]], lifetime: float) -> None:
        self._compute = compute
        self._lifetime = lifetime
        self._lock = threading.Lock()
        self._value: dict[str, Any] = {}
        self._until = 0.0  # time.monotonic() until which _value is served

    def __call__(self) -> dict[str, Any]:
        with self._lock:
            if time.monotonic() >= self._until:
                self._value = self._compute()
                self._until = time.monotonic() + self._lifetime
            return self._value


def _status() -> dict[str, Any]:
    return {
        "node": settings.NODE_NAME,
        "computed_at": timezone.now(),
        "dependencies": dependencies(),
        "caches": cache.report(),
        "outbox": outbox.backlog(),
        "last_runs": list(JobRun.objects.latest_per_job()),
        "mapreduce": runs.report(),
    }


# This node, what it depends on, its caches, the outbox and the last run of each job:
# what /api/v1/status shows (a part of it) and /api/v1/status/detail (all of it).
status = _OncePerLifetime(_status, STATUS_LIFETIME)


def dependencies() -> dict[str, dict[str, Any]]:
    """Like readiness, with the counters a dashboard draws (replica lag, cache stats,
    queue depths)."""
    return {
        "postgres": _timed(_postgres),
        **({"postgres_read_pool": _timed(_read_pool)} if has_replica() else {}),
        "redis": _timed(_redis),
        "rabbitmq": _timed(_rabbitmq_queues),
    }
