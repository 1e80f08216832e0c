"""Account security (SESS-04, LOG-01): every change needs a recent re-authentication, offers
"sign out my other sessions", and writes an audit event. Clients sign in through the test
harness (tests/mfa_harness.py), so staff hold a verified session and a harness TOTP device
whose current code the re-authentication step asks for."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled

from schools.account_security import REAUTH_SESSION_KEY
from schools.audit_models import AuditAction, AuditEvent
from tests import factories as f
from tests.mfa_harness import HARNESS_DEVICE, current_code

pytestmark = pytest.mark.django_db

SECURITY = reverse("account-security")
REAUTH = reverse("account-reauth")
PASSWORD = reverse("account-password")
CODES = reverse("account-recovery-codes")
END_OTHERS = reverse("account-sessions-end")


@pytest.fixture
def staff():
    with scopes_disabled():
        return f.StaffMembershipFactory().user


@pytest.fixture
def parent():
    with scopes_disabled():
        return f.ParentLinkFactory().user


def reauth(client: Client, user, next_url: str = SECURITY):
    data = {"password": f.DEMO_PASSWORD, "next": next_url}
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        data["code"] = current_code(user)
    return client.post(REAUTH, data)


def signed_out(client: Client) -> bool:
    response = client.get(SECURITY)
    return response.status_code == 302 and response["Location"].startswith(reverse("login"))


def events(user, action: AuditAction) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(actor=user, action=action))


def test_every_signed_in_page_links_to_account_security(client_for, staff):
    response = client_for(staff).get(reverse("home"), follow=True)

    assert f'href="{SECURITY}"' in response.content.decode()


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", PASSWORD),
        ("post", PASSWORD),
        ("post", CODES),
        ("get", reverse("mfa_enrol") + "?next=" + SECURITY),
    ],
)
def test_a_change_without_recent_reauth_is_sent_to_reauth(client_for, staff, method, url):
    client = client_for(staff)
    before = StaticToken.objects.count()

    response = getattr(client, method)(url, {"new_password1": "x", "new_password2": "x"})

    assert response.status_code == 302
    assert response["Location"].startswith(REAUTH + "?next=")
    staff.refresh_from_db()
    assert staff.check_password(f.DEMO_PASSWORD)
    assert StaticToken.objects.count() == before


def test_reauth_asks_staff_for_password_and_code_then_returns_to_next(client_for, staff):
    client = client_for(staff)
    before = client.session.session_key

    wrong_password = client.post(REAUTH, {"password": "nope", "code": current_code(staff)})
    ok = reauth(client, staff, next_url=PASSWORD)

    assert wrong_password.status_code == 200
    assert wrong_password.context["form"].errors["password"]
    assert ok.status_code == 302
    assert ok["Location"] == PASSWORD
    assert client.session.session_key != before  # SESS-02: re-authentication rotates the id
    assert client.get(PASSWORD).status_code == 200
    assert len(events(staff, AuditAction.REAUTH)) == 1
    # The wrong password counts as a failed sign-in: audited, and throttled by django-axes.
    assert len(events(staff, AuditAction.LOGIN_FAILED)) == 1


def test_reauth_refuses_a_wrong_code(client_for, staff):
    client = client_for(staff)

    wrong_code = client.post(REAUTH, {"password": f.DEMO_PASSWORD, "code": "000000"})

    assert wrong_code.status_code == 200
    assert wrong_code.context["form"].errors["code"]
    assert REAUTH_SESSION_KEY not in client.session
    assert client.get(PASSWORD).status_code == 302
    assert len(events(staff, AuditAction.MFA_FAILED)) == 1


def test_a_parent_without_an_app_reauthenticates_with_the_password_alone(client_for, parent):
    client = client_for(parent)
    TOTPDevice.objects.filter(user=parent).delete()  # the harness gave every user one

    page = client.get(REAUTH)
    ok = client.post(REAUTH, {"password": f.DEMO_PASSWORD})

    assert "code" not in page.context["form"].fields
    assert ok.status_code == 302
    assert client.get(PASSWORD).status_code == 200


def test_reauth_ignores_a_next_to_another_site(client_for, staff):
    response = reauth(client_for(staff), staff, next_url="https://elsewhere.example/")

    assert response["Location"] == SECURITY


def test_an_old_reauth_no_longer_counts(client_for, staff, settings):
    client = client_for(staff)
    reauth(client, staff)
    session = client.session
    session[REAUTH_SESSION_KEY] = timezone.now().timestamp() - settings.ACCOUNT_REAUTH_SECONDS - 1
    session.save()

    response = client.get(PASSWORD)

    assert response.status_code == 302
    assert response["Location"].startswith(REAUTH)


def test_password_change_keeps_this_session_under_a_new_id_and_ends_the_others(client_for, staff):
    client, other = client_for(staff), client_for(staff)
    reauth(client, staff)
    before = client.session.session_key

    response = client.post(
        PASSWORD,
        {"new_password1": "a new long passphrase", "new_password2": "a new long passphrase"},
    )

    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.check_password("a new long passphrase")
    assert client.session.session_key != before
    assert client.get(SECURITY).status_code == 200
    assert signed_out(other)
    assert len(events(staff, AuditAction.PASSWORD_CHANGE)) == 1
    assert events(staff, AuditAction.SESSIONS_ENDED)[0].outcome == "password"


def test_sign_out_my_other_sessions_ends_them_and_keeps_this_one(client_for, staff):
    client, other = client_for(staff), client_for(staff)
    stranger = client_for(f.UserFactory())

    response = client.post(END_OTHERS)

    assert response.status_code == 302
    assert client.get(SECURITY).status_code == 200
    assert signed_out(other)
    assert not signed_out(stranger)
    # A new sign-in on the ended device works again.
    other.force_login(staff)
    assert other.get(SECURITY).status_code == 200
    [event] = events(staff, AuditAction.SESSIONS_ENDED)
    assert event.outcome == "requested"
    assert event.school is None


def test_new_recovery_codes_replace_the_old_and_may_end_other_sessions(client_for, staff):
    client, other = client_for(staff), client_for(staff)
    reauth(client, staff)
    first = client.post(CODES, {}).context["codes"]
    assert not signed_out(other)  # the box was not ticked

    response = client.post(CODES, {"end_other_sessions": "on"})

    codes = response.context["codes"]
    assert len(codes) == 10
    assert not set(first) & set(codes)
    remaining = set(StaticToken.objects.filter(device__user=staff).values_list("token", flat=True))
    assert remaining == set(codes)
    assert signed_out(other)
    assert [e.outcome for e in events(staff, AuditAction.MFA_CHANGE)] == ["codes_replaced"] * 2


def test_replacing_the_app_needs_reauth_then_swaps_the_device(client_for, staff):
    client, other = client_for(staff), client_for(staff)
    enrol = reverse("mfa_enrol") + "?next=" + SECURITY
    reauth(client, staff, next_url=enrol)

    page = client.get(enrol)
    pending = TOTPDevice.objects.get(user=staff, confirmed=False)
    code = str(totp(pending.bin_key, step=pending.step, t0=pending.t0, digits=6)).zfill(6)
    response = client.post(enrol, {"code": code, "end_other_sessions": "on", "next": SECURITY})

    assert page.context["replacing"] is True
    assert response.status_code == 200
    assert len(response.context["codes"]) == 10
    assert list(TOTPDevice.objects.filter(user=staff).values_list("pk", flat=True)) == [pending.pk]
    assert not TOTPDevice.objects.filter(name=HARNESS_DEVICE, user=staff).exists()
    assert client.get(SECURITY).status_code == 200
    assert signed_out(other)
    assert [e.outcome for e in events(staff, AuditAction.MFA_CHANGE)] == ["app_replaced"]


def test_an_ended_session_is_refused_by_the_api_too(client_for, staff):
    client, other = client_for(staff), client_for(staff)
    with scopes_disabled():
        url = reverse(
            "api:pupil-list", kwargs={"school_slug": staff.staff_memberships.get().school.slug}
        )
    assert other.get(url).status_code == 200

    client.post(END_OTHERS)
    response = other.get(url)

    assert response.status_code in (401, 403)
    assert SESSION_KEY not in other.session


def test_account_security_pages_in_welsh(client_for, staff):
    client = client_for(staff)
    client.post(reverse("set_language"), {"language": "cy"})
    reauth(client, staff)

    for url in (SECURITY, PASSWORD, REAUTH):
        body = client.get(url).content.decode()
        assert "Account security" not in body.split("<main", 1)[1]
        assert 'lang="cy"' in body


# --- Passkeys (django-otp-webauthn, schools/passkeys.py) ---------------------------------------

PASSKEY_REGISTER = reverse("otp_webauthn:credential-registration-begin")
PASSKEY_AUTH = reverse("otp_webauthn:credential-authentication-begin")


def test_adding_a_passkey_needs_a_recent_reauth(client_for, staff):
    client = client_for(staff)

    refused = client.post(PASSKEY_REGISTER, content_type="application/json")
    reauth(client, staff)
    allowed = client.post(PASSKEY_REGISTER, content_type="application/json")

    assert refused.status_code == 403
    assert refused.json()["code"] == "reauth_required"
    assert allowed.status_code == 200
    assert allowed.json()["rp"]["id"] == "localhost"


@pytest.mark.real_mfa
def test_an_unverified_member_may_start_a_passkey_check_but_not_add_one(client, staff):
    TOTPDevice.objects.create(user=staff, name="Phone", confirmed=True)
    client.force_login(staff)  # the password only: the second step is still to come

    check = client.post(PASSKEY_AUTH, content_type="application/json")
    add = client.post(PASSKEY_REGISTER, content_type="application/json")

    assert check.status_code == 200
    assert "challenge" in check.json()
    assert add.status_code == 302
    assert add["Location"].startswith(reverse("mfa_verify"))


def test_the_passkey_check_needs_a_signed_in_user(client):
    response = client.post(PASSKEY_AUTH, content_type="application/json")

    assert response.status_code in (302, 403)  # sign-in first; never a passwordless sign-in


def test_removing_a_passkey_needs_reauth_and_someone_elses_answers_404(client_for, staff):
    from django_otp_webauthn.models import WebAuthnCredential

    other_user = f.UserFactory()
    mine = WebAuthnCredential.objects.create(
        user=staff, name="mine", confirmed=True, credential_id=b"a", public_key=b"k", sign_count=0
    )
    theirs = WebAuthnCredential.objects.create(
        user=other_user,
        name="theirs",
        confirmed=True,
        credential_id=b"b",
        public_key=b"k",
        sign_count=0,
    )
    client = client_for(staff)
    url = reverse("account-passkey-remove")

    before_reauth = client.post(url, {"passkey_id": mine.pk})
    reauth(client, staff)
    foreign = client.post(url, {"passkey_id": theirs.pk})
    own = client.post(url, {"passkey_id": mine.pk})

    assert before_reauth["Location"].startswith(REAUTH)
    assert foreign.status_code == 404
    assert WebAuthnCredential.objects.filter(pk=theirs.pk).exists()
    assert own.status_code == 302
    assert not WebAuthnCredential.objects.filter(pk=mine.pk).exists()
    assert [e.outcome for e in events(staff, AuditAction.MFA_CHANGE)] == ["passkey_removed"]
