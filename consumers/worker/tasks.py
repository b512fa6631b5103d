"""The jobs the consumers run. Each is idempotent: a redelivered message has one effect."""

import logging
import socket

from django.db import IntegrityError, transaction

from jobs.models import JobRun
from worker import app

log = logging.getLogger(__name__)


@app.task(name="jobs.heartbeat")
def heartbeat(slot: str, published_by: str = "") -> bool:
    """Record that the heartbeat scheduled for `slot` ran. Returns False for a duplicate."""
    try:
        with transaction.atomic():
            JobRun.objects.create(
                job="heartbeat", slot=slot, published_by=published_by, consumed_by=socket.gethostname()
            )
    except IntegrityError:
        log.info("heartbeat %s already recorded: duplicate delivery ignored", slot)
        return False
    return True
