"""Forms for parents' absence reports and leave requests, the public absence form, and the
office's and head's decisions. They parse and label input; the rules (dates, evidence,
limits) live in ``registers.services.reports`` and ``registers.services.leave``, whose ``ValidationError`` the views attach back to
these forms' fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet

from registers.codes import CodeDefinition
from registers.models import AbsenceReason
from registers.services.reports import evidence_check
from schools.models import Pupil, SessionChoice

DETAILS_HINT = (
    "For example “sickness and a high temperature”. Do not include more medical detail than the "
    "school needs to record the absence. 500 characters at most."
)
SESSION_CHOICES = [("AM", "The morning"), ("PM", "The afternoon")]


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _last_date_defaults_to_first(cleaned: dict[str, Any]) -> dict[str, Any]:
    """An empty last day means the absence or leave is for the first day only."""
    if cleaned.get("first_date") and not cleaned.get("last_date"):
        cleaned["last_date"] = cleaned["first_date"]
    return cleaned


class _ChildMixin(forms.Form):
    """The parent's choice of one of their own children (``children``: their pupils)."""

    pupil = forms.ModelChoiceField(
        label="Child",
        queryset=Pupil.objects.none(),
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose your child."},
    )

    def __init__(self, *args: Any, children: QuerySet[Pupil], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pupil"].queryset = children  # type: ignore[attr-defined]
        self.fields["pupil"].label_from_instance = lambda pupil: pupil.display_name  # type: ignore[attr-defined]


class _ReportDatesMixin(forms.Form):
    first_date = forms.DateField(
        label="First day of absence",
        widget=_date_input(),
        error_messages={"required": "Enter the first day of the absence."},
    )
    first_session = forms.ChoiceField(
        label="On the first day, absent from",
        choices=SESSION_CHOICES,
        initial=SessionChoice.AM,
        widget=forms.RadioSelect,
    )
    last_date = forms.DateField(
        label="Last day of absence",
        required=False,
        widget=_date_input(),
        help_text="Leave empty if it is one day.",
    )
    last_session = forms.ChoiceField(
        label="On the last day, absent until the end of",
        choices=SESSION_CHOICES,
        initial=SessionChoice.PM,
        widget=forms.RadioSelect,
    )
    reason = forms.ChoiceField(
        label="Reason",
        choices=AbsenceReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the reason for the absence."},
    )
    details = forms.CharField(
        label="Details (optional)",
        required=False,
        max_length=500,
        help_text=DETAILS_HINT,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 500}),
    )

    def clean(self) -> dict[str, Any]:
        return _last_date_defaults_to_first(super().clean() or {})


class ParentAbsenceForm(_ChildMixin, _ReportDatesMixin):
    evidence = forms.FileField(
        label="Evidence (optional)",
        required=False,
        help_text="A PDF, JPEG or PNG of 5 MB at most, such as an appointment letter.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )

    field_order = ["pupil"]

    def clean_evidence(self) -> UploadedFile | None:
        upload: UploadedFile | None = self.cleaned_data.get("evidence")
        if upload:
            evidence_check(upload=upload)  # the service checks again; this shows it at once
        return upload


class PublicAbsenceForm(_ReportDatesMixin):
    pupil_forename = forms.CharField(
        label="Child's first name",
        max_length=100,
        error_messages={"required": "Enter your child's first name."},
    )
    pupil_surname = forms.CharField(
        label="Child's last name",
        max_length=100,
        error_messages={"required": "Enter your child's last name."},
    )
    date_of_birth = forms.DateField(
        label="Child's date of birth",
        widget=_date_input(),
        error_messages={"required": "Enter your child's date of birth."},
    )
    reporter_name = forms.CharField(
        label="Your name", max_length=100, error_messages={"required": "Enter your name."}
    )
    contact_phone = forms.CharField(
        label="Your phone number",
        max_length=30,
        required=False,
        help_text="The phone number or email address the school has for you. Give at least one.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    contact_email = forms.EmailField(
        label="Your email address",
        max_length=150,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    # The honeypot: hidden from people (and from assistive technology), filled in by bots.
    # The view reads it before validating anything, so it needs no rules of its own.
    website = forms.CharField(required=False, label="Leave this empty")

    field_order = [
        "pupil_forename",
        "pupil_surname",
        "date_of_birth",
        "reporter_name",
        "contact_phone",
        "contact_email",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})


class LeaveRequestForm(_ChildMixin):
    first_date = forms.DateField(label="First day of leave", widget=_date_input())
    last_date = forms.DateField(
        label="Last day of leave",
        required=False,
        widget=_date_input(),
        help_text="The last school day your child would miss. Leave empty if it is one day.",
    )
    is_holiday = forms.TypedChoiceField(
        label="Is this for a family holiday?",
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label="Why are you asking for leave?",
        max_length=1000,
        help_text="The headteacher grants leave only in exceptional circumstances.",
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 1000}),
    )

    def clean(self) -> dict[str, Any]:
        return _last_date_defaults_to_first(super().clean() or {})


class EvidenceForm(forms.Form):
    evidence = forms.FileField(
        label="Evidence",
        help_text="A PDF, JPEG or PNG of 5 MB at most.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )

    def clean_evidence(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["evidence"]
        evidence_check(upload=upload)
        return upload


class AcceptForm(forms.Form):
    code = forms.ChoiceField(label="Code to record")

    def __init__(
        self, *args: Any, codes: list[CodeDefinition], suggested: str, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = [(c.code, f"{c.code}: {c.meaning}") for c in codes]
        field = self.fields["code"]
        if suggested:
            field.initial = suggested
        else:  # "other reason": the school decides, so no code is chosen for them
            choices.insert(0, ("", "Choose a code"))
            field.help_text = "The parent gave another reason: choose the code that fits."
        field.choices = choices  # type: ignore[attr-defined]


class NoteForm(forms.Form):
    note = forms.CharField(
        label="Note", max_length=500, widget=forms.Textarea(attrs={"rows": 2, "maxlength": 500})
    )


class LeaveApproveForm(forms.Form):
    exceptional_circumstances = forms.CharField(
        label="Exceptional circumstances",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 500}),
    )
    note = forms.CharField(
        label="Note to the parent (optional)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 500}),
    )
