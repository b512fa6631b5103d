"""manage.py set_operator (what an operator may see: tests/news/api/test_ops.py)."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from news import operators

pytestmark = pytest.mark.django_db


def test_the_command_flags_a_member_and_takes_the_flag_back(ada, capsys):
    call_command("set_operator", "ada")
    assert operators.is_operator(ada.pk)
    assert "ada is an operator" in capsys.readouterr().out
    call_command("set_operator", "ada", "--off")
    assert not operators.is_operator(ada.pk)
    assert "ada is no longer an operator" in capsys.readouterr().out


def test_an_unknown_member_is_a_clear_error(db):
    with pytest.raises(CommandError, match="No member is called 'nobody_here'"):
        call_command("set_operator", "nobody_here")
