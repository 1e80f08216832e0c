"""The retention job (security REG-02, GDPR-04): no register entry younger than six years is
ever removed, whatever the dates (29 February included); older ones go with a record that they
were; a dry run removes nothing; old free text is erased and the marks stay."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from interventions.models import CaseAction, ContactAttempt, NoticeToImprove, QueueItem
from interventions.retention import NTI_TEXT
from letters.models import Letter
from registers import retention
from registers.models import (
    AbsenceReport,
    AttendanceMark,
    MarkChange,
    RetentionRecord,
)
from registers.tasks import apply_retention_task
from schools.audit_models import AuditAction, AuditEvent
from schools.models import Role
from schools.retention import audit_retention
from tests import factories as f
from tests.registers.conftest import build_register_world

pytestmark = pytest.mark.django_db

SIX_YEARS_IN_DAYS = 6 * 366  # a bound for the strategies, not the rule


def sixth_anniversary(moment: dt.datetime) -> dt.datetime:
    """When an entry made at ``moment`` turns six, computed apart from the code under test:
    29 February's anniversary in a common year is 1 March (the later day, so the entry is kept
    at least six full years)."""
    try:
        return moment.replace(year=moment.year + 6)
    except ValueError:
        return moment.replace(year=moment.year + 6, month=3, day=1)


def at_noon(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)


def make_mark(rw, day: dt.date, entered: dt.datetime, session: str = "AM") -> AttendanceMark:
    return AttendanceMark.objects.create(
        school=rw.school,
        pupil=rw.pupils[0],
        date=day,
        session=session,
        code="/",
        scheme="england",
        source="register",
        recorded_at=entered,
    )


def amend(rw, mark: AttendanceMark, changed_at: dt.datetime) -> MarkChange:
    return MarkChange.objects.create(
        school=rw.school,
        mark=mark,
        pupil=mark.pupil,
        date=mark.date,
        session=mark.session,
        original_code="/",
        original_recorded_at=mark.recorded_at,
        new_code="I",
        reason="Doctor's note",
        changed_at=changed_at,
        changed_by_name="A. Officer",
        changed_by_position="Attendance officer",
        source="register",
    )


@pytest.fixture
def rw():
    return build_register_world(size=1)


LEAP_NOWS = [at_noon(dt.date(y, m, d)) for y, m, d in ((2024, 2, 29), (2026, 2, 28), (2026, 3, 1))]
real_now = timezone.now()
nows = st.one_of(
    st.sampled_from([n for n in LEAP_NOWS if n <= real_now]),
    st.datetimes(
        min_value=dt.datetime(2008, 1, 1),  # noqa: DTZ001 (hypothesis wants naive bounds)
        max_value=real_now.replace(tzinfo=None),
        timezones=st.just(dt.UTC),
    ),
)
# Per mark: its age in days on "now" (around the six years mostly), the days between the
# session and its entry, and the days after the entry it was amended (None: never).
entries = st.lists(
    st.tuples(
        st.one_of(st.integers(0, 3 * 366), st.integers(5 * 365, SIX_YEARS_IN_DAYS + 400)),
        st.integers(0, 40),
        st.one_of(st.none(), st.integers(0, 800)),
    ),
    min_size=1,
    max_size=6,
)


def old_enough(day: dt.date, entered: dt.datetime, amended: dt.datetime | None, now) -> bool:
    return (
        sixth_anniversary(at_noon(day)).date() <= now.date()
        and sixth_anniversary(entered) <= now
        and (amended is None or sixth_anniversary(amended) <= now)
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(now=nows, marks=entries, leap_entry=st.booleans())
@example(now=at_noon(dt.date(2026, 2, 28)), marks=[(0, 0, None)], leap_entry=True)
@example(now=at_noon(dt.date(2024, 2, 29)), marks=[(6 * 365 + 1, 0, None)], leap_entry=False)
def test_the_job_deletes_no_entry_younger_than_six_years(rw, monkeypatch, now, marks, leap_entry):
    monkeypatch.setattr(retention, "DELETE_BATCH", 2)  # several batches in one run
    if leap_entry and now >= at_noon(dt.date(2020, 2, 29)):
        marks = [*marks, (None, 0, None)]  # one session on 29 February 2020
    with scopes_disabled(), transaction.atomic():
        made: dict[int, tuple[dt.date, dt.datetime, dt.datetime | None]] = {}
        used: set[tuple[dt.date, str]] = set()
        for age, entered_after, amended_after in marks:
            day = dt.date(2020, 2, 29) if age is None else (now - dt.timedelta(days=age)).date()
            session = "PM" if (day, "AM") in used else "AM"
            if (day, session) in used:
                continue
            used.add((day, session))
            entered = min(at_noon(day) + dt.timedelta(days=entered_after), now)
            mark = make_mark(rw, day, entered, session)
            amended = None
            if amended_after is not None:
                amended = min(entered + dt.timedelta(days=amended_after), now)
                amend(rw, mark, amended)
            made[mark.pk] = (day, entered, amended)

        retention.apply_retention(rw.school, now=now)

        kept = set(AttendanceMark.objects.values_list("pk", flat=True))
        removed = {pk for pk in made if pk not in kept}
        # Nothing younger than six years went; everything older did (so 5 or 7 years fail).
        assert {pk for pk in removed if not old_enough(*made[pk], now)} == set()
        assert {pk for pk in kept if old_enough(*made[pk], now)} == set()
        # The history went with its mark, never alone.
        amended_kept = {pk for pk in kept if made[pk][2] is not None}
        assert set(MarkChange.objects.values_list("mark_id", flat=True)) == amended_kept
        recorded = RetentionRecord.objects.filter(table="registers_attendancemark")
        assert sum(recorded.values_list("count", flat=True)) == len(removed)
        transaction.set_rollback(True)


@pytest.fixture
def old_and_young(rw):
    """Two amended marks: one entered seven years ago, one five years ago."""
    today = timezone.now().date()
    with scopes_disabled():
        for years in (7, 5):
            day = dt.date(today.year - years, 3, 14)
            mark = make_mark(rw, day, at_noon(day))
            amend(rw, mark, at_noon(day) + dt.timedelta(days=2))
    return rw


def run_command(*args: str) -> str:
    out = StringIO()
    call_command("apply_retention", *args, stdout=out)
    return out.getvalue()


def counts() -> tuple[int, int, int]:
    with scopes_disabled():
        return (
            AttendanceMark.objects.count(),
            MarkChange.objects.count(),
            RetentionRecord.objects.count(),
        )


def test_a_dry_run_prints_what_would_go_and_removes_nothing(old_and_young):
    out = run_command("--dry-run", "--school", old_and_young.school.slug)
    seven_years_ago = timezone.now().year - 7
    assert f"Would remove registers_attendancemark: 1 ({seven_years_ago}-03-14 to" in out
    assert "Would remove registers_markchange: 1" in out
    assert counts() == (2, 2, 0)


def test_the_command_removes_old_entries_with_a_record_that_they_were(old_and_young):
    out = run_command("--school", old_and_young.school.slug)
    assert "Removed registers_attendancemark: 1" in out
    assert counts() == (1, 1, 2)
    with scopes_disabled():
        records = {r.table: r for r in RetentionRecord.objects.all()}
        year = timezone.now().year - 7
        assert records["registers_attendancemark"].count == 1
        assert records["registers_attendancemark"].first_date == dt.date(year, 3, 14)
        assert records["registers_markchange"].school == old_and_young.school
        # The survivor is the five-year-old one.
        assert AttendanceMark.objects.get().date.year == year + 2
    assert "nothing has reached the end" in run_command()  # a second run: nothing left


def test_the_nightly_task_covers_every_school(old_and_young):
    other = build_register_world(size=1)
    with scopes_disabled():
        day = dt.date(timezone.now().year - 8, 1, 5)
        make_mark(other, day, at_noon(day))
    assert apply_retention_task() == 2 + 1  # a mark and its amendment; the other school's mark
    assert counts() == (1, 1, 3)


def test_the_database_still_refuses_to_delete_younger_history(old_and_young):
    with scopes_disabled():
        young = MarkChange.objects.get(date__year=timezone.now().year - 5)
        with pytest.raises(DatabaseError), transaction.atomic():
            MarkChange.objects.filter(pk=young.pk).delete()
        with pytest.raises(DatabaseError), transaction.atomic():
            MarkChange.objects.filter(pk=young.pk).update(reason="tampered")
        with pytest.raises(DatabaseError), transaction.atomic():
            AttendanceMark.objects.filter(pk=young.mark_id).delete()
        # A session seven years ago entered only two years ago: the entry is what counts.
        day = dt.date(timezone.now().year - 7, 6, 2)
        late = make_mark(old_and_young, day, timezone.now() - dt.timedelta(days=2 * 365))
        with pytest.raises(DatabaseError), transaction.atomic():
            AttendanceMark.objects.filter(pk=late.pk).delete()
        old = MarkChange.objects.get(date__year=timezone.now().year - 7)
        with pytest.raises(DatabaseError), transaction.atomic():
            MarkChange.objects.filter(pk=old.pk).update(reason="tampered")  # never UPDATE
        MarkChange.objects.filter(pk=old.pk).delete()  # an old one may go
    retention.apply_retention(old_and_young.school)
    with scopes_disabled():
        assert AttendanceMark.objects.filter(pk=late.pk).exists()


def test_old_free_text_is_erased_and_the_marks_stay(rw, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    pupil = rw.pupils[0]
    with scopes_disabled():
        mark = make_mark(rw, dt.date(2024, 9, 11), at_noon(dt.date(2024, 9, 11)))
        report = f.AbsenceReportFactory(
            pupil=pupil, details="SENTINEL dentist", decision_note="seen the card"
        )
        report.evidence.save("card.pdf", ContentFile(b"%PDF-1.4 appointment"))
        stored = tmp_path / report.evidence.name
        recent = f.AbsenceReportFactory(
            pupil=pupil, first_date=dt.date(2025, 9, 10), details="SENTINEL recent"
        )
        leave = f.LeaveRequestFactory(pupil=pupil, exceptional_circumstances="SENTINEL funeral")
    # 2024-09-11 fell in 2024/25; kept through 2025/26, erased from 1 September 2026.
    retention.apply_retention(rw.school, now=at_noon(dt.date(2026, 8, 31)))
    with scopes_disabled():
        assert AbsenceReport.objects.get(pk=report.pk).details == "SENTINEL dentist"
    removals = retention.apply_retention(rw.school, now=at_noon(dt.date(2026, 9, 1)))
    assert [(r.table, r.count) for r in removals] == [
        ("registers_absencereport", 1),
        ("registers_leaverequest", 1),
    ]
    with scopes_disabled():
        erased = AbsenceReport.objects.get(pk=report.pk)
        assert (erased.details, erased.decision_note, erased.evidence.name) == ("", "", "")
        assert not stored.exists()
        assert AbsenceReport.objects.get(pk=recent.pk).details == "SENTINEL recent"
        leave.refresh_from_db()
        assert (leave.reason, leave.exceptional_circumstances) == ("", "")
        assert AttendanceMark.objects.filter(pk=mark.pk).exists()  # register marks untouched


@pytest.mark.skipif(connection.vendor != "postgresql", reason="roles are PostgreSQL's")
def test_the_runtime_role_applies_retention_but_cannot_remove_younger_history(old_and_young):
    role = "attendance_runtime_retention_test"
    call_command("db_runtime_role", role=role)
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {role}")  # the test's rollback ends it
    with scopes_disabled(), transaction.atomic(), connection.cursor() as cursor:
        with pytest.raises(DatabaseError), transaction.atomic():
            cursor.execute("DELETE FROM registers_markchange")  # no DELETE for this role
        young = MarkChange.objects.get(date__year=timezone.now().year - 5)
        with pytest.raises(DatabaseError), transaction.atomic():
            cursor.execute("SELECT registers_markchange_remove(%s::bigint[])", [[young.mark_id]])
    retention.apply_retention(old_and_young.school)
    assert counts() == (1, 1, 2)


# --- Casework, notices, letters and the audit trail (GDPR-04) ----------------------------------

SENTINEL = "SENTINEL-PII"
D2410 = dt.date(2024, 10, 1)


def casework_world(rw, *, closed: dt.datetime, made: dt.datetime) -> dict[str, Any]:
    """A closed queue item, a closed case with an action, contact attempts on it and on an
    open case; every free-text field holds the sentinel."""
    officer = f.StaffMembershipFactory(school=rw.school, role=Role.ATTENDANCE_OFFICER)
    pupil = rw.pupils[0]
    rows: dict[str, Any] = {}
    rows["item"] = QueueItem.objects.create(
        school=rw.school,
        kind="unresolved-n",
        pupil=pupil,
        key="2024-09-09-AM",
        since=dt.date(2024, 9, 9),
        opened_at=closed,
        state="closed",
        closed_at=closed,
        outcome_note=SENTINEL,
        snooze_reason=SENTINEL,
        decision_reason=SENTINEL,
    )
    rows["open_item"] = QueueItem.objects.create(
        school=rw.school,
        kind="unresolved-n",
        pupil=pupil,
        key="2024-09-10-AM",
        since=dt.date(2024, 9, 10),
        opened_at=closed,
        outcome_note=SENTINEL,
    )
    rows["case"] = f.CaseFactory(
        pupil=pupil, owner=officer, trigger_note=SENTINEL, outcome=SENTINEL, closed_at=closed
    )
    rows["open_case"] = f.CaseFactory(pupil=rw.pupils[1], owner=officer, trigger_note=SENTINEL)
    rows["action"] = CaseAction.objects.create(
        school=rw.school,
        case=rows["case"],
        kind="meeting",
        summary="Meeting",
        owner=officer,
        due_on=dt.date(2024, 10, 1),
        outcome=SENTINEL,
        details={"attendees": SENTINEL},
        created_at=made,
    )
    for name, case in (("attempt", rows["case"]), ("open_attempt", rows["open_case"])):
        rows[name] = ContactAttempt.objects.create(
            school=rw.school,
            pupil=case.pupil,
            case=case,
            method="phone",
            outcome="no-answer",
            note=SENTINEL,
            reason_given=SENTINEL,
            made_at=made,
            made_by=officer,
        )
    return rows


def holds_sentinel(row: Any) -> bool:
    with scopes_disabled():
        values = type(row)._base_manager.filter(pk=row.pk).values().get()
    return SENTINEL in json.dumps(values, default=str)


def test_closed_casework_notes_are_erased_after_their_year_and_open_work_is_kept(db):
    rw = build_register_world(size=2)
    with scopes_disabled():
        mark = make_mark(rw, dt.date(2024, 9, 11), at_noon(dt.date(2024, 9, 11)))
        rows = casework_world(rw, closed=at_noon(dt.date(2024, 11, 5)), made=at_noon(D2410))
    # Closed in 2024/25: kept through 2025/26, erased from 1 September 2026.
    assert retention.apply_retention(rw.school, now=at_noon(dt.date(2026, 8, 31))) == []
    assert all(holds_sentinel(row) for row in rows.values())

    removals = retention.apply_retention(rw.school, now=at_noon(dt.date(2026, 9, 1)))

    assert sorted((r.table, r.count) for r in removals) == [
        ("interventions_case", 1),
        ("interventions_caseaction", 1),
        ("interventions_contactattempt", 1),
        ("interventions_queueitem", 1),
    ]
    for name in ("item", "case", "action", "attempt"):
        assert not holds_sentinel(rows[name]), name
    for name in ("open_item", "open_case", "open_attempt"):  # live work is never touched
        assert holds_sentinel(rows[name]), name
    with scopes_disabled():
        assert QueueItem.objects.filter(pk=rows["item"].pk).exists()  # the rows stay
        assert AttendanceMark.objects.filter(pk=mark.pk).exists()  # register marks untouched
        records = RetentionRecord.objects.filter(table="interventions_case")
        assert [(r.count, r.first_date) for r in records] == [(1, dt.date(2024, 11, 5))]
        assert "pupil" not in json.dumps(list(RetentionRecord.objects.values()), default=str)


def test_notices_and_letters_are_kept_three_years_then_their_text_and_files_go(
    rw, settings, tmp_path
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    settings.MEDIA_ROOT = tmp_path
    with scopes_disabled():
        case = f.CaseFactory(pupil=rw.pupils[0])
        nti = NoticeToImprove.objects.create(
            school=rw.school,
            case=case,
            **dict.fromkeys(NTI_TEXT, SENTINEL),
            issued_on=D2410,
            period_start=D2410,
            school_days=15,
            period_end=dt.date(2024, 10, 22),
            criteria_rate=90,
            issued_by=case.owner,
        )
        letter = f.LetterFactory(
            pupil=rw.pupils[0], snapshot={"pupil": SENTINEL}, created_at=at_noon(D2410)
        )
        pdf = tmp_path / letter.pdf.name
        batch = f.LetterBatchFactory(
            template=letter.template_version.template, created_at=at_noon(D2410)
        )
        batch_files = [tmp_path / batch.merged_pdf.name, tmp_path / batch.letters_zip.name]
        recent = f.LetterFactory(pupil=rw.pupils[0], snapshot={"pupil": SENTINEL})
        mark = make_mark(rw, D2410, at_noon(D2410))
    assert pdf.exists()
    assert all(path.exists() for path in batch_files)
    # Issued in 2024/25: kept through three more academic years, to 31 August 2028.
    assert retention.apply_retention(rw.school, now=at_noon(dt.date(2028, 8, 31))) == []

    removals = retention.apply_retention(rw.school, now=at_noon(dt.date(2028, 9, 1)))

    assert sorted((r.table, r.count) for r in removals) == [
        ("interventions_noticetoimprove", 1),
        ("letters_letter", 1),
        ("letters_letterbatch", 1),
    ]
    assert not holds_sentinel(nti)
    assert not holds_sentinel(letter)
    assert not pdf.exists()  # deleted from storage, not only unlinked
    assert not any(path.exists() for path in batch_files)
    with scopes_disabled():
        erased = Letter.objects.get(pk=letter.pk)
        assert (erased.snapshot, erased.pdf.name) == ({}, "")
        assert erased.sha256 == letter.sha256  # the row still says a letter was sent
        assert holds_sentinel(recent)
        assert AttendanceMark.objects.filter(pk=mark.pk).exists()


def audit_event(at: dt.datetime, **fields: Any) -> AuditEvent:
    return AuditEvent.objects.create(at=at, action=AuditAction.LOGIN_FAILED, **fields)


def test_the_audit_trail_is_kept_two_years_and_its_removal_recorded_in_it(rw):
    now = timezone.now()
    old = audit_event(now - dt.timedelta(days=3 * 365), school=rw.school, ip="10.0.0.1")
    school_less = audit_event(now - dt.timedelta(days=800), actor_label="x")
    kept = audit_event(now - dt.timedelta(days=700), school=rw.school)

    out = run_command("--dry-run")
    assert "audit trail: Would remove schools_auditevent: 2" in out
    with scopes_disabled():
        assert AuditEvent.objects.count() == 3

    removal = retention.apply_retention_everywhere()[None][0]

    assert (removal.table, removal.count) == ("schools_auditevent", 2)
    with scopes_disabled():
        assert not AuditEvent.objects.filter(pk__in=[old.pk, school_less.pk]).exists()
        assert AuditEvent.objects.filter(pk=kept.pk).exists()
        record = AuditEvent.objects.get(action=AuditAction.RETENTION)
        assert record.path.startswith("removed 2 events of ")
        assert record.school_id is None


def test_the_database_refuses_to_delete_an_audit_event_younger_than_a_year(rw, settings):
    young = audit_event(timezone.now() - dt.timedelta(days=300))
    with scopes_disabled():
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=young.pk).delete()
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=young.pk).update(ip="1.2.3.4")
    settings.RETENTION_AUDIT_DAYS = 200  # a setting cannot go under the database's year
    with pytest.raises(ImproperlyConfigured):
        audit_retention(now=timezone.now())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="roles are PostgreSQL's")
def test_the_runtime_role_removes_old_audit_events_only_through_the_owners_function(rw):
    now = timezone.now()
    old = audit_event(now - dt.timedelta(days=3 * 365))
    young = audit_event(now - dt.timedelta(days=100))
    role = "attendance_runtime_retention_test"
    call_command("db_runtime_role", role=role)
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {role}")  # the test's rollback ends it
        with pytest.raises(DatabaseError), transaction.atomic():
            cursor.execute("DELETE FROM schools_auditevent")  # no DELETE for this role
        with pytest.raises(DatabaseError), transaction.atomic():
            cursor.execute("SELECT schools_auditevent_remove(%s)", [now])  # younger: refused
    assert audit_retention(now=now) is not None
    with scopes_disabled():
        assert not AuditEvent.objects.filter(pk=old.pk).exists()
        assert AuditEvent.objects.filter(pk=young.pk).exists()
