"""Webhook registration through the API: directors only, secret shown once, SSRF refused."""

import pytest

from relations.models import Webhook, WebhookDelivery


@pytest.fixture
def loopback_allowed(settings):
    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = True


def test_director_registers_a_webhook_and_sees_the_secret_once(client, director, loopback_allowed):
    client.force_login(director)
    response = client.post(
        "/api/v1/webhooks/",
        {"url": "http://127.0.0.1:9/hook", "events": ["scores.updated", "interaction.created"]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    hook = Webhook.objects.get()
    assert body["secret"] == hook.secret and len(hook.secret) == 64
    assert hook.owner == director
    assert hook.events == ["interaction.created", "scores.updated"]
    listed = client.get("/api/v1/webhooks/").json()["results"]
    assert [h["id"] for h in listed] == [hook.pk]
    assert "secret" not in listed[0]
    assert "secret" not in client.get(f"/api/v1/webhooks/{hook.pk}/").json()


def test_managers_may_not_register(client, manager, loopback_allowed):
    client.force_login(manager)
    response = client.post(
        "/api/v1/webhooks/",
        {"url": "http://127.0.0.1:9/hook", "events": ["scores.updated"]},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://127.0.0.1:9/hook", "events": ["scores.updated"]}, "url"),
        ({"url": "https://example.org/hook", "events": ["nonsense"]}, "events"),
        ({"url": "https://example.org/hook", "events": []}, "events"),
        ({"url": "not a url", "events": ["scores.updated"]}, "url"),
    ],
)
def test_bad_registrations_are_400_naming_the_field(client, director, body, field):
    client.force_login(director)
    response = client.post("/api/v1/webhooks/", body, content_type="application/json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Webhook.objects.exists()


def test_delivery_log_is_visible_to_its_owner_only(client, director, loopback_allowed):
    from tests.factories import UserFactory

    hook = Webhook.objects.create(
        owner=director, url="http://127.0.0.1:9/hook", events=["scores.updated"], secret="s"
    )
    WebhookDelivery.objects.create(webhook=hook, event="scores.updated", payload={"data": {}})
    client.force_login(director)
    log = client.get(f"/api/v1/webhooks/{hook.pk}/deliveries/").json()["results"]
    assert [d["event"] for d in log] == ["scores.updated"]

    other_director = UserFactory(username="dirk", role="director")
    client.force_login(other_director)
    assert client.get(f"/api/v1/webhooks/{hook.pk}/deliveries/").status_code == 404
