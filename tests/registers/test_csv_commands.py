from __future__ import annotations

import datetime as dt
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registers import csv_marks
from registers.csv_marks import marks_plan
from registers.models import AttendanceMark, MarkChange, MarkSource
from registers.services import marks as marks_service
from registers.services.marks import MarkWrite
from schools import csv_io
from schools.csv_io import csv_parse
from schools.models import Pupil
from schools.scoping import school_scope
from schools.upn import upn_make
from tests.csv_helpers import (
    CSA,
    JOINER,
    LEAVER,
    PUPIL_HEADER,
    RECEPTION,
    STRANGER,
    fix_today,
    row_counts,
    run,
    run_failing,
    school_via_commands,
    write,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def today(monkeypatch):
    return fix_today(monkeypatch)


d = dt.date
HEADER = "upn,date,session,code,minutes_late"

# W2 of CAL-A (Mon 9 - Fri 13 Sep 2024) for the CSA pupil, TC-02 style.
WEEK_2 = f"""\
{HEADER}
{CSA},2024-09-09,AM,L,10
{CSA},2024-09-09,PM,\\,
{CSA},2024-09-10,AM,U,35
{CSA},2024-09-10,PM,I,
{CSA},2024-09-11,AM,/,
{CSA},2024-09-11,PM,/,
{RECEPTION},2024-09-12,AM,X,
{RECEPTION},2024-09-12,PM,X,
"""


@pytest.fixture
def oak(tmp_path, today):
    return school_via_commands(tmp_path)


def import_marks(tmp_path, text, name="marks.csv", school="oak"):
    return run("import_marks", "--school", school, write(tmp_path, name, text))


def marks(school):
    with school_scope(school):
        return {
            (m.pupil.upn, m.date, m.session): (m.code, m.minutes_late)
            for m in AttendanceMark.objects.select_related("pupil")
        }


def test_import_marks_writes_every_row_as_an_import(oak, tmp_path):
    out = import_marks(tmp_path, WEEK_2)

    assert "Marks: created 8, updated 0, unchanged 0; missing (historic K): 0" in out
    assert marks(oak) == {
        (CSA, d(2024, 9, 9), "AM"): ("L", 10),
        (CSA, d(2024, 9, 9), "PM"): ("\\", None),
        (CSA, d(2024, 9, 10), "AM"): ("U", 35),
        (CSA, d(2024, 9, 10), "PM"): ("I", None),
        (CSA, d(2024, 9, 11), "AM"): ("/", None),
        (CSA, d(2024, 9, 11), "PM"): ("\\", None),  # "/" follows the session
        (RECEPTION, d(2024, 9, 12), "AM"): ("X", None),
        (RECEPTION, d(2024, 9, 12), "PM"): ("X", None),
    }
    with school_scope(oak):
        assert set(AttendanceMark.objects.values_list("source", "scheme")) == {
            (MarkSource.IMPORT, "ENG_2024")
        }


def test_import_marks_twice_changes_nothing(oak, tmp_path):
    import_marks(tmp_path, WEEK_2)
    before = row_counts()

    out = import_marks(tmp_path, WEEK_2)

    assert "Marks: created 0, updated 0, unchanged 8" in out
    assert row_counts() == before


def test_a_changed_mark_is_amended_with_its_history(oak, tmp_path):
    import_marks(tmp_path, WEEK_2)
    corrected = WEEK_2.replace(f"{CSA},2024-09-10,PM,I,", f"{CSA},2024-09-10,PM,M,")

    out = import_marks(tmp_path, corrected, name="corrections.csv")

    assert "Marks: created 0, updated 1, unchanged 7" in out
    with school_scope(oak):
        change = MarkChange.objects.get()
    assert (change.original_code, change.new_code) == ("I", "M")
    assert change.reason == "Imported from corrections.csv"
    assert (change.changed_by_name, change.changed_by_position) == ("CSV import", "System")
    assert change.source == MarkSource.IMPORT


def test_hash_on_a_closure_day_and_z_before_the_start_date_are_accepted(oak, tmp_path):
    text = f"""\
    {HEADER}
    {CSA},2024-10-28,AM,#,
    {CSA},2024-12-20,PM,#,
    {JOINER},2024-09-09,AM,Z,
    {JOINER},2024-09-10,PM,Z,
    {JOINER},2024-09-11,AM,/,
    """

    out = import_marks(tmp_path, text)

    assert "created 5" in out
    assert marks(oak)[(JOINER, d(2024, 9, 9), "AM")] == ("Z", None)
    assert marks(oak)[(CSA, d(2024, 10, 28), "AM")] == ("#", None)


def test_a_historic_k_is_skipped_as_a_missing_mark(tmp_path, today):
    calendar = "start_date,end_date,kind\n2024-01-08,2024-03-28,term\n2024-09-02,2024-12-20,term\n"
    school = school_via_commands(tmp_path, calendar=calendar)
    text = f"""\
    {HEADER}
    {CSA},2024-03-04,AM,K,
    {CSA},2024-03-04,PM,H,
    {CSA},2024-09-09,AM,K,
    """

    out = import_marks(tmp_path, text)

    assert "Marks: created 2, updated 0, unchanged 0; missing (historic K): 1" in out
    # H was a code until 18 Aug 2024; K is one from 19 Aug 2024 (attending LA education).
    assert marks(school) == {
        (CSA, d(2024, 3, 4), "PM"): ("H", None),
        (CSA, d(2024, 9, 9), "AM"): ("K", None),
    }
    with school_scope(school):
        schemes = dict(AttendanceMark.objects.values_list("code", "scheme"))
    assert schemes == {"H": "ENG_2006", "K": "ENG_2024"}


BAD_CHECK = "A" + upn_make("822202400011")[1:]  # the CSA pupil's UPN with a wrong check letter


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (f"{CSA},2024-09-31,AM,/,", "line 10, column date: '2024-09-31' is not a date"),
        (
            f"{BAD_CHECK},2024-09-13,AM,/,",
            f"line 10, column upn: The check letter of UPN {BAD_CHECK} should be",
        ),
        (
            f"{STRANGER},2024-09-13,AM,/,",
            f"line 10, column upn: no pupil with UPN {STRANGER} at this school",
        ),
        (
            f"{CSA},2024-09-13,AM,QQ,",
            "line 10, column code: QQ is not an attendance code in England on 13 Sep 2024",
        ),
        (f"{CSA},2024-09-13,AM,H,", "line 10, column code: H is not an attendance code in England"),
        (
            f"{CSA},2024-09-13,AM,X,",
            "line 10, column code: Code X is only for pupils not of compulsory school age",
        ),
        (
            f"{RECEPTION},2024-09-13,AM,C2,",
            "line 10, column code: Code C2 is only for pupils of compulsory school age",
        ),
        (
            f"{CSA},2024-09-14,AM,/,",
            "line 10, column date: Sat 14 Sep 2024 AM is not a school session",
        ),
        (
            f"{CSA},2024-10-29,AM,/,",
            "line 10, column date: Tue 29 Oct 2024 AM is not a school session",
        ),
        (
            f"{CSA},2024-12-20,PM,\\,",
            "line 10, column session: Fri 20 Dec 2024 PM is not a school session",
        ),
        (
            f"{LEAVER},2025-01-06,AM,O,",
            "line 10, column code: Dylan Hughes is not on roll on 06 Jan 2025",
        ),
        (
            f"{JOINER},2024-09-11,AM,Z,",
            "line 10, column code: Z is only for sessions before the pupil's starting day",
        ),
        (
            f"{CSA},2024-09-13,AM,/,5",
            "line 10, column minutes_late: Minutes late go with L or U, not /",
        ),
        (f"{CSA},2024-09-13,AM,L,ten", "line 10, column minutes_late: 'ten' is not a whole number"),
        # Issue 8: minutes are required with L, and none may put arrival after the session.
        (f"{CSA},2024-09-13,AM,L,", "line 10, column minutes_late: Enter the minutes late with L"),
        (
            f"{CSA},2024-09-13,AM,L,999",
            "line 10, column minutes_late: 999 minutes late is after the AM session ended (12:00)",
        ),
        (f"{CSA},2024-09-13,EVE,/,", "line 10, column session: 'EVE' is not a session"),
        (f"{CSA},2024-09-13,AM,,", "line 10, column code: required"),
        (
            f"{CSA},2024-09-09,AM,L,10",
            "line 10, column session: this pupil's AM mark on 2024-09-09 is also on line 2",
        ),
        (f"{CSA},2024-09-13,AM,/", "line 10: expected 5 fields, found 4"),
    ],
)
def test_a_wrong_last_row_is_named_and_nothing_is_imported(oak, tmp_path, row, expected):
    before = row_counts()

    errors = run_failing(
        "import_marks", "--school", "oak", write(tmp_path, "m.csv", WEEK_2 + row + "\n")
    )

    assert len(errors) == 1
    assert errors[0].startswith(expected), errors
    assert row_counts() == before


def test_every_wrong_row_is_reported_at_once(oak, tmp_path):
    text = (
        f"{HEADER}\n{CSA},2024-09-14,AM,/,\n{CSA},2024-09-13,AM,/,\n{STRANGER},2024-09-13,AM,/,\n"
    )

    errors = run_failing("import_marks", "--school", "oak", write(tmp_path, "m.csv", text))

    assert [e.split(":")[0] for e in errors] == ["line 2, column date", "line 4, column upn"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("upn,date,session", ["line 1, column code: required column is missing"]),
        (
            "upn,date,session,code,comment",
            [
                (
                    "line 1, column comment: unknown column; the columns are upn, date, "
                    "session, code, minutes_late"
                )
            ],
        ),
        (
            "upn,date,date,code",
            [
                "line 1, column date: this column appears twice",
                "line 1, column session: required column is missing",
            ],
        ),
    ],
)
def test_the_header_is_checked(oak, tmp_path, header, expected):
    before = row_counts()

    errors = run_failing(
        "import_marks", "--school", "oak", write(tmp_path, "m.csv", f"{header}\n{CSA},x,y,z\n")
    )

    assert errors == expected
    assert row_counts() == before


def test_a_code_not_in_the_welsh_set_is_refused_for_a_welsh_school(tmp_path, today):
    wales = school_via_commands(tmp_path, slug="llan", urn="600001", jurisdiction="wales")
    text = f"""\
    {HEADER}
    {CSA},2024-09-09,AM,H,
    {CSA},2024-09-09,PM,C2,
    {CSA},2024-09-10,AM,K,
    """

    errors = run_failing("import_marks", "--school", "llan", write(tmp_path, "w.csv", text))

    assert errors == [
        "line 3, column code: C2 is not an attendance code in Wales on 09 Sep 2024",
        "line 4, column code: K is not an attendance code in Wales on 10 Sep 2024",
    ]
    assert marks(wales) == {}


def test_marks_are_checked_against_the_schools_own_pupils(oak, tmp_path):
    # The same UPN at another school is another pupil: it is not found through this school.
    elm = school_via_commands(
        tmp_path,
        slug="elm",
        urn="100002",
        pupils=f"{PUPIL_HEADER}\n{STRANGER},Eve,Hill,2011-01-01,F,9,9C,2020-09-01,\n",
    )
    text = f"{HEADER}\n{STRANGER},2024-09-09,AM,/,\n"

    errors = run_failing("import_marks", "--school", "oak", write(tmp_path, "m.csv", text))

    assert errors == [f"line 2, column upn: no pupil with UPN {STRANGER} at this school"]
    assert marks(elm) == {}


def test_export_then_import_is_a_no_op(oak, tmp_path):
    import_marks(tmp_path, WEEK_2)
    exported = tmp_path / "export.csv"

    out = run(
        "export_marks", "--school", "oak", "--from", "2024-09-01", "--to", "2024-12-31",
        "--output", exported,
    )  # fmt: skip
    again = run("import_marks", "--school", "oak", exported)

    assert "Exported 8 marks" in out
    assert "Marks: created 0, updated 0, unchanged 8" in again
    with school_scope(oak):
        assert not MarkChange.objects.exists()


def test_export_is_sorted_by_upn_date_and_session_within_the_dates(oak, tmp_path):
    text = f"""\
    {HEADER}
    {RECEPTION},2024-09-09,PM,\\,
    {RECEPTION},2024-09-09,AM,/,
    {CSA},2024-09-10,PM,I,
    {CSA},2024-09-09,AM,L,12
    {CSA},2024-09-13,AM,/,
    """
    import_marks(tmp_path, text)
    exported = tmp_path / "export.csv"

    run(
        "export_marks", "--school", "oak", "--from", "2024-09-09", "--to", "2024-09-12",
        "--output", exported,
    )  # fmt: skip

    first, second = sorted([CSA, RECEPTION])
    expected_rows = {
        CSA: [f"{CSA},2024-09-09,AM,L,12", f"{CSA},2024-09-10,PM,I,"],
        RECEPTION: [f"{RECEPTION},2024-09-09,AM,/,", f"{RECEPTION},2024-09-09,PM,\\,"],
    }
    assert exported.read_text().splitlines() == [
        HEADER,
        *expected_rows[first],
        *expected_rows[second],
    ]


def test_export_refuses_dates_in_the_wrong_order(oak, tmp_path):
    with pytest.raises(Exception, match="--to is before --from"):
        run(
            "export_marks", "--school", "oak", "--from", "2024-09-30", "--to", "2024-09-01",
            "--output", tmp_path / "x.csv",
        )  # fmt: skip


def test_checking_a_file_costs_the_same_queries_whatever_its_length(oak, tmp_path):
    def queries_for(days: list[dt.date]) -> int:
        rows = "".join(f"{CSA},{day},AM,/,\n{CSA},{day},PM,\\,\n" for day in days)
        table = csv_parse(
            f"{HEADER}\n{rows}".encode(),
            name="m.csv",
            required=("upn", "date", "session", "code"),
            optional=("minutes_late",),
        )
        with school_scope(oak), CaptureQueriesContext(connection) as captured:
            plan = marks_plan(school=oak, table=table)
        assert len(plan.writes) == 2 * len(days)
        return len(captured)

    one_week = [d(2024, 9, 9) + dt.timedelta(days=n) for n in range(5)]
    four_weeks = [day + dt.timedelta(weeks=w) for w in range(4) for day in one_week]

    assert queries_for(one_week) == queries_for(four_weeks) <= 5


def test_an_l_whose_minutes_reach_the_register_close_is_imported_as_u(oak, tmp_path):
    import_marks(tmp_path, f"{HEADER}\n{CSA},2024-09-13,AM,L,150\n")

    assert marks(oak) == {(CSA, d(2024, 9, 13), "AM"): ("U", 150)}


# --- Streaming in batches (issue 13 item 11) --------------------------------------------------
# The command writes every BATCH_SIZE checked rows inside one transaction; a small batch size
# puts the batch boundaries inside these short files.

WEEK_2_ROWS = 8


@pytest.fixture
def batch_of(monkeypatch):
    def set_size(size: int) -> None:
        monkeypatch.setattr(csv_marks, "BATCH_SIZE", size)

    return set_size


@pytest.mark.parametrize("size", [1, 3, 4, 7, 8, 9])
def test_every_batch_size_imports_the_whole_file_once(oak, tmp_path, batch_of, size):
    batch_of(size)
    out = import_marks(tmp_path, WEEK_2)

    assert "Marks: created 8, updated 0, unchanged 0" in out
    assert len(marks(oak)) == WEEK_2_ROWS
    corrected = WEEK_2.replace(f"{CSA},2024-09-11,PM,/,", f"{CSA},2024-09-11,PM,M,")
    out = import_marks(tmp_path, corrected, name="corrections.csv")
    assert "Marks: created 0, updated 1, unchanged 7" in out
    with school_scope(oak):
        assert MarkChange.objects.count() == 1


def test_a_bad_row_after_written_batches_imports_nothing_and_names_its_line(
    oak, tmp_path, batch_of
):
    batch_of(3)  # lines 2-4 and 5-7 are written before line 10 is read
    before = row_counts()

    errors = run_failing(
        "import_marks", "--school", "oak",
        write(tmp_path, "m.csv", WEEK_2 + f"{CSA},2024-09-12,AM,ZZ,\n"),
    )  # fmt: skip

    assert len(errors) == 1
    assert errors[0].startswith("line 10, column code: ZZ is not an attendance code")
    assert row_counts() == before


def test_amendments_of_written_batches_are_rolled_back_with_the_rest(oak, tmp_path, batch_of):
    import_marks(tmp_path, WEEK_2)
    batch_of(2)
    changed = WEEK_2.replace(",/,", ",M,").replace(",I,", ",M,")
    before = row_counts()

    errors = run_failing(
        "import_marks", "--school", "oak",
        write(tmp_path, "c.csv", changed + f"{STRANGER},2024-09-12,AM,/,\n"),
    )  # fmt: skip

    assert [e.split(":")[0] for e in errors] == ["line 10, column upn"]
    assert row_counts() == before
    assert marks(oak)[(CSA, d(2024, 9, 10), "PM")] == ("I", None)


def test_a_line_repeated_in_a_later_batch_names_the_first(oak, tmp_path, batch_of):
    batch_of(2)
    before = row_counts()

    errors = run_failing(
        "import_marks", "--school", "oak",
        write(tmp_path, "m.csv", WEEK_2 + f"{CSA},2024-09-09,PM,/,\n"),
    )  # fmt: skip

    assert errors == [
        "line 10, column session: this pupil's PM mark on 2024-09-09 is also on line 3"
    ]
    assert row_counts() == before


def test_every_error_is_reported_even_after_the_first(oak, tmp_path, batch_of):
    batch_of(2)
    text = WEEK_2 + f"{CSA},2024-09-12,AM,ZZ,\n{CSA},2024-09-12,PM,/,\n{CSA},2024-09-13,AM,ZZ,\n"

    errors = run_failing("import_marks", "--school", "oak", write(tmp_path, "m.csv", text))

    assert [e.split(":")[0] for e in errors] == ["line 10, column code", "line 12, column code"]
    assert marks(oak) == {}


def test_a_line_that_is_not_utf8_after_written_batches_imports_nothing(oak, tmp_path, batch_of):
    batch_of(1)
    path = tmp_path / "m.csv"
    path.write_bytes(WEEK_2.encode() + f"{CSA},2024-09-12,AM,/,\n".encode("latin-1") + b"\xff\n")
    before = row_counts()

    errors = run_failing("import_marks", "--school", "oak", path)

    assert errors == ["line 11: the file is not UTF-8 text"]
    assert row_counts() == before


def test_the_pupils_are_recomputed_once_for_the_whole_file(oak, tmp_path, batch_of, monkeypatch):
    calls: list[tuple[list[int], dt.date]] = []
    monkeypatch.setattr(
        csv_marks,
        "recompute_after_commit",
        lambda *, school, pupil_ids, changed_from: calls.append((pupil_ids, changed_from)),
    )
    batch_of(3)

    import_marks(tmp_path, WEEK_2)

    with school_scope(oak):
        pupil_ids = sorted(AttendanceMark.objects.values_list("pupil_id", flat=True).distinct())
    assert calls == [(pupil_ids, d(2024, 9, 9))]
    import_marks(tmp_path, WEEK_2)  # nothing changed: nothing to recompute
    assert len(calls) == 1


def test_writing_costs_queries_per_batch_not_per_row(oak, tmp_path, batch_of):
    def queries_for(text: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            import_marks(tmp_path, text)
        return len(captured)

    batch_of(100)
    week_3 = (
        "".join(
            f"{CSA},{d(2024, 9, 16) + dt.timedelta(days=n)},{s},/,\n"
            for n in range(5)
            for s in "AP"
        )
        .replace(",P,", ",PM,")
        .replace(",A,", ",AM,")
    )
    short = queries_for(f"{HEADER}\n{CSA},2024-09-09,AM,/,\n")
    longer = queries_for(f"{HEADER}\n{week_3}")

    assert short == longer


# --- Large files in any order (issue 13 item 11) ----------------------------------------------
# An autumn term of three pupils (about 380 rows) in batches of 37: the file crosses ten batch
# boundaries, and shuffled, every batch holds every pupil on dates all over the term.


def autumn_rows() -> list[str]:
    rows: list[str] = []
    day = d(2024, 9, 11)  # the joiner's first day
    codes = ["/", "I", "M", "/", "L", "/", "O"]
    while day <= d(2024, 12, 19):  # the leaver's last full day
        if day.weekday() < 5 and not d(2024, 10, 28) <= day <= d(2024, 11, 1):
            for upn in (CSA, JOINER, LEAVER):
                for session in ("AM", "PM"):
                    code = codes[len(rows) % len(codes)]
                    if code == "/" and session == "PM":
                        code = "\\"
                    rows.append(f"{upn},{day},{session},{code},{'10' if code == 'L' else ''}\n")
        day += dt.timedelta(days=1)
    return rows


def corrected(rows: list[str]) -> list[str]:
    """Every seventh row with another code (M, or I for an M)."""
    out = []
    for n, row in enumerate(rows):
        upn, day, session, code, _minutes = row.rstrip("\n").split(",")
        if n % 7 == 3:
            row = f"{upn},{day},{session},{'I' if code == 'M' else 'M'},\n"
        out.append(row)
    return out


def shuffled(rows: list[str]) -> list[str]:
    out = rows[:]
    random.Random(13).shuffle(out)
    return out


def stored(school):
    """Everything an import leaves: the marks and their amendment history."""
    with school_scope(school):
        marks = {
            (m.pupil.upn, m.date, m.session): (m.code, m.minutes_late, m.version, m.source)
            for m in AttendanceMark.objects.select_related("pupil")
        }
        history = sorted(
            (c.mark.pupil.upn, c.date, c.session, c.original_code, c.new_code, c.reason, c.source)
            for c in MarkChange.objects.select_related("mark__pupil")
        )
    return marks, history


def test_a_shuffled_file_gives_the_same_marks_and_history_as_a_sorted_one(oak, tmp_path, batch_of):
    elm = school_via_commands(tmp_path, slug="elm", urn="100002")
    rows = autumn_rows()
    batch_of(37)

    for school, order in ((oak, list), (elm, shuffled)):
        out = import_marks(tmp_path, HEADER + "\n" + "".join(order(rows)), school=school.slug)
        assert f"Marks: created {len(rows)}, updated 0, unchanged 0" in out
        out = import_marks(
            tmp_path,
            HEADER + "\n" + "".join(order(corrected(rows))),
            name="corrections.csv",
            school=school.slug,
        )
        changed = sum(a != b for a, b in zip(rows, corrected(rows), strict=True))
        assert f"updated {changed}, unchanged {len(rows) - changed}" in out

    assert stored(elm) == stored(oak)
    recorded, history = stored(oak)
    assert len(recorded) == len(rows)
    assert len(history) == changed


def test_a_shuffled_re_import_changes_nothing(oak, tmp_path, batch_of):
    rows = shuffled(autumn_rows())
    batch_of(37)
    import_marks(tmp_path, HEADER + "\n" + "".join(rows))
    before, counts = stored(oak), row_counts()

    out = import_marks(tmp_path, HEADER + "\n" + "".join(shuffled(rows)))

    assert f"Marks: created 0, updated 0, unchanged {len(rows)}" in out
    assert stored(oak) == before
    assert row_counts() == counts


def test_a_wrong_last_row_of_a_large_shuffled_correction_imports_nothing(oak, tmp_path, batch_of):
    rows = autumn_rows()
    batch_of(37)
    import_marks(tmp_path, HEADER + "\n" + "".join(rows))
    before, counts = stored(oak), row_counts()
    text = HEADER + "\n" + "".join(shuffled(corrected(rows))) + f"{CSA},2024-12-20,AM,ZZ,\n"

    errors = run_failing("import_marks", "--school", "oak", write(tmp_path, "c.csv", text))

    last_line = len(rows) + 2  # the header is line 1
    assert [e.split(":")[0] for e in errors] == [f"line {last_line}, column code"]
    assert "ZZ is not an attendance code" in errors[0]
    assert stored(oak) == before
    assert row_counts() == counts


def test_marks_write_loads_only_the_pupils_and_dates_it_writes(oak, tmp_path, monkeypatch):
    rows = autumn_rows()
    import_marks(tmp_path, HEADER + "\n" + "".join(rows))
    with school_scope(oak):
        pupils = {p.upn: p for p in Pupil.objects.all()}
        writes = [
            MarkWrite(pupils[CSA], d(2024, 9, 12), "AM", "/"),
            MarkWrite(pupils[LEAVER], d(2024, 12, 19), "PM", "\\"),
            MarkWrite(pupils[JOINER], d(2024, 12, 19), "AM", "/"),
            MarkWrite(pupils[JOINER], d(2024, 9, 12), "PM", "\\"),
        ]
        expected = {
            (pupils[upn].pk, day, session)
            for upn, day in {(w.pupil.upn, w.date) for w in writes}
            for session in ("AM", "PM")
        }

        assert set(marks_service._marks_for_update(school=oak, writes=writes)) == expected
        # Split into lookups of at most three parameters: the same marks.
        monkeypatch.setattr(marks_service, "_LOOKUP_PARAMS", 3)
        assert set(marks_service._marks_for_update(school=oak, writes=writes)) == expected


def test_a_file_wrong_on_every_line_lists_the_first_errors_and_counts_the_rest(
    oak, tmp_path, monkeypatch
):
    monkeypatch.setattr(csv_io, "ERRORS_KEPT", 3)
    text = HEADER + "\n" + "".join(f"{CSA},2024-09-{n:02},AM,ZZ,\n" for n in range(9, 14))
    text += f"{CSA},2024-09-16,AM\n"  # a row-shape error, found by the reader
    before = row_counts()

    errors = run_failing("import_marks", "--school", "oak", write(tmp_path, "m.csv", text))

    assert [e.split(":")[0] for e in errors] == [
        "line 2, column code",
        "line 3, column code",
        "line 4, column code",
        "... and 3 more errors not listed",
    ]
    assert row_counts() == before


def test_an_import_keeps_no_sql_log_even_with_debug_on(oak, tmp_path, settings):
    settings.DEBUG = True  # the local settings: Django would keep every query's SQL
    connection.queries_log.clear()

    import_marks(tmp_path, WEEK_2)

    assert len(connection.queries_log) == 0
    assert len(marks(oak)) == WEEK_2_ROWS
