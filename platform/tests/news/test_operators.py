"""news.operators: who may see the detailed status (through HTTP: tests/news/api/test_ops.py)."""

import pytest

from news import operators
from news.errors import NotFound

pytestmark = pytest.mark.django_db


def test_a_member_is_not_an_operator_until_flagged(ada):
    assert not operators.is_operator(ada.pk)
    operators.set_operator("ADA", operator=True)  # usernames are matched as at login
    assert operators.is_operator(ada.pk)
    operators.set_operator("ada", operator=False)
    assert not operators.is_operator(ada.pk)


def test_a_deactivated_member_is_no_operator(ada):
    operators.set_operator("ada", operator=True)
    ada.is_active = False
    ada.save(update_fields=["is_active"])
    assert not operators.is_operator(ada.pk)


def test_flagging_nobody_is_not_found(db):
    with pytest.raises(NotFound, match="nobody_here"):
        operators.set_operator("nobody_here", operator=True)
