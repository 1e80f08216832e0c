"""Forms for the attendance settings page. They parse input only; the rules live in
``interventions.services``, which every save goes through."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from interventions.models import ContactMethod, ContactOutcome, IllnessMode, PnDecision
from interventions.services import BAND_PRESET_CHOICES, COLOUR_RE, BandInput
from registers.models import REASON_CODES, AbsenceReason
from schools.forms_widgets import DayMonthYearField
from schools.models import stored_label

DEFAULT_COLOUR = "#6b7280"


class BandForm(forms.Form):
    """One row of the bands table. A row with neither a name nor a bound (an added row left
    empty) is blank: ``band_input()`` returns ``None`` for it and the save ignores it."""

    name = forms.CharField(label=_("Name"), max_length=60, required=False)
    lower_bound = forms.DecimalField(
        label=_("Lower bound (%)"),
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        required=False,
    )
    # The page's hint explains it: does a rate exactly at the bound belong to this band?
    inclusive = forms.BooleanField(label=_("Includes the bound"), required=False)
    colour = forms.CharField(
        label=_("Colour"),
        max_length=7,
        initial=DEFAULT_COLOUR,
        widget=forms.TextInput(attrs={"type": "color"}),
        validators=[RegexValidator(rf"^{COLOUR_RE.pattern}\Z", _("Write the colour as #rrggbb."))],
    )
    meaning = forms.CharField(label=_("Meaning"), max_length=300, required=False)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        name, bound = data.get("name"), data.get("lower_bound")
        if name or bound is not None or "lower_bound" in self.errors:
            if not name and "name" not in self.errors:
                self.add_error("name", _("Give the band a name."))
            if bound is None and "lower_bound" not in self.errors:
                self.add_error("lower_bound", _("Give the band's lower bound, from 0 to 100."))
        return data

    def band_input(self) -> BandInput | None:
        """The row as the service takes it, or ``None`` for a blank row (call after
        validation)."""
        data = self.cleaned_data
        if not data.get("name") and data.get("lower_bound") is None:
            return None
        return BandInput(
            name=data["name"],
            lower_bound=data["lower_bound"],
            inclusive=data["inclusive"],
            colour=data["colour"],
            meaning=data["meaning"],
        )


# Rows the user leaves untouched (e.g. an added row left blank) are ignored; "Remove" drops a
# row. Twenty bands is far more than any policy we have seen (seed 002 has seven).
BandFormSet = forms.formset_factory(
    BandForm, extra=0, can_delete=True, max_num=20, validate_max=True
)
BAND_FORMSET_PREFIX = "bands"


class PresetForm(forms.Form):
    preset = forms.ChoiceField(
        label=_("Replace the bands above with"),
        choices=BAND_PRESET_CHOICES,
        widget=forms.RadioSelect,
    )


class AttendanceRulesForm(forms.Form):
    pn_enabled = forms.BooleanField(label=_("A penalty-notice threshold applies"), required=False)
    pn_sessions = forms.IntegerField(
        label=_("Sessions of unauthorised absence"), min_value=1, max_value=400
    )
    pn_school_weeks = forms.IntegerField(
        label=_("In a rolling window of school weeks"), min_value=1, max_value=60
    )
    pn_include_n = forms.BooleanField(
        label=_("Count N (no reason yet) as provisional"),
        required=False,
        help_text=_("Some local authorities count unresolved N sessions towards the threshold."),
    )
    illness_days = forms.IntegerField(
        label=_("Illness absence to report to the LA after (school days)"),
        min_value=1,
        max_value=200,
    )
    illness_mode = forms.ChoiceField(
        label=_("Counting the days"),
        # IllnessMode's labels, in the reader's language.
        choices=[
            (IllnessMode.EITHER, _("Whichever comes first")),
            (IllnessMode.CONSECUTIVE, _("Consecutive school days")),
            (IllnessMode.CUMULATIVE, _("Cumulative school days")),
        ],
        widget=forms.RadioSelect,
    )


# An on-the-fly computation sends one bound parameter per school day (interventions.engine):
# five years is far more than any report needs and far below the databases' limits.
MAX_PERIOD_DAYS = 5 * 366


class AttendancePeriodForm(forms.Form):
    """``?from=&to=&as_of=`` (and ``&dfe=1`` where offered): which results to compute on the
    fly instead of showing the stored ones. Every field is optional; the selectors fill in
    the academic year of ``as_of`` (default today) for a missing end."""

    def __init__(self, *args: Any, dfe: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "from" is a Python keyword, so the fields are named here rather than declared.
        # Day / month / year boxes in the British order; an ISO date in a link still works.
        self.fields["from"] = DayMonthYearField(label=_("From"), required=False)
        self.fields["to"] = DayMonthYearField(label=_("To"), required=False)
        self.fields["as_of"] = DayMonthYearField(
            label=_("As of"), required=False, help_text=_("Default: today.")
        )
        if dfe:
            self.fields["dfe"] = forms.BooleanField(
                label=_("DfE-comparable (pupils aged 5 to 15, §4.2)"), required=False
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("from"), data.get("to")
        if start is not None and end is not None and end < start:
            self.add_error("to", _("The end of the period is before its start."))
        return data

    @property
    def computes(self) -> bool:
        """Did the user ask for anything but the stored results? (Call after validation.)"""
        data = self.cleaned_data
        return any(data.get(name) for name in ("from", "to", "as_of", "dfe"))


# --- The work queues' per-item forms (interventions.queues does the work) --------------------

ME = "me"


class QueueClaimForm(forms.Form):
    """Assign an item to me or to a colleague who works the queues (nothing chosen: me)."""

    claimant = forms.ChoiceField(label=_("Assign to"), required=False)

    def __init__(self, *args: Any, colleagues: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["claimant"].choices = [  # type: ignore[attr-defined]
            (ME, _("Me")),
            *((str(m.pk), str(m)) for m in colleagues),
        ]


class QueueSnoozeForm(forms.Form):
    until = DayMonthYearField(label=_("Snooze until"))
    reason = forms.CharField(label=_("Why snooze it"), max_length=300)


class QueueCloseForm(forms.Form):
    outcome = forms.CharField(label=_("Outcome"), max_length=40)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class QueueDecideForm(forms.Form):
    """The recorded decision on a penalty-notice threshold met (spec/regulations.md §5.2)."""

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=PnDecision.choices,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        required=False,
        help_text=_("Needed for no action."),
    )


class ContactCallForm(forms.Form):
    """Log a call (or a visit, text, email) about an absence. On a first-day item, a reason
    with a code (illness I, medical M, religious observance R) can be written to the
    register; ``interventions.queues.contact_attempt_record`` does that through the audited
    amendment path."""

    method = forms.ChoiceField(label=_("How"), choices=ContactMethod.choices)
    contact = forms.TypedChoiceField(label=_("Who"), coerce=int, required=False, empty_value=None)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ContactOutcome.choices)
    reason = forms.ChoiceField(
        label=_("Reason given"),
        choices=[("", _("No reason given")), *AbsenceReason.choices],
        required=False,
    )
    reason_given = forms.CharField(label=_("What they said"), max_length=300, required=False)
    write_code = forms.BooleanField(
        label=_("Record the reason's code on the register (illness I, medical M, religious R)"),
        required=False,
    )
    note = forms.CharField(label=_("Note"), max_length=1000, required=False)

    def __init__(
        self, *args: Any, contacts: Any = (), with_code: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].choices = [  # type: ignore[attr-defined]
            ("", _("Nobody in particular")),
            *((c.pk, str(c)) for c in contacts),
        ]
        if not with_code:
            del self.fields["write_code"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("write_code") and data.get("reason") not in REASON_CODES:
            self.add_error("reason", _("Choose a reason that has a code to record it."))
        return data

    def code(self) -> str:
        """The register code to write ("" for none); call after validation."""
        data = self.cleaned_data
        return REASON_CODES.get(data["reason"], "") if data.get("write_code") else ""

    def reason_text(self) -> str:
        """What the call's log and the amendment's reason say was given."""
        data = self.cleaned_data
        said = str(data["reason_given"]).strip()
        if data["reason"]:
            label = stored_label(AbsenceReason(data["reason"]).label)  # stored in English
            return f"{label}: {said}" if said else label
        return said
