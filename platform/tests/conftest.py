import pytest
from django.conf import settings
from django.test import Client
from hypothesis.configuration import set_hypothesis_home_dir

from news.cache import cache
from platform_layer.testing import ensure_test_vhost

# The image's code folder is read-only for its user: keep Hypothesis's examples in /tmp.
set_hypothesis_home_dir("/tmp/hypothesis")


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


@pytest.fixture(scope="session", autouse=True)
def test_vhost() -> None:
    ensure_test_vhost()
