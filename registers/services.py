"""Writes to registers and marks. Every mark write, whoever makes it (a tutor's register, an
officer's amendment, an accepted parent report, approved leave, a CSV import), goes through
``marks_write``: one place for validation, version checks and the amendment history."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from interventions.tasks import recompute_after_commit
from registers.codes import CodeDefinition, age_rule_error, code_lookup
from registers.models import (
    AbsenceReason,
    AbsenceReport,
    AttendanceMark,
    LeaveRequest,
    LeaveStatus,
    MarkChange,
    MarkSource,
    Register,
    ReportStatus,
)
from registers.rules import Phase, late_code
from registers.selectors import (
    REPORT_ACTION_ORDER,
    holiday_days_taken,
    pupil_match_public,
    register_phase_now,
    register_times,
    report_sessions,
)
from schools.calendar import (
    SchoolCalendar,
    academic_year_end,
    academic_year_name,
    academic_year_start,
)
from schools.models import (
    Enrolment,
    FormGroup,
    Jurisdiction,
    ParentLink,
    Pupil,
    Role,
    School,
    StaffMembership,
)
from schools.permissions import Capability, check_capability
from schools.selectors import academic_year_for, pupils_in_form_on, school_calendar_get


@dataclass(frozen=True)
class Actor:
    """Who makes a change, as the amendment history will print it (name and position)."""

    membership: StaffMembership | None
    name: str
    position: str

    @classmethod
    def staff(cls, membership: StaffMembership) -> Actor:
        user = membership.user
        return cls(
            membership=membership,
            name=user.get_full_name() or user.get_username(),
            position=membership.job_title or Role(membership.role).label,
        )

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(membership=None, name=name, position="System")


@dataclass(frozen=True)
class MarkWrite:
    pupil: Pupil
    date: dt.date
    session: str
    code: str
    minutes_late: int | None = None

    @property
    def key(self) -> tuple[int, dt.date, str]:
        return (self.pupil.pk, self.date, self.session)


@dataclass
class WriteResult:
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    marks: list[AttendanceMark] = field(default_factory=list)  # every mark written or unchanged


class MarkConflictError(Exception):
    """Raised inside ``marks_write`` so the transaction rolls back when a mark changed since
    the caller loaded it; carries the conflicting (attempted write, current mark) pairs."""

    def __init__(self, conflicts: list[tuple[MarkWrite, AttendanceMark | None]]) -> None:
        super().__init__(f"{len(conflicts)} marks changed since they were loaded")
        self.conflicts = conflicts


def mark_validate(
    *,
    school: School,
    write: MarkWrite,
    calendar: SchoolCalendar,
    enrolments: Sequence[Enrolment],
) -> MarkWrite:
    """The write as it will be stored, or ``ValidationError`` saying what is wrong with it.

    Checks, in order: a school session (only ``#`` may stand on a day without one); the code
    exists in the code set of the session's date and the school's jurisdiction; ``/`` and ``\\``
    follow the session; age rules (``X``, ``C2``: TC-08); minutes late only for ``L``/``U``, and
    ``L`` or ``U`` from the minutes (TC-03); the pupil is on roll (``Z`` before the start date).
    """
    code = write.code.strip().upper()
    if code in ("/", "\\"):
        code = "/" if write.session == "AM" else "\\"
    if not calendar.is_session(write.date, write.session) and code != "#":
        raise ValidationError(f"{write.date:%a %d %b %Y} {write.session} is not a school session.")
    definition = code_lookup(jurisdiction=school.jurisdiction, code=code, on=write.date)
    if definition is None:
        raise ValidationError(
            f"{code or 'An empty code'} is not an attendance code in "
            f"{school.get_jurisdiction_display()} on {write.date:%d %b %Y}."
        )
    age_error = age_rule_error(definition, date_of_birth=write.pupil.date_of_birth, on=write.date)
    if age_error:
        raise ValidationError(age_error)
    minutes = write.minutes_late
    if minutes is not None and not definition.records_minutes_late:
        raise ValidationError(f"Minutes late go with L or U, not {code}.")
    if minutes is not None:
        if minutes < 0 or minutes > 24 * 60:
            raise ValidationError("Minutes late must be between 0 and 1440.")
        code = late_code(
            minutes_late=minutes, times=register_times(school=school, session=write.session)
        )
    _check_enrolment(write=write, code=code, enrolments=enrolments)
    return MarkWrite(write.pupil, write.date, write.session, code, minutes)


def _check_enrolment(*, write: MarkWrite, code: str, enrolments: Sequence[Enrolment]) -> None:
    on_roll = any(
        e.start_date <= write.date and (e.leaving_date is None or write.date <= e.leaving_date)
        for e in enrolments
    )
    before_start = bool(enrolments) and write.date < min(e.start_date for e in enrolments)
    if code == "Z":
        if not before_start:
            raise ValidationError("Z is only for sessions before the pupil's starting day.")
    elif not on_roll and code != "#":
        raise ValidationError(f"{write.pupil} is not on roll on {write.date:%d %b %Y}.")


def definition_for(*, school: School, write: MarkWrite) -> CodeDefinition:
    definition = code_lookup(jurisdiction=school.jurisdiction, code=write.code, on=write.date)
    assert definition is not None, "validated writes always have a definition"
    return definition


@transaction.atomic(savepoint=False)  # callers roll back as a whole on MarkConflictError
def marks_write(
    *,
    school: School,
    writes: Iterable[MarkWrite],
    actor: Actor,
    source: MarkSource,
    reason: str,
    expected_versions: dict[tuple[int, dt.date, str], int] | None = None,
    now: dt.datetime | None = None,
) -> WriteResult:
    """Create or change marks in bulk, writing a ``MarkChange`` for every changed mark.

    ``writes`` must already be validated (``mark_validate``). With ``expected_versions`` (the
    versions the caller loaded, 0 for "no mark"), a mark that has changed since is not
    overwritten: ``MarkConflictError`` is raised and nothing is written. Existing marks are locked
    (``SELECT … FOR UPDATE`` on PostgreSQL) so two concurrent saves serialise. A fixed number
    of queries whatever the number of writes.
    """
    writes = list(writes)
    if not writes:
        return WriteResult()
    if any(w.pupil.school_id != school.pk for w in writes):
        raise ValidationError("Every pupil must belong to this school.")
    now = now or timezone.now()
    pupil_ids = {w.pupil.pk for w in writes}
    dates = [w.date for w in writes]
    existing = {
        (m.pupil_id, m.date, m.session): m
        for m in AttendanceMark.objects.select_for_update().filter(
            school=school, pupil_id__in=pupil_ids, date__gte=min(dates), date__lte=max(dates)
        )
    }
    result = WriteResult()
    conflicts: list[tuple[MarkWrite, AttendanceMark | None]] = []
    to_create: list[AttendanceMark] = []
    to_update: list[AttendanceMark] = []
    history: list[MarkChange] = []
    for write in writes:
        current = existing.get(write.key)
        same = current is not None and (current.code, current.minutes_late) == (
            write.code,
            write.minutes_late,
        )
        if expected_versions is not None and not same:
            loaded = expected_versions.get(write.key, 0)
            if (current.version if current else 0) != loaded:
                conflicts.append((write, current))
                continue
        scheme = definition_for(school=school, write=write).scheme.value
        if current is None:
            to_create.append(
                AttendanceMark(
                    school=school,
                    pupil=write.pupil,
                    date=write.date,
                    session=write.session,
                    code=write.code,
                    scheme=scheme,
                    minutes_late=write.minutes_late,
                    source=source,
                    recorded_at=now,
                    recorded_by=actor.membership,
                )
            )
            continue
        if same:
            result.unchanged += 1
            result.marks.append(current)
            continue
        history.append(
            MarkChange(
                school=school,
                mark=current,
                pupil_id=current.pupil_id,
                date=current.date,
                session=current.session,
                original_code=current.code,
                original_minutes_late=current.minutes_late,
                original_recorded_at=current.recorded_at,
                new_code=write.code,
                new_minutes_late=write.minutes_late,
                reason=reason,
                changed_at=now,
                changed_by=actor.membership,
                changed_by_name=actor.name,
                changed_by_position=actor.position,
                source=source,
            )
        )
        current.code, current.minutes_late, current.scheme = write.code, write.minutes_late, scheme
        current.source, current.recorded_at, current.recorded_by = source, now, actor.membership
        current.version += 1
        to_update.append(current)
    if conflicts:
        raise MarkConflictError(conflicts)
    if to_create:
        try:
            with transaction.atomic(savepoint=False):
                AttendanceMark.objects.bulk_create(to_create, batch_size=1000)
        except IntegrityError as exc:
            # Someone created one of these marks between our read and our insert.
            raise MarkConflictError([(w, existing.get(w.key)) for w in writes]) from exc
    # One UPDATE per distinct new value rather than bulk_update's CASE per row: a register
    # save changes 30 marks to two or three codes, and Django's CASE building cost more than
    # the rest of the save. The query count stays bounded by the codes in use.
    groups: dict[tuple[str, int | None, str], list[int]] = {}
    for mark in to_update:
        groups.setdefault((mark.code, mark.minutes_late, mark.scheme), []).append(mark.pk)
    for (code, minutes_late, scheme), pks in groups.items():
        AttendanceMark.objects.filter(school=school, pk__in=pks).update(
            code=code,
            minutes_late=minutes_late,
            scheme=scheme,
            source=source,
            recorded_at=now,
            recorded_by=actor.membership,
            version=F("version") + 1,
        )
    MarkChange.objects.bulk_create(history, batch_size=1000)
    written = to_create + to_update
    if written:
        # The engine's stored results follow the marks (issue 4): after this commits.
        recompute_after_commit(
            school=school,
            pupil_ids=[m.pupil_id for m in written],
            changed_from=min(m.date for m in written),
        )
    result.created, result.changed = len(to_create), len(to_update)
    result.marks += to_create + to_update
    return result


# --- Registers ------------------------------------------------------------------------------


def register_open(
    *,
    school: School,
    form: FormGroup,
    date: dt.date,
    session: str,
    calendar: SchoolCalendar | None = None,
) -> Register:
    """The register of ``form`` for one session, created the first time it is saved.

    Raises ``ValidationError`` when that date and session is not a school session.
    """
    if form.school_id != school.pk:
        raise ValidationError("The form must belong to this school.")
    calendar = calendar or school_calendar_get(school=school)
    if not calendar.is_session(date, session):
        raise ValidationError(f"{date:%a %d %b %Y} {session} is not a school session.")
    register, _ = Register.objects.get_or_create(
        school=school, form=form, date=date, session=session
    )
    return register


@dataclass(frozen=True)
class RegisterEntry:
    """One pupil's line as the tutor submitted it, with the mark version the page showed."""

    pupil_id: int
    code: str
    minutes_late: int | None
    loaded_version: int


@dataclass
class RegisterSaveResult:
    errors: dict[int, str] = field(default_factory=dict)
    conflicts: dict[int, AttendanceMark | None] = field(default_factory=dict)
    written: WriteResult = field(default_factory=WriteResult)
    missing: int = 0  # pupils on roll still without a mark

    @property
    def ok(self) -> bool:
        return not self.errors and not self.conflicts


def register_save(
    *,
    school: School,
    form: FormGroup,
    date: dt.date,
    session: str,
    entries: Sequence[RegisterEntry],
    membership: StaffMembership,
    now: dt.datetime | None = None,
    calendar: SchoolCalendar | None = None,
) -> RegisterSaveResult:
    """Save a whole register in one transaction: every entry, or none of them.

    Refuses a locked register (amendments go through ``mark_amend``), pupils not on the
    register's roll, invalid codes (per pupil, in ``errors``) and marks changed by someone
    else since the page was loaded (in ``conflicts``, with the current mark). Entries with an
    empty code are skipped; when every pupil on roll has a mark, the register is taken.
    """
    now = now or timezone.now()
    calendar = calendar or school_calendar_get(school=school)
    register = register_open(
        school=school, form=form, date=date, session=session, calendar=calendar
    )
    phase = register_phase_now(
        school=school, date=date, session=session, taken=register.taken_at is not None, now=now
    )
    if phase is not Phase.OPEN:
        raise ValidationError(
            "This register is closed. The attendance officer can amend a mark, with a reason."
        )
    pupils = {p.pk: p for p in pupils_in_form_on(school=school, form=form, on=date)}
    unknown = [e.pupil_id for e in entries if e.pupil_id not in pupils]
    if unknown:
        raise ValidationError("Some pupils are not on this register's roll.")
    enrolments = _enrolments_by_pupil(school=school, pupil_ids=list(pupils))
    result = RegisterSaveResult()
    writes: list[MarkWrite] = []
    expected: dict[tuple[int, dt.date, str], int] = {}
    for entry in entries:
        if not entry.code.strip():
            continue
        write = MarkWrite(pupils[entry.pupil_id], date, session, entry.code, entry.minutes_late)
        try:
            writes.append(
                mark_validate(
                    school=school,
                    write=write,
                    calendar=calendar,
                    enrolments=enrolments.get(entry.pupil_id, []),
                )
            )
        except ValidationError as exc:
            result.errors[entry.pupil_id] = " ".join(exc.messages)
        expected[write.key] = entry.loaded_version
    if result.errors:
        return result
    try:
        with transaction.atomic():
            result.written = marks_write(
                school=school,
                writes=writes,
                actor=Actor.staff(membership),
                source=MarkSource.REGISTER,
                reason="Corrected while the register was open",
                expected_versions=expected,
                now=now,
            )
            marked = AttendanceMark.objects.filter(
                school=school,
                pupil_id__in=list(pupils),
                date=date,
                session=session,
            ).count()
            result.missing = len(pupils) - marked
            if result.missing == 0 and register.taken_at is None:
                register.taken_at, register.taken_by = now, membership
                register.save(update_fields=["taken_at", "taken_by"])
    except MarkConflictError as conflict:
        result.conflicts = {write.pupil.pk: current for write, current in conflict.conflicts}
    return result


def mark_amend(
    *,
    school: School,
    pupil: Pupil,
    date: dt.date,
    session: str,
    code: str,
    minutes_late: int | None,
    reason: str,
    membership: StaffMembership,
    now: dt.datetime | None = None,
) -> AttendanceMark:
    """Amend (or, if none was ever recorded, enter) one mark after its register closed.

    Only attendance officers, school administrators and headteachers may; a reason is
    required. The original entry, new entry, reason, time, name and position are kept in an
    append-only ``MarkChange`` row (§3.5). Raises ``ValidationError`` for anything else.
    """
    check_capability(
        membership,
        Capability.AMEND_MARK,
        school=school,
        message="Only attendance officers, administrators and heads amend marks.",
    )
    if len(reason.strip()) < 3:
        raise ValidationError("Give the reason for the amendment.")
    write = mark_validate(
        school=school,
        write=MarkWrite(pupil, date, session, code, minutes_late),
        calendar=school_calendar_get(school=school),
        enrolments=_enrolments_by_pupil(school=school, pupil_ids=[pupil.pk]).get(pupil.pk, []),
    )
    marks_write(
        school=school,
        writes=[write],
        actor=Actor.staff(membership),
        source=MarkSource.AMENDMENT,
        reason=reason.strip(),
        now=now,
    )
    return AttendanceMark.objects.get(school=school, pupil=pupil, date=date, session=session)


def _enrolments_by_pupil(*, school: School, pupil_ids: list[int]) -> dict[int, list[Enrolment]]:
    by_pupil: dict[int, list[Enrolment]] = {}
    for enrolment in Enrolment.objects.filter(school=school, pupil_id__in=pupil_ids):
        by_pupil.setdefault(enrolment.pupil_id, []).append(enrolment)
    return by_pupil


# --- CSV import (manage.py import_marks) ----------------------------------------------------

IMPORT_ACTOR_NAME = "CSV import"


def marks_import(
    *,
    school: School,
    writes: Sequence[MarkWrite],
    file_name: str,
    now: dt.datetime | None = None,
) -> WriteResult:
    """Write marks checked row by row by ``registers.csv_marks.marks_plan`` (``mark_validate``)
    in one ``marks_write`` call: source "import", the system actor "CSV import", reason
    "Imported from <file name>". All or none; a mark equal to the recorded one is counted
    unchanged, a different one is amended with its history row. Raises ``MarkConflictError``
    if someone else creates one of these marks while the import runs.
    """
    reason = f"Imported from {file_name}"
    return marks_write(
        school=school,
        writes=writes,
        actor=Actor.system(IMPORT_ACTOR_NAME),
        source=MarkSource.IMPORT,
        reason=reason[: MarkChange._meta.get_field("reason").max_length],
        now=now,
    )


# --- Parents' absence reports and leave requests (product.md "Parents") -------------------

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
LEAVE_MAX_DAYS = 90
# Seed 001 asks parents for at least two weeks' notice of leave. Shorter notice is a warning,
# not a refusal: the regulations leave the decision to the head (§8), and a funeral cannot wait.
LEAVE_NOTICE_DAYS = 14
# Wales: holiday leave of at most 10 school days a school year, save in exceptional
# circumstances (spec/regulations.md §2, Wales reg 7).
WALES_HOLIDAY_SCHOOL_DAYS = 10

REPORT_ACCEPTED_REASON = "Parent's report accepted"
LEAVE_APPROVED_REASON = "Leave of absence approved"
# Still open: the statuses the office's inbox lists (``selectors.REPORT_ACTION_ORDER``).
REPORT_OPEN_STATUSES = frozenset(REPORT_ACTION_ORDER)


def evidence_check(*, upload: UploadedFile) -> str:
    """The extension an evidence upload is stored under (``pdf``, ``jpg`` or ``png``).

    Raises ``ValidationError`` when the file is empty or over 5 MB, or when its name or its
    leading bytes are not those of a PDF, JPEG or PNG (an ``.exe`` renamed ``.pdf`` fails).
    """
    size = upload.size or 0
    if size == 0:
        raise ValidationError("The file is empty.")
    if size > EVIDENCE_MAX_BYTES:
        raise ValidationError("The file is larger than 5 MB. Choose a smaller file or a photo.")
    if PurePath(upload.name or "").suffix.lower() not in EVIDENCE_EXTENSIONS:
        raise ValidationError("Send a PDF, JPEG or PNG file.")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for signature, extension, _content_type in EVIDENCE_SIGNATURES:
        if head.startswith(signature):
            return extension
    raise ValidationError("The file is not a PDF, JPEG or PNG, whatever its name says.")


def _evidence_store(*, school: School, report: AbsenceReport, upload: UploadedFile) -> None:
    extension = evidence_check(upload=upload)
    old = report.evidence.name if report.evidence else ""
    # A name of our own: the sender's file name is never used as a path, and a random part
    # makes the stored file unguessable (PUB-06; PDF-05's tenant prefix for the school).
    report.evidence.save(f"s{school.pk}-{uuid.uuid4().hex}.{extension}", upload, save=False)
    if old:
        report.evidence.storage.delete(old)  # keep one copy of a parent's evidence, not two


def _check_parent_of(*, school: School, pupil: Pupil, user: User) -> None:
    if (
        pupil.school_id != school.pk
        or not ParentLink.objects.filter(school=school, pupil=pupil, user_id=user.pk).exists()
    ):
        raise ValidationError("You can only send requests about your own children.")


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
        errors["reason"] = "Choose the reason for the absence."
    if len(details) > AbsenceReport._meta.get_field("details").max_length:  # type: ignore[operator]
        errors["details"] = "Keep the details to 500 characters."
    if {first_session, last_session} - {"AM", "PM"}:
        errors["first_session"] = "Choose morning or afternoon."
    if first_date < today:
        errors["first_date"] = (
            "Report an absence for today or a later day. For an earlier day, phone the school."
        )
    if last_date < first_date:
        errors["last_date"] = "The last day must be the same as the first day or later."
    elif (last_date - first_date).days >= REPORT_MAX_DAYS:
        errors["last_date"] = (
            f"Report at most {REPORT_MAX_DAYS} days at a time. For a longer absence, phone the school."
        )
    elif (first_date, first_session) > (last_date, last_session):
        errors["last_session"] = "The absence must end after it starts."
    if not errors:
        sessions = report_sessions(
            calendar=school_calendar_get(school=school),
            first_date=first_date,
            first_session=first_session,
            last_date=last_date,
            last_session=last_session,
        )
        if not sessions:
            errors["first_date"] = "The school has no sessions on those dates."
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
    _check_parent_of(school=school, pupil=pupil, user=user)
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
        errors["reporter_name"] = "Enter your name."
    if not (contact_phone.strip() or contact_email.strip()):
        errors["contact_phone"] = "Enter a phone number or an email address the school can use."
    if date_of_birth >= today:
        errors["date_of_birth"] = "Enter the child's date of birth."
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
    stated_name = " ".join(f"{pupil_forename} {pupil_surname}".split())
    contact = " / ".join(value.strip() for value in (contact_phone, contact_email) if value.strip())
    return AbsenceReport.objects.create(
        school=school,
        pupil=pupil,
        reporter_name=reporter_name.strip()[:200],
        reporter_contact=contact[:200],
        stated_pupil_name=stated_name[:200],
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
        message="Only attendance officers, administrators and heads decide reports.",
    )


def _open_report(*, school: School, report: AbsenceReport) -> AbsenceReport:
    """The report re-read and locked for this transaction; refuses one already decided."""
    locked = AbsenceReport.objects.select_for_update().filter(school=school, pk=report.pk).first()
    if locked is None:
        raise ValidationError("This report is not one of this school's.")
    if locked.status not in REPORT_OPEN_STATUSES:
        raise ValidationError("This report has already been decided.")
    return locked


def _apply_code(
    *,
    school: School,
    pupil: Pupil,
    sessions: Sequence[tuple[dt.date, str]],
    code: str,
    calendar: SchoolCalendar,
    membership: StaffMembership,
    source: MarkSource,
    reason: str,
    now: dt.datetime | None,
) -> WriteResult:
    """Write ``code`` on every session for an accepted report or approved leave: each checked
    by ``mark_validate`` first, then one audited ``marks_write``; all or nothing."""
    enrolments = _enrolments_by_pupil(school=school, pupil_ids=[pupil.pk]).get(pupil.pk, [])
    writes: list[MarkWrite] = []
    problems: list[str] = []
    for day, session in sessions:
        try:
            writes.append(
                mark_validate(
                    school=school,
                    write=MarkWrite(pupil, day, session, code),
                    calendar=calendar,
                    enrolments=enrolments,
                )
            )
        except ValidationError as exc:
            problems.append(f"{day:%a %d %b %Y} {session}: {' '.join(exc.messages)}")
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise ValidationError(f"Nothing was written. {' '.join(problems[:3])}{more}")
    return marks_write(
        school=school,
        writes=writes,
        actor=Actor.staff(membership),
        source=source,
        reason=reason,
        now=now,
    )


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
        raise ValidationError("Match this report to a pupil before accepting it, or reject it.")
    code = code.strip().upper()
    if not code:
        raise ValidationError("Choose the code to record.")
    definition = code_lookup(jurisdiction=school.jurisdiction, code=code, on=report.first_date)
    if definition is not None and not definition.is_absence:
        raise ValidationError(f"{code} is not an absence code.")
    calendar = school_calendar_get(school=school)
    sessions = report_sessions(
        calendar=calendar,
        first_date=report.first_date,
        first_session=report.first_session,
        last_date=report.last_date,
        last_session=report.last_session,
    )
    result = _apply_code(
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


def _note_check(note: str, *, what: str) -> str:
    note = note.strip()
    if len(note) < 3:
        raise ValidationError(f"Write a note {what}.")
    if len(note) > AbsenceReport._meta.get_field("decision_note").max_length:  # type: ignore[operator]
        raise ValidationError("Keep the note to 500 characters.")
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
    note = _note_check(note, what="saying why the report is rejected")
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
    note = _note_check(note, what="saying what evidence is needed")
    report = _open_report(school=school, report=report)
    if report.submitted_by_id is None:
        raise ValidationError(
            "This report came from the public form: contact the person who sent it."
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
        raise ValidationError("This report is already matched to a pupil.")
    if pupil.school_id != school.pk:
        raise ValidationError("Choose a pupil of this school.")
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
        raise ValidationError("The school has not asked you for evidence for this report.")
    _check_parent_of(school=school, pupil=report.pupil, user=user)
    try:
        _evidence_store(school=school, report=report, upload=evidence)
    except ValidationError as exc:
        raise ValidationError({"evidence": exc.messages}) from exc
    report.status = ReportStatus.PENDING
    report.save(update_fields=["evidence", "status"])
    return report


def leave_short_notice(*, first_date: dt.date, today: dt.date) -> bool:
    """Less than the two weeks' notice seed 001 asks for (a warning, never a refusal)."""
    return (first_date - today).days < LEAVE_NOTICE_DAYS


@transaction.atomic
def leave_request_submit(
    *,
    school: School,
    pupil: Pupil,
    user: User,
    first_date: dt.date,
    last_date: dt.date,
    is_holiday: bool,
    reason: str,
    now: dt.datetime | None = None,
) -> LeaveRequest:
    """A parent's request for leave of absence in term time for one of their own children:
    ``PENDING`` until the headteacher decides. Short notice is accepted (see
    ``leave_short_notice``). Raises ``ValidationError`` (keyed by form field) for another
    child, a start before today, an inverted or over-long range, dates with no school
    sessions, or a missing or over-long reason."""
    now = now or timezone.now()
    _check_parent_of(school=school, pupil=pupil, user=user)
    reason = reason.strip()
    errors: dict[str, str] = {}
    if len(reason) < 3:
        errors["reason"] = "Tell the school why you are asking for leave."
    elif len(reason) > LeaveRequest._meta.get_field("reason").max_length:  # type: ignore[operator]
        errors["reason"] = "Keep the reason to 1,000 characters."
    if first_date < timezone.localdate(now):
        errors["first_date"] = "Leave is asked for in advance: choose today or a later day."
    if last_date < first_date:
        errors["last_date"] = "The last day must be the same as the first day or later."
    elif (last_date - first_date).days >= LEAVE_MAX_DAYS:
        errors["last_date"] = f"Ask for at most {LEAVE_MAX_DAYS} days at a time."
    elif not school_calendar_get(school=school).school_days_between(first_date, last_date):
        errors["first_date"] = "Those dates are all outside term time: no leave is needed."
    if errors:
        raise ValidationError(errors)
    return LeaveRequest.objects.create(
        school=school,
        pupil=pupil,
        requested_by=user,
        first_date=first_date,
        last_date=last_date,
        is_holiday=is_holiday,
        reason=reason,
        status=LeaveStatus.PENDING,
        requested_at=now,
    )


def _open_leave(
    *, school: School, leave: LeaveRequest, membership: StaffMembership
) -> LeaveRequest:
    check_capability(
        membership,
        Capability.DECIDE_LEAVE,
        school=school,
        message="Only the headteacher decides leave of absence.",
    )
    locked = LeaveRequest.objects.select_for_update().filter(school=school, pk=leave.pk).first()
    if locked is None:
        raise ValidationError("This leave request is not one of this school's.")
    if locked.status != LeaveStatus.PENDING:
        raise ValidationError("This leave request has already been decided.")
    return locked


def leave_code(*, school: School, leave: LeaveRequest) -> str:
    """The code approved leave is recorded with: ``H`` for a family holiday in Wales, else
    ``C`` (leave in exceptional circumstances, both jurisdictions)."""
    return "H" if school.jurisdiction == Jurisdiction.WALES and leave.is_holiday else "C"


def _school_year(*, school: School, on: dt.date) -> tuple[dt.date, dt.date, str]:
    year = academic_year_for(school=school, on=on)
    if year is not None:
        return year.start_date, year.end_date, year.name
    start = academic_year_start(on)
    return start, academic_year_end(start), academic_year_name(start)


def leave_holiday_days(
    *, school: School, leave: LeaveRequest, calendar: SchoolCalendar | None = None
) -> tuple[int, str]:
    """School days of holiday leave this pupil would have in the leave's school year if
    ``leave`` were approved (earlier ``H`` leave and marks, plus this request, each day
    once), and the year's name."""
    calendar = calendar or school_calendar_get(school=school)
    start, end, name = _school_year(school=school, on=leave.first_date)
    taken = holiday_days_taken(
        school=school,
        pupil=leave.pupil,
        calendar=calendar,
        year_start=start,
        year_end=end,
        exclude_leave_id=leave.pk,
    )
    asked = calendar.school_days_between(max(leave.first_date, start), min(leave.last_date, end))
    return len(taken.union(asked)), name


@transaction.atomic
def leave_request_approve(
    *,
    school: School,
    leave: LeaveRequest,
    membership: StaffMembership,
    exceptional_circumstances: str = "",
    note: str = "",
    now: dt.datetime | None = None,
) -> WriteResult:
    """The headteacher approves leave: ``leave_code`` goes on every school session of the
    range through ``marks_write`` (source "leave"), in advance for sessions not yet taken.

    Wales holiday leave beyond 10 school days in the school year (``leave_holiday_days``)
    needs the exceptional circumstances recorded, else ``ValidationError``. Also refused:
    anyone but the headteacher, a request already decided, or a session ``mark_validate``
    rejects (nothing is written then).
    """
    now = now or timezone.now()
    leave = _open_leave(school=school, leave=leave, membership=membership)
    exceptional = exceptional_circumstances.strip()[:500]
    note = note.strip()[:500]
    calendar = school_calendar_get(school=school)
    code = leave_code(school=school, leave=leave)
    if code == "H":
        days, year_name = leave_holiday_days(school=school, leave=leave, calendar=calendar)
        if days > WALES_HOLIDAY_SCHOOL_DAYS and not exceptional:
            raise ValidationError(
                f"Approving this would give {leave.pupil} {days} school days of holiday leave "
                f"in {year_name}. Holiday leave is limited to {WALES_HOLIDAY_SCHOOL_DAYS} "
                "school days a year save in exceptional circumstances: record them to approve, "
                "or refuse the request."
            )
    sessions = [
        (d, str(s)) for d, s in calendar.sessions_between(leave.first_date, leave.last_date)
    ]
    result = _apply_code(
        school=school,
        pupil=leave.pupil,
        sessions=sessions,
        code=code,
        calendar=calendar,
        membership=membership,
        source=MarkSource.LEAVE,
        reason=LEAVE_APPROVED_REASON,
        now=now,
    )
    leave.status, leave.applied_code = LeaveStatus.APPROVED, code
    leave.exceptional_circumstances, leave.decision_note = exceptional, note
    leave.decided_by, leave.decided_at = membership, now
    leave.save(
        update_fields=[
            "status",
            "applied_code",
            "exceptional_circumstances",
            "decision_note",
            "decided_by",
            "decided_at",
        ]
    )
    return result


@transaction.atomic
def leave_request_refuse(
    *,
    school: School,
    leave: LeaveRequest,
    membership: StaffMembership,
    note: str,
    now: dt.datetime | None = None,
) -> LeaveRequest:
    """The headteacher refuses leave, with a note the parent sees. No mark is written: the
    tutor's register shows "Leave refused: G if absent" for those dates. Raises
    ``ValidationError`` without a note, for anyone but the head, or if already decided."""
    note = _note_check(note, what="saying why the leave is refused")
    leave = _open_leave(school=school, leave=leave, membership=membership)
    leave.status, leave.decision_note = LeaveStatus.REFUSED, note
    leave.decided_by, leave.decided_at = membership, now or timezone.now()
    leave.save(update_fields=["status", "decision_note", "decided_by", "decided_at"])
    return leave
