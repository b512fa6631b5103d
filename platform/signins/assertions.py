"""The member assertion: what lets a caller act for a member.

At login the platform records a sign-in and signs `[member id, sign-in id]` with its
own key (PLATFORM_SECRET_KEY, which the web tier does not hold). The web tier keeps
the assertion in the member's session and sends it with every call made for them
(`X-Member-Assertion`). So a leaked web-to-platform token acts for no one, a web node
cannot make one up for a member who did not log in, and logging out revokes it for
every node at once: a session cookie copied before the logout is useless after it.

Whether a sign-in is still good is read through the cache (no query on most calls)
and written through it at logout. A positive answer is cached only briefly, so that
a revocation the cache missed (Redis unreachable at that moment) still lands soon.
https://docs.djangoproject.com/en/5.2/topics/signing/
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from news.cache import cache
from platform_layer.db import fresh_alias
from signins.models import SignIn

HEADER = "X-Member-Assertion"
SALT = "signins.assertion"
CACHE_NAME = "signins"
ACTIVE_TTL = 300  # seconds a "still signed in" answer is trusted from the cache
REVOKED_TTL = 24 * 3600


def _key(sign_in_id: str) -> str:
    return f"signin.{sign_in_id}"


def issue(user_id: int) -> str:
    """Record a sign-in of the member and return its assertion. Their sign-ins that
    expired are deleted on the way, so the table holds about one row per session."""
    expired = timezone.now() - timedelta(seconds=settings.SIGN_IN_MAX_AGE)
    SignIn.objects.filter(user_id=user_id, created_at__lt=expired).delete()
    sign_in = SignIn.objects.create(user_id=user_id)
    transaction.on_commit(lambda: cache.set(_key(sign_in.pk.hex), True, ACTIVE_TTL))
    return signing.dumps([user_id, sign_in.pk.hex], salt=SALT, compress=False)


def _read(assertion: str) -> tuple[int, str] | None:
    """The member id and sign-in id of a well-signed, unexpired assertion, else None."""
    try:
        user_id, sign_in_id = signing.loads(assertion, salt=SALT, max_age=settings.SIGN_IN_MAX_AGE)
        uuid.UUID(hex=sign_in_id)
    except (signing.BadSignature, ValueError, TypeError, AttributeError):
        return None
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    return user_id, sign_in_id


def member_id(assertion: str) -> int | None:
    """The member the assertion acts for, or None: forged, expired or logged out."""
    found = _read(assertion)
    if found is None:
        return None
    user_id, sign_in_id = found
    active = cache.get(CACHE_NAME, _key(sign_in_id))
    if active is None:
        # The primary: a sign-in made a moment ago may not be on the replica yet.
        active = (
            SignIn.objects.using(fresh_alias())
            .filter(pk=sign_in_id, user_id=user_id, revoked_at__isnull=True)
            .exists()
        )
        cache.set(_key(sign_in_id), active, ACTIVE_TTL if active else REVOKED_TTL)
    return user_id if active else None


def revoke(assertion: str) -> None:
    """Log this sign-in out, everywhere (idempotent)."""
    found = _read(assertion)
    if found is None:
        return
    sign_in_id = found[1]
    SignIn.objects.filter(pk=sign_in_id, revoked_at__isnull=True).update(revoked_at=timezone.now())
    # Forgotten now, and known as revoked once the revocation commits: a call that
    # re-read the sign-in in between (not yet revoked) cached it for a moment only.
    cache.delete(_key(sign_in_id))
    transaction.on_commit(lambda: cache.set(_key(sign_in_id), False, REVOKED_TTL))
