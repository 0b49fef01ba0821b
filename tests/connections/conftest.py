"""A real Dovecot IMAP server per test (RECIPES.md, "Mail, calendar and address-book
servers in tests"): started from its binary in a private folder, Maildirs seeded with
real and generated messages, stopped (and started again) by the test. The server itself
is demo.bench.mailserver.Dovecot (the mail benchmark starts it the same way).

CalDAV/CardDAV fixtures live in tests/connections/dav_fixtures.py.
"""

from __future__ import annotations

import os

import pytest

from demo.bench.mailserver import DOVECOT, Dovecot


def dovecot_or_skip(tls: bool = False) -> Dovecot:
    if not os.path.exists(DOVECOT):
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    if os.geteuid() != 0:
        pytest.skip("Dovecot's test server runs as root (it switches to nobody for mail)")
    return Dovecot(tls=tls)


@pytest.fixture
def dovecot(settings):
    """A running Dovecot on a free loopback port; the outbound guard lets loopback
    through by its setting only."""
    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = True
    server = dovecot_or_skip()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def dovecot_tls(settings):
    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = True
    server = dovecot_or_skip(tls=True)
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(autouse=True)
def _tasks_in_process():
    """Syncs and sends run in process, as on the embedded default, even when the suite
    runs with a broker configured (CI): no worker consumes this suite's queue."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
