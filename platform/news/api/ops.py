"""Operations: the state of this node and of what it depends on."""

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema

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


class StatusOut(Schema):
    node: str
    dependencies: dict
    caches: dict
    outbox: OutboxOut
    last_runs: list[JobRunOut]


@router.get("/status", response=StatusOut, summary="State of this node and what it depends on")
def status(request: HttpRequest):
    """Everything a dashboard needs to draw the platform's box and the boxes behind it."""
    return health.status()
