"""Issue 9 for the parents' and office pages: every string they show has its Welsh, dates are
asked day / month / year, and a Welsh-medium school's parents get the pages in Welsh."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from django.conf import settings
from django.urls import reverse
from django.utils.translation.template import templatize
from django_scopes import scopes_disabled

from demo.blueprints import BRO_DERWEN
from tests import factories as f
from tests.test_i18n import _catalogue, _gettext_calls

ROOT = Path(settings.BASE_DIR)
TEMPLATES = [
    *sorted((ROOT / "templates/registers/parents").glob("*.html")),
    ROOT / "templates/registers/office/inbox.html",
    ROOT / "templates/registers/office/leave_list.html",
    ROOT / "templates/registers/office/report.html",
    ROOT / "templates/registers/office/leave.html",
    ROOT / "templates/registers/office/_pupil.html",
    ROOT / "templates/_components/mark_calendar.html",
    ROOT / "templates/_components/_mark_cell.html",
    ROOT / "templates/interventions/child_days_missed.html",
    ROOT / "templates/schools/home_parent.html",
]
PYTHON = [
    "registers/forms_parents.py",
    "registers/views/reports.py",
    "registers/views/leave.py",
    "registers/services/reports.py",
    "registers/services/leave.py",
]
KEYWORDS = {"_": None, "gettext": None, "gettext_lazy": None, "ngettext": (1, 2)}


def _msgids() -> set[str]:
    msgids: set[str] = set()
    for path in TEMPLATES:
        msgids.update(_gettext_calls(templatize(path.read_text(), origin=str(path))))
    for name in PYTHON:
        for _line, message, _comments, _context in extract_from_file(
            "python", str(ROOT / name), keywords=KEYWORDS
        ):
            msgids.add(message if isinstance(message, str) else message[0])
    return msgids


def test_every_string_on_the_parents_pages_has_its_welsh():
    catalogue = _catalogue()
    msgids = _msgids()
    assert len(msgids) > 80
    assert sorted(m for m in msgids if not catalogue.get(m)) == []


def test_the_demo_welsh_medium_school_is_bro_derwen():
    assert BRO_DERWEN.welsh_medium


@pytest.mark.django_db
def test_a_welsh_medium_schools_parent_reports_in_welsh_with_day_month_year_boxes(client_for):
    with scopes_disabled():
        school = f.SchoolFactory(welsh_medium=True, jurisdiction="wales")
        link = f.ParentLinkFactory(pupil=f.PupilFactory(school=school))
    client = client_for(link.user)

    body = client.get(
        reverse("absences:report-absence", kwargs={"school_slug": school.slug})
    ).content.decode()

    assert '<html lang="cy"' in body
    assert "Diwrnod cyntaf yr absenoldeb" in body
    assert 'name="first_date_day"' in body
    assert 'name="first_date_year"' in body
    assert 'type="date"' not in body


@pytest.mark.django_db
def test_the_public_form_asks_every_date_as_three_boxes(client):
    with scopes_disabled():
        school = f.SchoolFactory()
    body = client.get(
        reverse("absences:public-report", kwargs={"school_ref": school.slug})
    ).content.decode()
    assert 'type="date"' not in body
    for name in ("date_of_birth", "first_date", "last_date"):
        assert f'name="{name}_day"' in body
        assert f'name="{name}_month"' in body
