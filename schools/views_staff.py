"""Who looks after which year groups: the page where leadership sets each pastoral lead's year
groups (``StaffYearGroup``; the same service as ``manage.py staff_year_groups``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from schools.audit import audit_record
from schools.audit_models import AuditAction
from schools.forms import StaffYearGroupsForm
from schools.models import Role, StaffMembership, StaffYearGroup
from schools.permissions import Capability, require_capability
from schools.staff_scope import staff_year_groups_set
from schools.types import SchoolRequest


@require_http_methods(["GET", "POST"])
@require_capability(Capability.EDIT_SCHOOL_SETTINGS)
def staff_year_groups(request: SchoolRequest) -> HttpResponse:
    school = request.school
    leads = list(
        StaffMembership.objects.filter(school=school, role=Role.PASTORAL_LEAD, is_active=True)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "pk")
    )
    held: dict[int, list[int]] = {lead.pk: [] for lead in leads}
    for membership_id, year_group_id in StaffYearGroup.objects.filter(
        school=school, membership__in=leads
    ).values_list("membership_id", "year_group_id"):
        held[membership_id].append(year_group_id)
    posted = request.POST.get("membership", "") if request.method == "POST" else ""
    if request.method == "POST" and not (posted.isdigit() and int(posted) in held):
        raise Http404("No such pastoral lead")  # another school's, or not a pastoral lead
    rows = []
    for lead in leads:
        form = StaffYearGroupsForm(
            request.POST if str(lead.pk) == posted else None,
            school=school,
            initial={"year_groups": held[lead.pk]},
            auto_id=f"id_m{lead.pk}_%s",
        )
        if form.is_bound and form.is_valid():
            groups = staff_year_groups_set(
                school=school, membership=lead, year_groups=form.cleaned_data["year_groups"]
            )
            audit_record(
                action=AuditAction.ACCESS_CHANGED,
                request=request,
                school=school,
                target_type="staff_membership",
                target_id=lead.pk,
                outcome=f"year groups: {len(groups)}",  # which ones: the page shows them
            )
            messages.success(request, _("Year groups saved for %(name)s.") % {"name": lead})
            return redirect("schools:staff-year-groups", school_slug=school.slug)
        rows.append((lead, form))
    return render(request, "schools/staff_year_groups.html", {"rows": rows})
