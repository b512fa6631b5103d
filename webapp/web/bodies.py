"""Request bodies are bounded before they are read.

The largest body a page sends is the profile form with a member's picture
(settings.UPLOAD_MAX_BYTES). Django holds a body it reads whole (a urlencoded form)
to DATA_UPLOAD_MAX_MEMORY_SIZE, from its Content-Length; but the files of a multipart
form are not counted, and its upload handlers would stream any size of them to
memory, then to a temporary file. BoundedUpload, the first of FILE_UPLOAD_HANDLERS,
refuses a multipart body longer than UPLOAD_MAX_BYTES from its Content-Length, before
a byte of it is read (Django never reads a body past its Content-Length). Either
refusal is RequestDataTooBig: a 413 page that says why (web.errors.bad_request).

(The platform has the same handler, platform_layer.bodies: the tiers share no code.)
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler


class BoundedUpload(FileUploadHandler):
    """Refuses a multipart body longer than UPLOAD_MAX_BYTES, unread; lets the next
    handlers store the files of any other."""

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: str | None = None
    ) -> None:
        if content_length > settings.UPLOAD_MAX_BYTES:
            raise RequestDataTooBig(f"A multipart body of {content_length} bytes, refused unread.")

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        return raw_data  # to the next handler

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler makes the file
