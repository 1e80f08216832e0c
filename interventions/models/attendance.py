"""The attendance engine's configuration and results.

Configuration is each school's own: its ordered attendance bands and its local authority's
penalty-notice and illness rules (spec/regulations.md §5.2, §6.2). Results are written only by
``interventions.recompute`` (the nightly and incremental recomputes): one stored summary per
enrolment and academic year, stamped with when and from which marks it was computed; an event
ledger of every crossing, written once; and a record of every run.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from interventions.rules import EventKind
from schools.models import SessionChoice
from schools.scoping import SchoolOwned, SchoolScopedManager


class AttendanceBand(SchoolOwned):
    """One of a school's attendance bands: rates at or above ``lower_bound`` (strictly above it
    when ``inclusive`` is false) belong here, up to the next band's bound. ``position`` orders
    the bands from the highest bound (0) down."""

    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=60)
    lower_bound = models.DecimalField(
        max_digits=5, decimal_places=2, help_text="A percentage from 0 to 100."
    )
    inclusive = models.BooleanField(
        default=True, help_text="Does a rate exactly at the lower bound belong to this band?"
    )
    colour = models.CharField(max_length=7, default="#6b7280", help_text="#rrggbb")
    meaning = models.CharField(max_length=300, blank=True)

    objects = SchoolScopedManager["AttendanceBand"]()

    class Meta:
        ordering = ["school", "position"]
        constraints = [
            models.UniqueConstraint(fields=["school", "position"], name="band_one_per_position"),
            models.UniqueConstraint(fields=["school", "name"], name="band_name_unique"),
            models.CheckConstraint(
                condition=Q(lower_bound__gte=0) & Q(lower_bound__lte=100),
                name="band_bound_is_percentage",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class IllnessMode(models.TextChoices):
    EITHER = "either", "Whichever comes first"
    CONSECUTIVE = "consecutive", "Consecutive school days"
    CUMULATIVE = "cumulative", "Cumulative school days"


class AttendanceRules(SchoolOwned):
    """A school's local-authority rules. A school without a row uses its jurisdiction's
    defaults (``interventions.selectors.attendance_rules_get``): England's national
    penalty-notice threshold of 10 sessions of G, O or U in 10 school weeks, N excluded; in
    Wales no threshold until the school enters its LA's."""

    pn_enabled = models.BooleanField("penalty-notice threshold applies", default=True)
    pn_sessions = models.PositiveSmallIntegerField("sessions", default=10)
    pn_school_weeks = models.PositiveSmallIntegerField("in school weeks", default=10)
    pn_include_n = models.BooleanField(
        "count N (no reason yet) as provisional",
        default=False,
        help_text="Some local authorities count unresolved N sessions towards the threshold.",
    )
    illness_days = models.PositiveSmallIntegerField("illness return after school days", default=15)
    illness_mode = models.CharField(
        max_length=12, choices=IllnessMode.choices, default=IllnessMode.EITHER
    )

    objects = SchoolScopedManager["AttendanceRules"]()

    class Meta:
        verbose_name_plural = "attendance rules"
        constraints = [
            models.UniqueConstraint(fields=["school"], name="attendance_rules_one_per_school"),
            models.CheckConstraint(
                condition=Q(pn_sessions__gte=1)
                & Q(pn_school_weeks__gte=1)
                & Q(illness_days__gte=1),
                name="attendance_rules_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"Attendance rules for school {self.school_id}"


class RunKind(models.TextChoices):
    FULL = "full", "Full"
    INCREMENTAL = "incremental", "Incremental"


class RecomputeRun(SchoolOwned):
    """One recompute of a school: when it ran, for how many enrolments, what it wrote."""

    kind = models.CharField(max_length=12, choices=RunKind.choices)
    as_of = models.DateField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    enrolments = models.PositiveIntegerField(default=0)
    events = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    objects = SchoolScopedManager["RecomputeRun"]()

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["school", "started_at"])]

    def __str__(self) -> str:
        return f"{self.kind} recompute as of {self.as_of}"


class EnrolmentAttendance(SchoolOwned):
    """One enrolment's attendance for one academic year, as of ``as_of``: the counts of
    spec/regulations.md §4.1 and the running state of §5.2 and §6, as the engine left them.

    Rates are not stored: they are exact fractions of the stored integers
    (``interventions.selectors``). The ``*_run`` fields are the continuous runs of school days
    ending at ``as_of``; ``pn_window_*`` the penalty-notice window ending at ``as_of``;
    ``trend_*`` the counts up to ``trend_cut`` (4 school weeks earlier), for the change in rate.
    """

    # Every row is rewritten each night, so it carries only the indexes reads need: the
    # unique (enrolment, year) and the school-first ones below; the foreign keys' own indexes
    # would each be one more index to update per row.
    enrolment = models.ForeignKey(
        "schools.Enrolment", on_delete=models.CASCADE, related_name="attendance", db_index=False
    )
    pupil = models.ForeignKey(
        "schools.Pupil", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    period_start = models.DateField()
    period_end = models.DateField()
    as_of = models.DateField()
    computed_at = models.DateTimeField()
    run = models.ForeignKey(
        RecomputeRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # "From which marks": how many marks the counts read, and the sum of their versions (a
    # mark's version rises with every change), so any added or amended mark changes the pair.
    marks_counted = models.PositiveIntegerField(default=0)
    marks_versions = models.PositiveBigIntegerField(default=0)

    possible_sessions = models.PositiveIntegerField(default=0)
    present_sessions = models.PositiveIntegerField(default=0)
    aea_sessions = models.PositiveIntegerField(default=0)
    authorised_sessions = models.PositiveIntegerField(default=0)
    unauthorised_sessions = models.PositiveIntegerField(default=0)
    not_counted_sessions = models.PositiveIntegerField(default=0)
    late_sessions = models.PositiveIntegerField(default=0)
    late_minutes = models.PositiveIntegerField(default=0)
    u_sessions = models.PositiveIntegerField(default=0)
    u_minutes = models.PositiveIntegerField(default=0)
    code_counts = models.JSONField(default=dict)
    persistent_absence = models.BooleanField(default=False)
    severe_absence = models.BooleanField(default=False)
    band = models.ForeignKey(
        AttendanceBand,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    band_name = models.CharField(max_length=60, blank=True)

    trend_cut = models.DateField(null=True, blank=True)
    trend_possible = models.PositiveIntegerField(default=0)
    trend_attendance = models.PositiveIntegerField(default=0)

    pn_evaluated = models.BooleanField(default=False)
    pn_window_start = models.DateField(null=True, blank=True)
    pn_window_count = models.PositiveIntegerField(null=True, blank=True)
    pn_window_n = models.PositiveIntegerField(default=0)
    pn_threshold_met_on = models.DateField(null=True, blank=True)
    pn_threshold_met_session = models.CharField(
        max_length=2, choices=SessionChoice.choices, blank=True
    )
    pn_threshold_provisional = models.BooleanField(default=False)

    ten_day_run = models.PositiveIntegerField(default=0)
    ten_day_run_start = models.DateField(null=True, blank=True)
    ground_i_run = models.PositiveIntegerField(default=0)
    ground_i_run_start = models.DateField(null=True, blank=True)
    illness_run = models.PositiveIntegerField(default=0)
    illness_run_start = models.DateField(null=True, blank=True)
    illness_days = models.PositiveIntegerField(default=0)
    illness_sessions = models.PositiveIntegerField(default=0)
    illness_return_due = models.BooleanField(default=False)
    overdue_n = models.PositiveIntegerField(default=0)

    objects = SchoolScopedManager["EnrolmentAttendance"]()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "period_start"], name="enrolment_attendance_one_per_year"
            ),
        ]
        indexes = [
            models.Index(fields=["school", "period_start", "enrolment"]),
            models.Index(fields=["school", "pupil", "period_start"]),
        ]

    def __str__(self) -> str:
        return f"Enrolment {self.enrolment_id} {self.period_start}..{self.as_of}"


class AttendanceEvent(SchoolOwned):
    """A crossing the escalation queues act on, written once: ``key`` identifies the crossing
    within its enrolment and kind (the run's first day, the session of an overdue N, the date
    a flag changed), and the unique constraint makes a second write of it a no-op."""

    enrolment = models.ForeignKey(
        "schools.Enrolment", on_delete=models.CASCADE, related_name="attendance_events"
    )
    pupil = models.ForeignKey("schools.Pupil", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    key = models.CharField(max_length=60)
    occurred_on = models.DateField()
    session = models.CharField(max_length=2, choices=SessionChoice.choices, blank=True)
    detail = models.JSONField(default=dict)
    provisional = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    run = models.ForeignKey(
        RecomputeRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = SchoolScopedManager["AttendanceEvent"]()

    class Meta:
        ordering = ["-occurred_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "enrolment", "kind", "key"], name="attendance_event_once"
            ),
        ]
        indexes = [
            models.Index(fields=["school", "kind", "occurred_on"]),
            models.Index(fields=["school", "pupil", "occurred_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.occurred_on}"
