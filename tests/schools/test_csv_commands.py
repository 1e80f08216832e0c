from __future__ import annotations

import datetime as dt

import pytest
from django_scopes import scopes_disabled

from schools.calendar import Session
from schools.models import (
    AcademicYear,
    Closure,
    ClosureKind,
    Enrolment,
    FormGroup,
    FormPlacement,
    Pupil,
    School,
    SenStatus,
    Term,
    Trust,
    YearGroup,
)
from schools.scoping import school_scope
from schools.selectors import school_calendar_get
from schools.upn import upn_make
from tests.csv_helpers import (
    CALENDAR_2024,
    CSA,
    LEAVER,
    PUPIL_HEADER,
    PUPILS_2024,
    RECEPTION,
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


def create_school(*extra: str, slug: str = "oak", urn: str = "100001") -> str:
    args = ["--slug", slug, "--name", "Oak School", "--urn", urn, "--jurisdiction", "england"]
    return run("create_school", *args, *extra)


# --- create_school --------------------------------------------------------------------------


def test_create_school_creates_the_school_and_a_provisional_trust():
    out = create_school("--la-code", "822", "--trust", "oak-trust")

    school = School.objects.select_related("trust").get(slug="oak")
    assert "School oak (Oak School): created" in out
    assert "Trust oak-trust: created" in out
    assert (school.name, school.urn, school.la_code, school.jurisdiction) == (
        "Oak School",
        "100001",
        "822",
        "england",
    )
    assert school.trust is not None
    assert (school.trust.slug, school.trust.name) == ("oak-trust", "oak-trust")


def test_create_school_again_with_the_same_arguments_changes_nothing():
    create_school("--trust", "oak-trust")
    before = row_counts()

    out = create_school("--trust", "oak-trust")

    assert "School oak (Oak School): unchanged" in out
    assert "Trust" not in out
    assert row_counts() == before
    assert Trust.objects.count() == 1


def test_create_school_updates_the_name_of_the_same_school():
    create_school()

    out = run(
        "create_school",
        *("--slug", "oak", "--name", "Oak Academy", "--urn", "100001", "--jurisdiction", "england"),
    )

    assert "updated" in out
    assert School.objects.get(slug="oak").name == "Oak Academy"


@pytest.mark.parametrize(
    ("slug", "urn", "expected"),
    [
        ("elm", "100001", "--urn: URN 100001 already belongs to school oak"),
        ("oak", "100002", "--slug: School Oak School already has this slug, with URN 100001"),
    ],
)
def test_create_school_refuses_a_slug_or_urn_of_another_school(slug, urn, expected):
    create_school()
    before = row_counts()

    errors = run_failing(
        "create_school",
        *("--slug", slug, "--name", "Elm", "--urn", urn, "--jurisdiction", "england"),
    )

    assert any(e.startswith(expected) for e in errors), errors
    assert row_counts() == before
    assert School.objects.count() == 1


def test_create_school_names_invalid_arguments():
    errors = run_failing(
        "create_school",
        *("--slug", "Not a slug", "--name", "X", "--urn", "12345", "--jurisdiction", "wales"),
        *("--la-code", "82"),
    )

    assert any(e.startswith("--slug: ") for e in errors)
    assert "--urn: Six digits." in errors
    assert "--la-code: Three digits." in errors
    assert not School.objects.exists()


def test_create_school_refuses_to_change_the_jurisdiction():
    create_school()

    errors = run_failing(
        "create_school",
        *("--slug", "oak", "--name", "Oak School", "--urn", "100001", "--jurisdiction", "wales"),
    )

    assert errors[0].startswith("--jurisdiction: Oak School is a school in England")
    assert School.objects.get(slug="oak").jurisdiction == "england"


# --- import_calendar ------------------------------------------------------------------------


TWO_YEARS = CALENDAR_2024 + "2025-09-03,2025-12-19,term,\n"  # and autumn 2025


@pytest.fixture
def oak(db):
    create_school()
    return School.objects.get(slug="oak")


def test_import_calendar_creates_years_terms_and_closures(oak, tmp_path):
    out = run("import_calendar", "--school", "oak", write(tmp_path, "cal.csv", TWO_YEARS))

    assert "Academic years: created 2" in out
    assert "Terms: created 4, updated 0, unchanged 0" in out
    assert "Closures: created 2, updated 0, unchanged 0" in out
    with school_scope(oak):
        years = list(AcademicYear.objects.values_list("name", "start_date", "end_date"))
        terms = list(Term.objects.values_list("name", "academic_year__name"))
        closures = set(Closure.objects.values_list("kind", "description"))
        calendar = school_calendar_get(school=oak)
    assert years == [
        ("2024/25", d(2024, 8, 1), d(2025, 7, 31)),
        ("2025/26", d(2025, 8, 1), d(2026, 7, 31)),
    ]
    assert terms == [
        ("Autumn 2024", "2024/25"),
        ("Spring 2025", "2024/25"),
        ("Summer 2025", "2024/25"),
        ("Autumn 2025", "2025/26"),
    ]
    assert closures == {(ClosureKind.OTHER, "Imported")}
    assert calendar.is_session(d(2024, 9, 2), Session.AM)
    assert not calendar.is_school_day(d(2024, 10, 28))  # half-term
    assert calendar.sessions_on(d(2024, 12, 20)) == (Session.AM,)
    assert not calendar.is_school_day(d(2024, 9, 7))  # a Saturday


def test_import_calendar_twice_changes_nothing(oak, tmp_path):
    path = write(tmp_path, "cal.csv", TWO_YEARS)
    run("import_calendar", "--school", "oak", path)
    before = row_counts()

    out = run("import_calendar", "--school", "oak", path)

    assert "Academic years: created 0" in out
    assert "Terms: created 0, updated 0, unchanged 4" in out
    assert "Closures: created 0, updated 0, unchanged 2" in out
    assert row_counts() == before


def test_import_calendar_updates_a_term_end_and_adds_a_closure(oak, tmp_path):
    run("import_calendar", "--school", "oak", write(tmp_path, "a.csv", CALENDAR_2024))
    changed = CALENDAR_2024.replace("2025-07-18,term", "2025-07-22,term")
    changed += "2025-05-05,2025-05-05,closure,\n"

    out = run("import_calendar", "--school", "oak", write(tmp_path, "b.csv", changed))

    assert "Terms: created 0, updated 1, unchanged 2" in out
    assert "Closures: created 1, updated 0, unchanged 2" in out
    with school_scope(oak):
        calendar = school_calendar_get(school=oak)
    assert calendar.is_school_day(d(2025, 7, 22))
    assert not calendar.is_school_day(d(2025, 5, 5))


def test_import_calendar_reads_a_bom_any_case_headers_and_surrounding_spaces(oak, tmp_path):
    text = "Start_Date , END_DATE,Kind\n 2024-09-02 ,2024-12-20 , Term \n"
    path = write(tmp_path, "cal.csv", text, encoding="utf-8-sig")

    out = run("import_calendar", "--school", "oak", path)

    assert "Terms: created 1" in out


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            "2024-09-02,2025-09-01,term,",
            (
                "line 4, column end_date: a term must lie within one academic year (1 August "
                "to 31 July); this one starts in 2024/25 and ends in 2025/26"
            ),
        ),
        ("2024-09-31,2024-12-20,term,", "line 4, column start_date: '2024-09-31' is not a date"),
        ("02/09/2024,2024-12-20,term,", "line 4, column start_date: '02/09/2024' is not a date"),
        ("2024-12-20,2024-09-02,term,", "line 4, column end_date: the end date is before"),
        ("2024-09-02,2024-12-20,holiday,", "line 4, column kind: 'holiday' is not a kind"),
        ("2024-09-02,2024-12-20,term,AM", "line 4, column session: a term has no session"),
        ("2024-11-04,2024-11-04,closure,EVE", "line 4, column session: 'EVE' is not a session"),
        (
            "2024-12-02,2025-01-10,term,",
            "line 4, column start_date: this term overlaps the recorded term Autumn 2024",
        ),
        (
            "2024-12-23,2024-12-27,closure,",
            "line 4, column start_date: a closure must lie inside one term",
        ),
        (
            "2024-09-07,2024-09-08,closure,",
            "line 4, column start_date: this closure falls on a weekend",
        ),
        ("2024-09-02,2024-12-20,term", "line 4: expected 4 fields, found 3"),
    ],
)
def test_import_calendar_rejects_a_bad_last_row_and_imports_nothing(oak, tmp_path, row, expected):
    # 2024/25 is recorded (the overlap case needs its autumn term); the first two rows are new
    # and valid, and would be imported if the last row were right.
    run("import_calendar", "--school", "oak", write(tmp_path, "a.csv", CALENDAR_2024))
    before = row_counts()
    text = "start_date,end_date,kind,session\n2026-01-05,2026-03-27,term,\n"
    text += f"2026-02-16,2026-02-20,closure,\n{row}\n"

    errors = run_failing("import_calendar", "--school", "oak", write(tmp_path, "b.csv", text))

    assert any(e.startswith(expected) for e in errors), errors
    assert row_counts() == before


def test_import_calendar_reports_two_overlapping_file_terms_once(oak, tmp_path):
    text = "start_date,end_date,kind\n2024-09-02,2024-12-20,term\n2024-12-02,2024-12-31,term\n"

    errors = run_failing("import_calendar", "--school", "oak", write(tmp_path, "c.csv", text))

    assert errors == ["line 3, column start_date: this term overlaps the term on line 2"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("start_date,end_date", ["line 1, column kind: required column is missing"]),
        (
            "start_date,end_date,kind,colour",
            [
                (
                    "line 1, column colour: unknown column; the columns are start_date, "
                    "end_date, kind, session"
                )
            ],
        ),
    ],
)
def test_import_calendar_checks_the_header(oak, tmp_path, header, expected):
    path = write(tmp_path, "cal.csv", f"{header}\n2024-09-02,2024-12-20,term,x\n")

    errors = run_failing("import_calendar", "--school", "oak", path)

    assert errors == expected
    with school_scope(oak):
        assert not Term.objects.exists()


def test_import_calendar_for_an_unknown_school_fails(tmp_path):
    with pytest.raises(Exception, match="No school with the slug 'nowhere'"):
        run("import_calendar", "--school", "nowhere", write(tmp_path, "c.csv", CALENDAR_2024))


# --- import_pupils --------------------------------------------------------------------------


def test_import_pupils_creates_pupils_enrolments_forms_and_placements(tmp_path, today):
    school = school_via_commands(tmp_path, pupils=None)
    path = write(tmp_path, "pupils.csv", PUPILS_2024)

    out = run("import_pupils", "--school", "oak", path)

    assert "Pupils: created 4, updated 0, unchanged 0" in out
    with school_scope(school):
        pupil = Pupil.objects.get(upn=CSA)
        enrolment = Enrolment.objects.get(pupil=pupil)
        placement = FormPlacement.objects.select_related("form__academic_year").get(pupil=pupil)
        leaver = FormPlacement.objects.get(pupil__upn=LEAVER)
        groups = list(YearGroup.objects.values_list("nc_year", "name", "sort_order"))
        forms = set(FormGroup.objects.values_list("name", "year_group__nc_year"))
    assert (pupil.legal_forename, pupil.legal_surname, pupil.gender) == ("Amara", "Okafor", "F")
    assert pupil.date_of_birth == d(2011, 3, 14)
    assert (enrolment.start_date, enrolment.leaving_date, enrolment.deletion_ground) == (
        d(2020, 9, 1),
        None,
        "",
    )
    # On roll since 2020, so in this year's form from the first day of the academic year.
    assert placement.form.name == "9A"
    assert placement.form.academic_year.name == "2024/25"
    assert (placement.start_date, placement.end_date) == (d(2024, 8, 1), None)
    assert (leaver.start_date, leaver.end_date) == (d(2024, 8, 1), d(2024, 12, 20))
    assert groups == [("R", "Reception", 2), ("9", "Year 9", 11)]
    assert forms == {("9A", "9"), ("9B", "9"), ("RB", "R")}


def test_import_pupils_twice_changes_nothing(tmp_path, today):
    school_via_commands(tmp_path)
    before = row_counts()

    out = run("import_pupils", "--school", "oak", write(tmp_path, "again.csv", PUPILS_2024))

    assert "Pupils: created 0, updated 0, unchanged 4" in out
    assert row_counts() == before


def test_import_pupils_updates_changed_details_and_leaves_absent_columns_alone(tmp_path, today):
    school = school_via_commands(tmp_path, pupils=None)
    header = f"{PUPIL_HEADER},fsm,sen,ethnicity"
    first = f"{header}\n{CSA},Amara,Okafor,2011-03-14,F,9,9A,2020-09-01,,Y,K,WBRI\n"
    run("import_pupils", "--school", "oak", write(tmp_path, "a.csv", first))
    # Without the optional columns, and with a new surname and a leaving date.
    second = f"{PUPIL_HEADER}\n{CSA},Amara,Okafor-Lee,2011-03-14,F,9,9A,2020-09-01,2025-03-31\n"

    out = run("import_pupils", "--school", "oak", write(tmp_path, "b.csv", second))

    assert "Pupils: created 0, updated 1, unchanged 0" in out
    with school_scope(school):
        pupil = Pupil.objects.get(upn=CSA)
        enrolment = Enrolment.objects.get(pupil=pupil)
        placement = FormPlacement.objects.get(pupil=pupil)
    assert pupil.legal_surname == "Okafor-Lee"
    assert (pupil.fsm, pupil.sen_status, pupil.ethnicity) == (True, SenStatus.SUPPORT, "WBRI")
    assert enrolment.leaving_date == d(2025, 3, 31)
    assert placement.end_date == d(2025, 3, 31)


def test_a_form_change_on_reimport_ends_the_old_placement_the_day_before(
    tmp_path, today, monkeypatch
):
    school = school_via_commands(tmp_path)
    moved = PUPILS_2024.replace(
        f"{CSA},Amara,Okafor,2011-03-14,F,9,9A", f"{CSA},Amara,Okafor,2011-03-14,F,9,9B"
    )
    later = d(2024, 11, 4)
    fix_today(monkeypatch, later)

    out = run("import_pupils", "--school", "oak", write(tmp_path, "moved.csv", moved))

    assert "Pupils: created 0, updated 1, unchanged 3" in out
    with school_scope(school):
        placements = list(
            FormPlacement.objects.filter(pupil__upn=CSA)
            .order_by("start_date")
            .values_list("form__name", "start_date", "end_date")
        )
    assert placements == [
        ("9A", d(2024, 8, 1), d(2024, 11, 3)),
        ("9B", d(2024, 11, 4), None),
    ]


def test_next_years_form_starts_with_the_academic_year(tmp_path, today, monkeypatch):
    school = school_via_commands(tmp_path)
    next_year = "start_date,end_date,kind\n2025-09-03,2025-12-19,term\n"
    run("import_calendar", "--school", "oak", write(tmp_path, "next.csv", next_year))
    moved_up = f"{PUPIL_HEADER}\n{CSA},Amara,Okafor,2011-03-14,F,10,10A,2020-09-01,\n"
    fix_today(monkeypatch, d(2025, 9, 10))

    run("import_pupils", "--school", "oak", write(tmp_path, "moved-up.csv", moved_up))

    with school_scope(school):
        placements = list(
            FormPlacement.objects.filter(pupil__upn=CSA)
            .order_by("start_date")
            .values_list("form__name", "form__academic_year__name", "start_date", "end_date")
        )
    assert placements == [
        ("9A", "2024/25", d(2024, 8, 1), d(2025, 7, 31)),
        ("10A", "2025/26", d(2025, 8, 1), None),
    ]


def test_import_pupils_needs_the_calendar_first(tmp_path, today):
    school_via_commands(tmp_path, calendar="start_date,end_date,kind\n", pupils=None)
    before = row_counts()

    errors = run_failing("import_pupils", "--school", "oak", write(tmp_path, "p.csv", PUPILS_2024))

    assert errors[0] == (
        "line 2, column form: the calendar has no academic year 2024/25, the year of this "
        "pupil's form (the form on 2024-10-01): import the calendar first"
    )
    assert len(errors) == 4
    assert row_counts() == before


BAD_UPN = "A" + upn_make("822202400051")[1:]  # right shape, wrong check letter


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            f"{BAD_UPN},Eve,Hill,2011-01-01,F,9,9A,2020-09-01,",
            f"line 6, column upn: The check letter of UPN {BAD_UPN} should be",
        ),
        (
            f"{upn_make('822202400051')},Eve,Hill,2011-01-01,F,Year 9,9A,2020-09-01,",
            "line 6, column year_group: 'Year 9' is not an NC year",
        ),
        (
            f"{upn_make('822202400051')},Eve,Hill,2011-01-01,F,10,9A,2020-09-01,",
            "line 6, column year_group: form 9A is a Year 9 form on line 2",
        ),
        (
            f"{upn_make('822202400051')},Eve,Hill,14/03/2011,F,9,9A,2020-09-01,",
            "line 6, column date_of_birth: '14/03/2011' is not a date",
        ),
        (
            f"{upn_make('822202400051')},Eve,Hill,2011-01-01,X,9,9A,2020-09-01,",
            "line 6, column gender: 'X' is not a gender",
        ),
        (
            f"{upn_make('822202400051')},Eve,,2011-01-01,F,9,9A,2020-09-01,",
            "line 6, column surname: required",
        ),
        (
            f"{upn_make('822202400051')},Eve,Hill,2011-01-01,F,9,9A,2020-09-01,2019-01-01",
            "line 6, column leave_date: the leave date is before the start date",
        ),
        (
            f"{CSA},Amara,Okafor,2011-03-14,F,9,9A,2020-09-01,",
            f"line 6, column upn: UPN {CSA} is also on line 2",
        ),
    ],
)
def test_import_pupils_rejects_a_bad_last_row_and_imports_nothing(tmp_path, today, row, expected):
    school_via_commands(tmp_path, pupils=None)
    before = row_counts()

    errors = run_failing(
        "import_pupils", "--school", "oak", write(tmp_path, "p.csv", PUPILS_2024 + row + "\n")
    )

    assert any(e.startswith(expected) for e in errors), errors
    assert len(errors) == 1
    assert row_counts() == before


def test_import_pupils_checks_y_n_and_sen_columns(tmp_path, today):
    school_via_commands(tmp_path, pupils=None)
    text = f"{PUPIL_HEADER},fsm,sen\n{RECEPTION},Ben,Price,2020-06-01,M,R,RB,2024-09-02,,yes,S\n"

    errors = run_failing("import_pupils", "--school", "oak", write(tmp_path, "p.csv", text))

    assert errors == [
        "line 2, column fsm: 'yes' is not Y or N",
        "line 2, column sen: 'S' is not an SEN status; use N, K or E",
    ]


def test_import_pupils_refuses_an_overlapping_enrolment_with_another_start(tmp_path, today):
    school_via_commands(tmp_path)
    before = row_counts()
    text = f"{PUPIL_HEADER}\n{CSA},Amara,Okafor,2011-03-14,F,9,9A,2021-09-01,\n"

    errors = run_failing("import_pupils", "--school", "oak", write(tmp_path, "p.csv", text))

    assert errors == [
        (
            "line 2, column start_date: overlaps the pupil's enrolment from 2020-09-01; "
            "correct a start date in the app"
        )
    ]
    assert row_counts() == before


def test_import_pupils_rejects_a_file_that_is_not_utf8(tmp_path, today):
    school_via_commands(tmp_path, pupils=None)
    path = tmp_path / "latin1.csv"
    path.write_bytes(f"{PUPIL_HEADER}\n".encode() + "Zoë".encode("latin-1") + b"\n")

    errors = run_failing("import_pupils", "--school", "oak", path)

    assert errors == ["line 2: the file is not UTF-8 text"]
    with scopes_disabled():
        assert not Pupil.objects.exists()


def test_import_pupils_reads_child_protection_plan_and_ehcp(tmp_path, today):
    school = school_via_commands(tmp_path, pupils=None)
    header = f"{PUPIL_HEADER},child_protection_plan,ehcp"
    text = f"{header}\n{CSA},Amara,Okafor,2011-03-14,F,9,9A,2020-09-01,,true,false\n"
    run("import_pupils", "--school", "oak", write(tmp_path, "a.csv", text))
    with school_scope(school):
        pupil = Pupil.objects.get(upn=CSA)
    assert (pupil.child_protection_plan, pupil.ehcp) == (True, False)
