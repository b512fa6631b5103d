"""Exports of a member's data: schedule, then poll, then download until `expires_at`.
One in progress at a time per member."""

import uuid
from datetime import datetime

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from news import exports
from news.api import auth
from news.api.schemas import Detail

router = Router(tags=["exports"])


class ExportOut(Schema):
    id: uuid.UUID
    status: str
    progress: int
    error: str
    created_at: datetime
    finished_at: datetime | None
    # When the finished export is deleted, its document with it; after that, a 404.
    expires_at: datetime | None


@router.post(
    "/users/{int:user_id}/exports", response={202: ExportOut, 403: Detail, 409: Detail}, auth=auth.owner
)
def request_export(request: HttpRequest, user_id: int):
    """Ask for a copy of one's data. Answers at once with the job; poll it until `done`.
    One at a time: a 409 while the member's previous export is queued or running."""
    return Status(202, exports.request(user_id))


@router.get("/exports/{uuid:export_id}", response={200: ExportOut, 404: Detail}, auth=auth.member)
def get_export(request: auth.MemberRequest, export_id: uuid.UUID):
    return exports.get(export_id, request.auth.id)


@router.get(
    "/exports/{uuid:export_id}/download",
    response={200: None, 404: Detail, 409: Detail},
    auth=auth.member,
)
def download_export(request: auth.MemberRequest, export_id: uuid.UUID):
    """The export's JSON document, once its status is `done`."""
    document, filename = exports.document(export_id, request.auth.id)
    response = HttpResponse(document, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
