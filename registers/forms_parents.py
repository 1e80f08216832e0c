"""Forms for parents' absence reports and leave requests, the public absence form, and the
office's and head's decisions. They parse and label input; the rules (dates, evidence,
limits) live in ``registers.services.reports`` and ``registers.services.leave``, whose ``ValidationError`` the views attach back to
these forms' fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from registers.codes import CodeDefinition
from registers.models import AbsenceReason
from registers.services.reports import evidence_check
from schools.forms_widgets import DayMonthYearField
from schools.models import Pupil, SessionChoice

DETAILS_HINT = _(
    "For example “sickness and a high temperature”. Do not include more medical detail than the "
    "school needs to record the absence. 500 characters at most."
)
SESSION_CHOICES = [("AM", _("The morning")), ("PM", _("The afternoon"))]


def _last_date_defaults_to_first(cleaned: dict[str, Any]) -> dict[str, Any]:
    """An empty last day means the absence or leave is for the first day only."""
    if cleaned.get("first_date") and not cleaned.get("last_date"):
        cleaned["last_date"] = cleaned["first_date"]
    return cleaned


class _ChildMixin(forms.Form):
    """The parent's choice of one of their own children (``children``: their pupils)."""

    pupil = forms.ModelChoiceField(
        label=_("Child"),
        queryset=Pupil.objects.none(),
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose your child.")},
    )

    def __init__(self, *args: Any, children: QuerySet[Pupil], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pupil"].queryset = children  # type: ignore[attr-defined]
        self.fields["pupil"].label_from_instance = lambda pupil: pupil.display_name  # type: ignore[attr-defined]


class _ReportDatesMixin(forms.Form):
    first_date = DayMonthYearField(
        label=_("First day of absence"),
        error_messages={"required": _("Enter the first day of the absence.")},
    )
    first_session = forms.ChoiceField(
        label=_("On the first day, absent from"),
        choices=SESSION_CHOICES,
        initial=SessionChoice.AM,
        widget=forms.RadioSelect,
    )
    last_date = DayMonthYearField(
        label=_("Last day of absence"),
        required=False,
        help_text=_("Leave empty if it is one day."),
    )
    last_session = forms.ChoiceField(
        label=_("On the last day, absent until the end of"),
        choices=SESSION_CHOICES,
        initial=SessionChoice.PM,
        widget=forms.RadioSelect,
    )
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=AbsenceReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the reason for the absence.")},
    )
    details = forms.CharField(
        label=_("Details (optional)"),
        required=False,
        max_length=500,
        help_text=DETAILS_HINT,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 500}),
    )

    def clean(self) -> dict[str, Any]:
        return _last_date_defaults_to_first(super().clean() or {})


class ParentAbsenceForm(_ChildMixin, _ReportDatesMixin):
    evidence = forms.FileField(
        label=_("Evidence (optional)"),
        required=False,
        help_text=_("A PDF, JPEG or PNG of 5 MB at most, such as an appointment letter."),
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
        label=_("Child's first name"),
        max_length=100,
        error_messages={"required": _("Enter your child's first name.")},
    )
    pupil_surname = forms.CharField(
        label=_("Child's last name"),
        max_length=100,
        error_messages={"required": _("Enter your child's last name.")},
    )
    date_of_birth = DayMonthYearField(
        label=_("Child's date of birth"),
        error_messages={"required": _("Enter your child's date of birth.")},
    )
    reporter_name = forms.CharField(
        label=_("Your name"), max_length=100, error_messages={"required": _("Enter your name.")}
    )
    contact_phone = forms.CharField(
        label=_("Your phone number"),
        max_length=30,
        required=False,
        help_text=_("The phone number or email address the school has for you. Give at least one."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    contact_email = forms.EmailField(
        label=_("Your email address"),
        max_length=150,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    # The honeypot: hidden from people (and from assistive technology), filled in by bots.
    # The view reads it before validating anything, so it needs no rules of its own.
    website = forms.CharField(required=False, label=_("Leave this empty"))

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
    first_date = DayMonthYearField(
        label=_("First day of leave"),
    )
    last_date = DayMonthYearField(
        label=_("Last day of leave"),
        required=False,
        help_text=_("The last school day your child would miss. Leave empty if it is one day."),
    )
    is_holiday = forms.TypedChoiceField(
        label=_("Is this for a family holiday?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Why are you asking for leave?"),
        max_length=1000,
        help_text=_("The headteacher grants leave only in exceptional circumstances."),
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 1000}),
    )

    def clean(self) -> dict[str, Any]:
        return _last_date_defaults_to_first(super().clean() or {})


class EvidenceForm(forms.Form):
    evidence = forms.FileField(
        label=_("Evidence"),
        help_text=_("A PDF, JPEG or PNG of 5 MB at most."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )

    def clean_evidence(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["evidence"]
        evidence_check(upload=upload)
        return upload


class AcceptForm(forms.Form):
    code = forms.ChoiceField(label=_("Code to record"))

    def __init__(
        self, *args: Any, codes: list[CodeDefinition], suggested: str, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = [(c.code, f"{c.code}: {c.meaning}") for c in codes]
        field = self.fields["code"]
        if suggested:
            field.initial = suggested
        else:  # "other reason": the school decides, so no code is chosen for them
            choices.insert(0, ("", str(_("Choose a code"))))
            field.help_text = _("The parent gave another reason: choose the code that fits.")
        field.choices = choices  # type: ignore[attr-defined]


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), max_length=500, widget=forms.Textarea(attrs={"rows": 2, "maxlength": 500})
    )


class LeaveApproveForm(forms.Form):
    exceptional_circumstances = forms.CharField(
        label=_("Exceptional circumstances"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 500}),
    )
    note = forms.CharField(
        label=_("Note to the parent (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 500}),
    )
