from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest

from ops import backup as backup_cli
from ops import restore as restore_cli
from ops.backup import backup_create
from ops.database import Database, OpsError
from ops.restore import restore_apply, restore_verify


def files_under(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_round_trip_restores_the_database_and_the_media(tmp_path, sqlite_database, media_root):
    target = tmp_path / "backups" / "20261205T080000Z"
    manifest = backup_create(database=sqlite_database, media_root=media_root, target=target)

    assert sorted(p.name for p in target.iterdir()) == [
        "db.sqlite3",
        "manifest.json",
        "media.tar.gz",
    ]
    assert json.loads((target / "manifest.json").read_text()) == manifest
    assert manifest["engine"] == "sqlite"
    assert manifest["media"]["content"]["files"] == 3
    assert manifest["tables"]["registers_attendancemark"]["rows"] == 400

    restored = Database("sqlite", str(tmp_path / "restored" / "db.sqlite3"))
    result = restore_apply(backup=target, database=restored, media_root=tmp_path / "media-restored")

    assert result["problems"] == []
    assert (result["tables"], result["rows"]) == (4, 425)
    assert files_under(tmp_path / "media-restored") == files_under(media_root)
    connection = sqlite3.connect(restored.name)
    assert connection.execute(
        "SELECT code FROM registers_attendancemark WHERE id = 7"
    ).fetchone() == ("L",)
    connection.close()


def test_the_backup_is_readable_by_its_owner_only(tmp_path, sqlite_database, media_root):
    target = tmp_path / "backups" / "b"
    backup_create(database=sqlite_database, media_root=media_root, target=target)

    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in target.iterdir()} == {0o600}


def test_an_existing_target_is_refused_and_left_alone(tmp_path, sqlite_database, media_root):
    target = tmp_path / "backups" / "b"
    target.mkdir(parents=True)
    (target / "keep").write_text("x")

    with pytest.raises(OpsError, match="already exists"):
        backup_create(database=sqlite_database, media_root=media_root, target=target)
    assert [p.name for p in target.iterdir()] == ["keep"]


def test_a_failed_backup_leaves_no_directory_behind(tmp_path, media_root):
    missing = Database("sqlite", str(tmp_path / "nothing.sqlite3"))

    with pytest.raises(OpsError, match="no database to back up"):
        backup_create(database=missing, media_root=media_root, target=tmp_path / "backups" / "b")
    assert list((tmp_path / "backups").iterdir()) == []


def test_a_missing_media_root_backs_up_as_no_files(tmp_path, sqlite_database):
    manifest = backup_create(
        database=sqlite_database, media_root=tmp_path / "none", target=tmp_path / "b"
    )

    assert manifest["media"]["content"]["files"] == 0


def test_restore_refuses_a_database_that_has_tables_unless_forced(
    tmp_path, sqlite_database, media_root
):
    target = tmp_path / "b"
    backup_create(database=sqlite_database, media_root=media_root, target=target)
    execute = sqlite3.connect(sqlite_database.name)
    execute.execute("DELETE FROM registers_attendancemark WHERE id > 10")
    execute.commit()
    execute.close()

    with pytest.raises(OpsError, match="already has tables"):
        restore_apply(backup=target, database=sqlite_database, media_root=tmp_path / "m")

    result = restore_apply(
        backup=target, database=sqlite_database, media_root=media_root, force=True
    )
    assert result["problems"] == []
    assert result["rows"] == 425


def test_restore_refuses_media_that_is_not_empty(tmp_path, sqlite_database, media_root):
    target = tmp_path / "b"
    backup_create(database=sqlite_database, media_root=media_root, target=target)

    with pytest.raises(OpsError, match="already has files"):
        restore_apply(
            backup=target,
            database=Database("sqlite", str(tmp_path / "new.sqlite3")),
            media_root=media_root,
        )
    assert not (tmp_path / "new.sqlite3").exists()


def test_a_damaged_backup_is_refused_before_anything_changes(tmp_path, sqlite_database, media_root):
    target = tmp_path / "b"
    backup_create(database=sqlite_database, media_root=media_root, target=target)
    with (target / "db.sqlite3").open("r+b") as handle:
        handle.seek(5000)
        handle.write(b"\x00damaged\x00")

    restored = tmp_path / "restored.sqlite3"
    with pytest.raises(OpsError, match="does not match the SHA-256"):
        restore_apply(
            backup=target, database=Database("sqlite", str(restored)), media_root=tmp_path / "m"
        )
    assert not restored.exists()


def test_verify_notices_a_row_changed_after_the_restore_and_a_lost_media_file(
    tmp_path, sqlite_database, media_root
):
    target = tmp_path / "b"
    backup_create(database=sqlite_database, media_root=media_root, target=target)
    restored = Database("sqlite", str(tmp_path / "restored.sqlite3"))
    restore_apply(backup=target, database=restored, media_root=tmp_path / "m")

    connection = sqlite3.connect(restored.name)
    connection.execute("UPDATE registers_attendancemark SET minutes_late = 99 WHERE id = 400")
    connection.commit()
    connection.close()
    (tmp_path / "m" / "imports.csv").unlink()

    problems = restore_verify(backup=target, database=restored, media_root=tmp_path / "m")[
        "problems"
    ]
    assert problems[0] == "registers_attendancemark: the checksum of the sampled rows differs"
    assert problems[1].startswith("media: the restored files differ from the backup's (2 files")


def test_verify_notices_a_broken_foreign_key(tmp_path, sqlite_database, media_root):
    target = tmp_path / "b"
    backup_create(database=sqlite_database, media_root=media_root, target=target)
    connection = sqlite3.connect(sqlite_database.name)
    connection.execute("DELETE FROM schools_school WHERE id = 2")  # foreign keys are off by default
    connection.commit()
    connection.close()

    problems = restore_verify(backup=target, database=sqlite_database, media_root=media_root)[
        "problems"
    ]
    assert "schools_school: 1 rows, the backup had 2" in problems
    assert (
        "registers_attendancemark: 133 rows point at missing schools_school rows (the first: rowid 3)"
        in problems
    )


def test_the_commands_print_timings_and_what_they_verified(
    tmp_path, sqlite_database, media_root, monkeypatch, settings, capsys
):
    settings.MEDIA_ROOT = str(media_root)
    monkeypatch.setattr(Database, "from_django", classmethod(lambda cls: sqlite_database))
    monkeypatch.setenv("BACKUP_DIR", str(tmp_path / "backups"))

    assert backup_cli.main([]) == 0
    (target,) = (tmp_path / "backups").iterdir()
    assert "Backed up 4 tables, 425 rows" in capsys.readouterr().out
    assert backup_cli.main(["--into", str(target)]) == 1
    assert "backup refused:" in capsys.readouterr().out

    restored = Database("sqlite", str(tmp_path / "restored.sqlite3"))
    monkeypatch.setattr(Database, "from_django", classmethod(lambda cls: restored))
    settings.MEDIA_ROOT = str(tmp_path / "media-restored")
    assert restore_cli.main([str(target)]) == 0
    out = capsys.readouterr().out
    assert "Restored in " in out
    assert "verified 4 tables, 425 rows, 3 media files" in out

    assert restore_cli.main([str(target)]) == 1
    assert "restore refused:" in capsys.readouterr().out
    assert restore_cli.main([str(target), "--verify-only"]) == 0
