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


class Unreadable:
    """A request body that fails the test when anything reads it."""

    def read(self, *args, **kwargs):
        raise AssertionError("the body was read")

    readline = read


def test_an_upload_past_the_bound_is_a_413_page_and_is_not_read(member, login):
    client = login(member)
    response = client.generic(
        "POST",
        "/settings/profile",
        b"-",  # (the test client sets no Content-Type on an empty body)
        content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(settings.UPLOAD_MAX_BYTES + 1),
        **{"wsgi.input": Unreadable()},
    )
    assert response.status_code == 413
    assert b'data-testid="error-message"' in response.content
    assert b"a picture: at most 2 MB" in response.content


def test_a_form_past_the_bound_is_a_413_page(client):
    response = client.post(
        "/login", {"username": "x", "password": "y" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}
    )
    assert response.status_code == 413
    assert b"larger than this site accepts" in response.content


def test_a_body_past_the_bound_is_a_413_json_error_on_the_public_api(client):
    response = client.post("/api/search", {"q": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    assert response.status_code == 413
    assert response.json()["error"] == "Too large"


def test_too_many_fields_is_a_400_page_that_says_so(client):
    query = "&".join(f"f{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = client.get(f"/newest?{query}")
    assert response.status_code == 400
    assert b"too many fields" in response.content
