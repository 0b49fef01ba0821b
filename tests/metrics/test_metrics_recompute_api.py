"""POST /api/v1/recompute/: directors start a full recomputation and poll its job."""

from metrics.models import RecomputeJob, StakeholderScore


def test_director_starts_a_recomputation_and_polls_it_to_done(
    client, director, interaction, django_capture_on_commit_callbacks
):
    StakeholderScore.objects.all().delete()
    client.force_login(director)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/recompute/")

    assert response.status_code == 202
    job = response.json()
    assert set(job) >= {"id", "status", "progress", "url"}
    # Without a broker the job runs in process once the request's transaction commits.
    polled = client.get(job["url"]).json()
    assert polled["status"] == "done"
    assert polled["progress"] == 1.0
    assert StakeholderScore.objects.filter(stakeholder__in=interaction.stakeholders.all()).exists()


def test_managers_may_not_start_one(client, manager):
    client.force_login(manager)
    assert client.post("/api/v1/recompute/").status_code == 403
    assert not RecomputeJob.objects.exists()


def test_unknown_job_is_404(client, director):
    client.force_login(director)
    assert client.get("/api/v1/recompute/999/").status_code == 404
    assert client.get("/api/v1/recompute/abc/").status_code == 404


def test_anonymous_is_401(client):
    assert client.post("/api/v1/recompute/").status_code == 401


def test_non_ascii_and_oversized_ids_are_404(client, director):
    client.force_login(director)
    for raw in ("%C2%B3", "%D9%A3", "9" * 30):
        assert client.get(f"/api/v1/recompute/{raw}/").status_code == 404


def test_history_lists_snapshots_oldest_first_for_those_who_may_see_them(
    client, manager, other_manager, stakeholder
):
    from datetime import timedelta

    from django.utils import timezone

    from metrics.models import StakeholderScoreSnapshot

    today = timezone.localdate()
    for days, trust in ((2, 0.5), (1, 0.6)):
        StakeholderScoreSnapshot.objects.create(
            stakeholder=stakeholder,
            date=today - timedelta(days=days),
            trust=trust,
            return_value=100.0,
        )
    client.force_login(manager)
    body = client.get(f"/api/v1/stakeholders/{stakeholder.pk}/history/").json()
    assert [p["trust"] for p in body["results"]] == [0.5, 0.6]
    assert body["results"][0]["return"] == 100.0
    assert client.get(f"/api/v1/stakeholders/{stakeholder.pk}/history/?days=0").status_code == 400

    client.force_login(other_manager)  # neither owns nor knows the stakeholder
    assert client.get(f"/api/v1/stakeholders/{stakeholder.pk}/history/").status_code == 404
