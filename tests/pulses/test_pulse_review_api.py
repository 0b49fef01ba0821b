"""The review flag and the latest pulse in the API: on `/api/v1/relationships/` (with
`?review=true`) and in `/relationships/{id}/scores/`, with one definition shared with
the relationship page (`metrics.querysets.relationships_with_review`)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from metrics.models import RelationshipScore
from metrics.pulse import pulse_gap
from relations.models import AuthenticityPulse, Relationship
from relations.services import pulse_record
from tests.factories import StakeholderFactory

pytestmark = pytest.mark.django_db

REVIEW_FIELDS = (
    "latest_pulse",
    "latest_pulse_on",
    "latest_pulse_score",
    "flagged_for_review",
    "review_direction",
)


def record(relationship, user, ratings, days_ago=0):
    integrity, transparency, reliability = ratings
    return pulse_record(
        relationship=relationship,
        by=user,
        integrity=integrity,
        transparency=transparency,
        reliability=reliability,
        assessed_on=timezone.localdate() - timedelta(days=days_ago),
    )


def store_trust(relationship, value):
    RelationshipScore.objects.update_or_create(
        relationship=relationship, defaults={"trust": value, "computed_at": timezone.now()}
    )


def listed(api, query=""):
    response = api.get(f"/api/v1/relationships/{query}")
    assert response.status_code == 200, response.content
    return {row["id"]: row for row in response.json()["results"]}


def page_flags(client, relationship):
    html = client.get(relationship.get_absolute_url()).content.decode()
    return "pulse-flag" in html


def test_the_list_shows_the_latest_pulse_beside_trust_and_the_flag(
    relationship, manager, api_for, trust
):
    trust(0.42)
    record(relationship, manager, (1, 1, 1), days_ago=30)  # 0.0, older
    latest = record(relationship, manager, (5, 4, 4))  # 0.8333…: 0.41 above trust

    row = listed(api_for(manager))[relationship.pk]

    assert row["latest_pulse"] == latest.pk
    assert row["latest_pulse_on"] == timezone.localdate().isoformat()
    assert row["latest_pulse_score"] == pytest.approx(latest.score)
    assert row["flagged_for_review"] is True
    assert row["review_direction"] == "higher"
    detail = api_for(manager).get(f"/api/v1/relationships/{relationship.pk}/").json()
    assert {name: detail[name] for name in REVIEW_FIELDS} == {
        name: row[name] for name in REVIEW_FIELDS
    }


def test_no_pulse_or_no_trust_is_not_a_flag(relationship, manager, api_for, trust):
    api = api_for(manager)
    row = listed(api)[relationship.pk]
    assert (row["latest_pulse"], row["flagged_for_review"], row["review_direction"]) == (
        None,
        False,
        None,
    )

    record(relationship, manager, (5, 5, 5))  # a pulse, but no computed trust yet
    row = listed(api)[relationship.pk]
    assert row["latest_pulse_score"] == 1.0
    assert row["flagged_for_review"] is False

    trust(0.2)
    row = listed(api)[relationship.pk]
    assert (row["flagged_for_review"], row["review_direction"]) == (True, "higher")


def test_review_true_lists_only_the_flagged_relationships(manager, director, api_for):
    flagged_low, flagged_high, agreeing, unpulsed = (
        Relationship.objects.create(user=manager, stakeholder=StakeholderFactory(owner=manager))
        for _ in range(4)
    )
    for relationship, trust_value, ratings in (
        (flagged_low, 0.9, (2, 2, 3)),  # 0.33 vs 0.90: lower
        (flagged_high, 0.1, (4, 4, 4)),  # 0.75 vs 0.10: higher
        (agreeing, 0.6, (3, 4, 3)),  # 0.58 vs 0.60
    ):
        store_trust(relationship, trust_value)
        record(relationship, manager, ratings)
    store_trust(unpulsed, 0.5)

    for api in (api_for(manager), api_for(director)):
        flagged = listed(api, "?review=true")
        assert set(flagged) == {flagged_low.pk, flagged_high.pk}
        assert flagged[flagged_low.pk]["review_direction"] == "lower"
        assert flagged[flagged_high.pk]["review_direction"] == "higher"
        assert set(listed(api, "?review=false")) == {agreeing.pk, unpulsed.pk}
    assert api_for(manager).get("/api/v1/relationships/?review=maybe").status_code == 400


def test_the_flag_is_for_whoever_sees_the_scores(
    relationship, manager, member, other_manager, director, api_for, trust
):
    trust(0.9)
    record(relationship, manager, (1, 2, 1))  # 0.083 vs 0.90

    assert listed(api_for(director))[relationship.pk]["flagged_for_review"] is True
    # Mia knows Sam and sees Maria's relationship, but neither its scores nor its pulses.
    row = listed(api_for(member))[relationship.pk]
    assert (row["latest_pulse"], row["flagged_for_review"]) == (None, None)
    assert relationship.pk not in listed(api_for(member), "?review=true")
    assert relationship.pk not in listed(api_for(other_manager))
    assert (
        api_for(member).get(f"/api/v1/relationships/{relationship.pk}/scores/").status_code == 404
    )


@pytest.mark.parametrize(
    ("ratings", "trust_value"),
    [
        ((4, 4, 4), 0.45),  # 0.75 − 0.45: exactly the threshold (0.30000000000000004)
        ((3, 3, 3), 0.8),  # 0.5 − 0.8: exactly the threshold the other way
        ((3, 3, 3), 0.79),  # 0.29: just below
        ((4, 4, 4), 0.46),  # 0.29: just below
        ((5, 4, 4), 0.42),
        ((2, 2, 3), 0.9),
        ((1, 1, 1), 0.0),
    ],
)
def test_page_api_and_the_rule_agree_at_the_threshold(
    relationship, manager, api_for, client_for, trust, ratings, trust_value
):
    trust(trust_value)
    pulse = record(relationship, manager, ratings)
    expected = pulse_gap(pulse.score, trust_value)

    row = listed(api_for(manager))[relationship.pk]
    scores = api_for(manager).get(f"/api/v1/relationships/{relationship.pk}/scores/").json()

    assert row["flagged_for_review"] is (expected is not None)
    assert scores["flagged_for_review"] is (expected is not None)
    assert page_flags(client_for(manager), relationship) is (expected is not None)
    assert row["review_direction"] == (expected.direction if expected else None)
    assert (relationship.pk in listed(api_for(manager), "?review=true")) is (expected is not None)


def test_relationship_scores_carry_the_latest_pulse_and_the_flag(
    relationship, manager, director, api_for, trust
):
    trust(0.9)
    pulse = record(relationship, manager, (2, 2, 3))

    for api in (api_for(manager), api_for(director)):
        body = api.get(f"/api/v1/relationships/{relationship.pk}/scores/").json()
        assert body["trust"] == 0.9
        assert body["latest_pulse"] == pulse.pk
        assert body["latest_pulse_on"] == pulse.assessed_on.isoformat()
        assert body["latest_pulse_score"] == pytest.approx(pulse.score)
        assert (body["flagged_for_review"], body["review_direction"]) == (True, "lower")

    AuthenticityPulse.objects.all().delete()
    body = api_for(manager).get(f"/api/v1/relationships/{relationship.pk}/scores/").json()
    assert (body["latest_pulse"], body["flagged_for_review"]) == (None, False)


def test_the_list_stays_bounded_with_pulses_and_scores(
    manager, api_for, django_assert_max_num_queries
):
    api = api_for(manager)
    for i in range(12):
        relationship = Relationship.objects.create(
            user=manager, stakeholder=StakeholderFactory(owner=manager)
        )
        store_trust(relationship, 0.1 * (i % 10))
        for days_ago in (0, 40, 80):
            record(relationship, manager, (1 + i % 5, 3, 4), days_ago=days_ago)

    # 1 token lookup (with its user and roles), 1 COUNT for the page, 1 the page of rows
    # with their stakeholder, latest pulse (subqueries), trust (a join) and the flag.
    with django_assert_max_num_queries(3):
        response = api.get("/api/v1/relationships/?review=true")
    assert response.status_code == 200
    with django_assert_max_num_queries(3):
        assert api.get("/api/v1/relationships/").json()["count"] == 12
    # The scores of one relationship: token, then the row with scores, pulse and flag.
    with django_assert_max_num_queries(2):
        assert api.get(f"/api/v1/relationships/{relationship.pk}/scores/").status_code == 200


def test_the_openapi_schema_documents_the_fields_and_the_filter(manager_api):
    response = manager_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = response.json()

    components = schema["components"]["schemas"]
    for component in ("Relationship", "RelationshipScores"):
        properties = components[component]["properties"]
        for name in REVIEW_FIELDS:
            assert properties[name].get("description"), (component, name)
            assert properties[name]["readOnly"] is True
    assert components["Relationship"]["properties"]["flagged_for_review"]["nullable"] is True
    parameters = schema["paths"]["/api/v1/relationships/"]["get"]["parameters"]
    review = next(p for p in parameters if p["name"] == "review")
    assert review["schema"]["type"] == "boolean"
    assert "flagged" in review["description"]
    scores = schema["paths"]["/api/v1/relationships/{id}/scores/"]["get"]["responses"]["200"]
    assert scores["content"]["application/json"]["schema"]["$ref"].endswith("/RelationshipScores")
