"""web.views.exports: schedule (a 202 from the platform), then poll, then download."""

import re
import uuid

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import acting, csrf_token, wait_for
from web.platform_client import Conflict, NotFound, platform

EXPORT_FIELDS = {"id", "status", "progress", "error", "created_at", "finished_at", "expires_at"}
IN_PROGRESS = "An export is already in progress: wait for it to finish."
GONE = "No export {}: exports are deleted 24 hours after they are ready."
REFRESH = '<noscript><meta http-equiv="refresh" content="2"></noscript>'


def request_export(client: Client) -> str:
    """Ask for an export through the settings page's form; return the export page's path."""
    page = client.get("/settings/profile").content.decode()
    assert 'data-testid="export-request"' in page
    response = client.post("/settings/export", {"csrfmiddlewaretoken": csrf_token(page)})
    assert response.status_code == 303, "see other: reloading the export page must not post again"
    assert re.fullmatch(r"/exports/[0-9a-f-]{36}", response["Location"]), response["Location"]
    return response["Location"]


def test_request_poll_and_download_an_export(member, login):
    client = Client(enforce_csrf_checks=True)
    client.cookies = login(member).cookies  # the session; forms below carry their CSRF token
    path = request_export(client)

    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="export-status"' in html and '<progress max="100"' in html
    assert f'data-poll-url="{path}.json"' in html

    response = client.get(f"{path}.json")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert set(response.json()) == EXPORT_FIELDS and response.json()["id"] == path.rsplit("/", 1)[1]

    def finished() -> dict | None:
        export = client.get(f"{path}.json").json()
        return export if export["status"] in ("done", "failed") else None

    export = wait_for(finished, what="the consumer to build the export")
    assert export["status"] == "done" and export["progress"] == 100, export
    assert export["finished_at"]

    html = client.get(path).content.decode()
    assert f'href="{path}/download"' in html
    assert 'data-testid="export-ready" hidden' not in html
    assert 'data-testid="export-expires">Kept until <time datetime="' in html, "until when the file is kept"
    assert REFRESH not in html and "web/export." not in html, "a finished export neither reloads nor polls"

    download = client.get(f"{path}/download")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/json"
    disposition = download["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="scale-news-export-\d{8}\.json"', disposition), disposition
    document = download.json()
    assert document["member"]["username"] == member["username"]


def test_an_unfinished_export_reloads_without_javascript_and_polls_with_it(member, login, monkeypatch):
    export = platform.request_export(acting(member))
    queued = {**export, "status": "queued", "progress": 40, "finished_at": None}
    monkeypatch.setattr(platform, "export", lambda acting, export_id: queued)
    html = login(member).get(f"/exports/{export['id']}").content.decode()
    assert REFRESH in html
    # The poller, from the CDN host like the stylesheet, with a content-hashed name.
    assert re.search(re.escape(settings.STATIC_URL) + r'web/export\.[0-9a-f]{12}\.js" defer', html)
    assert '<progress max="100" value="40"' in html
    assert 'data-testid="export-ready" hidden' in html and 'data-testid="export-error" hidden' in html


def test_a_failed_export_says_why_and_stops_reloading(member, login, monkeypatch):
    export = platform.request_export(acting(member))
    failed = {**export, "status": "failed", "error": "The export could not be built. Please try again."}
    monkeypatch.setattr(platform, "export", lambda acting, export_id: failed)
    html = login(member).get(f"/exports/{export['id']}").content.decode()
    assert 'data-testid="export-error">The export could not be built. Please try again.<' in html
    assert REFRESH not in html
    assert 'data-testid="export-ready" hidden' in html, "no download link"


def test_downloading_before_the_export_is_done_explains_and_goes_back_to_its_page(member, login, monkeypatch):
    export = platform.request_export(acting(member))

    def not_yet(acting: int, export_id: uuid.UUID):
        raise Conflict("The export is queued, not ready yet.")

    monkeypatch.setattr(platform, "download_export", not_yet)
    client = login(member)
    response = client.get(f"/exports/{export['id']}/download")
    assert response.status_code == 302 and response["Location"] == f"/exports/{export['id']}"
    html = client.get(response["Location"]).content.decode()
    assert "Your export is not ready yet." in html


def test_someone_elses_export_is_a_404(make_member, login):
    owner, other = make_member(), make_member()
    export = platform.request_export(acting(owner))
    client = login(other)
    for suffix in ("", ".json", "/download"):
        assert client.get(f"/exports/{export['id']}{suffix}").status_code == 404, suffix


@pytest.mark.parametrize(
    "path",
    [
        "/exports/not-a-uuid",
        "/exports/12345",
        "/exports/" + "a" * 36,
        f"/exports/{uuid.uuid4()}x.json",
        f"/exports/{uuid.uuid4()}",  # well formed, but nobody's
        f"/exports/{uuid.uuid4()}.json",
        f"/exports/{uuid.uuid4()}/download",
    ],
)
def test_bad_or_unknown_export_ids_are_404s(member, login, path):
    assert login(member).get(path).status_code == 404


def test_exports_need_a_login_and_scheduling_one_needs_a_post(member, login):
    some = f"/exports/{uuid.uuid4()}"
    for path in (some, f"{some}.json", f"{some}/download"):
        assert Client().get(path)["Location"].startswith("/login?next="), path
    assert Client().post("/settings/export")["Location"].startswith("/login?next=")
    assert login(member).get("/settings/export").status_code == 405
    assert Client(enforce_csrf_checks=True).post("/settings/export").status_code == 403


def test_asking_again_while_an_export_is_unfinished_says_why_on_the_settings_page(member, login, monkeypatch):
    """The platform refuses a second export while the first is queued or running (409):
    the member is sent back to their settings with its reason, not to an error page."""
    client = Client(enforce_csrf_checks=True)
    client.cookies = login(member).cookies

    def in_progress(acting) -> dict:
        raise Conflict(IN_PROGRESS)

    monkeypatch.setattr(platform, "request_export", in_progress)
    page = client.get("/settings/profile").content.decode()
    response = client.post("/settings/export", {"csrfmiddlewaretoken": csrf_token(page)})
    assert response.status_code == 303 and response["Location"] == "/settings/profile"
    html = client.get(response["Location"]).content.decode()
    assert f'<li class="flash warning" data-testid="flash">{IN_PROGRESS}</li>' in html
    assert 'data-testid="export-request"' in html, "the form is there to ask again later"


def test_an_expired_export_says_it_is_gone_and_how_to_get_a_new_one(member, login, monkeypatch):
    export_id = uuid.uuid4()

    def gone(acting, export_id: uuid.UUID):
        raise NotFound(GONE.format(export_id))

    monkeypatch.setattr(platform, "export", gone)
    monkeypatch.setattr(platform, "download_export", gone)
    client = login(member)
    for path in (f"/exports/{export_id}", f"/exports/{export_id}/download"):
        response = client.get(path)
        assert response.status_code == 404, path
        html = response.content.decode()
        assert f"This export is no longer available. {GONE.format(export_id)}" in html
        assert 'href="/settings/profile">Request a new export' in html
        assert REFRESH not in html and "web/export." not in html, "nothing left to poll"
    # The poller reloads the page on a 404, which then says the same.
    assert client.get(f"/exports/{export_id}.json").status_code == 404
