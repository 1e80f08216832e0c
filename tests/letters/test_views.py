from __future__ import annotations

import pytest
from django.urls import reverse

from letters.models import LetterTemplate
from schools.scoping import school_scope
from tests.letters.test_letters import rw  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def test_the_editor_previews_on_a_pupil_and_names_the_line_of_an_unknown_field(rw, client):  # noqa: F811
    client.force_login(rw.head.user)
    listing = client.get(reverse("letters:templates", kwargs={"school_slug": rw.school.slug}))
    assert listing.status_code == 200
    with school_scope(rw.school):
        template = LetterTemplate.objects.get(key="attendance_concern_1", language="en")
    url = reverse(
        "letters:template-edit",
        kwargs={"school_slug": rw.school.slug, "template_id": template.pk},
    )
    page = client.get(url).content.decode()
    assert "Preview on a pupil" in page
    assert "srcdoc=" in page
    assert "sandbox" in page

    bad = "<p>Dear {{ addressee.name }},</p>\n<p>{{ pupil.shoesize }}</p>"
    response = client.post(url, {"body": bad, "action": "save"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "Line 2" in body
    assert "pupil.shoesize" in body
    with school_scope(rw.school):
        assert template.versions.count() == 1

    saved = client.post(url, {"body": "<p>Dear {{ addressee.name }}</p>", "action": "save"})
    assert saved.status_code == 302
    with school_scope(rw.school):
        assert template.versions.count() == 2


def test_an_officer_makes_a_letter_from_the_pupil_page_and_reads_its_pdf(rw, client):  # noqa: F811
    client.force_login(rw.officer.user)
    url = reverse(
        "letters:pupil-letters",
        kwargs={"school_slug": rw.school.slug, "pupil_id": rw.pupils[-1].pk},
    )
    assert client.get(url).status_code == 200
    with school_scope(rw.school):
        template = LetterTemplate.objects.get(key="termly_report", language="cy")
    response = client.post(url, {"template": template.pk})
    assert response.status_code == 302
    pdf = client.get(response["Location"])
    assert pdf["Content-Type"] == "application/pdf"
