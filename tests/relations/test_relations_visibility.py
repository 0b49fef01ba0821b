"""Who sees which page (DESIGN §7): two managers, a director and an anonymous visitor.

Maria (`manager`) owns `stakeholder` and met it in `interaction`; Otto
(`other_manager`) has nothing to do with either; Dana (`director`) sees all.
What a user may not see answers 404; what they may see but not change, 403.
"""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from relations.models import Relationship, Stakeholder
from tests.factories import CommitmentFactory, InteractionFactory, StakeholderFactory, UserFactory

ANONYMOUS = "anonymous"


@pytest.fixture
def world(manager, other_manager, director, stakeholder, interaction):
    relationship = Relationship.objects.create(user=manager, stakeholder=stakeholder, role="owner")
    commitment = CommitmentFactory(
        stakeholder=stakeholder, responsible=manager, interaction=interaction
    )
    return {
        "users": {"manager": manager, "other_manager": other_manager, "director": director},
        "stakeholder": stakeholder,
        "organization": stakeholder.organization,
        "interaction": interaction,
        "relationship": relationship,
        "commitment": commitment,
    }


def client_for(world, who: str) -> Client:
    client = Client()
    if who != ANONYMOUS:
        client.force_login(world["users"][who])
    return client


def url_of(world, page: str) -> str:
    pk = {
        "stakeholder-detail": "stakeholder",
        "organization-detail": "organization",
        "relationship-detail": "relationship",
        "interaction-detail": "interaction",
        "interaction-edit": "interaction",
        "interaction-delete": "interaction",
    }.get(page)
    return reverse(page, args=[world[pk].pk]) if pk else reverse(page)


# page → expected status for (manager, other_manager, director); anonymous always → sign-in.
MATRIX = {
    "home": (200, 200, 200),
    "stakeholder-list": (200, 200, 200),
    "stakeholder-detail": (200, 200, 200),
    "organization-list": (200, 200, 200),
    "organization-detail": (200, 200, 200),
    "relationship-detail": (200, 404, 200),
    "interaction-create": (200, 200, 200),
    "interaction-detail": (200, 404, 200),
    "interaction-edit": (200, 404, 200),
    "interaction-delete": (200, 404, 200),
    "commitment-list": (200, 200, 200),
    "autocomplete-stakeholders": (200, 200, 200),
    "autocomplete-users": (200, 200, 200),
    "autocomplete-organizations": (200, 200, 200),
}
CASES = [
    (page, who, status)
    for page, statuses in MATRIX.items()
    for who, status in zip(("manager", "other_manager", "director"), statuses, strict=True)
]


@pytest.mark.parametrize(("page", "who", "status"), CASES)
def test_page_status_per_user(world, page, who, status):
    response = client_for(world, who).get(url_of(world, page))
    assert response.status_code == status


@pytest.mark.parametrize("page", MATRIX)
def test_anonymous_is_sent_to_sign_in(world, page):
    url = url_of(world, page)
    response = client_for(world, ANONYMOUS).get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_signed_in_user_without_a_role_is_refused(world):
    nobody = UserFactory(username="norole")
    nobody.groups.clear()
    client = Client()
    client.force_login(nobody)
    assert client.get(reverse("stakeholder-list")).status_code == 403
    assert client.get(url_of(world, "stakeholder-detail")).status_code == 403


def test_stakeholder_timeline_shows_only_visible_interactions(world, other_manager):
    InteractionFactory(
        subject="Otto's lunch",
        participants=[other_manager],
        with_stakeholders=[world["stakeholder"]],
    )
    url = url_of(world, "stakeholder-detail")
    maria = client_for(world, "manager").get(url).content.decode()
    otto = client_for(world, "other_manager").get(url).content.decode()
    dana = client_for(world, "director").get(url).content.decode()
    subject = world["interaction"].subject
    # Maria owns the stakeholder: she sees her own meeting and Otto's lunch.
    assert subject in maria and "Otto&#x27;s lunch" in maria
    # Otto sees his lunch but not Maria's meeting, nor her commitment.
    assert subject not in otto and "Otto&#x27;s lunch" in otto
    assert world["commitment"].description not in otto
    assert subject in dana and world["commitment"].description in dana


def test_relationship_link_only_for_those_who_may_see_it(world):
    url = url_of(world, "stakeholder-detail")
    link = world["relationship"].get_absolute_url()
    assert link in client_for(world, "manager").get(url).content.decode()
    otto_page = client_for(world, "other_manager").get(url).content.decode()
    assert link not in otto_page
    assert "Maria Manager" in otto_page  # who knows the stakeholder is no secret among staff


def test_edit_and_delete_links_only_for_those_allowed(world, manager, other_manager, stakeholder):
    # Otto logs a meeting with Maria's stakeholder: Maria (owner) sees it but may not change it.
    ottos = InteractionFactory(participants=[other_manager], with_stakeholders=[stakeholder])
    ottos.created_by = other_manager
    ottos.save()
    maria = client_for(world, "manager")
    page = maria.get(reverse("interaction-detail", args=[ottos.pk])).content.decode()
    assert reverse("interaction-edit", args=[ottos.pk]) not in page
    assert maria.get(reverse("interaction-edit", args=[ottos.pk])).status_code == 403
    assert maria.get(reverse("interaction-delete", args=[ottos.pk])).status_code == 403
    assert maria.post(reverse("interaction-delete", args=[ottos.pk])).status_code == 403
    ottos.refresh_from_db()  # still there

    otto_page = client_for(world, "other_manager").get(ottos.get_absolute_url()).content.decode()
    assert reverse("interaction-edit", args=[ottos.pk]) in otto_page


def test_private_notes_only_for_participants_and_directors(world, other_manager, stakeholder):
    private = InteractionFactory(
        participants=[other_manager],
        with_stakeholders=[stakeholder],
        private=True,
        notes="Confidential merger talk",
    )
    url = private.get_absolute_url()
    assert (
        "Confidential merger talk" in client_for(world, "other_manager").get(url).content.decode()
    )
    assert "Confidential merger talk" in client_for(world, "director").get(url).content.decode()
    maria = client_for(world, "manager").get(url)
    assert maria.status_code == 200  # she owns the stakeholder, so she sees the interaction
    assert "Confidential merger talk" not in maria.content.decode()
    timeline = client_for(world, "manager").get(url_of(world, "stakeholder-detail"))
    assert "Confidential merger talk" not in timeline.content.decode()


def test_autocomplete_answers_json_of_visible_records(world):
    response = client_for(world, "other_manager").get(
        reverse("autocomplete-stakeholders"), {"q": "Sam"}
    )
    assert response.json() == {
        "results": [
            {
                "value": world["stakeholder"].pk,
                "text": f"Sam Stakeholder — {world['organization'].name}",
            }
        ]
    }
    users = client_for(world, "manager").get(reverse("autocomplete-users"), {"q": "dan"}).json()
    assert [u["text"] for u in users["results"]] == ["Dana Director"]


def test_my_commitments_lists_only_mine(world):
    description = world["commitment"].description
    assert description in client_for(world, "manager").get("/commitments/").content.decode()
    assert (
        description not in client_for(world, "other_manager").get("/commitments/").content.decode()
    )


def test_scores_visible_flag_matches_scores_visible_to(manager, other_manager, director):
    # Owned by Maria; known to Otto through a relationship; unowned; owned by Otto.
    owned = StakeholderFactory(owner=manager)
    known = StakeholderFactory(owner=None)
    Relationship.objects.create(user=other_manager, stakeholder=known, role="owner")
    unowned = StakeholderFactory(owner=None)
    others = StakeholderFactory(owner=other_manager)
    ids = {owned.pk, known.pk, unowned.pk, others.pk}
    no_role = User.objects.create_user("norole", password="pw")
    for user in (manager, other_manager, director, no_role):
        expected = set(
            Stakeholder.objects.scores_visible_to(user)
            .filter(pk__in=ids)
            .values_list("pk", flat=True)
        )
        flags = dict(
            Stakeholder.objects.filter(pk__in=ids)
            .with_scores_visible(user)
            .values_list("pk", "scores_visible")
        )
        assert {pk for pk, visible in flags.items() if visible} == expected, user.username
        assert set(flags.values()) <= {True, False}  # never NULL, even for an unowned row
    assert Stakeholder.objects.scores_visible_to(other_manager).filter(pk__in=ids).count() == 2
