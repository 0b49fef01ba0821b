"""Search everywhere (DESIGN §5a): one matching for the header and the list filters,
insensitive to case, accents, word order and extra spaces, tolerant of one typo in
longer words; only what the user may see. Runs on SQLite and on PostgreSQL (unaccent,
pg_trgm and the indexes of migration 0015)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from relations.models import Interaction, Stakeholder
from relations.search.matching import fold, query_words, search, typo_pattern
from tests.factories import GoalFactory, OrganizationFactory, StakeholderFactory

pytestmark = pytest.mark.django_db


def test_folding_and_words():
    assert fold("Chloé DUBOIS") == "chloe dubois"
    assert query_words("  Dubois   Chloé ") == ["dubois", "chloe"]
    assert typo_pattern("ann") is None
    assert "dub.is" in typo_pattern("dubois")


@pytest.mark.parametrize(
    "query",
    ["dubois chloe", "Dubois Chloé", "chloe   dubois", "CHLOÉ", "chloe dubios", "chlo dubois"],
)
def test_names_are_found_whatever_the_accents_order_spaces_or_one_typo(query):
    chloe = StakeholderFactory(name="Chloé Dubois")
    StakeholderFactory(name="Anna Andersen")
    found = search(Stakeholder.objects.all(), ("name",), query)
    assert list(found) == [chloe]


def test_short_words_are_not_guessed():
    StakeholderFactory(name="Ann Lee")
    assert not search(Stakeholder.objects.all(), ("name",), "anx").exists()


def test_the_list_filter_uses_the_same_matching(manager_client):
    StakeholderFactory(name="Chloé Dubois", organization=OrganizationFactory(name="Énergie SA"))
    html = manager_client.get("/stakeholders/", {"q": "energie dubois"}).content.decode()
    assert "Chloé Dubois" in html
    html = manager_client.get("/organizations/", {"q": "ENERGIE"}).content.decode()
    assert "Énergie SA" in html


def test_header_search_groups_what_the_user_may_see(
    manager_client, manager, other_manager, django_assert_max_num_queries
):
    chloe = StakeholderFactory(name="Chloé Dubois", owner=manager)
    OrganizationFactory(name="Dubois Consulting")
    GoalFactory(title="Win Dubois over")
    mine = Interaction.objects.create(
        subject="Lunch",
        notes="Dubois wants a pilot",
        occurred_at=timezone.now(),
        created_by=manager,
    )
    mine.stakeholders.add(chloe)
    mine.internal_participants.add(manager)
    # Otto's private call with her: visible to Maria (she owns Chloé), its notes not.
    private = Interaction.objects.create(
        subject="Call",
        notes="Dubois is leaving",
        private=True,
        occurred_at=timezone.now(),
        created_by=other_manager,
    )
    private.stakeholders.add(chloe)
    private.internal_participants.add(other_manager)

    # the session, the user; the four groups (+ the stakeholders' organisations), the
    # ids of the organisations whose name matches, the interactions' second step
    # (their newest by id: `newest_interactions`)
    with django_assert_max_num_queries(9):
        response = manager_client.get("/search/", {"q": "dubois"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "Chloé Dubois" in html and "Dubois Consulting" in html and "Win Dubois over" in html
    assert "Lunch" in html
    assert "Call" not in html  # matched only in notes Maria may not read


def test_header_search_is_on_every_page_and_works_without_javascript(manager_client):
    StakeholderFactory(name="Chloé Dubois")
    assert 'id="header-search-input"' in manager_client.get("/stakeholders/").content.decode()
    page = manager_client.get("/search/", {"q": "dubois chloe"})
    assert page.status_code == 200 and "Chloé Dubois" in page.content.decode()


def test_archived_records_are_not_found(manager_client):
    StakeholderFactory(name="Chloé Dubois", archived_at=timezone.now())
    html = manager_client.get("/search/", {"q": "dubois"}).content.decode()
    assert "Nothing found" in html


def test_postgresql_has_the_folding_function_and_trigram_indexes():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite registers the function per connection")
    with connection.cursor() as cursor:
        cursor.execute("SELECT rapport_fold('Chloé DUBOIS')")
        assert cursor.fetchone()[0] == "chloe dubois"
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%%_fold_trgm'")
        assert {row[0] for row in cursor.fetchall()} == {
            "stakeholder_name_fold_trgm",
            "organization_name_fold_trgm",
            "goal_title_fold_trgm",
            "interaction_subject_fold_trgm",
            "interaction_notes_fold_trgm",
            "organization_sector_fold_trgm",
            "organization_country_fold_trgm",
            "stakeholder_email_fold_trgm",
            "stakeholder_title_fold_trgm",
        }


def test_the_filtered_stakeholder_list_stays_bounded(manager_client, django_assert_max_num_queries):
    for n in range(30):
        StakeholderFactory(name=f"Chloé Dubois {n}", organization=OrganizationFactory())
    # the session, the user; the filter's pickers (organisations, owners, tags); the
    # count and the page (+organisation, owner) and its tags — whatever the matches
    with django_assert_max_num_queries(12):
        response = manager_client.get("/stakeholders/", {"q": "dubois chloe"})
    assert response.status_code == 200 and "Chloé Dubois 1" in response.content.decode()


def _said(manager, stakeholder, subject, days_ago):
    interaction = Interaction.objects.create(
        subject=subject,
        occurred_at=timezone.now() - timezone.timedelta(days=days_ago),
        created_by=manager,
    )
    interaction.stakeholders.add(stakeholder)
    interaction.internal_participants.add(manager)
    return interaction


@pytest.mark.parametrize("few_matches", [100, 2])
def test_the_newest_matching_interactions_whether_the_words_are_rare_or_common(
    manager, monkeypatch, few_matches
):
    # Rare words (fewer matches than FEW_MATCHES) and common ones take different plans;
    # both give the newest matches, newest first.
    from relations.search import groups

    monkeypatch.setattr(groups, "FEW_MATCHES", few_matches)
    chloe = StakeholderFactory(name="Chloé Dubois", owner=manager)
    said = [_said(manager, chloe, f"Pilot review {n}", days_ago=n) for n in (9, 2, 5, 7)]
    _said(manager, chloe, "Lunch", days_ago=0)
    found = groups.newest_interactions(manager, "REVIEW pilot", limit=3)
    assert found == [said[1], said[2], said[3]]


def test_interaction_words_are_matched_as_typed_names_with_one_typo(manager):
    from relations.search.groups import search_results

    chloe = StakeholderFactory(name="Chloé Dubois", owner=manager)
    _said(manager, chloe, "Budget negotiation", days_ago=1)
    results = search_results(manager, "negotiaton")
    assert results["interactions"] == []
    assert search_results(manager, "dubios")["stakeholders"] == [chloe]
