from __future__ import annotations

import pytest

from schools.models import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [False, True], ids=["production", "development"])
@pytest.mark.parametrize(
    "path",
    [
        "/s/no-such-school/",
        "/s/{b1}/",  # another school's: the same answer as a missing one (TEN-01)
        "/no-such-page/",
        "/s/{a1}/registers/not-a-form/",
    ],
)
def test_a_missing_page_is_our_404_page_in_development_too(
    world, client_for, settings, debug, path
):
    settings.DEBUG = debug
    client = client_for(world.a1.users[Role.ATTENDANCE_OFFICER])

    response = client.get(path.format(a1=world.a1.school.slug, b1=world.b1.school.slug))

    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body
    assert "DEBUG = True" not in body
    assert "URLconf" not in body


def test_the_api_keeps_its_json_404_in_development(world, client_for, settings):
    settings.DEBUG = True
    response = client_for(world.a1.users[Role.ATTENDANCE_OFFICER]).get(
        "/api/v1/s/no-such-school/pupils/"
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
