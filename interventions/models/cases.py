"""Casework: each school's ordered case stages, cases (one open per pupil), the stage history
and the actions taken (issue 10 item 2). Written only by ``interventions.casework``."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from schools.scoping import SchoolOwned, SchoolScopedManager


class CaseStage(SchoolOwned):
    """One stage of a school's own ordered list (``position`` 0 first)."""

    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=120)

    objects = SchoolScopedManager["CaseStage"]()

    class Meta:
        ordering = ["school", "position"]
        constraints = [
            models.UniqueConstraint(fields=["school", "position"], name="case_stage_position"),
        ]

    def __str__(self) -> str:
        return self.name


class TriggerKind(models.TextChoices):
    EVENT = "event", _("An attendance event")
    PERSON = "person", _("A member of staff")


class Case(SchoolOwned):
    """A pupil's attendance case. At most one open case per pupil; closed cases are kept."""

    pupil = models.ForeignKey("schools.Pupil", on_delete=models.PROTECT, related_name="cases")
    stage = models.ForeignKey(CaseStage, on_delete=models.PROTECT, related_name="cases")
    owner = models.ForeignKey(
        "schools.StaffMembership", on_delete=models.PROTECT, related_name="owned_cases"
    )
    trigger_kind = models.CharField(max_length=8, choices=TriggerKind.choices)
    trigger_event = models.ForeignKey(
        "interventions.AttendanceEvent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    trigger_note = models.CharField(max_length=500, blank=True)
    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(
        "schools.StaffMembership", on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        "schools.StaffMembership", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=500, blank=True)

    objects = SchoolScopedManager["Case"]()

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "pupil"],
                condition=Q(closed_at__isnull=True),
                name="case_one_open_per_pupil",
            ),
        ]
        indexes = [models.Index(fields=["school", "pupil", "opened_at"])]

    def __str__(self) -> str:
        return f"Case {self.pk} ({self.stage})"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class CaseStageChange(SchoolOwned):
    """Who moved a case from which stage to which, when and why (the first row opens it)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(
        CaseStage, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_stage = models.ForeignKey(CaseStage, on_delete=models.PROTECT, related_name="+")
    changed_by = models.ForeignKey(
        "schools.StaffMembership", on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField()
    reason = models.CharField(max_length=500)

    objects = SchoolScopedManager["CaseStageChange"]()

    class Meta:
        ordering = ["changed_at", "pk"]
        indexes = [models.Index(fields=["school", "case", "changed_at"])]


class ActionKind(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    HOME_VISIT = "home_visit", _("Home visit")
    ATTENDANCE_PLAN = "attendance_plan", _("Attendance plan")
    PSP = "psp", _("Pastoral support programme")
    CONTRACT = "contract", _("Attendance contract")
    REFERRAL = "referral", _("Referral")
    LETTER = "letter", _("Letter")  # recorded by letters when one is made from the case


class ReferralTo(models.TextChoices):
    EWS = "ews", _("Education welfare service")
    EARLY_HELP = "early_help", _("Early help")
    SOCIAL_CARE = "social_care", _("Children's social care")
    SCHOOL_NURSE = "school_nurse", _("School nurse")
    CAMHS = "camhs", _("CAMHS")
    YOUTH_JUSTICE = "youth_justice", _("Youth justice")


class ReferralStatus(models.TextChoices):
    MADE = "made", _("Made")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    CLOSED = "closed", _("Closed")


class CaseAction(SchoolOwned):
    """One action on a case. ``details`` holds the kind's own fields: a meeting's
    ``attendees``/``barriers``/``agreed``; a plan's ``targets`` and ``review_on``."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(max_length=16, choices=ActionKind.choices)
    summary = models.CharField(max_length=300)
    owner = models.ForeignKey("schools.StaffMembership", on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField()
    done_on = models.DateField(null=True, blank=True)
    outcome = models.TextField(blank=True)
    referral_to = models.CharField(max_length=16, choices=ReferralTo.choices, blank=True)
    referral_status = models.CharField(max_length=10, choices=ReferralStatus.choices, blank=True)
    details = models.JSONField(default=dict, blank=True)
    # The letter a "letter" action records: a plain id, as letters sit above casework.
    letter_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()

    objects = SchoolScopedManager["CaseAction"]()

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["school", "done_on", "due_on"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="referral") | ~Q(referral_to=""),
                name="case_action_referral_has_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.summary}"
