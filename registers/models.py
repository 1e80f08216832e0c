"""Registers, marks and their append-only history; parents' absence reports and leave requests.

A mark belongs to a pupil's session (date + AM/PM), not to a register: registers are the
form-by-form view tutors take, and a pupil who changes form keeps one mark per session. Marks
are never deleted and never changed without a ``MarkChange`` row (spec/regulations.md §3.5,
security REG-01); the history table is append-only at the database level too (migration 0002).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from registers.codes import CodeScheme
from schools.models import SessionChoice
from schools.scoping import SchoolOwned, SchoolScopedManager


class Register(SchoolOwned):
    """One form's AM or PM register on one date: who took it and when it was complete.

    Whether it is open or locked follows from the school's register times and the clock
    (``registers.rules.register_phase``); only the facts are stored here.
    """

    form = models.ForeignKey(
        "schools.FormGroup", on_delete=models.PROTECT, related_name="registers"
    )
    date = models.DateField()
    session = models.CharField(max_length=2, choices=SessionChoice.choices)
    taken_at = models.DateTimeField(null=True, blank=True)
    taken_by = models.ForeignKey(
        "schools.StaffMembership", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = SchoolScopedManager["Register"]()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["school", "form", "date", "session"], name="register_one_per_form_session"
            ),
        ]
        indexes = [models.Index(fields=["school", "date", "session"])]

    def __str__(self) -> str:
        return f"{self.form} {self.date:%a %d %b %Y} {self.session}"


class MarkSource(models.TextChoices):
    REGISTER = "register", _("Register")
    AMENDMENT = "amendment", _("Amendment")
    IMPORT = "import", _("Import")
    ABSENCE_REPORT = "absence_report", _("Parent's absence report")
    LEAVE = "leave", _("Leave of absence")


class AttendanceMark(SchoolOwned):
    """The current code for one pupil and one session. ``version`` rises with every change,
    so a register saved from a stale page can tell that someone else changed the mark."""

    pupil = models.ForeignKey("schools.Pupil", on_delete=models.PROTECT, related_name="marks")
    date = models.DateField()
    session = models.CharField(max_length=2, choices=SessionChoice.choices)
    code = models.CharField(max_length=3)
    scheme = models.CharField(max_length=8, choices=[(s.value, s.value) for s in CodeScheme])
    minutes_late = models.PositiveSmallIntegerField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=MarkSource.choices)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        "schools.StaffMembership", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    objects = SchoolScopedManager["AttendanceMark"]()

    class Meta:
        constraints = [
            # One mark per pupil per session (security REG-04).
            models.UniqueConstraint(
                fields=["pupil", "date", "session"], name="mark_one_per_pupil_session"
            ),
            models.CheckConstraint(
                condition=Q(minutes_late__isnull=True) | Q(code__in=["L", "U"]),
                name="mark_minutes_late_only_for_late_codes",
            ),
        ]
        indexes = [
            models.Index(fields=["school", "pupil", "date"]),
            models.Index(fields=["school", "date", "session"]),
            models.Index(fields=["school", "code", "date"]),
        ]

    def __str__(self) -> str:
        return f"{self.pupil_id} {self.date} {self.session} {self.code}"


class MarkChange(SchoolOwned):
    """An append-only amendment record: the original entry, the new entry, the reason, when,
    and the name and position of the person who made it (seed 001 Appendix B; §3.5).

    Names and positions are copied as text, so the record reads the same after the person
    leaves or changes role. The database refuses UPDATE and DELETE on this table.
    """

    mark = models.ForeignKey(AttendanceMark, on_delete=models.PROTECT, related_name="changes")
    pupil = models.ForeignKey("schools.Pupil", on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    session = models.CharField(max_length=2, choices=SessionChoice.choices)
    original_code = models.CharField(max_length=3)
    original_minutes_late = models.PositiveSmallIntegerField(null=True, blank=True)
    original_recorded_at = models.DateTimeField()
    new_code = models.CharField(max_length=3)
    new_minutes_late = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=500)
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        "schools.StaffMembership", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    changed_by_name = models.CharField(max_length=200)
    changed_by_position = models.CharField(max_length=100)
    source = models.CharField(max_length=16, choices=MarkSource.choices)

    objects = SchoolScopedManager["MarkChange"]()

    class Meta:
        ordering = ["changed_at", "pk"]
        indexes = [
            models.Index(fields=["school", "mark", "changed_at"]),
            models.Index(fields=["school", "pupil", "date"]),
        ]

    def __str__(self) -> str:
        return f"{self.original_code} → {self.new_code} ({self.reason})"


class AbsenceReason(models.TextChoices):
    """What a parent may say; the code the school applies on acceptance (product.md Parents)."""

    ILLNESS = "illness", _("Illness")
    MEDICAL = "medical", _("Medical or dental appointment")
    RELIGIOUS = "religious", _("Religious observance")
    OTHER = "other", _("Other reason")


REASON_CODES: dict[str, str] = {
    AbsenceReason.ILLNESS: "I",
    AbsenceReason.MEDICAL: "M",
    AbsenceReason.RELIGIOUS: "R",
}


class ReportStatus(models.TextChoices):
    UNVERIFIED = "unverified", _("Unverified (public form)")
    PENDING = "pending", _("Waiting for the office")
    EVIDENCE_REQUESTED = "evidence_requested", _("Evidence requested")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class AbsenceReport(SchoolOwned):
    """A parent's report of an absence, from their account or the public form.

    It never writes a mark itself (security PUB-02): an officer accepts it, and acceptance
    applies the code through the audited mark services.
    """

    pupil = models.ForeignKey(
        "schools.Pupil",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="absence_reports",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reporter_name = models.CharField(max_length=200)
    reporter_contact = models.CharField(max_length=200, blank=True)
    # What the public form was told, kept so the office can match an unmatched report by hand.
    stated_pupil_name = models.CharField(max_length=200, blank=True)
    stated_date_of_birth = models.DateField(null=True, blank=True)
    first_date = models.DateField()
    first_session = models.CharField(max_length=2, choices=SessionChoice.choices, default="AM")
    last_date = models.DateField()
    last_session = models.CharField(max_length=2, choices=SessionChoice.choices, default="PM")
    reason = models.CharField(max_length=12, choices=AbsenceReason.choices)
    details = models.CharField(max_length=500, blank=True)
    evidence = models.FileField(upload_to="absence-evidence/%Y/%m/", blank=True)
    status = models.CharField(max_length=20, choices=ReportStatus.choices)
    submitted_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        "schools.StaffMembership", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_note = models.CharField(max_length=500, blank=True)
    applied_code = models.CharField(max_length=3, blank=True)

    objects = SchoolScopedManager["AbsenceReport"]()

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_date__gte=F("first_date")), name="report_ends_after_start"
            ),
        ]
        indexes = [
            models.Index(fields=["school", "status", "first_date"]),
            models.Index(fields=["school", "pupil", "first_date"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.first_date} to {self.last_date}"


class LeaveStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the headteacher")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class LeaveRequest(SchoolOwned):
    """A parent's request for leave of absence in term time (product.md Parents; §8).

    Approval writes ``C`` (England) or ``H`` (Wales holiday, within 10 school days a year
    unless exceptional circumstances are recorded) for the sessions; refusal records that any
    absence taken then is ``G``.
    """

    pupil = models.ForeignKey(
        "schools.Pupil", on_delete=models.PROTECT, related_name="leave_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    first_date = models.DateField()
    last_date = models.DateField()
    is_holiday = models.BooleanField(
        default=False, help_text="A family holiday (Wales may grant up to 10 school days a year)."
    )
    reason = models.CharField(max_length=1000)
    status = models.CharField(
        max_length=12, choices=LeaveStatus.choices, default=LeaveStatus.PENDING
    )
    requested_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        "schools.StaffMembership", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_note = models.CharField(max_length=500, blank=True)
    exceptional_circumstances = models.CharField(max_length=500, blank=True)
    applied_code = models.CharField(max_length=3, blank=True)

    objects = SchoolScopedManager["LeaveRequest"]()

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_date__gte=F("first_date")), name="leave_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["school", "status", "first_date"])]

    def __str__(self) -> str:
        return f"Leave {self.first_date} to {self.last_date} ({self.get_status_display()})"


class PartTimeTimetable(SchoolOwned):
    """A temporary part-time timetable agreed with a parent (code ``C2``, §8): the sessions the
    pupil is not expected to attend between two dates, e.g. ``["Mon PM", "Fri PM"]``."""

    pupil = models.ForeignKey("schools.Pupil", on_delete=models.PROTECT, related_name="+")
    start_date = models.DateField()
    end_date = models.DateField()
    sessions_off = models.JSONField(default=list)
    agreed_with = models.CharField(max_length=200)

    objects = SchoolScopedManager["PartTimeTimetable"]()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="part_time_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["school", "pupil", "start_date"])]

    def __str__(self) -> str:
        return f"Part-time {self.start_date} to {self.end_date}"


def field_max_length(model: type[models.Model], name: str) -> int:
    """A text column's ``max_length``: services check free text against it and refuse longer
    text with a message, rather than letting PostgreSQL refuse it or SQLite store it whole."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.CharField)
    assert field.max_length is not None
    return field.max_length


class RetentionRecord(SchoolOwned):
    """That register rows were removed once their retention ended (regulations §3.5: entries
    are removed "with a record that they were"): which table, how many, the range of their
    dates and when. It names no pupil, so it can be kept for as long as the school wants."""

    table = models.CharField(max_length=63)
    count = models.PositiveIntegerField()
    first_date = models.DateField()
    last_date = models.DateField()
    rule = models.CharField(max_length=200)
    applied_at = models.DateTimeField()

    objects = SchoolScopedManager["RetentionRecord"]()

    class Meta:
        ordering = ["applied_at", "pk"]

    def __str__(self) -> str:
        return f"{self.table}: {self.count} ({self.first_date} to {self.last_date})"
