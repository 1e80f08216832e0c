"""Write the CSV files for timing ``import_marks`` on about 100,000 rows (or ``--rows N``).

    python benchmarks/marks_csv_100k.py /tmp/bench [--rows 200000]
    export DATABASE_URL=sqlite:////tmp/bench/bench.sqlite3   # a scratch database
    python manage.py migrate
    python manage.py create_school --slug bench --name Bench --urn 999001 --jurisdiction england
    python manage.py import_calendar --school bench /tmp/bench/calendar.csv
    python manage.py import_pupils --school bench /tmp/bench/pupils.csv
    time python manage.py import_marks --school bench /tmp/bench/marks.csv   # created
    time python manage.py import_marks --school bench /tmp/bench/marks.csv   # unchanged

One school year (2024/25, CAL-A-like: 380 sessions) for 264 pupils: 100,320 marks; with
``--rows N``, as many pupils as N rows need (the last one's year cut short). The pupils have all
left on 18 July 2025, so their forms belong to 2024/25 whatever today's date is.

Peak memory as the file grows (sorted and shuffled, first import and re-import, measured as
``VmHWM`` of a fresh process): ``benchmarks/marks_csv_memory.py``, which writes its files with
this script.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from schools.calendar import ClosedRange, DateRange, SchoolCalendar
from schools.upn import upn_make

TERMS = [
    (dt.date(2024, 9, 2), dt.date(2024, 12, 20)),
    (dt.date(2025, 1, 6), dt.date(2025, 4, 4)),
    (dt.date(2025, 4, 22), dt.date(2025, 7, 18)),
]
CLOSURES = [
    (dt.date(2024, 10, 28), dt.date(2024, 11, 1)),
    (dt.date(2025, 2, 17), dt.date(2025, 2, 21)),
    (dt.date(2025, 5, 26), dt.date(2025, 5, 30)),
    (dt.date(2025, 5, 5), dt.date(2025, 5, 5)),
]
PUPILS = 264
PUPIL_COLUMNS = [
    "upn",
    "forename",
    "surname",
    "date_of_birth",
    "gender",
    "year_group",
    "form",
    "start_date",
    "leave_date",
]
CODES = ["/"] * 90 + ["I", "M", "N", "O", "C", "L"] * 2


def main(out: Path, rows_wanted: int | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(2024)
    with (out / "calendar.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["start_date", "end_date", "kind"])
        writer.writerows([s, e, "term"] for s, e in TERMS)
        writer.writerows([s, e, "closure"] for s, e in CLOSURES)
    calendar = SchoolCalendar(
        terms=[DateRange(s, e) for s, e in TERMS],
        closures=[ClosedRange(s, e, None) for s, e in CLOSURES],
    )
    sessions = calendar.sessions_between(TERMS[0][0], TERMS[-1][1])
    pupils = PUPILS if rows_wanted is None else math.ceil(rows_wanted / len(sessions))
    upns = [upn_make(f"8222024{n:04d}9") for n in range(pupils)]
    with (out / "pupils.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(PUPIL_COLUMNS)
        for n, upn in enumerate(upns):
            writer.writerow(
                [upn, f"Pupil{n}", "Bench", "2013-05-01", "FM"[n % 2], "7", f"7{n % 8}",
                 "2024-09-02", "2025-07-18"]
            )  # fmt: skip
    rows = 0
    with (out / "marks.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["upn", "date", "session", "code", "minutes_late"])
        for upn in upns:
            for day, session in sessions:
                if rows == rows_wanted:
                    break
                code = rng.choice(CODES)
                if code == "/" and session.value == "PM":
                    code = "\\"
                minutes = str(rng.randint(1, 25)) if code == "L" else ""
                writer.writerow([upn, day.isoformat(), session.value, code, minutes])
                rows += 1
    print(f"{rows} marks, {len(sessions)} sessions, {pupils} pupils in {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, metavar="OUTPUT_DIR")
    parser.add_argument("--rows", type=int, help="write this many marks (default: 264 pupils)")
    options = parser.parse_args()
    main(options.out, options.rows)
