from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class TemplateBodyForm(forms.Form):
    body = forms.CharField(
        label=_("Letter text"),
        help_text=_("HTML with merge fields such as {{ pupil.first_name }}."),
        widget=forms.Textarea(attrs={"rows": 18, "class": "govuk-textarea"}),
    )


class GenerateForm(forms.Form):
    template = forms.TypedChoiceField(label=_("Letter"), coerce=int, choices=())

    def __init__(self, *args: object, choices: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["template"].choices = choices  # type: ignore[attr-defined]
