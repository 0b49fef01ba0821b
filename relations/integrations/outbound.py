"""Requests this server makes to addresses its users give it (webhooks, calendar feeds,
connected mailboxes and calendars).

A user-supplied URL must never reach this machine or the private network behind
it (server-side request forgery). Every request goes through `outbound_request`:

- the host name is resolved once, and every address it resolves to is checked
  (`address_refusal`): loopback, private, link-local, multicast, reserved,
  unspecified and other non-global addresses are refused, and so is an IPv6
  address that carries such an IPv4 address inside it (IPv4-mapped `::ffff:`,
  IPv4-compatible `::a.b.c.d`, 6to4 `2002::/16`, NAT64 `64:ff9b::/96` and
  `64:ff9b:1::/48`, Teredo `2001::/32`), extracted here rather than trusting the
  interpreter's `is_global`, which calls several of them global;
- the connection goes to the address that was checked, never to a second DNS
  answer (DNS rebinding), while the Host header and TLS (SNI and the certificate
  check) use the host name;
- a redirect is a new destination: checked the same way before it is followed,
  or not followed at all (webhooks).

RAPPORT_ALLOW_PRIVATE_DESTINATIONS (tests, intranets) lets private and local
addresses through. Proxy settings of the environment are not used: a proxy
would connect to an address this module has not checked.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5


class UnsafeDestination(ValueError):
    """The URL points at this machine or a private network."""


class FetchFailed(Exception):
    """The resource could not be fetched (network error, HTTP error, too large)."""


# --- Which addresses may be reached ---------------------------------------------------

_NAT64 = int(ipaddress.IPv6Address("64:ff9b::")) >> 32
_NAT64_LOCAL = int(ipaddress.IPv6Address("64:ff9b:1::")) >> 80
_FOUR_BYTES = 0xFFFF_FFFF


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries, by the transition formats that
    route to them: a request to one of these reaches the IPv4 address."""
    value = int(address)
    top96 = value >> 32
    low32 = value & _FOUR_BYTES
    if top96 in (0, 0xFFFF, 0xFFFF_0000):  # IPv4-compatible, -mapped, -translated (SIIT)
        return [ipaddress.IPv4Address(low32)]
    if top96 == _NAT64:  # 64:ff9b::/96 (RFC 6052)
        return [ipaddress.IPv4Address(low32)]
    if value >> 80 == _NAT64_LOCAL:  # 64:ff9b:1::/48 (RFC 8215): bits 48-63 and 72-87
        high = (value >> 64) & 0xFFFF
        low = (value >> 40) & 0xFFFF
        return [ipaddress.IPv4Address((high << 16) | low)]
    if value >> 112 == 0x2002:  # 6to4 (RFC 3056): bits 16-47
        return [ipaddress.IPv4Address((value >> 80) & _FOUR_BYTES)]
    if value >> 96 == 0x2001_0000:  # Teredo (RFC 4380): the server, and the client inverted
        server = (value >> 64) & _FOUR_BYTES
        return [ipaddress.IPv4Address(server), ipaddress.IPv4Address(low32 ^ _FOUR_BYTES)]
    return []


_REFUSED_KINDS = (
    ("is_loopback", "loopback"),
    ("is_private", "private"),
    ("is_link_local", "link-local"),
    ("is_multicast", "multicast"),
    ("is_reserved", "reserved"),
    ("is_unspecified", "unspecified"),
)


def _stands_for_ipv4(address: ipaddress.IPv6Address) -> bool:
    """An IPv6 address that is only a route to its IPv4 address (mapped, translated,
    NAT64's well-known prefix, 6to4): as reachable as that address, no more, no less
    (an IPv6-only server reaches public IPv4 hosts through NAT64)."""
    value = int(address)
    return value >> 32 in (0xFFFF, 0xFFFF_0000, _NAT64) or value >> 112 == 0x2002


def address_refusal(address: IPAddress) -> str | None:
    """Why this server must not connect to `address`; None when it may."""
    if isinstance(address, ipaddress.IPv6Address):
        for inner in embedded_ipv4(address):
            refusal = address_refusal(inner)
            if refusal:
                return f"{refusal} (IPv4 {inner} inside {address})"
        if _stands_for_ipv4(address):
            return None
    for flag, kind in _REFUSED_KINDS:
        if getattr(address, flag):
            return kind
    if not address.is_global:
        return "not global"
    return None


def _allow_private() -> bool:
    return bool(getattr(settings, "RAPPORT_ALLOW_PRIVATE_DESTINATIONS", False))


def check_destination(url: str) -> list[IPAddress]:
    """The addresses `url`'s host resolves to, every one of them checked: raises
    UnsafeDestination for a scheme other than http(s), a host that does not resolve,
    or any loopback, private, link-local or otherwise non-global address.

    With RAPPORT_ALLOW_PRIVATE_DESTINATIONS any address passes, and a host that does
    not resolve yet gives an empty list (a webhook registered before its DNS exists).
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UnsafeDestination("Only http and https URLs with a host name are allowed.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeDestination("The URL's port is not a number from 1 to 65535.") from exc
    return check_host(parts.hostname, port)


def check_host(hostname: str, port: int) -> list[IPAddress]:
    """`check_destination` for a host name and port (a mail server): the addresses it
    resolves to, every one checked. Raises UnsafeDestination."""
    if not hostname or not 0 < int(port) < 65536:
        raise UnsafeDestination("A host name and a port from 1 to 65535 are needed.")
    try:
        infos = socket.getaddrinfo(hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError) as exc:
        if _allow_private():
            return []
        raise UnsafeDestination(f"The host name {hostname!r} does not resolve.") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not _allow_private():
        for address in addresses:
            refusal = address_refusal(address)
            if refusal:
                raise UnsafeDestination(
                    f"{hostname} resolves to a private or local address ({address}: {refusal})."
                )
    return addresses


# --- The client -------------------------------------------------------------------------


def connect_checked(addresses: list[IPAddress], port: int, timeout: float) -> socket.socket:
    """A TCP connection to the first of the checked `addresses` that answers (other
    protocols than HTTP: the IMAP client of connected mailboxes)."""
    last: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((str(address), port), timeout=timeout)
        except OSError as exc:
            last = exc
    raise last or OSError("no address to connect to")


class _CheckedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked addresses; the Host header names the host."""

    def __init__(self, host: str, port: int, *, addresses: list[IPAddress], timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.checked_addresses = addresses

    def connect(self) -> None:
        self.sock = connect_checked(self.checked_addresses, self.port, self.timeout)


class _CheckedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the checked addresses; SNI and the certificate check use the host."""

    def __init__(self, host: str, port: int, *, addresses: list[IPAddress], timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.checked_addresses = addresses

    def connect(self) -> None:
        sock = connect_checked(self.checked_addresses, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass
class OutboundResponse:
    url: str  # after redirects
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def outbound_request(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float,
    max_bytes: int,
    follow_redirects: bool = True,
    truncate_body: bool = False,
) -> OutboundResponse:
    """One HTTP request to a user-supplied URL through the checks of this module.

    Answers any status (a redirect that is not followed included); the body is read
    up to `max_bytes`: a longer one raises FetchFailed, or is cut (`truncate_body`).
    Redirects, when followed (at most MAX_REDIRECTS), are checked like the first URL;
    a 303, or a 301/302 answer to a POST, continues as a GET without the body, as
    browsers do. `timeout` applies to
    each network operation. Raises UnsafeDestination or FetchFailed.
    """
    for _hop in range(MAX_REDIRECTS + 1):
        addresses = check_destination(url)
        parts = urlsplit(url)
        if not addresses:
            raise FetchFailed(f"The host name {parts.hostname!r} does not resolve.")
        secure = parts.scheme == "https"
        connection_class = _CheckedHTTPSConnection if secure else _CheckedHTTPConnection
        connection = connection_class(
            parts.hostname or "",
            parts.port or (443 if secure else 80),
            addresses=addresses,
            timeout=timeout,
        )
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request(method, target, body=body, headers=headers or {})
            response = connection.getresponse()
            location = response.getheader("Location")
            if follow_redirects and response.status in REDIRECT_STATUSES and location:
                url = urljoin(url, location)
                if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                    method, body = "GET", None
                continue
            declared = response.getheader("Content-Length")
            too_long = declared and declared.isdigit() and int(declared) > max_bytes
            if too_long and not truncate_body:
                raise FetchFailed(f"The resource is larger than {max_bytes} bytes.")
            content = response.read(max_bytes if truncate_body else max_bytes + 1)
        except (OSError, http.client.HTTPException) as exc:
            raise FetchFailed(str(exc)[:300] or exc.__class__.__name__) from exc
        finally:
            connection.close()
        if len(content) > max_bytes:
            raise FetchFailed(f"The resource is larger than {max_bytes} bytes.")
        return OutboundResponse(url=url, status=response.status, headers=response.msg, body=content)
    raise FetchFailed(f"More than {MAX_REDIRECTS} redirects.")


def fetch_limited(url: str, *, max_bytes: int, timeout: float) -> bytes:
    """GET `url` through `outbound_request` (redirects checked and followed); the body
    of a 2xx answer, at most `max_bytes`. Raises UnsafeDestination or FetchFailed."""
    response = outbound_request(
        url,
        headers={"User-Agent": "Rapport-Capture/1", "Accept": "text/calendar, */*"},
        timeout=timeout,
        max_bytes=max_bytes,
    )
    if not 200 <= response.status < 300:
        raise FetchFailed(f"HTTP {response.status}")
    return response.body
