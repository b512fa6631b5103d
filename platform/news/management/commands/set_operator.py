"""Make a member an operator, or no longer one (news.operators): an operator sees the
detailed status at /status/detail (versions, WAL positions, raw errors).

    python manage.py set_operator <username> [--off]

`make operator USERNAME=...` runs it.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from news import operators
from news.errors import NotFound


class Command(BaseCommand):
    help = "Make a member an operator, who sees the detailed status (--off: no longer one)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--off", action="store_true", help="take the flag back")

    def handle(self, *args: Any, username: str, off: bool, **options: Any) -> None:
        try:
            operators.set_operator(username, operator=not off)
        except NotFound as exc:
            raise CommandError(str(exc)) from None
        state = "no longer an operator" if off else "an operator: they see /status/detail once logged in"
        self.stdout.write(self.style.SUCCESS(f"{username} is {state}."))
