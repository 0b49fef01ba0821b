"""Merging duplicate stakeholders and organisations keeps everything of both."""

from datetime import timedelta

import pytest
from django.utils import timezone

from metrics.models import PendingRecompute
from relations.models import (
    AuditEvent,
    AuthenticityPulse,
    Commitment,
    GoalStakeholder,
    Interaction,
    Organization,
    Outcome,
    Relationship,
    Stakeholder,
    StakeholderLink,
    Tag,
)
from relations.services import interaction_log
from tests.factories import (
    CommitmentFactory,
    GoalFactory,
    OrganizationFactory,
    OutcomeFactory,
    StakeholderFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def duplicates(manager, other_manager, stakeholder, django_capture_on_commit_callbacks):
    """`stakeholder` (Sam, kept) and a duplicate record of the same person with its own history;
    their scores computed as after a commit."""
    with django_capture_on_commit_callbacks(execute=True):
        return _duplicates(manager, other_manager, stakeholder)


def _duplicates(manager, other_manager, stakeholder):
    dup = StakeholderFactory(
        name="Sam S.", owner=manager, email="sam.private@example.org", phone="+31 6 1234", title=""
    )
    dup.objection_on = timezone.localdate() - timedelta(days=10)
    dup.objection_note = "No newsletters"
    dup.save()
    stakeholder.phone = ""
    stakeholder.save()
    third = StakeholderFactory(name="Third")
    when = timezone.now() - timedelta(days=3)
    both = interaction_log(
        by=manager,
        participants=[manager],
        stakeholders=[stakeholder, dup],
        subject="Both",
        occurred_at=when,
    )
    only_dup = interaction_log(
        by=manager,
        participants=[manager, other_manager],
        stakeholders=[dup, third],
        subject="Dup only",
        occurred_at=when,
        value_given=3,
    )
    CommitmentFactory(stakeholder=dup, responsible=other_manager)
    OutcomeFactory(stakeholder=dup, credited_to=other_manager)
    # Links: dup→third (moves), dup→stakeholder (would be a self-link: dropped),
    # stakeholder→third colleague already exists (duplicate: dropped, stronger strength kept).
    StakeholderLink.objects.create(from_stakeholder=dup, to_stakeholder=third, kind="advises")
    StakeholderLink.objects.create(from_stakeholder=dup, to_stakeholder=stakeholder)
    StakeholderLink.objects.create(
        from_stakeholder=stakeholder, to_stakeholder=third, kind="colleague", strength=0.2
    )
    StakeholderLink.objects.create(
        from_stakeholder=dup, to_stakeholder=third, kind="colleague", strength=0.9
    )
    goal = GoalFactory(owner=manager)
    GoalStakeholder.objects.create(goal=goal, stakeholder=dup, role="sponsor")
    dup.tags.add(Tag.objects.create(name="energy"))
    # Both records have a relationship with Maria: they become one, with the pulses of both.
    ours = Relationship.objects.get(user=manager, stakeholder=stakeholder)
    theirs = Relationship.objects.get(user=manager, stakeholder=dup)
    theirs.objective = "Win the tender"
    theirs.save()
    for relationship in (ours, theirs):
        AuthenticityPulse.objects.create(
            relationship=relationship,
            assessed_by=manager,
            integrity=4,
            transparency=4,
            reliability=4,
        )
    return {"keep": stakeholder, "absorb": dup, "third": third, "both": both, "only": only_dup}


def test_stakeholder_merge_keeps_everything_of_both(
    manager, other_manager, duplicates, django_capture_on_commit_callbacks, api_for
):
    keep, absorb, third = duplicates["keep"], duplicates["absorb"], duplicates["third"]
    pulses_before = AuthenticityPulse.objects.count()
    from metrics.models import StakeholderScore

    score_before = StakeholderScore.objects.get(stakeholder=keep).given
    PendingRecompute.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(manager).post(
            f"/api/v1/stakeholders/{keep.pk}/merge/", {"other": absorb.pk}, format="json"
        )
    assert response.status_code == 200, response.content
    assert response.json()["id"] == keep.pk
    assert not Stakeholder.objects.filter(pk=absorb.pk).exists()
    keep.refresh_from_db()

    # Interactions: both kept, each with the kept stakeholder once.
    assert set(Interaction.objects.of_stakeholder(keep.pk).values_list("subject", flat=True)) == {
        "Both",
        "Dup only",
    }
    assert list(duplicates["both"].stakeholders.all()) == [keep]
    assert set(duplicates["only"].stakeholders.all()) == {keep, third}
    assert Commitment.objects.filter(stakeholder=keep).count() == 1
    assert Outcome.objects.filter(stakeholder=keep).count() == 1
    # Links: no self-link, no duplicate, the stronger strength kept.
    links = {
        (link.from_stakeholder_id, link.to_stakeholder_id, link.kind): link.strength
        for link in StakeholderLink.objects.all()
    }
    assert links == {(keep.pk, third.pk, "advises"): 0.5, (keep.pk, third.pk, "colleague"): 0.9}
    # One relationship per user, with both pulses and the absorbed plan's objective.
    maria = Relationship.objects.get(user=manager, stakeholder=keep)
    assert maria.objective == "Win the tender"
    assert AuthenticityPulse.objects.filter(relationship=maria).count() == 2
    assert AuthenticityPulse.objects.count() == pulses_before
    assert Relationship.objects.filter(user=other_manager, stakeholder=keep).exists()
    assert GoalStakeholder.objects.get(stakeholder=keep).role == "sponsor"
    assert list(keep.tags.values_list("name", flat=True)) == ["energy"]
    # Blank fields filled from the duplicate; the kept ones stay.
    assert keep.phone == "+31 6 1234"
    assert keep.objection_note == "No newsletters" and keep.objection_on is not None
    assert keep.name == "Sam Stakeholder"
    # Audited with both ids.
    update = AuditEvent.objects.get(object_id=str(keep.pk), action="update")
    assert update.changes["merged_from"] == absorb.pk
    assert update.changes["moved_interactions"] == 2
    assert update.changes["phone"] == ["", "+31 6 1234"]
    assert (
        AuditEvent.objects.get(object_id=str(absorb.pk), action="delete").changes["merged_into"]
        == keep.pk
    )
    # Scores recomputed after commit (in process without a broker): the kept record's
    # stored scores now count the moved interaction, where we gave value 3.
    from metrics.models import StakeholderScore

    assert StakeholderScore.objects.get(stakeholder=keep).given > 2.9
    assert score_before is not None and score_before < 0.1
    assert not StakeholderScore.objects.filter(stakeholder_id=absorb.pk).exists()


def test_merge_tells_metrics_every_touched_score(manager, other_manager, duplicates):
    from relations.merging.services import stakeholder_merge
    from relations.signals import records_changed

    keep, absorb = duplicates["keep"], duplicates["absorb"]
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    records_changed.connect(receiver, dispatch_uid="test-merge")
    try:
        stakeholder_merge(keep=keep, absorb=absorb, by=manager)
    finally:
        records_changed.disconnect(dispatch_uid="test-merge")

    def told(kind: str) -> set:
        return {item for sent in received for item in sent.get(kind, ())}

    assert told("interactions") == {duplicates["both"].pk, duplicates["only"].pk}
    # The absorbed record's scores go with it; the kept one's are recomputed.
    assert told("stakeholders") == {keep.pk}
    assert told("pairs") == {(manager.pk, keep.pk), (other_manager.pk, keep.pk)}


def test_merge_permissions_and_bad_input(manager, other_manager, director, duplicates, api_for):
    keep, absorb = duplicates["keep"], duplicates["absorb"]
    foreign = StakeholderFactory(owner=other_manager)
    url = f"/api/v1/stakeholders/{keep.pk}/merge/"
    maria = api_for(manager)
    assert maria.post(url, {"other": foreign.pk}, format="json").status_code == 403
    assert api_for(other_manager).post(url, {"other": absorb.pk}, format="json").status_code == 403
    assert maria.post(url, {"other": keep.pk}, format="json").json() == {
        "other": ["A record cannot be merged with itself."]
    }
    assert "other" in maria.post(url, {"other": 999999}, format="json").json()
    assert "other" in maria.post(url, {"other": "x"}, format="json").json()
    assert "other" in maria.post(url, {}, format="json").json()
    assert Stakeholder.objects.filter(pk__in=[absorb.pk, foreign.pk]).count() == 2
    # Directors merge anyone's records.
    response = api_for(director).post(url, {"other": foreign.pk}, format="json")
    assert response.status_code == 200


def test_browser_merge_shows_what_moves_then_merges(manager, duplicates, client_for):
    keep, absorb = duplicates["keep"], duplicates["absorb"]
    client = client_for(manager)
    page = client.get(f"/stakeholders/{keep.pk}/")
    assert f"/stakeholders/{keep.pk}/merge/" in page.content.decode()
    preview = client.get(f"/stakeholders/{keep.pk}/merge/", {"other": absorb.pk})
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "2 interactions" in html and "1 commitment" in html
    assert Stakeholder.objects.filter(pk=absorb.pk).exists()  # a preview changes nothing
    done = client.post(f"/stakeholders/{keep.pk}/merge/", {"other": absorb.pk, "confirm": "1"})
    assert done.status_code == 302 and done["Location"] == f"/stakeholders/{keep.pk}/"
    assert not Stakeholder.objects.filter(pk=absorb.pk).exists()


def test_browser_merge_refuses_someone_elses_stakeholder(
    manager, other_manager, stakeholder, client_for
):
    foreign = StakeholderFactory(owner=other_manager)
    client = client_for(manager)
    response = client.post(
        f"/stakeholders/{stakeholder.pk}/merge/", {"other": foreign.pk, "confirm": "1"}
    )
    assert response.status_code == 200  # the form again, with its error
    assert Stakeholder.objects.filter(pk=foreign.pk).exists()
    assert (
        client_for(other_manager).get(f"/stakeholders/{stakeholder.pk}/merge/").status_code == 403
    )


def test_organization_merge_moves_stakeholders(manager, director, client_for, api_for):
    keep = OrganizationFactory(name="Acme", website="")
    absorb = OrganizationFactory(name="ACME B.V.", website="https://acme.example", tier=1)
    people = [StakeholderFactory(organization=absorb) for _ in range(3)]
    url = f"/api/v1/organizations/{keep.pk}/merge/"
    assert api_for(manager).post(url, {"other": absorb.pk}, format="json").status_code == 403
    response = api_for(director).post(url, {"other": absorb.pk}, format="json")
    assert response.status_code == 200
    keep.refresh_from_db()
    assert keep.website == "https://acme.example" and keep.tier == 1
    assert set(Stakeholder.objects.filter(organization=keep)) == set(people)
    assert not Organization.objects.filter(pk=absorb.pk).exists()
    assert AuditEvent.objects.filter(object_id=str(keep.pk), action="update").exists()
    # And in the browser, for directors.
    other = OrganizationFactory(name="Acme Holding")
    client = client_for(director)
    assert client.get(f"/organizations/{keep.pk}/merge/", {"other": other.pk}).status_code == 200
    client.post(f"/organizations/{keep.pk}/merge/", {"other": other.pk, "confirm": "1"})
    assert not Organization.objects.filter(pk=other.pk).exists()
