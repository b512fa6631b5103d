"""Delete stories older than N days, invalidating their cache keys first.

    python manage.py purge_stories --older-than-days 30

The article's recipe for a write that touches an unknown number of rows
(news.stories.purge_stories): select the ids, invalidate, delete by primary key.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from news.stories import purge_stories


class Command(BaseCommand):
    help = "Delete stories older than N days, keeping the cache consistent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than-days", type=int, required=True)

    def handle(self, *args: Any, older_than_days: int, **options: Any) -> None:
        if older_than_days < 1:
            raise CommandError("--older-than-days must be at least 1.")
        purged = purge_stories(older_than_days)
        self.stdout.write(self.style.SUCCESS(f"Purged {purged} stories older than {older_than_days} days."))
