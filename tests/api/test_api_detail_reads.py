"""Reads of one record: what the read-path shortcuts (issue 9) must not change.

Detail routes skip the list's filter backends when the request has no query
string, serializers build their fields once per class (and a read builds none),
and the token and stakeholder querysets are built once per process. None of
this may change an answer: a query parameter
still filters the lookup (404 when the record does not match, 400 for a bad
value), what the caller may not see is still a 404, and the body is the one
DRF builds from scratch.

Maria (`manager`) owns `stakeholder` and met it in `interaction`; Otto
(`other_manager`) has nothing to do with either; Dana (`director`) sees all.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.authentication import TokenAuthentication
from metrics.models import StakeholderScore
from relations.api import serializers
from relations.models import Relationship, Stakeholder
from relations.roles import DIRECTOR, MANAGER
from relations.services import relationships_ensure
from tests.clients import token_client
from tests.factories import StakeholderFactory

pytestmark = pytest.mark.django_db


def detail(client, stakeholder, query: str = ""):
    return client.get(f"/api/v1/stakeholders/{stakeholder.pk}/{query}")


# --- Query parameters on a detail route filter the lookup, as DRF does ----------------


def test_detail_with_a_search_it_does_not_match_is_404(manager_api, stakeholder):
    stakeholder.name = "Ada Lovelace"
    stakeholder.save()
    assert detail(manager_api, stakeholder, "?search=Lovelace").status_code == 200
    assert detail(manager_api, stakeholder, "?search=Babbage").status_code == 404


def test_detail_with_a_filter_it_does_not_match_is_404(manager_api, manager, stakeholder):
    assert detail(manager_api, stakeholder, f"?owner={manager.pk}").status_code == 200
    assert detail(manager_api, stakeholder, f"?owner={manager.pk + 1000}").status_code == 404
    stakeholder.importance = 2
    stakeholder.save()
    assert detail(manager_api, stakeholder, "?key=false&importance_min=1").status_code == 200
    assert detail(manager_api, stakeholder, "?key=true").status_code == 404


def test_detail_with_a_bad_filter_value_is_400_naming_it(manager_api, stakeholder):
    response = detail(manager_api, stakeholder, "?owner=abc")
    assert response.status_code == 400
    assert "owner" in response.json()


def test_detail_with_ordering_answers_the_same_body(manager_api, stakeholder):
    plain = detail(manager_api, stakeholder)
    assert plain.status_code == 200
    for query in ("?ordering=-name", "?ordering=nonsense", "?ordering="):
        response = detail(manager_api, stakeholder, query)
        assert response.status_code == 200
        assert response.json() == plain.json()


def test_user_detail_with_a_search_it_does_not_match_is_404(manager_api, other_manager):
    url = f"/api/v1/users/{other_manager.pk}/"
    assert manager_api.get(url).status_code == 200
    assert manager_api.get(f"{url}?search={other_manager.username}").status_code == 200
    assert manager_api.get(f"{url}?search=no-such-person").status_code == 404


def test_writes_with_a_filter_the_record_does_not_match_are_404(manager_api, stakeholder):
    url = f"/api/v1/stakeholders/{stakeholder.pk}/?search=no-such-name"
    assert manager_api.patch(url, {"title": "CEO"}, format="json").status_code == 404
    assert Stakeholder.objects.get(pk=stakeholder.pk).title != "CEO"


# --- Visibility is not a filter backend: still 404 without any parameter -------------


def test_another_managers_relationship_is_404_with_and_without_parameters(
    other_api, manager, stakeholder
):
    relationships_ensure([manager], [stakeholder])
    relationship = Relationship.objects.get(user=manager, stakeholder=stakeholder)
    url = f"/api/v1/relationships/{relationship.pk}/"
    assert other_api.get(url).status_code == 404
    assert other_api.get(f"{url}?ordering=id").status_code == 404
    assert other_api.get(f"{url}scores/").status_code == 404


def test_another_managers_interaction_is_404(other_api, manager_api, interaction):
    url = f"/api/v1/interactions/{interaction.pk}/"
    assert manager_api.get(url).status_code == 200
    assert other_api.get(url).status_code == 404


def test_scores_of_a_stakeholder_the_caller_does_not_know_are_404(
    manager_api, other_api, director_api, stakeholder
):
    StakeholderScore.objects.create(stakeholder=stakeholder, computed_at=timezone.now())
    url = f"/api/v1/stakeholders/{stakeholder.pk}/scores/"
    assert manager_api.get(url).status_code == 200
    assert director_api.get(url).status_code == 200
    assert other_api.get(url).status_code == 404
    assert other_api.get(f"{url}?search=x").status_code == 404


def without_role() -> User:
    return User.objects.create_user("norole", password="pw")


def test_a_user_without_a_role_is_refused(stakeholder):
    client = token_client(without_role())
    assert detail(client, stakeholder).status_code == 403
    assert client.get(f"/api/v1/stakeholders/{stakeholder.pk}/scores/").status_code == 403


# --- Token authentication: the prepared query answers as knox does ---------------------


def test_an_expired_token_is_refused_and_deleted(manager, stakeholder):
    client = token_client(manager)
    row = AuthToken.objects.get(user=manager)
    AuthToken.objects.filter(pk=row.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    response = detail(client, stakeholder)
    assert response.status_code == 401
    assert not AuthToken.objects.filter(pk=row.pk).exists()


def test_a_valid_token_sweeps_the_users_expired_tokens(manager, stakeholder):
    client = token_client(manager)
    stale, _ = AuthToken.objects.create(user=manager, expiry=timedelta(days=1))
    AuthToken.objects.filter(pk=stale.pk).update(expiry=timezone.now() - timedelta(minutes=1))
    never, _ = AuthToken.objects.create(user=manager, expiry=None)
    assert detail(client, stakeholder).status_code == 200
    assert not AuthToken.objects.filter(pk=stale.pk).exists()
    assert AuthToken.objects.filter(pk=never.pk).exists()


def detail_with_token(token: str, stakeholder):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return detail(client, stakeholder)


def test_a_token_that_never_expires_is_accepted(manager, stakeholder):
    _row, token = AuthToken.objects.create(user=manager, expiry=None)
    assert detail_with_token(token, stakeholder).status_code == 200


def test_an_inactive_user_and_a_wrong_token_are_refused(manager, stakeholder):
    _row, token = AuthToken.objects.create(user=manager)
    wrong = token[:-1] + ("a" if token[-1] != "a" else "b")
    assert detail_with_token(wrong, stakeholder).status_code == 401
    User.objects.filter(pk=manager.pk).update(is_active=False)
    assert detail_with_token(token, stakeholder).status_code == 401


@pytest.mark.parametrize(
    ("groups", "roles"),
    [
        ([], set()),
        (["sales"], set()),
        ([MANAGER, "sales"], {MANAGER}),
        ([DIRECTOR, MANAGER], {DIRECTOR, MANAGER}),
        ([DIRECTOR], {DIRECTOR}),
    ],
)
def test_the_token_query_reads_the_role_groups(groups, roles):
    user = without_role()
    user.groups.set(Group.objects.get_or_create(name=name)[0] for name in groups)
    _row, token = AuthToken.objects.create(user=user)
    authenticated, _auth = TokenAuthentication().authenticate_credentials(token.encode())
    assert authenticated == user
    assert authenticated._rapport_groups == roles


def test_a_role_given_or_taken_is_seen_by_the_next_request(stakeholder):
    user = without_role()
    client = token_client(user)
    assert detail(client, stakeholder).status_code == 403
    manager_group = Group.objects.get_or_create(name=MANAGER)[0]
    user.groups.add(manager_group)
    assert detail(client, stakeholder).status_code == 200
    user.groups.remove(manager_group)
    assert detail(client, stakeholder).status_code == 403


# --- Bodies: the same as DRF builds them, request after request -------------------------


def test_detail_body_is_the_serializers_and_repeats_unchanged(manager_api, stakeholder):
    stakeholder.tags.create(name="board")
    first = detail(manager_api, stakeholder).json()
    fresh = serializers.StakeholderSerializer(
        serializers.with_tag_names(Stakeholder.objects.with_key_flag()).get(pk=stakeholder.pk)
    ).data
    assert first == {**fresh, "created_at": first["created_at"], "updated_at": first["updated_at"]}
    other = StakeholderFactory(owner=None)
    assert detail(manager_api, other).json()["id"] == other.pk
    assert detail(manager_api, stakeholder).json() == first


def test_each_read_sees_the_current_rows(manager_api, director_api, stakeholder):
    # The viewset's annotated queryset is built once; every request must still read anew.
    assert detail(manager_api, stakeholder).json()["tags"] == []
    assert manager_api.get("/api/v1/stakeholders/?tag=board").json()["count"] == 0
    stakeholder.tags.create(name="board")
    Stakeholder.objects.filter(pk=stakeholder.pk).update(title="Chair")
    body = detail(director_api, stakeholder).json()
    assert (body["tags"], body["title"]) == (["board"], "Chair")
    assert manager_api.get("/api/v1/stakeholders/?tag=board").json()["count"] == 1


# --- Query counts ---------------------------------------------------------------------


# The token query (user, roles, expired tokens), then the row with all it shows.
def test_detail_with_parameters_is_still_two_queries(
    manager_api, stakeholder, django_assert_num_queries
):
    with django_assert_num_queries(2):
        response = detail(manager_api, stakeholder, "?search=" + stakeholder.name.split()[0])
    assert response.status_code == 200


def test_user_detail_is_four_queries(manager_api, other_manager, django_assert_num_queries):
    # The token query; the user, then its groups and teams (prefetched).
    with django_assert_num_queries(4):
        response = manager_api.get(f"/api/v1/users/{other_manager.pk}/")
    assert response.status_code == 200
