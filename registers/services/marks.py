"""Writes to registers and marks. Every mark write, whoever makes it (a tutor's register, an
officer's amendment, an accepted parent report, approved leave, a CSV import), goes through
``marks_write``, and every mark is checked first by ``mark_validate``: one place for the
register rules, version checks and the amendment history."""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import reduce
from itertools import islice
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from interventions.tasks import recompute_after_commit
from registers.codes import CodeDefinition, age_rule_error, code_lookup
from registers.models import AttendanceMark, MarkChange, MarkSource, Register, field_max_length
from registers.rules import Phase, late_code
from registers.selectors import register_find, register_phase_now, register_times
from schools.calendar import SchoolCalendar
from schools.models import (
    Enrolment,
    FormGroup,
    Pupil,
    Role,
    School,
    StaffMembership,
    stored_label,
)
from schools.permissions import Capability, check_capability
from schools.selectors import pupils_in_form_on, school_calendar_get


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
            position=membership.job_title or stored_label(Role(membership.role).label),
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
    marks: list[AttendanceMark] = field(default_factory=list)  # the unchanged, then the written

    @property
    def written(self) -> list[AttendanceMark]:
        """The marks created or changed by this write."""
        return self.marks[self.unchanged :]


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
    follow the session; age rules (``X``, ``C2``: TC-08); minutes late only for ``L``/``U``,
    required with ``L``, and ``L`` or ``U`` from the minutes (TC-03: at or after the close is
    ``U``; at or after the end of the session is refused); the pupil is on roll (``Z`` before
    the start date). Errors about the minutes carry ``code="minutes_late"``.
    """
    code = write.code.strip().upper()
    if code in ("/", "\\"):
        code = "/" if write.session == "AM" else "\\"
    if not calendar.is_session(write.date, write.session) and code != "#":
        raise ValidationError(
            _("%(date)s %(session)s is not a school session.")
            % {"date": date_format(write.date, "D d M Y"), "session": write.session}
        )
    definition = code_lookup(jurisdiction=school.jurisdiction, code=code, on=write.date)
    if definition is None:
        raise ValidationError(
            _("%(code)s is not an attendance code in %(nation)s on %(date)s.")
            % {
                "code": code or _("An empty code"),
                "nation": school.get_jurisdiction_display(),
                "date": date_format(write.date, "d M Y"),
            }
        )
    age_error = age_rule_error(definition, date_of_birth=write.pupil.date_of_birth, on=write.date)
    if age_error:
        raise ValidationError(age_error)
    minutes = write.minutes_late
    if minutes is not None and not definition.records_minutes_late:
        # One rule for every path: the register form used to drop such minutes silently while
        # the API refused them. Refusing keeps what the tutor typed in front of them.
        raise ValidationError(
            _("Minutes late go with L or U, not %(code)s.") % {"code": code}, code="minutes_late"
        )
    if minutes is None and code == "L":
        raise ValidationError(
            _(
                "Enter the minutes late with L: how long after the register opened the pupil arrived."
            ),
            code="minutes_late",
        )
    if minutes is not None:
        if minutes < 0 or minutes > 24 * 60:
            raise ValidationError(
                _("Minutes late must be between 0 and 1440."), code="minutes_late"
            )
        times = register_times(school=school, session=write.session)
        derived = late_code(minutes_late=minutes, times=times)
        if derived is None:
            raise ValidationError(
                _(
                    "%(minutes)s minutes late is after the %(session)s session ended "
                    "(%(ends)s): there is no L or U then. Record the reason "
                    "for the absence instead (N until it is known)."
                )
                % {
                    "minutes": minutes,
                    "session": write.session,
                    "ends": f"{times.session_ends:%H:%M}",
                },
                code="minutes_late",
            )
        code = derived
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
            raise ValidationError(_("Z is only for sessions before the pupil's starting day."))
    elif not on_roll and code != "#":
        raise ValidationError(
            _("%(pupil)s is not on roll on %(date)s.")
            % {"pupil": write.pupil, "date": date_format(write.date, "d M Y")}
        )


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
    recompute: bool = True,
) -> WriteResult:
    """Create or change marks in bulk, writing a ``MarkChange`` for every changed mark.

    ``writes`` must already be validated (``mark_validate``). With ``expected_versions`` (the
    versions the caller loaded, 0 for "no mark"), a mark that has changed since is not
    overwritten: ``MarkConflictError`` is raised and nothing is written. Existing marks are locked
    (``SELECT … FOR UPDATE`` on PostgreSQL) so two concurrent saves serialise; only the
    writes' own pupils and dates are loaded, so memory follows the writes, not the marks
    already recorded. A fixed number of queries for a register (one date); a large batch costs
    a lookup per 900 (pupil, date) pairs and an insert per 1,000. ``recompute=False`` leaves
    recomputing the written pupils to a caller that writes in batches (once for the whole file,
    not per batch).
    """
    writes = list(writes)
    if not writes:
        return WriteResult()
    if any(w.pupil.school_id != school.pk for w in writes):
        raise ValidationError("Every pupil must belong to this school.")
    now = now or timezone.now()
    existing = _marks_for_update(school=school, writes=writes)
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
            _history_row(
                school=school, mark=current, write=write, reason=reason, at=now, actor=actor,
                source=source,
            )
        )  # fmt: skip
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
    if written and recompute:
        # The engine's stored results follow the marks (issue 4): after this commits.
        recompute_after_commit(
            school=school,
            pupil_ids=[m.pupil_id for m in written],
            changed_from=min(m.date for m in written),
        )
    result.created, result.changed = len(to_create), len(to_update)
    result.marks += to_create + to_update
    return result


# Bound parameters per lookup of ``_marks_for_update``: a register (one date) or a batch of an
# import costs one or a few queries, and each stays inside SQLite's limits (999 parameters in
# older builds, and an expression depth of 1,000 for the OR of the dates).
_LOOKUP_PARAMS = 900


def _marks_for_update(
    *, school: School, writes: Sequence[MarkWrite]
) -> dict[tuple[int, dt.date, str], AttendanceMark]:
    """The recorded marks of the writes' pupils on the writes' dates, locked (``SELECT … FOR
    UPDATE`` on PostgreSQL): at most both sessions of each (pupil, date) written, so what is
    loaded is bounded by the writes whatever their order. (Every pupil's whole range of dates
    was, for a batch of a shuffled import file, the school's whole year of marks.)"""
    by_date: dict[dt.date, set[int]] = {}
    for write in writes:
        by_date.setdefault(write.date, set()).add(write.pupil.pk)
    existing: dict[tuple[int, dt.date, str], AttendanceMark] = {}
    lookup: list[Q] = []
    params = 0

    def load() -> None:
        condition = reduce(operator.or_, lookup)
        for mark in AttendanceMark.objects.select_for_update().filter(condition, school=school):
            existing[(mark.pupil_id, mark.date, mark.session)] = mark

    for day in sorted(by_date):
        pupil_ids = sorted(by_date[day])
        for start in range(0, len(pupil_ids), _LOOKUP_PARAMS - 1):
            chunk = pupil_ids[start : start + _LOOKUP_PARAMS - 1]
            if params + 1 + len(chunk) > _LOOKUP_PARAMS:
                load()
                lookup, params = [], 0
            lookup.append(Q(date=day, pupil_id__in=chunk))
            params += 1 + len(chunk)
    if lookup:
        load()
    return existing


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
    if form.school_id != school.pk:
        raise ValidationError("The form must belong to this school.")
    if not calendar.is_session(date, session):
        raise ValidationError(f"{date:%a %d %b %Y} {session} is not a school session.")
    # Read, not opened: the register row is created inside the save's transaction below, so a
    # refused save leaves nothing behind.
    existing = register_find(school=school, form=form, date=date, session=session)
    phase = register_phase_now(
        school=school,
        date=date,
        session=session,
        taken=existing is not None and existing.taken_at is not None,
        now=now,
    )
    if phase is not Phase.OPEN:
        raise ValidationError(
            _("This register is closed. The attendance officer can amend a mark, with a reason.")
        )
    pupils = {p.pk: p for p in pupils_in_form_on(school=school, form=form, on=date)}
    unknown = [e.pupil_id for e in entries if e.pupil_id not in pupils]
    if unknown:
        raise ValidationError(_("Some pupils are not on this register's roll."))
    enrolments = enrolments_by_pupil(school=school, pupil_ids=list(pupils))
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
            register = register_open(
                school=school, form=form, date=date, session=session, calendar=calendar
            )
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
        # Read again after the rollback: a mark created by someone else while we wrote is
        # ``None`` in the conflict, but the tutor needs to see who recorded what, and when.
        pupil_ids = [write.pupil.pk for write, _current in conflict.conflicts]
        current = {
            mark.pupil_id: mark
            for mark in AttendanceMark.objects.filter(
                school=school, pupil_id__in=pupil_ids, date=date, session=session
            ).select_related("recorded_by__user")
        }
        result.conflicts = {pupil_id: current.get(pupil_id) for pupil_id in pupil_ids}
    return result


def mark_conflict_message(*, school: School, mark: AttendanceMark | None) -> str:
    """What a tutor is told about a mark that changed while their register page was open:
    the code, who recorded it (name and position, or the system that did) and when, on the
    school's own clock (the same words in the register page and the API's 409)."""
    if mark is None:
        return "This pupil's mark changed while you had the page open. Check and save again."
    if mark.recorded_by is not None:
        who = Actor.staff(mark.recorded_by)
        by = f"{who.name} ({who.position})"
    else:
        by = f"the {MarkSource(mark.source).label.lower()}"
    minutes = f" ({mark.minutes_late} min)" if mark.minutes_late is not None else ""
    # A conflict is a change made while the page was open, so the time alone says when.
    return (
        f"Changed to {mark.code}{minutes} at {school.local_time(mark.recorded_at):%H:%M} by {by} "
        "since you opened the register. Save again to replace it."
    )


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
    reason = amendment_reason_check(reason)
    write = mark_validate(
        school=school,
        write=MarkWrite(pupil, date, session, code, minutes_late),
        calendar=school_calendar_get(school=school),
        enrolments=enrolments_by_pupil(school=school, pupil_ids=[pupil.pk]).get(pupil.pk, []),
    )
    marks_write(
        school=school,
        writes=[write],
        actor=Actor.staff(membership),
        source=MarkSource.AMENDMENT,
        reason=reason,
        now=now,
    )
    return AttendanceMark.objects.get(school=school, pupil=pupil, date=date, session=session)


# The amendment reason is kept on the ``MarkChange`` row; the limit is the column's.
REASON_MAX_LENGTH = field_max_length(MarkChange, "reason")
REASON_MIN_LENGTH = 3


def amendment_reason_check(reason: str) -> str:
    """The reason an amendment must give (§3.5), trimmed: at least 3 characters and no more
    than the column holds (refused, never cut short). ``ValidationError`` otherwise."""
    reason = reason.strip()
    if len(reason) < REASON_MIN_LENGTH:
        raise ValidationError(_("Give the reason for the amendment."))
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            _("Keep the reason to %(count)s characters.") % {"count": REASON_MAX_LENGTH}
        )
    return reason


def _history_row(
    *,
    school: School,
    mark: AttendanceMark,
    write: MarkWrite,
    reason: str,
    at: dt.datetime,
    actor: Actor,
    source: str,
) -> MarkChange:
    """The append-only record of one change to a recorded mark (§3.5): the original entry,
    the new one, the reason, when, and who with their position at the time."""
    return MarkChange(
        school=school,
        mark=mark,
        pupil_id=mark.pupil_id,
        date=mark.date,
        session=mark.session,
        original_code=mark.code,
        original_minutes_late=mark.minutes_late,
        original_recorded_at=mark.recorded_at,
        new_code=write.code,
        new_minutes_late=write.minutes_late,
        reason=reason,
        changed_at=at,
        changed_by=actor.membership,
        changed_by_name=actor.name,
        changed_by_position=actor.position,
        source=source,
    )


def enrolments_by_pupil(*, school: School, pupil_ids: list[int]) -> dict[int, list[Enrolment]]:
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
    recompute: bool = True,
) -> WriteResult:
    """Write marks checked row by row by ``registers.csv_marks`` (``mark_validate``)
    in one ``marks_write`` call (one per batch for a streamed file): source "import", the system actor "CSV import", reason
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
        recompute=recompute,
    )


def marks_apply(
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
    enrolments = enrolments_by_pupil(school=school, pupil_ids=[pupil.pk]).get(pupil.pk, [])
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


# --- Bulk load of register history (manage.py seed_demo) ------------------------------------


@dataclass(frozen=True, slots=True)
class RegisterRecord:
    """A register as it was taken; ``taken_at`` is None for one left partly marked."""

    form_id: int
    date: dt.date
    session: str
    taken_at: dt.datetime | None
    taken_by_id: int | None


@dataclass(frozen=True, slots=True)
class MarkRecord:
    """A mark as first entered on its register (version 1, source "register")."""

    pupil_id: int
    date: dt.date
    session: str
    code: str
    minutes_late: int | None
    recorded_at: dt.datetime
    recorded_by_id: int | None


@dataclass(frozen=True, slots=True)
class MarkAmendment:
    """A later change to a recorded mark, with its reason and time, as ``mark_amend`` makes."""

    pupil_id: int
    date: dt.date
    session: str
    code: str
    reason: str
    changed_at: dt.datetime
    minutes_late: int | None = None


@dataclass
class HistoryLoadResult:
    registers_created: int = 0
    registers_taken: int = 0  # rows already there without taken_at, now taken
    marks_created: int = 0
    amendments: int = 0


_HISTORY_BATCH = 5_000


@transaction.atomic
def register_history_load(
    *,
    school: School,
    registers: Iterable[RegisterRecord] = (),
    marks: Iterable[MarkRecord] = (),
    amendments: Sequence[MarkAmendment] = (),
    amended_by: StaffMembership | None = None,
) -> HistoryLoadResult:
    """Load past registers, marks and amendments in bulk, where ``marks_write`` would take
    minutes (the demo trust's million marks; history from another system).

    Registers are created, or completed when a row without ``taken_at`` is on file. Marks are
    created at version 1 and must be new: an existing mark raises ``IntegrityError``, so nothing
    recorded is overwritten. Then each amendment changes an existing mark as ``mark_amend``
    does: the same checks (``mark_validate``, an amending role, a reason), version + 1, source
    "amendment", and the ``MarkChange`` row ``marks_write`` keeps. New marks get their code's
    scheme and are checked only for a code valid on the date, minutes late only with L/U and
    pupils, forms and staff of this school (``ValidationError``); the caller plans them from
    the calendar and the roll. Nothing is recomputed: run ``school_recompute`` afterwards.
    One transaction; COPY on PostgreSQL, batched ``executemany`` elsewhere.
    """
    result = HistoryLoadResult()
    adapted: dict[object, Any] = {}

    def adapt(value: dt.date | dt.datetime | None) -> Any:
        if value is None:
            return None
        found = adapted.get(value)
        if found is None:
            if isinstance(value, dt.datetime):
                found = connection.ops.adapt_datetimefield_value(value)
            else:
                found = connection.ops.adapt_datefield_value(value)
            adapted[value] = found
        return found

    schemes: dict[tuple[str, dt.date], str] = {}

    def scheme_of(code: str, on: dt.date) -> str:
        scheme = schemes.get((code, on))
        if scheme is None:
            definition = code_lookup(jurisdiction=school.jurisdiction, code=code, on=on)
            if definition is None:
                raise ValidationError(f"{code} is not an attendance code on {on:%d %b %Y}.")
            scheme = schemes[(code, on)] = definition.scheme.value
        return scheme

    registers = list(registers)
    if registers:
        on_file = {
            (form_id, date, session): (pk, taken_at)
            for pk, form_id, date, session, taken_at in Register.objects.filter(
                school=school,
                date__gte=min(r.date for r in registers),
                date__lte=max(r.date for r in registers),
            ).values_list("pk", "form_id", "date", "session", "taken_at")
        }
        new_registers: list[tuple[Any, ...]] = []
        taken: list[tuple[Any, ...]] = []
        for r in registers:
            found = on_file.get((r.form_id, r.date, r.session))
            if found is None:
                new_registers.append(
                    (school.pk, r.form_id, adapt(r.date), r.session, adapt(r.taken_at),
                     r.taken_by_id)
                )  # fmt: skip
            elif found[1] is None and r.taken_at is not None:
                taken.append((adapt(r.taken_at), r.taken_by_id, found[0]))
        _check_own(school, FormGroup, {r.form_id for r in registers})
        _check_own(school, StaffMembership, {r.taken_by_id for r in registers})
        result.registers_created = _rows_insert(Register, _REGISTER_COLUMNS, new_registers)
        table = connection.ops.quote_name(Register._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET taken_at = %s, taken_by_id = %s WHERE id = %s",  # noqa: S608 (table from model meta)
                taken,
            )
        result.registers_taken = len(taken)

    rows: list[tuple[Any, ...]] = []
    pupil_ids: set[int | None] = set()
    staff_ids: set[int | None] = set()
    for m in marks:
        if (m.minutes_late is None) == (m.code in ("L", "U")):
            raise ValidationError(f"Minutes late go with L and U only (got {m.code}).")
        rows.append(
            (school.pk, m.pupil_id, adapt(m.date), m.session, m.code, scheme_of(m.code, m.date),
             m.minutes_late, MarkSource.REGISTER.value, adapt(m.recorded_at), m.recorded_by_id, 1)
        )  # fmt: skip
        pupil_ids.add(m.pupil_id)
        staff_ids.add(m.recorded_by_id)
    _check_own(school, Pupil, pupil_ids)
    _check_own(school, StaffMembership, staff_ids)
    result.marks_created = _rows_insert(AttendanceMark, _MARK_COLUMNS, rows)
    if amendments:
        result.amendments = _amendments_apply(
            school=school, amendments=amendments, amended_by=amended_by
        )
    return result


def _amendments_apply(
    *, school: School, amendments: Sequence[MarkAmendment], amended_by: StaffMembership | None
) -> int:
    """``mark_amend`` for many marks at once: the same checks and rows, a bounded number of
    queries per distinct date rather than a dozen per mark."""
    if amended_by is None:
        raise ValidationError("Amendments need a staff member of this school.")
    check_capability(
        amended_by,
        Capability.AMEND_MARK,
        school=school,
        message="Only attendance officers, administrators and heads amend marks.",
    )
    actor = Actor.staff(amended_by)
    pupils = Pupil.objects.filter(school=school).in_bulk({a.pupil_id for a in amendments})
    enrolments = enrolments_by_pupil(school=school, pupil_ids=list(pupils))
    calendar = school_calendar_get(school=school)
    by_date: dict[dt.date, set[int]] = {}
    for a in amendments:
        by_date.setdefault(a.date, set()).add(a.pupil_id)
    current: dict[tuple[int, dt.date, str], AttendanceMark] = {}
    for date, day_pupils in by_date.items():
        for found in AttendanceMark.objects.select_for_update().filter(
            school=school, date=date, pupil_id__in=day_pupils
        ):
            current[(found.pupil_id, found.date, found.session)] = found
    updates: list[tuple[Any, ...]] = []
    history: list[MarkChange] = []
    for a in amendments:
        mark = current.get((a.pupil_id, a.date, a.session))
        if mark is None or a.pupil_id not in pupils:
            raise ValidationError(f"No mark to amend for pupil {a.pupil_id} on {a.date}.")
        reason = amendment_reason_check(a.reason)
        write = mark_validate(
            school=school,
            write=MarkWrite(pupils[a.pupil_id], a.date, a.session, a.code, a.minutes_late),
            calendar=calendar,
            enrolments=enrolments.get(a.pupil_id, []),
        )
        scheme = definition_for(school=school, write=write).scheme.value
        history.append(
            _history_row(
                school=school, mark=mark, write=write, reason=reason, at=a.changed_at,
                actor=actor, source=MarkSource.AMENDMENT,
            )
        )  # fmt: skip
        updates.append(
            (write.code, write.minutes_late, scheme, MarkSource.AMENDMENT.value,
             connection.ops.adapt_datetimefield_value(a.changed_at), amended_by.pk, mark.pk)
        )  # fmt: skip
    table = connection.ops.quote_name(AttendanceMark._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET code = %s, minutes_late = %s, scheme = %s, source = %s, "  # noqa: S608 (table from model meta)
            "recorded_at = %s, recorded_by_id = %s, version = version + 1 WHERE id = %s",
            updates,
        )
    MarkChange.objects.bulk_create(history, batch_size=1000)
    return len(history)


def _check_own(
    school: School, model: type[FormGroup | Pupil | StaffMembership], pks: set[int | None]
) -> None:
    ids = {pk for pk in pks if pk is not None}
    if ids and model._default_manager.filter(school=school, pk__in=ids).count() != len(ids):
        raise ValidationError(f"Every {model._meta.verbose_name} must belong to this school.")


_MARK_COLUMNS = (
    "school_id", "pupil_id", "date", "session", "code", "scheme", "minutes_late", "source",
    "recorded_at", "recorded_by_id", "version",
)  # fmt: skip
_REGISTER_COLUMNS = ("school_id", "form_id", "date", "session", "taken_at", "taken_by_id")


def _rows_insert(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    copy: bool = True,
) -> int:
    """Insert rows of values already adapted for the database; return how many.

    PostgreSQL gets one COPY; other databases (and ``copy=False``, the portable path the tests
    compare it with) get ``executemany`` in batches. Measured per mark, with the indexes and the
    deferred foreign-key checks: about 15 µs on SQLite and 30 µs on PostgreSQL, against 100 and
    70 µs for ``bulk_create``.
    """
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(c) for c in columns)
    count = 0
    remaining = iter(rows)
    with connection.cursor() as cursor:
        if copy and connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as pg_copy:
                for row in remaining:
                    pg_copy.write_row(row)
                    count += 1
            return count
        placeholders = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({names}) VALUES ({placeholders})"  # noqa: S608 (names from model meta)
        while batch := list(islice(remaining, _HISTORY_BATCH)):
            cursor.executemany(sql, batch)
            count += len(batch)
    return count
