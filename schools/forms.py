from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from schools.models import School, YearGroup


class SchoolSettingsForm(forms.ModelForm[School]):
    class Meta:
        model = School
        fields = [
            "attendance_target",
            "welsh_language",
            "am_register_opens",
            "am_register_closes",
            "am_session_ends",
            "pm_register_opens",
            "pm_register_closes",
            "pm_session_ends",
        ]
        labels = {
            "attendance_target": _("Attendance target (%)"),
            "welsh_language": _("Offer the service in Welsh"),
            "am_register_opens": _("Morning register opens"),
            "am_register_closes": _("Morning register closes"),
            "am_session_ends": _("Morning session ends"),
            "pm_register_opens": _("Afternoon register opens"),
            "pm_register_closes": _("Afternoon register closes"),
            "pm_session_ends": _("Afternoon session ends"),
        }
        help_texts = {
            "attendance_target": _("Whole-school attendance target, in per cent."),
            "welsh_language": _("Offer the interface and letters in Welsh as well as English."),
        }
        error_messages = {
            "attendance_target": {
                "invalid": _("Enter the target as a number, for example 96 or 95.5."),
                "required": _("Enter the attendance target."),
                "max_value": _("The target must be at most 100 per cent."),
                "min_value": _("The target must be at least 0 per cent."),
            },
        }
        widgets = {
            name: forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
            for name in fields
            if name.endswith(("opens", "closes", "ends"))
        }


class StaffYearGroupsForm(forms.Form):
    """The year groups one pastoral lead looks after (none: they see no pupils)."""

    year_groups = forms.ModelMultipleChoiceField(
        queryset=YearGroup.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=_("Year groups"),
        help_text=_("They see the pupils, queue items and cases of these year groups only."),
    )

    def __init__(self, *args: Any, school: School, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["year_groups"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = YearGroup.objects.filter(school=school).order_by("sort_order", "name")
