"""Welsh for the schools pages (issue 9): choosing a school, a form, a pupil, the school's
settings and the trust's home page. Every msgid their templates and Python use has a non-empty
translation in schools' own cy catalogue (or the project's, for the components and the base
page), and the settings page renders in Welsh."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.urls import reverse
from django.utils.translation.template import templatize

from schools.models import Role
from tests.factories import SchoolFactory, StaffMembershipFactory
from tests.test_i18n import _catalogue, _gettext_calls

BASE = Path(settings.BASE_DIR)
APP_PO = BASE / "schools" / "locale" / "cy" / "LC_MESSAGES" / "django.po"
TEMPLATES = [
    "schools/choose.html",
    "schools/form_detail.html",
    "schools/pupil_detail.html",
    "schools/settings.html",
    "schools/trust_home.html",
]
# The Python behind those pages: view strings, form labels and errors, service messages.
PYTHON = ["schools/views.py", "schools/forms.py", "schools/services.py", "schools/models.py"]


def _app_catalogue() -> dict[object, object]:
    with APP_PO.open("rb") as po:
        catalog = read_po(po, locale="cy")
    return {(m.id[0] if isinstance(m.id, tuple) else m.id): m.string for m in catalog if m.id}


def _python_msgids(path: Path) -> set[str]:
    # gettext is imported as ``_`` in these modules; read its calls as makemessages would.
    return set(_gettext_calls(re.sub(r"\b_\(", "gettext(", path.read_text())))


def test_every_string_in_the_schools_pages_has_its_welsh():
    catalogue = {**_catalogue(), **_app_catalogue()}
    msgids: set[str] = set()
    for name in TEMPLATES:
        path = BASE / "templates" / name
        # templatize writes _("…") for a translated literal in a tag's arguments (include …
        # with title=_("…")): read those as gettext calls too.
        code = templatize(path.read_text(), origin=str(path))
        msgids.update(_gettext_calls(re.sub(r"(?<![\w.])_\(", "gettext(", code)))
    assert len(msgids) > 20
    assert "No pupils are in this form today." in msgids  # an include's _("…") argument
    for name in PYTHON:
        msgids.update(_python_msgids(BASE / name))
    assert "Settings saved." in msgids
    assert sorted(m for m in msgids if not catalogue.get(m)) == []


def test_the_schools_catalogue_has_no_empty_or_fuzzy_translation():
    empty = [msgid for msgid, string in _app_catalogue().items() if not string]
    assert empty == []
    assert "#, fuzzy" not in APP_PO.read_text()


@pytest.mark.django_db
def test_the_school_settings_page_in_welsh(client):
    school = SchoolFactory()
    client.force_login(StaffMembershipFactory(school=school, role=Role.HEADTEACHER).user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "cy"
    url = reverse("schools:settings", kwargs={"school_slug": school.slug})

    body = client.get(url).content.decode()

    assert '<html lang="cy"' in body
    assert "Gosodiadau\u2019r ysgol" in body
    assert "Cofrestr y bore yn agor" in body
    assert "Targed presenoldeb (%)" in body

    data = {
        "attendance_target": "96.0",
        "am_register_opens": "08:40",
        "am_register_closes": "09:15",
        "am_session_ends": "12:00",
        "pm_register_opens": "13:00",
        "pm_register_closes": "13:30",
        "pm_session_ends": "15:20",
    }
    body = client.post(url, data).content.decode()
    assert "Gall cofrestr y bore aros ar agor am 30 munud ar y mwyaf." in body
    assert "Rhaid i gofrestrau" in body
    assert "The morning register" not in body


def test_the_schools_choice_labels_read_in_welsh_and_are_stored_in_english():
    from django.utils import translation

    from schools import models as school_models

    choices = [
        school_models.Jurisdiction, school_models.Phase, school_models.Role,
        school_models.ClosureKind, school_models.SessionChoice, school_models.NCYear,
        school_models.Gender, school_models.SenStatus, school_models.Registration,
        school_models.DeletionGround, school_models.Relationship,
    ]  # fmt: skip
    with translation.override("cy"):
        untranslated = [
            (choice.__name__, str(label))
            for choice in choices
            for _value, label in choice.choices
            if str(label) == school_models.stored_label(label)
        ]
        assert str(school_models.Role.HEADTEACHER.label) == "Pennaeth"
        # What is written to the database stays English whoever causes the write.
        assert school_models.stored_label(school_models.NCYear.Y7.label) == "Year 7"
    assert untranslated == []
