from __future__ import annotations

from typing import Any

from django import forms

from schools.models import School, register_window_errors


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

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        times = [cleaned.get(name) for name in self.Meta.fields[2:] if "register" in name]
        if all(times):
            for error in register_window_errors(
                am_opens=cleaned["am_register_opens"],
                am_closes=cleaned["am_register_closes"],
                pm_opens=cleaned["pm_register_opens"],
                pm_closes=cleaned["pm_register_closes"],
            ):
                self.add_error(None, error)
        return cleaned
