"""Letters from a case or a queue item: made from the case page or the item's letter page,
stating the case's NTI, and recorded on the case (a done "letter" action) or the item."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from interventions import casework as intervention_casework
from interventions.models import ActionKind, CaseAction, QueueItem, QueueItemChange
from interventions.penalty_notices import NTI_CONTENTS
from letters import services
from letters.models import Letter, LetterTemplate
from schools.scoping import school_scope
from tests.letters.test_letters import rw, stored_text  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def open_case(world, *, with_nti: bool):
    pupil = world.pupils[-1]
    with school_scope(world.school):
        case = intervention_casework.case_open_or_advance(
            school=world.school, pupil=pupil, by=world.officer, reason="Concern"
        )
        if with_nti:
            contents = {name: f"NTI {n}: {name}" for n, (name, _w) in enumerate(NTI_CONTENTS, 1)}
            intervention_casework.nti_issue(
                school=world.school,
                case=case,
                by=world.officer,
                contents=contents,
                period_start=dt.date(2024, 10, 21),
                school_days=20,
                criteria_rate=Decimal(90),
                issued_on=dt.date(2024, 10, 18),
            )
    return case


def test_a_notice_to_improve_from_the_case_page_states_the_nti_and_shows_on_the_case(
    rw,  # noqa: F811
    client,
    django_capture_on_commit_callbacks,
):
    case = open_case(rw, with_nti=True)
    client.force_login(rw.officer.user)
    case_url = reverse(
        "interventions:case-detail", kwargs={"school_slug": rw.school.slug, "case_id": case.pk}
    )
    page = client.get(case_url).content.decode()
    assert "Generate letter" in page
    with school_scope(rw.school):
        template = LetterTemplate.objects.get(key="notice_to_improve", language="en")
    post_url = reverse(
        "letters:case-letter", kwargs={"school_slug": rw.school.slug, "case_id": case.pk}
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(post_url, {"template": template.pk})
    assert response.status_code == 302
    assert response["Location"] == case_url
    with school_scope(rw.school):
        letter = Letter.objects.get(case_id=case.pk)
        action = CaseAction.objects.get(case=case, kind=ActionKind.LETTER)
    assert letter.source == "case"
    assert action.letter_id == letter.pk
    assert action.done_on is not None
    assert action.summary == "Notice to Improve"
    text = stored_text(letter)
    assert "NTI 6: improvement_period" not in text  # the period is stated as dates
    assert "NTI 7: sufficient_improvement" in text
    assert "NTI 8: early_issue_grounds" in text
    assert "NTI 1: attendance_record" in text
    assert letter.snapshot["nti.period_start"] == "2024-10-21"
    # The case page lists the letter, linked to its PDF.
    page = client.get(case_url).content.decode()
    assert (
        reverse(
            "letters:letter-pdf", kwargs={"school_slug": rw.school.slug, "letter_id": letter.pk}
        )
        in page
    )


def test_a_letter_needing_an_nti_on_a_case_without_one_is_refused_with_the_field_named(
    rw,  # noqa: F811
    client,
):
    case = open_case(rw, with_nti=False)
    client.force_login(rw.officer.user)
    with school_scope(rw.school):
        services.letter_templates_install_defaults(school=rw.school)
        template = LetterTemplate.objects.get(key="notice_to_improve", language="en")
    url = reverse("letters:case-letter", kwargs={"school_slug": rw.school.slug, "case_id": case.pk})
    response = client.post(url, {"template": template.pk}, follow=True)
    assert "record one on the case first" in response.content.decode()
    with school_scope(rw.school):
        assert not Letter.objects.filter(case_id=case.pk).exists()


def test_a_letter_from_a_queue_item_is_recorded_on_the_item(
    rw,  # noqa: F811
    client,
    django_capture_on_commit_callbacks,
):
    with school_scope(rw.school):
        item = QueueItem.objects.create(
            school=rw.school,
            kind="unresolved-n",
            pupil=rw.pupils[-1],
            key="2024-10-14-AM",
            since=dt.date(2024, 10, 14),
            opened_at=timezone.now(),
        )
    client.force_login(rw.officer.user)
    url = reverse(
        "letters:queue-item-letter", kwargs={"school_slug": rw.school.slug, "item_id": item.pk}
    )
    assert client.get(url).status_code == 200
    with school_scope(rw.school):
        template = LetterTemplate.objects.get(key="first_day_no_contact", language="cy")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"template": template.pk})
    assert response.status_code == 302
    with school_scope(rw.school):
        letter = Letter.objects.get(queue_item_id=item.pk)
        change = QueueItemChange.objects.get(item=item, action="letter")
    assert change.detail == {"letter_id": letter.pk, "title": template.title}
    assert change.changed_by == rw.officer
    assert "Ŵyn" in stored_text(letter)
