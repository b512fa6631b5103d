"""Operations: the state of this node and of what it depends on."""

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema

from platform_layer import health

router = Router(tags=["ops"])


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
    error: str
    input_rows: int | None
    output_rows: int | None


class MapReduceJobOut(Schema):
    job: str
    last_run: MapReduceRunOut | None
    results_from: datetime | None = Field(description="when the results the pages show were computed")


class StatusOut(Schema):
    node: str
    dependencies: dict
    caches: dict
    outbox: OutboxOut
    last_runs: list[JobRunOut]
    mapreduce: list[MapReduceJobOut]


@router.get("/status", response=StatusOut, summary="State of this node and what it depends on")
def status(request: HttpRequest):
    """Everything a dashboard needs to draw the platform's box and the boxes behind it."""
    return health.status()
