"""The print pile: letters to families without an email address, not printed yet; one merged
PDF to print, then "mark printed"."""

from __future__ import annotations

import io

import pypdf
import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from letters.models import Letter, LetterStatus
from schools.models import Contact
from schools.scoping import school_scope
from tests import factories as f
from tests.letters.test_letters import generate, rw  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def test_letters_without_an_email_address_are_printed_from_one_pdf_then_marked(
    rw,  # noqa: F811
    client,
    django_assert_max_num_queries,
):
    with scopes_disabled():
        Contact.objects.filter(pupil=rw.pupils[-1]).update(email="")
    posted = [generate(rw), generate(rw, key="termly_report", language="cy")]
    client.force_login(rw.officer.user)
    url = reverse("letters:print-pile", kwargs={"school_slug": rw.school.slug})
    with django_assert_max_num_queries(20):
        page = client.get(url).content.decode()
    assert f'value="{posted[0].pk}"' in page
    assert f'value="{posted[1].pk}"' in page
    pdf = client.get(reverse("letters:print-pile-pdf", kwargs={"school_slug": rw.school.slug}))
    assert pdf["Content-Type"] == "application/pdf"
    pages = pypdf.PdfReader(io.BytesIO(pdf.content)).pages
    assert len(pages) % 2 == 0
    assert "Annwyl" in " ".join(page.extract_text() for page in pages)

    unticked = generate(rw)
    response = client.post(url, {"letter": [str(posted[0].pk), str(posted[1].pk), "x"]})
    assert response.status_code == 302
    with school_scope(rw.school):
        statuses = dict(Letter.objects.values_list("pk", "status"))
    assert statuses[posted[0].pk] == LetterStatus.PRINTED
    assert statuses[posted[1].pk] == LetterStatus.PRINTED
    assert statuses[unticked.pk] == LetterStatus.GENERATED
    assert f'value="{posted[0].pk}"' not in client.get(url).content.decode()


def test_a_letter_with_an_email_address_is_not_on_the_pile(rw, client):  # noqa: F811
    emailed = generate(rw)
    client.force_login(rw.officer.user)
    page = client.get(reverse("letters:print-pile", kwargs={"school_slug": rw.school.slug}))
    assert f'value="{emailed.pk}"' not in page.content.decode()
    empty = client.get(reverse("letters:print-pile-pdf", kwargs={"school_slug": rw.school.slug}))
    assert empty.status_code == 404


def test_another_schools_letter_id_posted_to_the_pile_changes_nothing(rw, client):  # noqa: F811
    with scopes_disabled():
        other = f.LetterFactory()
    client.force_login(rw.officer.user)
    url = reverse("letters:print-pile", kwargs={"school_slug": rw.school.slug})
    assert client.post(url, {"letter": [str(other.pk)]}).status_code == 302
    with scopes_disabled():
        other.refresh_from_db()
    assert other.status == LetterStatus.GENERATED
