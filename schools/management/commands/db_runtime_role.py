"""``manage.py db_runtime_role --role NAME [--password-env VAR]``: set up the role the app runs
as in production, separate from the role that owns the tables and runs migrations (security
SUP-03, REG-01).

Run it as the owner (``DATABASE_URL`` of the migration role) after ``migrate``. The runtime
role may read and write rows and nothing else: it owns no table, so it cannot ``ALTER``,
``DROP`` or ``TRUNCATE`` one or drop the register's triggers, and it may not ``UPDATE`` or
``DELETE`` the amendment history at all (the trigger refuses that too; this is the second
lock). Default privileges give it the same rights on tables later migrations create. Safe to
run again.
"""

from __future__ import annotations

import os
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg import sql

APPEND_ONLY_TABLES = ("registers_markchange", "schools_auditevent")


def runtime_role_statements(role: str, password: str | None) -> list[sql.Composable]:
    """The statements, in order, that make ``role`` a row-only runtime role."""
    name = sql.Identifier(role)
    statements: list[sql.Composable] = [
        sql.SQL(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {}) THEN "
            "CREATE ROLE {} NOLOGIN; END IF; END $$"
        ).format(sql.Literal(role), name),
        sql.SQL("ALTER ROLE {} NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS").format(name),
    ]
    if password is not None:
        statements.append(
            sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(name, sql.Literal(password))
        )
    statements += [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
            sql.Identifier(connection.settings_dict["NAME"]), name
        ),
        sql.SQL("REVOKE CREATE ON SCHEMA public FROM {}").format(name),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
            name
        ),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(name),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
            "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
        ).format(name),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {}"
        ).format(name),
    ]
    statements += [
        sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(sql.Identifier(table), name)
        for table in APPEND_ONLY_TABLES
    ]
    return statements


class Command(BaseCommand):
    help = (
        "Create or update the runtime database role: rows only, owns nothing, cannot change the "
        "amendment history. Run as the owner (migration) role after migrate. PostgreSQL only."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--role", required=True, help="The runtime role's name.")
        parser.add_argument(
            "--password-env",
            metavar="VAR",
            help="Give the role LOGIN with the password in this environment variable.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("db_runtime_role needs PostgreSQL (set DATABASE_URL).")
        role = options["role"]
        if role == connection.settings_dict["USER"]:
            raise CommandError("The runtime role must not be the role that owns the tables.")
        password = None
        if options["password_env"]:
            password = os.environ.get(options["password_env"])
            if not password:
                raise CommandError(f"{options['password_env']} is not set.")
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in runtime_role_statements(role, password):
                cursor.execute(statement)
        self.stdout.write(f"Runtime role {role}: rows only; owns no table.")
