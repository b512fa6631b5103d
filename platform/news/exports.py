"""The "export my data" job, the article's first off-line pattern: schedule, then poll.

The request writes a job row and its message in one transaction and returns its id
at once (HTTP 202); a consumer builds the document, recording its progress as it
goes; the member's page polls the job until the file is ready to download.

Bounded, so that exports cannot be used to flood the stack: one export in progress
per member (a second request is refused until the first finishes: a partial unique
index, so two requests at the same moment cannot both pass), built on a queue and
consumer of their own (`exports`), and deleted with their document once
EXPORT_RETENTION_HOURS have passed since they finished (the `expire-exports` job).
"""

import json
import uuid
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from jobs import outbox
from jobs.models import Export
from news.errors import Conflict, NotFound
from news.models import Click, Follow, Story, User

CHUNK = 500  # stories per progress step
IN_PROGRESS = "An export is already in progress: wait for it to finish."
ONE_AT_A_TIME = "one_export_in_progress_per_member"  # the constraint (jobs.models.Export)


def request(user_id: int) -> Export:
    """Schedule an export of the member's data; Conflict while another is unfinished."""
    try:
        # A savepoint: a refusal leaves the caller's transaction usable.
        with transaction.atomic():
            export = Export.objects.create(user_id=user_id)
            outbox.enqueue("jobs.export", export_id=str(export.pk))
    except IntegrityError as exc:
        if getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) != ONE_AT_A_TIME:
            raise
        raise Conflict(IN_PROGRESS) from None
    return export


def get(export_id: uuid.UUID, user_id: int) -> Export:
    """The member's own export (another member's is as good as missing, and so is one
    past its retention, deleted or about to be)."""
    export = (
        Export.objects.unexpired(timezone.now()).filter(pk=export_id, user_id=user_id).defer("result").first()
    )
    if export is None:
        hours = settings.EXPORT_RETENTION_HOURS
        raise NotFound(
            f"No export {export_id}: exports are deleted {hours} hour{'s' if hours != 1 else ''}"
            " after they are ready."
        )
    return export


def document(export_id: uuid.UUID, user_id: int) -> tuple[bytes, str]:
    """The finished JSON document of the member's export, and a file name for it."""
    export = get(export_id, user_id)
    if export.status != Export.DONE:
        raise Conflict(f"The export is {export.status}, not ready yet.")
    result = Export.objects.values_list("result", flat=True).get(pk=export.pk)
    return bytes(result or b""), f"scale-news-export-{export.created_at:%Y%m%d}.json"


def build(export_id: str) -> bool:
    """Build the document of an export; False when there is nothing (left) to do."""
    export = Export.objects.filter(pk=export_id).defer("result").first()
    if export is None or export.status in (Export.DONE, Export.FAILED):
        return False  # deleted (expired), or a redelivered message for finished work
    Export.objects.filter(pk=export_id).update(status=Export.RUNNING, progress=0)
    user = User.objects.get(pk=export.user_id)
    stories_qs = Story.objects.filter(author_id=user.pk).order_by("created_at", "id")
    total = stories_qs.count()
    stories: list[dict] = []
    for start in range(0, total, CHUNK):
        for story in stories_qs[start : start + CHUNK]:
            stories.append(
                {
                    "id": story.pk,
                    "title": story.title,
                    "url": story.url,
                    "text": story.text,
                    "created_at": story.created_at.isoformat(),
                }
            )
        # Stories are most of the work: they take the progress bar to 90%.
        done = min(start + CHUNK, total)
        Export.objects.filter(pk=export_id).update(progress=int(90 * done / total))
    document = {
        "exported_at": timezone.now().isoformat(),
        "member": {
            "username": user.username,
            "name": user.name,
            "bio": user.bio,
            "date_joined": user.date_joined.isoformat(),
        },
        "following": list(
            Follow.objects.filter(follower_id=user.pk)
            .order_by("followee__username")
            .values_list("followee__username", flat=True)
        ),
        "stories": stories,
        "clicks": [
            {"story_id": story_id, "referrer_domain": domain, "at": at.isoformat()}
            for story_id, domain, at in Click.objects.filter(user_id=user.pk)
            .order_by("created_at")
            .values_list("story_id", "referrer_domain", "created_at")
        ],
    }
    Export.objects.filter(pk=export_id).update(
        status=Export.DONE,
        progress=100,
        result=json.dumps(document, indent=1).encode(),
        finished_at=timezone.now(),
    )
    return True


def fail(export_id: str, reason: str) -> None:
    """Mark an export failed (a message without a valid export id has none to mark)."""
    try:
        valid_id = uuid.UUID(str(export_id))
    except ValueError:
        return
    Export.objects.filter(pk=valid_id).exclude(status=Export.DONE).update(
        status=Export.FAILED, error=reason, finished_at=timezone.now()
    )


def expire(now: datetime) -> int:
    """Delete the exports past their retention, their documents with them (a document
    lives in its export's row); return how many."""
    deleted, _ = Export.objects.expired(now).delete()
    return deleted
