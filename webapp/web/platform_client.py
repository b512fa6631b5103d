"""The web tier's only door to data: the platform layer's JSON API.

Every call goes to one load-balanced address (the article's `localhost:9000`
idea), where the pool, its health checks and retries are HAProxy's job; or, in
smart-client mode, to the platform nodes themselves (web.platform_nodes).

Calls made on behalf of a logged-in member carry the assertion the platform signed
when they logged in (`X-Member-Assertion`, kept in their session: web.auth). This
tier's API token says who calls; the assertion says for whom, and only the platform
can make one, so the token alone acts for no member.

Writes are safe to send again: each carries an `Idempotency-Key` derived from the
request's write key (web.middleware: a form's, or the edge's request id) and the
call, so a form sent twice writes once, and a write whose answer was lost (a node
died, a balancer gave up) is sent again, with the same key, and happens once.

Read-your-own-writes: the platform answers each write with its database's WAL
position (`X-Written-LSN`). The visitor's browser keeps the latest one in a signed
cookie (web.middleware.platform_calls), and every call made for them sends it back
(`X-Read-After-LSN`), so the platform reads from the replica only once the replica
has that write.
"""

import contextlib
import hashlib
import re
import threading
import time
import uuid
from typing import Any, NamedTuple, Protocol
from urllib.parse import urlencode

import orjson
import urllib3
from django.conf import settings
from urllib3.exceptions import HTTPError

from web.platform_nodes import Balancer, SmartPool, from_settings

API = "/api/v1"
WRITES = ("POST", "PUT", "PATCH", "DELETE")
IDEMPOTENCY_HEADER = "Idempotency-Key"
# A keyed write whose answer was lost is sent again after these pauses (seconds).
RETRY_PAUSES = (0.25, 0.5)
# Answers that say nothing about whether the write happened: the balancer's, mostly.
UNKNOWN_OUTCOME = (502, 503, 504)
WRITTEN_HEADER = "X-Written-LSN"
ASSERTION_HEADER = "X-Member-Assertion"
READ_AFTER_HEADER = "X-Read-After-LSN"
# A WAL position as Postgres prints it, e.g. 16/B374D848: the pattern the platform
# accepts (platform_layer.db), so that a position it wrote is one it reads back.
LSN = re.compile(r"([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})")


class Acting(Protocol):
    """A member a call acts for: their id, and the assertion the platform signed at their
    login (web.auth.Member is one)."""

    @property
    def id(self) -> int: ...

    @property
    def assertion(self) -> str: ...


class PlatformUnavailable(Exception):
    """The platform pool could not answer; pages show a 503 rather than a crash. When
    the platform itself said why (its database is failing over), `detail` is its
    reason, fit to show, and `retry_after` the seconds it asked callers to wait."""

    def __init__(self, message: str, detail: str = "", retry_after: int | None = None) -> None:
        super().__init__(message)
        self.detail = detail
        self.retry_after = retry_after


class PlatformError(Exception):
    """The platform answered and refused the call; `detail` is its reason, fit to show."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ValidationFailed(PlatformError):
    """400 (or 413, a body too large): the input was refused; `errors` lists [{field, message}]
    when the platform named fields."""

    def __init__(self, detail: str, errors: list[dict[str, str]]) -> None:
        super().__init__(detail)
        self.errors = errors


class NotAuthenticated(PlatformError):
    """401: wrong password, or a call that needs an acting member."""


class Forbidden(PlatformError):
    """403: the acting member may not do this (someone else's story or profile)."""


class NotFound(PlatformError):
    """404."""


class Conflict(PlatformError):
    """409: a taken username, following yourself, an export that is not done yet."""


class TooManyAttempts(PlatformError):
    """429: an account that had too many wrong passwords must wait (the detail says how long)."""


class Download(NamedTuple):
    """A file the platform built, with the headers a browser needs to save it."""

    content: bytes
    content_type: str
    disposition: str


# Input refused: a 400, or a 413 for a body past the platform's bound (a picture too large).
_INVALID = (400, 413)
_REFUSALS: dict[int, type[PlatformError]] = {
    401: NotAuthenticated,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    429: TooManyAttempts,
}


class PlatformClient:
    """The platform's API as Python calls, over urllib3's keep-alive connections (the
    nodes object holds them, one set per process).

    urllib3 rather than requests, which is built on it: the web tier needs none of a
    session's features (cookies, proxies, redirects, auth hooks), and preparing and
    merging them was a quarter of every platform call's CPU."""

    def __init__(self, nodes: Balancer | SmartPool, token: str, timeout: tuple[float, float]) -> None:
        self.nodes = nodes
        self.timeout = urllib3.Timeout(connect=timeout[0], read=timeout[1])
        self.authorization = f"Bearer {token}"
        # Which platform node answered this thread's latest call, for the page footer.
        # gunicorn serves a request on one thread, so per-thread is per-request.
        self._local = threading.local()

    @property
    def last_node(self) -> str | None:
        return getattr(self._local, "node", None)

    def start_request(self, read_after: str | None, write_key: str | None = None) -> None:
        """Forget what this thread's previous request left (the node that answered it,
        its writes); its calls now read at least the write at `read_after` (a WAL
        position the platform sent earlier; anything else is ignored), and its writes
        are named by `write_key`."""
        self._local.node = None
        self._local.read_after = read_after if read_after and LSN.fullmatch(read_after) else None
        self._local.written = None
        self._local.write_key = write_key

    def finish_request(self) -> None:
        """The request is answered: calls made from now on (outside any request) are not its."""
        self._local.write_key = None

    def _idempotency_key(self, method: str, path: str) -> str:
        """The same for the same write of the same request, whoever sends it again; a
        new one for a call made outside a request."""
        write_key = getattr(self._local, "write_key", None) or uuid.uuid4().hex
        return hashlib.sha256(f"{write_key} {method} {path}".encode()).hexdigest()[:40]

    @property
    def written(self) -> str | None:
        """The WAL position after the latest write this thread made for its request."""
        return getattr(self._local, "written", None)

    def request(
        self,
        method: str,
        path: str,
        acting: Acting | None = None,
        raw: bool = False,
        keyed: bool = True,
        **content: Any,
    ) -> Any:
        """Call the platform; return the JSON body (or the bytes when `raw`), None for a 204."""
        response = self.send(method, path, acting, keyed=keyed, **content)
        if raw:
            return response.data
        if response.status == 204:
            return None
        try:
            return orjson.loads(response.data)
        except ValueError as exc:
            raise PlatformUnavailable(f"{method} {path}: not JSON") from exc

    def send(
        self,
        method: str,
        path: str,
        acting: Acting | None = None,
        keyed: bool = True,
        params: dict[str, Any] | None = None,
        json: Any = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> urllib3.BaseHTTPResponse:
        """Call the platform and return its successful response; refusals are raised.
        `params` go in the query string; the body is `json`, or `files` as a form.

        A write is keyed (`keyed=False`: a call that changes nothing, such as a login)
        and sent again when its outcome is unknown: no answer, or a balancer's 502, 503
        or 504. The platform answers a repeat as it answered the first."""
        headers = {"Authorization": self.authorization}
        if acting is not None:
            headers[ASSERTION_HEADER] = acting.assertion
        read_after = getattr(self._local, "read_after", None)
        if read_after:
            headers[READ_AFTER_HEADER] = read_after
        pauses: tuple[float, ...] = ()
        if keyed and method in WRITES:
            headers[IDEMPOTENCY_HEADER] = self._idempotency_key(method, path)
            pauses = RETRY_PAUSES
        body = None
        if json is not None:
            body = orjson.dumps(json)
            headers["Content-Type"] = "application/json"
        elif files:
            body, headers["Content-Type"] = urllib3.encode_multipart_formdata(files)
        url = f"{path}?{urlencode(params)}" if params else path
        response = self._send_again_if_lost(method, url, headers, body, pauses)
        self._local.node = response.headers.get("X-Served-By", "?")
        if LSN.fullmatch(response.headers.get(WRITTEN_HEADER, "")):
            # Later calls of this request must see the write too.
            self._local.written = self._local.read_after = response.headers[WRITTEN_HEADER]
        if response.status in (*_INVALID, *_REFUSALS):
            self._refuse(response)
        if response.status >= 400:
            raise self._unavailable(f"{method} {path}", response)
        return response

    def _send_again_if_lost(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None, pauses: tuple[float, ...]
    ) -> urllib3.BaseHTTPResponse:
        """Send; while the outcome is unknown and pauses are left, wait one and send again."""
        waits = list(pauses)
        while True:
            try:
                response = self.nodes.send(method, url, body=body, headers=headers, timeout=self.timeout)
            except HTTPError as exc:
                if not waits:
                    raise PlatformUnavailable(f"{method} {url}: {exc}") from exc
            else:
                if not waits or response.status not in UNKNOWN_OUTCOME:
                    return response
            time.sleep(waits.pop(0))

    @staticmethod
    def _unavailable(call: str, response: urllib3.BaseHTTPResponse) -> PlatformUnavailable:
        """The platform's own 503 says why and when to try again; a balancer's, nothing."""
        detail, retry_after = "", None
        if response.status == 503 and response.headers.get("Content-Type", "").startswith("application/json"):
            with contextlib.suppress(ValueError, AttributeError):
                detail = str(orjson.loads(response.data).get("detail") or "")
            with contextlib.suppress(ValueError):
                retry_after = int(response.headers.get("Retry-After", ""))
        return PlatformUnavailable(f"{call}: HTTP {response.status}", detail, retry_after)

    @staticmethod
    def _refuse(response: urllib3.BaseHTTPResponse) -> None:
        try:
            body = orjson.loads(response.data)
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        detail = str(body.get("detail") or f"HTTP {response.status}")
        if response.status in _INVALID:
            raise ValidationFailed(detail, list(body.get("errors") or []))
        raise _REFUSALS[response.status](detail)

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    # --- Members -------------------------------------------------------------------
    def sign_up(self, username: str, password: str, name: str) -> dict:
        body = {"username": username, "password": password, "name": name}
        return self.request("POST", f"{API}/users", json=body)

    def log_in(self, username: str, password: str) -> dict:
        """The member, with the `assertion` to act for them; TooManyAttempts while their
        account must wait after wrong passwords."""
        body = {"username": username, "password": password}
        return self.request("POST", f"{API}/auth/login", keyed=False, json=body)

    def me(self, acting: Acting) -> dict:
        """The member, current; NotAuthenticated once their sign-in was revoked (a logout)."""
        return self.request("GET", f"{API}/auth/me", acting=acting)

    def log_out(self, acting: Acting) -> None:
        """Revoke the member's assertion: it acts for no one any more, on any node."""
        self.request("POST", f"{API}/auth/logout", acting=acting)

    def user(self, user_id: int) -> dict:
        return self.request("GET", f"{API}/users/{user_id}")

    def user_by_username(self, username: str) -> dict:
        # URLs only route names of [A-Za-z0-9_], so the name needs no quoting.
        return self.request("GET", f"{API}/users/by-username/{username}")

    def update_profile(self, member: Acting, **fields: str) -> dict:
        return self.request("PATCH", f"{API}/users/{member.id}", acting=member, json=fields)

    def upload_avatar(self, member: Acting, filename: str, content: bytes, content_type: str) -> dict:
        files = {"image": (filename, content, content_type)}
        return self.request("POST", f"{API}/users/{member.id}/avatar", acting=member, files=files)

    def avatar(self, user_id: int) -> bytes:
        return self.request("GET", f"{API}/users/{user_id}/avatar", raw=True)

    def is_following(self, acting: Acting, user_id: int) -> bool:
        return self.request("GET", f"{API}/users/{user_id}/follow", acting=acting)["following"]

    def follow(self, acting: Acting, user_id: int) -> dict:
        return self.request("POST", f"{API}/users/{user_id}/follow", acting=acting)

    def unfollow(self, acting: Acting, user_id: int) -> dict:
        return self.request("DELETE", f"{API}/users/{user_id}/follow", acting=acting)

    def suggestions(self, member: Acting) -> dict:
        return self.request("GET", f"{API}/users/{member.id}/suggestions", acting=member)

    def people_you_may_know(self, member: Acting) -> dict:
        """{items: [{member, mutuals}], computed_at}: computed off-line by map-reduce."""
        return self.request("GET", f"{API}/users/{member.id}/people-you-may-know", acting=member)

    # --- Stories (lists are pages: {items, limit, offset, has_more}) -------------------
    def stories(self, limit: int, offset: int) -> dict:
        return self.get(f"{API}/stories", limit=limit, offset=offset)

    def stories_by(self, user_id: int, limit: int, offset: int) -> dict:
        return self.get(f"{API}/users/{user_id}/stories", limit=limit, offset=offset)

    def timeline(self, member: Acting, limit: int, offset: int) -> dict:
        params = {"limit": limit, "offset": offset}
        return self.request("GET", f"{API}/users/{member.id}/timeline", acting=member, params=params)

    def search(self, q: str, limit: int, offset: int) -> dict:
        return self.get(f"{API}/search", q=q, limit=limit, offset=offset)

    def story(self, story_id: int) -> dict:
        return self.request("GET", f"{API}/stories/{story_id}")

    def post_story(self, acting: Acting, title: str, url: str, text: str) -> dict:
        body = {"title": title, "url": url, "text": text}
        return self.request("POST", f"{API}/stories", acting=acting, json=body)

    def edit_story(self, acting: Acting, story_id: int, **fields: str) -> dict:
        return self.request("PATCH", f"{API}/stories/{story_id}", acting=acting, json=fields)

    def delete_story(self, acting: Acting, story_id: int) -> None:
        self.request("DELETE", f"{API}/stories/{story_id}", acting=acting)

    def click(self, story_id: int, referrer_domain: str, acting: Acting | None, visitor: str = "") -> str:
        """Record a click through; return the story's URL. A visitor's (or member's) clicks
        on a story count once per window on the platform: `visitor` names one who is not
        logged in (web.visitors)."""
        body = {"referrer_domain": referrer_domain, "visitor": visitor}
        return self.request("POST", f"{API}/stories/{story_id}/clicks", acting=acting, json=body)["url"]

    def fanout(self, story_id: int) -> dict:
        """{delivered, followers, finished_at}: how many of the author's followers have the
        story in their timeline yet (the fan-out consumer fills them after the post)."""
        return self.request("GET", f"{API}/stories/{story_id}/fanout")

    # --- Exports: schedule, poll ({id, status, progress, error, created_at, finished_at, expires_at}) ---
    def request_export(self, member: Acting) -> dict:
        """Schedule a copy of the member's data; the platform answers at once (202) with the job,
        or Conflict while the member's previous export is unfinished."""
        return self.request("POST", f"{API}/users/{member.id}/exports", acting=member)

    def export(self, acting: Acting, export_id: uuid.UUID) -> dict:
        return self.request("GET", f"{API}/exports/{export_id}", acting=acting)

    def download_export(self, acting: Acting, export_id: uuid.UUID) -> Download:
        """The finished document; Conflict while it is not done yet."""
        response = self.send("GET", f"{API}/exports/{export_id}/download", acting=acting)
        return Download(
            response.data,
            response.headers.get("Content-Type", "application/json"),
            response.headers.get("Content-Disposition", "attachment"),
        )

    # --- Analytics (precalculated by rollup jobs) ---------------------------------------
    def referrers(self) -> dict:
        """{day: bucket, hours: [bucket]}, each bucket {bucket_start, domains: [{domain, visits}]}."""
        return self.get(f"{API}/analytics/referrers")

    def click_history(self, days: int, weeks: int) -> dict:
        """{computed_at, days: [{day, domain, visits}], weeks: [{week, stories: [{story, clicks}]}]}:
        over every click, computed off-line by map-reduce."""
        return self.get(f"{API}/analytics/click-history", days=days, weeks=weeks)

    # --- Operations ------------------------------------------------------------------
    def status(self) -> dict:
        """States and figures, as anyone may see them."""
        return self.get(f"{API}/status")

    def status_detail(self, acting: Acting) -> dict:
        """Everything, versions, WAL positions and raw errors included; Forbidden unless
        the member is an operator."""
        return self.request("GET", f"{API}/status/detail", acting=acting)


platform = PlatformClient(
    from_settings(settings.PLATFORM_CLIENT, settings.PLATFORM_URL, settings.PLATFORM_NODES),
    settings.PLATFORM_API_TOKEN,
    settings.PLATFORM_TIMEOUT,
)
