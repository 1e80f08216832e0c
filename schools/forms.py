from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from schools.models import School


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
