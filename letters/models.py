"""Letters: school templates with an immutable version history, the school's letterhead, and
letters as immutable documents (a JSON snapshot of the facts they state, the template version
they used, the PDF and its SHA-256), plus one row per email sent so a letter is emailed to a
parent at most once (security.md Q-01)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from schools.scoping import SchoolOwned, SchoolScopedManager


class LetterLanguage(models.TextChoices):
    ENGLISH = "en", _("English")
    WELSH = "cy", _("Welsh")
    BILINGUAL = "bilingual", _("Bilingual (Welsh first)")


class LetterTemplate(SchoolOwned):
    """One of a school's letters (``key``, e.g. ``attendance_concern_1``) in one language. The
    text lives in ``LetterTemplateVersion`` rows; ``current`` is the one new letters use."""

    key = models.CharField(max_length=60)
    language = models.CharField(max_length=10, choices=LetterLanguage.choices)
    title = models.CharField(max_length=200)
    current = models.ForeignKey(
        "letters.LetterTemplateVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = SchoolScopedManager["LetterTemplate"]()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["school", "key", "language"], name="letter_template_unique_key_language"
            ),
        ]
        indexes = [models.Index(fields=["school", "key"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.language})"


class LetterTemplateVersion(SchoolOwned):
    """An immutable text of a template: editing a template adds a version, never changes one,
    so a sent letter keeps the exact text it was rendered from."""

    template = models.ForeignKey(LetterTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    body = models.TextField()
    created_by = models.ForeignKey(
        "schools.StaffMembership",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )  # None: the default text installed for the school
    created_at = models.DateTimeField()

    objects = SchoolScopedManager["LetterTemplateVersion"]()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["template", "number"], name="letter_template_version_unique_number"
            ),
        ]
        indexes = [models.Index(fields=["school", "template", "number"])]

    def __str__(self) -> str:
        return f"{self.template} v{self.number}"


class Letterhead(SchoolOwned):
    """The school's letterhead: logo, address and who signs. Images are on the storage API and
    are read only by the renderer (embedded as data: URLs), never served from MEDIA_URL."""

    address = models.TextField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    signatory_name = models.CharField(max_length=200, blank=True)
    signatory_role = models.CharField(max_length=200, blank=True)
    logo = models.FileField(upload_to="letterheads/", blank=True)
    signature = models.FileField(upload_to="letterheads/", blank=True)
    # Where a referral to the local authority goes: its attendance team and postal address.
    la_team = models.CharField(max_length=200, blank=True)
    la_address = models.TextField(blank=True)

    objects = SchoolScopedManager["Letterhead"]()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school"], name="letterhead_one_per_school"),
        ]


class FamilyLetterLanguage(SchoolOwned):
    """The language a family's letters come in at a school that writes in Welsh (English,
    Welsh or bilingual). The default when a letter, a batch item or a case letter is made for
    the pupil; a pupil without a row gets the language of the template chosen."""

    pupil = models.OneToOneField(
        "schools.Pupil", on_delete=models.CASCADE, related_name="letter_language"
    )
    language = models.CharField(max_length=10, choices=LetterLanguage.choices)
    updated_by = models.ForeignKey(
        "schools.StaffMembership", on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField()

    objects = SchoolScopedManager["FamilyLetterLanguage"]()

    class Meta:
        indexes = [models.Index(fields=["school", "pupil"])]


class LetterStatus(models.TextChoices):
    GENERATED = "generated", _("Generated")
    SENT = "sent", _("Sent")
    PRINTED = "printed", _("Printed")
    FAILED = "failed", _("Failed")


class Letter(SchoolOwned):
    """One letter to one pupil's family. ``snapshot`` holds every fact the letter states (the
    merge values), taken when it is generated; re-rendering the snapshot with
    ``template_version`` gives the same text. ``case_id``/``queue_item_id`` are plain integers
    (not foreign keys) so letters need not import casework; the case module resolves them."""

    pupil = models.ForeignKey("schools.Pupil", on_delete=models.PROTECT, related_name="letters")
    template_version = models.ForeignKey(
        LetterTemplateVersion, on_delete=models.PROTECT, related_name="letters"
    )
    language = models.CharField(max_length=10, choices=LetterLanguage.choices)
    snapshot = models.JSONField()
    pdf = models.FileField(upload_to="letters/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=10, choices=LetterStatus.choices, default=LetterStatus.GENERATED
    )
    contacts = models.ManyToManyField("schools.Contact", related_name="+", blank=True)
    source = models.CharField(max_length=20, blank=True)  # "", "case", "queue_item", "batch"
    case_id = models.PositiveBigIntegerField(null=True, blank=True)
    queue_item_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        "schools.StaffMembership",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField()

    objects = SchoolScopedManager["Letter"]()

    class Meta:
        indexes = [
            models.Index(fields=["school", "pupil", "created_at"]),
            models.Index(fields=["school", "case_id"]),
        ]

    def __str__(self) -> str:
        return f"Letter {self.pk} ({self.template_version})"


class DeliveryStatus(models.TextChoices):
    CLAIMED = "claimed", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class EmailDelivery(SchoolOwned):
    """One email of one letter to one contact. The row is claimed (inserted) before sending
    and unique per letter and contact, so a retried task never emails a parent twice."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="deliveries")
    contact = models.ForeignKey("schools.Contact", on_delete=models.PROTECT, related_name="+")
    address = models.EmailField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices)
    error = models.CharField(max_length=300, blank=True)
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = SchoolScopedManager["EmailDelivery"]()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["letter", "contact"], name="email_delivery_once_per_contact"
            ),
        ]
        indexes = [models.Index(fields=["school", "status", "claimed_at"])]


class BatchStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class LetterBatch(SchoolOwned):
    """One template sent to many pupils (a queue, a filtered list, a year group). Work is one
    task per chunk of ``LetterBatchItem`` rows; the merged PDF (each letter padded to an even
    page count, for duplex printing) is stored when the last item is done."""

    template = models.ForeignKey(LetterTemplate, on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(
        max_length=10, choices=BatchStatus.choices, default=BatchStatus.RUNNING
    )
    merged_pdf = models.FileField(upload_to="letter-batches/", blank=True)
    created_by = models.ForeignKey(
        "schools.StaffMembership", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # Who the letters went to, as the "New batch" page described the choice (for the page).
    selection = models.CharField(max_length=200, blank=True)
    # The individual PDFs, one zip (stored letters, uncompressed: PDFs are compressed already).
    letters_zip = models.FileField(upload_to="letter-batches/", blank=True)

    objects = SchoolScopedManager["LetterBatch"]()

    class Meta:
        indexes = [models.Index(fields=["school", "created_at"])]


class LetterBatchChunk(SchoolOwned):
    """One Celery task's share of a batch. A worker leases it (``leased_until``) before
    working and extends the lease after each letter (the heartbeat); a worker that dies stops
    extending it, and ``letters.batch_resume_stalled`` (beat) dispatches the chunk again once
    the lease has expired. Items already done are skipped, so nothing is made twice."""

    batch = models.ForeignKey(LetterBatch, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    dispatched_at = models.DateTimeField(null=True, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The chunk's letters as one part of the batch's print file (``letters.pdf_merge``),
    # written by the chunk's worker so the last worker only joins the parts; deleted then.
    print_part = models.FileField(upload_to="letter-batches/parts/", blank=True)

    objects = SchoolScopedManager["LetterBatchChunk"]()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "number"], name="letter_batch_chunk_unique"),
        ]
        # The beat's cross-school look for expired leases (one column: not a tenant read).
        indexes = [models.Index(fields=["leased_until"])]


class ItemState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class LetterBatchItem(SchoolOwned):
    """One pupil of a batch. Unique per batch and pupil, and its letter is created in the
    same transaction that marks it done, so a chunk re-run after a worker died skips it."""

    batch = models.ForeignKey(LetterBatch, on_delete=models.CASCADE, related_name="items")
    chunk = models.ForeignKey(
        LetterBatchChunk, on_delete=models.CASCADE, null=True, blank=True, related_name="items"
    )
    pupil = models.ForeignKey("schools.Pupil", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=ItemState.choices, default=ItemState.PENDING)
    letter = models.OneToOneField(
        Letter, on_delete=models.PROTECT, null=True, blank=True, related_name="batch_item"
    )
    error = models.CharField(max_length=300, blank=True)

    objects = SchoolScopedManager["LetterBatchItem"]()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "pupil"], name="letter_batch_item_unique"),
        ]
        indexes = [models.Index(fields=["school", "batch", "state"])]


__all__ = [
    "BatchStatus",
    "DeliveryStatus",
    "EmailDelivery",
    "FamilyLetterLanguage",
    "ItemState",
    "Letter",
    "LetterBatch",
    "LetterBatchChunk",
    "LetterBatchItem",
    "LetterLanguage",
    "LetterStatus",
    "LetterTemplate",
    "LetterTemplateVersion",
    "Letterhead",
]
