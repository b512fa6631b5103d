"""Create (or bring up to date) the database roles the stack connects as, least privilege.

Run by the `migrate` service before the migrations, as the database's owner (the
superuser the Postgres image creates from POSTGRES_USER). Idempotent, and run on
every start, so an existing database gets the roles too and a password changed in
.env takes effect:

- the application role (POSTGRES_APP_USER): what the platform nodes, the relay, the
  consumers and the map-reduce jobs connect as. It may read and write rows, nothing
  more: no superuser, no DDL, no new databases or roles. Tables the migrations create
  later are granted to it by default privileges. It also reads the server's
  statistics (pg_read_all_stats, no rows): /status reads each replica's state and lag
  in pg_stat_replication, whose columns Postgres shows only to such roles.
- the monitoring role (POSTGRES_MONITOR_USER): Prometheus' exporters; Postgres' own
  pg_monitor role (statistics, no rows).

https://www.postgresql.org/docs/17/ddl-priv.html
"""

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from psycopg import sql

ROLE_OPTIONS = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"


class Command(BaseCommand):
    help = "Create or update the application and monitoring roles (least privilege)."

    def handle(self, *args: object, **options: object) -> None:
        app, monitor = self.role("POSTGRES_APP_USER"), self.role("POSTGRES_MONITOR_USER")
        database = sql.Identifier(connection.settings_dict["NAME"])
        with connection.cursor() as cursor:
            for name, variable in ((app, "POSTGRES_APP_PASSWORD"), (monitor, "POSTGRES_MONITOR_PASSWORD")):
                role, password = sql.Identifier(name), self.secret(variable)
                cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
                verb = "ALTER" if cursor.fetchone() else "CREATE"
                change = sql.SQL(f"{verb} ROLE {{}} {ROLE_OPTIONS} PASSWORD {{}}")
                cursor.execute(change.format(role, sql.Literal(password)))
                cursor.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(database, role))
            role = sql.Identifier(app)
            rows, sequences = "SELECT, INSERT, UPDATE, DELETE", "USAGE, SELECT"
            for statement in (
                "GRANT USAGE ON SCHEMA public TO {role}",
                f"GRANT {rows} ON ALL TABLES IN SCHEMA public TO {{role}}",
                f"GRANT {sequences} ON ALL SEQUENCES IN SCHEMA public TO {{role}}",
                # What later migrations create, as this same owner, is granted too.
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {rows} ON TABLES TO {{role}}",
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {sequences} ON SEQUENCES TO {{role}}",
            ):
                cursor.execute(sql.SQL(statement).format(role=role))
            cursor.execute(sql.SQL("GRANT pg_read_all_stats TO {}").format(role))
            cursor.execute(sql.SQL("GRANT pg_monitor TO {}").format(sql.Identifier(monitor)))
        self.stdout.write(f"Roles ready: {app} (reads and writes rows), {monitor} (pg_monitor).")

    @staticmethod
    def role(variable: str) -> str:
        name = os.environ.get(variable, "")
        if not name.isidentifier():
            raise CommandError(f"Set {variable} to a role name (letters, digits, _): see .env.example.")
        return name

    @staticmethod
    def secret(variable: str) -> str:
        value = os.environ.get(variable, "")
        if len(value) < 16:
            raise CommandError(f"Set {variable} to a password of 16 characters or more (run `make env`).")
        return value
