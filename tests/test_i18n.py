"""Welsh (issue 9): the language comes from the account, the switcher or the school's
default, never from Accept-Language alone; the cy catalogue covers every string the
translated templates use, and `make` compiles it without GNU gettext."""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils.translation.template import templatize
from django_scopes import scopes_disabled

from schools.models import UserPreference
from tests import factories as f

PO = Path(settings.BASE_DIR) / "locale" / "cy" / "LC_MESSAGES" / "django.po"
TRANSLATED_TEMPLATES = [
    "_base.html",
    "_components/*.html",
    "registration/*",
    "schools/home_*.html",
    "accessibility.html",
]


def _catalogue() -> dict[Any, object]:
    with PO.open("rb") as po:
        catalog = read_po(po, locale="cy")
    return {(m.id[0] if isinstance(m.id, tuple) else m.id): m.string for m in catalog if m.id}


def _gettext_calls(code: str) -> list[str]:
    """The msgids of the gettext calls in ``templatize`` output (what makemessages reads),
    parsed one call at a time: the output as a whole is not valid Python."""
    msgids = []
    for match in re.finditer(r"\b(?:n?gettext|pgettext)\(", code):
        start = match.start()
        for end in (m.end() for m in re.finditer(r"\)", code[start:])):
            try:
                call = ast.parse(code[start : start + end], mode="eval").body
            except SyntaxError:
                continue
            assert isinstance(call, ast.Call)
            msgids.append(ast.literal_eval(call.args[0]))
            break
    return msgids


def _template_msgids() -> set[str]:
    msgids: set[str] = set()
    root = Path(settings.BASE_DIR) / "templates"
    for pattern in TRANSLATED_TEMPLATES:
        for path in root.glob(pattern):
            msgids.update(_gettext_calls(templatize(path.read_text(), origin=str(path))))
    return msgids


def test_every_string_in_the_translated_templates_has_its_welsh():
    catalogue = _catalogue()
    msgids = _template_msgids()
    assert len(msgids) > 80
    missing = sorted(m for m in msgids if not catalogue.get(m))
    assert missing == []


def test_the_catalogue_has_no_empty_or_fuzzy_translation():
    catalogue = _catalogue()
    empty = [msgid for msgid, string in catalogue.items() if not string or string == ("",) * 4]
    assert empty == []
    assert "#, fuzzy" not in PO.read_text()


def test_compilemessages_py_builds_the_mo_without_gettext(tmp_path, settings):
    locale = tmp_path / "cy" / "LC_MESSAGES"
    locale.mkdir(parents=True)
    (locale / "django.po").write_bytes(PO.read_bytes())
    settings.LOCALE_PATHS = [tmp_path]
    call_command("compilemessages_py", stdout=io.StringIO())
    assert (locale / "django.mo").stat().st_size > 1000


@pytest.mark.django_db
def test_accept_language_alone_does_not_choose_welsh(client):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="cy")
    body = response.content.decode()
    assert '<html lang="en-GB"' in body
    assert "Sign in" in body
    assert "Mewngofnodi" not in body


@pytest.mark.django_db
def test_the_switcher_sets_welsh_for_someone_not_signed_in(client):
    response = client.post(
        reverse("set_language"), {"language": "cy", "next": reverse("accessibility")}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accessibility")
    body = client.get(reverse("login")).content.decode()
    assert '<html lang="cy"' in body
    assert "Mewngofnodi" in body
    assert "Datganiad hygyrchedd" in body


@pytest.mark.django_db
def test_a_signed_in_users_choice_is_saved_on_the_account(client_for):
    with scopes_disabled():
        membership = f.StaffMembershipFactory()
    user = membership.user
    client = client_for(user)
    client.post(reverse("set_language"), {"language": "cy", "next": "/"})
    assert UserPreference.objects.get(user=user).language == "cy"

    # and: another browser (no cookie) signed in as them gets Welsh too
    other = Client()
    other.force_login(user)
    home = reverse("schools:home", kwargs={"school_slug": membership.school.slug})
    assert "Allgofnodi" in other.get(home).content.decode()


@pytest.mark.django_db
def test_a_welsh_medium_schools_parents_get_welsh_unless_they_choose_english(client_for):
    with scopes_disabled():
        school = f.SchoolFactory(welsh_medium=True, jurisdiction="wales")
        link = f.ParentLinkFactory(pupil=f.PupilFactory(school=school))
    home = reverse("schools:home", kwargs={"school_slug": school.slug})
    client = client_for(link.user)
    assert '<html lang="cy"' in client.get(home).content.decode()

    client.post(reverse("set_language"), {"language": "en-gb", "next": home})
    assert '<html lang="en-GB"' in client.get(home).content.decode()
    assert UserPreference.objects.get(user=link.user).language == "en-gb"


@pytest.mark.django_db
def test_an_english_medium_schools_parents_get_english(client_for):
    with scopes_disabled():
        link = f.ParentLinkFactory()
    home = reverse("schools:home", kwargs={"school_slug": link.school.slug})
    assert '<html lang="en-GB"' in client_for(link.user).get(home).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "heading"), [("en-gb", "Accessibility statement"), ("cy", "Datganiad hygyrchedd")]
)
def test_the_accessibility_statement_is_public_in_both_languages(client, language, heading):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(reverse("accessibility"))
    assert response.status_code == 200
    body = response.content.decode()
    assert heading in body
    for section in ("Enforcement procedure", "Gweithdrefn orfodi")[language == "cy" :][:1]:
        assert section in body
