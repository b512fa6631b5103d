"""news.members: read-through and write-through of members, against the real Redis
and Postgres."""

import threading

import pytest
from django.db import connection

from news import members
from news.cache import cache
from news.models import User
from tests.support import cached

pytestmark = pytest.mark.django_db


def test_read_through_fills_on_a_miss_and_then_skips_postgres(ada, django_assert_num_queries):
    with django_assert_num_queries(1):
        first = members.get_user(ada.pk)
    assert cached(f"user.{ada.pk}") == first
    with django_assert_num_queries(0):
        assert members.get_user(ada.pk) == first


def test_a_username_is_looked_up_in_postgres_once(ada, django_assert_num_queries):
    with django_assert_num_queries(2):  # which member "ada" is, then their record
        assert members.get_user_by_username("Ada")["id"] == ada.pk
    assert cached("username.ada") == ada.pk
    with django_assert_num_queries(0):
        assert members.get_user_by_username("ada")["id"] == ada.pk


def test_a_closed_accounts_name_taken_again_names_the_new_member(ada, django_capture_on_commit_callbacks):
    members.get_user_by_username("ada")
    with django_capture_on_commit_callbacks(execute=True):
        members.delete(ada.pk)
    assert members.get_user_by_username("ada") is None
    cache.add("username.ada", ada.pk, 60)  # a slow reader, late with the old answer
    assert cached("username.ada") == {"deleted": True}, "it cannot overwrite the tombstone"
    again = members.create_user("ada", "a long enough password", "Ada again")
    assert again["id"] != ada.pk
    assert members.get_user_by_username("ada")["name"] == "Ada again"


def test_write_through_puts_the_committed_value_in_the_cache(ada, django_capture_on_commit_callbacks):
    members.get_user(ada.pk)
    with django_capture_on_commit_callbacks(execute=True):
        members.update_profile(ada.pk, name="Ada Lovelace", bio="Analyst")
    record = cached(f"user.{ada.pk}")
    assert (record["name"], record["bio"], record["version"]) == ("Ada Lovelace", "Analyst", 2)


def test_nothing_reaches_the_cache_before_the_transaction_commits(ada, django_capture_on_commit_callbacks):
    members.get_user(ada.pk)
    with django_capture_on_commit_callbacks(execute=False):
        members.update_profile(ada.pk, name="Not yet")
    assert cached(f"user.{ada.pk}")["name"] == "Ada"


@pytest.mark.django_db(transaction=True)
def test_racing_writers_leave_the_last_committed_value_cached():
    member = User.objects.create(username="racer", name="start")
    errors: list[Exception] = []

    def write(i: int) -> None:
        try:
            members.update_profile(member.pk, name=f"writer {i}")
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    member.refresh_from_db()
    assert member.version == 9
    record = cached(f"user.{member.pk}")
    assert (record["name"], record["version"]) == (member.name, member.version)


def test_a_follow_writes_both_members_through(ada, django_capture_on_commit_callbacks):
    bob = User.objects.create(username="bob")
    with django_capture_on_commit_callbacks(execute=True):
        members.follow(bob.pk, ada.pk)
    assert cached(f"user.{ada.pk}")["followers_count"] == 1
    assert cached(f"user.{bob.pk}")["following_count"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        members.follow(bob.pk, ada.pk)  # twice is once
        members.unfollow(bob.pk, ada.pk)
    assert cached(f"user.{ada.pk}")["followers_count"] == 0
