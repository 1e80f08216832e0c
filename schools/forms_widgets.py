"""A date asked as three boxes, day / month / year in the British order, as the GOV.UK Design
System's date input does (https://design-system.service.gov.uk/components/date-input/), with
its error messages ("Date must include a month", "Date must be a real date", ...)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

PARTS = ("day", "month", "year")

# One message per combination of missing boxes, so each can be translated whole.
MISSING_MESSAGES = {
    ("day",): _("Date must include a day"),
    ("month",): _("Date must include a month"),
    ("year",): _("Date must include a year"),
    ("day", "month"): _("Date must include a day and month"),
    ("day", "year"): _("Date must include a day and year"),
    ("month", "year"): _("Date must include a month and year"),
}


class DayMonthYearWidget(forms.MultiWidget):
    """Three numeric text boxes rendered with the govuk-date-input markup (the template lives
    in ``schools/templates/widgets/``; wrap it with ``_components/date_input.html``)."""

    template_name = "widgets/day_month_year.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        def box(width: int) -> forms.TextInput:
            return forms.TextInput(
                attrs={
                    "inputmode": "numeric",
                    "class": f"govuk-input govuk-date-input__input govuk-input--width-{width}",
                }
            )

        super().__init__(widgets={"day": box(2), "month": box(2), "year": box(4)}, attrs=attrs)

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        # A link or a bookmark may carry the date whole, ISO-style (``?from=2024-09-02``):
        # read it as its three parts, so the boxes and such URLs mean the same date.
        whole = data.get(name)
        if isinstance(whole, str) and whole.strip():
            year, _sep, rest = whole.strip().partition("-")
            month, _sep, day = rest.partition("-")
            return [day, month, year]
        return super().value_from_datadict(data, files, name)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data and super().value_omitted_from_data(data, files, name)

    def decompress(self, value: dt.date | None) -> list[str | None]:
        if value is None:
            return [None, None, None]
        return [str(value.day), str(value.month), str(value.year)]

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        labels = (_("Day"), _("Month"), _("Year"))
        for subwidget, label, part in zip(
            context["widget"]["subwidgets"], labels, PARTS, strict=True
        ):
            subwidget["label"] = label
            subwidget["part"] = part
        return context


class DayMonthYearField(forms.MultiValueField):
    """A ``datetime.date`` from three boxes. Clean gives ``None`` when all are empty and the
    field is optional; otherwise GOV.UK's messages for a missing part, a year that is not four
    digits, or a day that does not exist (31 June)."""

    widget = DayMonthYearWidget
    default_error_messages = {
        "required": _("Enter a date"),
        "invalid": _("Date must be a real date"),
        "year": _("Year must include 4 numbers"),
    }

    def __init__(self, **kwargs: Any) -> None:
        fields = tuple(forms.CharField(required=False) for _part in PARTS)
        super().__init__(fields=fields, require_all_fields=False, **kwargs)

    def clean(self, value: Any) -> dt.date | None:
        parts = [str(v).strip() if v is not None else "" for v in (value or ["", "", ""])]
        if not any(parts):
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return None
        missing = tuple(name for name, part in zip(PARTS, parts, strict=True) if not part)
        if missing:
            raise ValidationError(MISSING_MESSAGES[missing], code="incomplete")
        if not all(part.isdigit() for part in parts):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        day, month, year = parts
        if len(year) != 4:
            raise ValidationError(self.error_messages["year"], code="year")
        try:
            date = dt.date(int(year), int(month), int(day))
        except ValueError as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc
        self.run_validators(date)
        return date

    def compress(self, data_list: list[Any]) -> dt.date | None:  # clean() does the work
        raise NotImplementedError
