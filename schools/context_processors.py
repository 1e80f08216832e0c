from __future__ import annotations

from django.http import HttpRequest

from schools.selectors import places_for_user


def navigation(request: HttpRequest) -> dict[str, object]:
    """The header's school switcher and the current role, on every page."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    access = getattr(request, "access", None)
    return {
        "places": places_for_user(user=request.user),
        "current_school": getattr(request, "school", None),
        "current_trust": getattr(request, "trust", None),
        "current_role": access.role if access else None,
    }
