"""Helpers for the CSV command tests: write a file, run a command, build a school end to end
with create_school + import_calendar + import_pupils (the way a real school arrives)."""

from __future__ import annotations

import datetime as dt
import io
import textwrap
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_scopes import scopes_disabled

from schools.models import School
from schools.upn import upn_make

# Forms belong to the academic year of "today" (schools.csv_pupils): the tests fix it in 2024/25.
TODAY = dt.date(2024, 10, 1)

# 2024/25 on CAL-A's pattern (spec/regulations.md §12): autumn from Mon 2 Sep with half-term
# 28 Oct - 1 Nov, spring from Mon 6 Jan, summer from 22 Apr; Fri 20 Dec 2024 closes at noon.
CALENDAR_2024 = """\
start_date,end_date,kind,session
2024-09-02,2024-12-20,term,
2025-01-06,2025-04-04,term,
2025-04-22,2025-07-18,term,
2024-10-28,2024-11-01,closure,
2024-12-20,2024-12-20,closure,PM
"""

# One body per pupil; the UPN is the body with its check letter in front.
CSA = upn_make("822202400011")  # Year 9, on roll since 2020
RECEPTION = upn_make("822202400021")  # aged 4 on 31 Aug 2024: not of compulsory school age
JOINER = upn_make("822202400031")  # starts Wed 11 Sep 2024 (TC-08 a)
LEAVER = upn_make("822202400041")  # leaves Fri 20 Dec 2024
STRANGER = upn_make("822202400991")  # a valid UPN of no pupil here

PUPIL_HEADER = "upn,forename,surname,date_of_birth,gender,year_group,form,start_date,leave_date"
PUPILS_2024 = f"""\
{PUPIL_HEADER}
{CSA},Amara,Okafor,2011-03-14,F,9,9A,2020-09-01,
{RECEPTION},Ben,Price,2020-06-01,M,R,RB,2024-09-02,
{JOINER},Chloe,Evans,2011-05-20,F,9,9A,2024-09-11,
{LEAVER},Dylan,Hughes,2011-07-02,M,9,9B,2020-09-01,2024-12-20
"""


def fix_today(monkeypatch: pytest.MonkeyPatch, day: dt.date = TODAY) -> dt.date:
    """Fix the commands' "today" (autumn 2024 by default), so the forms a pupils file
    describes are 2024/25's whatever the real date is."""
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)
    return day


def write(tmp_path: Path, name: str, text: str, *, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding=encoding)
    return path


def run(command: str, *args: object) -> str:
    """Run a command that must succeed; its standard output."""
    out = io.StringIO()
    call_command(command, *[str(a) for a in args], stdout=out, stderr=io.StringIO())
    return out.getvalue()


def run_failing(command: str, *args: object) -> list[str]:
    """Run a command that must fail; the error lines it printed (one per problem)."""
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(command, *[str(a) for a in args], stdout=io.StringIO(), stderr=err)
    return err.getvalue().splitlines()


def row_counts() -> dict[str, int]:
    """Rows in every schools and registers table, to show a failed import wrote nothing."""
    with scopes_disabled():
        return {
            model._meta.label: model._default_manager.count()
            for app in ("schools", "registers")
            for model in apps.get_app_config(app).get_models()
        }


def school_via_commands(
    tmp_path: Path,
    *,
    slug: str = "oak",
    urn: str = "100001",
    jurisdiction: str = "england",
    calendar: str = CALENDAR_2024,
    pupils: str | None = PUPILS_2024,
) -> School:
    run(
        "create_school",
        "--slug",
        slug,
        "--name",
        f"{slug.title()} School",
        "--urn",
        urn,
        "--jurisdiction",
        jurisdiction,
    )
    school = School.objects.get(slug=slug)
    run("import_calendar", "--school", slug, write(tmp_path, f"{slug}-calendar.csv", calendar))
    if pupils is not None:
        run("import_pupils", "--school", slug, write(tmp_path, f"{slug}-pupils.csv", pupils))
    return school
