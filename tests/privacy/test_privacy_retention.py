"""Retention: stale stakeholders are flagged by date, then kept or anonymised on review."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from relations import tasks
from relations.models import DataProtectionAction, Stakeholder
from relations.privacy.redaction import ERASED
from relations.privacy.services import retention_flag_stale, stale_stakeholders
from tests.factories import InteractionFactory, StakeholderFactory

# A fixed, frozen clock: the fixtures' ages, the task's "now" and the review
# page's dates all count from the same instant, whatever the time of the run.
NOW = datetime(2026, 3, 18, 10, 30, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]


def aged(name: str, *, created_days_ago: int, contact_days_ago: int | None = None, **fields):
    stakeholder = StakeholderFactory(name=name, **fields)
    Stakeholder.objects.filter(pk=stakeholder.pk).update(
        created_at=NOW - timedelta(days=created_days_ago)
    )
    if contact_days_ago is not None:
        InteractionFactory(
            with_stakeholders=[stakeholder], occurred_at=NOW - timedelta(days=contact_days_ago)
        )
    return stakeholder


@pytest.fixture
def people():
    return {
        # Last contact 1,100 days ago: past three years (1,095 days).
        "stale": aged("Stale Stan", created_days_ago=2000, contact_days_ago=1100),
        # Contacted 1,000 days ago: within the period.
        "recent": aged("Recent Rita", created_days_ago=2000, contact_days_ago=1000),
        # Never contacted, created 1,200 days ago.
        "never": aged("Never Ned", created_days_ago=1200),
        # Never contacted, created a month ago.
        "new": aged("New Nora", created_days_ago=30),
        # Old contact but a newer one too.
        "revived": aged("Revived Rob", created_days_ago=2000, contact_days_ago=1500),
    }


def test_the_task_flags_by_date_once(people, settings):
    settings.RAPPORT_RETENTION_DAYS = 3 * 365
    InteractionFactory(with_stakeholders=[people["revived"]], occurred_at=NOW - timedelta(days=10))

    assert retention_flag_stale(now=NOW) == 2

    flagged = set(
        Stakeholder.objects.filter(retention_flagged_at__isnull=False).values_list(
            "name", flat=True
        )
    )
    assert flagged == {"Stale Stan", "Never Ned"}
    entries = DataProtectionAction.objects.filter(kind="retention_flag")
    assert sorted(e.stakeholder.name for e in entries) == ["Never Ned", "Stale Stan"]
    assert all(e.actor is None for e in entries)
    # Idempotent: the same night again flags nobody new.
    assert retention_flag_stale(now=NOW) == 0
    # A hundred days later Rita's 1,000 days have become 1,100.
    assert retention_flag_stale(now=NOW + timedelta(days=100)) == 1
    assert Stakeholder.objects.get(name="Recent Rita").retention_flagged_at is not None


def test_the_period_is_a_setting(people, settings):
    settings.RAPPORT_RETENTION_DAYS = 900
    assert set(stale_stakeholders(NOW).values_list("name", flat=True)) == {
        "Stale Stan",
        "Recent Rita",
        "Never Ned",
        "Revived Rob",
    }


def test_an_objection_flags_for_review(settings):
    settings.RAPPORT_RETENTION_DAYS = 3 * 365
    objector = aged(
        "Olga Objects",
        created_days_ago=10,
        objection_on=timezone.localdate(),
        objection_note="Asked us to stop",
    )
    assert retention_flag_stale(now=NOW) == 1
    objector.refresh_from_db()
    assert objector.retention_flagged_at is not None


def test_the_celery_task_runs_the_flagging(people, settings):
    settings.RAPPORT_RETENTION_DAYS = 3 * 365
    assert tasks.retention_flag_stale.apply().get() == 3  # Revived Rob too: no recent contact


def test_a_director_keeps_with_a_reason_and_the_clock_restarts(people, director, client):
    retention_flag_stale(now=NOW)
    stan = people["stale"]
    client.force_login(director)

    refused = client.post(
        "/data-protection/retention/", {"stakeholders": [stan.pk], "decision": "keep"}
    )
    assert refused.status_code == 400
    assert "Say why these records are kept." in refused.content.decode()
    stan.refresh_from_db()
    assert stan.retention_flagged_at is not None

    response = client.post(
        "/data-protection/retention/",
        {"stakeholders": [stan.pk], "decision": "keep", "reason": "Active tender"},
    )
    assert response.status_code == 302
    stan.refresh_from_db()
    assert stan.retention_flagged_at is None
    assert stan.retention_reviewed_at is not None
    assert stan.name == "Stale Stan"
    kept = DataProtectionAction.objects.get(stakeholder=stan, kind="retention_keep")
    assert (kept.actor, kept.reason) == (director, "Active tender")
    # Kept today: not stale again tomorrow, but three years on.
    assert retention_flag_stale(now=timezone.now() + timedelta(days=1)) == 0
    assert stan.pk in set(
        stale_stakeholders(timezone.now() + timedelta(days=1100)).values_list("pk", flat=True)
    )


def test_a_director_anonymises_in_bulk(
    people, director, client, django_capture_on_commit_callbacks
):
    retention_flag_stale(now=NOW)
    client.force_login(director)
    page = client.get("/data-protection/retention/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Stale Stan" in html and "Never Ned" in html and "Recent Rita" not in html

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/data-protection/retention/",
            {
                "stakeholders": [people["stale"].pk, people["never"].pk],
                "decision": "anonymise",
                "reason": "",
            },
        )

    assert response.status_code == 302
    for key in ("stale", "never"):
        people[key].refresh_from_db()
        assert people[key].erased_at is not None
        assert people[key].name == f"{ERASED} #{people[key].pk}"
    entries = DataProtectionAction.objects.filter(kind="retention_anonymise")
    assert entries.count() == 2
    assert {e.reason for e in entries} == {"Retention period expired"}
    remaining = client.get("/data-protection/retention/").content.decode()
    assert "Revived Rob" in remaining and "Stale Stan" not in remaining
    client.post(
        "/data-protection/retention/",
        {"stakeholders": [people["revived"].pk], "decision": "keep", "reason": "Board member"},
    )
    # A repeated batch (a double submit, a redelivered task) changes nothing.
    assert (
        tasks.retention_anonymise.apply(args=[[people["stale"].pk], director.pk, "again"]).get()
        == 0
    )
    assert DataProtectionAction.objects.filter(kind="retention_anonymise").count() == 2
    assert "Nothing to review." in client.get("/data-protection/retention/").content.decode()


def test_only_flagged_stakeholders_can_be_chosen(people, director, client):
    retention_flag_stale(now=NOW)
    client.force_login(director)
    response = client.post(
        "/data-protection/retention/",
        {"stakeholders": [people["recent"].pk], "decision": "anonymise"},
    )
    assert response.status_code == 400
    people["recent"].refresh_from_db()
    assert people["recent"].erased_at is None


def test_managers_do_not_review(manager, client):
    client.force_login(manager)
    assert client.get("/data-protection/retention/").status_code == 403
    assert client.post("/data-protection/retention/", {}).status_code == 403


def test_the_review_page_runs_a_bounded_number_of_queries(
    director, client, django_assert_max_num_queries
):
    for n in range(30):
        aged(f"Old {n}", created_days_ago=2000, contact_days_ago=1500)
    retention_flag_stale(now=NOW)
    client.force_login(director)
    # Session, user, groups; the flagged list and its count; the form's choices.
    with django_assert_max_num_queries(12):
        response = client.get("/data-protection/retention/")
    assert response.content.decode().count('name="stakeholders"') == 30
