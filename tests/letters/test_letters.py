from __future__ import annotations

import datetime as dt
import hashlib
import io

import pypdf
import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_scopes import scopes_disabled

from letters import hooks, selectors, services
from letters.models import (
    DeliveryStatus,
    EmailDelivery,
    Letter,
    Letterhead,
    LetterStatus,
    LetterTemplate,
)
from letters.templating import TemplateProblemError
from schools import models
from schools.scoping import school_scope
from tests import factories as f
from tests.interventions.attendance_world import add_pupil, build_year_world, mark_pattern, sessions

pytestmark = pytest.mark.django_db

D = dt.date
PERIOD = (D(2024, 9, 2), D(2024, 10, 18))
TODAY = D(2024, 10, 21)


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def stored_text(letter: Letter) -> str:
    with letter.pdf.open("rb") as handle:
        return pdf_text(handle.read())


@pytest.fixture
def rw():
    rw = build_year_world(size=0, welsh_language=True)
    pupil = add_pupil(rw, legal_forename="Ŵyn", legal_surname="Jones")
    with scopes_disabled():
        f.ContactFactory(
            pupil=pupil, full_name="Sarah Jones", address="12 Heol y Llan\nAberystwyth"
        )
        f.ContactFactory(pupil=pupil, full_name="Dafydd Jones", email="", priority=2)
        Letterhead.objects.create(
            school=rw.school,
            address="Ffordd y Coleg\nSY23 3AB",
            phone="01970 123456",
            signatory_name="Mr Owain Price",
            signatory_role="Attendance Officer",
        )
    mark_pattern(rw.school, pupil, sessions(rw.school, *PERIOD)[::2], {"O": 13}, rest="/")
    mark_pattern(rw.school, pupil, sessions(rw.school, *PERIOD)[1::2], {}, rest="\\")
    rw.pupils.append(pupil)
    return rw


def generate(rw, key="attendance_concern_1", language="en", **kwargs):
    with school_scope(rw.school):
        services.letter_templates_install_defaults(school=rw.school)
        template = LetterTemplate.objects.get(school=rw.school, key=key, language=language)
        return services.letter_generate(
            school=rw.school,
            pupil=rw.pupils[-1],
            template=template,
            period_start=PERIOD[0],
            period_end=PERIOD[1],
            created_by=rw.officer,
            today=TODAY,
            **kwargs,
        )


def test_every_school_gets_the_defaults_once_and_a_welsh_school_in_welsh_and_bilingual(rw):
    english = f.SchoolFactory()
    with school_scope(english):
        services.letter_templates_install_defaults(school=english)
        assert set(LetterTemplate.objects.values_list("language", flat=True)) == {"en"}
    with school_scope(rw.school):
        first = services.letter_templates_install_defaults(school=rw.school)
        again = services.letter_templates_install_defaults(school=rw.school)
        languages = set(LetterTemplate.objects.values_list("language", flat=True))
    assert first
    assert again == []
    assert languages == {"en", "cy", "bilingual"}


def test_a_letter_leads_with_days_and_sessions_missed_and_snapshots_its_facts(rw):
    letter = generate(rw)
    text = stored_text(letter)
    # 13 unauthorised sessions in the period: 6½ days, the percentage second.
    assert "Ŵyn missed 6½ days of school (13 sessions out of" in text
    assert text.index("6½ days") < text.index("%")
    assert "Sarah Jones and Dafydd Jones" in text
    assert letter.snapshot["sessions.missed"] == 13
    assert letter.snapshot["period.start"] == "2024-09-02"
    assert len(letter.snapshot["marks"]) == 13
    # The form and year the pupil was in at the period's end, and the school's headteacher.
    with scopes_disabled():
        placement = rw.pupils[-1].placements.select_related("form__year_group").get()
    assert letter.snapshot["pupil.form"] == placement.form.name != ""
    assert letter.snapshot["pupil.year"] == placement.form.year_group.name
    assert letter.snapshot["school.headteacher"] == rw.head.user.get_full_name() != ""
    assert letter.status == LetterStatus.GENERATED
    with letter.pdf.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == letter.sha256
    with school_scope(rw.school):
        assert list(selectors.pupil_letters(school=rw.school, pupil=rw.pupils[-1])) == [letter]


def test_a_welsh_and_a_bilingual_letter_read_back_in_welsh(rw):
    welsh = stored_text(generate(rw, language="cy"))
    assert "collodd Ŵyn 6½ diwrnod o'r ysgol (13 sesiwn o" in welsh
    bilingual = stored_text(generate(rw, language="bilingual"))
    assert bilingual.index("Annwyl") < bilingual.index("Dear")


def test_a_sent_letter_keeps_its_text_when_the_template_and_the_marks_change(rw):
    letter = generate(rw)
    before = stored_text(letter)
    with school_scope(rw.school):
        template = letter.template_version.template
        services.letter_template_version_add(
            school=rw.school,
            template=template,
            body="<p>Something else entirely, {{ pupil.first_name }}.</p>",
            created_by=rw.head,
        )
        Letterhead.objects.filter(school=rw.school).update(signatory_name="Someone Else")
        letter = Letter.objects.get(pk=letter.pk)
        rerendered = services.letter_render(letter=letter)
    assert pdf_text(rerendered) == before
    assert letter.template_version.number == 1


def test_a_template_with_an_unknown_field_is_refused_naming_its_line(rw):
    with school_scope(rw.school):
        services.letter_templates_install_defaults(school=rw.school)
        template = LetterTemplate.objects.get(school=rw.school, key="termly_report", language="en")
        with pytest.raises(TemplateProblemError) as caught:
            services.letter_template_version_add(
                school=rw.school,
                template=template,
                body="<p>Dear {{ addressee.name }},</p>\n<p>{{ pupil.shoe_size }}</p>",
                created_by=rw.head,
            )
        assert caught.value.problems[0].line == 2
        assert template.versions.count() == 1


def test_only_heads_and_admins_edit_templates(rw):
    with school_scope(rw.school):
        services.letter_templates_install_defaults(school=rw.school)
        template = LetterTemplate.objects.filter(school=rw.school).first()
        assert template is not None
        with pytest.raises(ValidationError):
            services.letter_template_version_add(
                school=rw.school, template=template, body="<p>Hi</p>", created_by=rw.officer
            )


def test_email_goes_once_to_each_parent_with_an_address_and_the_rest_is_printed(rw):
    letter = generate(rw)
    with school_scope(rw.school):
        services.letter_email_send(school=rw.school, letter=letter)
        services.letter_email_send(school=rw.school, letter=letter)  # a retried task
        deliveries = list(EmailDelivery.objects.filter(letter=letter))
        letter.refresh_from_db()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.attachments[0][2] == "application/pdf"
    assert "Please find attached a letter" in message.body
    assert [d.status for d in deliveries] == [DeliveryStatus.SENT]
    assert letter.status == LetterStatus.SENT
    unreachable = generate(rw)
    with school_scope(rw.school):
        models.Contact.objects.filter(pupil=rw.pupils[-1]).update(email="")
        pile = services.letter_print_pile(school=rw.school, letters=[letter, unreachable])
    assert pile == [letter, unreachable]


def test_a_letter_from_a_case_records_its_source_and_runs_the_hook(
    rw, django_capture_on_commit_callbacks, monkeypatch
):
    seen: list[Letter] = []
    monkeypatch.setattr(hooks, "_letter_generated", [seen.append])
    with django_capture_on_commit_callbacks(execute=True):
        letter = generate(rw, source="case", case_id=41)
    assert seen == [letter]
    with school_scope(rw.school):
        assert list(selectors.case_letters(school=rw.school, case_id=41)) == [letter]


def test_the_pdf_is_read_only_through_the_tenancy_checked_view(rw, client):
    letter = generate(rw)
    url = reverse(
        "letters:letter-pdf", kwargs={"school_slug": rw.school.slug, "letter_id": letter.pk}
    )
    client.force_login(rw.officer.user)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "6½ days" in pdf_text(b"".join(response.streaming_content))

    client.force_login(rw.tutor.user)  # no SEND_LETTERS
    assert client.get(url).status_code == 404

    other = f.StaffMembershipFactory(role=models.Role.SCHOOL_ADMIN)
    client.force_login(other.user)
    foreign = reverse(
        "letters:letter-pdf", kwargs={"school_slug": other.school.slug, "letter_id": letter.pk}
    )
    assert client.get(foreign).status_code == 404


def test_the_termly_report_shows_a_small_calendar_of_the_terms_marks(rw):
    letter = generate(rw, key="termly_report")
    calendar = letter.snapshot["calendar"]
    # 2 Sep to 18 Oct 2024: seven whole weeks, Monday to Friday.
    assert len(calendar) == 35
    assert calendar[0]["date"] == "2024-09-02"
    assert calendar[0]["monday"]
    assert calendar[-1]["date"] == "2024-10-18"
    assert calendar[-1]["friday"]
    assert calendar[0]["label"] == "2 September"
    codes = [day["am"] for day in calendar] + [day["pm"] for day in calendar]
    assert codes.count("O") == 13  # the 13 unauthorised sessions, each in its cell
    text = stored_text(letter)
    assert "Monday Tuesday Wednesday Thursday Friday" in text
    assert "2 September" in text
    welsh = generate(rw, key="termly_report", language="cy")
    assert welsh.snapshot["calendar"][0]["label"] == "2 Medi"
    assert "Dydd Llun" in stored_text(welsh)


def test_the_la_referral_is_addressed_to_the_local_authority_and_names_the_family(rw):
    with school_scope(rw.school):
        Letterhead.objects.filter(school=rw.school).update(
            la_team="Attendance and Wellbeing Service",
            la_address="Ceredigion County Council\nPenmorfa\nAberaeron",
        )
    letter = generate(rw, key="la_referral")
    text = stored_text(letter)
    snapshot = letter.snapshot
    assert snapshot["addressee.name"] == "Attendance and Wellbeing Service"
    assert snapshot["addressee.address"] == ["Ceredigion County Council", "Penmorfa", "Aberaeron"]
    assert snapshot["parents"] == ["Sarah Jones", "Dafydd Jones"]
    assert "Dear Attendance and Wellbeing Service" in text
    assert "Penmorfa" in text  # in the envelope window
    assert "12 Heol y Llan" not in text  # not the family's address
    assert "The parents are Sarah Jones and Dafydd Jones" in text
    with school_scope(rw.school):
        # Addressed to no parent: never emailed to the family, it goes to the print pile.
        assert list(letter.contacts.all()) == []
        assert services.letter_email_send(school=rw.school, letter=letter) == []
        assert services.letter_print_pile(school=rw.school, letters=[letter]) == [letter]


def test_the_letterhead_page_saves_the_local_authority(rw, client):
    from django.urls import reverse

    client.force_login(rw.head.user)
    url = reverse("letters:letterhead", kwargs={"school_slug": rw.school.slug})
    page = client.get(url).content.decode()
    assert "Local authority attendance team" in page
    response = client.post(
        url, {"la_team": "Attendance Service", "la_address": "County Hall\nAberaeron"}
    )
    assert response.status_code == 302
    with school_scope(rw.school):
        saved = Letterhead.objects.get(school=rw.school)
    assert (saved.la_team, saved.la_address) == ("Attendance Service", "County Hall\nAberaeron")
