"""signins.assertions: what lets a caller act for a member, and how logging out ends it."""

import pytest
from django.core import signing
from django.test import override_settings

from signins import assertions
from signins.models import SignIn
from tests.support import cached, member

pytestmark = pytest.mark.django_db


def test_an_assertion_names_the_member_who_logged_in():
    ada = member("ada")
    assert assertions.member_id(assertions.issue(ada.pk)) == ada.pk


def test_logging_out_revokes_that_sign_in_only():
    ada = member("ada")
    laptop, phone = assertions.issue(ada.pk), assertions.issue(ada.pk)
    assertions.revoke(laptop)
    assert assertions.member_id(laptop) is None
    assert assertions.member_id(phone) == ada.pk


def test_a_revocation_holds_although_the_cache_said_signed_in():
    ada = member("ada")
    assertion = assertions.issue(ada.pk)
    assert assertions.member_id(assertion) == ada.pk  # now cached as signed in
    assertions.revoke(assertion)
    assert assertions.member_id(assertion) is None


def test_a_revocation_is_written_through_to_the_cache_on_commit(django_capture_on_commit_callbacks):
    ada = member("ada")
    assertion = assertions.issue(ada.pk)
    with django_capture_on_commit_callbacks(execute=True):
        assertions.revoke(assertion)
    assert cached(f"signin.{signing.loads(assertion, salt=assertions.SALT)[1]}") is False


def test_a_changed_member_id_breaks_the_signature():
    ada, bob = member("ada"), member("bob")
    value = signing.loads(assertions.issue(ada.pk), salt=assertions.SALT)
    tampered = signing.dumps([bob.pk, value[1]], key="guessed", salt=assertions.SALT, compress=False)
    assert assertions.member_id(tampered) is None


@pytest.mark.parametrize("garbage", ["", "x", "a:b:c", signing.dumps("not a list", salt=assertions.SALT)])
def test_garbage_acts_for_no_one(garbage):
    assert assertions.member_id(garbage) is None
    assertions.revoke(garbage)  # and revoking it is harmless


def test_an_expired_assertion_acts_for_no_one():
    ada = member("ada")
    assertion = assertions.issue(ada.pk)
    with override_settings(SIGN_IN_MAX_AGE=-1):
        assert assertions.member_id(assertion) is None


def test_a_new_login_clears_the_members_expired_sign_ins():
    ada = member("ada")
    assertions.issue(ada.pk)
    with override_settings(SIGN_IN_MAX_AGE=-1):
        assertions.issue(ada.pk)
    assert SignIn.objects.filter(user=ada).count() == 1
