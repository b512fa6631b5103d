"""Bad input is the caller's mistake: a 4xx with a reason, never a 500."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import ValidationError

from news.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyAttempts

# The platform's own refusals (news.errors), and the status each one answers with.
STATUS = {NotFound: 404, Forbidden: 403, Conflict: 409}


def install(api: NinjaAPI) -> None:
    """Make every refusal an answer of `api`, with a `detail` and, for bad input, the
    `errors` found field by field."""

    @api.exception_handler(ValidationError)
    def invalid_request(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = [
            {
                "field": ".".join(str(part) for part in error.get("loc", ())[1:]),
                "message": error.get("msg", ""),
            }
            for error in exc.errors
        ]
        return api.create_response(request, {"detail": "Invalid request.", "errors": errors}, status=400)

    @api.exception_handler(InvalidInput)
    def invalid_input(request: HttpRequest, exc: InvalidInput) -> HttpResponse:
        errors = [{"field": exc.field, "message": str(exc)}]
        return api.create_response(request, {"detail": str(exc), "errors": errors}, status=400)

    @api.exception_handler(TooManyAttempts)
    def too_many_attempts(request: HttpRequest, exc: TooManyAttempts) -> HttpResponse:
        response = api.create_response(request, {"detail": str(exc)}, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response

    for exception, status in STATUS.items():
        api.add_exception_handler(exception, _answer(api, status))


# (django-ninja's signature for a handler: it may be given the exception or its class)
Handler = Callable[[HttpRequest, Exception | type[Exception]], HttpResponse]


def _answer(api: NinjaAPI, status: int) -> Handler:
    def handler(request: HttpRequest, exc: Exception | type[Exception]) -> HttpResponse:
        return api.create_response(request, {"detail": str(exc)}, status=status)

    return handler
