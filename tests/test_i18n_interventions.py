"""Welsh for the attendance-results pages (issue 9): every msgid their templates use has a
non-empty translation in interventions' own cy catalogue (or the project's, for the
components they include)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po
from django.conf import settings
from django.utils.translation.template import templatize

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
