from __future__ import annotations

import datetime as dt
import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled
from PIL import Image
from pypdf import PdfWriter

from registers import selectors
from registers.models import (
    AbsenceReport,
    AttendanceMark,
    LeaveRequest,
    LeaveStatus,
    MarkChange,
    MarkSource,
    ReportStatus,
)
from registers.services import reports
from registers.services.marks import Actor, MarkWrite, marks_write
from schools.models import Enrolment, Pupil
from schools.scoping import school_scope
from tests import factories as f
from tests.registers.conftest import MONDAY, RegisterWorld, build_register_world

pytestmark = pytest.mark.django_db

TUESDAY, WEDNESDAY = MONDAY + dt.timedelta(days=1), MONDAY + dt.timedelta(days=2)
SENTINEL = "Sentinel-vomiting-since-Sunday-xyzzy"


def _real_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _real_png(size: tuple[int, int] = (4, 3)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, format="PNG")
    return out.getvalue()


PDF = _real_pdf()
PNG = _real_png()
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 32


@dataclass
class ParentWorld:
    rw: RegisterWorld
    child: Pupil
    other_child: Pupil
    parent: Any

    @property
    def school(self):
        return self.rw.school


def build_parent_world(jurisdiction: str = "england") -> ParentWorld:
    with scopes_disabled():
        rw = build_register_world(size=3, jurisdiction=jurisdiction)
        child, other = rw.pupils[0], rw.pupils[1]
        Pupil.objects.filter(pk=child.pk).update(
            legal_forename="Amelia", legal_surname="Hartley-Jones", preferred_forename="Millie"
        )
        child.refresh_from_db()
        f.ContactFactory(pupil=child, mobile_phone="07700 900123", email="Parent.One@Example.org")
        f.ContactFactory(pupil=other, mobile_phone="07700 900999")
        link = f.ParentLinkFactory(pupil=child)
    return ParentWorld(rw=rw, child=child, other_child=other, parent=link.user)


@pytest.fixture
def pw(db) -> ParentWorld:
    return build_parent_world()


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()  # the public form's counters live in the cache
    yield
    cache.clear()


def frozen_now(monkeypatch, at: dt.datetime) -> None:
    monkeypatch.setattr(timezone, "now", lambda: at)


def url(name: str, pw: ParentWorld, **kwargs: Any) -> str:
    return reverse(f"absences:{name}", kwargs={"school_slug": pw.school.slug, **kwargs})


def public_url(pw: ParentWorld) -> str:
    return reverse("absences:public-report", kwargs={"school_ref": pw.school.slug})


DATE_FIELDS = ("first_date", "last_date", "date_of_birth")


def dmy(data: dict[str, Any]) -> dict[str, Any]:
    """The form's dates as its day / month / year boxes (DayMonthYearField), from ISO strings or
    dates; an empty date leaves the three boxes empty."""
    out = {k: v for k, v in data.items() if k not in DATE_FIELDS}
    for name in DATE_FIELDS:
        if name in data:
            value = data[name]
            day = dt.date.fromisoformat(value) if isinstance(value, str) and value else value
            parts = (day.day, day.month, day.year) if day else ("", "", "")
            out.update(zip((f"{name}_day", f"{name}_month", f"{name}_year"), parts, strict=True))
    return out


def report_data(pw: ParentWorld, **overrides: Any) -> dict[str, Any]:
    return dmy(
        {
            "pupil": pw.child.pk,
            "first_date": MONDAY.isoformat(),
            "first_session": "AM",
            "last_date": "",
            "last_session": "PM",
            "reason": "illness",
            "details": SENTINEL,
            **overrides,
        }
    )


def public_data(**overrides: Any) -> dict[str, Any]:
    return dmy(
        {
            "pupil_forename": "Millie",
            "pupil_surname": "hartley-jones",
            "date_of_birth": "2011-03-14",
            "reporter_name": "Jo Hartley",
            "contact_phone": "+44 7700 900123",
            "contact_email": "",
            "first_date": MONDAY.isoformat(),
            "first_session": "AM",
            "last_date": "",
            "last_session": "PM",
            "reason": "illness",
            "details": SENTINEL,
            "website": "",
            **overrides,
        }
    )


def without_csrf(body: bytes) -> str:
    return re.sub(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+', r"\1", body.decode())


def marks(pw: ParentWorld, pupil: Pupil | None = None) -> dict[tuple[dt.date, str], str]:
    with scopes_disabled():
        rows = AttendanceMark.objects.filter(pupil=pupil or pw.child)
        return {(m.date, m.session): m.code for m in rows}


def submit(pw: ParentWorld, client, **overrides: Any) -> AbsenceReport:
    response = client.post(url("report-absence", pw), report_data(pw, **overrides))
    assert response.status_code == 302, response.content.decode()
    with scopes_disabled():
        return AbsenceReport.objects.filter(pupil=pw.child).latest("pk")


# --- a parent reports; the register shows it; the office accepts ------------------------------


def test_parent_reports_an_absence_that_the_office_and_the_tutor_both_see(
    pw, client_for, monkeypatch
):
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 7, 30))
    parent = client_for(pw.parent)

    form = parent.get(url("report-absence", pw))
    report = submit(pw, parent)
    mine = parent.get(url("my-requests", pw)).content.decode()
    inbox = client_for(pw.rw.officer.user).get(url("inbox", pw)).content.decode()
    with school_scope(pw.school):
        rows = selectors.register_rows(school=pw.school, form=pw.rw.form, date=MONDAY, session="AM")

    assert form.status_code == 200
    assert "Do not include more medical detail than the school needs" in form.content.decode()
    assert report.status == ReportStatus.PENDING
    assert report.submitted_by == pw.parent
    assert (report.first_date, report.last_date) == (MONDAY, MONDAY)
    assert "Waiting for the office" in mine
    assert pw.child.display_name in inbox
    assert SENTINEL in inbox
    row = next(r for r in rows if r.pupil == pw.child)
    assert "Parent reported: illness (office to confirm)" in row.notes
    assert row.input_code == "I"
    assert marks(pw) == {}  # a report writes no mark until the office accepts it


def test_accepting_writes_every_session_amends_existing_marks_and_prefills_future_registers(
    pw, client_for, monkeypatch
):
    # given: the tutor marked Monday AM "N"; the parent then reports Monday to Wednesday AM
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 10))
    with school_scope(pw.school):
        marks_write(
            school=pw.school,
            writes=[MarkWrite(pw.child, MONDAY, "AM", "N")],
            actor=Actor.staff(pw.rw.tutor),
            source=MarkSource.REGISTER,
            reason="Taken",
        )
    report = submit(pw, client_for(pw.parent), last_date=WEDNESDAY.isoformat(), last_session="AM")
    officer = client_for(pw.rw.officer.user)
    review = url("inbox-report", pw, report_id=report.pk)

    # when: the officer accepts with the suggested code
    page = officer.get(review).content.decode()
    response = officer.post(review, {"action": "accept", "code": "I"})

    # then: every session from Monday AM to Wednesday AM is I, Monday AM amended with history
    assert 'value="I" selected' in page
    assert response.status_code == 302
    assert marks(pw) == {
        (MONDAY, "AM"): "I",
        (MONDAY, "PM"): "I",
        (TUESDAY, "AM"): "I",
        (TUESDAY, "PM"): "I",
        (WEDNESDAY, "AM"): "I",
    }
    with scopes_disabled():
        change = MarkChange.objects.get(pupil=pw.child)
        sources = set(AttendanceMark.objects.values_list("source", flat=True))
        report.refresh_from_db()
    assert (change.original_code, change.new_code) == ("N", "I")
    assert change.reason == "Parent's report accepted"
    assert change.changed_by == pw.rw.officer
    assert change.source == MarkSource.ABSENCE_REPORT
    assert sources == {MarkSource.ABSENCE_REPORT}
    assert report.status == ReportStatus.ACCEPTED
    assert (report.decided_by, report.applied_code) == (pw.rw.officer, "I")
    assert report.decided_at == pw.rw.at(MONDAY, 10)

    # and: Tuesday's register, not yet taken, opens with the I already there
    with school_scope(pw.school):
        rows = selectors.register_rows(
            school=pw.school, form=pw.rw.form, date=TUESDAY, session="PM"
        )
    row = next(r for r in rows if r.pupil == pw.child)
    assert row.mark is not None
    assert (row.code, row.mark.source) == ("I", MarkSource.ABSENCE_REPORT)
    take = client_for(pw.rw.tutor.user).get(
        reverse(
            "registers:take",
            kwargs={
                "school_slug": pw.school.slug,
                "form_id": pw.rw.form.pk,
                "date": TUESDAY.isoformat(),
                "session": "PM",
            },
        )
    )
    assert "Parent&#x27;s absence report" in take.content.decode()


def test_sessions_outside_the_calendar_are_skipped(pw, client_for, monkeypatch):
    # Fri 25 Oct to Mon 4 Nov 2024: a weekend and the half-term closure in between.
    friday, monday = dt.date(2024, 10, 25), dt.date(2024, 11, 4)
    frozen_now(monkeypatch, pw.rw.at(friday, 7))
    report = submit(pw, client_for(pw.parent), first_date=friday, last_date=monday)

    client_for(pw.rw.officer.user).post(
        url("inbox-report", pw, report_id=report.pk), {"action": "accept", "code": "I"}
    )

    assert marks(pw) == {
        (friday, "AM"): "I",
        (friday, "PM"): "I",
        (monday, "AM"): "I",
        (monday, "PM"): "I",
    }


def test_other_reason_needs_the_office_to_choose_a_code(pw, client_for, monkeypatch):
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 7))
    report = submit(pw, client_for(pw.parent), reason="other")
    officer = client_for(pw.rw.officer.user)
    review = url("inbox-report", pw, report_id=report.pk)

    page = officer.get(review).content.decode()
    refused = officer.post(review, {"action": "accept", "code": ""})
    accepted = officer.post(review, {"action": "accept", "code": "C"})

    assert '<option value="" selected>Choose a code</option>' in page
    assert refused.status_code == 400
    assert "Choose the code to record." in refused.content.decode()
    assert accepted.status_code == 302
    assert marks(pw) == {(MONDAY, "AM"): "C", (MONDAY, "PM"): "C"}


def test_acceptance_is_validated_by_mark_validate_and_writes_all_or_nothing(
    pw, client_for, monkeypatch
):
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 7))
    report = submit(pw, client_for(pw.parent), last_date=TUESDAY.isoformat())
    with scopes_disabled():
        # The child leaves the roll after Monday: Tuesday's sessions cannot take a code.
        Enrolment.objects.filter(pupil=pw.child).update(leaving_date=MONDAY)

    with school_scope(pw.school):
        with pytest.raises(ValidationError, match="H is not an attendance code in England"):
            reports.absence_report_accept(
                school=pw.school, report=report, membership=pw.rw.officer, code="H"
            )
        with pytest.raises(ValidationError, match="is not on roll on 10 Sep 2024"):
            reports.absence_report_accept(
                school=pw.school, report=report, membership=pw.rw.officer, code="I"
            )
        with pytest.raises(ValidationError, match="/ is not an absence code"):
            reports.absence_report_accept(
                school=pw.school, report=report, membership=pw.rw.officer, code="/"
            )
        report.refresh_from_db()

    assert marks(pw) == {}
    assert report.status == ReportStatus.PENDING


def test_parent_gets_404_for_another_child_and_nothing_is_stored(pw, client_for, monkeypatch):
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 7))
    parent = client_for(pw.parent)
    other = pw.other_child.pk

    page = parent.get(url("report-absence", pw), {"pupil": other})
    report = parent.post(url("report-absence", pw), report_data(pw, pupil=other))
    leave = parent.post(
        url("request-leave", pw),
        dmy({"pupil": other, "first_date": "2024-09-30", "is_holiday": "no", "reason": "Wedding"}),
    )
    mine = parent.get(url("my-requests", pw)).content.decode()

    assert (page.status_code, report.status_code, leave.status_code) == (404, 404, 404)
    assert pw.other_child.display_name not in mine
    with scopes_disabled():
        assert not AbsenceReport.objects.exists()
        assert not LeaveRequest.objects.exists()


def test_my_requests_shows_only_what_this_parent_sent(pw, client, client_for, monkeypatch):
    # given: the child's other parent has an account too, and someone used the public form
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 7))
    with scopes_disabled():
        co_parent = f.ParentLinkFactory(pupil=pw.child).user
    report = submit(pw, client_for(pw.parent), details="")
    client.post(public_url(pw), public_data())
    client_for(pw.rw.officer.user).post(
        url("inbox-report", pw, report_id=report.pk),
        {"action": "evidence", "note": "Please send the doctor's note."},
    )
    co_parent_client = client_for(co_parent)
    evidence_url = url("my-evidence", pw, report_id=report.pk)

    mine = co_parent_client.get(url("my-requests", pw)).content.decode()
    theirs = co_parent_client.get(evidence_url)
    own = client_for(pw.parent).get(evidence_url)

    with scopes_disabled():
        assert list(AbsenceReport.objects.values_list("pupil", flat=True)) == [pw.child.pk] * 2
    assert "You have not reported an absence yet." in mine
    assert "doctor" not in mine
    assert (theirs.status_code, own.status_code) == (404, 200)


def test_report_dates_and_details_are_checked(pw, client_for, monkeypatch):
    frozen_now(monkeypatch, pw.rw.at(TUESDAY, 7))
    parent = client_for(pw.parent)

    past = parent.post(url("report-absence", pw), report_data(pw))  # Monday: yesterday
    too_long = parent.post(
        url("report-absence", pw), report_data(pw, first_date=TUESDAY, details="x" * 501)
    )
    weekend = parent.post(
        url("report-absence", pw), report_data(pw, first_date=dt.date(2024, 9, 14))
    )

    assert past.status_code == too_long.status_code == weekend.status_code == 400
    assert "For an earlier day, phone the school" in past.content.decode()
    assert "at most 500 characters" in too_long.content.decode()
    assert "The school has no sessions on those dates" in weekend.content.decode()
    body = past.content.decode()
    assert 'class="govuk-error-summary"' in body
    assert 'href="#id_first_date_0"' in body  # the day box of the date
    with scopes_disabled():
        assert not AbsenceReport.objects.exists()


# --- evidence -----------------------------------------------------------------------------------


def test_evidence_is_checked_by_its_bytes_and_size_and_stored_under_our_own_name(
    pw, client_for, monkeypatch
):
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 7))
    parent = client_for(pw.parent)

    def send(name: str, content: bytes):
        upload = SimpleUploadedFile(name, content, content_type="application/pdf")
        return parent.post(url("report-absence", pw), report_data(pw, evidence=upload))

    exe = send("appointment.pdf", EXE)
    polyglot = send("appointment.pdf", b"%PDF-1.4\n<html><script>alert(1)</script></html>")
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.txt", b"0" * 2_000_000)
    zip_behind_header = send("appointment.pdf", b"%PDF-1.7\n" + zipped.getvalue())
    html_in_real_pdf = send("appointment.pdf", PDF.replace(b"%%EOF", b"<script>x</script>\n%%EOF"))
    huge = send("appointment.pdf", PDF + b"0" * (5 * 1024 * 1024))
    wrong_name = send("appointment.exe", PDF)
    good = send("appointment letter.pdf", PDF)

    assert exe.status_code == huge.status_code == wrong_name.status_code == 400
    for refused in (polyglot, zip_behind_header, html_in_real_pdf):
        assert refused.status_code == 400
        assert "not a PDF, JPEG or PNG, whatever its name says" in refused.content.decode()
    assert "not a PDF, JPEG or PNG, whatever its name says" in exe.content.decode()
    assert "larger than 5 MB" in huge.content.decode()
    assert "Send a PDF, JPEG or PNG file" in wrong_name.content.decode()
    assert good.status_code == 302
    with scopes_disabled():
        report = AbsenceReport.objects.get()
    assert re.fullmatch(
        rf"absence-evidence/\d{{4}}/\d{{2}}/s{pw.school.pk}-[0-9a-f]{{32}}\.pdf",
        report.evidence.name,
    )

    # and: only the school's office can download it, as an attachment that is never cached
    evidence_url = url("inbox-evidence", pw, report_id=report.pk)
    download = client_for(pw.rw.officer.user).get(evidence_url)
    assert download.status_code == 200
    assert download.content == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert "no-store" in download["Cache-Control"]
    assert client_for(pw.rw.tutor.user).get(evidence_url).status_code == 404
    assert parent.get(evidence_url).status_code == 404


def test_office_asks_for_evidence_and_the_parent_sends_it(pw, client_for, monkeypatch):
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 7))
    parent = client_for(pw.parent)
    report = submit(pw, parent, reason="medical")
    officer = client_for(pw.rw.officer.user)
    review = url("inbox-report", pw, report_id=report.pk)

    no_note = officer.post(review, {"action": "evidence", "note": ""})
    asked = officer.post(
        review, {"action": "evidence", "note": "Please send the appointment card."}
    )
    mine = parent.get(url("my-requests", pw)).content.decode()
    evidence_url = url("my-evidence", pw, report_id=report.pk)
    bad = parent.post(evidence_url, {"evidence": SimpleUploadedFile("card.png", EXE)})
    sent = parent.post(evidence_url, {"evidence": SimpleUploadedFile("card.png", PNG)})
    again = parent.get(evidence_url)
    inbox = officer.get(url("inbox", pw)).content.decode()

    assert no_note.status_code == 400
    assert asked.status_code == 302
    assert "Evidence requested" in mine
    assert "Please send the appointment card." in mine
    assert evidence_url in mine
    assert bad.status_code == 400
    assert sent.status_code == 302
    assert again.status_code == 404  # evidence is no longer requested
    with scopes_disabled():
        report.refresh_from_db()
    assert report.status == ReportStatus.PENDING
    assert report.evidence.name.endswith(".png")
    assert url("inbox-evidence", pw, report_id=report.pk) in inbox


def test_office_rejects_a_report_with_a_note_the_parent_sees(pw, client_for, monkeypatch):
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 7))
    parent = client_for(pw.parent)
    report = submit(pw, parent)
    officer = client_for(pw.rw.officer.user)
    review = url("inbox-report", pw, report_id=report.pk)

    no_note = officer.post(review, {"action": "reject", "note": " "})
    rejected = officer.post(review, {"action": "reject", "note": "Millie was in school today."})
    late_accept = officer.post(review, {"action": "accept", "code": "I"})
    mine = parent.get(url("my-requests", pw)).content.decode()

    assert no_note.status_code == 400
    assert "Write a note saying why the report is rejected." in no_note.content.decode()
    assert rejected.status_code == 302
    assert late_accept.status_code == 400
    assert "already been decided" in late_accept.content.decode()
    assert "Rejected" in mine
    assert "Millie was in school today." in mine
    assert marks(pw) == {}
    with school_scope(pw.school):
        rows = selectors.register_rows(school=pw.school, form=pw.rw.form, date=MONDAY, session="AM")
    assert next(r for r in rows if r.pupil == pw.child).notes == []


# --- the public form --------------------------------------------------------------------------


def test_public_form_answers_known_and_unknown_pupils_identically(pw, client, monkeypatch):
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 7))

    form = client.get(public_url(pw))
    matched = client.post(public_url(pw), public_data())
    unmatched = client.post(
        public_url(pw), public_data(pupil_forename="Nobody", pupil_surname="Known")
    )

    assert form.status_code == 200
    assert matched.status_code == unmatched.status_code == 200
    assert without_csrf(matched.content) == without_csrf(unmatched.content)
    with scopes_disabled():
        reports = list(AbsenceReport.objects.order_by("pk"))
        assert not AttendanceMark.objects.exists()  # PUB-02: never a mark
    assert [r.status for r in reports] == [ReportStatus.UNVERIFIED] * 2
    assert [r.pupil for r in reports] == [pw.child, None]
    assert reports[1].stated_pupil_name == "Nobody Known"
    assert reports[1].stated_date_of_birth == dt.date(2011, 3, 14)
    assert reports[0].reporter_contact == "+44 7700 900123"


def test_public_form_does_the_same_database_work_for_known_and_unknown_pupils(
    pw, client, monkeypatch
):
    # PUB-01 asks for the same timing too: the same queries, matched or not, is its cause.
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 7))

    with CaptureQueriesContext(connection) as matched:
        client.post(public_url(pw), public_data())
    with CaptureQueriesContext(connection) as unmatched:
        client.post(public_url(pw), public_data(pupil_forename="Nobody", pupil_surname="Known"))

    assert len(matched.captured_queries) == len(unmatched.captured_queries)


def test_public_confirmation_echoes_no_name_and_no_details(pw, client, monkeypatch):
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 7))

    body = client.post(public_url(pw), public_data()).content.decode()

    assert "Thank you" in body
    assert SENTINEL not in body
    assert "Hartley-Jones" not in body
    assert pw.child.display_name not in body


@pytest.mark.parametrize(
    "overrides",
    [
        {"contact_phone": "", "contact_email": "parent.one@example.ORG"},  # email, any case
        {"pupil_forename": "AMELIA", "contact_phone": "07700900123"},  # legal name, digits
    ],
)
def test_public_form_matches_by_name_date_of_birth_and_a_contact(
    pw, client, monkeypatch, overrides
):
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 7))

    client.post(public_url(pw), public_data(**overrides))

    with scopes_disabled():
        assert AbsenceReport.objects.get().pupil == pw.child


@pytest.mark.parametrize(
    "overrides",
    [
        {"date_of_birth": "2011-03-15"},
        {"contact_phone": "07700 900999"},  # the other child's contact's number
        {"contact_phone": "", "contact_email": "someone.else@example.org"},
    ],
)
def test_public_form_does_not_match_without_every_detail(pw, client, monkeypatch, overrides):
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 7))

    response = client.post(public_url(pw), public_data(**overrides))

    assert response.status_code == 200
    with scopes_disabled():
        assert AbsenceReport.objects.get().pupil is None


def test_public_form_honeypot_answers_the_same_and_stores_nothing(pw, client, monkeypatch):
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 7))

    real = client.post(public_url(pw), public_data())
    bot = client.post(public_url(pw), public_data(website="http://spam.example"))

    assert bot.status_code == 200
    assert without_csrf(bot.content) == without_csrf(real.content)
    with scopes_disabled():
        assert AbsenceReport.objects.count() == 1


def test_public_form_limits_each_client_address_whatever_it_claims_to_forward(
    pw, client, monkeypatch
):
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 7))
    data = public_data()

    answers = [
        client.post(
            public_url(pw), data, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}"
        ).status_code
        for n in range(11)
    ]
    another_client = client.post(public_url(pw), data, REMOTE_ADDR="203.0.113.8")

    assert answers == [200] * 10 + [429]
    assert another_client.status_code == 200
    with scopes_disabled():
        assert AbsenceReport.objects.count() == 11


def test_public_form_limits_each_school(pw, client, monkeypatch):
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 7))
    monkeypatch.setattr("registers.views.reports.PUBLIC_SCHOOL_LIMIT", 3)

    answers = [
        client.post(public_url(pw), {}, REMOTE_ADDR=f"203.0.113.{n}").status_code for n in range(4)
    ]
    known_again = client.post(public_url(pw), {}, REMOTE_ADDR="203.0.113.0")

    assert answers == [400, 400, 400, 429]
    assert known_again.status_code == 400  # an address already heard from carries on
    newcomer = client.post(public_url(pw), {}, REMOTE_ADDR="203.0.113.9")
    assert newcomer.status_code == 429
    assert newcomer["Retry-After"] == "3600"  # the school's window opened at the first


def test_a_few_addresses_cannot_close_the_form_for_the_school(pw, client, monkeypatch):
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 7))
    monkeypatch.setattr("registers.views.reports.PUBLIC_SCHOOL_LIMIT", 4)

    flood = [
        client.post(public_url(pw), {}, REMOTE_ADDR=f"198.51.100.{n}").status_code
        for n in range(3)
        for _ in range(12)
    ]
    a_family = client.post(public_url(pw), {}, REMOTE_ADDR="192.0.2.50")
    one_family_too_many = client.post(public_url(pw), {}, REMOTE_ADDR="192.0.2.51")

    assert flood.count(429) == 3 * 2  # each address held to its own 10
    assert a_family.status_code == 400  # 36 submissions, but only 3 addresses: still open
    assert one_family_too_many.status_code == 429  # the cap counts addresses


def test_retry_after_says_when_the_address_window_closes(pw, client, monkeypatch):
    start = pw.rw.at(MONDAY, 7)
    frozen_now(monkeypatch, start)
    for _ in range(10):
        client.post(public_url(pw), {}, REMOTE_ADDR="203.0.113.7")
    frozen_now(monkeypatch, start + dt.timedelta(seconds=100))

    busy = client.post(public_url(pw), {}, REMOTE_ADDR="203.0.113.7")

    assert busy.status_code == 429
    assert busy["Retry-After"] == str(10 * 60 - 100)


def test_public_form_is_404_for_unknown_and_closed_schools(pw, client):
    with scopes_disabled():
        closed = f.SchoolFactory(is_active=False)

    unknown = client.get(reverse("absences:public-report", kwargs={"school_ref": "no-such"}))
    inactive = client.get(reverse("absences:public-report", kwargs={"school_ref": closed.slug}))

    assert unknown.status_code == inactive.status_code == 404


def test_an_unmatched_report_is_matched_by_the_office_before_it_is_accepted(
    pw, client, client_for, monkeypatch
):
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 7))
    client.post(public_url(pw), public_data(contact_phone="01632 960000"))
    with scopes_disabled():
        report = AbsenceReport.objects.get()
    officer = client_for(pw.rw.officer.user)
    review = url("inbox-report", pw, report_id=report.pk)

    inbox = officer.get(url("inbox", pw)).content.decode()
    refused = officer.post(review, {"action": "accept", "code": "I"})
    search = officer.get(review, {"q": "hartley"}).content.decode()
    matched = officer.post(review, {"action": "match", "pupil": pw.child.pk})
    accepted = officer.post(review, {"action": "accept", "code": "I"})

    assert "Unmatched" in inbox
    assert "Millie hartley-jones, born 14 Mar 2011" in inbox
    assert refused.status_code == 400
    assert "Match this report to a pupil before accepting it" in refused.content.decode()
    assert 'value="accept"' not in search  # the page offers matching, not accepting
    assert f'value="{pw.child.pk}"' in search
    assert matched.status_code == 302
    assert accepted.status_code == 302
    assert marks(pw) == {(MONDAY, "AM"): "I", (MONDAY, "PM"): "I"}


# --- leave of absence ---------------------------------------------------------------------------


def make_leave(pw: ParentWorld, first: dt.date, last: dt.date, holiday: bool = False):
    with scopes_disabled():
        return f.LeaveRequestFactory(
            pupil=pw.child,
            requested_by=pw.parent,
            first_date=first,
            last_date=last,
            is_holiday=holiday,
            requested_at=pw.rw.at(first - dt.timedelta(days=20), 19),
        )


def test_parent_requests_leave_at_short_notice_and_is_warned_but_accepted(
    pw, client_for, monkeypatch
):
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 19))
    parent = client_for(pw.parent)

    response = parent.post(
        url("request-leave", pw),
        dmy(
            {
                "pupil": pw.child.pk,
                "first_date": "2024-09-16",
                "last_date": "2024-09-17",
                "is_holiday": "no",
                "reason": "Grandmother's funeral in Cork",
            }
        ),
        follow=True,
    )

    body = response.content.decode()
    assert "less than two weeks&#x27; notice" in body
    assert "Waiting for the headteacher" in body
    with scopes_disabled():
        leave = LeaveRequest.objects.get()
    assert (leave.status, leave.first_date, leave.is_holiday) == (
        LeaveStatus.PENDING,
        dt.date(2024, 9, 16),
        False,
    )
    head_list = client_for(pw.rw.head.user).get(url("leave-list", pw)).content.decode()
    assert "Short notice" in head_list


def test_england_head_approves_leave_as_c_for_every_session(pw, client_for, monkeypatch):
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 12))
    leave = make_leave(pw, dt.date(2024, 9, 19), dt.date(2024, 9, 20), holiday=True)

    response = client_for(pw.rw.head.user).post(
        url("leave-decide", pw, leave_id=leave.pk), {"action": "approve", "note": ""}
    )

    assert response.status_code == 302
    assert marks(pw) == {
        (dt.date(2024, 9, 19), "AM"): "C",
        (dt.date(2024, 9, 19), "PM"): "C",
        (dt.date(2024, 9, 20), "AM"): "C",
        (dt.date(2024, 9, 20), "PM"): "C",
    }
    with scopes_disabled():
        leave.refresh_from_db()
        assert set(AttendanceMark.objects.values_list("source", flat=True)) == {MarkSource.LEAVE}
    assert (leave.status, leave.applied_code, leave.decided_by) == (
        LeaveStatus.APPROVED,
        "C",
        pw.rw.head,
    )


def test_refused_leave_writes_no_mark_and_the_register_says_g_if_absent(
    pw, client_for, monkeypatch
):
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 12))
    leave = make_leave(pw, dt.date(2024, 9, 19), dt.date(2024, 9, 20), holiday=True)
    head = client_for(pw.rw.head.user)
    decide = url("leave-decide", pw, leave_id=leave.pk)

    no_note = head.post(decide, {"action": "refuse", "note": ""})
    refused = head.post(decide, {"action": "refuse", "note": "Term-time holidays are not granted."})
    mine = client_for(pw.parent).get(url("my-requests", pw)).content.decode()

    assert no_note.status_code == 400
    assert refused.status_code == 302
    assert marks(pw) == {}
    assert "Refused" in mine
    assert "Term-time holidays are not granted." in mine
    with school_scope(pw.school):
        rows = selectors.register_rows(
            school=pw.school, form=pw.rw.form, date=dt.date(2024, 9, 20), session="PM"
        )
    assert (
        "Leave refused for this date: G if absent"
        in next(r for r in rows if r.pupil == pw.child).notes
    )


@pytest.fixture
def wales(db) -> ParentWorld:
    return build_parent_world(jurisdiction="wales")


def test_wales_holiday_leave_is_h_up_to_ten_school_days_then_needs_exceptional_circumstances(
    wales, client_for, monkeypatch
):
    frozen_now(monkeypatch, wales.rw.at(MONDAY, 12))
    head = client_for(wales.rw.head.user)
    first = make_leave(wales, dt.date(2024, 9, 16), dt.date(2024, 9, 20), holiday=True)  # 5 days
    second = make_leave(wales, dt.date(2024, 9, 23), dt.date(2024, 9, 30), holiday=True)  # 6 days

    approved = head.post(url("leave-decide", wales, leave_id=first.pk), {"action": "approve"})
    page = head.get(url("leave-decide", wales, leave_id=second.pk)).content.decode()
    refused = head.post(url("leave-decide", wales, leave_id=second.pk), {"action": "approve"})
    after_refusal = marks(wales)
    with_reason = head.post(
        url("leave-decide", wales, leave_id=second.pk),
        {"action": "approve", "exceptional_circumstances": "Parent's posting ends abroad"},
    )

    assert approved.status_code == 302
    assert set(after_refusal.values()) == {"H"}
    assert len(after_refusal) == 10  # five school days, AM and PM
    assert "11 school days if approved" in page
    assert refused.status_code == 400
    assert "11 school days of holiday leave in 2024/25" in refused.content.decode()
    assert with_reason.status_code == 302
    final = marks(wales)
    assert len(final) == 22
    assert set(final.values()) == {"H"}
    with scopes_disabled():
        second.refresh_from_db()
    assert second.exceptional_circumstances == "Parent's posting ends abroad"


def test_wales_leave_that_is_not_a_holiday_is_c(wales, client_for, monkeypatch):
    frozen_now(monkeypatch, wales.rw.at(MONDAY, 12))
    leave = make_leave(wales, dt.date(2024, 9, 16), dt.date(2024, 9, 16), holiday=False)

    client_for(wales.rw.head.user).post(
        url("leave-decide", wales, leave_id=leave.pk), {"action": "approve"}
    )

    assert marks(wales) == {(dt.date(2024, 9, 16), "AM"): "C", (dt.date(2024, 9, 16), "PM"): "C"}


# --- who may do what ----------------------------------------------------------------------------


def test_only_the_office_opens_the_inbox_and_only_the_head_decides_leave(
    pw, client_for, monkeypatch
):
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 7))
    report = submit(pw, client_for(pw.parent))
    leave = make_leave(pw, dt.date(2024, 9, 19), dt.date(2024, 9, 19))
    pages = {
        "inbox": url("inbox", pw),
        "review": url("inbox-report", pw, report_id=report.pk),
        "leave list": url("leave-list", pw),
        "leave": url("leave-decide", pw, leave_id=leave.pk),
        "report form": url("report-absence", pw),
    }
    people = {
        "tutor": pw.rw.tutor.user,
        "officer": pw.rw.officer.user,
        "head": pw.rw.head.user,
        "parent": pw.parent,
    }

    outcomes = {
        (who, page): client_for(user).get(link).status_code
        for who, user in people.items()
        for page, link in pages.items()
    }
    officer_post = client_for(pw.rw.officer.user).post(pages["leave"], {"action": "approve"})
    tutor_post = client_for(pw.rw.tutor.user).post(
        pages["review"], {"action": "accept", "code": "I"}
    )

    assert outcomes == {
        ("tutor", "inbox"): 404,
        ("tutor", "review"): 404,
        ("tutor", "leave list"): 404,
        ("tutor", "leave"): 404,
        ("tutor", "report form"): 404,
        ("officer", "inbox"): 200,
        ("officer", "review"): 200,
        ("officer", "leave list"): 404,
        ("officer", "leave"): 404,
        ("officer", "report form"): 404,
        ("head", "inbox"): 200,
        ("head", "review"): 200,
        ("head", "leave list"): 200,
        ("head", "leave"): 200,
        ("head", "report form"): 404,
        ("parent", "inbox"): 404,
        ("parent", "review"): 404,
        ("parent", "leave list"): 404,
        ("parent", "leave"): 404,
        ("parent", "report form"): 200,
    }
    assert officer_post.status_code == tutor_post.status_code == 404
    assert marks(pw) == {}


def test_the_header_links_each_role_to_its_pages(pw, client_for, monkeypatch):
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 7))
    submit(pw, client_for(pw.parent))
    home = reverse("schools:home", kwargs={"school_slug": pw.school.slug})

    parent = client_for(pw.parent).get(home).content.decode()
    officer = client_for(pw.rw.officer.user).get(home).content.decode()
    head = client_for(pw.rw.head.user).get(home).content.decode()

    assert url("report-absence", pw) in parent
    assert f"{url('report-absence', pw)}?pupil={pw.child.pk}" in parent
    assert url("request-leave", pw) in parent
    assert url("my-requests", pw) in parent
    assert url("inbox", pw) not in parent
    assert re.search(r"Absence inbox <span class=\"tag\">1<", officer)
    assert url("leave-list", pw) not in officer
    assert url("leave-list", pw) in head


# --- free text is refused over its column's length, never cut short (issue 8) ------------------


def test_leave_approval_text_over_500_characters_is_refused(pw, client_for, monkeypatch):
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 12))
    leave = make_leave(pw, dt.date(2024, 9, 16), dt.date(2024, 9, 16))

    response = client_for(pw.rw.head.user).post(
        url("leave-decide", pw, leave_id=leave.pk), {"action": "approve", "note": "x" * 501}
    )

    assert response.status_code == 400
    assert "Keep the note to 500 characters" in response.content.decode()
    assert marks(pw) == {}


def test_public_report_names_over_their_column_length_are_refused(pw, monkeypatch):
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 7))
    with school_scope(pw.school), pytest.raises(ValidationError) as refused:
        reports.absence_report_submit_public(
            school=pw.school,
            pupil_forename="Amelia",
            pupil_surname="Hartley-Jones",
            date_of_birth=dt.date(2011, 3, 14),
            reporter_name="J" * 201,
            contact_phone="07700 900123",
            contact_email="",
            first_date=MONDAY,
            first_session="AM",
            last_date=MONDAY,
            last_session="PM",
            reason="illness",
        )

    assert refused.value.message_dict == {"reporter_name": ["Keep this to 200 characters."]}
    with scopes_disabled():
        assert not AbsenceReport.objects.exists()


def test_the_office_and_the_head_read_the_report_and_the_leave_in_welsh(
    pw, client_for, monkeypatch
):
    frozen_now(monkeypatch, pw.rw.at(MONDAY, 7))
    report = submit(pw, client_for(pw.parent))
    leave = make_leave(pw, dt.date(2024, 9, 19), dt.date(2024, 9, 20), holiday=True)
    officer = client_for(pw.rw.officer.user)
    officer.cookies[settings.LANGUAGE_COOKIE_NAME] = "cy"
    head = client_for(pw.rw.head.user)
    head.cookies[settings.LANGUAGE_COOKIE_NAME] = "cy"
    review = url("inbox-report", pw, report_id=report.pk)

    page = officer.get(review).content.decode()
    no_note = officer.post(review, {"action": "reject", "note": " "}).content.decode()
    leave_page = head.get(url("leave-decide", pw, leave_id=leave.pk)).content.decode()

    assert "Adroddiad absenoldeb" in page  # the page header
    assert "govuk-summary-list__key" in page
    assert "Yn aros am y swyddfa" in page  # the status tag, from the model's label
    assert "Gwrthod yr adroddiad" in page
    assert "Absence report" not in page
    assert 'class="govuk-error-summary"' in no_note
    assert 'href="#id_reject_note"' in no_note  # the summary links to the note
    assert "Ysgrifennwch nodyn yn dweud pam mae\u2019r adroddiad yn cael ei wrthod." in no_note
    assert "Cais am absenoldeb" in leave_page
    assert "Yn aros am y pennaeth" in leave_page
    assert "Cymeradwyo\u2019r absenoldeb" in leave_page
    assert "Leave request" not in leave_page


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG header that claims a huge image over a few bytes of data (a pixel bomb)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


def test_an_image_claiming_more_pixels_than_a_photo_is_refused_before_decoding():
    def check(content: bytes) -> str:
        return reports.evidence_check(upload=SimpleUploadedFile("card.png", content))

    assert check(PNG) == "png"
    with pytest.raises(ValidationError, match="whatever its name says"):
        check(_png_claiming(100_000, 100_000))
    with pytest.raises(ValidationError, match="whatever its name says"):
        check(PNG[:20])  # a truncated image
