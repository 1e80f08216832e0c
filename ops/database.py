"""Which database a backup reads or a restore writes, and plain connections to it.

A ``Database`` comes from Django's ``DATABASES["default"]`` (so ``DATABASE_URL`` and the
SQLite default both work) or is built directly by the tests and the drill. Connections are
plain DB-API ones (sqlite3, psycopg) rather than Django's, so a backup can hold one
PostgreSQL transaction open around ``pg_dump`` and a restore can point at a scratch database.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import psycopg
from psycopg.conninfo import make_conninfo

Vendor = Literal["sqlite", "postgresql"]
Connection = sqlite3.Connection | psycopg.Connection[Any]

# Pin the settings that change how values are written as text, so a checksum taken on one
# server (or one role's defaults) matches the same rows read on another.
POSTGRES_SESSION = (
    "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; "
    "SET extra_float_digits = 1; SET bytea_output = 'hex'"
)


class OpsError(Exception):
    """A backup or restore refused or failed; the message says why, for a person to read."""


@dataclass(frozen=True)
class Database:
    vendor: Vendor
    name: str  # the SQLite file's path, or the PostgreSQL database name
    host: str = ""
    port: str = ""
    user: str = ""
    password: str = ""

    @classmethod
    def from_settings(cls, config: Mapping[str, Any]) -> Database:
        engine = str(config["ENGINE"])
        if engine == "django.db.backends.sqlite3":
            return cls(vendor="sqlite", name=str(config["NAME"]))
        if engine == "django.db.backends.postgresql":
            return cls(
                vendor="postgresql",
                name=str(config["NAME"]),
                host=str(config.get("HOST") or ""),
                port=str(config.get("PORT") or ""),
                user=str(config.get("USER") or ""),
                password=str(config.get("PASSWORD") or ""),
            )
        raise OpsError(f"backups support SQLite and PostgreSQL, not {engine}")

    @classmethod
    def from_django(cls) -> Database:
        from django.conf import settings

        return cls.from_settings(settings.DATABASES["default"])

    def with_name(self, name: str) -> Database:
        return Database(self.vendor, name, self.host, self.port, self.user, self.password)

    def describe(self) -> str:
        """Where the database is, for messages: never the password."""
        if self.vendor == "sqlite":
            return f"SQLite {self.name}"
        return f"PostgreSQL {self.user or '(default user)'}@{self.host or 'local'}:{self.port or 5432}/{self.name}"

    def connect(self, *, read_only: bool = False) -> Connection:
        if self.vendor == "sqlite":
            if read_only:
                return sqlite3.connect(f"file:{self.name}?mode=ro", uri=True)
            return sqlite3.connect(self.name)
        params = {
            "dbname": self.name,
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
        }
        connection = psycopg.connect(make_conninfo(**{k: v for k, v in params.items() if v}))
        connection.execute(POSTGRES_SESSION)
        connection.commit()
        return connection

    def libpq_env(self) -> dict[str, str]:
        """The environment for pg_dump, pg_restore and psql: the password travels in
        PGPASSWORD, not on the command line where ``ps`` would show it."""
        env = dict(os.environ)
        for variable, value in (
            ("PGDATABASE", self.name),
            ("PGHOST", self.host),
            ("PGPORT", self.port),
            ("PGUSER", self.user),
            ("PGPASSWORD", self.password),
        ):
            if value:
                env[variable] = value
        return env

    def table_names(self, connection: Connection) -> list[str]:
        if self.vendor == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        else:
            sql = (
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
                "AND table_type = 'BASE TABLE' ORDER BY table_name"
            )
        return [str(row[0]) for row in connection.execute(sql).fetchall()]

    def is_empty(self) -> bool:
        """True when there is nothing a restore would overwrite: no SQLite file (or one
        without tables), or a PostgreSQL schema without tables."""
        if self.vendor == "sqlite" and not Path(self.name).exists():
            return True
        connection = self.connect(read_only=True)
        try:
            return not self.table_names(connection)
        finally:
            connection.close()


def client_tool(name: str) -> str:
    """The full path of a PostgreSQL client program, or a clear refusal."""
    path = shutil.which(name)
    if path is None:
        raise OpsError(
            f"{name} is not on PATH: install the PostgreSQL client whose major version matches the server"
        )
    return path


def quote(identifier: str) -> str:
    """An SQL identifier, double-quoted; the same syntax in SQLite and PostgreSQL."""
    return '"' + identifier.replace('"', '""') + '"'
