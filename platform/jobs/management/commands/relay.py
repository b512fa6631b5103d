"""The outbox relay: publish what the platform wrote into the outbox, as it commits.

    python manage.py relay          # the `relay` service runs this

It waits on Postgres LISTEN/NOTIFY (woken as soon as an enqueuing transaction
commits) and polls every few seconds as well, in case a notification was missed.
When RabbitMQ or Postgres is down it backs off and tries again: messages wait in
Postgres meanwhile, so nothing is lost.
"""

import logging
import signal
import time
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, connection

from jobqueue import make_app
from jobs import outbox

log = logging.getLogger("relay")

POLL_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 15.0
# Touched on every loop; the container's healthcheck reads its age.
HEARTBEAT_FILE = Path("/tmp/alive")


class Command(BaseCommand):
    help = "Publish the outbox to RabbitMQ (the relay service)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.running = True
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        app = make_app(settings.BROKER_URL)
        listener: psycopg.Connection | None = None
        backoff = 0.0
        log.info("relay started")
        while self.running:
            HEARTBEAT_FILE.touch()
            try:
                if listener is None or listener.closed:
                    listener = self._listen()
                while self.running and outbox.relay_batch(app):
                    pass
                backoff = 0.0
            except Exception as exc:  # broker or database down: wait, then try again
                backoff = min(max(1.0, backoff * 2), MAX_BACKOFF_SECONDS)
                log.warning("relay: %s: %s; retrying in %.0fs", type(exc).__name__, exc, backoff)
                if isinstance(exc, (DatabaseError, psycopg.Error)):
                    connection.close()
                    if listener is not None:
                        listener.close()
                time.sleep(backoff)
                continue
            self._wait(listener, POLL_SECONDS)
        log.info("relay stopped")

    def _listen(self) -> psycopg.Connection:
        db: dict[str, Any] = settings.DATABASES["default"]
        listener = psycopg.connect(
            host=db["HOST"],
            port=db["PORT"],
            dbname=db["NAME"],
            user=db["USER"],
            password=db["PASSWORD"],
            connect_timeout=3,
            autocommit=True,
        )
        listener.execute(f"LISTEN {outbox.CHANNEL}")
        return listener

    def _wait(self, listener: psycopg.Connection, seconds: float) -> None:
        """Wait up to `seconds` for a notification that something was enqueued."""
        try:
            for _ in listener.notifies(timeout=seconds, stop_after=1):
                pass
        except psycopg.Error:
            listener.close()  # reconnected on the next loop

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.running = False
