"""Single sign-on through a real OpenID provider (tests/oidc_provider), with a real
HTTP client: Rapport's live test server, the provider's process, redirects followed."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth.models import Group, User
from django.contrib.sessions.backends.db import SessionStore

from accounts.models import OIDCIdentity
from relations.models import AuditEvent
from relations.roles import is_director, is_staff_member
from tests.mfa import confirmed_totp, totp_code
from tests.sso.conftest import csrf_of, sign_in, start_sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def _refusals(reason=None):
    events = AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN_FAILED)
    return (
        [e for e in events if e.changes.get("method") == "oidc"]
        if reason is None
        else [e for e in events if e.changes.get("reason") == reason]
    )


def _assert_refused(response, live_server, reason):
    assert urlsplit(response.url).path == "/accounts/login/", response.url
    assert "Sign in with Test IdP" in response.text
    assert "alert" in response.text  # the refusal is said on the page
    assert _refusals(reason), [e.changes for e in _refusals()]
    assert "_auth_user_id" not in response.text


# --- The sign-in page -----------------------------------------------------------------


def test_without_an_issuer_the_sign_in_page_is_the_password_form(client, settings):
    settings.RAPPORT_OIDC_ISSUER = ""
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert b"Sign in with" not in page.content
    assert b'name="password"' in page.content
    assert client.get("/accounts/oidc/start/").status_code == 404
    assert client.get("/accounts/oidc/callback/?code=x&state=y").status_code == 404


def test_with_an_issuer_the_page_offers_the_provider_beside_the_password(client, sso):
    page = client.get("/accounts/login/?next=/stakeholders/")
    assert b"Sign in with Test IdP" in page.content
    assert b"/accounts/oidc/start/?next=/stakeholders/" in page.content
    assert b'name="password"' in page.content


def test_local_login_off_shows_and_accepts_no_password(client, sso, settings, manager):
    settings.RAPPORT_LOCAL_LOGIN = False
    page = client.get("/accounts/login/")
    assert b"Sign in with Test IdP" in page.content
    assert b'name="password"' not in page.content
    refused = client.post("/accounts/login/", {"username": "maria", "password": "pw"})
    assert refused.status_code == 200
    assert "_auth_user_id" not in client.session
    manager.is_staff = True
    manager.save()
    admin = client.post("/admin/login/", {"username": "maria", "password": "pw"})
    assert b"Passwords are turned off" in admin.content
    assert "_auth_user_id" not in client.session


def test_the_provider_is_asked_for_a_code_with_pkce_state_and_nonce(sso, live_server):
    session = requests.Session()
    start = session.get(
        f"{live_server.url}/accounts/oidc/start/?next=/dashboard/", allow_redirects=False
    )
    assert start.status_code == 302
    target = urlsplit(start.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{sso.issuer}/authorize/"
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == "rapport"
    assert query["redirect_uri"] == f"{live_server.url}/accounts/oidc/callback/"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert set(query["scope"].split()) == {"openid", "email", "profile"}
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    # A second sign-in started in parallel gets its own state and nonce.
    again = urlsplit(
        session.get(f"{live_server.url}/accounts/oidc/start/", allow_redirects=False).headers[
            "Location"
        ]
    )
    assert parse_qs(again.query)["state"][0] != query["state"]


# --- Journeys ---------------------------------------------------------------------------


def test_a_manager_signs_in_and_is_created_with_the_role(sso, live_server):
    home = sign_in(live_server.url, "maria", then="/stakeholders/")
    assert home.status_code == 200
    assert urlsplit(home.url).path == "/stakeholders/"
    user = User.objects.get(username="maria")
    assert (user.first_name, user.last_name) == ("Maria", "Manager")
    assert user.email == "maria@example.org"
    assert is_staff_member(user) and not is_director(user)
    identity = OIDCIdentity.objects.get(user=user)
    assert identity.issuer == sso.issuer and identity.last_sign_in_at is not None
    sign_in_event = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN, object_id=str(user.pk))
    assert sign_in_event.changes["method"] == "oidc"
    assert sign_in_event.changes["subject"] == identity.subject
    assert sign_in_event.changes["provider_mfa"] is False
    roles = AuditEvent.objects.get(action=AuditEvent.Action.UPDATE, object_id=str(user.pk))
    assert roles.changes["roles"] == [[], ["manager"]]


def test_users_are_matched_by_subject_not_by_email(sso, live_server):
    sign_in(live_server.url, "maria")
    user = User.objects.get(username="maria")
    # Someone else already holds the provider's e-mail: the subject decides.
    User.objects.create_user("impostor", email="maria@example.org")
    user.username = "maria-renamed"
    user.save()
    again = sign_in(live_server.url, "maria")
    assert urlsplit(again.url).path == "/"
    assert OIDCIdentity.objects.get().user_id == user.pk
    assert User.objects.filter(email="maria@example.org").count() == 2


def test_a_director_with_the_providers_mfa_claim_needs_no_local_code(sso, live_server):
    home = sign_in(live_server.url, "dana")
    assert urlsplit(home.url).path == "/", home.url
    assert "verify" not in home.url
    dana = User.objects.get(username="dana")
    assert is_director(dana)
    event = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN, object_id=str(dana.pk))
    assert event.changes["provider_mfa"] is True


def test_a_director_without_the_claim_is_asked_the_local_second_factor(sso, live_server):
    session = requests.Session()
    first = sign_in(live_server.url, "dirk", session=session)
    # No authenticator yet: enrol before any page.
    assert urlsplit(first.url).path == "/settings/security/enrol/", first.url
    assert session.get(f"{live_server.url}/stakeholders/", timeout=10).url.startswith(
        f"{live_server.url}/settings/security/enrol/"
    )
    dirk = User.objects.get(username="dirk")
    confirmed_totp(dirk)
    session = requests.Session()
    second = sign_in(live_server.url, "dirk", session=session)
    assert urlsplit(second.url).path == "/accounts/verify/", second.url
    done = session.post(
        second.url,
        data={"otp_token": totp_code(dirk), "csrfmiddlewaretoken": csrf_of(session)},
        headers={"Referer": second.url},
        timeout=10,
    )
    assert urlsplit(done.url).path == "/", done.url


def test_removed_from_the_director_group_loses_the_role_at_next_sign_in(sso, live_server):
    sign_in(live_server.url, "dana")
    dana = User.objects.get(username="dana")
    assert is_director(dana)
    sso.control(user="dana", groups=["rapport-managers", "mfa"])
    try:
        home = sign_in(live_server.url, "dana")
    finally:
        sso.control(user="dana", groups=["rapport-directors", "mfa"])
    assert urlsplit(home.url).path == "/"
    dana = User.objects.get(username="dana")
    assert not is_director(dana) and is_staff_member(dana)
    change = AuditEvent.objects.filter(
        action=AuditEvent.Action.UPDATE, object_id=str(dana.pk)
    ).first()
    assert change.changes == {"roles": [["director"], ["manager"]], "source": "oidc"}


def test_without_a_groups_claim_roles_stay_as_set_in_rapport(sso, live_server, settings):
    settings.RAPPORT_OIDC_GROUPS_CLAIM = ""
    _assert_refused(sign_in(live_server.url, "nora"), live_server, "no_role")
    nora = User.objects.get(username="nora")
    nora.groups.add(Group.objects.get_or_create(name="director")[0])
    home = sign_in(live_server.url, "nora")
    # A director without the provider's MFA claim: the local second factor.
    assert urlsplit(home.url).path == "/settings/security/enrol/"
    assert is_director(User.objects.get(username="nora"))


def test_removed_from_every_mapped_group_is_refused(sso, live_server):
    refused = sign_in(live_server.url, "nora")
    _assert_refused(refused, live_server, "no_role")


def test_a_disabled_account_cannot_sign_in_and_its_session_ends(sso, live_server):
    session = requests.Session()
    sign_in(live_server.url, "maria", session=session)
    User.objects.filter(username="maria").update(is_active=False)
    after = session.get(f"{live_server.url}/stakeholders/", timeout=10)
    assert urlsplit(after.url).path == "/accounts/login/"
    refused = sign_in(live_server.url, "maria")
    _assert_refused(refused, live_server, "inactive")


def test_unknown_subjects_are_refused_unless_creation_is_allowed(sso, live_server, settings):
    settings.RAPPORT_OIDC_CREATE_USERS = False
    refused = sign_in(live_server.url, "maria")
    _assert_refused(refused, live_server, "unknown_user")
    assert not User.objects.filter(username="maria").exists()


def test_sign_out_ends_the_providers_session_too(sso, live_server):
    session = requests.Session()
    sign_in(live_server.url, "maria", session=session)
    out = session.post(
        f"{live_server.url}/accounts/logout/",
        data={"csrfmiddlewaretoken": csrf_of(session)},
        headers={"Referer": f"{live_server.url}/"},
        allow_redirects=False,
        timeout=10,
    )
    assert out.status_code == 302
    end_session = out.headers["Location"]
    assert end_session.startswith(f"{sso.issuer}/logout/"), end_session
    assert "id_token_hint" in parse_qs(urlsplit(end_session).query)
    back = session.get(end_session, timeout=10)
    assert urlsplit(back.url).path == "/accounts/login/"
    assert back.url.startswith(live_server.url)
    # Signed out at the provider as well: it asks for the password again.
    again = session.get(f"{live_server.url}/accounts/oidc/start/", timeout=10)
    assert "Test identity provider" in again.text
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_OUT).count() == 1


# --- Refusals ---------------------------------------------------------------------------


def test_a_wrong_state_is_refused(sso, live_server):
    session = requests.Session()
    location = start_sign_in(session, live_server.url, "maria")
    query = parse_qs(urlsplit(location).query)
    forged = session.get(
        f"{live_server.url}/accounts/oidc/callback/",
        params={"code": query["code"][0], "state": "not-the-state-we-sent"},
        timeout=10,
    )
    _assert_refused(forged, live_server, "state")
    assert not User.objects.filter(username="maria").exists()


def test_a_replayed_code_is_refused(sso, live_server):
    session = requests.Session()
    location = start_sign_in(session, live_server.url, "maria")
    assert urlsplit(session.get(location, timeout=10).url).path == "/"
    # The same answer again: its state was used once.
    _assert_refused(session.get(location, timeout=10), live_server, "state")
    # The code again with a fresh state of another sign-in: the provider refuses it.
    other = requests.Session()
    fresh = start_sign_in(other, live_server.url, "maria")
    fresh_state = parse_qs(urlsplit(fresh).query)["state"][0]
    old_code = parse_qs(urlsplit(location).query)["code"][0]
    replay = other.get(
        f"{live_server.url}/accounts/oidc/callback/",
        params={"code": old_code, "state": fresh_state},
        timeout=10,
    )
    _assert_refused(replay, live_server, "token_refused")
    # And straight at the provider's token endpoint.
    direct = sso.token_request(old_code, f"{live_server.url}/accounts/oidc/callback/")
    assert direct.status_code == 400 and direct.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "quirk, reason",
    [
        ("unknown_issuer", "unknown_issuer"),
        ("wrong_audience", "wrong_audience"),
        ("bad_signature", "bad_signature"),
        ("expired", "expired"),
        ("wrong_nonce", "nonce"),
    ],
)
def test_an_id_token_that_fails_a_check_is_refused(sso, live_server, quirk, reason):
    sso.control(quirk=quirk)
    refused = sign_in(live_server.url, "dana")
    _assert_refused(refused, live_server, reason)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN).exists()
    assert not User.objects.filter(username="dana").exists()


def test_a_discovery_document_for_another_issuer_is_refused(sso, live_server, settings):
    settings.RAPPORT_OIDC_ISSUER = sso.issuer.replace("127.0.0.1", "localhost")
    refused = requests.get(f"{live_server.url}/accounts/oidc/start/", timeout=10)
    assert urlsplit(refused.url).path == "/accounts/login/"
    assert _refusals("unknown_issuer")


def test_the_providers_error_answer_is_refused_and_uses_up_the_state(sso, live_server):
    session = requests.Session()
    start = session.get(f"{live_server.url}/accounts/oidc/start/", allow_redirects=False)
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    answer = {"error": "access_denied", "state": state}
    denied = session.get(f"{live_server.url}/accounts/oidc/callback/", params=answer)
    _assert_refused(denied, live_server, "provider_error")
    assert _refusals("provider_error")[0].changes["error"] == "access_denied"
    stored = SessionStore(session.cookies["sessionid"]).get("oidc_states", {})
    assert state not in stored
