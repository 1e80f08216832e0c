"""Peak memory of ``import_marks`` as the file grows: sorted and shuffled files, first import and
re-import of the same file (every mark already recorded, unchanged); with ``--corrected``, also a
re-import of a corrected file (one mark in ten changed, so amended with its history row).

    python benchmarks/marks_csv_memory.py /tmp/bench-mem [--rows 50000 100000 200000 400000]

For each size, ``benchmarks/marks_csv_100k.py`` writes the calendar, pupils and marks (in pupil
and date order, as ``export_marks`` and MIS exports write them); this script writes the same
rows shuffled and a corrected copy of each. Each order gets its own scratch SQLite database
under OUTPUT_DIR (``DATABASE_URL`` is overridden), and every import is a fresh
``manage.py import_marks`` process. The figure is that process's ``VmHWM`` (peak resident set,
read from ``/proc/self/status`` as it exits), not ``ru_maxrss``: Linux carries ``ru_maxrss``
across ``exec`` from the process that forked it, so a child of a large parent reports the
parent's size. The settings are production's (``DEBUG`` off) unless ``DJANGO_SETTINGS_MODULE``
says otherwise (the import keeps no SQL log under ``DEBUG`` either: ``csv_command.no_sql_log``);
with no ``REDIS_URL`` the recompute after the commit runs in the same process and is part of the
figure. For reference the script also reports ``manage.py check`` (a bare Django process).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import marks_csv_100k

ROOT = Path(__file__).resolve().parents[1]
SIZES = (50_000, 100_000, 200_000, 400_000)

# Runs manage.py in this (fresh, exec'd) process and prints its VmHWM in KiB as the last line.
_HWM_OF_MANAGE = """
import runpy, sys
sys.argv = ["manage.py", *sys.argv[1:]]
try:
    runpy.run_path("manage.py", run_name="__main__")
finally:
    with open("/proc/self/status") as status:
        hwm = next(line for line in status if line.startswith("VmHWM:"))
    print("VmHWM", hwm.split()[1])
"""


def manage(database: Path, *args: str) -> tuple[float, int, str]:
    """Run ``manage.py args`` in a fresh process on ``database``: (seconds, VmHWM MiB, output)."""
    env = {
        "DJANGO_SETTINGS_MODULE": "attendance_app.settings.production",
        "DJANGO_SECRET_KEY": "benchmark-only-not-a-secret",
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
    }
    env.pop("REDIS_URL", None)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _HWM_OF_MANAGE, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    lines = done.stdout.strip().splitlines()
    kib = int(lines[-1].split()[1])
    summary = next((line for line in lines if line.startswith("Marks:")), "")
    return seconds, kib // 1024, summary


def variants(out: Path, seed: int) -> dict[str, Path]:
    """The sorted file as written, the same rows shuffled, and a corrected copy of each."""
    rng = random.Random(seed)
    header, *rows = (out / "marks.csv").read_text().splitlines(keepends=True)
    shuffled = rows[:]
    rng.shuffle(shuffled)
    (out / "marks-shuffled.csv").write_text(header + "".join(shuffled))
    corrected = {row: _corrected(row) if rng.random() < 0.1 else row for row in rows}
    (out / "marks-corrected.csv").write_text(header + "".join(corrected[r] for r in rows))
    (out / "marks-shuffled-corrected.csv").write_text(
        header + "".join(corrected[r] for r in shuffled)
    )
    return {
        "sorted": out / "marks.csv",
        "shuffled": out / "marks-shuffled.csv",
        "sorted-corrected": out / "marks-corrected.csv",
        "shuffled-corrected": out / "marks-shuffled-corrected.csv",
    }


def _corrected(row: str) -> str:
    """The row with another valid code: M (medical) for anything else, I for an M."""
    upn, day, session, code, _minutes = row.rstrip("\n").split(",")
    return f"{upn},{day},{session},{'I' if code == 'M' else 'M'},\n"


def measure(out: Path, rows: int, *, corrected: bool) -> None:
    work = out / f"{rows}"
    marks_csv_100k.main(work, rows)
    files = variants(work, seed=rows)
    template = work / "template.sqlite3"
    template.unlink(missing_ok=True)
    manage(template, "migrate", "-v", "0")
    manage(template, "create_school", "--slug", "bench", "--name", "Bench", "--urn", "999001",
           "--jurisdiction", "england")  # fmt: skip
    manage(template, "import_calendar", "--school", "bench", str(work / "calendar.csv"))
    manage(template, "import_pupils", "--school", "bench", str(work / "pupils.csv"))
    for order in ("sorted", "shuffled"):
        database = work / f"{order}.sqlite3"
        shutil.copyfile(template, database)
        runs = [("first import", files[order]), ("re-import", files[order])]
        if corrected:
            runs.append(("corrected", files[f"{order}-corrected"]))
        for label, path in runs:
            seconds, mib, summary = manage(database, "import_marks", "--school", "bench", str(path))
            print(
                f"{rows:>7} rows  {order:<8}  {label:<12}  VmHWM {mib:>4} MiB  "
                f"{seconds:6.1f} s  {summary}",
                flush=True,
            )
        database.unlink()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, metavar="OUTPUT_DIR")
    parser.add_argument("--rows", type=int, nargs="+", default=SIZES)
    parser.add_argument(
        "--corrected", action="store_true", help="also re-import a file with 1 mark in 10 changed"
    )
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    with open("/proc/loadavg") as loadavg:
        print(f"load average at start: {' '.join(loadavg.read().split()[:3])}")
    bare = options.out / "bare.sqlite3"
    print(f"manage.py check (a bare Django process): VmHWM {manage(bare, 'check')[1]} MiB")
    bare.unlink(missing_ok=True)
    for size in options.rows:
        measure(options.out, size, corrected=options.corrected)
    with open("/proc/loadavg") as loadavg:
        print(f"load average at end: {' '.join(loadavg.read().split()[:3])}")
