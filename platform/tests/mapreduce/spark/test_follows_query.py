"""The people-you-may-know job's input: the follows between active members, as its SQL
reads them (against the real Postgres)."""

import pytest
from django.db import connection

from mapreduce.spark.people_you_may_know import FOLLOWS_QUERY
from tests.support import follow, member

pytestmark = pytest.mark.django_db


def test_a_deactivated_member_is_neither_suggested_nor_suggested_to():
    ada, bob, cy = member("ada"), member("bob"), member("cy")
    follow(ada, bob)
    follow(bob, cy)
    follow(cy, ada)
    cy.is_active = False
    cy.save()
    with connection.cursor() as cursor:
        cursor.execute(FOLLOWS_QUERY)
        rows = set(cursor.fetchall())
    assert rows == {(ada.pk, bob.pk)}
