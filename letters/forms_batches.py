"""The "New batch" form: a letter and who it goes to (a queue, a year group, a form, the
pupils below an attendance rate, or everyone on roll)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from interventions.models.queues import QueueKind
from letters.batches import PupilChoice
from letters.models import LetterTemplate
from schools.models import AcademicYear, FormGroup, School, YearGroup

PUPIL_CHOICES = [
    ("school", _("Every pupil on roll")),
    ("queue", _("The pupils with an open item in a queue")),
    ("year", _("A year group")),
    ("form", _("A form")),
    ("below", _("The pupils whose attendance is below a percentage")),
]


class BatchForm(forms.Form):
    template = forms.TypedChoiceField(label=_("Letter"), coerce=int, choices=())
    pupils = forms.ChoiceField(
        label=_("Who the letters go to"), choices=PUPIL_CHOICES, widget=forms.RadioSelect
    )
    queue = forms.ChoiceField(
        label=_("Queue"), required=False, choices=[("", ""), *list(QueueKind.choices)]
    )
    year_group = forms.TypedChoiceField(
        label=_("Year group"), required=False, coerce=int, empty_value=None, choices=()
    )
    form_group = forms.TypedChoiceField(
        label=_("Form"), required=False, coerce=int, empty_value=None, choices=()
    )
    below = forms.IntegerField(
        label=_("Attendance below (%)"),
        help_text=_(
            "A whole number: 90 finds the pupils under 90 per cent, not those at exactly 90."
        ),
        required=False,
        min_value=1,
        max_value=100,
    )

    def __init__(self, *args: Any, school: School, on: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        templates = (
            LetterTemplate.objects.filter(school=school, current__isnull=False)
            .order_by("key", "language")
            .only("pk", "title", "language")
        )
        self.fields["template"].choices = [  # type: ignore[attr-defined]
            (t.pk, f"{t.title} ({t.get_language_display()})") for t in templates
        ]
        years = YearGroup.objects.filter(school=school).order_by("sort_order", "name")
        self.fields["year_group"].choices = [("", "")] + [  # type: ignore[attr-defined]
            (y.pk, y.name) for y in years
        ]
        # The forms of the current academic year (or of the last one set up, in a holiday).
        year = (
            AcademicYear.objects.filter(school=school, start_date__lte=on)
            .order_by("-start_date")
            .first()
        )
        groups = FormGroup.objects.filter(school=school, academic_year=year).order_by(
            "year_group__sort_order", "name"
        )
        self.fields["form_group"].choices = [("", "")] + [  # type: ignore[attr-defined]
            (g.pk, g.name) for g in groups
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("pupils")
        needs = {"queue": "queue", "year": "year_group", "form": "form_group", "below": "below"}
        if kind in needs and data.get(needs[kind]) in (None, ""):
            self.add_error(needs[kind], _("Choose one."))
        return data

    def choice(self) -> PupilChoice:
        """The validated choice (call after ``is_valid()``)."""
        data = self.cleaned_data
        kind = data["pupils"]
        value = {
            "queue": data.get("queue"),
            "year": data.get("year_group"),
            "form": data.get("form_group"),
            "below": data.get("below"),
        }.get(kind)
        return PupilChoice(kind=kind, value="" if value is None else str(value))

    def description(self) -> str:
        """Who the letters go to, in words, for the batch page."""
        data = self.cleaned_data
        kind = data["pupils"]
        field = {"queue": "queue", "year": "year_group", "form": "form_group"}.get(kind)
        label = str(dict(PUPIL_CHOICES)[kind])
        if field:
            chosen = dict(self.fields[field].choices).get(data[field], "")  # type: ignore[attr-defined]
            return f"{label}: {chosen}"
        if kind == "below":
            return f"{label}: {data['below']}%"
        return label
