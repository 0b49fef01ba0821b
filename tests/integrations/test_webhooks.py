"""Webhooks: signed deliveries to a real local HTTP receiver, retries, refusal of private hosts."""

import json

import pytest

from relations.integrations import webhooks
from relations.models import Webhook, WebhookDelivery
from relations.tasks import webhook_deliver


@pytest.fixture
def allow_loopback(settings):
    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = True


@pytest.fixture
def eager_retries():
    """Run retries in process, one after the other, as a worker would (without the wait)."""
    from config.celery import app

    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True


def test_delivery_is_signed_and_verifiable(director, receiver, allow_loopback):
    hook_receiver = receiver([200])
    hook = webhooks.webhook_create(
        owner=director, url=hook_receiver.url, events=["interaction.created"]
    )
    [delivery_id] = webhooks.webhook_emit("interaction.created", {"id": 7})
    delivery = WebhookDelivery.objects.get(pk=delivery_id)

    webhooks.delivery_send(delivery)

    [(headers, body)] = hook_receiver.requests
    assert headers["X-Rapport-Event"] == "interaction.created"
    assert webhooks.verify(
        hook.secret, headers["X-Rapport-Timestamp"], body, headers["X-Rapport-Signature"]
    )
    assert not webhooks.verify(
        "wrong-secret", headers["X-Rapport-Timestamp"], body, headers["X-Rapport-Signature"]
    )
    assert json.loads(body)["data"] == {"id": 7}
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.response_status == 200


def test_only_subscribed_active_webhooks_receive_an_event(director, allow_loopback):
    subscribed = webhooks.webhook_create(
        owner=director, url="http://127.0.0.1:9/a", events=["scores.updated"]
    )
    webhooks.webhook_create(
        owner=director, url="http://127.0.0.1:9/b", events=["interaction.created"]
    )
    Webhook.objects.create(
        owner=director,
        url="http://127.0.0.1:9/c",
        events=["scores.updated"],
        active=False,
        secret="x",
    )

    ids = webhooks.webhook_emit("scores.updated", {"stakeholder": 1})

    assert list(WebhookDelivery.objects.filter(pk__in=ids).values_list("webhook", flat=True)) == [
        subscribed.pk
    ]


def test_failed_delivery_is_retried_until_the_receiver_accepts(
    director, receiver, allow_loopback, eager_retries
):
    hook_receiver = receiver([500, 503, 200])
    webhooks.webhook_create(owner=director, url=hook_receiver.url, events=["scores.updated"])
    [delivery_id] = webhooks.webhook_emit("scores.updated", {"stakeholder": 1})

    # Run in process: each failure retries the same delivery at once (no back-off wait).
    webhook_deliver.apply(args=[delivery_id], throw=False)

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.attempts == 3
    assert len(hook_receiver.requests) == 3
    # The same delivery id each time, so a receiver can deduplicate.
    assert {h["X-Rapport-Delivery"] for h, _ in hook_receiver.requests} == {str(delivery_id)}


def test_a_delivered_event_is_not_sent_twice(director, receiver, allow_loopback):
    hook_receiver = receiver([200, 200])
    webhooks.webhook_create(owner=director, url=hook_receiver.url, events=["scores.updated"])
    [delivery_id] = webhooks.webhook_emit("scores.updated", {"stakeholder": 1})

    webhook_deliver.apply(args=[delivery_id], throw=False)
    webhook_deliver.apply(args=[delivery_id], throw=False)

    assert len(hook_receiver.requests) == 1


def test_gives_up_after_the_last_attempt(director, receiver, allow_loopback, eager_retries):
    hook_receiver = receiver([500] * 10)
    webhooks.webhook_create(owner=director, url=hook_receiver.url, events=["scores.updated"])
    [delivery_id] = webhooks.webhook_emit("scores.updated", {"stakeholder": 1})

    webhook_deliver.apply(args=[delivery_id], throw=False)

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts == 6
    assert delivery.last_error == "HTTP 500"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/x",
        "http://localhost/x",
        "http://10.0.0.5/x",
        "http://[::1]/x",
        "http://169.254.169.254/latest/meta-data",
        "ftp://example.org/x",
    ],
)
def test_private_and_loopback_destinations_are_refused(director, url):
    with pytest.raises(webhooks.UnsafeDestination):
        webhooks.webhook_create(owner=director, url=url, events=["scores.updated"])
    assert not Webhook.objects.exists()


def test_logging_an_interaction_emits_interaction_created(
    director, manager, stakeholder, allow_loopback, django_capture_on_commit_callbacks
):
    from relations.services import interaction_log

    webhooks.webhook_create(
        owner=director, url="http://127.0.0.1:9/hook", events=["interaction.created"]
    )

    with django_capture_on_commit_callbacks() as callbacks:
        interaction = interaction_log(
            by=manager, participants=[manager], stakeholders=[stakeholder], subject="Lunch"
        )

    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "interaction.created"
    assert delivery.payload["data"]["id"] == interaction.pk
    assert delivery.payload["data"]["stakeholders"] == [stakeholder.pk]
    assert "notes" not in delivery.payload["data"]
    assert delivery.attempts == 0  # sending waits for the commit
    assert callbacks


def test_recomputed_scores_are_announced_and_a_new_risk_once(
    director, manager, stakeholder, allow_loopback
):
    from relations.services import interaction_log
    from tests.metrics.recomputing import stakeholder_scores_recompute

    webhooks.webhook_create(
        owner=director,
        url="http://127.0.0.1:9/hook",
        events=["scores.updated", "stakeholder.at_risk"],
    )
    # A hostile meeting: sentiment −2 gives a sentiment score of 0 and trust below 0.4.
    interaction_log(
        by=manager,
        participants=[manager],
        stakeholders=[stakeholder],
        subject="Row",
        sentiment=-2,
        value_given=3,
        value_received=0,
    )
    WebhookDelivery.objects.all().delete()

    stakeholder_scores_recompute([stakeholder.pk])
    stakeholder_scores_recompute([stakeholder.pk])

    events = list(WebhookDelivery.objects.order_by("pk").values_list("event", flat=True))
    assert events.count("scores.updated") == 2
    assert events.count("stakeholder.at_risk") == 1  # only when it becomes at risk
    at_risk = WebhookDelivery.objects.get(event="stakeholder.at_risk").payload["data"]
    assert at_risk["stakeholder"] == stakeholder.pk
    assert at_risk["trust"] < 0.4
    assert {r["code"] for r in at_risk["risk_reasons"]} >= {"low_trust"}
