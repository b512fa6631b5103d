"""news.api.exports: schedule, then poll, then download."""

import json
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from jobs.models import Export, OutboxMessage
from news import exports
from news.models import Story
from tests.support import acting, member

pytestmark = pytest.mark.django_db


def test_an_export_is_accepted_at_once_then_built_and_downloaded(api, author):
    Story.objects.create(author=author, title="Exported", url="https://example.com/e")
    as_author = acting(author.pk)
    response = api.post(f"/api/v1/users/{author.pk}/exports", **as_author)
    assert response.status_code == 202
    job = response.json()
    assert (job["status"], job["progress"]) == ("queued", 0)
    assert OutboxMessage.objects.get(task="jobs.export").kwargs == {"export_id": job["id"]}
    assert api.get(f"/api/v1/exports/{job['id']}/download", **as_author).status_code == 409

    assert exports.build(job["id"]) is True
    assert exports.build(job["id"]) is False, "a redelivered message finds the work done"
    assert api.get(f"/api/v1/exports/{job['id']}", **as_author).json()["status"] == "done"
    download = api.get(f"/api/v1/exports/{job['id']}/download", **as_author)
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    document = json.loads(download.content)
    assert document["member"]["username"] == author.username
    assert [story["title"] for story in document["stories"]] == ["Exported"]


def test_another_members_export_is_not_found(api, author):
    export = Export.objects.create(user=author)
    other = member("other")
    response = api.get(f"/api/v1/exports/{export.pk}", **acting(other.pk))
    assert response.status_code == 404
    assert api.post(f"/api/v1/users/{author.pk}/exports", **acting(other.pk)).status_code == 403
    assert api.get("/api/v1/exports/not-a-uuid", **acting(other.pk)).status_code == 404


def test_a_second_export_while_the_first_is_unfinished_is_a_409_that_says_why(api, author):
    as_author = acting(author.pk)
    first = api.post(f"/api/v1/users/{author.pk}/exports", **as_author)
    assert first.status_code == 202
    second = api.post(f"/api/v1/users/{author.pk}/exports", **as_author)
    assert second.status_code == 409
    assert second.json() == {"detail": "An export is already in progress: wait for it to finish."}
    exports.build(first.json()["id"])
    assert api.post(f"/api/v1/users/{author.pk}/exports", **as_author).status_code == 202


def test_a_finished_export_says_until_when_it_is_kept_and_is_gone_after(api, author, settings):
    settings.EXPORT_RETENTION_HOURS = 24
    as_author = acting(author.pk)
    job = api.post(f"/api/v1/users/{author.pk}/exports", **as_author).json()
    assert job["expires_at"] is None, "not until it is finished"
    exports.build(job["id"])
    done = api.get(f"/api/v1/exports/{job['id']}", **as_author).json()
    assert datetime.fromisoformat(done["expires_at"]) - datetime.fromisoformat(
        done["finished_at"]
    ) == timedelta(hours=24)
    Export.objects.filter(pk=job["id"]).update(finished_at=timezone.now() - timedelta(hours=25))
    for path in (f"/api/v1/exports/{job['id']}", f"/api/v1/exports/{job['id']}/download"):
        gone = api.get(path, **as_author)
        assert gone.status_code == 404
        assert (
            gone.json()["detail"]
            == f"No export {job['id']}: exports are deleted 24 hours after they are ready."
        )
