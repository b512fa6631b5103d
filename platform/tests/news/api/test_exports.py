"""news.api.exports: schedule, then poll, then download."""

import json

import pytest

from jobs.models import Export, OutboxMessage
from news import exports
from news.models import Story
from tests.support import member

pytestmark = pytest.mark.django_db


def test_an_export_is_accepted_at_once_then_built_and_downloaded(api, author):
    Story.objects.create(author=author, title="Exported", url="https://example.com/e")
    acting = {"HTTP_X_ACTING_USER": str(author.pk)}
    response = api.post(f"/api/v1/users/{author.pk}/exports", **acting)
    assert response.status_code == 202
    job = response.json()
    assert (job["status"], job["progress"]) == ("queued", 0)
    assert OutboxMessage.objects.get(task="jobs.export").kwargs == {"export_id": job["id"]}
    assert api.get(f"/api/v1/exports/{job['id']}/download", **acting).status_code == 409

    assert exports.build(job["id"]) is True
    assert exports.build(job["id"]) is False, "a redelivered message finds the work done"
    assert api.get(f"/api/v1/exports/{job['id']}", **acting).json()["status"] == "done"
    download = api.get(f"/api/v1/exports/{job['id']}/download", **acting)
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    document = json.loads(download.content)
    assert document["member"]["username"] == author.username
    assert [story["title"] for story in document["stories"]] == ["Exported"]


def test_another_members_export_is_not_found(api, author):
    export = Export.objects.create(user=author)
    other = member("other")
    response = api.get(f"/api/v1/exports/{export.pk}", HTTP_X_ACTING_USER=str(other.pk))
    assert response.status_code == 404
    assert api.post(f"/api/v1/users/{author.pk}/exports", HTTP_X_ACTING_USER=str(other.pk)).status_code == 403
    assert api.get("/api/v1/exports/not-a-uuid", HTTP_X_ACTING_USER=str(other.pk)).status_code == 404
