"""Close the accounts whose usernames start with a prefix: the members and everything
of theirs go, the rest of the site stays right (news.accounts).

    python manage.py close_accounts --username-prefix webtest_

`make test-unit` runs it after the web tier's tests, which sign members up on the
live platform with that prefix, so the demo world is left as it was.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from news import accounts

# Shorter prefixes are refused: "user" would close the whole demo world.
MIN_PREFIX = 6


class Command(BaseCommand):
    help = "Close every account whose username starts with the given prefix."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username-prefix", required=True)

    def handle(self, *args: Any, username_prefix: str, **options: Any) -> None:
        if len(username_prefix) < MIN_PREFIX:
            raise CommandError(f"--username-prefix must have at least {MIN_PREFIX} characters.")
        closed = accounts.close_all(username_prefix)
        self.stdout.write(self.style.SUCCESS(f"Closed {closed} accounts named {username_prefix}*."))
