"""Welsh for the register pages (issue 9): every string the register templates and the code
descriptions use has a cy translation, in the project's catalogue or the registers app's own,
and a Welsh reader gets a Welsh register page."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation.template import templatize

from tests.registers.conftest import MONDAY, build_register_world
from tests.test_i18n import _gettext_calls

REGISTERS_PO = Path(settings.BASE_DIR) / "registers" / "locale" / "cy" / "LC_MESSAGES" / "django.po"
PROJECT_PO = Path(settings.BASE_DIR) / "locale" / "cy" / "LC_MESSAGES" / "django.po"
REGISTER_TEMPLATES = [
    "registers/list.html",
    "registers/take.html",
    "registers/amend.html",
    "registers/_history.html",
    "registers/unresolved_n.html",
    "registers/_demo_clock.html",
]


def _catalogue(path: Path) -> dict[Any, object]:
    with path.open("rb") as po:
        catalog = read_po(po, locale="cy")
    return {(m.id[0] if isinstance(m.id, tuple) else m.id): m.string for m in catalog if m.id}


def _welsh() -> dict[Any, object]:
    return _catalogue(PROJECT_PO) | _catalogue(REGISTERS_PO)


def test_every_string_in_the_register_templates_has_its_welsh():
    root = Path(settings.BASE_DIR) / "templates"
    msgids: set[str] = set()
    for name in REGISTER_TEMPLATES:
        path = root / name
        msgids.update(_gettext_calls(templatize(path.read_text(), origin=str(path))))
    assert len(msgids) > 60
    welsh = _welsh()
    assert sorted(m for m in msgids if not welsh.get(m)) == []


def test_every_code_description_and_register_message_has_its_welsh():
    msgids: set[str] = set()
    for module in ("registers/codes.py", "registers/services/marks.py", "registers/views/marks.py"):
        source = (Path(settings.BASE_DIR) / module).read_text()
        for call in re.finditer(r"\b(?:_|gettext|ngettext)\(\s*((?:\"[^\"]*\"\s*)+)", source):
            msgids.add(ast.literal_eval("(" + call.group(1) + ")"))
    assert len(msgids) > 70
    welsh = _welsh()
    assert sorted(m for m in msgids if not welsh.get(m)) == []


def test_the_registers_catalogue_has_no_empty_or_fuzzy_translation():
    empty = [k for k, v in _catalogue(REGISTERS_PO).items() if not v or v == ("",) * 4]
    assert empty == []
    assert "#, fuzzy" not in REGISTERS_PO.read_text()


@pytest.mark.django_db
def test_a_welsh_tutor_gets_a_welsh_register_page(client_for, monkeypatch):
    rw = build_register_world(size=2)
    monkeypatch.setattr(timezone, "now", lambda: rw.at(MONDAY, 8, 45))
    client = client_for(rw.tutor.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "cy"
    url = reverse(
        "registers:take",
        kwargs={
            "school_slug": rw.school.slug,
            "form_id": rw.form.pk,
            "date": MONDAY.isoformat(),
            "session": "AM",
        },
    )
    body = client.get(url).content.decode()
    assert f"Cofrestr {rw.form.name}" in body
    assert "Pawb yn bresennol" in body
    assert "Yn bresennol (bore)" in body  # the code list's meanings
    assert "Save register" not in body
