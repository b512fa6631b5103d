"""Members: sign-up, passwords, profiles, pictures and follows, with their cache.

- Read-through under `user.<id>` (the article's own snippet): look in the cache; on
  a miss read Postgres and fill the cache.
- Write-through: a profile edit or a follow is written to Postgres and, once the
  transaction commits, the new record goes into the cache.
- `username.<name>`: which member a username names (a member page's first lookup).
  It never changes while the account lives; a sign-up writes it, closing the account
  replaces it by a tombstone that no slow reader can overwrite (only a new sign-up does).

Every read that fills the cache is made on the primary (`using(fresh_alias())`, or
inside a transaction there): a record read from a lagging replica would be cached as
current. While the primary is down, those reads go to the read pool and fill nothing
(platform_layer.db).
"""

import re

from django.contrib.auth.hashers import check_password, make_password
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import F

from news import avatars, timelines
from news.cache import cache
from news.errors import Conflict, NotFound
from news.models import Avatar, Follow, User
from platform_layer.db import fresh_alias
from signins import throttle

RECORD_TTL = 3600  # long, since writes go through the cache
# The sign-up alphabet (news.api.fields.Username): any other name is nobody's.
USERNAME = re.compile(r"[A-Za-z0-9_]{1,30}")


def user_key(user_id: int) -> str:
    return f"user.{user_id}"


def get_user(user_id: int) -> dict | None:
    """Read-through, exactly the article's pattern."""
    key = user_key(user_id)
    record = cache.get("user", key)
    if record is None:
        user = User.objects.using(fresh_alias()).filter(pk=user_id).first()
        if user is None:
            return None
        record = user.as_dict()
        cache.set_if_newer(key, record, RECORD_TTL)
    return None if record.get("deleted") else record


def get_users(user_ids: list[int]) -> dict[int, dict]:
    """Read-through for many members in one cache round trip and at most one query."""
    keys = {user_id: user_key(user_id) for user_id in set(user_ids)}
    cached = cache.get_many("user", list(keys.values()))
    found = {user_id: cached[key] for user_id, key in keys.items() if key in cached}
    missing = [user_id for user_id in keys if user_id not in found]
    if missing:
        rows = User.objects.using(fresh_alias()).filter(pk__in=missing)
        loaded = {user.pk: user.as_dict() for user in rows}
        cache.set_many_if_newer({user_key(pk): record for pk, record in loaded.items()}, RECORD_TTL)
        found.update(loaded)
    return {user_id: record for user_id, record in found.items() if not record.get("deleted")}


def username_key(username: str) -> str:
    return f"username.{username.lower()}"


def get_user_by_username(username: str) -> dict | None:
    if not USERNAME.fullmatch(username):
        return None
    key = username_key(username)
    user_id = cache.get("username", key)
    if not isinstance(user_id, int):  # a miss, or a closed account's tombstone
        users = User.objects.using(fresh_alias())
        user_id = users.filter(username__iexact=username).values_list("pk", flat=True).first()
        if user_id is None:
            return None
        cache.add(key, user_id, RECORD_TTL)  # never over a tombstone
    return get_user(user_id)


def _write_through(user_id: int) -> dict:
    """Re-read a member inside the writing transaction; cache it once that commits."""
    record = User.objects.get(pk=user_id).as_dict()
    transaction.on_commit(lambda: cache.set_if_newer(user_key(user_id), record, RECORD_TTL))
    return record


def create_user(username: str, password: str, name: str) -> dict:
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(f"The username {username!r} is taken.")
    try:
        with transaction.atomic():
            user = User.objects.create(username=username, name=name, password=make_password(password))
    except IntegrityError as exc:  # a racing sign-up took it between the check and the insert
        raise Conflict(f"The username {username!r} is taken.") from exc
    cache.set(username_key(username), user.pk, RECORD_TTL)  # over a closed account's tombstone
    return user.as_dict()


def authenticate(username: str, password: str) -> dict | None:
    """The member whose password this is, or None. An account that had too many wrong
    passwords must wait (signins.throttle: TooManyAttempts), before any hashing."""
    user = User.objects.filter(username__iexact=username, is_active=True).first()
    if user is None:
        make_password(password)  # same cost as a real check: no timing hint that the name is unknown
        return None
    throttle.attempt(user.pk)
    if not check_password(password, user.password):
        return None
    throttle.succeeded(user.pk)
    return user.as_dict()


@transaction.atomic
def update_profile(user_id: int, **fields: str) -> dict:
    """Write-through: the new profile goes to Postgres, then (on commit) to the cache.

    The row lock taken by UPDATE orders racing writers; each gets the next version,
    and the cache keeps the highest one whatever order the cache writes arrive in.
    """
    if not User.objects.filter(pk=user_id).update(**fields, version=F("version") + 1):
        raise NotFound(f"No member {user_id}.")
    return _write_through(user_id)


def delete(user_id: int) -> None:
    """Delete a member's row (news.accounts closes an account: what is theirs goes
    first). Their cached record becomes a tombstone, newer than any copy a slow
    reader may still write, so the member is gone everywhere at once."""
    row = User.objects.select_for_update().filter(pk=user_id).values_list("version", "username").first()
    if row is None:
        raise NotFound(f"No member {user_id}.")
    version, username = row
    User.objects.filter(pk=user_id).delete()
    tombstone = {"deleted": True, "version": version + 1}

    def on_commit() -> None:
        cache.set_if_newer(user_key(user_id), tombstone, RECORD_TTL)
        cache.set(username_key(username), {"deleted": True}, RECORD_TTL)

    transaction.on_commit(on_commit)


def set_avatar(user_id: int, upload: File) -> dict:
    """Re-encode an uploaded picture (news.avatars) and make it the member's."""
    png = avatars.square_png(upload)
    with transaction.atomic():
        Avatar.objects.update_or_create(user_id=user_id, defaults={"image": png, "content_type": "image/png"})
        if not User.objects.filter(pk=user_id).update(
            avatar_version=F("avatar_version") + 1, version=F("version") + 1
        ):
            raise NotFound(f"No member {user_id}.")
        return _write_through(user_id)


def get_avatar(user_id: int) -> tuple[bytes, str]:
    """The picture and its content type."""
    avatar = Avatar.objects.filter(user_id=user_id).first()
    if avatar is None:
        raise NotFound(f"Member {user_id} has no picture.")
    return bytes(avatar.image), avatar.content_type


# --- Follows ------------------------------------------------------------------------


@transaction.atomic
def follow(follower_id: int, followee_id: int) -> dict:
    """Follow a member; both members' counts change, and both are written through."""
    if follower_id == followee_id:
        raise Conflict("You cannot follow yourself.")
    if not User.objects.filter(pk=followee_id).exists():
        raise NotFound(f"No member {followee_id}.")
    _, created = Follow.objects.get_or_create(follower_id=follower_id, followee_id=followee_id)
    if created:
        _count_follow(follower_id, followee_id, +1)
        timelines.backfill(follower_id, followee_id)
    return _write_through(followee_id)


@transaction.atomic
def unfollow(follower_id: int, followee_id: int) -> dict:
    if not User.objects.filter(pk=followee_id).exists():
        raise NotFound(f"No member {followee_id}.")
    deleted, _ = Follow.objects.filter(follower_id=follower_id, followee_id=followee_id).delete()
    if deleted:
        _count_follow(follower_id, followee_id, -1)
        timelines.remove(follower_id, followee_id)
    return _write_through(followee_id)


def _count_follow(follower_id: int, followee_id: int, delta: int) -> None:
    # Lock both rows in id order, so two members following each other cannot deadlock.
    list(User.objects.select_for_update().filter(pk__in=[follower_id, followee_id]).order_by("pk"))
    User.objects.filter(pk=follower_id).update(
        following_count=F("following_count") + delta, version=F("version") + 1
    )
    User.objects.filter(pk=followee_id).update(
        followers_count=F("followers_count") + delta, version=F("version") + 1
    )
    _write_through(follower_id)


def is_following(follower_id: int, followee_id: int) -> bool:
    return Follow.objects.filter(follower_id=follower_id, followee_id=followee_id).exists()
