"""The registers' part of a staff member's home page (``schools.home``): a tutor's register to
take now, and for the office the absence inbox, leave to decide, unresolved ``N`` and registers
not taken. Which items a user sees follows the role matrix, as the header's navigation does."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.translation import gettext as _

from registers import selectors
from schools.home import HomeItems, Todo, home_provider
from schools.models import School
from schools.permissions import Capability, PupilScope, can, pupil_scope
from schools.types import SchoolAccess


@home_provider
def registers_home(school: School, access: SchoolAccess, now: dt.datetime) -> HomeItems:
    items = HomeItems()
    slug = {"school_slug": school.slug}
    if pupil_scope(access) is PupilScope.OWN_FORMS:
        registers = selectors.registers_now(school=school, access=access, now=now)
        items.context["register_to_take"] = next(
            (r for r in registers if r.is_open and not r.complete), None
        )
        items.context["registers_taken"] = [r for r in registers if r.complete]
        return items
    if can(access, Capability.WORK_INBOX):
        inbox = selectors.absence_inbox_count(school=school)
        items.todos.append(
            Todo(
                label=_("Absence reports to act on"),
                count=inbox,
                url=reverse("absences:inbox", kwargs=slug),
                attention=inbox > 0,
            )
        )
    if can(access, Capability.DECIDE_LEAVE):
        leave = selectors.leave_pending_count(school=school)
        items.todos.append(
            Todo(
                label=_("Leave requests to decide"),
                count=leave,
                url=reverse("absences:leave-list", kwargs=slug),
                attention=leave > 0,
            )
        )
    if can(access, Capability.VIEW_UNRESOLVED_N):
        today = school.local_time(now).date()
        open_n = selectors.unresolved_n_marks(school=school)
        overdue = sum(1 for n in open_n if n.is_overdue(today))
        items.todos.append(
            Todo(
                label=_("Unresolved N codes"),
                count=len(open_n),
                detail=_("%(count)s overdue") % {"count": overdue} if overdue else "",
                url=reverse("registers:unresolved-n", kwargs=slug),
                attention=overdue > 0,
            )
        )
        registers = selectors.registers_now(school=school, access=access, now=now)
        not_taken = sum(1 for r in registers if not r.complete)
        past_close = any(r.past_close for r in registers)
        items.todos.append(
            Todo(
                label=_("Registers not taken yet"),
                count=not_taken,
                detail=_("past their close time") if past_close else "",
                url=reverse("registers:list", kwargs=slug),
                attention=past_close and not_taken > 0,
            )
        )
    return items
