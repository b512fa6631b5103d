"""What the platform refuses, in its own words. The HTTP layer (news.api) maps each
to a status code; the consumers and commands see them as plain exceptions."""


class NotFound(Exception):
    """404: no such member, story or export (or not one the acting member may see)."""


class Forbidden(Exception):
    """403: the acting member may not do this (another member's story or data)."""


class Conflict(Exception):
    """409: a taken username, following yourself, an export that is not ready."""


class TooManyAttempts(Exception):
    """429: wait before trying again (an account that had too many wrong passwords)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InvalidInput(Exception):
    """400: input that parsed but is wrong (an upload that is not a picture), with the
    field it came in."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
