"""Tenant plumbing: the school-owned base model and the scope helpers.

Every school-owned model inherits ``SchoolOwned`` and declares its default manager with
``scoped_manager()``. Queries on it outside ``school_scope()`` raise ``ScopeError`` (fail
closed); cross-school code must say ``scopes_disabled()`` where a reviewer can see it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models
from django_scopes import ScopedManager, scope

if TYPE_CHECKING:
    from schools.models import School

_M = TypeVar("_M", bound=models.Model)


@contextmanager
def school_scope(school: School | None) -> Iterator[None]:
    """Filter every school-owned query to ``school`` for the duration of the block.

    django-scopes treats ``None`` as "scope active but unfiltered", so we refuse it:
    cross-school code must use ``scopes_disabled()`` where a reviewer can see it.
    """
    if school is None:
        raise ValueError(
            "school_scope() needs a School; use scopes_disabled() for cross-school work"
        )
    with scope(school=school):
        yield


class SchoolOwnedQuerySet(models.QuerySet[_M]):
    def for_school(self, school: School) -> SchoolOwnedQuerySet[_M]:
        return self.filter(school=school)


def scoped_manager(queryset_class: type[models.QuerySet[Any]] = SchoolOwnedQuerySet) -> Any:
    """A default manager that raises outside ``school_scope()`` and filters inside it."""
    manager_class = models.Manager.from_queryset(queryset_class)
    return ScopedManager(school="school", _manager_class=manager_class)


class SchoolOwned(models.Model):
    """Abstract base for rows that belong to exactly one school."""

    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True
