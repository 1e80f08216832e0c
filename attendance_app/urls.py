"""Top-level routes: "/" and auth, staff pages under ``/s/<school_slug>/``, trust pages under
``/t/<trust_slug>/``, the API under ``/api/v1/s/<school_slug>/``."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from schools import account_security_views, mfa_views
from schools import views as school_views
from schools.security import ThrottledPasswordResetView

urlpatterns = [
    path("", school_views.home, name="home"),
    path("health/", school_views.health, name="health"),
    path("accessibility/", school_views.accessibility, name="accessibility"),
    path("i18n/set-language/", school_views.language_set, name="set_language"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/mfa/enrol/", mfa_views.enrol, name="mfa_enrol"),
    path("accounts/mfa/verify/", mfa_views.verify, name="mfa_verify"),
    path("accounts/mfa/passkey/", include("schools.passkey_urls")),
    path("accounts/security/", account_security_views.overview, name="account-security"),
    path("accounts/security/confirm/", account_security_views.reauth, name="account-reauth"),
    path(
        "accounts/security/password/",
        account_security_views.password_change,
        name="account-password",
    ),
    path(
        "accounts/security/recovery-codes/",
        account_security_views.recovery_codes_replace,
        name="account-recovery-codes",
    ),
    path(
        "accounts/security/sign-out-others/",
        account_security_views.sessions_end,
        name="account-sessions-end",
    ),
    path(
        "accounts/security/passkeys/remove/",
        account_security_views.passkey_remove,
        name="account-passkey-remove",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_reset/", ThrottledPasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/", include("attendance_app.api_urls")),
    path("", include("schools.urls")),
    path("", include("registers.urls")),
    path("", include("registers.urls_parents")),
    path("", include("interventions.urls")),
    path("", include("letters.urls")),
    path("platform-admin/", admin.site.urls),
]
