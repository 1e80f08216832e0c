"""Restore a backup made by ``ops.backup``, then prove it (security OPS-02).

    python -m ops.restore backups/20261205T085010Z           # into an empty database
    python -m ops.restore backups/20261205T085010Z --force   # over whatever is there

Before touching anything it checks the backup's files against the SHA-256 in its manifest and
refuses a database that already has tables, or a ``MEDIA_ROOT`` that already has files, unless
``--force``. It then restores the database (``pg_restore`` in one transaction, stopping at the
first error; or SQLite's backup API), unpacks the media into ``MEDIA_ROOT``, and compares
every table's row count, per-school counts and sampled checksum with the manifest, and the
media files with theirs. It prints how long each step took and exits non-zero on any mismatch.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

import psycopg

from ops.backup import file_sha256, media_summary, say
from ops.database import Database, OpsError, client_tool
from ops.manifest import compare, database_state


def manifest_read(backup: Path) -> dict[str, Any]:
    """The backup's manifest, after checking that its files are the ones it describes."""
    path = backup / "manifest.json"
    if not path.is_file():
        raise OpsError(f"{backup} is not a backup: it has no manifest.json")
    manifest: dict[str, Any] = json.loads(path.read_text())
    for part in ("database", "media"):
        entry = manifest[part]
        file = backup / entry["file"]
        if not file.is_file():
            raise OpsError(f"{file} is missing")
        if file_sha256(file) != entry["sha256"]:
            raise OpsError(
                f"{file} does not match the SHA-256 in the manifest: the backup is damaged"
            )
    return manifest


def _restore_postgresql(database: Database, dump: Path, *, force: bool, no_owner: bool) -> None:
    arguments = [
        client_tool("pg_restore"),
        "--exit-on-error",
        "--single-transaction",  # a failed restore leaves nothing behind
        "--no-password",
        f"--dbname={database.name}",
    ]
    if force:
        arguments += ["--clean", "--if-exists"]
    if no_owner:
        arguments += ["--no-owner", "--no-privileges"]
    result = subprocess.run(  # noqa: S603 -- the tool's path from shutil.which, our own arguments
        [*arguments, str(dump)],
        env=database.libpq_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise OpsError(f"pg_restore failed: {result.stderr.strip()}")


def _restore_sqlite(database: Database, copy: Path) -> None:
    Path(database.name).parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    target = sqlite3.connect(database.name)
    try:
        # Replaces the target's whole content, page by page, in one step.
        source.backup(target)
    finally:
        source.close()
        target.close()


def _media_members(archive: Path) -> list[Path]:
    with tarfile.open(archive, "r:gz") as tar:
        return sorted(Path(m.name) for m in tar.getmembers() if m.isfile())


def _media_restore(archive: Path, media_root: Path) -> None:
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        # The "data" filter refuses absolute paths, "..", links outside and device files.
        tar.extractall(
            media_root, members=[m for m in tar.getmembers() if m.isfile()], filter="data"
        )


def restore_verify(*, backup: Path, database: Database, media_root: Path) -> dict[str, Any]:
    """Compare ``database`` and the backup's files under ``media_root`` with the backup's
    manifest. Returns ``{"problems": [...], "tables": n, "rows": n, "media_files": n}``; an
    empty ``problems`` means they match. Changes nothing."""
    manifest = manifest_read(backup)
    connection = database.connect()
    try:
        actual = database_state(database, connection)
        problems = compare(manifest["tables"], actual)
        if database.vendor == "sqlite":
            # pg_restore re-creates (and so re-validates) every foreign key; SQLite needs asking.
            broken = connection.execute("PRAGMA foreign_key_check").fetchall()
            dangling: dict[tuple[str, str], list[int]] = {}
            for table, rowid, parent, _ in broken:
                dangling.setdefault((table, parent), []).append(rowid)
            problems += [
                f"{table}: {len(rowids)} rows point at missing {parent} rows (the first: rowid {rowids[0]})"
                for (table, parent), rowids in sorted(dangling.items())
            ]
    finally:
        connection.close()
    files = _media_members(backup / manifest["media"]["file"])
    media = media_summary(media_root, [f for f in files if (media_root / f).is_file()])
    if media != manifest["media"]["content"]:
        had = manifest["media"]["content"]
        problems.append(
            f"media: the restored files differ from the backup's ({media['files']} files, "
            f"{media['bytes']:,} bytes; the backup had {had['files']} files, {had['bytes']:,} bytes)"
        )
    return {
        "problems": problems,
        "tables": len(actual),
        "rows": sum(t["rows"] for t in actual.values()),
        "media_files": media["files"],
    }


def restore_apply(
    *,
    backup: Path,
    database: Database,
    media_root: Path,
    force: bool = False,
    no_owner: bool = False,
) -> dict[str, Any]:
    """Restore ``backup`` into ``database`` and ``media_root``, then ``restore_verify`` it.

    Returns what ``restore_verify`` returns plus ``timings_s``. Raises ``OpsError`` (before
    changing anything) when the backup is damaged, is for another engine, or the target is
    not empty and ``force`` is off; and when the restore itself fails."""
    started = time.monotonic()
    manifest = manifest_read(backup)
    if manifest["engine"] != database.vendor:
        raise OpsError(
            f"the backup is of a {manifest['engine']} database, the target is {database.describe()}"
        )
    if not force:
        try:
            empty = database.is_empty()
        except psycopg.OperationalError as error:
            raise OpsError(
                f"cannot connect to {database.describe()} (create it first?): {error}"
            ) from error
        if not empty:
            raise OpsError(
                f"{database.describe()} already has tables: restore into an empty database, or force it"
            )
        if media_root.is_dir() and any(p.is_file() for p in media_root.rglob("*")):
            raise OpsError(
                f"{media_root} already has files: restore into an empty media directory, or force it"
            )

    checked = time.monotonic()
    database_file = backup / manifest["database"]["file"]
    if database.vendor == "postgresql":
        _restore_postgresql(database, database_file, force=force, no_owner=no_owner)
    else:
        _restore_sqlite(database, database_file)
    restored = time.monotonic()
    _media_restore(backup / manifest["media"]["file"], media_root)
    unpacked = time.monotonic()
    result = restore_verify(backup=backup, database=database, media_root=media_root)
    verified = time.monotonic()
    if database.vendor == "postgresql":
        # pg_restore brings no planner statistics: without them the first queries plan badly.
        connection = database.connect()
        try:
            connection.execute("ANALYZE")
            connection.commit()
        finally:
            connection.close()
    analysed = time.monotonic()
    result["timings_s"] = {
        "check_backup_s": round(checked - started, 3),
        "database_s": round(restored - checked, 3),
        "media_s": round(unpacked - restored, 3),
        "verify_s": round(verified - unpacked, 3),
        "analyze_s": round(analysed - verified, 3),
        "total_s": round(analysed - started, 3),
    }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("backup", type=Path, help="a backup directory written by ops.backup")
    parser.add_argument(
        "--force", action="store_true", help="restore over a database or media that is not empty"
    )
    parser.add_argument(
        "--no-owner",
        action="store_true",
        help="PostgreSQL: own the objects as the restoring user and skip the GRANTs",
    )
    parser.add_argument(
        "--verify-only",
        action="store_true",
        help="restore nothing: compare the database and media as they are with the backup",
    )
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendance_app.settings.local")
    from django.conf import settings

    media_root = Path(settings.MEDIA_ROOT)
    try:
        database = Database.from_django()
        if args.verify_only:
            say(f"Verifying {database.describe()} and {media_root} against {args.backup}")
            started = time.monotonic()
            result = restore_verify(backup=args.backup, database=database, media_root=media_root)
            say(f"Verified in {time.monotonic() - started:.1f} s")
        else:
            say(f"Restoring {args.backup} into {database.describe()} and {media_root}")
            result = restore_apply(
                backup=args.backup,
                database=database,
                media_root=media_root,
                force=args.force,
                no_owner=args.no_owner,
            )
            timings = result["timings_s"]
            say(
                f"Restored in {timings['total_s']:.1f} s (check backup {timings['check_backup_s']:.1f} s, "
                f"database {timings['database_s']:.1f} s, media {timings['media_s']:.1f} s, "
                f"verify {timings['verify_s']:.1f} s, analyze {timings['analyze_s']:.1f} s)"
            )
    except OpsError as error:
        say(f"restore refused: {error}")
        return 1
    for problem in result["problems"]:
        say(f"MISMATCH {problem}")
    if result["problems"]:
        count = len(result["problems"])
        say(f"NOT verified: {count} {'mismatch' if count == 1 else 'mismatches'}")
        return 1
    say(
        f"verified {result['tables']} tables, {result['rows']:,} rows, "
        f"{result['media_files']} media files"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
