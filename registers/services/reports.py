"""Parents' absence reports: a parent's report from their account or the public form, the
evidence they send, and the attendance office's decisions (product.md "Parents"). An accepted
report writes its code through ``registers.services.marks``."""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
from pathlib import PurePath

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from registers.codes import code_lookup
from registers.models import (
    AbsenceReason,
    AbsenceReport,
    MarkSource,
    ReportStatus,
    field_max_length,
)
from registers.selectors import REPORT_ACTION_ORDER, pupil_match_public, report_sessions
from registers.services.marks import WriteResult, marks_apply
from schools.models import ParentLink, Pupil, School, StaffMembership
from schools.permissions import Capability, check_capability
from schools.selectors import school_calendar_get

EVIDENCE_MAX_BYTES = 5 * 1024 * 1024
EVIDENCE_EXTENSIONS = frozenset({".pdf", ".jpg", ".jpeg", ".png"})
# (leading bytes, stored extension, content type). The file's own bytes decide its type: an
# extension is only what the sender chose to call it (security PUB-06).
EVIDENCE_SIGNATURES = (
    (b"%PDF-", "pdf", "application/pdf"),
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
)
EVIDENCE_CONTENT_TYPES = {extension: kind for _, extension, kind in EVIDENCE_SIGNATURES}

REPORT_MAX_DAYS = 60  # a longer absence is a conversation with the office, not a form
REPORT_ACCEPTED_REASON = "Parent's report accepted"
# Still open: the statuses the office's inbox lists (``selectors.REPORT_ACTION_ORDER``).
REPORT_OPEN_STATUSES = frozenset(REPORT_ACTION_ORDER)


def evidence_check(*, upload: UploadedFile) -> str:
    """The extension an evidence upload is stored under (``pdf``, ``jpg`` or ``png``).

    Raises ``ValidationError`` when the file is empty or over 5 MB, or when its name or its
    leading bytes are not those of a PDF, JPEG or PNG (an ``.exe`` renamed ``.pdf`` fails).
    """
    size = upload.size or 0
    if size == 0:
        raise ValidationError(_("The file is empty."))
    if size > EVIDENCE_MAX_BYTES:
        raise ValidationError(_("The file is larger than 5 MB. Choose a smaller file or a photo."))
    if PurePath(upload.name or "").suffix.lower() not in EVIDENCE_EXTENSIONS:
        raise ValidationError(_("Send a PDF, JPEG or PNG file."))
    upload.seek(0)
    body = upload.read()
    upload.seek(0)
    for signature, extension, _content_type in EVIDENCE_SIGNATURES:
        if body.startswith(signature):
            if not _evidence_body_is(extension, body):
                break
            return extension
    raise ValidationError(_("The file is not a PDF, JPEG or PNG, whatever its name says."))


# Markup a browser would run if the file were ever rendered as a page. Real scans and PDFs
# never hold these in plain text; compressed streams are binary and cannot spell them.
EVIDENCE_MARKUP = re.compile(rb"<(script|html|!doctype|svg|iframe|object|embed)[\s>/]", re.I)
EVIDENCE_MAX_PIXELS = 50_000_000  # a phone photo is 12 to 48 MP; more is a decompression bomb
EVIDENCE_MAX_PAGES = 100


def _evidence_body_is(extension: str, body: bytes) -> bool:
    """Whether the whole file, not only its first bytes, is the type it starts as (PUB-06).

    A polyglot (``%PDF-`` then HTML) or a zip behind a PDF header does not parse as a PDF; an
    image whose header claims more pixels than a photo has (a decompression bomb) is refused
    before it is decoded."""
    if EVIDENCE_MARKUP.search(body):
        return False
    if extension == "pdf":
        try:
            reader = PdfReader(io.BytesIO(body), strict=True)
            return 1 <= len(reader.pages) <= EVIDENCE_MAX_PAGES
        except (PdfReadError, ValueError, KeyError, TypeError, RecursionError, OSError):
            return False
    try:
        with Image.open(io.BytesIO(body)) as image:
            width, height = image.size
            if width * height > EVIDENCE_MAX_PIXELS:
                return False
            expected = {"jpg": "JPEG", "png": "PNG"}[extension]
            if image.format != expected:
                return False
            image.verify()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return False
    return True


def _evidence_store(*, school: School, report: AbsenceReport, upload: UploadedFile) -> None:
    extension = evidence_check(upload=upload)
    old = report.evidence.name if report.evidence else ""
    # A name of our own: the sender's file name is never used as a path, and a random part
    # makes the stored file unguessable (PUB-06; PDF-05's tenant prefix for the school).
    report.evidence.save(f"s{school.pk}-{uuid.uuid4().hex}.{extension}", upload, save=False)
    if old:
        report.evidence.storage.delete(old)  # keep one copy of a parent's evidence, not two


def parent_check(*, school: School, pupil: Pupil, user: User) -> None:
    if (
        pupil.school_id != school.pk
        or not ParentLink.objects.filter(school=school, pupil=pupil, user_id=user.pk).exists()
    ):
        raise ValidationError(_("You can only send requests about your own children."))


def _report_fields_check(
    *,
    school: School,
    first_date: dt.date,
    first_session: str,
    last_date: dt.date,
    last_session: str,
    reason: str,
    details: str,
    today: dt.date,
) -> None:
    errors: dict[str, str] = {}
    if reason not in AbsenceReason.values:
        errors["reason"] = _("Choose the reason for the absence.")
    if len(details) > AbsenceReport._meta.get_field("details").max_length:  # type: ignore[operator]
        errors["details"] = _("Keep the details to 500 characters.")
    if {first_session, last_session} - {"AM", "PM"}:
        errors["first_session"] = _("Choose morning or afternoon.")
    if first_date < today:
        errors["first_date"] = _(
            "Report an absence for today or a later day. For an earlier day, phone the school."
        )
    if last_date < first_date:
        errors["last_date"] = _("The last day must be the same as the first day or later.")
    elif (last_date - first_date).days >= REPORT_MAX_DAYS:
        errors["last_date"] = _(
            "Report at most %(days)s days at a time. For a longer absence, phone the school."
        ) % {"days": REPORT_MAX_DAYS}
    elif (first_date, first_session) > (last_date, last_session):
        errors["last_session"] = _("The absence must end after it starts.")
    if not errors:
        sessions = report_sessions(
            calendar=school_calendar_get(school=school),
            first_date=first_date,
            first_session=first_session,
            last_date=last_date,
            last_session=last_session,
        )
        if not sessions:
            errors["first_date"] = _("The school has no sessions on those dates.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def absence_report_submit(
    *,
    school: School,
    pupil: Pupil,
    user: User,
    first_date: dt.date,
    first_session: str,
    last_date: dt.date,
    last_session: str,
    reason: str,
    details: str = "",
    evidence: UploadedFile | None = None,
    now: dt.datetime | None = None,
) -> AbsenceReport:
    """A parent's report from their account about one of their own children: ``PENDING``,
    verified by the account it came from, for the office to accept or reject.

    Raises ``ValidationError`` (keyed by form field where there is one) for another child,
    an absence starting before today, an inverted or over-long range, a range with no school
    sessions, details over 500 characters, or evidence that fails ``evidence_check``. Writes
    no mark: acceptance does (PUB-02 holds for account reports too).
    """
    now = now or timezone.now()
    parent_check(school=school, pupil=pupil, user=user)
    details = details.strip()
    _report_fields_check(
        school=school,
        first_date=first_date,
        first_session=first_session,
        last_date=last_date,
        last_session=last_session,
        reason=reason,
        details=details,
        today=timezone.localdate(now),
    )
    report = AbsenceReport(
        school=school,
        pupil=pupil,
        submitted_by=user,
        reporter_name=(user.get_full_name() or user.get_username())[:200],
        reporter_contact=user.email[:200],
        first_date=first_date,
        first_session=first_session,
        last_date=last_date,
        last_session=last_session,
        reason=reason,
        details=details,
        status=ReportStatus.PENDING,
        submitted_at=now,
    )
    if evidence is not None:
        try:
            _evidence_store(school=school, report=report, upload=evidence)
        except ValidationError as exc:
            raise ValidationError({"evidence": exc.messages}) from exc
    report.save()
    return report


@transaction.atomic
def absence_report_submit_public(
    *,
    school: School,
    pupil_forename: str,
    pupil_surname: str,
    date_of_birth: dt.date,
    reporter_name: str,
    contact_phone: str,
    contact_email: str,
    first_date: dt.date,
    first_session: str,
    last_date: dt.date,
    last_session: str,
    reason: str,
    details: str = "",
    now: dt.datetime | None = None,
) -> AbsenceReport:
    """A report from the public form: always a new ``UNVERIFIED`` report, never a mark.

    The pupil is set only when ``pupil_match_public`` finds exactly one match; the stated name
    and date of birth are kept either way for the office to match by hand. Validation depends
    only on what was typed and the school's calendar, never on the roll, so callers can answer
    matched and unmatched reports identically (security PUB-01, PUB-02).
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    details = details.strip()
    errors: dict[str, str] = {}
    if not reporter_name.strip():
        errors["reporter_name"] = _("Enter your name.")
    if not (contact_phone.strip() or contact_email.strip()):
        errors["contact_phone"] = _("Enter a phone number or an email address the school can use.")
    if date_of_birth >= today:
        errors["date_of_birth"] = _("Enter the child's date of birth.")
    try:
        _report_fields_check(
            school=school,
            first_date=first_date,
            first_session=first_session,
            last_date=last_date,
            last_session=last_session,
            reason=reason,
            details=details,
            today=today,
        )
    except ValidationError as exc:
        errors = {**exc.message_dict, **errors}  # type: ignore[dict-item]
    stated_name = " ".join(f"{pupil_forename} {pupil_surname}".split())
    contact = " / ".join(value.strip() for value in (contact_phone, contact_email) if value.strip())
    # Refused, never cut short: the office must read what the parent wrote.
    for value, model_field, form_field in (
        (reporter_name.strip(), "reporter_name", "reporter_name"),
        (contact, "reporter_contact", "contact_email"),
        (stated_name, "stated_pupil_name", "pupil_surname"),
    ):
        limit = field_max_length(AbsenceReport, model_field)
        if len(value) > limit:
            errors.setdefault(
                form_field, _("Keep this to %(limit)s characters.") % {"limit": limit}
            )
    if errors:
        raise ValidationError(errors)
    pupil = pupil_match_public(
        school=school,
        forename=pupil_forename,
        surname=pupil_surname,
        date_of_birth=date_of_birth,
        phone=contact_phone,
        email=contact_email,
    )
    return AbsenceReport.objects.create(
        school=school,
        pupil=pupil,
        reporter_name=reporter_name.strip(),
        reporter_contact=contact,
        stated_pupil_name=stated_name,
        stated_date_of_birth=date_of_birth,
        first_date=first_date,
        first_session=first_session,
        last_date=last_date,
        last_session=last_session,
        reason=reason,
        details=details,
        status=ReportStatus.UNVERIFIED,
        submitted_at=now,
    )


def _check_office(*, school: School, membership: StaffMembership) -> None:
    check_capability(
        membership,
        Capability.WORK_INBOX,
        school=school,
        message=_("Only attendance officers, administrators and heads decide reports."),
    )


def _open_report(*, school: School, report: AbsenceReport) -> AbsenceReport:
    """The report re-read and locked for this transaction; refuses one already decided."""
    locked = AbsenceReport.objects.select_for_update().filter(school=school, pk=report.pk).first()
    if locked is None:
        raise ValidationError(_("This report is not one of this school's."))
    if locked.status not in REPORT_OPEN_STATUSES:
        raise ValidationError(_("This report has already been decided."))
    return locked


@transaction.atomic
def absence_report_accept(
    *,
    school: School,
    report: AbsenceReport,
    membership: StaffMembership,
    code: str,
    now: dt.datetime | None = None,
) -> WriteResult:
    """Accept a report: ``code`` goes on every school session of its range through
    ``marks_write`` (source "absence_report", reason "Parent's report accepted", the officer
    as actor). Sessions not registered yet get the mark in advance, so their registers open
    pre-filled; existing marks are changed with their history. Days without sessions are
    skipped.

    Raises ``ValidationError`` if the report is decided already or has no pupil (match it
    first), if ``code`` is not an absence code, or if ``mark_validate`` refuses any session
    (nothing is written then). Records who decided, when, and the code.
    """
    now = now or timezone.now()
    _check_office(school=school, membership=membership)
    report = _open_report(school=school, report=report)
    if report.pupil is None:
        raise ValidationError(_("Match this report to a pupil before accepting it, or reject it."))
    code = code.strip().upper()
    if not code:
        raise ValidationError(_("Choose the code to record."))
    definition = code_lookup(jurisdiction=school.jurisdiction, code=code, on=report.first_date)
    if definition is not None and not definition.is_absence:
        raise ValidationError(_("%(code)s is not an absence code.") % {"code": code})
    calendar = school_calendar_get(school=school)
    sessions = report_sessions(
        calendar=calendar,
        first_date=report.first_date,
        first_session=report.first_session,
        last_date=report.last_date,
        last_session=report.last_session,
    )
    result = marks_apply(
        school=school,
        pupil=report.pupil,
        sessions=sessions,
        code=code,
        calendar=calendar,
        membership=membership,
        source=MarkSource.ABSENCE_REPORT,
        reason=REPORT_ACCEPTED_REASON,
        now=now,
    )
    report.status, report.applied_code = ReportStatus.ACCEPTED, code
    report.decided_by, report.decided_at = membership, now
    report.save(update_fields=["status", "applied_code", "decided_by", "decided_at"])
    return result


def note_check(note: str, *, missing: str) -> str:
    """The note stripped; ``missing`` is the (translated) message when there is none."""
    note = note.strip()
    if len(note) < 3:
        raise ValidationError(missing)
    if len(note) > AbsenceReport._meta.get_field("decision_note").max_length:  # type: ignore[operator]
        raise ValidationError(_("Keep the note to 500 characters."))
    return note


@transaction.atomic
def absence_report_reject(
    *,
    school: School,
    report: AbsenceReport,
    membership: StaffMembership,
    note: str,
    now: dt.datetime | None = None,
) -> AbsenceReport:
    """Reject a report with a note (the parent sees it). Writes no mark. Raises
    ``ValidationError`` without a note or if the report is decided already."""
    _check_office(school=school, membership=membership)
    note = note_check(note, missing=_("Write a note saying why the report is rejected."))
    report = _open_report(school=school, report=report)
    report.status, report.decision_note = ReportStatus.REJECTED, note
    report.decided_by, report.decided_at = membership, now or timezone.now()
    report.save(update_fields=["status", "decision_note", "decided_by", "decided_at"])
    return report


@transaction.atomic
def absence_report_request_evidence(
    *,
    school: School,
    report: AbsenceReport,
    membership: StaffMembership,
    note: str,
    now: dt.datetime | None = None,
) -> AbsenceReport:
    """Ask the parent for evidence, saying what is needed: ``EVIDENCE_REQUESTED``, shown on
    the parent's "My requests" page, where they can upload it. Only for reports sent from a
    parent account: the public form's reporter has nowhere to see the request, so the office
    phones them instead."""
    _check_office(school=school, membership=membership)
    note = note_check(note, missing=_("Write a note saying what evidence is needed."))
    report = _open_report(school=school, report=report)
    if report.submitted_by_id is None:
        raise ValidationError(
            _("This report came from the public form: contact the person who sent it.")
        )
    report.status, report.decision_note = ReportStatus.EVIDENCE_REQUESTED, note
    report.decided_by, report.decided_at = membership, now or timezone.now()
    report.save(update_fields=["status", "decision_note", "decided_by", "decided_at"])
    return report


@transaction.atomic
def absence_report_match(
    *, school: School, report: AbsenceReport, membership: StaffMembership, pupil: Pupil
) -> AbsenceReport:
    """Set the pupil of a public-form report the office has matched by hand (the stated
    name and date of birth stay as they were). Raises ``ValidationError`` for a decided
    report, a report that already has a pupil, or another school's pupil."""
    _check_office(school=school, membership=membership)
    report = _open_report(school=school, report=report)
    if report.pupil_id is not None:
        raise ValidationError(_("This report is already matched to a pupil."))
    if pupil.school_id != school.pk:
        raise ValidationError(_("Choose a pupil of this school."))
    report.pupil = pupil
    report.save(update_fields=["pupil"])
    return report


@transaction.atomic
def absence_report_add_evidence(
    *, school: School, report: AbsenceReport, user: User, evidence: UploadedFile
) -> AbsenceReport:
    """A parent's answer to a request for evidence: the file is stored (replacing any
    earlier one) and the report goes back to the office as ``PENDING``. Raises
    ``ValidationError`` unless evidence was requested for a report this parent sent about
    their own child, or if the file fails ``evidence_check``."""
    report = _open_report(school=school, report=report)
    if (
        report.pupil is None
        or report.status != ReportStatus.EVIDENCE_REQUESTED
        or report.submitted_by_id != user.pk
    ):
        raise ValidationError(_("The school has not asked you for evidence for this report."))
    parent_check(school=school, pupil=report.pupil, user=user)
    try:
        _evidence_store(school=school, report=report, upload=evidence)
    except ValidationError as exc:
        raise ValidationError({"evidence": exc.messages}) from exc
    report.status = ReportStatus.PENDING
    report.save(update_fields=["evidence", "status"])
    return report
