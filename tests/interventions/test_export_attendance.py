"""export_attendance end to end: a school arrives through the CSV commands, its marks are
imported, and the export is read back (issue 4's interface, worked cases of §12)."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from interventions.management.commands.export_attendance import HEADER
from tests.csv_helpers import CSA, JOINER, fix_today, run, school_via_commands, write

pytestmark = pytest.mark.django_db


def sessions(first: dt.date, last: dt.date, code: str, skip: tuple[dt.date, ...] = ()) -> list[str]:
    rows, day = [], first
    while day <= last:
        if (
            day.weekday() < 5
            and not (dt.date(2024, 10, 28) <= day <= dt.date(2024, 11, 1))
            and day not in skip
        ):
            rows += [f"{day},AM,{code}", f"{day},PM,{code}"]
        day += dt.timedelta(days=1)
    return rows


def export(tmp_path, *args: str) -> dict[str, dict[str, str]]:
    out = tmp_path / "attendance.csv"
    run("export_attendance", "--school", "oak", *args, "--output", out)
    with open(out, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == HEADER
        return {row["upn"]: row for row in reader}


@pytest.fixture
def oak(tmp_path, monkeypatch):
    fix_today(monkeypatch)
    return school_via_commands(tmp_path)


def import_marks(tmp_path, upn: str, rows: list[str]) -> None:
    body = "upn,date,session,code\n" + "".join(f"{upn},{row}\n" for row in rows)
    run("import_marks", "--school", "oak", write(tmp_path, f"marks-{len(rows)}.csv", body))


def test_tc02_exactly_ten_percent_is_persistent_absence(oak, tmp_path):
    # W2-W3 (9-20 Sep 2024): 20 sessions; 1 U and 1 O is 2 of 20 missed = exactly 10%.
    rows = sessions(dt.date(2024, 9, 9), dt.date(2024, 9, 20), "/")
    rows = [
        r.replace("2024-09-10,AM,/", "2024-09-10,AM,U").replace(
            "2024-09-11,PM,/", "2024-09-11,PM,O"
        )
        for r in rows
    ]
    rows = [r.replace(",PM,/", ",PM,\\") for r in rows]
    import_marks(tmp_path, CSA, rows)

    row = export(tmp_path, "--from", "2024-09-09", "--to", "2024-09-20")[CSA]

    assert row["possible_sessions"] == "20"
    assert row["unauthorised_sessions"] == "2"
    assert row["attendance_rate"] == "90.0"
    assert row["overall_absence_rate"] == "10.0"
    assert row["persistent_absence"] == "true"
    assert row["severe_absence"] == "false"
    assert row["pn_window_count"] == "2"
    assert row["pn_threshold_met_on"] == ""


def test_tc13_penalty_notice_threshold_is_met_on_the_session_date_after_n_resolves_to_o(
    oak, tmp_path
):
    # O on Mon 21 - Thu 24 Oct (8 sessions), N on Fri 25 Oct resolved to O: 10 in the window.
    present = sessions(dt.date(2024, 9, 2), dt.date(2024, 10, 18), "/")
    present = [r.replace(",PM,/", ",PM,\\") for r in present]
    absences = sessions(dt.date(2024, 10, 21), dt.date(2024, 10, 24), "O") + sessions(
        dt.date(2024, 10, 25), dt.date(2024, 10, 25), "N"
    )
    import_marks(tmp_path, CSA, present + absences)

    before = export(tmp_path, "--from", "2024-09-02", "--to", "2024-11-08")[CSA]
    import_marks(tmp_path, CSA, ["2024-10-25,AM,O", "2024-10-25,PM,O"])  # resolution B
    after = export(tmp_path, "--from", "2024-09-02", "--to", "2024-11-08")[CSA]

    assert (before["pn_window_count"], before["pn_threshold_met_on"]) == ("8", "")
    assert (after["pn_window_count"], after["pn_threshold_met_on"]) == ("10", "2024-10-25")
    assert after["unauthorised_sessions"] == "10"


def test_tc08_not_yet_on_roll_and_dual_registration_leave_the_denominator(oak, tmp_path):
    # Chloe starts Wed 11 Sep: Z before (on Mon/Tue), D on Wed-Fri mornings, present afternoons.
    rows = ["2024-09-09,AM,Z", "2024-09-09,PM,Z", "2024-09-10,AM,Z", "2024-09-10,PM,Z"]
    for day in ("2024-09-11", "2024-09-12", "2024-09-13"):
        rows += [f"{day},AM,D", f"{day},PM,\\"]
    import_marks(tmp_path, JOINER, rows)

    row = export(tmp_path, "--from", "2024-09-09", "--to", "2024-09-13")[JOINER]

    assert (row["possible_sessions"], row["present_sessions"], row["attendance_rate"]) == (
        "3",
        "3",
        "100.0",
    )
    assert row["persistent_absence"] == "false"


def test_as_of_defaults_to_to_and_an_unknown_school_is_an_error(oak, tmp_path):
    import_marks(tmp_path, CSA, sessions(dt.date(2024, 9, 2), dt.date(2024, 9, 6), "G"))

    to_only = export(tmp_path, "--from", "2024-09-02", "--to", "2024-09-06")[CSA]
    as_of_earlier = export(
        tmp_path, "--from", "2024-09-02", "--to", "2024-09-06", "--as-of", "2024-09-03"
    )[CSA]

    assert to_only["pn_window_count"] == "10"
    assert to_only["pn_threshold_met_on"] == "2024-09-06"
    assert as_of_earlier["possible_sessions"] == "4"
    assert as_of_earlier["pn_window_count"] == "4"
    with pytest.raises(CommandError, match="No school with the slug 'nope'"):
        call_command(
            "export_attendance",
            "--school",
            "nope",
            "--from",
            "2024-09-02",
            "--to",
            "2024-09-06",
            "--output",
            str(tmp_path / "x.csv"),
        )
    assert not (tmp_path / "x.csv").exists()
