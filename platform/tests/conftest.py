import importlib.util
import os

import pytest
from django.conf import settings
from django.test import Client
from hypothesis import settings as hypothesis_settings
from hypothesis.configuration import set_hypothesis_home_dir

from news.cache import cache
from news.models import User
from platform_layer import health
from tests.support import member

# The Spark jobs' tests need Spark: they run in the analytics image (make test-unit).
collect_ignore = [] if importlib.util.find_spec("pyspark") else ["mapreduce/spark"]

# The image's code folder is read-only for its user: keep Hypothesis's examples in /tmp.
set_hypothesis_home_dir("/tmp/hypothesis")
# Generated input is the same on every run of the suite, so that a test run (CI's
# included) does not turn red on a new random draw; `make fuzz` explores new input.
hypothesis_settings.register_profile("repeatable", max_examples=30, derandomize=True)
hypothesis_settings.register_profile("explore", max_examples=300)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.fixture
def api(client: Client) -> Client:
    """A test client that presents the web tier's API token, as the web nodes do."""
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {settings.PLATFORM_API_TOKEN}"
    return client


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache (the tests' own Redis database)."""
    assert settings.REDIS_URL.endswith("/15"), "tests must not touch the live cache"
    cache.flush()
    yield


@pytest.fixture(autouse=True)
def fresh_status(monkeypatch):
    """Each test starts with no status computed yet (this process keeps one for a second)."""
    monkeypatch.setattr(health, "status", health._OncePerLifetime(health._status, health.STATUS_LIFETIME))


@pytest.fixture
def author(db) -> User:
    return member("author")


@pytest.fixture
def ada(db) -> User:
    return User.objects.create(username="ada", name="Ada")
