"""Every page costs the same number of queries whatever the number of rows.

Each test runs with a small and a larger data set under the same ceiling. The
first three queries of every page are the same: the session, the user, and the
user's groups (for the role checks, cached on the user for the request).
"""

import pytest
from django.urls import reverse

from relations.models import Relationship, Tag
from tests.factories import CommitmentFactory, InteractionFactory, StakeholderFactory

BASE = 3  # session, user, the user's groups


@pytest.fixture(params=[2, 30], ids=["small", "larger"])
def data(request, manager, other_manager, stakeholder):
    tag = Tag.objects.create(name="energy")
    organization = stakeholder.organization
    relationship = Relationship.objects.create(user=manager, stakeholder=stakeholder, role="owner")
    Relationship.objects.create(user=other_manager, stakeholder=stakeholder)
    for _ in range(request.param):
        other = StakeholderFactory(owner=manager, organization=organization)
        other.tags.add(tag)
        interaction = InteractionFactory(
            participants=[manager, other_manager], with_stakeholders=[stakeholder, other]
        )
        CommitmentFactory(stakeholder=stakeholder, responsible=manager, interaction=interaction)
    return {
        "stakeholder": stakeholder,
        "organization": organization,
        "relationship": relationship,
        "interaction": interaction,
    }


def test_home(manager_client, data, django_assert_max_num_queries):
    # the manager home (dashboards.views.home): commitment counts, ours due, theirs due,
    # losing-touch candidates and their rows, at risk, plans due, recent interactions
    # + their stakeholders + participants; key relationships whose pulse is due; my
    # reviews due or answered (reviews' panel)
    with django_assert_max_num_queries(BASE + 11 + 1):
        assert manager_client.get(reverse("home")).status_code == 200


def test_stakeholder_list(manager_client, data, django_assert_max_num_queries):
    # organisations for the picker, owners for the select, tags for the select,
    # count, the page (+organisation, owner), the page's tags, the page's last contacts
    with django_assert_max_num_queries(BASE + 7):
        response = manager_client.get(reverse("stakeholder-list"), {"q": "", "page": 2})
    assert response.status_code == 200


def test_stakeholder_list_by_last_name(manager_client, data, django_assert_max_num_queries):
    # the same queries as by name: the order is a stored column (surname_key)
    with django_assert_max_num_queries(BASE + 7):
        response = manager_client.get(reverse("stakeholder-list"), {"sort": "last_name"})
    assert response.status_code == 200
    assert response.context["form"].cleaned_data["sort"] == "last_name"


def test_stakeholder_detail(manager_client, data, django_assert_max_num_queries):
    # the stakeholder (+organisation, owner), its tags, timeline count, timeline page,
    # its participants, its stakeholders, open commitments, who knows them, the
    # relationships I may open; the stored scores (and, without any, whether I may see
    # them); the latest network run (warm introductions); the ledger and its visibility;
    # its outcomes (+credited, goal) and its known ties (+both ends); trust over time:
    # whether I may see it, the snapshots, the span's commitments, interactions, pulses;
    # the reviews I may read (reviews' panel) and those on the time line
    with django_assert_max_num_queries(BASE + 9 + 2 + 1 + 2 + 2 + 5 + 1 + 1):
        assert manager_client.get(data["stakeholder"].get_absolute_url()).status_code == 200


def test_organization_list(manager_client, data, django_assert_max_num_queries):
    # count, page with stakeholder counts
    with django_assert_max_num_queries(BASE + 2):
        assert manager_client.get(reverse("organization-list")).status_code == 200


def test_organization_detail(manager_client, data, django_assert_max_num_queries):
    # the organisation, count of its stakeholders, their page (+owner); the roll-up of
    # their scores, its trend, the ledger
    with django_assert_max_num_queries(BASE + 3 + 3):
        assert manager_client.get(data["organization"].get_absolute_url()).status_code == 200


def test_relationship_detail(manager_client, data, django_assert_max_num_queries):
    # the relationship (+user, stakeholder, organisation, owner), shared interactions:
    # count, page, participants, stakeholders; commitments (+responsible, stakeholder);
    # the stored scores (and, without any, whether I may see them); the pulses I may
    # see (+author) and the latest of them beside trust; trust over time: the snapshots
    # and the span's commitments, interactions and pulses (+author)
    with django_assert_max_num_queries(BASE + 6 + 2 + 2 + 4):
        assert manager_client.get(data["relationship"].get_absolute_url()).status_code == 200


def test_interaction_detail(manager_client, data, django_assert_max_num_queries):
    # the interaction (+created_by), participants, stakeholders (+organisation), commitments
    with django_assert_max_num_queries(BASE + 5):
        assert manager_client.get(data["interaction"].get_absolute_url()).status_code == 200


def test_interaction_forms(manager_client, data, django_assert_max_num_queries):
    # new: preselected stakeholder check, picker stakeholders (selected, first ones), colleagues
    with django_assert_max_num_queries(BASE + 4):
        url = reverse("interaction-create")
        assert manager_client.get(url, {"stakeholder": data["stakeholder"].pk}).status_code == 200
    # edit: the interaction, its participants, stakeholders, picker stakeholders (2), colleagues
    with django_assert_max_num_queries(BASE + 7):
        url = reverse("interaction-edit", args=[data["interaction"].pk])
        assert manager_client.get(url).status_code == 200


def test_my_commitments(manager_client, data, django_assert_max_num_queries):
    # tab counts, page count, page (+stakeholder, organisation, responsible)
    with django_assert_max_num_queries(BASE + 3):
        assert manager_client.get(reverse("commitment-list")).status_code == 200


def test_autocomplete(manager_client, data, django_assert_max_num_queries):
    # the ids of the organisations whose name matches (relations.search.matching: an
    # index scan instead of folding every stakeholder's organisation), the answer
    with django_assert_max_num_queries(BASE + 2):
        assert (
            manager_client.get(reverse("autocomplete-stakeholders"), {"q": "a"}).status_code == 200
        )
