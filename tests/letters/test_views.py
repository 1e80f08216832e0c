from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from letters import selectors, services
from letters.models import EmailDelivery, Letter, LetterTemplate
from schools.retention import erase
from schools.scoping import school_scope
from tests.letters.test_letters import PERIOD, rw  # noqa: F401 (the fixture)

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
    # security PDF-05: a download, never shown inline, never cached
    assert pdf["Content-Disposition"].startswith("attachment;")
    assert "no-store" in pdf["Cache-Control"]


def test_a_letter_whose_pdf_retention_erased_says_so_instead_of_no_pdf_yet(rw, client):  # noqa: F811
    client.force_login(rw.officer.user)
    pupil = rw.pupils[-1]
    page = reverse(
        "letters:pupil-letters", kwargs={"school_slug": rw.school.slug, "pupil_id": pupil.pk}
    )
    assert client.get(page).status_code == 200  # the school's default templates are made
    with school_scope(rw.school):
        template = LetterTemplate.objects.filter(key="termly_report").order_by("pk").first()
    client.post(page, {"template": template.pk})
    with school_scope(rw.school):
        letter = Letter.objects.get(school=rw.school, pupil=pupil)
        # What the nightly retention rule leaves (letters.retention): the row and its hash.
        erase(Letter.objects.filter(pk=letter.pk), {"snapshot": {}, "pdf": ""})
    pdf_url = reverse(
        "letters:letter-pdf", kwargs={"school_slug": rw.school.slug, "letter_id": letter.pk}
    )

    response = client.get(pdf_url)
    assert response.status_code == 410
    body = response.content.decode()
    assert "were deleted under the school" in body
    assert letter.sha256 in body
    listing = client.get(page).content.decode()
    assert "PDF deleted under the retention policy" in listing
    assert pdf_url not in listing
    send = reverse(
        "letters:letter-send", kwargs={"school_slug": rw.school.slug, "letter_id": letter.pk}
    )
    refused = client.post(send, follow=True)
    assert "deleted under the retention policy" in refused.content.decode()
    with school_scope(rw.school):
        assert not EmailDelivery.objects.filter(letter=letter).exists()
        assert letter not in selectors.print_pile(school=rw.school)


def test_an_erased_letters_page_is_in_welsh_for_a_welsh_speaker(rw, client):  # noqa: F811
    client.force_login(rw.officer.user)
    with school_scope(rw.school):
        pupil = rw.pupils[-1]
        services.letter_templates_install_defaults(school=rw.school)
        template = LetterTemplate.objects.filter(key="termly_report").order_by("pk").first()
        assert template is not None
        letter = services.letter_generate(
            school=rw.school,
            pupil=pupil,
            template=template,
            period_start=PERIOD[0],
            period_end=PERIOD[1],
            created_by=rw.officer,
        )
        erase(Letter.objects.filter(pk=letter.pk), {"snapshot": {}, "pdf": ""})
    url = reverse(
        "letters:letter-pdf", kwargs={"school_slug": rw.school.slug, "letter_id": letter.pk}
    )
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "cy"
    response = client.get(url)
    assert response.status_code == 410
    assert "dileu o dan bolisi cadw" in response.content.decode()
