"""A real OpenID provider (tests/oidc_provider, django-oauth-toolkit) in its own
process, and Rapport configured to use it.

One provider per test session (per xdist worker), on a free loopback port, with its own
SQLite database and an RSA key generated here. Tests change it only through its control
endpoint (a misbehaviour, a user's groups) and put it back afterwards.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "rapport"
CLIENT_SECRET = "rapport-secret"


@dataclass
class Provider:
    issuer: str
    control_token: str

    @property
    def url(self) -> str:
        return self.issuer.removesuffix("/o")

    def control(self, **order) -> None:
        response = requests.post(
            f"{self.url}/control/",
            json=order,
            headers={"X-Control-Token": self.control_token},
            timeout=10,
        )
        response.raise_for_status()

    def token_request(self, code: str, redirect_uri: str, code_verifier: str = "x" * 43):
        return requests.post(
            f"{self.issuer}/token/",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "code_verifier": code_verifier,
            },
            timeout=10,
        )


@pytest.fixture(scope="session")
def oidc_provider(live_server):
    folder = Path(tempfile.mkdtemp(prefix="oidc-provider-", dir="/tmp"))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = folder / "test-only-key.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    control_token = secrets.token_urlsafe(24)
    env = {
        **os.environ,
        "PROVIDER_SECRET_KEY": secrets.token_urlsafe(50),
        "PROVIDER_DB": str(folder / "provider.sqlite3"),
        "PROVIDER_RSA_KEY_FILE": str(key_file),
        "PROVIDER_CONTROL_TOKEN": control_token,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.oidc_provider.serve",
            f"{live_server.url}/accounts/oidc/callback/",
            f"{live_server.url}/accounts/login/",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        if not line.startswith("READY "):
            raise RuntimeError(f"the test provider did not start: {line!r}")
        yield Provider(issuer=line.split()[1], control_token=control_token)
    finally:
        process.terminate()
        process.wait(timeout=10)
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()


@pytest.fixture
def sso(settings, oidc_provider, transactional_db):
    """Rapport signing in through the test provider (users created on first sign-in)."""
    from accounts import oidc

    settings.RAPPORT_OIDC_ISSUER = oidc_provider.issuer
    settings.RAPPORT_OIDC_CLIENT_ID = CLIENT_ID
    settings.RAPPORT_OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.RAPPORT_OIDC_LABEL = "Test IdP"
    settings.RAPPORT_OIDC_CREATE_USERS = True
    settings.RAPPORT_OIDC_MFA_AMR = ["mfa", "otp", "hwk"]
    settings.SECURE_CSP = {
        **settings.SECURE_CSP,
        "form-action": [*settings.SECURE_CSP["form-action"], oidc_provider.url],
    }
    oidc._metadata_cache.clear()
    oidc._jwks_cache.clear()
    yield oidc_provider
    oidc_provider.control(quirk="")


def start_sign_in(session: requests.Session, rapport_url: str, username: str, *, then=""):
    """Follow Rapport's "Sign in with …" to the provider's password page and sign in
    there; stops before the browser comes back to Rapport. Returns the provider's
    redirect to Rapport's callback."""
    suffix = f"?next={then}" if then else ""
    page = session.get(f"{rapport_url}/accounts/oidc/start/{suffix}", timeout=10)
    assert "Test identity provider" in page.text, page.text[:500]
    next_url = parse_qs(urlsplit(page.url).query)["next"][0]
    answer = session.post(
        page.url,
        data={
            "username": username,
            "password": "pw",
            "next": next_url,
            "csrfmiddlewaretoken": session.cookies.get("provider_csrf"),
        },
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text[:500]
    # The provider's authorize endpoint, now signed in, answers with the callback.
    callback = session.get(
        urljoin(page.url, answer.headers["Location"]), allow_redirects=False, timeout=10
    )
    assert callback.status_code == 302, callback.text[:500]
    location = callback.headers["Location"]
    assert location.startswith(f"{rapport_url}/accounts/oidc/callback/"), location
    return location


def sign_in(rapport_url: str, username: str, *, session=None, then="") -> requests.Response:
    """The whole journey with a real HTTP client: Rapport → provider → Rapport."""
    session = session or requests.Session()
    location = start_sign_in(session, rapport_url, username, then=then)
    return session.get(location, timeout=10)


def csrf_of(session: requests.Session) -> str:
    return session.cookies.get("csrftoken")


def page_title(response: requests.Response) -> str:
    found = re.search(r"<title>(.*?)</title>", response.text, re.S)
    return found.group(1).strip() if found else ""
