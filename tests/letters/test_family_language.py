"""The language a family gets letters in (English, Welsh or bilingual at a school that writes
in Welsh): the default on the pupil's Letters page, and what batches and case letters use."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from letters import services
from letters.models import FamilyLetterLanguage, LetterTemplate
from schools import models
from schools.scoping import school_scope
from tests import factories as f
from tests.letters.test_letters import PERIOD, TODAY, rw, stored_text  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def test_an_officer_sets_the_family_language_and_batch_letters_follow_it(rw, client):  # noqa: F811
    pupil = rw.pupils[-1]
    client.force_login(rw.officer.user)
    page = reverse(
        "letters:pupil-letters", kwargs={"school_slug": rw.school.slug, "pupil_id": pupil.pk}
    )
    language_url = reverse(
        "letters:pupil-letter-language",
        kwargs={"school_slug": rw.school.slug, "pupil_id": pupil.pk},
    )
    assert "Bilingual (Welsh first)" in client.get(page).content.decode()
    assert client.get(language_url).status_code == 405
    assert client.post(language_url, {"language": "bilingual"}).status_code == 302
    with school_scope(rw.school):
        assert FamilyLetterLanguage.objects.get(pupil=pupil).language == "bilingual"
        english = LetterTemplate.objects.get(key="termly_report", language="en")
        bilingual = LetterTemplate.objects.get(key="termly_report", language="bilingual")
    # The pupil page offers the family's language first.
    body = client.get(page).content.decode()
    selected = re.search(r'<option value="(\d+)" selected', body)
    assert selected is not None
    with school_scope(rw.school):
        assert LetterTemplate.objects.get(pk=int(selected[1])).language == "bilingual"
        assert bilingual.current is not None

    with school_scope(rw.school):
        from_batch = services.letter_generate(
            school=rw.school,
            pupil=pupil,
            template=english,
            period_start=PERIOD[0],
            period_end=PERIOD[1],
            created_by=None,
            source="batch",
            today=TODAY,
        )
        chosen = services.letter_generate(
            school=rw.school,
            pupil=pupil,
            template=english,
            period_start=PERIOD[0],
            period_end=PERIOD[1],
            created_by=rw.officer,
            today=TODAY,
        )
    assert from_batch.language == "bilingual"
    text = stored_text(from_batch)
    assert text.index("Annwyl") < text.index("Dear")
    # A letter someone picks by hand keeps the template they picked.
    assert chosen.language == "en"


def test_an_english_only_school_offers_no_choice_and_refuses_welsh(client):
    school = f.SchoolFactory()
    pupil = f.PupilFactory(school=school)
    officer = f.StaffMembershipFactory(school=school, role=models.Role.ATTENDANCE_OFFICER)
    with school_scope(school), pytest.raises(ValidationError):
        services.family_letter_language_set(
            school=school, pupil=pupil, language="cy", updated_by=officer
        )
