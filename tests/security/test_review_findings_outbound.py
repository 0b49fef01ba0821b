"""Security review, items 4 and 12: requests to user-supplied URLs (webhooks,
calendar feeds) never reach loopback or private addresses — not through IPv4
hidden in IPv6, not through a redirect, not through a second DNS answer.

The "public" partner host is simulated: its name resolves to a global address,
and connections to that address reach a real HTTP server on loopback. A second
real server on another loopback port stands for the internal service an
attacker aims at; it must never receive a request. Private destinations are
disallowed in these tests (RAPPORT_ALLOW_PRIVATE_DESTINATIONS = False).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client
from django.utils import timezone

from tests.capture.files import calendar, vevent
from tests.clients import token_client

pytestmark = pytest.mark.django_db

PARTNER = "hooks.partner.example"
PARTNER_IP = "93.184.215.14"  # a global address (never contacted: mapped to loopback)
OTHER_PUBLIC = "calendar.other.example"
OTHER_PUBLIC_IP = "8.8.4.4"


@pytest.fixture(autouse=True)
def _tasks_in_process(settings):
    """Deliveries and feed fetches run in process, one attempt each, as on the embedded
    default, even when the suite runs with a broker configured (CI)."""
    from config.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


class Server:
    """A real HTTP server on loopback; `answer(handler)` decides each response."""

    def __init__(self, answer):
        self.requests: list[tuple[str, str, dict]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                server.requests.append((self.command, self.path, dict(self.headers)))
                answer(self)

            do_GET = do_POST = _any  # noqa: N815

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _redirect_to(url):
    def answer(handler):
        handler.send_response(302)
        handler.send_header("Location", url)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


def _ok(body=b"ok", content_type="text/plain"):
    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


@pytest.fixture
def internal():
    """The internal service behind the firewall: it must hear nothing."""
    server = Server(_ok(b"internal secrets"))
    yield server
    server.close()


@pytest.fixture
def network(monkeypatch, settings):
    """Public names → global addresses, and those addresses → servers on loopback.
    Counts the DNS look-ups of each public name."""
    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = False
    routes: dict[str, int] = {}
    answers: dict[str, list[str]] = {}
    lookups: dict[str, int] = {}
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.create_connection

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            lookups[host] = lookups.get(host, 0) + 1
            sequence = answers[host]
            address = sequence[min(lookups[host], len(sequence)) - 1]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, port or 80))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    def create_connection(address, *args, **kwargs):
        host, port = address[0], address[1]
        if host in routes:
            return real_connect(("127.0.0.1", routes[host]), *args, **kwargs)
        if host in answers:  # a client that resolves the name itself
            resolved = getaddrinfo(host, port)[0][4][0]
            if resolved in routes:
                return real_connect(("127.0.0.1", routes[resolved]), *args, **kwargs)
            return real_connect((resolved, port), *args, **kwargs)
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)

    class Network:
        def public(self, name, ip, server, *, later_answers=()):
            """From now on `name` answers `ip` first, then `later_answers` (rebinding)."""
            answers[name] = [ip, *later_answers]
            lookups[name] = 0
            routes[ip] = server.port

        def lookups(self, name):
            return lookups.get(name, 0)

    return Network()


# --- Item 12: IPv4 inside IPv6 --------------------------------------------------------


def _nat64_local(v4: str) -> str:
    """64:ff9b:1::/48 with `v4` placed as RFC 6052 does for a /48 prefix."""
    value = int(ipaddress.IPv4Address(v4))
    high, low = value >> 16, value & 0xFFFF
    prefix = int(ipaddress.IPv6Address("64:ff9b:1::"))
    return str(ipaddress.IPv6Address(prefix | (high << 64) | (low << 40)))


def _teredo(server: str, client: str) -> str:
    value = (0x2001_0000 << 96) | (int(ipaddress.IPv4Address(server)) << 64)
    return str(ipaddress.IPv6Address(value | (int(ipaddress.IPv4Address(client)) ^ 0xFFFFFFFF)))


REFUSED = [
    "::127.0.0.1",
    "::169.254.169.254",
    "2002:7f00:1::",
    "2002:a9fe:a9fe::1",
    "2002:a00:1::",
    "64:ff9b::7f00:1",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b::a00:1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:0:127.0.0.1",
    _nat64_local("127.0.0.1"),
    _nat64_local("8.8.8.8"),  # local-use prefix: never global
    _teredo("8.8.8.8", "127.0.0.1"),
    _teredo("10.0.0.1", "8.8.8.8"),
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "ff02::1",
]
REFUSED_V4 = [
    "127.0.0.1",
    "127.1",
    "2130706433",
    "0x7f000001",
    "0.0.0.0",
    "10.1.2.3",
    "100.64.0.1",
    "169.254.169.254",
    "172.16.0.1",
    "192.168.0.1",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
]


@pytest.mark.parametrize("host", [f"[{a}]" for a in REFUSED] + REFUSED_V4)
def test_loopback_and_private_addresses_are_refused_in_every_spelling(host, director, settings):
    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = False
    api = token_client(director)
    response = api.post(
        "/api/v1/webhooks/",
        {"url": f"http://{host}:8080/hook", "events": ["interaction.created"]},
        format="json",
    )
    assert response.status_code == 400, (host, response.content)
    # Refused as a private address, or (shorthand IPv4 forms) as no valid URL at all.
    message = response.json()["url"][0]
    assert "private or local" in message or "valid URL" in message
    manager_page = Client()
    manager_page.force_login(director)
    feed = manager_page.post("/capture/", {"url": f"http://{host}/cal.ics"})
    page = feed.content.decode()
    assert feed.status_code == 200 and ("private or local" in page or "valid URL" in page)


@pytest.mark.parametrize("host", ["[64:ff9b::808:808]", "[2002:808:808::]", "8.8.8.8"])
def test_public_addresses_in_transition_forms_are_accepted(host, director, settings):
    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = False
    response = token_client(director).post(
        "/api/v1/webhooks/",
        {"url": f"http://{host}/hook", "events": ["interaction.created"]},
        format="json",
    )
    assert response.status_code == 201, response.content


# --- Item 4: redirects and DNS --------------------------------------------------------


def _log_interaction(manager, stakeholder, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = token_client(manager).post(
            "/api/v1/interactions/",
            {"subject": "Call", "kind": "call", "stakeholders": [stakeholder.pk]},
            format="json",
        )
    assert response.status_code == 201, response.content


def _register_webhook(director, url):
    response = token_client(director).post(
        "/api/v1/webhooks/", {"url": url, "events": ["interaction.created"]}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _deliveries(director, hook_id):
    return token_client(director).get(f"/api/v1/webhooks/{hook_id}/deliveries/").json()["results"]


def test_a_webhook_redirected_to_an_internal_address_does_not_reach_it(
    network, internal, director, manager, stakeholder, django_capture_on_commit_callbacks
):
    partner = Server(_redirect_to(f"http://127.0.0.1:{internal.port}/admin/probe"))
    try:
        network.public(PARTNER, PARTNER_IP, partner)
        hook = _register_webhook(director, f"http://{PARTNER}/hook")
        _log_interaction(manager, stakeholder, django_capture_on_commit_callbacks)
        assert [r[0] for r in partner.requests] == ["POST"]
        assert partner.requests[0][2]["Host"] == PARTNER
    finally:
        partner.close()
    assert internal.requests == []
    [delivery] = _deliveries(director, hook)
    assert delivery["status"] != "delivered"
    assert delivery["response_status"] == 302
    assert "not followed" in delivery["last_error"]
    assert "internal secrets" not in str(delivery)


def test_a_webhook_connects_to_the_address_it_checked(
    network, internal, director, manager, stakeholder, django_capture_on_commit_callbacks
):
    """DNS rebinding: the name answers a public address to the check and loopback to any
    later look-up. The delivery resolves once and connects to what it checked."""
    partner = Server(_ok())
    try:
        network.public(PARTNER, PARTNER_IP, partner)
        hook = _register_webhook(director, f"http://{PARTNER}:{internal.port}/hook")
        network.public(PARTNER, PARTNER_IP, partner, later_answers=["127.0.0.1"])
        _log_interaction(manager, stakeholder, django_capture_on_commit_callbacks)
        assert network.lookups(PARTNER) == 1
        assert [r[0] for r in partner.requests] == ["POST"]
    finally:
        partner.close()
    assert internal.requests == []
    assert [d["status"] for d in _deliveries(director, hook)] == ["delivered"]


def test_a_calendar_feed_redirect_is_checked_at_every_hop(
    network, internal, manager, stakeholder, django_capture_on_commit_callbacks
):
    start = (timezone.now() - timedelta(days=2)).replace(microsecond=0)
    body = calendar(vevent(uid="hop@x", start=start, attendees=[("S", stakeholder.email)]))
    other = Server(_ok(body, "text/calendar"))
    partner = Server(_redirect_to(f"http://127.0.0.1:{internal.port}/cal.ics"))
    page = Client()
    page.force_login(manager)
    try:
        network.public(PARTNER, PARTNER_IP, partner)
        network.public(OTHER_PUBLIC, OTHER_PUBLIC_IP, other)
        with django_capture_on_commit_callbacks(execute=True):
            refused = page.post("/capture/", {"url": f"http://{PARTNER}/cal.ics"})
        result = page.get(refused["Location"]).content.decode()
        assert "private or local address" in result and "Nothing was imported" in result
        assert internal.requests == []

        # A redirect to another public host is followed, and checked the same way.
        partner_to_public = Server(_redirect_to(f"http://{OTHER_PUBLIC}/cal.ics"))
        try:
            network.public("calendar.partner.example", "93.184.215.15", partner_to_public)
            with django_capture_on_commit_callbacks(execute=True):
                followed = page.post(
                    "/capture/", {"url": "http://calendar.partner.example/cal.ics"}
                )
            result = page.get(followed["Location"]).content.decode()
            assert "Nothing was imported" not in result
            assert [r[1] for r in other.requests] == ["/cal.ics"]
            assert other.requests[0][2]["Host"] == OTHER_PUBLIC
        finally:
            partner_to_public.close()
    finally:
        partner.close()
        other.close()
    assert internal.requests == []
