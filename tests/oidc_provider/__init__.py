"""A real OpenID Connect provider for the single sign-on tests (django-oauth-toolkit).

`serve.py` runs it in a process of its own with its own SQLite database; the fixture
in tests/sso/conftest.py starts it on a free loopback port. Nothing here is Rapport.
"""
