"""Welsh for the attendance-results pages (issue 9): every msgid their templates use has a
non-empty translation in interventions' own cy catalogue (or the project's, for the
components they include)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.urls import reverse
from django.utils.translation.template import templatize
from django_scopes import scopes_disabled

from interventions.models import AttendanceBand
from schools.models import Role
from tests.factories import SchoolFactory, StaffMembershipFactory
from tests.test_i18n import _catalogue, _gettext_calls

APP_PO = Path(settings.BASE_DIR) / "interventions" / "locale" / "cy" / "LC_MESSAGES" / "django.po"
TEMPLATES = [
    "interventions/attendance_summary.html",
    "interventions/trust_attendance.html",
    "interventions/_period_form.html",
    "interventions/_totals_head.html",
    "interventions/_totals_row.html",
    "interventions/pupil_attendance.html",
    "interventions/cases/list.html",
    "interventions/cases/detail.html",
    "interventions/cases/returns.html",
]


def _app_catalogue() -> dict[object, object]:
    with APP_PO.open("rb") as po:
        catalog = read_po(po, locale="cy")
    return {(m.id[0] if isinstance(m.id, tuple) else m.id): m.string for m in catalog if m.id}


def test_every_string_in_the_attendance_results_templates_has_its_welsh():
    catalogue = {**_catalogue(), **_app_catalogue()}
    root = Path(settings.BASE_DIR) / "templates"
    msgids: set[str] = set()
    for name in TEMPLATES:
        path = root / name
        msgids.update(_gettext_calls(templatize(path.read_text(), origin=str(path))))
    assert len(msgids) > 30
    assert sorted(m for m in msgids if not catalogue.get(m)) == []


def test_the_interventions_catalogue_has_no_empty_or_fuzzy_translation():
    empty = [msgid for msgid, string in _app_catalogue().items() if not string]
    assert empty == []
    assert "#, fuzzy" not in APP_PO.read_text()


def test_every_label_of_the_casework_forms_has_its_welsh():
    from babel.messages.extract import extract_from_file

    catalogue = {**_catalogue(), **_app_catalogue()}
    msgids: set[str] = set()
    for name in ("interventions/forms_cases.py", "interventions/views/cases.py"):
        path = Path(settings.BASE_DIR) / name
        keywords = {"_": None, "gettext": None, "gettext_lazy": None}
        for _line, message, _comments, _context in extract_from_file(
            "python", str(path), keywords=keywords
        ):
            msgids.add(message if isinstance(message, str) else message[0])
    assert len(msgids) > 20
    assert sorted(m for m in msgids if not catalogue.get(m)) == []


# The bands and local-authority rules page (issue 9), with the Python behind it.
SETTINGS_TEMPLATES = ["interventions/attendance_settings.html", "interventions/_band_swatch.html"]
SETTINGS_PYTHON = [
    "interventions/forms.py",
    "interventions/services.py",
    "interventions/views/attendance.py",
]


def _with_underscore_calls(code: str) -> list[str]:
    # templatize writes ``_("…")`` for a translated literal in a tag's arguments (include …
    # with title=_("…")), and these modules import gettext as ``_``: read both as gettext.
    return _gettext_calls(re.sub(r"(?<![\w.])_\(", "gettext(", code))


def test_every_string_of_the_attendance_settings_page_has_its_welsh():
    catalogue = {**_catalogue(), **_app_catalogue()}
    msgids: set[str] = set()
    for name in SETTINGS_TEMPLATES:
        path = Path(settings.BASE_DIR) / "templates" / name
        msgids.update(_with_underscore_calls(templatize(path.read_text(), origin=str(path))))
    assert "There is a problem with the rules" in msgids  # an include's _("…") argument
    for name in SETTINGS_PYTHON:
        code = (Path(settings.BASE_DIR) / name).read_text()
        msgids.update(_with_underscore_calls(code.replace("gettext_lazy(", "gettext(")))
    assert "Bands saved. Pupils' stored bands follow at the next recompute." in msgids
    assert len(msgids) > 60
    assert sorted(m for m in msgids if not catalogue.get(m)) == []


@pytest.mark.django_db
def test_the_bands_page_in_welsh(client):
    school = SchoolFactory()
    client.force_login(StaffMembershipFactory(school=school, role=Role.HEADTEACHER).user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "cy"
    url = reverse("interventions:attendance-settings", kwargs={"school_slug": school.slug})

    body = client.get(url).content.decode()

    assert '<html lang="cy"' in body
    assert "Bandiau presenoldeb" in body
    assert "Trothwy cenedlaethol Lloegr" in body
    assert "Rhagosodiad yr Adran Addysg" in body  # a preset's label
    assert "Cadw&#x27;r bandiau" in body or "Cadw'r bandiau" in body

    response = client.post(url, {"action": "install-preset", "preset": "seed_002"})
    assert response.status_code == 302
    with scopes_disabled():
        assert AttendanceBand.objects.filter(school=school).count() == 7
    body = client.get(url).content.decode()
    assert "Bandiau wedi&#x27;u gosod o&#x27;r rhagosodiad" in body
    assert "o 95% i islaw 97%" in body  # band B's rates, in Welsh
    assert 'fill="#15803d"' in body  # the swatch: an SVG fill, no style attribute
    assert "style=" not in body

    body = client.post(
        url,
        {
            "action": "save-bands",
            "bands-TOTAL_FORMS": "1",
            "bands-INITIAL_FORMS": "0",
            "bands-0-name": "",
            "bands-0-lower_bound": "50",
            "bands-0-inclusive": "on",
            "bands-0-colour": "#15803d",
        },
    ).content.decode()
    assert "Rhowch enw i&#x27;r band." in body
