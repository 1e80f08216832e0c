"""Database guards written as raw SQL in migrations: one operation that runs the PostgreSQL
script or the SQLite statements, whichever database it migrates (the append-only amendment
history, the register's retention triggers, the audit trail)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import migrations


def trigger_sql(
    *,
    postgres_forward: str,
    postgres_backward: str,
    sqlite_forward: Sequence[str],
    sqlite_backward: Sequence[str],
) -> migrations.RunPython:
    """A ``RunPython`` applying ``*_forward`` and reversing with ``*_backward``."""

    def run(postgres: str, sqlite: Sequence[str]) -> Any:
        def apply(apps: Any, schema_editor: Any) -> None:
            vendor = schema_editor.connection.vendor
            if vendor == "postgresql":
                schema_editor.execute(postgres, params=None)  # keep the % of RAISE literal
            elif vendor == "sqlite":
                for statement in sqlite:
                    schema_editor.execute(statement)

        return apply

    return migrations.RunPython(
        run(postgres_forward, sqlite_forward), run(postgres_backward, sqlite_backward)
    )
