"""Reads of letters, shared by views, tasks and tests."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from letters.models import Letter, LetterBatch, LetterStatus, LetterTemplate
from schools.models import Pupil, School


def letter_get(*, school: School, letter_id: int) -> Letter:
    """``school``'s letter ``letter_id``; ``Http404`` if missing or another school's."""
    letter = (
        Letter.objects.filter(school=school, pk=letter_id)
        .select_related("template_version__template", "pupil")
        .first()
    )
    if letter is None:
        raise Http404("No such letter")
    return letter


def pupil_letters(*, school: School, pupil: Pupil) -> QuerySet[Letter]:
    """``pupil``'s letters, newest first (the pupil page and the case timeline)."""
    return (
        Letter.objects.filter(school=school, pupil=pupil)
        .select_related("template_version__template")
        .order_by("-created_at", "-pk")
    )


def case_letters(*, school: School, case_id: int) -> QuerySet[Letter]:
    """The letters generated from case ``case_id``, oldest first (the case timeline)."""
    return (
        Letter.objects.filter(school=school, case_id=case_id)
        .select_related("template_version__template")
        .order_by("created_at", "pk")
    )


def letter_templates(*, school: School) -> QuerySet[LetterTemplate]:
    return (
        LetterTemplate.objects.filter(school=school)
        .select_related("current")
        .order_by("key", "language")
    )


def letter_template_get(*, school: School, template_id: int) -> LetterTemplate:
    template = (
        LetterTemplate.objects.filter(school=school, pk=template_id)
        .select_related("current")
        .first()
    )
    if template is None:
        raise Http404("No such template")
    return template


def letter_batch_get(*, school: School, batch_id: int) -> LetterBatch:
    batch = LetterBatch.objects.filter(school=school, pk=batch_id).first()
    if batch is None:
        raise Http404("No such batch")
    return batch


PRINT_PILE_LIMIT = 500  # one merged PDF a printer takes in one go; the rest follow next time


def print_pile(*, school: School) -> QuerySet[Letter]:
    """Letters that go by post and are not printed yet, oldest first: generated (neither
    emailed nor printed) and addressed to nobody with an email address. A letter whose email
    failed stays on the outbox for staff to decide. A letter whose PDF retention erased is
    not printable and is left out."""
    return (
        Letter.objects.filter(school=school, status=LetterStatus.GENERATED)
        .exclude(contacts__email__gt="")
        .exclude(pdf="")  # erased by retention: nothing left to print
        .select_related("pupil", "template_version__template")
        .order_by("created_at", "pk")
    )
