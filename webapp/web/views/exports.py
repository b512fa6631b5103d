"""Exporting one's data, the article's "schedule, then poll": the platform answers at once
with a queued job, a consumer builds the file off-line, and the member's page polls it.

The export page works without JavaScript (it reloads itself until the job ends); with
it, static/web/export.js polls the JSON view and moves the progress bar.

One export at a time: while the member's previous one is unfinished the platform
refuses another, and the settings page says so. A finished export is kept for a while
(its `expires_at`), then deleted: its page then says it is gone.
"""

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from web.auth import login_required
from web.platform_client import Conflict, NotFound, platform

FINISHED = ("done", "failed")


@require_POST
@login_required
def request_export(request: HttpRequest) -> HttpResponse:
    """Schedule the export and send the member to its page: 303, so a reload there is a GET.
    While their previous export is unfinished, back to the settings page, which says why."""
    try:
        export = platform.request_export(request.member)
    except Conflict as exc:
        messages.warning(request, exc.detail)
        return HttpResponseRedirect(reverse("settings-profile"), status=303)
    return HttpResponseRedirect(reverse("export", args=[export["id"]]), status=303)


def _gone(request: HttpRequest, refusal: NotFound) -> HttpResponse:
    """An export that expired (or never was the member's): its page says so, with the platform's reason."""
    return render(request, "web/export.html", {"export": None, "gone": refusal.detail}, status=404)


@require_GET
@login_required
@never_cache
def export_page(request: HttpRequest, export_id: uuid.UUID) -> HttpResponse:
    # Someone else's export is a 404 from the platform, as if it did not exist.
    try:
        export = platform.export(request.member, export_id)
    except NotFound as exc:
        return _gone(request, exc)
    context = {"export": export, "finished": export["status"] in FINISHED}
    return render(request, "web/export.html", context)


@require_GET
@login_required
@never_cache
def export_json(request: HttpRequest, export_id: uuid.UUID) -> JsonResponse:
    """What export.js polls: the platform's job record, as it is."""
    return JsonResponse(platform.export(request.member, export_id))


@require_GET
@login_required
def download(request: HttpRequest, export_id: uuid.UUID) -> HttpResponse:
    """The finished file, passed through with the platform's type and file name."""
    try:
        file = platform.download_export(request.member, export_id)
    except NotFound as exc:
        return _gone(request, exc)
    except Conflict:
        # Only a typed or stale link gets here: the page shows the link once the file is done.
        messages.info(request, "Your export is not ready yet. The download link appears here when it is.")
        return redirect("export", export_id=export_id)
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = file.disposition
    response["Cache-Control"] = "private, no-store"  # a member's own data
    return response
