from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from schools.models import Role
from tests.factories import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def test_staff_sign_in_with_password_and_land_on_their_school(client, world):
    tutor = world.a1.users[Role.FORM_TUTOR]

    response = client.post(
        reverse("login"), {"username": tutor.username, "password": DEMO_PASSWORD}, follow=True
    )

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse(
        "schools:home", kwargs={"school_slug": world.a1.school.slug}
    )
    assert world.a1.form.name in response.content.decode()


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client, world):
    tutor = world.a1.users[Role.FORM_TUTOR]

    wrong_password = client.post(
        reverse("login"), {"username": tutor.username, "password": "nope-nope"}
    )
    unknown_user = client.post(
        reverse("login"), {"username": "nobody@example.org", "password": "nope-nope"}
    )

    assert wrong_password.status_code == unknown_user.status_code == 200
    assert "_auth_user_id" not in client.session
    assert (
        wrong_password.content.decode().replace(tutor.username, "nobody@example.org")
        == (unknown_user.content.decode())
        or "Please enter a correct" in wrong_password.content.decode()
    )


def test_password_reset_emails_a_link_and_answers_the_same_for_unknown_addresses(client, world):
    tutor = world.a1.users[Role.FORM_TUTOR]

    known = client.post(reverse("password_reset"), {"email": tutor.email})
    unknown = client.post(reverse("password_reset"), {"email": "nobody@example.org"})

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [tutor.email]
    assert "/accounts/reset/" in mail.outbox[0].body


def test_password_reset_link_sets_a_new_password(client, world):
    tutor = world.a1.users[Role.HEADTEACHER]
    client.post(reverse("password_reset"), {"email": tutor.email})
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/reset/" in line)
    path = link.split("testserver", 1)[1]

    form_page = client.get(path, follow=True)
    set_url = form_page.redirect_chain[-1][0]
    response = client.post(
        set_url,
        {"new_password1": "a-much-longer-passphrase", "new_password2": "a-much-longer-passphrase"},
    )

    assert response.status_code == 302
    tutor.refresh_from_db()
    assert tutor.check_password("a-much-longer-passphrase")


def test_sign_out_ends_the_session(client_for, world):
    client = client_for(world.a1.users[Role.FORM_TUTOR])

    client.post(reverse("logout"))
    response = client.get(reverse("schools:home", kwargs={"school_slug": world.a1.school.slug}))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_school_staff_cannot_use_the_django_admin(client_for, world):
    head = world.a1.users[Role.HEADTEACHER]

    response = client_for(head).get("/platform-admin/")

    assert response.status_code == 302
    assert "/platform-admin/login/" in response["Location"]


def test_user_with_several_schools_gets_a_chooser_and_a_header_switcher(client_for, world):
    leader = world.trust_a_leader

    chooser = client_for(leader).get(reverse("home"))
    school_page = client_for(leader).get(
        reverse("schools:home", kwargs={"school_slug": world.a2.school.slug})
    )

    body = chooser.content.decode()
    assert world.a1.school.name in body
    assert world.a2.school.name in body
    assert world.b1.school.name not in body
    switcher = (
        school_page.content.decode().split('class="switcher"', 1)[1].split("</details>", 1)[0]
    )
    assert world.a1.school.name in switcher
    assert world.b1.school.name not in switcher


def test_user_with_one_school_goes_straight_to_it(client_for, world):
    response = client_for(world.a1.users[Role.ATTENDANCE_OFFICER]).get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == reverse(
        "schools:home", kwargs={"school_slug": world.a1.school.slug}
    )
