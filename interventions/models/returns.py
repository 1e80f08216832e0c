"""Returns to the local authority (spec/regulations.md §6.2, §6.3): each with its due date,
a snapshot of its contents frozen when it was raised, and when and how it was sent."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from schools.scoping import SchoolOwned, SchoolScopedManager


class ReturnKind(models.TextChoices):
    TEN_DAY = "ten_day", _("Attendance return (10 school days)")
    GROUND_I = "ground_i", _("Ground (i) enquiry (20 school days)")
    SICKNESS = "sickness", _("Sickness return (15 school days)")
    NEW_PUPIL = "new_pupil", _("New pupil return")
    DELETION = "deletion", _("Deletion return")


class LAReturn(SchoolOwned):
    """One return. ``episode`` keeps it unique per pupil and kind: the triggering event's key,
    or the enrolment for new-pupil and deletion returns. A ground (i) enquiry blocks deletion
    under ground (i) until ``joint_enquiries`` are recorded."""

    pupil = models.ForeignKey("schools.Pupil", on_delete=models.PROTECT, related_name="+")
    enrolment = models.ForeignKey("schools.Enrolment", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=ReturnKind.choices)
    episode = models.CharField(max_length=80)
    event = models.ForeignKey(
        "interventions.AttendanceEvent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    triggered_on = models.DateField()
    due_on = models.DateField()
    snapshot = models.JSONField(default=dict)
    raised_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_how = models.CharField(max_length=200, blank=True)
    sent_by = models.ForeignKey(
        "schools.StaffMembership", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    joint_enquiries = models.TextField(blank=True)
    joint_enquiries_recorded_at = models.DateTimeField(null=True, blank=True)

    objects = SchoolScopedManager["LAReturn"]()

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "pupil", "kind", "episode"], name="la_return_once_per_episode"
            ),
        ]
        indexes = [models.Index(fields=["school", "kind", "due_on"])]
