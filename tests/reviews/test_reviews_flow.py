"""Two-sided reviews end to end without a browser: a real SMTP server receives the
invitation, the link in it works once, and the gap is stored in words and numbers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.utils import timezone

from config.settings import mailer_from_url
from relations.models import Webhook, WebhookDelivery
from relations.privacy.services import stakeholder_erase, stakeholder_export_data
from reviews import services
from reviews.models import Review, ReviewAnswer, ReviewInvitation, Side, token_digest
from tests.reviews.conftest import OURS, THEIRS

pytestmark = pytest.mark.django_db


def invite(review, by, capture, language="nl"):
    with capture(execute=True):
        return services.review_invite(review, by=by, language=language)


def path_of(link: str) -> str:
    return link.removeprefix("http://testserver")


def test_the_invitation_arrives_over_smtp_in_their_language_with_a_working_link(
    manager, relationship, smtp_server, client, django_capture_on_commit_callbacks
):
    review = services.review_start(relationship=relationship, by=manager)
    invitation = invite(review, manager, django_capture_on_commit_callbacks)

    assert len(smtp_server.messages) == 1
    envelope, message = smtp_server.messages[0]
    assert envelope.rcpt_tos == ["sam@example.org"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Beste Sam Stakeholder" in text  # Dutch, as chosen
    assert "<img" not in html.lower()  # no tracking pixel
    assert message["Content-Language"] == "nl"
    link = smtp_server.link()
    assert link in html
    invitation.refresh_from_db()
    assert invitation.delivery == ReviewInvitation.Delivery.SENT
    # Only the hash of the token is stored.
    token = signing.Signer(salt=services.TOKEN_SALT).unsign(link.rstrip("/").split("/r/")[1])
    assert invitation.token_hash == token_digest(token) and token not in invitation.token_hash
    review.refresh_from_db()
    assert review.status == Review.Status.SENT

    page = client.get(path_of(link))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Hoe tijdig is onze communicatie met u?" in body
    assert "Gerechtvaardigd belang" in body or "Legitimate interest" in body
    # Nothing of Rapport is linked: the only links switch the page's language.
    assert re.findall(r'<a [^>]*href="([^"]*)"', body) == ["?lang=en"]
    assert page["Referrer-Policy"] == "same-origin"
    assert "script-src" in page["Content-Security-Policy"]


def test_both_sides_complete_the_review_and_the_link_is_used_up(
    manager, relationship, smtp_server, client, django_capture_on_commit_callbacks
):
    hook = Webhook.objects.create(
        owner=manager, url="http://127.0.0.1:9/", events=["review.completed"], secret="s"
    )
    review = services.review_start(relationship=relationship, by=manager)
    services.review_answer_ours(review, by=manager, answers=OURS)
    invite(review, manager, django_capture_on_commit_callbacks)
    link = path_of(smtp_server.link())

    with django_capture_on_commit_callbacks(execute=False):
        answered = client.post(link, {**{k: str(v) for k, v in THEIRS.items()}, "lang": "nl"})
    assert answered.status_code == 200
    assert "Uw antwoorden zijn ontvangen" in answered.content.decode()

    review.refresh_from_db()
    assert review.status == Review.Status.COMPLETED
    assert review.gaps["timeliness"] == -2.0 and review.gaps["shared_knowledge"] == 1.0
    assert review.largest_gap_key == "timeliness"
    assert review.mean_gap == pytest.approx(-0.1)
    assert ReviewAnswer.objects.filter(review=review, side=Side.THEIRS).count() == 11
    delivery = WebhookDelivery.objects.get(webhook=hook, event="review.completed")
    assert delivery.payload["data"]["gaps"]["timeliness"] == -2.0
    assert "Faster replies" not in str(delivery.payload)  # their words stay in Rapport

    again = client.get(link)
    assert again.status_code == 404
    assert "This link does not work" in again.content.decode()
    reposted = client.post(link, {k: str(v) for k, v in THEIRS.items()})
    assert reposted.status_code == 404
    assert ReviewAnswer.objects.filter(review=review, side=Side.THEIRS).count() == 11


def test_a_wrong_link_gets_the_same_page_whatever_is_wrong(
    manager, relationship, smtp_server, client, django_capture_on_commit_callbacks
):
    review = services.review_start(relationship=relationship, by=manager)
    invite(review, manager, django_capture_on_commit_callbacks)
    link = path_of(smtp_server.link())
    signed = link.rstrip("/").split("/r/")[1]
    token, signature = signed.split(":")
    tampered = f"/r/{token[:-1]}{'A' if token[-1] != 'A' else 'B'}:{signature}/"
    guessed = "/r/" + signing.Signer(salt="other").sign("guess") + "/"
    unsigned = f"/r/{token}/"
    forged = "/r/" + signing.Signer(salt=services.TOKEN_SALT).sign("guessed-token") + "/"
    pages = [client.get(path) for path in (tampered, guessed, unsigned, forged)]
    assert [p.status_code for p in pages] == [404] * 4
    assert len({p.content for p in pages}) == 1
    assert client.get(link).status_code == 200  # the real one still works


def test_an_expired_link_is_refused_and_the_review_expires(
    manager, relationship, smtp_server, client, django_capture_on_commit_callbacks
):
    review = services.review_start(relationship=relationship, by=manager)
    invite(review, manager, django_capture_on_commit_callbacks)
    link = path_of(smtp_server.link())
    with time_machine.travel(timezone.now() + timedelta(days=13, hours=23), tick=False):
        assert client.get(link).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=14, minutes=1), tick=False):
        assert client.get(link).status_code == 404
        assert services.reviews_expire() == 1
    review.refresh_from_db()
    assert review.status == Review.Status.EXPIRED


def test_they_may_decline(
    manager, relationship, smtp_server, client, django_capture_on_commit_callbacks
):
    review = services.review_start(relationship=relationship, by=manager)
    invite(review, manager, django_capture_on_commit_callbacks, language="en")
    link = path_of(smtp_server.link())
    declined = client.post(link, {"decline": "1", "reason": "Too busy"})
    assert "You declined" in declined.content.decode()
    review.refresh_from_db()
    assert review.status == Review.Status.DECLINED and review.decline_reason == "Too busy"
    assert not ReviewAnswer.objects.filter(review=review).exists()
    assert client.get(link).status_code == 404


def test_a_refused_address_is_a_bounce_and_a_dead_server_a_failure_shown_on_the_review(
    manager, relationship, smtp_server, client, settings, django_capture_on_commit_callbacks
):
    smtp_server.refuse.add("sam@example.org")
    review = services.review_start(relationship=relationship, by=manager)
    invitation = invite(review, manager, django_capture_on_commit_callbacks)
    invitation.refresh_from_db()
    assert invitation.delivery == ReviewInvitation.Delivery.BOUNCED
    assert "550" in invitation.last_error and invitation.token_hash is None

    settings.MAILERS = {"default": mailer_from_url("smtp://127.0.0.1:9?timeout=2")}
    invitation = invite(review, manager, django_capture_on_commit_callbacks)
    invitation.refresh_from_db()
    assert invitation.delivery == ReviewInvitation.Delivery.FAILED
    assert invitation.last_error
    client.force_login(manager)
    page = client.get(review.get_absolute_url()).content.decode()
    assert "Bounced" in page and "Sending failed" in page


def test_email_url_is_parsed_without_extra_dependencies():
    mailer = mailer_from_url("smtp://user%40x:p%3Ass@mail.example.org:587?tls=1")
    assert mailer["OPTIONS"] | {"timeout": 0} == {
        "host": "mail.example.org",
        "port": 587,
        "username": "user@x",
        "password": "p:ss",
        "use_tls": True,
        "use_ssl": False,
        "timeout": 0,
    }
    assert mailer_from_url("smtps://h")["OPTIONS"]["port"] == 465
    assert mailer_from_url("console://")["BACKEND"].endswith("console.EmailBackend")


def test_the_page_is_rate_limited(manager, relationship, client, settings):
    settings.RAPPORT_REVIEW_PAGE_RATE = 3
    answers = [client.get("/r/nothing:here/").status_code for _ in range(5)]
    assert answers == [404, 404, 404, 429, 429]


def test_gdpr_export_and_erasure_include_reviews_and_answers(
    manager, relationship, smtp_server, client, django_capture_on_commit_callbacks
):
    review = services.review_start(relationship=relationship, by=manager)
    services.review_answer_ours(review, by=manager, answers=OURS)
    invite(review, manager, django_capture_on_commit_callbacks)
    client.post(path_of(smtp_server.link()), {k: str(v) for k, v in THEIRS.items()})

    exported = stakeholder_export_data(relationship.stakeholder)
    [row] = exported["reviews"]
    assert row["status"] == "completed"
    assert {"question": "more_of", "side": "theirs"}.items() <= next(
        a for a in row["answers"] if a["side"] == "theirs" and a["question"] == "more_of"
    ).items()
    assert any(a["text"] == "Faster replies" for a in row["answers"])
    assert row["invitations"][0]["email"] == "sam@example.org"

    stakeholder_erase(relationship.stakeholder, by=manager, reason="Asked to be forgotten")
    theirs = ReviewAnswer.objects.filter(review=review, side=Side.THEIRS)
    assert not theirs.exclude(text="").exists()
    assert theirs.filter(question__key="timeliness").get().score == 2  # figures kept
    assert not ReviewInvitation.objects.filter(email="sam@example.org").exists()


def test_scheduling_follows_the_plan_date_and_every_90_days_for_key_stakeholders(
    manager, relationship
):
    today = timezone.localdate()
    assert services.reviews_schedule(today) == 1  # key, never reviewed: due today
    assert services.reviews_schedule(today) == 0  # idempotent
    review = Review.objects.get()
    assert review.due_on == today
    later = relationship.__class__(next_review=today + timedelta(days=30))
    assert services.review_due_on(later, last_completed=None, is_key=False) == later.next_review
    assert services.review_due_on(
        relationship, last_completed=today, is_key=True
    ) == today + timedelta(days=90)
    assert services.review_due_on(relationship, last_completed=today, is_key=False) is None
