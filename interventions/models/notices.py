"""Notices to Improve, penalty-notice requests and the penalty-notice ledger (§5.3, §5.4).

The amounts and dates are never stored: ``interventions.penalty_notices`` computes them from
a ledger row's sequence and dates whenever they are shown."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from interventions.penalty_notices import NoticeStatus, ProsecutionOutcome
from schools.scoping import SchoolOwned, SchoolScopedManager


class NoticeToImprove(SchoolOwned):
    """An NTI on a case: the eight contents of §5.3 (``penalty_notices.NTI_CONTENTS``), an
    improvement period of 15 to 30 school days and, after its end, the recorded outcome."""

    case = models.ForeignKey("interventions.Case", on_delete=models.PROTECT, related_name="ntis")
    attendance_record = models.TextField()
    benefits_and_duty = models.TextField()
    support_so_far = models.TextField()
    further_support = models.TextField()
    warning = models.TextField()
    improvement_period = models.TextField()
    sufficient_improvement = models.TextField()
    early_issue_grounds = models.TextField()
    issued_on = models.DateField()
    period_start = models.DateField()
    school_days = models.PositiveSmallIntegerField()
    period_end = models.DateField()
    criteria_rate = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        help_text=_("The attendance percentage over the period that counts as sufficient."),
    )
    issued_by = models.ForeignKey(
        "schools.StaffMembership", on_delete=models.PROTECT, related_name="+"
    )
    outcome_improved = models.BooleanField(null=True, blank=True)
    outcome_note = models.TextField(blank=True)
    outcome_rate = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    outcome_recorded_at = models.DateTimeField(null=True, blank=True)

    objects = SchoolScopedManager["NoticeToImprove"]()

    class Meta:
        ordering = ["-issued_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(school_days__gte=15) & Q(school_days__lte=30),
                name="nti_period_15_to_30_school_days",
            ),
        ]


class RequestStatus(models.TextChoices):
    PREPARED = "prepared", _("Prepared")
    SIGNED_OFF = "signed_off", _("Signed off by the headteacher")
    SENT = "sent", _("Sent to the local authority")
    CANCELLED = "cancelled", _("Cancelled")


class PenaltyNoticeRequest(SchoolOwned):
    """A request to the LA for a penalty notice to one liable parent, with its evidence pack
    (a frozen snapshot), the officer's confirmation of the parent and the head's sign-off."""

    case = models.ForeignKey(
        "interventions.Case", on_delete=models.PROTECT, related_name="pn_requests"
    )
    pupil = models.ForeignKey("schools.Pupil", on_delete=models.PROTECT, related_name="+")
    parent = models.ForeignKey("schools.Contact", on_delete=models.PROTECT, related_name="+")
    nti = models.ForeignKey(
        NoticeToImprove, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=RequestStatus.choices, default=RequestStatus.PREPARED
    )
    prepared_by = models.ForeignKey(
        "schools.StaffMembership", on_delete=models.PROTECT, related_name="+"
    )
    prepared_at = models.DateTimeField()
    signed_off_by = models.ForeignKey(
        "schools.StaffMembership", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    evidence = models.JSONField(default=dict)

    objects = SchoolScopedManager["PenaltyNoticeRequest"]()

    class Meta:
        ordering = ["-prepared_at"]
        indexes = [models.Index(fields=["school", "pupil", "parent"])]


class PenaltyNotice(SchoolOwned):
    """One row of the ledger per parent per child: a notice and what became of it."""

    pupil = models.ForeignKey("schools.Pupil", on_delete=models.PROTECT, related_name="+")
    parent = models.ForeignKey("schools.Contact", on_delete=models.PROTECT, related_name="+")
    request = models.OneToOneField(
        PenaltyNoticeRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notice",
    )
    sequence = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(
        max_length=12,
        choices=[(s.value, s.value.replace("_", " ").capitalize()) for s in NoticeStatus],
        default=NoticeStatus.REQUESTED.value,
    )
    issued_on = models.DateField(null=True, blank=True)
    received_on = models.DateField(null=True, blank=True)
    paid_on = models.DateField(null=True, blank=True)
    prosecution_outcome = models.CharField(
        max_length=16,
        choices=[(s.value, s.value.replace("_", " ").capitalize()) for s in ProsecutionOutcome],
        blank=True,
    )
    note = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField()

    objects = SchoolScopedManager["PenaltyNotice"]()

    class Meta:
        ordering = ["issued_on", "pk"]
        indexes = [models.Index(fields=["school", "pupil", "parent"])]
