"""The demo trust's people, planned in pure Python: staff, pupils with their enrolments, form
placements and contacts, and the demo parent's children. Every choice comes from
``random.Random`` seeded with fixed strings, so the same academic year and scale always give
the same plan."""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from demo import names
from demo.blueprints import (
    BLUEPRINTS,
    FAMILY,
    FAMILY_ADDRESS,
    PARENT,
    PARENT_PARTNER,
    SchoolBlueprint,
)
from demo.calendar import YearCalendar, year_calendar
from schools.calendar import (
    academic_year_start,
)
from schools.models import (
    NC_YEAR_ORDER,
    DeletionGround,
    Gender,
    NCYear,
    Registration,
    Relationship,
    Role,
    SenStatus,
)
from schools.upn import upn_error, upn_make

_SEED = "northfield-demo-v1"  # change it to plan a different (but still repeatable) trust

# --- The plan (pure) ------------------------------------------------------------------------


@dataclass
class ContactPlan:
    full_name: str
    relationship: Relationship
    parental_responsibility: bool
    lives_with_pupil: bool
    priority: int
    mobile_phone: str = ""
    home_phone: str = ""
    work_phone: str = ""
    email: str = ""
    address: str = ""


@dataclass
class PlacementPlan:
    start_year: int  # the academic year of the form
    form: str
    start: dt.date
    end: dt.date | None


@dataclass
class PupilPlan:
    nc_year: NCYear  # the year group of the pupil's last year at the school
    upn: str
    legal_forename: str
    legal_surname: str
    date_of_birth: dt.date
    gender: Gender
    ethnicity: str
    start_date: dt.date
    placements: list[PlacementPlan]
    contacts: list[ContactPlan] = field(default_factory=list)
    preferred_forename: str = ""
    preferred_surname: str = ""
    fsm: bool = False
    pupil_premium: bool = False
    sen_status: SenStatus = SenStatus.NONE
    ehcp: bool = False  # follows sen_status (an EHC plan); the first-day queue's tier 4 reads it
    eal: bool = False
    looked_after: bool = False
    child_in_need: bool = False
    child_protection_plan: bool = False
    young_carer: bool = False
    leaving_date: dt.date | None = None
    deletion_ground: str = ""
    deletion_note: str = ""
    registration: Registration = Registration.SINGLE


@dataclass
class StaffPlan:
    username: str
    first_name: str
    last_name: str
    role: Role
    job_title: str
    demo: bool  # a printed demo login, with the demo password


@dataclass
class SchoolPlan:
    blueprint: SchoolBlueprint
    calendars: tuple[YearCalendar, YearCalendar]  # last academic year, this one
    staff: list[StaffPlan]
    tutors: list[tuple[int, str, str]]  # (academic year, form name, username)
    pupils: list[PupilPlan]


@dataclass
class TrustPlan:
    schools: list[SchoolPlan]
    parent_links: list[tuple[str, str]]  # (school slug, UPN) for the demo parent


def _year_number(nc_year: NCYear) -> int:
    """Reception is 0, nursery -1 and -2, Year 7 is 7: a child's age on 31 August minus 4."""
    return NC_YEAR_ORDER[nc_year] - NC_YEAR_ORDER[NCYear.R]


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and c.isalnum()).lower()


def _scaled(count: int, scale: float, minimum: int) -> int:
    return max(minimum, round(count * scale))


class _UpnAllocator:
    """Hands out UPN serial numbers per (LA, establishment, year of allocation), like an LA."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def allocate(self, la_code: str, estab: str, year: int) -> str:
        prefix = f"{la_code}{estab}{year % 100:02d}"
        if prefix not in self._next:
            self._next[prefix] = random.Random(f"{_SEED}:upn:{prefix}").randrange(1, 300)
        serial = self._next[prefix]
        self._next[prefix] = serial + 1
        if serial > 999:
            raise RuntimeError(f"Ran out of demo UPN serials for {prefix}.")
        upn = upn_make(f"{prefix}{serial:03d}")
        error = upn_error(upn)
        if error:
            raise RuntimeError(error)
        return upn


class _SchoolPlanner:
    """Plans one school's staff and pupils for the academic year starting ``current``."""

    def __init__(self, blueprint: SchoolBlueprint, *, current: int, scale: float) -> None:
        self.bp = blueprint
        self.current = current
        self.scale = scale
        self.upns = _UpnAllocator()
        self.years = {spec.nc_year: spec for spec in blueprint.years}
        self.by_number = {_year_number(spec.nc_year): spec for spec in blueprint.years}
        self.first = _year_number(blueprint.years[0].nc_year)
        self.counts = {
            spec.nc_year: _scaled(spec.pupils, scale, minimum=len(spec.forms))
            for spec in blueprint.years
        }

    def calendar(self, start_year: int) -> YearCalendar:
        return year_calendar(self.bp.calendar, start_year)

    def rng(self, purpose: str) -> random.Random:
        # One generator per school and purpose: changing one year's size leaves the others be.
        return random.Random(f"{_SEED}:{self.bp.slug}:{purpose}")

    # --- staff -------------------------------------------------------------------------------

    def plan_staff(self) -> tuple[list[StaffPlan], list[tuple[int, str, str]]]:
        rng = self.rng("staff")
        staff: list[StaffPlan] = []
        usernames: set[str] = set()

        def person(
            role: Role, job_title: str, username: str | None = None, *, demo: bool = False
        ) -> StaffPlan:
            group = "welsh" if rng.random() < self.bp.welsh_names else "british"
            women, men = names.ADULT_FORENAMES[group]
            first = rng.choice(women if rng.random() < 0.7 else men)
            if rng.random() < 0.15:  # staff rooms are diverse too
                group = rng.choice(("indian", "south_asian", "african", "european", "caribbean"))
                first = rng.choice(rng.choice(names.FORENAMES[group]))
            last = rng.choice(names.SURNAMES[group])
            if username is None:
                stem = f"{_ascii(first)}.{_ascii(last)}"
                username, n = f"{stem}@{self.bp.slug}.example.org", 1
                while username in usernames:
                    n += 1
                    username = f"{stem}{n}@{self.bp.slug}.example.org"
            usernames.add(username)
            plan = StaffPlan(username, first, last, role, job_title, demo=demo)
            staff.append(plan)
            return plan

        for role, local in (
            (Role.ATTENDANCE_OFFICER, "officer"),
            (Role.PASTORAL_LEAD, "pastoral"),
            (Role.HEADTEACHER, "head"),
            (Role.SCHOOL_ADMIN, "admin"),
        ):
            person(role, self.bp.job_titles[role], f"{local}@{self.bp.slug}.example.org", demo=True)

        tutors: list[tuple[int, str, str]] = []
        current_tutor: dict[tuple[int, int], str] = {}  # (year number, form index) -> username
        for spec in self.bp.years:
            for index, form in enumerate(spec.forms):
                title = (
                    f"Class teacher, {form}"
                    if self._keeps_teacher(_year_number(spec.nc_year))
                    else f"Form tutor, {form}"
                )
                demo = form == self.bp.demo_tutor_form
                username = f"tutor@{self.bp.slug}.example.org" if demo else None
                plan = person(Role.FORM_TUTOR, title, username, demo=demo)
                current_tutor[(_year_number(spec.nc_year), index)] = plan.username
                tutors.append((self.current, form, plan.username))

        # Last year's forms: class teachers stayed with their year group; tutors moved up with
        # their forms, and those whose forms left took this year's intake.
        claimed: dict[tuple[int, int], str] = {}  # last year's form -> its tutor
        used: set[tuple[int, int]] = set()
        leftovers: list[tuple[int, int]] = []
        for spec in self.bp.years:
            number = _year_number(spec.nc_year)
            for index in range(len(spec.forms)):
                successor: tuple[int, int] | None = None
                if self._keeps_teacher(number):
                    successor = (number, index)
                elif (number + 1, index) in current_tutor:
                    successor = (number + 1, index)
                if successor is None or successor in used:
                    leftovers.append((number, index))
                    continue
                used.add(successor)
                claimed[(number, index)] = current_tutor[successor]
        free = [key for key in current_tutor if key not in used]
        for number, index in leftovers:
            if free:
                claimed[(number, index)] = current_tutor[free.pop(0)]
            else:
                form = self.by_number[number].forms[index]
                claimed[(number, index)] = person(Role.FORM_TUTOR, f"Form tutor, {form}").username
        for (number, index), username in claimed.items():
            tutors.append((self.current - 1, self.by_number[number].forms[index], username))
        return staff, tutors

    def _keeps_teacher(self, number: int) -> bool:
        limit = self.bp.class_teachers_up_to
        return limit is not None and number <= _year_number(limit)

    # --- pupils ------------------------------------------------------------------------------

    def plan_pupils(self) -> list[PupilPlan]:
        pupils: list[PupilPlan] = []
        for spec in self.bp.years:
            rng = self.rng(f"pupils:{spec.nc_year.value}")
            for i in range(self.counts[spec.nc_year]):
                pupils.append(self.pupil(rng, number_now=_year_number(spec.nc_year), form_index=i))
        pupils += self.plan_leavers()
        for nc_year, registration in self.bp.dual_registered:
            # Dual registration: the pupil also attends another setting (alternative
            # provision, or a special school that holds the main registration).
            candidates = [p for p in pupils if p.nc_year == nc_year and p.leaving_date is None]
            candidates[len(candidates) // 2].registration = registration
        return pupils

    def plan_leavers(self) -> list[PupilPlan]:
        last_year = self.calendar(self.current - 1)
        leavers: list[PupilPlan] = []
        top = self.bp.years[-1]
        rng = self.rng("leavers")
        ground, note = self.bp.top_year_leaving
        for i in range(self.counts[top.nc_year]):
            leavers.append(
                self.pupil(
                    rng,
                    number_now=_year_number(top.nc_year) + 1,
                    form_index=i,
                    leaving=(last_year.last_school_day, ground, note),
                )
            )
        if NCYear.Y12 in self.years:
            # Year 11 leavers who went to college or an apprenticeship instead of the sixth form.
            stayed = round(self.counts[NCYear.Y12] * (1 - self.bp.external_entry[NCYear.Y12]))
            for i in range(max(1, self.counts[NCYear.Y11] - stayed)):
                leavers.append(
                    self.pupil(
                        rng,
                        number_now=12,
                        form_index=i,
                        leaving=(
                            last_year.last_school_day,
                            DeletionGround.L,
                            "Left at the end of Year 11 for college.",
                        ),
                    )
                )
        # A handful who left during last year.
        days = last_year.school_calendar.school_days_between(
            last_year.first_school_day_after_half_term(10), dt.date(self.current, 6, 30)
        )
        reasons = (
            (DeletionGround.A, "Registered at a school in Milton Keynes after a house move."),
            (DeletionGround.G, "Family moved to Cornwall."),
            (DeletionGround.F, "Parent's letter: elective home education."),
        )
        for i in range(max(1, round(3 * self.scale))):
            spec = rng.choice(self.bp.years[1:])
            ground, note = reasons[i % len(reasons)]
            leavers.append(
                self.pupil(
                    rng,
                    number_now=_year_number(spec.nc_year),
                    form_index=i,
                    leaving=(rng.choice(days), ground, note),
                )
            )
        return leavers

    def pupil(
        self,
        rng: random.Random,
        *,
        number_now: int,
        form_index: int,
        leaving: tuple[dt.date, DeletionGround, str] | None = None,
    ) -> PupilPlan:
        """One pupil, in NC year ``number_now`` this year (or who would be, for a leaver)."""
        bp = self.bp
        last_start = self.current if leaving is None else self.current - 1
        number_last = number_now - (self.current - last_start)
        forms_last = self.by_number[number_last].forms

        # Where did they join? Walk down the school's entry points (e.g. sixth form, Year 7);
        # everyone else started in the school's first year.
        entry, from_elsewhere = self.first, self.first > 0
        for nc_year, share in sorted(
            bp.external_entry.items(), key=lambda item: -_year_number(item[0])
        ):
            number = _year_number(nc_year)
            if number <= number_last and rng.random() < share:
                entry, from_elsewhere = number, True
                break
        entry_year = self.current - (number_now - entry)
        start = self.calendar(entry_year).first_school_day
        in_year = rng.random() < 0.04
        if in_year:  # an in-year admission, on the first day back after a half-term
            join_year = rng.randint(entry_year, last_start)
            # This year's joiners came after October half-term, so most are on roll by now.
            half_term = 10 if join_year == self.current else rng.choice((10, 2))
            start = self.calendar(join_year).first_school_day_after_half_term(half_term)
            from_elsewhere = True
        if leaving is not None and start >= leaving[0]:
            start = self.calendar(entry_year).first_school_day

        # The UPN was allocated by the first school the child joined, in that school's LA.
        reception_year = self.current - number_now
        if not from_elsewhere:
            upn = self.upns.allocate(bp.la_code, bp.estab, entry_year)
        elif rng.random() < (0.5 if in_year else 0.1):
            la_code = rng.choice(bp.nearby_las)
            upn = self.upns.allocate(la_code, f"2{rng.randrange(100, 400)}", reception_year)
        else:
            upn = self.upns.allocate(bp.la_code, rng.choice(bp.feeder_estabs), reception_year)

        # Born between 1 September and 31 August of the right school year.
        born_from = dt.date(self.current - number_now - 6, 9, 1)
        born_to = dt.date(self.current - number_now - 5, 8, 31)
        dob = born_from + dt.timedelta(days=rng.randrange((born_to - born_from).days + 1))

        gender = Gender.FEMALE if rng.random() < 0.5 else Gender.MALE
        ethnicity = _weighted(rng, bp.ethnicity)
        forename_groups, surname_groups = names.ETHNICITY_NAME_GROUPS[ethnicity]
        forename_group = rng.choice(forename_groups)
        surname_group = rng.choice(surname_groups)
        if ethnicity == "WBRI" and rng.random() < bp.welsh_names:
            forename_group = "welsh"
            surname_group = "welsh" if rng.random() < 0.8 else "british"
        girls, boys = names.FORENAMES[forename_group]
        forename = rng.choice(girls if gender == Gender.FEMALE else boys)
        surname = rng.choice(names.SURNAMES[surname_group])

        placements: list[PlacementPlan] = []
        alternative = rng.randrange(1000)  # form choice when forms are reshuffled (sixth form)
        leaving_date = leaving[0] if leaving else None
        for year_start in (self.current - 1, self.current):
            calendar = self.calendar(year_start)
            number = number_now - (self.current - year_start)
            on_roll = start <= calendar.end_date and (
                leaving_date is None or leaving_date >= calendar.start_date
            )
            if not on_roll or number not in self.by_number:
                continue
            forms = self.by_number[number].forms
            index = form_index if len(forms) == len(forms_last) else alternative
            end = None if year_start == self.current else calendar.end_date
            if leaving_date is not None and (end is None or leaving_date < end):
                end = leaving_date
            placements.append(
                PlacementPlan(
                    year_start, forms[index % len(forms)], max(calendar.start_date, start), end
                )
            )

        pupil = PupilPlan(
            nc_year=self.by_number[number_last].nc_year,
            upn=upn,
            legal_forename=forename,
            legal_surname=surname,
            date_of_birth=dob,
            gender=gender,
            ethnicity=ethnicity,
            start_date=start,
            placements=placements,
        )
        if leaving is not None:
            pupil.leaving_date, ground, pupil.deletion_note = leaving
            pupil.deletion_ground = ground.value
        if forename in names.PREFERRED_FORENAMES and rng.random() < 0.4:
            pupil.preferred_forename = names.PREFERRED_FORENAMES[forename]
        step_family = rng.random() < 0.015
        if step_family:  # known by a step-parent's surname
            pupil.preferred_surname = rng.choice(names.SURNAMES[surname_group])

        # Characteristics, at roughly national rates (DfE and Welsh Government, 2024/25).
        pupil.looked_after = rng.random() < 0.01
        pupil.child_protection_plan = not pupil.looked_after and rng.random() < 0.01
        pupil.child_in_need = pupil.child_protection_plan or (
            not pupil.looked_after and rng.random() < 0.02
        )
        pupil.fsm = rng.random() < bp.fsm_rate
        # Pupil premium: FSM now or in the last six years, service children, looked after.
        pupil.pupil_premium = pupil.fsm or pupil.looked_after or rng.random() < 0.05
        sen = rng.random()
        pupil.sen_status = (
            SenStatus.EHC_PLAN
            if sen < 0.025
            else SenStatus.SUPPORT
            if sen < 0.155
            else SenStatus.NONE
        )
        pupil.ehcp = pupil.sen_status == SenStatus.EHC_PLAN
        pupil.eal = rng.random() < names.EAL_RATE[ethnicity]
        pupil.young_carer = number_now >= 3 and rng.random() < 0.025
        pupil.contacts = self.contacts(rng, pupil, forename_group, surname_group, step_family)
        return pupil

    def contacts(
        self,
        rng: random.Random,
        pupil: PupilPlan,
        forename_group: str,
        surname_group: str,
        step_family: bool,
    ) -> list[ContactPlan]:
        address = self.address(rng)
        home_phone = f"01632 960{rng.randrange(1000):03d}" if rng.random() < 0.35 else ""

        def adult(female: bool, surname: str) -> str:
            group = forename_group if forename_group in names.ADULT_FORENAMES else None
            if group is None:
                women, men = names.FORENAMES[forename_group]
            else:
                women, men = names.ADULT_FORENAMES[group]
            return f"{rng.choice(women if female else men)} {surname}"

        def contact(
            name: str,
            relationship: Relationship,
            *,
            responsibility: bool = True,
            lives_with: bool = True,
            at: str | None = None,
        ) -> ContactPlan:
            first, _, last = name.partition(" ")
            email = f"{_ascii(first)}.{_ascii(last)}{rng.randrange(10, 99)}@example.com"
            return ContactPlan(
                full_name=name,
                relationship=relationship,
                parental_responsibility=responsibility,
                lives_with_pupil=lives_with,
                priority=0,
                mobile_phone=f"07700 900{rng.randrange(1000):03d}",
                home_phone=home_phone if lives_with else "",
                email=email if rng.random() < 0.9 else "",
                address=address if lives_with else (at or self.address(rng)),
            )

        surname = pupil.legal_surname
        other_surname = rng.choice(names.SURNAMES[surname_group])
        found: list[ContactPlan] = []
        if pupil.looked_after:
            carer_surname = rng.choice(names.SURNAMES["british"])
            found.append(
                contact(adult(True, carer_surname), Relationship.CARER, responsibility=False)
            )
            worker = contact(
                f"{rng.choice(names.ADULT_FORENAMES['british'][0])} {rng.choice(names.SURNAMES['british'])}",
                Relationship.SOCIAL_WORKER,
                responsibility=False,
                lives_with=False,
                at=self.bp.council_address,
            )
            worker.work_phone, worker.mobile_phone = f"01632 960{rng.randrange(1000):03d}", ""
            found.append(worker)
            if rng.random() < 0.5:
                found.append(contact(adult(True, surname), Relationship.MOTHER, lives_with=False))
        else:
            first_contact = rng.random()
            mother_surname = surname if rng.random() < 0.75 else other_surname
            if first_contact < 0.82:
                found.append(contact(adult(True, mother_surname), Relationship.MOTHER))
                roll = rng.random()
                if step_family:
                    step_name = adult(False, pupil.preferred_surname or other_surname)
                    found.append(contact(step_name, Relationship.STEP_PARENT, responsibility=False))
                elif roll < 0.6:
                    found.append(contact(adult(False, surname), Relationship.FATHER))
                elif roll < 0.8:
                    found.append(
                        contact(adult(False, surname), Relationship.FATHER, lives_with=False)
                    )
            elif first_contact < 0.95:
                found.append(contact(adult(False, surname), Relationship.FATHER))
                if rng.random() < 0.6:
                    found.append(
                        contact(adult(True, mother_surname), Relationship.MOTHER, lives_with=False)
                    )
            else:  # kinship care with a grandparent under a special guardianship order
                found.append(contact(adult(True, surname), Relationship.GRANDPARENT))
            if len(found) < 3 and rng.random() < 0.3:
                found.append(
                    contact(
                        adult(rng.random() < 0.6, rng.choice((surname, other_surname))),
                        Relationship.GRANDPARENT,
                        responsibility=False,
                        lives_with=False,
                    )
                )
        for priority, planned in enumerate(found, start=1):
            planned.priority = priority
        return found

    def address(self, rng: random.Random) -> str:
        place = rng.choice(self.bp.localities)
        inward = (
            rng.choice(place.sectors)
            + rng.choice(names.POSTCODE_LETTERS)
            + rng.choice(names.POSTCODE_LETTERS)
        )
        street = f"{rng.randrange(1, 180)} {rng.choice(self.bp.streets)}"
        town = "" if place.town == place.name else f"\n{place.town}"
        return f"{street}\n{place.name}{town}\n{place.outward} {inward}"


# The first-day queue's vulnerability flags (interventions.queue_rules): the demo shows a call
# in every tier, so each school has at least one pupil on roll with each flag.
_TIER_FLAGS = ("child_protection_plan", "looked_after", "child_in_need", "young_carer", "ehcp")
_NOT_COMPULSORY = frozenset({NCYear.N1, NCYear.N2, NCYear.R})
_PER_TIER = 2


def _ensure_every_tier(pupils: list[PupilPlan]) -> None:
    """Make each flag the first flag (in tier order) of at least ``_PER_TIER`` pupils on roll,
    giving it to pupils without any, picked by position (so a small ``--scale`` still has a
    call in every tier). Draws no random numbers: the rest of the plan is unchanged."""

    def leading(p: PupilPlan) -> str:
        return next((flag for flag in _TIER_FLAGS if getattr(p, flag)), "")

    current = [
        p
        for p in pupils
        if p.leaving_date is None
        and p.registration == Registration.SINGLE
        and p.nc_year not in _NOT_COMPULSORY
    ]
    plain = [p for p in current if not leading(p)]
    for step, flag in enumerate(_TIER_FLAGS, start=1):
        missing = _PER_TIER - sum(1 for p in current if leading(p) == flag)
        for _ in range(missing):
            if not plain:
                return
            pupil = plain.pop(len(plain) * step // (len(_TIER_FLAGS) + 1) % len(plain))
            setattr(pupil, flag, True)
            if flag == "child_protection_plan":
                pupil.child_in_need = True  # a child protection plan is also a child in need
            elif flag == "ehcp":
                pupil.sen_status = SenStatus.EHC_PLAN


def _weighted(rng: random.Random, weights: Sequence[tuple[str, float]]) -> str:
    return rng.choices([value for value, _ in weights], weights=[w for _, w in weights])[0]


def plan_trust(*, today: dt.date, scale: float) -> TrustPlan:
    current = academic_year_start(today).year
    schools: list[SchoolPlan] = []
    for blueprint in BLUEPRINTS:
        planner = _SchoolPlanner(blueprint, current=current, scale=scale)
        staff, tutors = planner.plan_staff()
        schools.append(
            SchoolPlan(
                blueprint=blueprint,
                calendars=(planner.calendar(current - 1), planner.calendar(current)),
                staff=staff,
                tutors=tutors,
                pupils=planner.plan_pupils(),
            )
        )
    links = _plan_family(schools)
    family = {upn for _slug, upn in links}
    for school in schools:
        _ensure_every_tier([p for p in school.pupils if p.upn not in family])
    return TrustPlan(schools=schools, parent_links=links)


def _plan_family(schools: list[SchoolPlan]) -> list[tuple[str, str]]:
    """Turn three planned pupils into the demo parent's children, and return the links."""
    by_slug = {plan.blueprint.slug: plan for plan in schools}
    links: list[tuple[str, str]] = []
    first, last, email = PARENT
    for slug, nc_year, forename, gender in FAMILY:
        plan = by_slug[slug]
        first_day = plan.calendars[1].first_school_day
        candidates = [p for p in plan.pupils if p.nc_year == nc_year and p.leaving_date is None]
        pupil = next(
            (
                p
                for p in candidates
                if p.start_date <= first_day
                and p.registration == Registration.SINGLE
                and not p.looked_after
            ),
            candidates[0],
        )
        pupil.legal_forename, pupil.legal_surname, pupil.gender = forename, last, gender
        pupil.preferred_forename = pupil.preferred_surname = ""
        pupil.ethnicity, pupil.eal = "WBRI", False
        pupil.child_protection_plan = pupil.child_in_need = False
        pupil.contacts = [
            ContactPlan(
                full_name=f"{first} {last}",
                relationship=Relationship.MOTHER,
                parental_responsibility=True,
                lives_with_pupil=True,
                priority=1,
                mobile_phone="07700 900461",
                home_phone="01632 960274",
                email=email,
                address=FAMILY_ADDRESS,
            ),
            ContactPlan(
                full_name=" ".join(PARENT_PARTNER),
                relationship=Relationship.FATHER,
                parental_responsibility=True,
                lives_with_pupil=True,
                priority=2,
                mobile_phone="07700 900833",
                home_phone="01632 960274",
                email="daniel.hughes@example.com",
                address=FAMILY_ADDRESS,
            ),
        ]
        links.append((slug, pupil.upn))
    return links
