"""Tenant plumbing: the school-owned base model and the scope helpers.

Every school-owned model inherits ``SchoolOwned`` and declares ``SchoolScopedManager()`` as its
default manager. Queries on it outside ``school_scope()`` raise ``ScopeError`` (fail
closed); cross-school code must say ``scopes_disabled()`` where a reviewer can see it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models
from django_scopes import scope
from django_scopes.manager import DisabledQuerySet
from django_scopes.state import get_scope

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


@contextmanager
def schools_scope(schools: Iterable[School]) -> Iterator[None]:
    """Filter every school-owned query to these schools (``school__in``) for the block: a
    trust page reads across its own schools, and a query that forgets its filter still stays
    inside them. No schools means every school-owned query is empty, never unfiltered."""
    with scope(school=[school.pk for school in schools]):
        yield


class SchoolOwnedQuerySet(models.QuerySet[_M]):
    """Base for school-owned querysets (reusable filters go on subclasses, e.g. ``on_roll``)."""


class SchoolScopedManager(models.Manager[_M]):
    """django-scopes' ``ScopedManager(school="school")`` as a named, typed class.

    The library builds its manager class inside a function, which neither mypy's Django plugin
    nor reverse-relation typing can see; this is the same rule on the library's own state and
    its ``DisabledQuerySet``: outside ``school_scope()`` every query raises ``ScopeError``.
    Inside ``schools_scope()`` (a list of school ids) it filters ``school__in``.
    """

    _override_scope: dict[str, Any]

    def with_scopes_disabled(self) -> SchoolScopedManager[_M]:
        cloned = copy.copy(self)
        cloned._override_scope = {"_enabled": False}
        return cloned

    def get_queryset(self) -> models.QuerySet[_M]:
        current = getattr(self, "_override_scope", None) or get_scope()
        queryset = super().get_queryset()
        if not current.get("_enabled", True):
            return queryset
        if "school" not in current:
            return DisabledQuerySet(self.model, using=self._db, missing_scopes={"school"})  # type: ignore[no-any-return]
        school = current["school"]
        if school is None:
            return queryset
        if isinstance(school, list | tuple | set | frozenset):
            return queryset.filter(school__in=school)  # schools_scope(): a trust's schools
        return queryset.filter(school=school)

    def all(self) -> models.QuerySet[_M]:
        queryset = super().all()
        if isinstance(queryset, DisabledQuerySet):
            queryset.all()  # raises ScopeError: ``.all()`` outside a scope fails closed too
        return queryset


class SchoolOwned(models.Model):
    """Abstract base for rows that belong to exactly one school."""

    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True
