"""Redis as an application cache, the article's way.

- Read-through: look in the cache; on a miss read Postgres and fill the cache.
- Write-through: after a write commits, put the new value in the cache.
- Every cached record carries its row `version`; a Lua script refuses to replace a
  newer value with an older one, so racing writers (or a slow reader filling the
  cache) can never leave a stale value behind.
- The cache is optional: any Redis error counts as a miss, and after one the cache
  is skipped for a moment (a circuit breaker), so a dead cache costs milliseconds.
- Hits and misses are counted per named cache, in the same round trip as the read
  (for /status, across the nodes), and by each node for Prometheus.
- Hot lists (a page of newest stories, a search) are cached without a stampede
  (`cached_ids`).
- Values are JSON, written and read by orjson: decoding a page's records with the
  standard library was a twentieth of a platform node's CPU.

The cache Redis evicts least-recently-used keys (allkeys-lru), so nothing here may
be needed for correctness: the stampede locks live in Postgres.
"""

import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import redis
from django.conf import settings
from django.db import connections

from platform_layer.db import PRIMARY, caching_allowed
from platform_layer.dns import resolve
from platform_layer.metrics import count_cache_lookups

log = logging.getLogger(__name__)

STATS_KEY = "cache.stats"

# GET a key and count a hit or a miss for the named cache, in one round trip.
_GET_AND_COUNT = """
local value = redis.call('GET', KEYS[1])
redis.call('HINCRBY', KEYS[2], ARGV[1] .. (value and ':hits' or ':misses'), 1)
return value
"""

# MGET many keys (KEYS[1..n-1]) and count hits and misses (KEYS[n] is the stats hash).
_GET_MANY_AND_COUNT = """
local stats = table.remove(KEYS)
local values = redis.call('MGET', unpack(KEYS))
local hits = 0
for _, value in ipairs(values) do if value then hits = hits + 1 end end
redis.call('HINCRBY', stats, ARGV[1] .. ':hits', hits)
redis.call('HINCRBY', stats, ARGV[1] .. ':misses', #KEYS - hits)
return values
"""

# SET a versioned record unless the cache already holds the same or a newer version.
_SET_IF_NEWER = """
local current = redis.call('GET', KEYS[1])
if current then
  local ok, record = pcall(cjson.decode, current)
  if ok and type(record) == 'table' and tonumber(record['version']) and
     tonumber(record['version']) >= tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
"""


def _versioned(record: dict, ttl: int) -> list:
    """_SET_IF_NEWER's arguments for a versioned record."""
    return [orjson.dumps(record), record["version"], ttl]


class _Connection(redis.Connection):
    """A Redis connection whose name lookup has the connect deadline too."""

    def _connect(self):
        resolve(self.host, self.port, self.socket_connect_timeout)
        return super()._connect()


def client(url: str, timeout: float) -> redis.Redis:
    """A Redis client for which a dead or vanished server costs at most ~`timeout` per call."""
    return redis.Redis.from_url(
        url, connection_class=_Connection, socket_timeout=timeout, socket_connect_timeout=timeout
    )


class Cache:
    def __init__(self, url: str, timeout: float, cooldown: float = 2.0, enabled: bool = True) -> None:
        self.enabled = enabled
        self.client = client(url, timeout)
        self._get_and_count = self.client.register_script(_GET_AND_COUNT)
        self._get_many_and_count = self.client.register_script(_GET_MANY_AND_COUNT)
        self._set_if_newer = self.client.register_script(_SET_IF_NEWER)
        self.cooldown = cooldown
        self._skip_until = 0.0
        self.errors = 0  # this process's Redis errors, reported by /api/v1/status

    @property
    def available(self) -> bool:
        return self.enabled and time.monotonic() >= self._skip_until

    def _call(self, operation: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one Redis operation; on any Redis error, note it and return None."""
        if not self.available:
            return None
        try:
            return operation(*args, **kwargs)
        except redis.RedisError as exc:
            self.errors += 1
            self._skip_until = time.monotonic() + self.cooldown
            log.warning("cache unavailable for %.0fs: %s", self.cooldown, exc)
            return None

    def get(self, cache_name: str, key: str) -> Any | None:
        """The cached value, or None on a miss (or when the cache is down)."""
        raw = self._call(self._get_and_count, keys=[key, STATS_KEY], args=[cache_name])
        count_cache_lookups(cache_name, hits=int(raw is not None), misses=int(raw is None))
        return None if raw is None else orjson.loads(raw)

    def get_many(self, cache_name: str, keys: list[str]) -> dict[str, Any]:
        """The cached values of `keys` that are present (all misses when the cache is down)."""
        if not keys:
            return {}
        raw = self._call(self._get_many_and_count, keys=[*keys, STATS_KEY], args=[cache_name]) or []
        found = {key: orjson.loads(value) for key, value in zip(keys, raw, strict=False) if value is not None}
        count_cache_lookups(cache_name, hits=len(found), misses=len(keys) - len(found))
        return found

    def _fill(self, operation: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Put a value in the cache; not while the request is answered without the
        primary (caching_allowed): what it read came from a replica that may be behind."""
        if caching_allowed():
            self._call(operation, *args, **kwargs)

    def set(self, key: str, value: Any, ttl: int) -> None:
        self._fill(self.client.set, key, orjson.dumps(value), ex=ttl)

    def add(self, key: str, value: Any, ttl: int) -> None:
        """Set unless the key is there already (SET NX)."""
        self._fill(self.client.set, key, orjson.dumps(value), ex=ttl, nx=True)

    def set_if_newer(self, key: str, record: dict, ttl: int) -> None:
        """Write-through / read-through fill of a versioned record."""
        self._fill(self._set_if_newer, keys=[key], args=_versioned(record, ttl))

    def set_many_if_newer(self, records: dict[str, dict], ttl: int) -> None:
        """Fill many versioned records in one round trip (a pipeline)."""
        if not records:
            return

        def fill() -> None:
            pipe = self.client.pipeline(transaction=False)
            for key, record in records.items():
                self._set_if_newer(keys=[key], args=_versioned(record, ttl), client=pipe)
            pipe.execute()

        self._fill(fill)

    def delete(self, *keys: str) -> None:
        if keys:
            self._call(self.client.delete, *keys)

    def generation(self, name: str) -> str:
        """The current generation token of a family of keys (for example every search).

        A fresh random token when there is none (never seen, or evicted), so keys
        built on a lost generation can never be read again.
        """
        token = uuid.uuid4().hex
        # SET NX GET: set ours only if there is none, and return the existing one.
        current = self._call(self.client.set, f"generation.{name}", token, nx=True, get=True)
        return current.decode() if current else token

    def new_generation(self, name: str, token: str | None = None) -> None:
        """Make every key built on the current generation unreachable: the new one is
        `token` (unique to it), or a random one."""
        self._call(self.client.set, f"generation.{name}", token or uuid.uuid4().hex)

    def stats(self) -> dict[str, dict[str, int]]:
        """Hits and misses per named cache, across every platform node."""
        raw = self._call(self.client.hgetall, STATS_KEY) or {}
        stats: dict[str, dict[str, int]] = {}
        for field, count in raw.items():
            name, _, kind = field.decode().rpartition(":")
            stats.setdefault(name, {"hits": 0, "misses": 0})[kind] = int(count)
        return stats

    def flush(self) -> None:
        self._call(self.client.flushdb)

    def report(self) -> dict[str, Any]:
        """What /api/v1/status shows of the caches."""
        return {"enabled": self.enabled, "caches": self.stats(), "errors_in_this_process": self.errors}


cache = Cache(settings.REDIS_URL, settings.REDIS_SOCKET_TIMEOUT, enabled=settings.CACHE_ENABLED)

# How long a cached list stays servable after it stops being fresh, while one request
# recomputes it.
LIST_STALE = 60


def cached_ids(cache_name: str, key: str, fresh: int, compute: Callable[[], list[int]]) -> list[int]:
    """A list of ids, cached without a stampede.

    Each entry holds the time it stops being fresh. A fresh entry is served. When it
    is stale, or missing, one request takes a Postgres advisory lock and recomputes it;
    the others serve the stale entry meanwhile or, when there is none, wait briefly
    for the winner. Locks live in Postgres because the cache may evict anything.

    `compute` runs outside any transaction and chooses its database: the primary
    (`using(fresh_alias())`), or the read pool through the router (news.stories.search).
    """
    entry = cache.get(cache_name, key)
    now = time.time()
    if entry is not None and entry["fresh_until"] > now:
        return entry["ids"]
    if not caching_allowed():  # the primary is down: no lock to take, nothing to fill
        return entry["ids"] if entry is not None else compute()
    if not cache.available:
        return compute()
    with _try_lock(key) as locked:
        if locked:
            ids = compute()
            cache.set(key, {"ids": ids, "fresh_until": now + fresh}, fresh + LIST_STALE)
            return ids
    if entry is not None:
        return entry["ids"]  # stale while another request recomputes
    for _ in range(20):  # up to ~1s for the request that holds the lock
        time.sleep(0.05)
        entry = cache.get(cache_name, key)
        if entry is not None:
            return entry["ids"]
    return compute()


@contextlib.contextmanager
def _try_lock(key: str) -> Iterator[bool]:
    """An advisory lock on the key's 64-bit hash, on the primary, held by this
    connection until the block ends; never waits. A session's lock rather than a
    transaction's, so that no transaction stays open on the primary while `compute`
    runs (a search, on the read pool); Postgres drops it too if the connection dies."""
    lock_id = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_id])
        locked = cursor.fetchone()[0]
    try:
        yield locked
    finally:
        if locked:
            with connections[PRIMARY].cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])
