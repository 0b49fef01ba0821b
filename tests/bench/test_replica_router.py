"""Dashboards read from the PostgreSQL replica when `DATABASE_REPLICA_URL` configures one.

The router unit tests pin its choices; the page tests give the app a real second
alias (a second connection to the test database, as a replica would be) and
watch which connection each page's queries ran on.
"""

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config.replica import REPLICA, ReplicaRouter, replica_reads
from relations.models import Stakeholder


@pytest.fixture
def replica_configured(monkeypatch):
    """The `replica` alias in the settings, never connected to."""
    monkeypatch.setitem(
        connections.settings, REPLICA, {**connections[DEFAULT_DB_ALIAS].settings_dict}
    )


@pytest.fixture
def replica_alias(transactional_db):
    """A `replica` alias on a connection of its own to the (committed) test data.

    Connected here, after the test database is set up: the test case forbids
    opening connections to aliases it was not told about, not using them."""
    connections.settings[REPLICA] = {**connections[DEFAULT_DB_ALIAS].settings_dict}
    connections[REPLICA].connect()
    yield connections[REPLICA]
    connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]


def test_without_a_replica_every_read_goes_to_the_default():
    router = ReplicaRouter()
    with replica_reads():
        assert router.db_for_read(Stakeholder) is None


def test_with_a_replica_only_reads_inside_the_block_go_there(replica_configured):
    router = ReplicaRouter()
    assert router.db_for_read(Stakeholder) is None
    with replica_reads():
        assert router.db_for_read(Stakeholder) == REPLICA
        assert router.db_for_write(Stakeholder) == DEFAULT_DB_ALIAS
    assert router.db_for_read(Stakeholder) is None


def test_a_row_read_from_the_replica_is_written_to_the_primary(replica_configured):
    stakeholder = Stakeholder(name="Read on the replica")
    stakeholder._state.db = REPLICA
    assert ReplicaRouter().db_for_write(Stakeholder, instance=stakeholder) == DEFAULT_DB_ALIAS


def test_migrations_run_on_the_primary_only():
    router = ReplicaRouter()
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "relations") is True
    assert router.allow_migrate(REPLICA, "relations") is False


def test_the_dashboard_reads_from_the_replica(replica_alias, director):
    client = Client()
    client.force_login(director)
    with (
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as primary,
        CaptureQueriesContext(replica_alias) as replica,
    ):
        response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    # Session, user, groups and the director's second-factor device (sign-in state) on
    # the primary; the figures on the replica.
    assert len(primary) == 4, [q["sql"] for q in primary]
    assert len(replica) > 5


def test_other_pages_read_from_the_primary(replica_alias, manager, stakeholder):
    client = Client()
    client.force_login(manager)
    with CaptureQueriesContext(replica_alias) as replica:
        response = client.get(reverse("stakeholder-detail", args=[stakeholder.pk]))
    assert response.status_code == 200
    assert len(replica) == 0
