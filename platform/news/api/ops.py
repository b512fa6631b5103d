"""Operations: the state of this node and of what it depends on.

Two answers from the same status (platform_layer.health, at most a second old): its
states and figures for anyone (the schemas below name every field it may show), and
all of it, versions, WAL positions, server names and the raw text of errors
included, for operators only.
"""

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema

from news import operators
from news.api import auth
from news.api.schemas import Detail
from news.errors import Forbidden
from platform_layer import health

router = Router(tags=["ops"])


def operator(request: HttpRequest) -> auth.Member:
    """The acting member (news.api.auth.member), who must be an operator: a 403 for
    any other member."""
    actor = auth.member(request)
    if not operators.is_operator(actor.id):
        raise Forbidden("Only an operator may see the detailed status.")
    return actor


# --- What anyone may see: states and figures -------------------------------------


class Check(Schema):
    ok: bool
    latency_ms: float
    error: str | None = Field(None, description="why it failed: unreachable, timeout or error")


class ReplicaOut(Schema):
    # (null while the replica connects, or for a role that may not read statistics)
    state: str | None = None
    sync_state: str | None = Field(
        None, description="quorum: a commit waits for one such replica to have it on disk; async: it does not"
    )
    behind_bytes: int | None = None


class PostgresOut(Check):
    """The primary (the write pool), and how far behind it each replica is."""

    replicas: list[ReplicaOut] | None = None


class ReadPoolOut(Check):
    served_by: str | None = Field(None, description="replica; primary while no replica is in the pool")
    note: str | None = None
    replay_paused: bool | None = None
    replay_lag_ms: int | None = None


class RedisOut(Check):
    used_memory: int | None = None
    maxmemory: int | None = None
    maxmemory_policy: str | None = None
    keyspace_hits: int | None = None
    keyspace_misses: int | None = None
    evicted_keys: int | None = None


class QueueOut(Schema):
    name: str
    # (RabbitMQ counts a queue declared a moment ago at its next statistics round)
    messages: int | None = None
    messages_ready: int | None = None
    messages_unacknowledged: int | None = None
    consumers: int | None = None


class RabbitMQOut(Check):
    queues: list[QueueOut] | None = None


class DependenciesOut(Schema):
    postgres: PostgresOut
    postgres_read_pool: ReadPoolOut | None = Field(None, description="null without a replica")
    redis: RedisOut
    rabbitmq: RabbitMQOut


class CachesOut(Schema):
    enabled: bool
    caches: dict[str, dict[str, int]] = Field(description="hits and misses per named cache")
    errors_in_this_process: int


class JobRunOut(Schema):
    job: str
    slot: datetime
    published_by: str
    consumed_by: str
    finished_at: datetime


class OutboxOut(Schema):
    waiting: int
    oldest_seconds: float


class MapReduceRunOut(Schema):
    slot: datetime
    status: str
    consumed_by: str
    started_at: datetime
    finished_at: datetime | None
    input_rows: int | None
    output_rows: int | None


class MapReduceJobOut(Schema):
    job: str
    last_run: MapReduceRunOut | None
    results_from: datetime | None = Field(description="when the results the pages show were computed")


class StatusOut(Schema):
    node: str
    computed_at: datetime = Field(description="the status is computed at most once a second")
    dependencies: DependenciesOut
    caches: CachesOut
    outbox: OutboxOut
    last_runs: list[JobRunOut]
    mapreduce: list[MapReduceJobOut]


# --- What operators see besides: all of it -----------------------------------------


class MapReduceRunDetailOut(MapReduceRunOut):
    error: str


class MapReduceJobDetailOut(Schema):
    job: str
    last_run: MapReduceRunDetailOut | None
    results_from: datetime | None


class StatusDetailOut(Schema):
    node: str
    computed_at: datetime
    dependencies: dict = Field(description="each check as it ran: versions, WAL positions, error_message")
    caches: dict
    outbox: OutboxOut
    last_runs: list[JobRunOut]
    mapreduce: list[MapReduceJobDetailOut]


@router.get("/status", response=StatusOut, summary="State of this node and what it depends on")
def status(request: HttpRequest):
    """Everything a dashboard needs to draw the platform's box and the boxes behind it:
    states and figures, for anyone."""
    return health.status()


@router.get(
    "/status/detail",
    response={200: StatusDetailOut, 401: Detail, 403: Detail},
    auth=operator,
    summary="The same, with versions, WAL positions and raw errors (operators only)",
)
def status_detail(request: HttpRequest):
    return health.status()
