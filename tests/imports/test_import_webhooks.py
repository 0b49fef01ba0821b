"""Interactions created by an import are announced to webhooks as `interaction.created`,
with the payload of one logged through the API, once the import is done."""

import json
from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from relations.importing import services
from relations.importing.models import ImportJob
from relations.integrations import webhooks
from relations.models import Interaction, Webhook, WebhookDelivery
from relations.services import interactions_created_announce
from tests.factories import InteractionFactory, StakeholderFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = True


def run_import(user, content: bytes) -> ImportJob:
    job, _ = services.import_job_create(
        owner=user, kind="interactions", file_name="log.csv", content=content
    )
    services.import_job_start(job, mapping=None, duplicates="merge")
    job.refresh_from_db()
    return job


def interactions_csv(stakeholder, rows: int) -> bytes:
    lines = ["date,kind,subject,stakeholder,value given,value received"]
    lines += [
        f"2026-03-{1 + n % 28:02d} 10:00,call,Call {n},{stakeholder.email},2,1" for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def received_events(hook_receiver) -> list[dict]:
    return [json.loads(body) for _headers, body in hook_receiver.requests]


def test_each_imported_interaction_is_announced_like_one_created_through_the_api(
    manager, director, stakeholder, manager_api, receiver
):
    hook_receiver = receiver()
    webhooks.webhook_create(owner=director, url=hook_receiver.url, events=["interaction.created"])
    webhooks.webhook_create(owner=director, url=hook_receiver.url, events=["scores.updated"])
    other = StakeholderFactory(name="Olga Other", email="olga@x.nl")
    created = manager_api.post(
        "/api/v1/interactions/",
        {
            "occurred_at": "2026-02-01T10:00:00+01:00",
            "kind": "meeting",
            "subject": "Through the API",
            "internal_participants": [manager.pk],
            "stakeholders": [stakeholder.pk],
            "value_given": 3,
            "value_received": 2,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    [through_api] = [e for e in received_events(hook_receiver) if e["event"] != "scores.updated"]
    hook_receiver.requests.clear()

    csv = (
        "date,kind,subject,stakeholders,participants,value given,value received\n"
        f"2026-03-01 10:00,meeting,Kick-off,{stakeholder.email};olga@x.nl,"
        f"maria;{director.username},3,2\n"
        "2026-03-02,call,Follow-up,Olga Other,,1,1\n"
        "2026-03-03,call,Unknown,ghost@nowhere.nl,,1,1\n"
    ).encode()
    job = run_import(manager, csv)

    assert (job.status, job.created_count, job.error_count) == (ImportJob.Status.DONE, 2, 1)
    events = [e for e in received_events(hook_receiver) if e["event"] != "scores.updated"]
    assert [e["event"] for e in events] == ["interaction.created"] * 2
    assert {e["id"] for e in events} == set(
        WebhookDelivery.objects.filter(event="interaction.created").values_list("pk", flat=True)
    ) - {through_api["id"]}
    kickoff = Interaction.objects.get(subject="Kick-off")
    follow_up = Interaction.objects.get(subject="Follow-up")
    by_id = {e["data"]["id"]: e["data"] for e in events}
    assert set(by_id) == {kickoff.pk, follow_up.pk}
    for data in by_id.values():
        assert set(data) == set(through_api["data"])  # the same shape as an API create
    assert by_id[kickoff.pk] == {
        "id": kickoff.pk,
        "occurred_at": by_id[kickoff.pk]["occurred_at"],
        "kind": "meeting",
        "subject": "Kick-off",
        "internal_participants": sorted([manager.pk, director.pk]),
        "stakeholders": sorted([stakeholder.pk, other.pk]),
        "value_given": 3,
        "value_received": 2,
    }
    assert datetime.fromisoformat(by_id[kickoff.pk]["occurred_at"]) == kickoff.occurred_at
    assert by_id[follow_up.pk]["internal_participants"] == [manager.pk]  # the importer
    assert "notes" not in by_id[follow_up.pk]

    # Undo deletes them; there is no `interaction.deleted` event to announce it with.
    hook_receiver.requests.clear()
    services.import_undo_start(job, by=manager)
    assert not Interaction.objects.filter(pk__in=by_id).exists()
    assert not [e for e in received_events(hook_receiver) if e["event"] != "scores.updated"]


def test_a_failed_import_announces_nothing(manager, director, stakeholder, monkeypatch):
    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    original = services.InteractionImporter.write
    calls = {"n": 0}

    def failing_write(self, rows):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("database went away")
        return original(self, rows)

    monkeypatch.setattr(services.InteractionImporter, "write", failing_write)
    webhooks.webhook_create(
        owner=director, url="http://127.0.0.1:9/hook", events=["interaction.created"]
    )

    job = run_import(manager, interactions_csv(stakeholder, 4))

    assert job.status == ImportJob.Status.FAILED
    assert not Interaction.objects.exists()
    assert not WebhookDelivery.objects.exists()  # not even for the first, committed batch


def webhook_queries(manager, stakeholder, rows: int) -> tuple[int, int]:
    """(look-ups of webhooks, inserts of deliveries) during an import of `rows` rows."""
    with CaptureQueriesContext(connection) as queries:
        job = run_import(manager, interactions_csv(stakeholder, rows))
    assert job.created_count == rows
    sql = [q["sql"] for q in queries.captured_queries]
    return (
        sum('FROM "relations_webhook"' in s for s in sql),
        sum('INSERT INTO "relations_webhookdelivery"' in s for s in sql),
    )


def test_without_a_subscriber_the_cost_does_not_grow_with_the_rows(manager, director, stakeholder):
    # A switched-off subscriber only: no interaction.created payload is ever built.
    Webhook.objects.create(
        owner=director,
        url="http://127.0.0.1:9/hook",
        events=["interaction.created"],
        active=False,
        secret="s",
    )

    small = webhook_queries(manager, stakeholder, 2)
    Interaction.objects.all().delete()
    large = webhook_queries(manager, stakeholder, 40)

    assert small == large
    assert small[1] == 0
    assert not WebhookDelivery.objects.exists()


def test_announcing_without_a_subscriber_is_one_query(
    manager, stakeholder, django_assert_num_queries
):
    ids = [
        InteractionFactory(participants=[manager], with_stakeholders=[stakeholder]).pk
        for _ in range(3)
    ]
    # The look-up of the active webhooks; nothing is read back.
    with django_assert_num_queries(1):
        assert interactions_created_announce(ids) == 0
