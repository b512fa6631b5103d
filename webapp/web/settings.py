"""Settings for a web node, read from the environment.

https://docs.djangoproject.com/en/5.2/topics/settings/
A web node is stateless: no database, sessions in signed cookies, every piece of
data from the platform layer. Any node can serve any request.
"""

import os
import socket

from django.core.exceptions import ImproperlyConfigured


def env(name: str, default: str | None = None) -> str:
    """Return an environment variable, failing fast when a required one is missing."""
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"Set the environment variable {name} (see .env.example).")
    return value


# --- Core ---------------------------------------------------------------------
DEBUG = env("DJANGO_DEBUG", "0") == "1"
SECRET_KEY = env("WEB_SECRET_KEY")
ALLOWED_HOSTS = env("WEB_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",")
NODE_NAME = env("NODE_NAME", socket.gethostname())

INSTALLED_APPS = [
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "web",
]
MIDDLEWARE = [
    # Outermost: counts every answer, error pages included, for Prometheus.
    "web.metrics.count_requests",
    "web.middleware.served_by",
    "web.middleware.platform_calls",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "web.auth.member_middleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Innermost, so that it sees what views raise first.
    "web.errors.ErrorPages",
]
ROOT_URLCONF = "web.urls"
WSGI_APPLICATION = "web.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.messages.context_processors.messages",
                "web.middleware.node_name",
            ]
        },
    }
]
# No database: the platform layer owns the data (the article's platform layer).
DATABASES: dict = {}

# --- Sessions, CSRF, messages: all in cookies, so any node serves any member ------
# The session holds who is logged in (web/auth.py), signed with SECRET_KEY.
# This process's memory: rendered lists of stories ({% cache %} in
# templates/web/_stories.html), keyed by the platform's data they show, so an entry is
# never stale, only unused; the least recently used go first. Nothing else is cached here:
# the data is the platform's, and its cache is Redis.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 2000},
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
SESSION_COOKIE_HTTPONLY = True  # no script reads it
SESSION_COOKIE_SAMESITE = "Lax"  # not sent on cross-site POSTs
SESSION_COOKIE_AGE = 14 * 24 * 3600
# The stack serves plain HTTP on loopback (README: what this is not); behind TLS, make these True.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
# `manage.py check --deploy` (make checks) fails on any warning but these four, which
# ask for HTTPS; with TLS at the edge, set HSTS, the redirect and secure cookies, and
# drop them from this list. https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
SILENCED_SYSTEM_CHECKS = ["security.W004", "security.W008", "security.W011", "security.W016"]
CSRF_FAILURE_VIEW = "web.errors.csrf_failure"

# --- Request bodies: bounded before they are read (web.bodies) --------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#data-upload-max-memory-size
# A body read whole: the longest form is a story, 5,000 characters of text at up to
# 12 bytes each once percent-encoded. Past it, a 413 page.
DATA_UPLOAD_MAX_MEMORY_SIZE = 128 * 1024
# The forms have a handful of fields, the query strings two or three; past this, a 400.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
# A member's picture (the platform's limit too), and the multipart body that carries
# it with the rest of the profile form: past it, a 413 page, the body left unread.
AVATAR_MAX_BYTES = 2 * 1024 * 1024
UPLOAD_MAX_BYTES = AVATAR_MAX_BYTES + 64 * 1024
FILE_UPLOAD_HANDLERS = [
    "web.bodies.BoundedUpload",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"
USE_TZ = True
TIME_ZONE = "UTC"

# --- Platform layer -------------------------------------------------------------
# One load-balanced address for the whole platform pool (haproxy/platform.cfg).
PLATFORM_URL = env("PLATFORM_URL", "http://platform-lb:9000")
# Where the dashboard's figures come from (web.dashboard): the web tier asks, never the browser.
PROMETHEUS_URL = env("PROMETHEUS_URL", "http://prometheus:9090")
# `balancer`: every call to PLATFORM_URL. `smart`: a client-side pool of the
# platform nodes themselves (web.platform_nodes).
PLATFORM_CLIENT = env("PLATFORM_CLIENT", "balancer")
PLATFORM_NODES = [url.strip() for url in env("PLATFORM_NODES", "").split(",") if url.strip()]
PLATFORM_API_TOKEN = env("PLATFORM_API_TOKEN")
# (connect, read) seconds: a dead pool must cost a page seconds at most.
PLATFORM_TIMEOUT = (float(env("PLATFORM_CONNECT_TIMEOUT", "1")), float(env("PLATFORM_READ_TIMEOUT", "5")))

# --- Static files, served by the CDN host ----------------------------------------
# https://docs.djangoproject.com/en/5.2/howto/static-files/deployment/
# Files are collected at build time with content hashes in their names, so the
# CDN can cache them for a year; a new build gets new names.
STATIC_URL = env("CDN_URL", "http://static.localhost:8081/static/")
STATIC_ROOT = "/app/staticfiles"
# Members' pictures are linked on the CDN host too, which reads them through from
# this site on a miss and keeps them (nginx/cdn.conf); "/" links them here instead.
MEDIA_URL = env("MEDIA_CDN_URL", "/")
STORAGES = {
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}
