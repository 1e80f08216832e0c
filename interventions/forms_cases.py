"""Forms for the casework pages. They parse what is posted (dates as day / month / year
boxes, ``schools.forms_widgets.DayMonthYearField``) and give the values the
``interventions.casework`` services take, unchanged; the rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from interventions.models import ActionKind, ReferralStatus, ReferralTo
from interventions.penalty_notices import NTI_CONTENTS, NoticeStatus, ProsecutionOutcome
from schools.forms_widgets import DayMonthYearField

NONE_CHOSEN = "\u2013"  # an en dash: nothing chosen


def _text(label: Any, *, required: bool = False) -> forms.CharField:
    return forms.CharField(label=label, required=required, max_length=2000)


class OpenCaseForm(forms.Form):
    pupil_id = forms.IntegerField(
        label=_("Pupil number (from the pupil's page)"), widget=forms.TextInput()
    )
    reason = _text(_("Why"))


class StageForm(forms.Form):
    stage_id = forms.TypedChoiceField(label=_("Move to stage"), coerce=int)
    reason = _text(_("Why"))

    def __init__(self, *args: Any, stages: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage_id"].choices = [(s.pk, s.name) for s in stages]  # type: ignore[attr-defined]


class CloseForm(forms.Form):
    outcome = _text(_("Outcome"))


class ActionAddForm(forms.Form):
    # A letter action is recorded by making the letter (letters), not added by hand.
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(k, label) for k, label in ActionKind.choices if k != ActionKind.LETTER],
    )
    summary = _text(_("What"))
    due_on = DayMonthYearField(label=_("Due on"))
    referral_to = forms.ChoiceField(
        label=_("Referral to (referrals only)"),
        choices=[("", NONE_CHOSEN), *ReferralTo.choices],
        required=False,
    )
    attendees = _text(_("Meeting: attendees"))
    barriers = _text(_("Meeting: barriers found"))
    agreed = _text(_("Meeting: what was agreed"))
    targets = _text(_("Plan: targets"))
    review_on = DayMonthYearField(label=_("Plan: review date (default 4 weeks)"), required=False)


class ActionCompleteForm(forms.Form):
    done_on = DayMonthYearField(label=_("Done on"))
    outcome = _text(_("Outcome"))
    referral_status = forms.ChoiceField(
        label=_("Referral status (referrals only)"),
        choices=[("", NONE_CHOSEN), *ReferralStatus.choices],
        required=False,
    )


class NtiForm(forms.Form):
    period_start = DayMonthYearField(label=_("Improvement period starts"))
    school_days = forms.IntegerField(
        label=_("School days (15 to 30)"), widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    criteria_rate = forms.DecimalField(
        label=_("Attendance over the period that counts as enough (%)"),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        error_messages={"invalid": _("Enter the attendance percentage that counts as enough.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        contents = {
            name: forms.CharField(
                label=wording, required=False, widget=forms.Textarea(attrs={"rows": 2})
            )
            for name, wording in NTI_CONTENTS
        }
        self.fields = {**contents, **self.fields}

    def contents(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name, "") for name, _wording in NTI_CONTENTS}


class NtiOutcomeForm(forms.Form):
    improved = forms.ChoiceField(
        label=_("Did attendance improve enough?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        widget=forms.RadioSelect,
    )
    note = _text(_("Note"))


class PenaltyNoticeUpdateForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=[(s.value, s.value) for s in NoticeStatus]
    )
    issued_on = DayMonthYearField(label=_("Issued on"), required=False)
    received_on = DayMonthYearField(label=_("Received on"), required=False)
    paid_on = DayMonthYearField(label=_("Paid on"), required=False)
    prosecution_outcome = forms.ChoiceField(
        label=_("Prosecution outcome"),
        choices=[("", NONE_CHOSEN), *((o.value, o.value) for o in ProsecutionOutcome)],
        required=False,
    )


def cleaned(form: forms.Form) -> dict[str, Any]:
    """The form's cleaned data, or ``ValidationError`` with every message (the case page
    shows them in a banner after the redirect)."""
    if not form.is_valid():
        raise ValidationError(
            [
                f"{form.fields[name].label}: {error}" if name != "__all__" else error
                for name, errors in form.errors.items()
                for error in errors
            ]
        )
    return form.cleaned_data


class ReturnEnquiriesForm(forms.Form):
    enquiries = forms.CharField(
        label=_("Joint enquiries made with the LA"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )


class ReturnSentForm(forms.Form):
    how = _text(_("How it was sent"))
