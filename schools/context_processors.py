from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from schools.permissions import capabilities_of
from schools.selectors import Place, places_for_user


def user_places(request: Any) -> list[Place]:
    """``places_for_user`` for the signed-in user, read once per request: the home page and
    the header's switcher both show it."""
    places: list[Place] | None = getattr(request, "_user_places", None)
    if places is None:
        places = places_for_user(user=request.user)
        request._user_places = places
    return places


def navigation(request: HttpRequest) -> dict[str, object]:
    """The header's school switcher, the current role and what it may do (``caps.TAKE_REGISTER``
    …, from ``permissions.ROLE_MATRIX``), on every page."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    access = getattr(request, "access", None)
    return {
        "places": user_places(request),
        "current_school": getattr(request, "school", None),
        "current_trust": getattr(request, "trust", None),
        "current_role": access.role if access else None,
        "caps": {capability.name: True for capability in capabilities_of(access)},
    }
