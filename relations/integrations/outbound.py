"""Requests this server makes to addresses its users give it (webhooks, calendar feeds).

A user-supplied URL must never reach this machine or the private network behind
it (server-side request forgery): every destination is resolved and refused when
any of its addresses is loopback, private, link-local or otherwise not global,
unless the installation sets RAPPORT_ALLOW_PRIVATE_DESTINATIONS (tests, intranets).
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings


class UnsafeDestination(ValueError):
    """The URL points at this machine or a private network."""


class FetchFailed(Exception):
    """The resource could not be fetched (network error, HTTP error, too large)."""


def check_destination(url: str) -> None:
    """Refuse loopback, private and link-local addresses (server-side request forgery)."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UnsafeDestination("Only http and https URLs with a host name are allowed.")
    if getattr(settings, "RAPPORT_ALLOW_PRIVATE_DESTINATIONS", False):
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        raise UnsafeDestination(f"The host name {parts.hostname!r} does not resolve.") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise UnsafeDestination(
                f"{parts.hostname} resolves to a private or local address ({address})."
            )


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is a new destination: it passes the same check."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001
        check_destination(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch_limited(url: str, *, max_bytes: int, timeout: float) -> bytes:
    """GET `url` after the destination check; at most `max_bytes`, within `timeout` seconds
    per network operation. Raises UnsafeDestination or FetchFailed."""
    check_destination(url)
    opener = urllib.request.build_opener(_CheckedRedirects)
    request = urllib.request.Request(
        url, headers={"User-Agent": "Rapport-Capture/1", "Accept": "text/calendar, */*"}
    )
    try:
        with opener.open(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchFailed(f"The resource is larger than {max_bytes} bytes.")
            body = response.read(max_bytes + 1)
    except urllib.error.HTTPError as exc:
        raise FetchFailed(f"HTTP {exc.code}") from exc
    except (OSError, urllib.error.URLError) as exc:
        raise FetchFailed(str(exc)[:300]) from exc
    if len(body) > max_bytes:
        raise FetchFailed(f"The resource is larger than {max_bytes} bytes.")
    return body
