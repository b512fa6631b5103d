"""Request bodies are bounded before they are read.

The largest body a caller has reason to send is a member's picture in a multipart
form (settings.AVATAR_MAX_BYTES, and the form around it): DATA_UPLOAD_MAX_MEMORY_SIZE.
Django holds a body it reads whole (request.body: JSON, the idempotency middleware's
fingerprint) to that size, from its Content-Length; but the files of a multipart form
are not counted, and its upload handlers would stream any size of them to memory,
then to a temporary file. BoundedUpload, the first of FILE_UPLOAD_HANDLERS, refuses
such a body from its Content-Length too, before a byte of it is read (Django never
reads a body past its Content-Length).

Both refusals are RequestDataTooBig, which `bad_request` (the URLconf's handler400)
answers with a 413 and a reason, in JSON like every other answer of the API.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, JsonResponse


class BoundedUpload(FileUploadHandler):
    """Refuses a multipart body longer than DATA_UPLOAD_MAX_MEMORY_SIZE, unread; lets
    the next handlers store the files of any other."""

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: str | None = None
    ) -> None:
        if content_length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            raise RequestDataTooBig(f"A multipart body of {content_length} bytes, refused unread.")

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        return raw_data  # to the next handler

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler makes the file


def bad_request(request: HttpRequest, exception: Exception) -> JsonResponse:
    """Django's own refusals of a request (a SuspiciousOperation, a malformed body),
    as JSON with a reason: a body too large is a 413, the rest a 400."""
    if isinstance(exception, RequestDataTooBig):
        limit, picture = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024, settings.AVATAR_MAX_BYTES // 1024
        message = (
            f"The request body is larger than {limit} KB, the most this API reads (a picture: {picture} KB)."
        )
        return JsonResponse({"detail": message}, status=413)
    return JsonResponse({"detail": "The request could not be understood."}, status=400)
