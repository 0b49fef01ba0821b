"""The "Pulse due" reminder on the manager home: key relationships without a pulse
of the user's own for 90 days, each with a link to the pulse form."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from relations.models import GoalStakeholder, Relationship
from relations.services import pulse_record
from tests.factories import GoalFactory, StakeholderFactory

pytestmark = pytest.mark.django_db


def due_names(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return [r.stakeholder.name for r in response.context["pulses_due"]]


def assess(relationship, user, days_ago):
    return pulse_record(
        relationship=relationship,
        by=user,
        integrity=3,
        transparency=3,
        reliability=3,
        assessed_on=timezone.localdate() - timedelta(days=days_ago),
    )


def test_a_key_relationship_never_assessed_is_due_with_a_link_to_the_form(
    relationship, manager, client_for
):
    client = client_for(manager)

    assert due_names(client) == ["Sam Stakeholder"]
    html = client.get(reverse("home")).content.decode()
    assert f'href="{relationship.get_absolute_url()}#pulse-form"' in html
    assert "Never assessed" in html


def test_a_recent_pulse_clears_it_and_ninety_days_bring_it_back(relationship, manager, client_for):
    client = client_for(manager)
    pulse = assess(relationship, manager, days_ago=89)
    assert due_names(client) == []

    pulse.assessed_on = timezone.localdate() - timedelta(days=90)
    pulse.save()
    assert due_names(client) == ["Sam Stakeholder"]


def test_only_the_users_own_pulses_and_key_not_ended_relationships_count(
    relationship, manager, member, director, client_for
):
    # Dana's pulse on Maria's relationship is Dana's view, not Maria's.
    assess(relationship, director, days_ago=1)
    minor = StakeholderFactory(name="Minor Contact", importance=2)
    Relationship.objects.create(user=manager, stakeholder=minor)
    on_goal = StakeholderFactory(name="Goal Sponsor", importance=2)
    GoalStakeholder.objects.create(goal=GoalFactory(), stakeholder=on_goal)
    Relationship.objects.create(user=manager, stakeholder=on_goal)
    ended = StakeholderFactory(name="Former Partner", importance=5)
    Relationship.objects.create(user=manager, stakeholder=ended, status=Relationship.Status.ENDED)

    assert due_names(client_for(manager)) == ["Goal Sponsor", "Sam Stakeholder"]
    # Mia's own relationship with Sam is due for her; Otto has none.
    assert due_names(client_for(member)) == ["Sam Stakeholder"]


def test_never_assessed_come_first_then_the_oldest(relationship, manager, client_for):
    older = StakeholderFactory(name="Alice Older", importance=5)
    older_relationship = Relationship.objects.create(user=manager, stakeholder=older)
    assess(older_relationship, manager, days_ago=200)
    StakeholderFactory(name="Zoe Never", importance=4)
    Relationship.objects.create(
        user=manager, stakeholder=StakeholderFactory(name="Bob Never", importance=4)
    )

    assert due_names(client_for(manager)) == ["Bob Never", "Sam Stakeholder", "Alice Older"]


def test_the_reminder_costs_one_query_whatever_the_portfolio(
    relationship, manager, client_for, django_assert_max_num_queries
):
    client = client_for(manager)
    client.get(reverse("home"))
    with django_assert_max_num_queries(30) as with_one_due:
        assert len(client.get(reverse("home")).context["pulses_due"]) == 1
    for n in range(15):
        Relationship.objects.create(
            user=manager, stakeholder=StakeholderFactory(name=f"Key {n:02}", importance=5)
        )
    # The same queries with 16 due relationships as with one: the reminder is one
    # query (relationships + stakeholder, the last pulse as a subquery), capped at 10.
    with django_assert_max_num_queries(len(with_one_due)):
        response = client.get(reverse("home"))
    assert len(response.context["pulses_due"]) == 10
