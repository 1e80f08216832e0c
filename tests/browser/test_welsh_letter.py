"""A Welsh bilingual letter in a browser (issue 11): at a Welsh school an administrator opens a
pupil's Letters page, makes the termly report in the bilingual version, and downloads its PDF;
the PDF read back has the Welsh text first, then the English, with ŵ and â intact. axe-core
checks the page (browser_page)."""

from __future__ import annotations

import io

import pypdf
import pytest
from django.urls import reverse
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from letters.models import LetterTemplate
from schools.models import Pupil, Role
from tests import factories as f
from tests.browser.test_accessibility import DESKTOP, PASSWORD
from tests.browser.test_staff_pages import sign_in
from tests.registers.conftest import build_register_world


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("browser_page", [DESKTOP], indirect=True, ids=["1366"])
def test_an_administrator_makes_a_bilingual_letter_and_reads_it_welsh_first(
    live_server, browser_page
):
    rw = build_register_world(size=1, jurisdiction="wales", welsh_language=True)
    pupil = rw.pupils_in_order()[0]
    with scopes_disabled():
        admin = f.StaffMembershipFactory(school=rw.school, role=Role.SCHOOL_ADMIN)
        admin.user.set_password(PASSWORD)
        admin.user.save()
        Pupil.objects.filter(pk=pupil.pk).update(preferred_forename="Ŵyn")
        f.ContactFactory(pupil=pupil, full_name="Siân Jones", address="12 Heol y Llan\nAberystwyth")
    base = live_server.url
    page = browser_page
    sign_in(page, base, admin.user)

    page.goto(
        base
        + reverse(
            "letters:pupil-letters", kwargs={"school_slug": rw.school.slug, "pupil_id": pupil.pk}
        )
    )
    with scopes_disabled():  # the page gave the school its default letters
        bilingual = LetterTemplate.objects.get(
            school=rw.school, key="termly_report", language="bilingual"
        )
    page.get_by_label("Letter", exact=True).select_option(value=str(bilingual.pk))
    with page.expect_download() as download:
        page.get_by_role("button", name="Make the letter").click()
    pdf = pypdf.PdfReader(io.BytesIO(download.value.path().read_bytes()))
    text = " ".join(page_.extract_text() for page_ in pdf.pages)

    welsh = text.index("Dyma adroddiad presenoldeb Ŵyn")
    english = text.index("This is Ŵyn's attendance report")
    assert welsh < english  # Welsh first
    assert "Annwyl Siân Jones" in text
    assert "Heol y Llan" in text

    # The letter is listed on the pupil's page, with its PDF.
    page.reload()
    expect(page.get_by_role("link", name=f"{bilingual.title} (PDF)")).to_be_visible()
