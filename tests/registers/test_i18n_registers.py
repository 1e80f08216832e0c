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


CHOICES = ("MarkSource", "AbsenceReason", "ReportStatus", "LeaveStatus")


def test_every_choice_label_users_see_is_translatable_and_has_its_welsh():
    from django.utils.functional import Promise

    from registers import models

    welsh = _welsh()
    labels = []
    for name in CHOICES:
        for member in getattr(models, name):
            assert isinstance(member.label, Promise), (name, member)  # gettext_lazy
            labels.append(str(member.label))
    assert len(labels) >= 18
    assert sorted(label for label in labels if not welsh.get(label)) == []


@pytest.mark.django_db
def test_the_choice_labels_read_in_welsh_for_a_welsh_reader():
    from django.utils import translation

    from registers.models import AbsenceReason, LeaveStatus, ReportStatus

    with translation.override("cy"):
        assert str(ReportStatus.EVIDENCE_REQUESTED.label) == "Gofynnwyd am dystiolaeth"
        assert str(LeaveStatus.PENDING.label) == "Yn aros am y pennaeth"
        assert str(AbsenceReason.OTHER.label) == "Rheswm arall"
    assert str(ReportStatus.EVIDENCE_REQUESTED.label) == "Evidence requested"


@pytest.mark.django_db
def test_a_welsh_parents_calendar_legend_gives_each_codes_meaning_in_welsh(client_for, monkeypatch):
    import datetime as dt

    from django.utils import translation
    from django_scopes import scopes_disabled

    from registers.codes import code_lookup
    from schools.models import UserPreference
    from tests import factories as f
    from tests.interventions.attendance_world import add_marks

    rw = build_register_world(size=1)
    child = rw.pupils[0]
    add_marks(rw.school, child, [(MONDAY, "AM")], "/")
    add_marks(rw.school, child, [(MONDAY, "PM")], "I")
    add_marks(rw.school, child, [(MONDAY + dt.timedelta(days=1), "AM")], "O")
    with scopes_disabled():
        parent = f.ParentLinkFactory(pupil=child).user
        UserPreference.objects.update_or_create(user=parent, defaults={"language": "cy"})
    monkeypatch.setattr(timezone, "now", lambda: rw.at(MONDAY + dt.timedelta(days=2), 16))
    url = reverse(
        "interventions:child-days-missed",
        kwargs={"school_slug": rw.school.slug, "pupil_id": child.pk},
    )
    body = client_for(parent).get(url).content.decode()

    welsh = _welsh()
    for code in ("/", "I", "O"):
        definition = code_lookup(jurisdiction=rw.school.jurisdiction, code=code, on=MONDAY)
        assert definition is not None
        with translation.override("en-gb"):
            english = str(definition.meaning)
        assert welsh.get(english), english  # the registers catalogue has it
        assert str(welsh[english]) in body
        assert english not in body
