from __future__ import annotations

import pytest
from django.urls import reverse

from schools.models import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "role", [Role.FORM_TUTOR, Role.ATTENDANCE_OFFICER, Role.HEADTEACHER, Role.PARENT]
)
def test_each_role_sees_its_home_page(world, client_for, role):
    school = world.a1.school
    response = client_for(world.a1.users[role]).get(
        reverse("schools:home", kwargs={"school_slug": school.slug})
    )
    assert response.status_code == 200
    body = response.content.decode()
    if role == Role.PARENT:
        assert world.a1.pupils[0].display_name in body
        assert world.a1.pupils[1].display_name not in body
    else:
        assert world.a1.form.name in body


def test_the_home_page_reads_the_users_places_once(world, client_for, monkeypatch):
    # A trust leader has several places: the home page lists them and the header's switcher
    # shows them too, from one reading per request.
    from schools import context_processors, selectors

    calls = []
    real = selectors.places_for_user

    def counted(*, user):
        calls.append(user.pk)
        return real(user=user)

    monkeypatch.setattr(context_processors, "places_for_user", counted)
    response = client_for(world.trust_a_leader).get(reverse("home"))
    assert response.status_code == 200
    assert world.a1.school.name in response.content.decode()
    assert calls == [world.trust_a_leader.pk]
