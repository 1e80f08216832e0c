"""The access and security log (security GDPR-06, LOG-01…04). Imported by ``schools.models``;
kept apart so the tenant models stay readable. Append-only in the database (migration
``schools/0004_audit_event``): the app can add rows and read them, never change or delete
them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy


class AuditAction(models.TextChoices):
    VIEW = "view", gettext_lazy("Viewed")
    EXPORT = "export", gettext_lazy("Downloaded or exported")
    DENIED = "denied", gettext_lazy("Refused (not found or not allowed)")
    LOGIN = "login", gettext_lazy("Signed in")
    LOGIN_FAILED = "login_failed", gettext_lazy("Sign-in failed")
    LOGOUT = "logout", gettext_lazy("Signed out")
    LOCKOUT = "lockout", gettext_lazy("Locked out")
    MFA_OK = "mfa_ok", gettext_lazy("Second sign-in step passed")
    MFA_FAILED = "mfa_failed", gettext_lazy("Second sign-in step failed")
    REAUTH = "reauth", gettext_lazy("Confirmed identity again")
    PASSWORD_CHANGE = "password_change", gettext_lazy("Changed password")
    MFA_CHANGE = "mfa_change", gettext_lazy("Changed second sign-in step")
    SESSIONS_ENDED = "sessions_ended", gettext_lazy("Signed out other sessions")
    ACCESS_CHANGED = "access_changed", gettext_lazy("Access changed")
    RETENTION = "retention", gettext_lazy("Removed by the retention rules")


class AuditEvent(models.Model):
    """One thing someone did that a data protection officer may ask about.

    ``school`` is empty for events outside any school (a failed sign-in); ``actor_label`` keeps
    the email (or the username typed, neutralised) as it was, so the trail reads the same after
    an account is renamed or deleted."""

    at = models.DateTimeField(db_index=True)
    school = models.ForeignKey(
        "schools.School", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,  # the trail outlives accounts; SET_NULL never runs on it
    )
    actor_label = models.CharField(max_length=254, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    request_id = models.CharField(max_length=32, blank=True)
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    target_type = models.CharField(max_length=32, blank=True)
    target_id = models.BigIntegerField(null=True, blank=True)
    path = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            # "Who looked at this pupil in the last 30 days": one index range scan.
            models.Index(fields=["school", "target_type", "target_id", "at"]),
            models.Index(fields=["school", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.path}"
