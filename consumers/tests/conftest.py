import pytest

from platform_layer.testing import ensure_test_vhost


@pytest.fixture(scope="session", autouse=True)
def test_vhost() -> None:
    ensure_test_vhost()
