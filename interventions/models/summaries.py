"""Weekly summaries: sessions per category per enrolment per school week (issue 12 item 5).

Written only by ``interventions.summaries`` inside the recompute's transaction, from the same
grouped count of marks and the same code classification as the engine. Dashboards read only
these rows: integer columns, summed in SQL (never averaged percentages).
"""

from __future__ import annotations

from django.db import models

from schools.scoping import SchoolOwned, SchoolScopedManager


class WeeklySummary(SchoolOwned):
    """One enrolment's counted sessions in one week (``week_start`` is its Monday) of the
    academic year starting ``period_start``. ``code_counts`` holds every known code's sessions
    that week (for the code breakdown)."""

    enrolment = models.ForeignKey(
        "schools.Enrolment", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    pupil = models.ForeignKey(
        "schools.Pupil", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    period_start = models.DateField()
    week_start = models.DateField()
    possible_sessions = models.PositiveIntegerField(default=0)
    present_sessions = models.PositiveIntegerField(default=0)
    aea_sessions = models.PositiveIntegerField(default=0)
    authorised_sessions = models.PositiveIntegerField(default=0)
    unauthorised_sessions = models.PositiveIntegerField(default=0)
    not_counted_sessions = models.PositiveIntegerField(default=0)
    late_sessions = models.PositiveIntegerField(default=0)
    code_counts = models.JSONField(default=dict)

    objects = SchoolScopedManager["WeeklySummary"]()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "week_start"], name="weekly_summary_one_per_week"
            ),
        ]
        indexes = [
            models.Index(fields=["school", "period_start", "week_start"]),
            models.Index(fields=["school", "pupil", "week_start"]),
        ]

    def __str__(self) -> str:
        return f"Week of {self.week_start} for enrolment {self.enrolment_id}"


class SchoolRollup(SchoolOwned):
    """One school's sessions in one week (``week_start``, a Monday) of the academic year
    starting ``period_start``: its enrolments' weekly summaries summed. Written by
    ``interventions.summaries`` right after the summaries it sums, in the same transaction, so
    the trust dashboard reads a few rows a school instead of every enrolment's weeks."""

    period_start = models.DateField()
    week_start = models.DateField()
    possible_sessions = models.PositiveIntegerField(default=0)
    present_sessions = models.PositiveIntegerField(default=0)
    aea_sessions = models.PositiveIntegerField(default=0)
    authorised_sessions = models.PositiveIntegerField(default=0)
    unauthorised_sessions = models.PositiveIntegerField(default=0)

    objects = SchoolScopedManager["SchoolRollup"]()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["school", "period_start", "week_start"], name="school_rollup_one_per_week"
            ),
        ]

    def __str__(self) -> str:
        return f"Week of {self.week_start} for school {self.school_id}"


class SchoolYearRollup(SchoolOwned):
    """One school's year to date in the academic year starting ``period_start``: its
    enrolments' stored results (``EnrolmentAttendance``) summed, and how many of them have a
    possible session and are persistently or severely absent (their stored flags, decided by
    the engine on each enrolment's integers). Rewritten with ``SchoolRollup`` by
    ``interventions.summaries`` after the results, in the recompute's transaction, so the trust
    dashboard reads one row a school instead of every enrolment's result."""

    period_start = models.DateField()
    possible_sessions = models.PositiveIntegerField(default=0)
    present_sessions = models.PositiveIntegerField(default=0)
    aea_sessions = models.PositiveIntegerField(default=0)
    authorised_sessions = models.PositiveIntegerField(default=0)
    unauthorised_sessions = models.PositiveIntegerField(default=0)
    enrolments = models.PositiveIntegerField(default=0)  # with at least one possible session
    pa_enrolments = models.PositiveIntegerField(default=0)
    sa_enrolments = models.PositiveIntegerField(default=0)

    objects = SchoolScopedManager["SchoolYearRollup"]()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["school", "period_start"], name="school_year_rollup_one_per_year"
            ),
        ]

    def __str__(self) -> str:
        return f"Year from {self.period_start} for school {self.school_id}"
