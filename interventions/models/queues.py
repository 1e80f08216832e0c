"""The attendance officer's work queues (issue 10 part 1): one ``QueueItem`` per reason a
pupil needs attention, kept current by ``interventions.queues.queues_refresh``; the contact
log of first-day calls; and the per-school queue settings.

Nothing here is deleted: an item is opened once per cause (the unique source key), closed with
an outcome (``resolved`` when its cause went away), and each change of state is logged in
``QueueItemChange``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from schools.models import SessionChoice
from schools.scoping import SchoolOwned, SchoolScopedManager


class QueueKind(models.TextChoices):
    """What an item is; the values are the ``item`` words of ``export_queue``."""

    FIRST_DAY_AM = "first-day-am", _("First-day call (morning)")
    FIRST_DAY_PM = "first-day-pm", _("First-day call (afternoon)")
    REGISTER_NOT_TAKEN = "register-not-taken", _("Register not taken")
    UNRESOLVED_N = "unresolved-n", _("Unresolved N")
    BAND_CHANGED = "band-changed", _("Attendance band changed")
    PA_STARTED = "pa-started", _("Persistent absence started")
    SA_STARTED = "sa-started", _("Severe absence started")
    PN_THRESHOLD_MET = "pn-threshold-met", _("Penalty-notice threshold met")
    TEN_DAY_RETURN = "ten-day-return", _("10 days' continuous absence: return due")
    GROUND_I_ENQUIRY = "ground-i-enquiry", _("20 days' continuous absence: ground (i) enquiry")
    SICKNESS_RETURN = "sickness-return", _("Illness absence: sickness return due")
    NEW_PUPIL_RETURN = "new-pupil-return", _("New pupil return due")
    LATENESS = "lateness", _("Lateness")


class Queue(models.TextChoices):
    """The queues (tabs of the page, ``--queue`` of ``export_queue``)."""

    FIRST_DAY = "first-day", _("First-day calls")
    REGISTERS_NOT_TAKEN = "registers-not-taken", _("Registers not taken")
    UNRESOLVED_N = "unresolved-n", _("Unresolved N")
    BANDS = "bands", _("Bands and absence flags")
    PN_THRESHOLD = "pn-threshold", _("Penalty-notice threshold")
    CONTINUOUS_ABSENCE = "continuous-absence", _("Continuous absence and LA returns")
    LATENESS = "lateness", _("Lateness")


QUEUE_KINDS: dict[str, tuple[str, ...]] = {
    Queue.FIRST_DAY: (QueueKind.FIRST_DAY_AM, QueueKind.FIRST_DAY_PM),
    Queue.REGISTERS_NOT_TAKEN: (QueueKind.REGISTER_NOT_TAKEN,),
    Queue.UNRESOLVED_N: (QueueKind.UNRESOLVED_N,),
    Queue.BANDS: (QueueKind.BAND_CHANGED, QueueKind.PA_STARTED, QueueKind.SA_STARTED),
    Queue.PN_THRESHOLD: (QueueKind.PN_THRESHOLD_MET,),
    Queue.CONTINUOUS_ABSENCE: (
        QueueKind.TEN_DAY_RETURN,
        QueueKind.GROUND_I_ENQUIRY,
        QueueKind.SICKNESS_RETURN,
        QueueKind.NEW_PUPIL_RETURN,
    ),
    Queue.LATENESS: (QueueKind.LATENESS,),
}


class ItemState(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class PnDecision(models.TextChoices):
    """The recorded decision on a penalty-notice threshold met (spec/regulations.md §5.2)."""

    SUPPORT_FIRST = "support-first", _("Support first (open or advance a case)")
    NOTICE_TO_IMPROVE = "notice-to-improve", _("Notice to Improve")
    PENALTY_NOTICE = "penalty-notice", _("Request a penalty notice")
    NO_ACTION = "no-action", _("No action (with a reason)")


class QueueItem(SchoolOwned):
    """One reason a pupil (or a form's register) is in a queue. ``key`` identifies the cause
    within its kind and pupil (a session, the ledger event's key), so a refresh that finds the
    same cause again changes nothing."""

    kind = models.CharField(max_length=24, choices=QueueKind.choices)
    pupil = models.ForeignKey(
        "schools.Pupil", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    form = models.ForeignKey(
        "schools.FormGroup", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    key = models.CharField(max_length=80)
    session_date = models.DateField(null=True, blank=True)
    session = models.CharField(max_length=2, choices=SessionChoice.choices, blank=True)
    since = models.DateField()
    due = models.DateField(null=True, blank=True)
    source_event = models.ForeignKey(
        "interventions.AttendanceEvent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    details = models.JSONField(default=dict, blank=True)
    provisional = models.BooleanField(default=False)
    state = models.CharField(max_length=8, choices=ItemState.choices, default=ItemState.OPEN)
    opened_at = models.DateTimeField()
    claimed_by = models.ForeignKey(
        "schools.StaffMembership",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    snoozed_until = models.DateField(null=True, blank=True)
    snooze_reason = models.CharField(max_length=300, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        "schools.StaffMembership",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    outcome = models.CharField(max_length=40, blank=True)
    outcome_note = models.CharField(max_length=500, blank=True)
    decision = models.CharField(max_length=20, choices=PnDecision.choices, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True)
    decided_by = models.ForeignKey(
        "schools.StaffMembership",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # A case, notice or return this item led to (wired to casework when merged).
    reference = models.CharField(max_length=100, blank=True)

    objects = SchoolScopedManager["QueueItem"]()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["school", "kind", "pupil", "key"], name="queue_item_once_per_cause"
            ),
            models.UniqueConstraint(
                fields=["school", "kind", "form", "key"],
                condition=Q(pupil__isnull=True),
                name="queue_item_once_per_form_cause",
            ),
            models.CheckConstraint(
                condition=Q(pupil__isnull=False) | Q(form__isnull=False),
                name="queue_item_pupil_or_form",
            ),
        ]
        indexes = [
            models.Index(fields=["school", "state", "kind"]),
            models.Index(fields=["school", "kind", "since"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} since {self.since}"


class QueueItemChange(SchoolOwned):
    """One change of an item's state, by whom and when (the items' audit log)."""

    item = models.ForeignKey(QueueItem, on_delete=models.PROTECT, related_name="changes")
    action = models.CharField(max_length=20)
    detail = models.JSONField(default=dict, blank=True)
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        "schools.StaffMembership",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )

    objects = SchoolScopedManager["QueueItemChange"]()

    class Meta:
        ordering = ["changed_at", "pk"]
        indexes = [models.Index(fields=["school", "item", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.action} at {self.changed_at}"


class ContactMethod(models.TextChoices):
    PHONE = "phone", _("Phone")
    TEXT = "text", _("Text message")
    EMAIL = "email", _("Email")
    HOME_VISIT = "home-visit", _("Home visit")
    IN_PERSON = "in-person", _("In person")


class ContactOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no-answer", _("No answer")
    VOICEMAIL = "voicemail", _("Voicemail")
    WRONG_NUMBER = "wrong-number", _("Wrong number")
    REFUSED = "refused", _("Refused")


class ContactAttempt(SchoolOwned):
    """One attempt to reach a pupil's contact about an absence (a first-day item or a case)."""

    pupil = models.ForeignKey("schools.Pupil", on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(
        QueueItem, on_delete=models.PROTECT, related_name="contacts", null=True, blank=True
    )
    # The case whose contact log this belongs to (a call made from the case page).
    case = models.ForeignKey(
        "interventions.Case",
        on_delete=models.PROTECT,
        related_name="contact_attempts",
        null=True,
        blank=True,
    )
    method = models.CharField(max_length=12, choices=ContactMethod.choices)
    contact = models.ForeignKey(
        "schools.Contact", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    outcome = models.CharField(max_length=14, choices=ContactOutcome.choices)
    reason_given = models.CharField(max_length=300, blank=True)
    note = models.CharField(max_length=1000, blank=True)
    code_written = models.CharField(max_length=3, blank=True)
    made_at = models.DateTimeField()
    made_by = models.ForeignKey(
        "schools.StaffMembership", on_delete=models.PROTECT, related_name="+"
    )

    objects = SchoolScopedManager["ContactAttempt"]()

    class Meta:
        ordering = ["-made_at", "-pk"]
        indexes = [models.Index(fields=["school", "pupil", "made_at"])]

    def __str__(self) -> str:
        return f"{self.get_method_display()}: {self.get_outcome_display()}"


class QueueSettings(SchoolOwned):
    """A school's queue settings; a school without a row uses the defaults of issue 10."""

    # The vulnerability tiers' order of the first-day queue: the flags in order of priority.
    tier_order = models.JSONField(default=list, blank=True)
    lateness_threshold = models.PositiveSmallIntegerField(default=3)

    objects = SchoolScopedManager["QueueSettings"]()

    class Meta:
        verbose_name_plural = "queue settings"
        constraints = [
            models.UniqueConstraint(fields=["school"], name="queue_settings_one_per_school"),
        ]

    def __str__(self) -> str:
        return f"Queue settings for school {self.school_id}"
