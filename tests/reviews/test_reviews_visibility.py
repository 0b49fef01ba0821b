"""Who reads a review (the stakeholder's answers about us): the relationship's members
and directors, in the API and on the pages alike; and the directors' review page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from relations.models import Relationship
from reviews import services
from reviews.models import Review, ReviewAnswer, ReviewInvitation, Side
from tests.reviews.conftest import OURS, THEIRS

pytestmark = pytest.mark.django_db


@pytest.fixture
def completed(manager, relationship):
    review = services.review_start(relationship=relationship, by=manager)
    services.review_answer_ours(review, by=manager, answers=OURS)
    invitation = ReviewInvitation.objects.create(
        review=review, email="sam@example.org", legal_basis="legitimate_interest"
    )
    from datetime import timedelta

    from django.utils import timezone

    from reviews.models import token_digest

    invitation.token_hash = token_digest("t")
    invitation.expires_at = timezone.now() + timedelta(days=1)
    invitation.save()
    services.review_answer_theirs(invitation, answers=THEIRS)
    review.refresh_from_db()
    assert review.status == Review.Status.COMPLETED
    return review


def test_answers_are_read_by_members_and_directors_only(
    completed, manager, other_manager, director, api_for, client_for
):
    url = f"/api/v1/reviews/{completed.pk}/"
    # A manager not on the relationship sees neither the review nor that it exists.
    assert api_for(other_manager).get(url).status_code == 404
    assert api_for(other_manager).get("/api/v1/reviews/").json()["count"] == 0
    assert client_for(other_manager).get(completed.get_absolute_url()).status_code == 404

    # Once she has a relationship of her own with the stakeholder, she is a member.
    Relationship.objects.create(user=other_manager, stakeholder=completed.stakeholder)
    member = api_for(other_manager).get(url)
    assert member.status_code == 200
    theirs = {a["question"]: a for a in member.json()["answers"] if a["side"] == Side.THEIRS}
    assert theirs["timeliness"]["score"] == 2 and theirs["more_of"]["text"] == "Faster replies"

    for user in (manager, director):
        body = api_for(user).get(url).json()
        assert body["gaps"]["timeliness"] == -2.0
    page = client_for(manager).get(completed.get_absolute_url()).content.decode()
    assert "They see our timeliness lower than we do" in page
    assert "Faster replies" in page


def test_only_the_owner_or_a_director_starts_and_answers(
    relationship, manager, other_manager, director, api_for
):
    Relationship.objects.create(user=other_manager, stakeholder=relationship.stakeholder)
    started = api_for(other_manager).post(
        "/api/v1/reviews/", {"relationship": relationship.pk}, format="json"
    )
    assert started.status_code == 403
    started = api_for(director).post(
        "/api/v1/reviews/", {"relationship": relationship.pk}, format="json"
    )
    assert started.status_code == 201
    review_id = started.json()["id"]
    bad = api_for(manager).post(
        f"/api/v1/reviews/{review_id}/answers/", {"answers": {"frequency": "9"}}, format="json"
    )
    assert bad.status_code == 400 and "answers" in bad.json()
    ok = api_for(manager).post(
        f"/api/v1/reviews/{review_id}/answers/",
        {"answers": {k: str(v) for k, v in OURS.items()}},
        format="json",
    )
    assert ok.status_code == 200
    assert ReviewAnswer.objects.filter(review_id=review_id, side=Side.OURS).count() == 11
    assert api_for(manager).get("/api/v1/reviews/abc/").status_code == 404
    assert api_for(manager).get("/api/v1/review-questions/").json()["count"] == 11


def test_joint_actions_become_commitments_that_count_in_reliability(completed, manager, client_for):
    from relations.models import Commitment

    response = client_for(manager).post(
        f"/reviews/{completed.pk}/actions/",
        {"description": "Reply within two days", "direction": "us", "due_date": "2027-01-15"},
    )
    assert response.status_code == 302
    commitment = Commitment.objects.get(description="Reply within two days")
    assert commitment.stakeholder == completed.stakeholder
    assert commitment.responsible == manager and commitment.review_action.review == completed


def test_the_directors_page_shows_coverage_and_the_largest_gap(
    completed, manager, director, client_for
):
    assert client_for(manager).get("/dashboard/reviews/").status_code == 403
    page = client_for(director).get("/dashboard/reviews/").content.decode()
    assert "1 of 1 key stakeholders" in page
    assert "They see our timeliness lower than we do" in page
    assert completed.relationship.get_absolute_url() in page


def test_panels_on_the_relationship_page_and_the_home(completed, manager, client_for):
    client = client_for(manager)
    page = client.get(completed.relationship.get_absolute_url()).content.decode()
    assert 'id="reviews-panel"' in page and "They see our timeliness lower than we do" in page
    stakeholder_page = client.get(completed.stakeholder.get_absolute_url()).content.decode()
    assert 'id="stakeholder-reviews"' in stakeholder_page
    home = client.get("/").content.decode()
    assert 'id="reviews-due"' in home and "Sam Stakeholder" in home


def test_the_review_page_and_panels_stay_bounded_whatever_the_history(
    completed, manager, client_for, django_assert_max_num_queries
):
    from reviews.models import ReviewAnswer

    for _ in range(4):  # earlier completed reviews of the same relationship
        earlier = Review.objects.create(
            relationship=completed.relationship,
            due_on=completed.due_on,
            status=Review.Status.COMPLETED,
            completed_at=completed.completed_at - timedelta(days=90),
            gaps={"timeliness": -1.0},
            mean_gap=-1.0,
        )
        ReviewAnswer.objects.bulk_create(
            ReviewAnswer(review=earlier, question=a.question, side=a.side, score=a.score)
            for a in completed.answers.all()
        )
    client = client_for(manager)
    # Session, user, groups; the review; earlier reviews; answers; questions (gap rows and
    # open answers); the stored score; invitations; actions; the page's shell.
    with django_assert_max_num_queries(20):
        page = client.get(completed.get_absolute_url())
    assert "The gap is" in page.content.decode()
    with django_assert_max_num_queries(60):
        client.get(completed.relationship.get_absolute_url())


def test_a_completed_review_stands_on_the_trust_time_line(completed, manager, api_for):
    # Both sides' mean answers (1–5 read as 0–1) are points on the relationship's line.
    body = api_for(manager).get(f"/api/v1/relationships/{completed.relationship.pk}/history/")
    events = [e for a in body.json()["annotations"] for e in a["events"]]
    reviews = [e for e in events if e["kind"] == "review_completed"]
    assert {e["series"]: e["score"] for e in reviews} == {
        "Review: our answers": pytest.approx((4.0 - 1) / 4),
        "Review: their answers": pytest.approx((3.9 - 1) / 4),
    }
    assert {e["record_id"] for e in reviews} == {completed.pk}


def test_the_review_api_refuses_bad_parameters_in_json(completed, manager, api_for):
    api = api_for(manager)
    assert api.get("/api/v1/reviews/", {"status": ""}).status_code == 400
    assert api.get("/api/v1/reviews/", {"status": "bogus"}).status_code == 400
    assert api.get("/api/v1/reviews/", {"status": "completed"}).json()["count"] == 1
    missing = api.get("/api/v1/reviews/1.5/")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/json"
