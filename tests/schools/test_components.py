"""The design-system components (templates/_components) and the day/month/year date field."""

from __future__ import annotations

import datetime as dt

import pytest
from django import forms
from django.template.loader import render_to_string
from django.urls import reverse
from django_scopes import scopes_disabled

from registers.rules import Phase
from schools.components import Cell, Column
from schools.forms_widgets import DayMonthYearField
from tests import factories as f
from tests.registers.conftest import MONDAY, build_register_world


class DateForm(forms.Form):
    first_day = DayMonthYearField(label="First day of absence")
    last_day = DayMonthYearField(label="Last day", required=False)


def _date_form(day="", month="", year="", **extra):
    data = {"first_day_day": day, "first_day_month": month, "first_day_year": year, **extra}
    return DateForm(data)


def test_a_real_date_in_british_order_is_parsed():
    form = _date_form("27", "3", "2025")
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"first_day": dt.date(2025, 3, 27), "last_day": None}


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (("", "", ""), "Enter a date"),
        (("", "3", "2025"), "Date must include a day"),
        (("27", "", "2025"), "Date must include a month"),
        (("27", "3", ""), "Date must include a year"),
        (("", "", "2025"), "Date must include a day and month"),
        (("31", "6", "2025"), "Date must be a real date"),
        (("x", "3", "2025"), "Date must be a real date"),
        (("27", "3", "25"), "Year must include 4 numbers"),
    ],
)
def test_an_incomplete_or_impossible_date_says_what_is_wrong(parts, message):
    form = _date_form(*parts)
    assert not form.is_valid()
    assert form.errors["first_day"] == [message]


def test_the_date_widget_renders_day_month_year_boxes_with_labels():
    form = DateForm(initial={"first_day": dt.date(2025, 3, 7)})
    html = render_to_string("_components/date_input.html", {"field": form["first_day"]})
    assert html.index('for="id_first_day_0">Day') < html.index('for="id_first_day_1">Month')
    assert html.index('for="id_first_day_1">Month') < html.index('for="id_first_day_2">Year')
    assert 'class="govuk-date-input"' in html
    assert 'inputmode="numeric"' in html
    assert 'value="7"' in html
    assert 'value="2025"' in html
    assert "<legend" in html
    assert "First day of absence" in html


def test_the_error_summary_links_each_error_to_its_field():
    form = _date_form("31", "6", "2025")
    form.is_valid()
    html = render_to_string("_components/error_summary.html", {"form": form})
    assert 'href="#id_first_day_0"' in html
    assert "Date must be a real date" in html
    assert 'role="alert"' in html
    assert render_to_string("_components/error_summary.html", {"form": DateForm()}).strip() == ""


class PickForm(forms.Form):
    name = forms.CharField(label="Name", help_text="As on the register")
    reason = forms.ChoiceField(
        label="Reason",
        choices=[("ill", "Illness"), ("appt", "Appointment")],
        widget=forms.RadioSelect,
    )
    notes = forms.CharField(label="Notes", widget=forms.Textarea, required=False)


def test_the_field_component_renders_label_hint_error_and_govuk_classes():
    form = PickForm({"name": "", "reason": "ill"})
    form.is_valid()
    html = render_to_string("_components/field.html", {"field": form["name"], "width": "20"})
    assert '<label class="govuk-label govuk-label--s" for="id_name">Name</label>' in html
    assert 'id="id_name-hint"' in html
    assert 'id="id_name-error"' in html
    assert "govuk-input govuk-input--width-20 govuk-input--error" in html
    assert 'aria-describedby="id_name-hint id_name-error"' in html

    radios = render_to_string("_components/field.html", {"field": form["reason"]})
    assert "<legend" in radios
    assert 'class="govuk-radios__input" id="id_reason_0"' in radios
    assert 'value="ill" checked' in radios
    textarea = render_to_string("_components/field.html", {"field": form["notes"]})
    assert "govuk-textarea" in textarea


def test_the_table_component_is_sortable_and_offers_a_csv():
    html = render_to_string(
        "_components/table.html",
        {
            "caption": "Forms",
            "head": [Column("Form"), Column("On roll", numeric=True)],
            "rows": [["9B", Cell(28, numeric=True)], ["9A", Cell(30, sort_value="030")]],
            "row_header": True,
            "sortable": True,
            "csv_url": "/export.csv",
        },
    )
    assert 'data-module="app-sortable-table"' in html
    assert html.count('aria-sort="none"') == 2
    assert 'href="/export.csv"' in html
    assert "Download CSV" in html
    assert '<th scope="row" class="govuk-table__header">9B</th>' in html
    assert 'data-sort-value="030"' in html


def test_the_tag_says_what_the_code_means_in_text():
    html = render_to_string(
        "_components/tag.html", {"code": "N", "text": "No reason yet provided", "colour": "red"}
    )
    assert "govuk-tag--red" in html
    assert "N</span> No reason yet provided" in html


def test_the_notification_banner_for_an_error_is_an_alert():
    html = render_to_string(
        "_components/notification_banner.html", {"type": "error", "text": "Not saved."}
    )
    assert 'role="alert"' in html
    assert "There is a problem" in html


def test_messages_render_as_banners_success_and_error_as_alerts():
    from django.contrib.messages import constants
    from django.contrib.messages.storage.base import Message

    html = render_to_string(
        "_base.html",
        {
            "messages": [
                Message(constants.SUCCESS, "Settings saved."),
                Message(constants.ERROR, "Nothing was saved."),
                Message(constants.INFO, "Registers close at 09:10."),
            ]
        },
    )
    assert "govuk-notification-banner--success" in html
    assert "govuk-notification-banner--error" in html
    assert html.count('role="alert"') == 2
    assert 'role="region" aria-labelledby="notification-3-title"' in html
    assert "Settings saved." in html


def test_a_tutor_is_led_to_the_register_open_now(db, client_for, monkeypatch):
    rw = build_register_world(size=3)
    monkeypatch.setattr("django.utils.timezone.now", lambda: rw.at(MONDAY, 8, 45))
    home = reverse("schools:home", kwargs={"school_slug": rw.school.slug})
    body = client_for(rw.tutor.user).get(home).content.decode()
    take = reverse(
        "registers:take",
        kwargs={
            "school_slug": rw.school.slug,
            "form_id": rw.form.pk,
            "date": MONDAY,
            "session": "AM",
        },
    )
    assert "Take the 9A AM register now" in body
    assert f'href="{take}"' in body
    assert body.index("Take the 9A AM register now") < body.index("<h1")


def test_no_call_to_action_once_the_register_is_locked(db, client_for, monkeypatch):
    rw = build_register_world(size=3)
    monkeypatch.setattr("django.utils.timezone.now", lambda: rw.at(MONDAY, 23, 0))
    home = reverse("schools:home", kwargs={"school_slug": rw.school.slug})
    assert "register now" not in client_for(rw.tutor.user).get(home).content.decode()
    assert Phase.LOCKED  # the phase comes from registers.rules.register_phase


def test_an_officer_and_a_head_lead_with_their_to_dos(db, client_for, monkeypatch):
    rw = build_register_world(size=3)
    monkeypatch.setattr("django.utils.timezone.now", lambda: rw.at(MONDAY, 9, 30))
    with scopes_disabled():
        f.AbsenceReportFactory(pupil=rw.pupils[0])
    home = reverse("schools:home", kwargs={"school_slug": rw.school.slug})
    officer = client_for(rw.officer.user).get(home).content.decode()
    assert "Absence reports to act on" in officer
    assert "Registers not taken yet" in officer
    assert "past their close time" in officer
    assert reverse("registers:unresolved-n", kwargs={"school_slug": rw.school.slug}) in officer
    assert "Leave requests to decide" not in officer
    assert officer.index("To do") < officer.index("On roll today")
    head = client_for(rw.head.user).get(home).content.decode()
    assert "Leave requests to decide" in head
