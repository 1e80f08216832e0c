"""Django admin is for platform superusers only (TEN-12): staff of a school never get
``is_staff``. Only the tenant roots are registered; school-owned rows are managed in the app,
where every query runs inside a school scope."""

from __future__ import annotations

from django.contrib import admin

from schools.models import School, Trust, TrustMembership


@admin.register(Trust)
class TrustAdmin(admin.ModelAdmin[Trust]):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin[School]):
    list_display = ["name", "urn", "la_code", "jurisdiction", "phase", "trust", "is_active"]
    list_filter = ["jurisdiction", "phase", "trust"]
    search_fields = ["name", "urn"]


@admin.register(TrustMembership)
class TrustMembershipAdmin(admin.ModelAdmin[TrustMembership]):
    list_display = ["user", "trust", "is_active"]
