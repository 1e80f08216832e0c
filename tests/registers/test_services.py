from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django_scopes import scopes_disabled

from registers.models import AttendanceMark, MarkChange, Register
from registers.services import marks as services
from registers.services.marks import RegisterEntry
from schools.scoping import school_scope
from tests.registers.conftest import MONDAY, build_register_world

pytestmark = pytest.mark.django_db


def entries(rw, code="/", version=0, overrides=None):
    overrides = overrides or {}
    return [RegisterEntry(p.pk, overrides.get(p.pk, code), None, version) for p in rw.pupils]


def save(rw, rows, at, day=MONDAY, session="AM"):
    return services.register_save(
        school=rw.school,
        form=rw.form,
        date=day,
        session=session,
        entries=rows,
        membership=rw.tutor,
        now=at,
    )


def amend(rw, pupil, code, reason="Parent phoned", session="AM", day=MONDAY, membership=None, **kw):
    return services.mark_amend(
        school=rw.school,
        pupil=pupil,
        date=day,
        session=session,
        code=code,
        minutes_late=None,
        reason=reason,
        membership=membership or rw.officer,
        **kw,
    )


def test_saving_a_complete_register_marks_everyone_and_takes_it(rw):
    with school_scope(rw.school):
        result = save(rw, entries(rw), rw.at(MONDAY, 8, 45))
        register = Register.objects.get(form=rw.form, date=MONDAY, session="AM")

        assert result.ok
        assert result.written.created == 30
        assert AttendanceMark.objects.filter(date=MONDAY, session="AM", code="/").count() == 30
        assert register.taken_at is not None
        assert register.taken_by == rw.tutor


def test_a_partial_register_is_saved_but_not_taken(rw):
    with school_scope(rw.school):
        result = save(rw, entries(rw)[:10], rw.at(MONDAY, 8, 45))
        register = Register.objects.get(form=rw.form, date=MONDAY, session="AM")

        assert result.ok
        assert result.missing == 20
        assert register.taken_at is None


def test_present_key_follows_the_session_and_minutes_late_decide_l_or_u(rw):
    late, very_late = rw.pupils[0], rw.pupils[1]
    rows = [
        RegisterEntry(late.pk, "L", 10, 0),
        RegisterEntry(very_late.pk, "L", 30, 0),  # 13:00 + 30 min = 13:30, the close time: U
        *[RegisterEntry(p.pk, "/", None, 0) for p in rw.pupils[2:]],
    ]
    with school_scope(rw.school):
        save(rw, rows, rw.at(MONDAY, 13, 5), session="PM")
        codes = dict(AttendanceMark.objects.filter(session="PM").values_list("pupil_id", "code"))

    assert codes[late.pk] == "L"
    assert codes[very_late.pk] == "U"
    assert codes[rw.pupils[2].pk] == "\\"


def test_invalid_codes_are_reported_per_pupil_and_nothing_is_saved(rw):
    bad = entries(rw, overrides={rw.pupils[3].pk: "H", rw.pupils[4].pk: "X"})
    with school_scope(rw.school):
        result = save(rw, bad, rw.at(MONDAY, 8, 45))

        assert set(result.errors) == {rw.pupils[3].pk, rw.pupils[4].pk}
        assert (
            result.errors[rw.pupils[3].pk]
            == "H is not an attendance code in England on 09 Sep 2024."
        )
        assert "compulsory school age" in result.errors[rw.pupils[4].pk]
        assert AttendanceMark.objects.count() == 0


def test_a_stale_save_does_not_overwrite_a_newer_mark_and_names_the_pupil(rw):
    pupil = rw.pupils[0]
    with school_scope(rw.school):
        save(rw, entries(rw), rw.at(MONDAY, 8, 45))
        # Two pages loaded after that save (version 1); the first page changes pupil 0 ...
        save(rw, [RegisterEntry(pupil.pk, "I", None, 1)], rw.at(MONDAY, 8, 50))
        # ... then the second, still showing version 1, tries to set N.
        stale = [RegisterEntry(p.pk, "N" if p == pupil else "/", None, 1) for p in rw.pupils]
        result = save(rw, stale, rw.at(MONDAY, 8, 55))
        mark = AttendanceMark.objects.get(pupil=pupil, date=MONDAY, session="AM")

    assert not result.ok
    assert set(result.conflicts) == {pupil.pk}
    assert result.conflicts[pupil.pk].code == "I"
    assert mark.code == "I"
    assert mark.version == 2


def test_resubmitting_the_same_codes_from_a_stale_page_is_not_a_conflict(rw):
    with school_scope(rw.school):
        save(rw, entries(rw), rw.at(MONDAY, 8, 45))
        again = save(rw, entries(rw), rw.at(MONDAY, 8, 46))

    assert again.ok
    assert again.written.unchanged == 30


def test_corrections_before_close_keep_history(rw):
    pupil = rw.pupils[0]
    with school_scope(rw.school):
        save(rw, entries(rw), rw.at(MONDAY, 8, 45))
        save(rw, [RegisterEntry(pupil.pk, "N", None, 1)], rw.at(MONDAY, 8, 50))
        change = MarkChange.objects.get()

    assert (change.original_code, change.new_code) == ("/", "N")
    assert change.changed_by == rw.tutor


def test_a_locked_register_refuses_the_tutor(rw):
    with school_scope(rw.school):
        save(rw, entries(rw), rw.at(MONDAY, 8, 45))
        with pytest.raises(ValidationError, match="closed"):
            save(rw, entries(rw, "N", 1), rw.at(MONDAY, 9, 15))
        assert AttendanceMark.objects.filter(code="N").count() == 0


def test_officer_amends_a_closed_mark_with_reason_and_the_history_has_all_five_fields(rw):
    pupil = rw.pupils[0]
    amended_at = rw.at(MONDAY + dt.timedelta(days=1), 10)
    with school_scope(rw.school):
        save(rw, entries(rw, overrides={pupil.pk: "N"}), rw.at(MONDAY, 8, 45))
        mark = amend(rw, pupil, "I", reason="Mother phoned: tonsillitis", now=amended_at)
        change = MarkChange.objects.get(mark=mark)

    assert mark.code == "I"
    assert change.original_code == "N"
    assert change.new_code == "I"
    assert change.reason == "Mother phoned: tonsillitis"
    assert change.changed_at == amended_at
    assert change.changed_by_name == rw.officer.user.get_full_name()
    assert change.changed_by_position == "Attendance Officer"


def test_amendment_needs_an_authorised_role_and_a_reason(rw):
    pupil = rw.pupils[0]
    with school_scope(rw.school):
        with pytest.raises(ValidationError, match="Only attendance officers"):
            amend(rw, pupil, "I", membership=rw.tutor)
        with pytest.raises(ValidationError, match="reason"):
            amend(rw, pupil, "I", reason="  ")
        assert AttendanceMark.objects.count() == 0


def test_marks_cannot_be_entered_on_a_day_without_sessions_except_hash(rw):
    half_term = dt.date(2024, 10, 29)
    with school_scope(rw.school):
        with pytest.raises(ValidationError, match="not a school session"):
            amend(rw, rw.pupils[0], "/", day=half_term)
        with pytest.raises(ValidationError, match="not a school session"):
            save(rw, entries(rw), rw.at(half_term, 8, 45), day=half_term)
        assert amend(rw, rw.pupils[0], "#", day=half_term).code == "#"


def test_amendment_history_is_append_only_in_the_database(rw):
    pupil = rw.pupils[0]
    with school_scope(rw.school):
        amend(rw, pupil, "O", reason="No contact")
        amend(rw, pupil, "I", reason="Doctor's note")
    with scopes_disabled():
        change = MarkChange.objects.get()
        with pytest.raises(DatabaseError), transaction.atomic():
            MarkChange.objects.filter(pk=change.pk).update(reason="tampered")
        with pytest.raises(DatabaseError), transaction.atomic():
            MarkChange.objects.filter(pk=change.pk).delete()
        assert MarkChange.objects.get().reason == "Doctor's note"


def test_welsh_school_gets_the_welsh_code_set(db):
    wales = build_register_world(size=2, jurisdiction="wales")
    rows = [
        RegisterEntry(wales.pupils[0].pk, "H", None, 0),
        RegisterEntry(wales.pupils[1].pk, "C2", None, 0),
    ]
    with school_scope(wales.school):
        result = save(wales, rows, wales.at(MONDAY, 8, 45))

    assert set(result.errors) == {wales.pupils[1].pk}


def test_z_only_before_the_starting_day(db):
    rw = build_register_world(size=1)
    pupil = rw.pupils[0]
    with scopes_disabled():
        pupil.enrolments.update(start_date=MONDAY + dt.timedelta(days=2))
    with school_scope(rw.school):
        assert amend(rw, pupil, "Z", reason="Not yet on roll").code == "Z"
        with pytest.raises(ValidationError, match="not on roll"):
            amend(rw, pupil, "/", session="PM")
        with pytest.raises(ValidationError, match="Z is only"):
            amend(rw, pupil, "Z", day=MONDAY + dt.timedelta(days=3))


@pytest.mark.parametrize("size", [5, 30])
def test_saving_a_register_runs_a_bounded_number_of_queries(
    db, django_assert_max_num_queries, size
):
    rw = build_register_world(size=size)
    with school_scope(rw.school):
        save(rw, entries(rw, "N"), rw.at(MONDAY, 8, 45))
        with django_assert_max_num_queries(16):
            result = save(rw, entries(rw, "/", 1), rw.at(MONDAY, 8, 50))

    assert result.written.changed == size
