"""Back up the database and the media files into one new directory (security OPS-01).

    python -m ops.backup                    # into $BACKUP_DIR/<UTC timestamp>/ (backups/ by default)
    python -m ops.backup --into DIR         # into exactly DIR, which must not exist yet

The directory holds ``db.dump`` (PostgreSQL: ``pg_dump --format=custom``) or ``db.sqlite3``
(SQLite: a copy through SQLite's online backup API, so a running dev server is no problem),
``media.tar.gz`` (everything under ``MEDIA_ROOT``) and ``manifest.json``: per-table row counts,
per-school counts and checksums of a sample of rows (``ops.manifest``), the files' SHA-256,
the server and pg_dump versions and the git commit.

On PostgreSQL the manifest and the dump read the same snapshot: a REPEATABLE READ
transaction exports its snapshot and ``pg_dump --snapshot`` uses it, so rows written during
the backup are in neither and a restore must match the manifest exactly.

The files hold pupils' personal data: they are written readable by their owner only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from ops.database import Database, OpsError, client_tool
from ops.manifest import database_state

BASE_DIR = Path(__file__).resolve().parents[1]
MANIFEST_FORMAT = 1


def say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def media_files(root: Path) -> list[Path]:
    """Regular files under ``root``, sorted, as paths relative to it."""
    if not root.is_dir():
        return []
    return sorted(
        p.relative_to(root) for p in root.rglob("*") if p.is_file() and not p.is_symlink()
    )


def media_summary(root: Path, files: list[Path]) -> dict[str, Any]:
    """Count, bytes and one SHA-256 over every file's path, size and content hash."""
    tree = hashlib.sha256()
    total = 0
    for relative in files:
        path = root / relative
        size = path.stat().st_size
        total += size
        tree.update(f"{relative.as_posix()}\t{size}\t{file_sha256(path)}\n".encode())
    return {"files": len(files), "bytes": total, "tree_sha256": tree.hexdigest()}


def git_commit() -> str:
    try:
        result = subprocess.run(  # noqa: S603 -- fixed arguments, no input from outside
            [client_tool("git"), "rev-parse", "HEAD"],
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError, OpsError):
        return "unknown"
    return result.stdout.strip()


def tool_version(tool: str) -> str:
    result = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True)  # noqa: S603 -- a client tool's path from shutil.which
    return result.stdout.strip()


def _backup_postgresql(database: Database, workdir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    pg_dump = client_tool("pg_dump")
    connection = database.connect()
    assert isinstance(connection, psycopg.Connection)
    try:
        connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = connection.execute("SELECT pg_export_snapshot()").fetchone()[0]  # type: ignore[index]
        server = connection.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        started = time.monotonic()
        dump = workdir / "db.dump"
        result = subprocess.run(  # noqa: S603 -- the tool's path from shutil.which, our own arguments
            [
                pg_dump,
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={dump}",
                "--no-password",
            ],
            env=database.libpq_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise OpsError(f"pg_dump failed: {result.stderr.strip()}")
        dumped = time.monotonic()
        tables = database_state(database, connection)
        counted = time.monotonic()
    finally:
        connection.rollback()
        connection.close()
    info = {
        "engine": "postgresql",
        "server_version": str(server),
        "pg_dump_version": tool_version(pg_dump),
        "database_file": dump.name,
        "tables": tables,
    }
    return info, {"database_s": dumped - started, "manifest_s": counted - dumped}


def _backup_sqlite(database: Database, workdir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    if not Path(database.name).exists():
        raise OpsError(f"there is no database to back up at {database.name}")
    started = time.monotonic()
    copy = workdir / "db.sqlite3"
    source = sqlite3.connect(f"file:{database.name}?mode=ro", uri=True)
    target = sqlite3.connect(copy)
    try:
        source.backup(target)
        # One self-contained file, whatever journal mode the live database uses.
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        source.close()
    dumped = time.monotonic()
    try:
        # Counted on the copy, which is one consistent snapshot by construction.
        tables = database_state(Database("sqlite", str(copy)), target)
    finally:
        target.close()
    counted = time.monotonic()
    info = {
        "engine": "sqlite",
        "server_version": sqlite3.sqlite_version,
        "database_file": copy.name,
        "tables": tables,
    }
    return info, {"database_s": dumped - started, "manifest_s": counted - dumped}


def backup_create(*, database: Database, media_root: Path, target: Path) -> dict[str, Any]:
    """Write a complete backup into ``target``, which must not exist, and return its manifest.

    The work happens in a hidden sibling directory that is renamed into place at the end, so a
    directory under its final name is always a complete backup. Raises ``OpsError`` when the
    target exists or a tool fails."""
    if target.exists():
        raise OpsError(
            f"{target} already exists: choose another directory, backups are never overwritten"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    old_umask = os.umask(0o077)
    workdir = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        started = time.monotonic()
        if database.vendor == "postgresql":
            info, timings = _backup_postgresql(database, workdir)
        else:
            info, timings = _backup_sqlite(database, workdir)

        media_started = time.monotonic()
        files = media_files(media_root)
        archive = workdir / "media.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            for relative in files:
                tar.add(media_root / relative, arcname=relative.as_posix(), recursive=False)
        media = media_summary(media_root, files)
        timings["media_s"] = time.monotonic() - media_started

        database_file = workdir / info.pop("database_file")
        manifest = {
            "format": MANIFEST_FORMAT,
            "created_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "git_commit": git_commit(),
            **{k: v for k, v in info.items() if k != "tables"},
            "database": {
                "file": database_file.name,
                "bytes": database_file.stat().st_size,
                "sha256": file_sha256(database_file),
            },
            "media": {
                "file": archive.name,
                "bytes": archive.stat().st_size,
                "sha256": file_sha256(archive),
                "content": media,
            },
            "timings_s": {k: round(v, 3) for k, v in timings.items()}
            | {"total_s": round(time.monotonic() - started, 3)},
            "tables": info["tables"],
        }
        (workdir / "manifest.json").write_text(
            json.dumps(manifest, indent=2, sort_keys=False) + "\n"
        )
        workdir.rename(target)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    finally:
        os.umask(old_umask)
    return manifest


def default_target() -> Path:
    parent = Path(os.environ.get("BACKUP_DIR") or BASE_DIR / "backups")
    return parent / dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--into", type=Path, help="the new backup directory (default: $BACKUP_DIR/<UTC timestamp>)"
    )
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendance_app.settings.local")
    from django.conf import settings

    target: Path = args.into or default_target()
    try:
        database = Database.from_django()
        say(f"Backing up {database.describe()} and {settings.MEDIA_ROOT} into {target}")
        manifest = backup_create(
            database=database, media_root=Path(settings.MEDIA_ROOT), target=target
        )
    except OpsError as error:
        say(f"backup refused: {error}")
        return 1
    tables = manifest["tables"]
    timings = manifest["timings_s"]
    say(
        f"Backed up {len(tables)} tables, {sum(t['rows'] for t in tables.values()):,} rows "
        f"({manifest['database']['bytes']:,} bytes) and {manifest['media']['content']['files']} media files "
        f"in {timings['total_s']:.1f} s (database {timings['database_s']:.1f} s, "
        f"manifest {timings['manifest_s']:.1f} s, media {timings['media_s']:.1f} s)"
    )
    say(str(target))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
