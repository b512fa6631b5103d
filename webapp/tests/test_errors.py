"""web.errors: what goes wrong is an error page (or a JSON error), never a crash."""

from django.conf import settings
from django.test import RequestFactory

from web import errors
from web.platform_client import platform
from web.platform_nodes import Balancer


def test_a_dead_platform_pool_is_a_503_page_not_a_crash(client, monkeypatch):
    monkeypatch.setattr(platform, "nodes", Balancer("http://127.0.0.1:1"))
    response = client.get("/")
    assert response.status_code == 503
    assert b"Platform unavailable" in response.content
    assert client.get("/healthz").status_code == 200, "liveness does not depend on the platform"
    assert client.get("/readyz").status_code == 503, "readiness does"


def test_a_dead_platform_pool_is_a_503_json_error_on_the_public_api(client, monkeypatch):
    monkeypatch.setattr(platform, "nodes", Balancer("http://127.0.0.1:1"))
    response = client.get("/api/stories")
    assert response.status_code == 503
    assert response.json()["error"] == "Platform unavailable"


def test_the_500_page_needs_neither_the_request_nor_the_platform(monkeypatch):
    monkeypatch.setattr(platform, "nodes", Balancer("http://127.0.0.1:1"))
    response = errors.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert b"Something went wrong" in response.content
    assert settings.NODE_NAME.encode() in response.content


def test_unknown_pages_are_404_pages_in_the_site_template(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert b'data-testid="web-node"' in response.content
