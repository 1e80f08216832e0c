"""factory_boy factories. SubFactories keep one school per object graph: a pupil's enrolment,
placement and contacts belong to the pupil's school, a form's year group to the form's."""

from __future__ import annotations

import datetime as dt
import io

import factory
import pypdf
from django.contrib.auth import get_user_model
from django.utils import timezone

from schools import models
from schools.calendar import academic_year_end, academic_year_name
from schools.upn import upn_make

DEMO_PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@example.org")
    email = factory.SelfAttribute("username")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", DEMO_PASSWORD)

    @factory.post_generation
    def _save(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()


class TrustFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Trust

    name = factory.Sequence(lambda n: f"Trust {n}")
    slug = factory.Sequence(lambda n: f"trust-{n}")


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.School

    trust = factory.SubFactory(TrustFactory)
    name = factory.Sequence(lambda n: f"School {n}")
    slug = factory.Sequence(lambda n: f"school-{n}")
    urn = factory.Sequence(lambda n: f"{100000 + n:06d}")
    la_code = "822"
    jurisdiction = models.Jurisdiction.ENGLAND
    phase = models.Phase.SECONDARY


class StaffMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.StaffMembership

    school = factory.SubFactory(SchoolFactory)
    user = factory.SubFactory(UserFactory)
    role = models.Role.FORM_TUTOR
    job_title = factory.LazyAttribute(lambda o: models.Role(o.role).label)


class TrustMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.TrustMembership

    trust = factory.SubFactory(TrustFactory)
    user = factory.SubFactory(UserFactory)


class AcademicYearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.AcademicYear

    school = factory.SubFactory(SchoolFactory)
    start_date = dt.date(2024, 8, 1)
    end_date = factory.LazyAttribute(lambda o: academic_year_end(o.start_date))
    name = factory.LazyAttribute(lambda o: academic_year_name(o.start_date))


class TermFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Term

    academic_year = factory.SubFactory(AcademicYearFactory)
    school = factory.SelfAttribute("academic_year.school")
    name = "Autumn"
    start_date = dt.date(2024, 9, 2)
    end_date = dt.date(2024, 12, 20)


class ClosureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Closure

    school = factory.SubFactory(SchoolFactory)
    start_date = dt.date(2024, 10, 28)
    end_date = dt.date(2024, 11, 1)
    kind = models.ClosureKind.HALF_TERM


class YearGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.YearGroup
        django_get_or_create = ("school", "nc_year")

    school = factory.SubFactory(SchoolFactory)
    nc_year = models.NCYear.Y9
    name = factory.LazyAttribute(lambda o: models.NCYear(o.nc_year).label)
    sort_order = factory.LazyAttribute(lambda o: models.NC_YEAR_ORDER[o.nc_year])


class FormGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.FormGroup

    school = factory.SubFactory(SchoolFactory)
    academic_year = factory.SubFactory(
        AcademicYearFactory, school=factory.SelfAttribute("..school")
    )
    year_group = factory.SubFactory(YearGroupFactory, school=factory.SelfAttribute("..school"))
    name = factory.Sequence(lambda n: f"9{chr(65 + n % 26)}{n}")


class FormTutorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.FormTutor

    form = factory.SubFactory(FormGroupFactory)
    school = factory.SelfAttribute("form.school")
    membership = factory.SubFactory(
        StaffMembershipFactory, school=factory.SelfAttribute("..school")
    )


class PupilFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Pupil

    school = factory.SubFactory(SchoolFactory)
    upn = factory.Sequence(lambda n: upn_make(f"82220242{n % 1000:03d}{n // 1000 % 10}"))
    legal_forename = factory.Faker("first_name")
    legal_surname = factory.Faker("last_name")
    date_of_birth = dt.date(2011, 3, 14)
    gender = models.Gender.FEMALE


class EnrolmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Enrolment

    pupil = factory.SubFactory(PupilFactory)
    school = factory.SelfAttribute("pupil.school")
    start_date = dt.date(2020, 9, 1)


class FormPlacementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.FormPlacement

    pupil = factory.SubFactory(PupilFactory)
    school = factory.SelfAttribute("pupil.school")
    form = factory.SubFactory(FormGroupFactory, school=factory.SelfAttribute("..school"))
    start_date = dt.date(2020, 9, 1)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Contact

    pupil = factory.SubFactory(PupilFactory)
    school = factory.SelfAttribute("pupil.school")
    full_name = factory.Faker("name")
    relationship = models.Relationship.MOTHER
    mobile_phone = "07700 900123"
    email = factory.Sequence(lambda n: f"parent{n}@example.org")


class ParentLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ParentLink

    pupil = factory.SubFactory(PupilFactory)
    school = factory.SelfAttribute("pupil.school")
    user = factory.SubFactory(UserFactory)


class AbsenceReportFactory(factory.django.DjangoModelFactory):
    """A parent's report from their account, waiting for the office."""

    class Meta:
        model = "registers.AbsenceReport"

    pupil = factory.SubFactory(PupilFactory)
    school = factory.SelfAttribute("pupil.school")
    submitted_by = factory.SubFactory(UserFactory)
    reporter_name = factory.LazyAttribute(lambda o: o.submitted_by.get_full_name())
    first_date = dt.date(2024, 9, 11)
    last_date = factory.SelfAttribute("first_date")
    reason = "illness"
    status = "pending"
    submitted_at = dt.datetime(2024, 9, 10, 19, 0, tzinfo=dt.UTC)


class LeaveRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "registers.LeaveRequest"

    pupil = factory.SubFactory(PupilFactory)
    school = factory.SelfAttribute("pupil.school")
    requested_by = factory.SubFactory(UserFactory)
    first_date = dt.date(2024, 9, 12)
    last_date = factory.SelfAttribute("first_date")
    reason = "Family wedding"
    requested_at = dt.datetime(2024, 8, 20, 19, 0, tzinfo=dt.UTC)


class CaseStageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "interventions.CaseStage"
        django_get_or_create = ("school", "position")

    school = factory.SubFactory(SchoolFactory)
    position = 0
    name = "Expect"


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "interventions.Case"

    pupil = factory.SubFactory(PupilFactory)
    school = factory.SelfAttribute("pupil.school")
    stage = factory.SubFactory(CaseStageFactory, school=factory.SelfAttribute("..school"))
    owner = factory.SubFactory(
        StaffMembershipFactory,
        school=factory.SelfAttribute("..school"),
        role=models.Role.ATTENDANCE_OFFICER,
    )
    opened_by = factory.SelfAttribute("owner")
    trigger_kind = "person"
    trigger_note = "Concern raised"
    opened_at = dt.datetime(2024, 9, 20, 9, 0, tzinfo=dt.UTC)


class LetterTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "letters.LetterTemplate"

    school = factory.SubFactory(SchoolFactory)
    key = factory.Sequence(lambda n: f"letter_{n}")
    language = "en"
    title = "Attendance concern"


class LetterTemplateVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "letters.LetterTemplateVersion"

    template = factory.SubFactory(LetterTemplateFactory)
    school = factory.SelfAttribute("template.school")
    number = 1
    body = "<p>Dear {{ addressee.name }},</p>"
    created_at = factory.LazyFunction(timezone.now)


def _blank_pdf() -> bytes:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=595, height=842)  # A4 in points
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


BLANK_PDF = _blank_pdf()  # a real one-page PDF: the print pile merges what the world stores


class LetterFactory(factory.django.DjangoModelFactory):
    """A stored letter (a stand-in, blank PDF) for tenancy tests; real ones come from
    ``letters.services.letter_generate``."""

    class Meta:
        model = "letters.Letter"

    pupil = factory.SubFactory(PupilFactory)
    school = factory.SelfAttribute("pupil.school")
    template_version = factory.SubFactory(
        LetterTemplateVersionFactory,
        template=factory.SubFactory(
            LetterTemplateFactory, school=factory.SelfAttribute("...school")
        ),
    )
    language = "en"
    snapshot = factory.LazyFunction(dict)
    pdf = factory.django.FileField(filename="letter.pdf", data=BLANK_PDF)
    created_at = factory.LazyFunction(timezone.now)


class LetterBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "letters.LetterBatch"

    template = factory.SubFactory(LetterTemplateFactory)
    school = factory.SelfAttribute("template.school")
    period_start = dt.date(2024, 9, 2)
    period_end = dt.date(2024, 12, 20)
    created_by = factory.SubFactory(
        StaffMembershipFactory, school=factory.SelfAttribute("..school")
    )
    created_at = factory.LazyFunction(timezone.now)
    merged_pdf = factory.django.FileField(filename="batch.pdf", data=b"%PDF-1.4\n%%EOF\n")
    letters_zip = factory.django.FileField(filename="batch.zip", data=b"PK\x05\x06" + bytes(18))
