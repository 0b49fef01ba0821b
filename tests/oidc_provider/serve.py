"""Run the test provider: `python -m tests.oidc_provider.serve REDIRECT_URI LOGOUT_URI`.

Binds a free loopback port first (the issuer URL names it), migrates its own SQLite
database, seeds the client and the users, prints `READY <issuer>` and serves.

Users (password "pw"): maria in rapport-managers; dana in rapport-directors who signs
in with a second factor (amr "mfa"); dirk in rapport-directors without one; nora in no
group. The client is `rapport` / `rapport-secret`, confidential, RS256.
"""

import os
import sys

import django
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

USERS = {
    "maria": ("Maria", "Manager", ["rapport-managers"]),
    "dana": ("Dana", "Director", ["rapport-directors", "mfa"]),
    "dirk": ("Dirk", "Director", ["rapport-directors"]),
    "nora": ("Nora", "Nobody", []),
}
CLIENT_ID = "rapport"
CLIENT_SECRET = "rapport-secret"


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def seed(redirect_uri: str, logout_uri: str) -> None:
    from django.contrib.auth.models import Group, User
    from oauth2_provider.models import Application

    for username, (first, last, groups) in USERS.items():
        user = User.objects.create_user(
            username,
            email=f"{username}@example.org",
            password="pw",
            first_name=first,
            last_name=last,
        )
        user.groups.set([Group.objects.get_or_create(name=n)[0] for n in groups])
    Application.objects.create(
        name="Rapport",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=redirect_uri,
        post_logout_redirect_uris=logout_uri,
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )


def main() -> None:
    redirect_uri, logout_uri = sys.argv[1], sys.argv[2]
    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler)
    port = server.server_address[1]
    os.environ["PROVIDER_ISSUER"] = f"http://127.0.0.1:{port}/o"
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider.settings"
    django.setup()
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    call_command("migrate", verbosity=0, interactive=False)
    seed(redirect_uri, logout_uri)
    server.set_app(get_wsgi_application())
    print(f"READY {os.environ['PROVIDER_ISSUER']}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
