import pytest
from django.conf import settings
from django.test import Client


@pytest.fixture
def api(client: Client) -> Client:
    """A test client that presents the web tier's API token, as the web nodes do."""
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {settings.PLATFORM_API_TOKEN}"
    return client
