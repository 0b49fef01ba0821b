"""The single sign-on configuration: deploy checks, and the claim rules on their own."""

from django.core.checks import Tags, run_checks

from accounts.oidc import provider_mfa_satisfied
from accounts.services import claim_values, roles_from_claims


def _ids(include_deployment_checks: bool) -> set[str]:
    found = run_checks(tags=[Tags.security], include_deployment_checks=include_deployment_checks)
    return {m.id for m in found}


def test_an_issuer_without_https_is_a_deploy_warning(settings):
    settings.RAPPORT_OIDC_CLIENT_ID, settings.RAPPORT_OIDC_CLIENT_SECRET = "rapport", "s"
    settings.RAPPORT_OIDC_ISSUER = "http://idp.example.org/realms/staff"
    assert "accounts.W001" in _ids(True)
    assert "accounts.W001" not in _ids(False)
    settings.RAPPORT_OIDC_ISSUER = "https://idp.example.org/realms/staff"
    assert "accounts.W001" not in _ids(True)
    settings.RAPPORT_OIDC_ISSUER = ""
    assert "accounts.W001" not in _ids(True)


def test_an_issuer_without_client_credentials_is_an_error(settings):
    settings.RAPPORT_OIDC_ISSUER = "https://idp.example.org"
    settings.RAPPORT_OIDC_CLIENT_ID = ""
    assert "accounts.E001" in _ids(False)


def test_the_mfa_claim_counts_only_configured_methods(settings):
    settings.RAPPORT_OIDC_MFA_AMR = ["mfa", "otp", "hwk"]
    settings.RAPPORT_OIDC_MFA_ACR = ["urn:example:loa:2"]
    assert provider_mfa_satisfied({"amr": ["pwd", "otp"]})
    assert provider_mfa_satisfied({"amr": "hwk"})
    assert not provider_mfa_satisfied({"amr": ["pwd"]})
    assert not provider_mfa_satisfied({})
    assert provider_mfa_satisfied({"amr": ["pwd"], "acr": "urn:example:loa:2"})
    assert not provider_mfa_satisfied({"acr": "urn:example:loa:1"})


def test_groups_map_to_roles_by_the_configured_names(settings):
    settings.RAPPORT_OIDC_GROUPS_CLAIM = "roles"
    settings.RAPPORT_OIDC_MANAGER_GROUP = "crm-users"
    settings.RAPPORT_OIDC_DIRECTOR_GROUP = "/crm/directors"
    assert roles_from_claims({"roles": ["crm-users"]}) == {"manager"}
    assert roles_from_claims({"roles": ["/crm/directors", "other"]}) == {"director"}
    assert roles_from_claims({"groups": ["crm-users"]}) == set()
    assert claim_values("one") == {"one"}
    assert claim_values(None) == set() and claim_values(42) == set()


def test_with_an_issuer_the_csp_lets_the_sign_out_form_end_at_the_provider():
    """Settings are read from the environment once: a fresh interpreter shows them."""
    import json
    import os
    import subprocess
    import sys

    from django.conf import settings

    script = "import json; from config import settings as s; print(json.dumps(s.SECURE_CSP))"
    env = {**os.environ, "RAPPORT_OIDC_ISSUER": "https://idp.example.org/realms/staff"}
    with_issuer = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=settings.BASE_DIR,
        check=True,
        capture_output=True,
        text=True,
    )
    form_action = json.loads(with_issuer.stdout)["form-action"]
    assert form_action == ["'self'", "https://idp.example.org"]
    env.pop("RAPPORT_OIDC_ISSUER")
    without = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=settings.BASE_DIR,
        check=True,
        capture_output=True,
        text=True,
    )
    assert json.loads(without.stdout)["form-action"] == ["'self'"]
