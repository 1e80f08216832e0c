"""The tenant (School, grouped in Trusts) and everything about belonging to it.

People (staff memberships, pupils, contacts, parent links), the roll (year groups, form
groups, dated form placements, the admission register as enrolments) and the school calendar
(academic years, terms and closures). Every school-owned model has a non-null ``school`` and
a fail-closed default manager (``schools.scoping``).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from schools.audit_models import AuditAction, AuditEvent  # noqa: F401 (registered here)
from schools.scoping import SchoolOwned, SchoolOwnedQuerySet, SchoolScopedManager
from schools.upn import upn_error

MAX_REGISTER_WINDOW = dt.timedelta(minutes=30)


def stored_label(label: StrOrPromise) -> str:
    """A choice's label as text to store (a year group's name, the position on an audit row):
    always the English, whatever language the person who caused the write reads. Labels shown
    on pages stay translatable."""
    with translation.override("en-gb"):
        return str(label)


class Jurisdiction(models.TextChoices):
    ENGLAND = "england", gettext_lazy("England")
    WALES = "wales", gettext_lazy("Wales")


class Phase(models.TextChoices):
    NURSERY = "nursery", gettext_lazy("Nursery")
    PRIMARY = "primary", gettext_lazy("Primary")
    SECONDARY = "secondary", gettext_lazy("Secondary")
    ALL_THROUGH = "all_through", gettext_lazy("All-through")
    SPECIAL = "special", gettext_lazy("Special")


class Role(models.TextChoices):
    FORM_TUTOR = "form_tutor", gettext_lazy("Form tutor")
    ATTENDANCE_OFFICER = "attendance_officer", gettext_lazy("Attendance officer")
    PASTORAL_LEAD = "pastoral_lead", gettext_lazy("Pastoral lead")
    HEADTEACHER = "headteacher", gettext_lazy("Headteacher")
    SCHOOL_ADMIN = "school_admin", gettext_lazy("School administrator")
    TRUST_LEADER = "trust_leader", gettext_lazy("Trust leader")
    PARENT = "parent", gettext_lazy("Parent or carer")
    # Which role may do what: schools.permissions.ROLE_MATRIX.


def register_window_errors(
    *, am_opens: dt.time, am_closes: dt.time, pm_opens: dt.time, pm_closes: dt.time
) -> dict[str, list[str]]:
    """Problems with a school's register times (spec/regulations.md §3.1), keyed by the field
    they belong to (``None`` for the two windows together); empty if there are none.

    Each register stays open at most 30 minutes, and the AM and PM windows are the same length.
    """
    today = dt.date(2000, 1, 3)  # any date: times are compared as same-day datetimes

    def length(opens: dt.time, closes: dt.time) -> dt.timedelta:
        return dt.datetime.combine(today, closes) - dt.datetime.combine(today, opens)

    am, pm = length(am_opens, am_closes), length(pm_opens, pm_closes)
    errors: dict[str, list[str]] = {}
    for field, window, backwards, too_long in (
        (
            "am_register_closes",
            am,
            _("The morning register must close after it opens."),
            _("The morning register may stay open for at most 30 minutes."),
        ),
        (
            "pm_register_closes",
            pm,
            _("The afternoon register must close after it opens."),
            _("The afternoon register may stay open for at most 30 minutes."),
        ),
    ):
        if window <= dt.timedelta(0):
            errors[field] = [backwards]
        elif window > MAX_REGISTER_WINDOW:
            errors[field] = [too_long]
    if am != pm:
        errors[NON_FIELD_ERRORS] = [
            _("The morning and afternoon registers must stay open for the same time.")
        ]
    return errors


class Trust(models.Model):
    """A multi-academy trust or local-authority group of schools (not school-owned)."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)

    def __str__(self) -> str:
        return self.name


class School(models.Model):
    """The tenant. Not scoped itself: it is what every other row is scoped by."""

    trust = models.ForeignKey(
        Trust, on_delete=models.PROTECT, related_name="schools", null=True, blank=True
    )
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    urn = models.CharField(
        "URN", max_length=6, unique=True, validators=[RegexValidator(r"^\d{6}$", "Six digits.")]
    )
    la_code = models.CharField(
        "LA code",
        max_length=3,
        blank=True,
        validators=[RegexValidator(r"^\d{3}$", "Three digits.")],
    )
    jurisdiction = models.CharField(max_length=10, choices=Jurisdiction.choices)
    phase = models.CharField(max_length=12, choices=Phase.choices, default=Phase.PRIMARY)
    welsh_language = models.BooleanField(
        default=False, help_text="Offer the interface and letters in Welsh as well as English."
    )
    welsh_medium = models.BooleanField(
        default=False,
        help_text="A Welsh-medium school: its parents see the interface in Welsh unless they "
        "choose English.",
    )
    attendance_target = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        default=Decimal("96.0"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text="Whole-school attendance target, in per cent.",
    )
    am_register_opens = models.TimeField(default=dt.time(8, 40))
    am_register_closes = models.TimeField(default=dt.time(9, 10))
    am_session_ends = models.TimeField(default=dt.time(12, 0))
    pm_register_opens = models.TimeField(default=dt.time(13, 0))
    pm_register_closes = models.TimeField(default=dt.time(13, 30))
    pm_session_ends = models.TimeField(default=dt.time(15, 20))
    timezone = models.CharField(max_length=40, default="Europe/London")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(attendance_target__gte=0) & Q(attendance_target__lte=100),
                name="school_target_is_a_percentage",
            ),
            models.CheckConstraint(
                condition=Q(am_register_closes__gt=F("am_register_opens"))
                & Q(pm_register_closes__gt=F("pm_register_opens")),
                name="school_registers_close_after_they_open",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def local_time(self, now: dt.datetime | None = None) -> dt.datetime:
        """``now`` (default: the current time) on the school's own clock, its ``timezone``."""
        return (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(self.timezone))

    def clean(self) -> None:
        errors = register_window_errors(
            am_opens=self.am_register_opens,
            am_closes=self.am_register_closes,
            pm_opens=self.pm_register_opens,
            pm_closes=self.pm_register_closes,
        )
        if errors:
            raise ValidationError(errors)


class StaffMembership(SchoolOwned):
    """A user's role at one school. One membership per user per school."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_memberships"
    )
    role = models.CharField(max_length=24, choices=Role.choices)
    job_title = models.CharField(
        max_length=100, blank=True, help_text="Shown beside the name on amendments and letters."
    )
    is_active = models.BooleanField(default=True)

    objects = SchoolScopedManager["StaffMembership"]()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "user"], name="membership_one_per_school"),
            models.CheckConstraint(
                condition=~Q(role__in=["parent", "trust_leader"]),
                name="membership_is_a_school_staff_role",
            ),
        ]
        indexes = [models.Index(fields=["school", "role"])]

    def __str__(self) -> str:
        return (
            f"{self.user.get_full_name() or self.user.get_username()} ({self.get_role_display()})"
        )


class TrustMembership(models.Model):
    """A trust leader: reads every school of one trust. Trust-owned, not school-owned."""

    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trust_memberships"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["trust", "user"], name="trust_membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} leads {self.trust}"


# --- The school calendar --------------------------------------------------------------------


class AcademicYear(SchoolOwned):
    """1 August to 31 July. Terms and closures inside it decide the school days."""

    name = models.CharField(max_length=9)  # "2026/27"
    start_date = models.DateField()
    end_date = models.DateField()

    objects = SchoolScopedManager["AcademicYear"]()

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.UniqueConstraint(fields=["school", "start_date"], name="year_unique_start"),
            models.CheckConstraint(
                condition=Q(end_date__gt=F("start_date")), name="year_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Term(SchoolOwned):
    """A range of dates whose weekdays are school days, unless a closure removes them."""

    academic_year = models.ForeignKey(AcademicYear, on_delete=models.CASCADE, related_name="terms")
    name = models.CharField(max_length=40)
    start_date = models.DateField()
    end_date = models.DateField()

    objects = SchoolScopedManager["Term"]()

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.UniqueConstraint(fields=["school", "start_date"], name="term_unique_start"),
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="term_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["school", "start_date", "end_date"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.start_date:%d %b %Y} to {self.end_date:%d %b %Y})"


class ClosureKind(models.TextChoices):
    HALF_TERM = "half_term", gettext_lazy("Half-term holiday")
    INSET = "inset", gettext_lazy("INSET day")
    BANK_HOLIDAY = "bank_holiday", gettext_lazy("Bank holiday")
    PLANNED = "planned", gettext_lazy("Planned closure")
    OTHER = "other", gettext_lazy("Other closure")


class SessionChoice(models.TextChoices):
    AM = "AM", gettext_lazy("Morning")
    PM = "PM", gettext_lazy("Afternoon")


class Closure(SchoolOwned):
    """Days (or one session of each day) inside a term on which pupils have no session."""

    start_date = models.DateField()
    end_date = models.DateField()
    session = models.CharField(
        max_length=2,
        choices=SessionChoice.choices,
        blank=True,
        help_text="Empty: the whole day is closed.",
    )
    kind = models.CharField(max_length=16, choices=ClosureKind.choices, default=ClosureKind.OTHER)
    description = models.CharField(max_length=200, blank=True)

    objects = SchoolScopedManager["Closure"]()

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="closure_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["school", "start_date", "end_date"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.start_date:%d %b %Y} to {self.end_date:%d %b %Y}"


# --- The roll -------------------------------------------------------------------------------


class NCYear(models.TextChoices):
    N1 = "N1", gettext_lazy("Nursery 1")
    N2 = "N2", gettext_lazy("Nursery 2")
    R = "R", gettext_lazy("Reception")
    Y1 = "1", gettext_lazy("Year 1")
    Y2 = "2", gettext_lazy("Year 2")
    Y3 = "3", gettext_lazy("Year 3")
    Y4 = "4", gettext_lazy("Year 4")
    Y5 = "5", gettext_lazy("Year 5")
    Y6 = "6", gettext_lazy("Year 6")
    Y7 = "7", gettext_lazy("Year 7")
    Y8 = "8", gettext_lazy("Year 8")
    Y9 = "9", gettext_lazy("Year 9")
    Y10 = "10", gettext_lazy("Year 10")
    Y11 = "11", gettext_lazy("Year 11")
    Y12 = "12", gettext_lazy("Year 12")
    Y13 = "13", gettext_lazy("Year 13")
    Y14 = "14", gettext_lazy("Year 14")


NC_YEAR_ORDER = {value: index for index, value in enumerate(NCYear.values)}


class YearGroup(SchoolOwned):
    nc_year = models.CharField("NC year", max_length=2, choices=NCYear.choices)
    name = models.CharField(max_length=40)
    sort_order = models.PositiveSmallIntegerField(default=0)

    objects = SchoolScopedManager["YearGroup"]()

    class Meta:
        ordering = ["sort_order"]
        constraints = [
            models.UniqueConstraint(fields=["school", "nc_year"], name="year_group_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class FormGroup(SchoolOwned):
    """A registration group for one academic year (its tutors take its AM/PM registers)."""

    academic_year = models.ForeignKey(AcademicYear, on_delete=models.PROTECT, related_name="forms")
    year_group = models.ForeignKey(YearGroup, on_delete=models.PROTECT, related_name="forms")
    name = models.CharField(max_length=20)

    objects = SchoolScopedManager["FormGroup"]()

    class Meta:
        ordering = ["year_group__sort_order", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "academic_year", "name"], name="form_unique_name_per_year"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FormTutor(SchoolOwned):
    form = models.ForeignKey(FormGroup, on_delete=models.CASCADE, related_name="tutors")
    membership = models.ForeignKey(
        StaffMembership, on_delete=models.CASCADE, related_name="tutored_forms"
    )

    objects = SchoolScopedManager["FormTutor"]()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["form", "membership"], name="form_tutor_unique"),
        ]


class StaffYearGroup(SchoolOwned):
    """A year group a pastoral lead looks after: they see the queue items, cases and pupils of
    these year groups only (``permissions.PupilScope.YEAR_GROUPS``; none assigned, none seen).
    Set with ``manage.py staff_year_groups``."""

    membership = models.ForeignKey(
        StaffMembership, on_delete=models.CASCADE, related_name="year_groups"
    )
    year_group = models.ForeignKey(YearGroup, on_delete=models.CASCADE, related_name="+")

    objects = SchoolScopedManager["StaffYearGroup"]()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "year_group"], name="staff_year_group_unique"
            ),
        ]
        indexes = [models.Index(fields=["school", "membership"])]

    def __str__(self) -> str:
        return f"{self.membership}: {self.year_group}"


class Gender(models.TextChoices):
    FEMALE = "F", gettext_lazy("Female")
    MALE = "M", gettext_lazy("Male")


class SenStatus(models.TextChoices):
    NONE = "N", gettext_lazy("No special educational need")
    SUPPORT = "K", gettext_lazy("SEN support")
    EHC_PLAN = "E", gettext_lazy("Education, health and care plan")


def validate_upn(value: str) -> None:
    error = upn_error(value)
    if error:
        raise ValidationError(error)


class PupilQuerySet(SchoolOwnedQuerySet["Pupil"]):
    def on_roll(self, on: dt.date) -> PupilQuerySet:
        """Pupils with an enrolment covering ``on`` (the admission register that day)."""
        return self.filter(
            Q(enrolments__leaving_date__isnull=True) | Q(enrolments__leaving_date__gte=on),
            enrolments__start_date__lte=on,
        ).distinct()


PupilManager = SchoolScopedManager.from_queryset(PupilQuerySet)


class Pupil(SchoolOwned):
    """A child on this school's roll (or once on it). A dual-registered child has a row at each
    school, so neither school reads the other's notes or special category data (TEN-05)."""

    upn = models.CharField("UPN", max_length=13, validators=[validate_upn])
    legal_forename = models.CharField(max_length=100)
    legal_surname = models.CharField(max_length=100)
    preferred_forename = models.CharField(max_length=100, blank=True)
    preferred_surname = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    gender = models.CharField(max_length=1, choices=Gender.choices)
    ethnicity = models.CharField(
        max_length=4, blank=True, help_text="DfE main ethnicity code, e.g. WBRI."
    )
    fsm = models.BooleanField("free school meals", default=False)
    sen_status = models.CharField(
        "SEN status", max_length=1, choices=SenStatus.choices, default=SenStatus.NONE
    )
    eal = models.BooleanField("English as an additional language", default=False)
    looked_after = models.BooleanField(default=False)
    child_in_need = models.BooleanField(default=False)
    child_protection_plan = models.BooleanField(default=False)
    young_carer = models.BooleanField(default=False)
    ehcp = models.BooleanField("education, health and care plan", default=False)
    pupil_premium = models.BooleanField(default=False)

    objects = PupilManager["Pupil"]()

    class Meta:
        ordering = ["legal_surname", "legal_forename"]
        constraints = [
            models.UniqueConstraint(fields=["school", "upn"], name="pupil_unique_upn"),
        ]
        indexes = [models.Index(fields=["school", "legal_surname", "legal_forename"])]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        forename = self.preferred_forename or self.legal_forename
        surname = self.preferred_surname or self.legal_surname
        return f"{forename} {surname}"


class Registration(models.TextChoices):
    SINGLE = "single", gettext_lazy("Single registration")
    MAIN = "main", gettext_lazy("Dual registration: main school")
    SUBSIDIARY = "subsidiary", gettext_lazy("Dual registration: subsidiary school")


class DeletionGround(models.TextChoices):
    """Regulation 9(1) of SI 2024/208 (spec/regulations.md §6.1), by its letter."""

    A = "a", gettext_lazy("(a) Registered at another school")
    B = "b", gettext_lazy("(b) Nursery pupil not expected to move up")
    C = "c", gettext_lazy("(c) Dual-registered, will not attend this school again")
    D = "d", gettext_lazy("(d) School attendance order amended to name another school")
    E = "e", gettext_lazy("(e) School attendance order revoked: educated otherwise")
    F = "f", gettext_lazy("(f) Parent notified in writing: educated otherwise than at school")
    G = "g", gettext_lazy("(g) No longer lives within a reasonable distance")
    H = "h", gettext_lazy("(h) Has not returned after a leave of absence")
    I = "i", gettext_lazy("(i) Continuously absent 20 school days, not found after joint enquiries")  # noqa: E741
    J = "j", gettext_lazy("(j) Detained under a sentence of detention")
    K = "k", gettext_lazy("(k) Has died")
    L = "l", gettext_lazy("(l) Ceases to be of compulsory school age, not continuing to sixth form")
    M = "m", gettext_lazy("(m) Boarder whose boarding fees are unpaid")
    N = (
        "n",
        gettext_lazy("(n) Ceased to be a pupil at an independent or non-maintained special school"),
    )
    O = "o", gettext_lazy("(o) Permanently excluded")  # noqa: E741
    NON_CSA = "non_csa", gettext_lazy("Not of compulsory school age (regulation 9(3))")


class Enrolment(SchoolOwned):
    """One entry in the admission register: from the starting day to the leaving date."""

    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="enrolments")
    start_date = models.DateField(help_text="The pupil's starting day (first expected session).")
    leaving_date = models.DateField(null=True, blank=True)
    deletion_ground = models.CharField(max_length=8, choices=DeletionGround.choices, blank=True)
    deletion_note = models.CharField(max_length=300, blank=True)
    registration = models.CharField(
        max_length=10, choices=Registration.choices, default=Registration.SINGLE
    )

    objects = SchoolScopedManager["Enrolment"]()

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(leaving_date__isnull=True) | Q(leaving_date__gte=F("start_date")),
                name="enrolment_leaves_after_start",
            ),
            models.CheckConstraint(
                condition=Q(leaving_date__isnull=False) | Q(deletion_ground=""),
                name="enrolment_ground_only_when_leaving",
            ),
        ]
        indexes = [models.Index(fields=["school", "pupil", "start_date"])]


class FormPlacement(SchoolOwned):
    """A pupil's membership of a form, dated, so "who is in 9B on 3 March" has one answer."""

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="placements")
    form = models.ForeignKey(FormGroup, on_delete=models.PROTECT, related_name="placements")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    objects = SchoolScopedManager["FormPlacement"]()

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="placement_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["school", "form", "start_date"]),
            models.Index(fields=["school", "pupil", "start_date"]),
        ]


class Relationship(models.TextChoices):
    MOTHER = "mother", gettext_lazy("Mother")
    FATHER = "father", gettext_lazy("Father")
    STEP_PARENT = "step_parent", gettext_lazy("Step-parent")
    GRANDPARENT = "grandparent", gettext_lazy("Grandparent")
    CARER = "carer", gettext_lazy("Carer")
    SOCIAL_WORKER = "social_worker", gettext_lazy("Social worker")
    OTHER = "other", gettext_lazy("Other relative or contact")


class Contact(SchoolOwned):
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="contacts")
    full_name = models.CharField(max_length=200)
    relationship = models.CharField(max_length=16, choices=Relationship.choices)
    parental_responsibility = models.BooleanField(default=True)
    lives_with_pupil = models.BooleanField(default=True)
    priority = models.PositiveSmallIntegerField(default=1, help_text="1 is called first.")
    mobile_phone = models.CharField(max_length=30, blank=True)
    home_phone = models.CharField(max_length=30, blank=True)
    work_phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)

    objects = SchoolScopedManager["Contact"]()

    class Meta:
        ordering = ["priority", "full_name"]
        indexes = [models.Index(fields=["school", "pupil", "priority"])]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.get_relationship_display()})"


class ParentLink(SchoolOwned):
    """Links a parent's user account to one of their own children (and nothing else)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="parent_links"
    )
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="parent_links")
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = SchoolScopedManager["ParentLink"]()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "pupil"], name="parent_link_unique"),
        ]
        indexes = [models.Index(fields=["school", "user"])]


class UserPreference(models.Model):
    """A user's own settings, whatever school they open: for now the interface language.

    Not school-owned: a parent with children at two schools, or a trust leader, has one."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference"
    )
    language = models.CharField(
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        help_text="Empty: the default (Welsh for parents at a Welsh-medium school, else English).",
    )

    def __str__(self) -> str:
        return f"{self.user}: {self.language or 'default'}"


class SessionGeneration(models.Model):
    """How many times the user has ended their other sessions (schools/account_security.py).

    Each session remembers the number current when it signed in; a session holding an older
    number is ended on its next request. Not school-owned: one per account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_generation"
    )
    generation = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.user}: {self.generation}"
