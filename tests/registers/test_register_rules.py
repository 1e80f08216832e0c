"""Issue 8's register rules, each decided once in ``registers.services.marks`` and checked
here on every path that writes a mark: the register form, the register API, the amendment
form, the amendment API and the CSV import. Also the 404 page for days without a session
(issue 8) and the amendment form's ``next`` (issue 9)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from registers.models import AttendanceMark, MarkChange, Register
from registers.services import marks
from registers.services.marks import RegisterEntry, mark_amend, register_save
from schools.scoping import school_scope
from tests.registers.conftest import MONDAY, build_register_world

pytestmark = pytest.mark.django_db

SATURDAY = MONDAY - dt.timedelta(days=2)
HALF_TERM = dt.date(2024, 10, 29)  # inside the conftest closure
TUESDAY = MONDAY + dt.timedelta(days=1)


@pytest.fixture
def rw(db):
    return build_register_world(size=3)


@pytest.fixture
def morning(rw, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: rw.at(MONDAY, 8, 45))


@pytest.fixture
def next_day(rw, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: rw.at(TUESDAY, 10))


def take_url(rw, day=MONDAY, session="AM"):
    kwargs = {"form_id": rw.form.pk, "date": day.isoformat(), "session": session}
    return reverse("registers:take", kwargs={"school_slug": rw.school.slug, **kwargs})


def amend_url(rw, pupil, day=MONDAY, session="AM"):
    kwargs = {"pupil_id": pupil.pk, "date": day.isoformat(), "session": session}
    return reverse("registers:amend", kwargs={"school_slug": rw.school.slug, **kwargs})


def api_register_url(rw):
    kwargs = {"form_id": rw.form.pk, "date": MONDAY.isoformat(), "session": "AM"}
    return reverse("api:register", kwargs={"school_slug": rw.school.slug, **kwargs})


def api_amend_url(rw):
    return reverse("api:mark-amend", kwargs={"school_slug": rw.school.slug})


def form_post(rw, pupil, code, minutes=""):
    data = {}
    for p in rw.pupils:
        data[f"code-{p.pk}"] = code if p == pupil else "/"
        data[f"minutes-{p.pk}"] = minutes if p == pupil else ""
        data[f"version-{p.pk}"] = "0"
    return data


def api_post(rw, pupil, code, minutes=None):
    return {
        "marks": [
            {
                "pupil": p.pk,
                "code": code if p == pupil else "/",
                "minutes_late": minutes if p == pupil else None,
                "version": 0,
            }
            for p in rw.pupils
        ]
    }


def stored(pupil, day=MONDAY, session="AM"):
    with scopes_disabled():
        mark = AttendanceMark.objects.filter(pupil=pupil, date=day, session=session).first()
    return None if mark is None else (mark.code, mark.minutes_late)


def close_monday(rw, client_for, monkeypatch):
    """Take Monday's AM register with every pupil present, then move to Tuesday."""
    monkeypatch.setattr(timezone, "now", lambda: rw.at(MONDAY, 8, 45))
    client_for(rw.tutor.user).post(take_url(rw), form_post(rw, rw.pupils[0], "/"))
    monkeypatch.setattr(timezone, "now", lambda: rw.at(TUESDAY, 10))


# AM register: opens 08:40, closes 09:10, session ends 12:00.
CASES = [
    # (code, minutes, stored or None when refused, words of the refusal)
    ("L", "10", ("L", 10), ""),
    ("L", "30", ("U", 30), ""),  # 09:10, exactly the close: U (§3.2)
    ("L", "150", ("U", 150), ""),  # 11:10: after the close, before the end of the session
    ("L", "999", None, "after the AM session ended"),  # used to wrap past midnight into L
    ("L", "", None, "Enter the minutes late with L"),
    ("U", "", ("U", None), ""),  # minutes are optional with U (§3.2)
    ("/", "7", None, "Minutes late go with L or U, not /"),  # used to be dropped by the form
]


@pytest.mark.parametrize(("code", "minutes", "expected", "words"), CASES)
def test_register_form(rw, client_for, morning, code, minutes, expected, words):
    pupil = rw.pupils[0]

    response = client_for(rw.tutor.user).post(take_url(rw), form_post(rw, pupil, code, minutes))

    assert stored(pupil) == expected
    if expected is None:
        assert response.status_code == 200
        assert words in response.content.decode()
        assert stored(rw.pupils[1]) is None  # nothing was saved
    else:
        assert response.status_code == 302


@pytest.mark.parametrize(("code", "minutes", "expected", "words"), CASES)
def test_register_api(rw, client_for, morning, code, minutes, expected, words):
    pupil = rw.pupils[0]

    response = client_for(rw.tutor.user).post(
        api_register_url(rw),
        api_post(rw, pupil, code, int(minutes) if minutes else None),
        content_type="application/json",
    )

    assert stored(pupil) == expected
    if expected is None:
        assert response.status_code == 400
        assert words in response.json()["errors"][str(pupil.pk)]
    else:
        assert response.status_code == 200


@pytest.mark.parametrize(("code", "minutes", "expected", "words"), CASES)
def test_amendment_form(rw, client_for, monkeypatch, code, minutes, expected, words):
    close_monday(rw, client_for, monkeypatch)
    pupil = rw.pupils[0]

    response = client_for(rw.officer.user).post(
        amend_url(rw, pupil),
        {"code": code, "minutes_late": minutes, "reason": "Arrival book checked"},
    )

    if expected is None:
        assert response.status_code == 400
        assert words in response.content.decode()
        assert stored(pupil) == ("/", None)
    else:
        assert response.status_code == 302
        assert stored(pupil) == expected


@pytest.mark.parametrize(("code", "minutes", "expected", "words"), CASES)
def test_amendment_api(rw, client_for, monkeypatch, code, minutes, expected, words):
    close_monday(rw, client_for, monkeypatch)
    pupil = rw.pupils[0]
    payload = {
        "pupil": pupil.pk,
        "date": MONDAY.isoformat(),
        "session": "AM",
        "code": code,
        "reason": "Arrival book checked",
    }
    if minutes:
        payload["minutes_late"] = int(minutes)

    response = client_for(rw.officer.user).post(
        api_amend_url(rw), payload, content_type="application/json"
    )

    if expected is None:
        assert response.status_code == 400
        assert words in response.json()["detail"]
        assert stored(pupil) == ("/", None)
    else:
        assert response.status_code == 200
        assert stored(pupil) == expected


# --- an amendment's reason, and the other free text -----------------------------------------


def test_an_amendment_reason_over_500_characters_is_refused_on_every_path(
    rw, client_for, monkeypatch
):
    close_monday(rw, client_for, monkeypatch)
    pupil, officer = rw.pupils[0], client_for(rw.officer.user)
    long_reason = "x" * 5000

    form = officer.post(amend_url(rw, pupil), {"code": "M", "reason": long_reason})
    api = officer.post(
        api_amend_url(rw),
        {
            "pupil": pupil.pk,
            "date": "2024-09-09",
            "session": "AM",
            "code": "M",
            "reason": "x" * 501,
        },
        content_type="application/json",
    )
    with school_scope(rw.school), pytest.raises(ValidationError, match="500 characters"):
        mark_amend(
            school=rw.school,
            pupil=pupil,
            date=MONDAY,
            session="AM",
            code="M",
            minutes_late=None,
            reason="x" * 501,
            membership=rw.officer,
        )

    assert form.status_code == 400
    assert "Keep the reason to 500 characters" in form.content.decode()
    assert api.status_code == 400
    assert stored(pupil) == ("/", None)
    with scopes_disabled():
        assert not MarkChange.objects.exists()


# --- the amendment form offers only its session's present mark ---------------------------------


@pytest.mark.parametrize(
    ("session", "offered", "not_offered"), [("AM", "/", "\\"), ("PM", "\\", "/")]
)
def test_the_amendment_form_offers_only_its_sessions_present_mark(
    rw, client_for, next_day, session, offered, not_offered
):
    page = client_for(rw.officer.user).get(amend_url(rw, rw.pupils[0], session=session))

    body = page.content.decode()
    assert f'<option value="{offered}"' in body
    assert f'<option value="{not_offered}"' not in body


# --- a conflict names who and when ------------------------------------------------------------


def test_a_conflict_names_who_changed_the_mark_and_when(rw, client_for, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: rw.at(MONDAY, 8, 45))
    tutor = client_for(rw.tutor.user)
    tutor.post(take_url(rw), form_post(rw, rw.pupils[0], "/"))
    pupil = rw.pupils[1]
    with school_scope(rw.school):
        register_save(
            school=rw.school,
            form=rw.form,
            date=MONDAY,
            session="AM",
            entries=[RegisterEntry(pupil.pk, "I", None, 1)],
            membership=rw.officer,
            now=rw.at(MONDAY, 8, 46),
        )
    stale = {**form_post(rw, pupil, "N"), **{f"version-{p.pk}": "1" for p in rw.pupils}}
    api_stale = api_post(rw, pupil, "N")
    for item in api_stale["marks"]:
        item["version"] = 1

    page = tutor.post(take_url(rw), stale).content.decode()
    api = tutor.post(api_register_url(rw), api_stale, content_type="application/json")

    name = rw.officer.user.get_full_name()
    expected = f"Changed to I at 08:46 by {name} (Attendance Officer)"
    assert expected in page
    assert "someone else" not in page
    assert api.status_code == 409
    assert expected in api.json()["messages"][str(pupil.pk)]


# --- a refused save leaves nothing behind --------------------------------------------------------


def test_a_refused_register_save_leaves_no_register_row(rw, client_for, morning):
    form = client_for(rw.tutor.user).post(take_url(rw), form_post(rw, rw.pupils[0], "H"))
    with school_scope(rw.school):
        result = register_save(
            school=rw.school,
            form=rw.form,
            date=MONDAY,
            session="AM",
            entries=[RegisterEntry(rw.pupils[0].pk, "L", None, 0)],
            membership=rw.tutor,
        )

    assert form.status_code == 200
    assert "Nothing was saved" in form.content.decode()
    assert not result.ok
    with scopes_disabled():
        assert not Register.objects.exists()
        assert not AttendanceMark.objects.exists()


# --- days without a session: our 404 page ------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True], ids=["production", "development"])
@pytest.mark.parametrize(
    "path",
    [
        "take-saturday",
        "take-half-term",
        "take-no-such-date",
        "amend-saturday",
        "amend-half-term",
        "list-banana",
        "take-api-saturday",
    ],
)
def test_a_day_without_a_session_is_our_404_page(rw, client_for, next_day, path, settings, debug):
    # Development (DEBUG, as ``make run``) shows our page too, never Django's technical one.
    settings.DEBUG = debug
    pupil = rw.pupils[0]
    urls = {
        "take-saturday": take_url(rw, SATURDAY),
        "take-half-term": take_url(rw, HALF_TERM, "PM"),
        "take-no-such-date": take_url(rw).replace(MONDAY.isoformat(), "2024-02-30"),
        "amend-saturday": amend_url(rw, pupil, SATURDAY),
        "amend-half-term": amend_url(rw, pupil, HALF_TERM),
        "list-banana": reverse("registers:list", kwargs={"school_slug": rw.school.slug})
        + "?date=banana",
        "take-api-saturday": api_register_url(rw).replace(MONDAY.isoformat(), SATURDAY.isoformat()),
    }

    response = client_for(rw.officer.user).get(urls[path])

    assert response.status_code == 404
    if not path.endswith("api-saturday"):
        assert "404.html" in [t.name for t in response.templates]
        assert "Page not found" in response.content.decode()
        assert "Technical" not in response.content.decode()
        assert "DEBUG = True" not in response.content.decode()


# --- no open redirect (issue 9) ------------------------------------------------------------------


@pytest.mark.parametrize(
    "next_url", ["https://elsewhere.example/phish", "//elsewhere.example/", "javascript:alert(1)"]
)
def test_the_amendment_form_does_not_follow_a_next_to_another_site(
    rw, client_for, monkeypatch, next_url
):
    close_monday(rw, client_for, monkeypatch)
    pupil, officer = rw.pupils[0], client_for(rw.officer.user)
    url = amend_url(rw, pupil)

    page = officer.get(url, {"next": next_url}).content.decode()
    response = officer.post(url, {"code": "M", "reason": "Dentist letter", "next": next_url})

    assert "elsewhere" not in page
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "registers:pupil-marks", kwargs={"school_slug": rw.school.slug, "pupil_id": pupil.pk}
    )


def test_the_amendment_form_follows_a_next_on_this_site(rw, client_for, monkeypatch):
    close_monday(rw, client_for, monkeypatch)
    back = take_url(rw)

    response = client_for(rw.officer.user).post(
        amend_url(rw, rw.pupils[0]) + f"?next={back}",
        {"code": "M", "reason": "Dentist letter", "next": back},
    )

    assert response.status_code == 302
    assert response["Location"] == back


@pytest.mark.parametrize(
    ("reason", "accepted"),
    [("  ok ", False), (" Dentist letter ", True), ("x" * 500, True), ("x" * 501, False)],
)
def test_one_reason_rule_for_every_amendment_path(reason, accepted):
    # mark_amend and the bulk history load (the demo) both ask amendment_reason_check: a
    # reason is refused over the column's length, never cut short.
    if accepted:
        assert marks.amendment_reason_check(reason) == reason.strip()
    else:
        with pytest.raises(ValidationError):
            marks.amendment_reason_check(reason)
