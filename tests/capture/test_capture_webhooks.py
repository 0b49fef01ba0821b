"""Captured events and messages are announced to webhooks as `interaction.created`, one
event per interaction, written together at the end of the capture."""

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from relations.capture.models import CaptureBatch
from relations.integrations import webhooks
from relations.models import Interaction, Stakeholder
from tests.capture.files import calendar, eml, mbox, vevent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = True


@pytest.fixture
def hook_receiver(director, receiver):
    made = receiver()
    webhooks.webhook_create(owner=director, url=made.url, events=["interaction.created"])
    return made


def meetings(stakeholder, count: int, *, waiting: bool = False) -> bytes:
    start = (timezone.now() - timedelta(days=7)).replace(microsecond=0)
    events = [
        vevent(
            uid=f"m{n}@x",
            start=start + timedelta(hours=n),
            summary=f"Meeting {n}",
            attendees=[("Sam", stakeholder.email), ("Maria", "maria@rapport.test")],
        )
        for n in range(count)
    ]
    if waiting:
        events.append(
            vevent(
                uid="w@x", start=start, summary="Intro", attendees=[("Nina", "nina@new.example")]
            )
        )
    return calendar(*events)


def upload(client, raw: bytes, name: str = "meetings.ics"):
    return client.post("/capture/", {"file": SimpleUploadedFile(name, raw)})


def announced(hook_receiver) -> list[dict]:
    events = [json.loads(body) for _headers, body in hook_receiver.requests]
    assert {e["event"] for e in events} <= {"interaction.created"}
    return [e["data"] for e in events]


def delivery_inserts(queries) -> int:
    return sum(
        'INSERT INTO "relations_webhookdelivery"' in q["sql"] for q in queries.captured_queries
    )


def test_captured_events_are_announced_one_by_one_in_one_insert(
    client, manager, stakeholder, hook_receiver
):
    client.force_login(manager)
    with CaptureQueriesContext(connection) as queries:
        assert upload(client, meetings(stakeholder, 3, waiting=True)).status_code == 302

    created = list(Interaction.objects.order_by("pk"))
    assert len(created) == 3
    data = announced(hook_receiver)
    assert [d["id"] for d in data] == [i.pk for i in created]
    assert data[0] == {
        "id": created[0].pk,
        "occurred_at": data[0]["occurred_at"],
        "kind": "meeting",
        "subject": "Meeting 0",
        "internal_participants": [manager.pk],
        "stakeholders": [stakeholder.pk],
        "value_given": 0,
        "value_received": 0,
    }
    assert delivery_inserts(queries) == 1

    # The event that waited is logged, and announced, once its stakeholder exists.
    hook_receiver.requests.clear()
    batch = CaptureBatch.objects.get()
    client.post(f"/capture/{batch.pk}/addresses/create/", {"email": "nina@new.example"})
    nina = Stakeholder.objects.get(email="nina@new.example")
    [intro] = announced(hook_receiver)
    assert intro["subject"] == "Intro" and intro["stakeholders"] == [nina.pk]

    # Capturing the same file again creates, and announces, nothing.
    hook_receiver.requests.clear()
    upload(client, meetings(stakeholder, 3))
    assert announced(hook_receiver) == []


def test_captured_messages_are_announced(client, manager, stakeholder, hook_receiver):
    sent = timezone.now() - timedelta(days=2)
    messages = [
        eml(sender=stakeholder.email, to=["maria@rapport.test"], subject=f"Mail {n}", sent=sent)
        for n in range(2)
    ]
    client.force_login(manager)
    upload(client, mbox(*messages), name="box.mbox")

    data = announced(hook_receiver)
    assert sorted(d["subject"] for d in data) == ["Mail 0", "Mail 1"]
    assert {d["id"] for d in data} == set(Interaction.objects.values_list("pk", flat=True))
    assert all("notes" not in d for d in data)


def webhook_lookups(client, stakeholder, count: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        upload(client, meetings(stakeholder, count))
    return sum('FROM "relations_webhook"' in q["sql"] for q in queries.captured_queries)


def test_without_a_subscriber_a_capture_looks_webhooks_up_a_constant_number_of_times(
    client, manager, stakeholder
):
    client.force_login(manager)
    one = webhook_lookups(client, stakeholder, 1)
    Interaction.objects.all().delete()
    many = webhook_lookups(client, stakeholder, 6)

    assert Interaction.objects.count() == 6
    assert one == many
