"""`manage.py seed_demo`: the demo network a user sees after one command.

Runs on the test database (SQLite by default, PostgreSQL with DATABASE_URL);
the PostgreSQL path writes the big tables with COPY.
"""

from datetime import date
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command, get_commands
from django.db import connection
from django.db.models import Count, Max

from demo.seed import DOMAIN_MODELS, _dependent_models, demo_fingerprint, demo_flush
from relations.models import (
    Commitment,
    Interaction,
    Organization,
    Outcome,
    Relationship,
    Stakeholder,
    StakeholderLink,
    StrategicGoal,
    Team,
)
from relations.roles import DIRECTOR, MANAGER

TODAY = date(2026, 11, 27)


def seed(*extra: str, seed_value: int = 7) -> str:
    out = StringIO()
    call_command(
        "seed_demo",
        "--size",
        "tiny",
        "--seed",
        str(seed_value),
        "--today",
        TODAY.isoformat(),
        *extra,
        stdout=out,
    )
    return out.getvalue()


@pytest.fixture
def seeded(db) -> str:
    return seed()


def test_tiny_builds_the_expected_network(seeded):
    assert Stakeholder.objects.count() == 30
    assert 250 <= Interaction.objects.count() <= 350
    assert User.objects.filter(groups__name=MANAGER).count() == 6
    assert Team.objects.count() == 3
    assert Organization.objects.count() == 8
    assert StrategicGoal.objects.filter(status="active").exists()
    assert Commitment.objects.exists() and Outcome.objects.exists()
    assert StakeholderLink.objects.exists()
    # The named demo accounts of the README, with their roles.
    assert User.objects.get(username="dana").groups.filter(name=DIRECTOR).exists()
    maria = User.objects.get(username="maria")
    assert not maria.groups.filter(name=DIRECTOR).exists()
    assert maria.check_password("rapport-demo")
    assert "maria" in seeded and "rapport-demo" in seeded


def test_every_interaction_has_both_sides_and_sane_values(seeded):
    interactions = Interaction.objects.annotate(
        n_users=Count("internal_participants", distinct=True),
        n_stakeholders=Count("stakeholders", distinct=True),
    )
    assert not interactions.filter(n_users=0).exists()
    assert not interactions.filter(n_stakeholders=0).exists()
    # Some interactions bring a colleague or two people of one organisation.
    assert interactions.filter(n_users=2).exists() or interactions.filter(n_stakeholders=2).exists()
    assert not Interaction.objects.filter(occurred_at__date__gte=TODAY).exists()
    # Every interaction is logged by one of its own participants.
    for ix in Interaction.objects.prefetch_related("internal_participants")[:50]:
        assert ix.created_by in ix.internal_participants.all()


def test_every_interacting_pair_has_a_relationship(seeded):
    pairs = set()
    for ix in Interaction.objects.prefetch_related("internal_participants", "stakeholders"):
        for user in ix.internal_participants.all():
            for stakeholder in ix.stakeholders.all():
                pairs.add((user.pk, stakeholder.pk))
    relationships = set(Relationship.objects.values_list("user_id", "stakeholder_id"))
    assert pairs <= relationships
    # The owner of a stakeholder holds the `owner` role; nobody else does.
    for rel in Relationship.objects.select_related("stakeholder"):
        assert (rel.role == "owner") == (rel.stakeholder.owner_id == rel.user_id)


def test_stakeholders_have_default_cadence_and_org_emails(seeded):
    for s in Stakeholder.objects.select_related("organization"):
        assert s.cadence_days >= 1
        if s.organization:
            assert s.email.endswith(s.organization.website.removeprefix("https://www."))


def test_same_seed_same_data_other_seed_other_data(seeded):
    first = demo_fingerprint()
    seed("--flush")
    assert demo_fingerprint() == first
    seed("--flush", seed_value=8)
    assert demo_fingerprint() != first


def test_refuses_to_seed_over_existing_data_without_flush(seeded):
    before = (Interaction.objects.count(), demo_fingerprint())
    with pytest.raises(CommandError, match="--flush"):
        seed()
    assert (Interaction.objects.count(), demo_fingerprint()) == before


def test_flush_keeps_superusers(db):
    admin = User.objects.create_superuser("admin", "admin@example.com", "pw")
    seed()
    seed("--flush")
    assert User.objects.filter(pk=admin.pk).exists()
    assert Stakeholder.objects.count() == 30


def test_ids_continue_after_the_seeded_rows(seeded):
    # Rows inserted with explicit ids must not leave the id sequences behind.
    maria = User.objects.get(username="maria")
    stakeholder = Stakeholder.objects.create(name="New Person", importance=5)
    assert stakeholder.cadence_days == 30
    interaction = Interaction.objects.create(subject="After the seed", created_by=maria)
    assert interaction.pk > Interaction.objects.exclude(pk=interaction.pk).latest("pk").pk
    assert User.objects.create_user("newcomer").pk > maria.pk


def test_the_network_shows_what_dashboards_need(seeded):
    statuses = set(Commitment.objects.values_list("status", flat=True))
    assert {"kept", "broken", "open"} <= statuses
    assert (
        Commitment.objects.filter(status="kept").count()
        > Commitment.objects.filter(status="broken").count()
    )
    assert Interaction.objects.filter(private=True).exists()
    assert Relationship.objects.filter(status="dormant").exists()
    assert Relationship.objects.exclude(objective="").exists()
    # Some stakeholders were left without contact for longer than their cadence.
    last = Stakeholder.objects.annotate(last=Max("interactions__occurred_at"))
    overdue = [s for s in last if s.last and (TODAY - s.last.date()).days > s.cadence_days]
    assert overdue
    # Importance is skewed: few 5s, more 1s and 2s.
    assert (
        Stakeholder.objects.filter(importance=5).count()
        < Stakeholder.objects.filter(importance__lte=2).count()
    )


@pytest.mark.skipif(
    "recompute_scores" not in get_commands(), reason="the score recomputation is not installed"
)
def test_flush_also_clears_other_apps_rows_that_point_at_the_domain(db):
    seed("--recompute")
    dependents = _dependent_models(DOMAIN_MODELS)
    assert any(model._base_manager.exists() for model in dependents)  # stored scores
    demo_flush()
    assert not any(model._base_manager.exists() for model in dependents)
    connection.check_constraints()
    seed()
    assert Stakeholder.objects.count() == 30
