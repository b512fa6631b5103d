"""Idempotency keys: a write may be sent twice, and happens once.

A caller that may send a write again (its connection dropped before the answer came,
a balancer gave up on a frozen node, a person pressed the button twice) names the
write with an `Idempotency-Key` header. The first request with that key runs, and
its answer is kept with the key, in the same transaction as the write; a request
with the same key from the same caller gets that answer again and changes nothing.
A retry that arrives while the first attempt still runs waits for it (the key is
unique in Postgres). A key reused for a different request is refused (422); an
answer that is a server error is not kept, so a retry runs again. Keys are kept a
day (the `expire-answers` job).

Only writes (POST, PUT, PATCH, DELETE) use keys; without one, a write runs as ever. A
write that changes no row (platform_layer.db.rowless: a click) keeps no answer: what
it sends beyond Postgres carries an id made from its key (`write_id`), which makes a
retry of it count once.
https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/
"""

import hashlib
import logging
import re
import uuid
from collections.abc import Callable

from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from idempotency.models import KeptAnswer
from platform_layer import db
from signins.assertions import HEADER as ASSERTION_HEADER

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
KEY = re.compile(r"[A-Za-z0-9_.:\-]{1,100}")
WRITES = ("POST", "PUT", "PATCH", "DELETE")

Handler = Callable[[HttpRequest], HttpResponse]


def write_id(request: HttpRequest) -> uuid.UUID | None:
    """A stable id for this write, the same for every retry of it: for what the write
    sends beyond Postgres (a click's event id). None when it carries no key."""
    key = request.headers.get(HEADER)
    if request.method not in WRITES or key is None:
        return None
    return uuid.uuid5(uuid.NAMESPACE_URL, f"idempotency:{_caller(request)}:{key}")


def _caller(request: HttpRequest) -> str:
    """Whose keys these are: the sign-in the call acts for (a digest of its assertion,
    the same on every retry), or nobody's."""
    assertion = request.headers.get(ASSERTION_HEADER, "")
    return hashlib.sha256(assertion.encode()).hexdigest()[:20] if assertion else ""


def _fingerprint(request: HttpRequest) -> str:
    asked = hashlib.sha256()
    for part in (request.method or "", request.get_full_path()):
        asked.update(part.encode() + b"\0")
    asked.update(request.body)
    return asked.hexdigest()


class IdempotencyMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if request.method not in WRITES or key is None or db.rowless(request):
            return self.get_response(request)
        if not KEY.fullmatch(key):
            message = f"{HEADER} must be 1 to 100 letters, digits or the characters . _ : -"
            return JsonResponse({"detail": message}, status=400)
        asked = _fingerprint(request)
        try:
            with transaction.atomic():
                answer = self._claim(_caller(request), key, asked)
                if answer.status is not None:  # a committed answer: this is a retry
                    log.info("%s %s: a repeat of a write already answered, answered the same", request.method,
                             request.path)  # fmt: skip
                    return self._again(answer, asked)
                response = self.get_response(request)
                if response.status_code >= 500 or response.streaming:
                    transaction.set_rollback(True)  # keep nothing: a retry runs again
                    return response
                answer.status = response.status_code
                answer.content_type = response.get("Content-Type", "")
                answer.body = response.content
                answer.save(update_fields=["status", "content_type", "body"])
                return response
        except DatabaseError as exc:
            log.error("database unavailable for a keyed %s %s: %s", request.method, request.path, exc)
            return db.unavailable()

    @staticmethod
    def _claim(caller: str, key: str, asked: str) -> KeptAnswer:
        """This key's row: a new one (status None) for the first request, which holds it
        until its transaction ends; the committed answer for any later one."""
        KeptAnswer.objects.bulk_create(
            [KeptAnswer(caller=caller, key=key, request=asked)], ignore_conflicts=True
        )
        return KeptAnswer.objects.get(caller=caller, key=key)

    @staticmethod
    def _again(answer: KeptAnswer, asked: str) -> HttpResponse:
        if answer.request != asked:
            message = f"This {HEADER} was used for another request; use a new key for a new write."
            return JsonResponse({"detail": message}, status=422)
        response = HttpResponse(bytes(answer.body), status=answer.status, content_type=answer.content_type)
        response["Idempotent-Replay"] = "true"
        return response
