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
    # ids of the organisations whose name matches
    with django_assert_max_num_queries(8):
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
