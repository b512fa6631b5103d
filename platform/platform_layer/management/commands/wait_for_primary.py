"""Wait until the write pool leads to a primary that accepts writes.

Run by the `migrate` service first. The Postgres members start together, one of
them wins the leader key and initialises the cluster, and db-lb's write pool finds
it by asking each member's Patroni (haproxy/database.cfg). Until then a connection
is refused, or reaches a member that is still read-only; this waits that out, with
a clear message, instead of failing a migration on its first statement.
"""

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection

# The primary must answer this many checks in a row: one answer could be a member
# the write pool has not yet taken out.
IN_A_ROW = 3


class Command(BaseCommand):
    help = "Wait until the write pool leads to a primary that accepts writes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timeout", type=float, default=180, help="seconds to wait at most")

    def handle(self, *args: object, timeout: float, **options: object) -> None:
        deadline = time.monotonic() + timeout
        in_a_row, reason = 0, "no answer yet"
        while in_a_row < IN_A_ROW:
            if time.monotonic() > deadline:
                raise CommandError(f"no writable primary in the write pool after {timeout:.0f} s: {reason}")
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_is_in_recovery()")
                    (read_only,) = cursor.fetchone()
                reason = "the write pool leads to a read-only member"
                in_a_row = 0 if read_only else in_a_row + 1
            except DatabaseError as exc:
                reason, in_a_row = str(exc).strip(), 0
            connection.close()  # each check a new connection, as the pool balances them
            if in_a_row < IN_A_ROW:
                time.sleep(1)
        self.stdout.write("The write pool leads to a writable primary.")
