"""signins.throttle: wrong passwords for one account slow its next attempts down."""

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password, make_password
from django.db import connection
from django.utils import timezone

from news import members
from news.errors import TooManyAttempts
from signins import throttle
from signins.models import LoginFailures
from tests.support import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada():
    user = member("ada")
    user.password = make_password("right password")
    user.save()
    return user


def test_the_first_wrong_passwords_cost_no_wait(ada):
    for _ in range(throttle.FREE_ATTEMPTS - 1):
        assert members.authenticate(ada.username, "wrong") is None
    assert members.authenticate(ada.username, "right password")["id"] == ada.pk


def test_past_the_free_attempts_even_the_right_password_must_wait_and_is_told_how_long(ada):
    for _ in range(throttle.FREE_ATTEMPTS):
        members.authenticate(ada.username, "wrong")
    with pytest.raises(TooManyAttempts, match=r"try again in \d+ seconds") as refused:
        members.authenticate(ada.username, "right password")
    assert 0 < refused.value.retry_after <= throttle.FIRST_WAIT


def test_once_the_wait_is_over_the_right_password_works_and_clears_the_count(ada):
    for _ in range(throttle.FREE_ATTEMPTS):
        members.authenticate(ada.username, "wrong")
    LoginFailures.objects.filter(pk=ada.pk).update(last_failed_at=timezone.now() - timedelta(minutes=1))
    assert members.authenticate(ada.username, "right password")["id"] == ada.pk
    assert not LoginFailures.objects.filter(pk=ada.pk).exists()


def wait_now(ada) -> int:
    """The wait an attempt on the account is told, right after its latest failure."""
    with pytest.raises(TooManyAttempts) as refused:
        members.authenticate(ada.username, "right password")
    return refused.value.retry_after


def test_each_further_failure_doubles_the_wait_up_to_a_ceiling(ada):
    for _ in range(throttle.FREE_ATTEMPTS):
        members.authenticate(ada.username, "wrong")
    waits = [wait_now(ada)]
    for _ in range(2):  # once the wait is over, one more wrong password
        LoginFailures.objects.filter(pk=ada.pk).update(last_failed_at=timezone.now() - timedelta(hours=1))
        assert members.authenticate(ada.username, "wrong") is None
        waits.append(wait_now(ada))
    assert waits == [throttle.FIRST_WAIT, 2 * throttle.FIRST_WAIT, 4 * throttle.FIRST_WAIT]
    LoginFailures.objects.filter(pk=ada.pk).update(count=throttle.FREE_ATTEMPTS + 20)
    assert wait_now(ada) == throttle.MAX_WAIT


def test_the_api_answers_a_waiting_account_429_with_retry_after(api, ada):
    for _ in range(throttle.FREE_ATTEMPTS):
        api.post("/api/v1/auth/login", {"username": ada.username, "password": "x"}, "application/json")
    response = api.post(
        "/api/v1/auth/login", {"username": ada.username, "password": "right password"}, "application/json"
    )
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many wrong passwords" in response.json()["detail"]


@pytest.mark.django_db(transaction=True)
def test_guesses_sent_at_once_hash_no_more_passwords_than_the_free_attempts(monkeypatch):
    user = member("target")
    hashed: list[str] = []

    def counted(password: str, encoded: str) -> bool:
        hashed.append(password)
        return check_password(password, encoded)

    monkeypatch.setattr(members, "check_password", counted)
    answers: list[object] = []

    def guess() -> None:
        try:
            answers.append(members.authenticate(user.username, "wrong"))
        except TooManyAttempts:
            answers.append("wait")
        finally:
            connection.close()

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(hashed) == throttle.FREE_ATTEMPTS
    assert answers.count("wait") == 20 - throttle.FREE_ATTEMPTS
