from __future__ import annotations

from django import forms

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
        widgets = {
            name: forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
            for name in fields
            if name.endswith(("opens", "closes", "ends"))
        }
