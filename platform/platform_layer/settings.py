"""Settings for the platform layer, read from the environment.

https://docs.djangoproject.com/en/5.2/topics/settings/
Every variable is documented in the repository's .env.example.
"""

import os
import socket
from typing import Any

from django.core.exceptions import ImproperlyConfigured


def env(name: str, default: str | None = None) -> str:
    """Return an environment variable, failing fast when a required one is missing."""
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"Set the environment variable {name} (see .env.example).")
    return value


# --- Core ---------------------------------------------------------------------
DEBUG = env("DJANGO_DEBUG", "0") == "1"
SECRET_KEY = env("PLATFORM_SECRET_KEY")
# The platform is only reachable on the internal network, through its load balancer.
ALLOWED_HOSTS = env("PLATFORM_ALLOWED_HOSTS", "*").split(",")
# Name of this node, sent back in every response so a reader can watch the balancing.
NODE_NAME = env("NODE_NAME", socket.gethostname())
# Shared secret the web tier presents on every call (see platform_layer.middleware).
# Only the platform nodes hold it: the relay, the consumers and migrations serve no
# HTTP, and without it every call to them would be refused.
PLATFORM_API_TOKEN = env("PLATFORM_API_TOKEN", "")
# How long a member's login lasts (the web tier's session cookie lasts as long):
# the assertion the platform signs at login expires then (signins.assertions).
SIGN_IN_MAX_AGE = int(env("SIGN_IN_MAX_AGE", str(14 * 24 * 3600)))

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.postgres",
    "news",
    "jobs",
    "idempotency",
    "mapreduce",
    "signins",
    "platform_layer",  # its management commands (create_roles)
]
MIDDLEWARE = [
    # Outermost: counts every answer, errors included, for Prometheus.
    "platform_layer.metrics.count_requests",
    "platform_layer.middleware.served_by",
    "django.middleware.common.CommonMiddleware",
    "platform_layer.middleware.require_api_token",
    "platform_layer.db.ReadPoolMiddleware",
    # Inside the read pool's: a write and its kept answer commit before the WAL
    # position is stamped on the response.
    "idempotency.middleware.IdempotencyMiddleware",
]
# `manage.py check --deploy` (make checks) fails on any warning but these, which
# protect browsers: the platform answers only the web tier, on an internal network,
# with JSON and a bearer token; no browser, cookie or frame ever reaches it.
# https://docs.djangoproject.com/en/5.2/ref/checks/#security
SILENCED_SYSTEM_CHECKS = ["security.W001", "security.W002", "security.W003"]
ROOT_URLCONF = "platform_layer.urls"
WSGI_APPLICATION = "platform_layer.wsgi.application"
AUTH_USER_MODEL = "news.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

# --- Postgres -----------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/databases/#postgresql-notes
# `default` is the write pool (the primary). With POSTGRES_READ_PORT set, `replica`
# is the read pool (the streaming replica); platform_layer.db decides which reads
# may go there.
_POSTGRES: dict[str, Any] = {
    "ENGINE": "django.db.backends.postgresql",
    "HOST": env("POSTGRES_HOST", "postgres"),
    "PORT": env("POSTGRES_PORT", "5432"),
    "NAME": env("POSTGRES_DB"),
    "USER": env("POSTGRES_USER"),
    "PASSWORD": env("POSTGRES_PASSWORD"),
    # Keep connections between requests: opening one costs more than most queries.
    "CONN_MAX_AGE": 60,
    "CONN_HEALTH_CHECKS": True,
    # A dead database must cost a request seconds, not minutes; so must a runaway query
    # or a lock held too long: Postgres cancels them (the platform nodes set 5 s, the
    # off-line workers longer, migrations none). https://www.postgresql.org/docs/17/runtime-config-client.html
    "OPTIONS": {
        "connect_timeout": 3,
        "options": (
            f"-c statement_timeout={env('POSTGRES_STATEMENT_TIMEOUT', '60s')}"
            f" -c lock_timeout={env('POSTGRES_LOCK_TIMEOUT', '10s')}"
            " -c idle_in_transaction_session_timeout=60s"
        ),
    },
}
DATABASES = {"default": _POSTGRES}
if os.environ.get("POSTGRES_READ_PORT"):
    DATABASES["replica"] = {
        **_POSTGRES,
        "HOST": env("POSTGRES_READ_HOST", _POSTGRES["HOST"]),
        "PORT": env("POSTGRES_READ_PORT"),
        # A replica has the primary's data: tests use the primary's test database.
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["platform_layer.db.ReadPoolRouter"]
# Writes that change no row (paths, as regular expressions): a click puts an event on
# the click stream, named by an id that its retries share. They read as a GET does (the
# read pool; while the primary is down, without it) and keep no answer in Postgres, so
# that a click through still goes through while a replica is being promoted.
ROWLESS_WRITES = [r"/api/v1/stories/\d+/clicks"]

# --- Redis (the cache) ----------------------------------------------------------
REDIS_URL = env("REDIS_URL", "redis://redis:6379/0")
# off: the cache is never asked or filled, and every read goes to Postgres (make bench).
CACHE_ENABLED = env("CACHE_ENABLED", "on") != "off"
# Short timeouts: a dead cache must cost milliseconds, and pages fall back to Postgres.
REDIS_SOCKET_TIMEOUT = float(env("REDIS_SOCKET_TIMEOUT", "0.25"))

# --- Uploads ------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#data-upload-max-memory-size
AVATAR_MAX_BYTES = 2 * 1024 * 1024
# The largest body of any request: a picture and the form around it. A multipart body
# is held to it too, before it is read (platform_layer.bodies); past it, a 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = AVATAR_MAX_BYTES + 64 * 1024
FILE_UPLOAD_HANDLERS = [
    "platform_layer.bodies.BoundedUpload",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- RabbitMQ -------------------------------------------------------------------
BROKER_URL = env("BROKER_URL")
RABBITMQ_API_URL = env("RABBITMQ_API_URL", "http://rabbitmq:15672/api")
# Who reads queue depths from that API for /status: a user tagged `monitoring` only.
RABBITMQ_MONITOR_USER = env("RABBITMQ_MONITOR_USER", "")
RABBITMQ_MONITOR_PASSWORD = env("RABBITMQ_MONITOR_PASSWORD", "")

# --- Off-line work ------------------------------------------------------------------
# The daily purge job deletes stories older than this (the demo world spans 60 days).
STORY_RETENTION_DAYS = int(env("STORY_RETENTION_DAYS", "365"))
# A finished data export, its document included, is deleted this long after it finished
# (the hourly expire-exports job); until then its member may download it.
EXPORT_RETENTION_HOURS = int(env("EXPORT_RETENTION_HOURS", "24"))
# A visitor's clicks on one story count once in this many seconds (news.clicks): a
# flood of clicks, or a forged Referer sent again and again, counts once. 0: every click.
CLICK_DEDUP_SECONDS = int(env("CLICK_DEDUP_SECONDS", "600"))

# --- Map-reduce on Spark (mapreduce/: the analytics profile) -------------------------
# Another cluster runs the same jobs: point this at its master.
SPARK_MASTER_URL = env("SPARK_MASTER_URL", "spark://spark-master:7077")
# Sized for a 2-core, 24 GiB machine beside the whole stack (README: Map-reduce).
SPARK_DRIVER_MEMORY = env("SPARK_DRIVER_MEMORY", "1g")
SPARK_EXECUTOR_MEMORY = env("SPARK_EXECUTOR_MEMORY", "1536m")
SPARK_JOB_TIMEOUT = int(env("SPARK_JOB_TIMEOUT", "1800"))  # seconds

# --- Logging: everything to stdout, where `docker compose logs` finds it ---------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    # pika narrates every connection at INFO; its warnings are enough.
    "loggers": {"pika": {"level": "WARNING"}},
}
