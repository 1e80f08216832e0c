"""Letters made from an attendance case or a queue item, and the record they leave there.

Letters sit above casework (tests/test_layering.py): this module reads cases, NTIs and queue
items and writes the case's "letter" action or the queue item's change; casework never imports
letters. The record is written by a ``letters.hooks.on_letter_generated`` hook (registered in
``LettersConfig.ready``), so every path that makes a letter from a case (this page, a future
batch from a queue) leaves it, after the letter is committed."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from interventions.models import (
    ActionKind,
    Case,
    CaseAction,
    NoticeToImprove,
    QueueItem,
    QueueItemChange,
)
from interventions.selectors import academic_period_for
from letters import hooks
from letters.defaults import NEEDS_NTI
from letters.models import Letter, LetterTemplate
from letters.services import letter_generate
from schools.models import School, StaffMembership
from schools.scoping import school_scope

QUEUE_ITEM_LETTER_ACTION = "letter"


def case_letter_values(*, school: School, case: Case) -> dict[str, object]:
    """What a letter from ``case`` states beyond the attendance figures: the case's stage and,
    if the case has a Notice to Improve, its eight contents and improvement period (the
    latest NTI's)."""
    values: dict[str, object] = {"case.stage": case.stage.name}
    nti = NoticeToImprove.objects.filter(school=school, case=case).order_by("-issued_on", "-pk")
    latest = nti.first()
    if latest is not None:
        values |= {
            "nti.attendance_record": latest.attendance_record,
            "nti.benefits_and_duty": latest.benefits_and_duty,
            "nti.support_so_far": latest.support_so_far,
            "nti.further_support": latest.further_support,
            "nti.warning": latest.warning,
            "nti.period_start": latest.period_start,
            "nti.period_end": latest.period_end,
            "nti.improvement_expected": latest.sufficient_improvement,
            "nti.grounds_before_end": latest.early_issue_grounds,
        }
    return values


def _needs_nti_check(template: LetterTemplate, values: dict[str, object]) -> None:
    if template.key in NEEDS_NTI and "nti.attendance_record" not in values:
        raise ValidationError(
            _("This letter states a Notice to Improve: record one on the case first.")
        )


def _period(school: School, today: dt.date) -> tuple[dt.date, dt.date]:
    start, _end = academic_period_for(school=school, on=today)
    return start, today


def case_letter_generate(
    *, school: School, case: Case, template: LetterTemplate, created_by: StaffMembership
) -> Letter:
    """A letter from ``template`` to the family of ``case``'s pupil, stating the year so far,
    the case stage and its NTI; in the family's language. The case's "letter" action is
    recorded after commit. Raises ``ValidationError`` (another school's case, no permission)
    or ``TemplateProblemError`` (the template needs a value this case has not, e.g. an NTI)."""
    if case.school_id != school.pk:
        raise ValidationError(_("This case belongs to another school."))
    values = case_letter_values(school=school, case=case)
    _needs_nti_check(template, values)
    start, end = _period(school, timezone.localdate())
    return letter_generate(
        school=school,
        pupil=case.pupil,
        template=template,
        period_start=start,
        period_end=end,
        created_by=created_by,
        extra=values,
        source="case",
        case_id=case.pk,
    )


def queue_item_letter_generate(
    *, school: School, item: QueueItem, template: LetterTemplate, created_by: StaffMembership
) -> Letter:
    """A letter from ``template`` to the family of ``item``'s pupil (the year so far; the
    open case's stage and NTI if the pupil has one), recorded on the item after commit."""
    if item.school_id != school.pk or item.pupil is None:
        raise ValidationError(_("This queue item has no pupil to write to."))
    case = Case.objects.filter(school=school, pupil=item.pupil, closed_at__isnull=True).first()
    values = case_letter_values(school=school, case=case) if case else {}
    _needs_nti_check(template, values)
    start, end = _period(school, timezone.localdate())
    return letter_generate(
        school=school,
        pupil=item.pupil,
        template=template,
        period_start=start,
        period_end=end,
        created_by=created_by,
        extra=values,
        source="queue_item",
        queue_item_id=item.pk,
    )


@hooks.on_letter_generated
def letter_record_on_casework(letter: Letter) -> None:
    """The trace a letter leaves on the case or queue item it was made from: a done "letter"
    action on the case (owner: who made it, else the case owner), a "letter" change on the
    queue item. Runs after the letter is committed."""
    if letter.case_id is None and letter.queue_item_id is None:
        return
    school = School.objects.get(pk=letter.school_id)
    with school_scope(school):
        title = letter.template_version.template.title
        day = timezone.localdate(letter.created_at)
        if letter.case_id is not None:
            case = Case.objects.filter(school=school, pk=letter.case_id).first()
            if case is not None:
                CaseAction.objects.create(
                    school=school,
                    case=case,
                    kind=ActionKind.LETTER,
                    summary=title[:300],
                    owner=letter.created_by or case.owner,
                    due_on=day,
                    done_on=day,
                    letter_id=letter.pk,
                    created_at=timezone.now(),
                )
        if letter.queue_item_id is not None:
            item = QueueItem.objects.filter(school=school, pk=letter.queue_item_id).first()
            if item is not None:
                QueueItemChange.objects.create(
                    school=school,
                    item=item,
                    action=QUEUE_ITEM_LETTER_ACTION,
                    detail={"letter_id": letter.pk, "title": title},
                    changed_at=timezone.now(),
                    changed_by=letter.created_by,
                )
