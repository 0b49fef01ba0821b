"""Calendar feeds: fetched by the worker (in process here) through the outbound guard."""

import contextlib
import http.server
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from relations.capture.models import CalendarFeed, CaptureBatch
from relations.integrations.outbound import (
    FetchFailed,
    UnsafeDestination,
    check_destination,
    fetch_limited,
)
from relations.models import Interaction
from tests.capture.files import calendar, vevent

pytestmark = pytest.mark.django_db


class FeedServer:
    """A real HTTP server on 127.0.0.1 answering what the test sets."""

    def __init__(self):
        self.body = b""
        self.delay = 0.0
        self.status = 200
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                time.sleep(server.delay)
                if self.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data")
                    self.end_headers()
                    return
                self.send_response(server.status)
                self.send_header("Content-Type", "text/calendar")
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(server.body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def feed_server():
    server = FeedServer()
    yield server
    server.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/cal.ics",
        "http://localhost:8000/cal.ics",
        "http://10.0.0.5/cal.ics",
        "http://192.168.1.1/cal.ics",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/cal.ics",
        "ftp://example.org/cal.ics",
        "file:///etc/passwd",
    ],
)
def test_private_and_local_destinations_are_refused(url, settings):
    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = False
    with pytest.raises(UnsafeDestination):
        check_destination(url)


def test_feed_form_refuses_a_private_address_and_stores_nothing(manager_client, settings):
    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = False
    response = manager_client.post("/capture/", {"url": "http://127.0.0.1:9/cal.ics"})
    assert response.status_code == 200  # the form again, with its error
    assert "private or local address" in response.content.decode()
    assert not CalendarFeed.objects.exists() and not CaptureBatch.objects.exists()


def test_feed_is_fetched_and_imported(
    manager_client, stakeholder, feed_server, settings, django_capture_on_commit_callbacks
):
    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = True
    start = (timezone.now() - timedelta(days=2)).replace(microsecond=0)
    feed_server.body = calendar(
        vevent(uid="feed@x", start=start, attendees=[("S", stakeholder.email)])
    )
    url = f"{feed_server.url}/cal.ics"
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post("/capture/", {"url": url})
    assert response.status_code == 302
    batch = CaptureBatch.objects.get()
    assert batch.status == "done", batch.error
    assert Interaction.objects.get().external_id == "feed@x"
    feed = CalendarFeed.objects.get()
    assert feed.url == url and feed.last_fetched_at and not feed.last_error
    # Fetching the same feed again reuses it and adds nothing.
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post("/capture/", {"url": url})
    assert CalendarFeed.objects.count() == 1
    assert Interaction.objects.count() == 1
    assert CaptureBatch.objects.order_by("-pk").first().count("duplicate") == 1


def test_feed_failures_are_recorded_and_import_nothing(
    manager_client, stakeholder, feed_server, settings, django_capture_on_commit_callbacks
):
    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = True
    settings.RAPPORT_CAPTURE_MAX_BYTES = 2000
    settings.RAPPORT_CAPTURE_FETCH_TIMEOUT = 0.5
    cases = [
        (lambda s: setattr(s, "body", b"x" * 5000), "larger than 2000 bytes"),
        (lambda s: setattr(s, "body", b"<html>not a calendar</html>"), "not an iCalendar"),
        (lambda s: (setattr(s, "status", 500), setattr(s, "body", b"")), "HTTP 500"),
        (lambda s: (setattr(s, "status", 200), setattr(s, "delay", 2)), "timed out"),
    ]
    for prepare, message in cases:
        prepare(feed_server)
        with django_capture_on_commit_callbacks(execute=True):
            response = manager_client.post("/capture/", {"url": f"{feed_server.url}/cal.ics"})
        batch = CaptureBatch.objects.order_by("-pk").first()
        assert batch.status == "failed" and message in batch.error, (message, batch.error)
        page = manager_client.get(response["Location"]).content.decode()
        assert "Nothing was imported" in page
    assert not Interaction.objects.exists()
    assert "timed out" in CalendarFeed.objects.get().last_error


def test_a_redirect_to_a_private_address_is_refused(feed_server, settings, monkeypatch):
    # The first hop is allowed (a test server on loopback); the redirect target is checked
    # with the guard on.
    from relations.integrations import outbound

    calls = []
    real = outbound.check_destination

    def guard(url):
        calls.append(url)
        if len(calls) > 1:
            settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = False
        return real(url)

    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = True
    monkeypatch.setattr(outbound, "check_destination", guard)
    with pytest.raises((UnsafeDestination, FetchFailed)):
        fetch_limited(f"{feed_server.url}/redirect", max_bytes=1000, timeout=2)
    assert calls[-1].startswith("http://169.254.169.254")


def test_nightly_refresh_fetches_every_feed_again(manager, stakeholder, feed_server, settings):
    from relations.tasks import calendar_feeds_refresh

    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = True
    feed = CalendarFeed.objects.create(owner=manager, url=f"{feed_server.url}/cal.ics")
    feed_server.body = calendar(
        vevent(
            uid="nightly@x",
            start=timezone.now() - timedelta(hours=5),
            attendees=[("S", stakeholder.email)],
        )
    )
    assert calendar_feeds_refresh() == 1
    assert Interaction.objects.get().external_id == "nightly@x"
    assert CaptureBatch.objects.get(feed=feed).status == "done"
    calendar_feeds_refresh()
    assert Interaction.objects.count() == 1
