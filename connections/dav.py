"""A small WebDAV client for CalDAV calendars and CardDAV address books.

Only what synchronising one collection needs, spoken over plain HTTP:

- discovery (RFC 6764 and RFC 4791/6352): the URL the user gave is used as it is
  when it names a calendar or an address book; otherwise its principal
  (`current-user-principal`, found on the URL or on `/.well-known/caldav` or
  `/.well-known/carddav`), the principal's `calendar-home-set` or
  `addressbook-home-set`, and the first calendar or address book in that home;
- changes since the last sync by `sync-collection` (RFC 6578), with a full listing
  when the server has forgotten the token (403/409 `valid-sync-token`); for servers
  without it the CalendarServer `getctag` (nothing changed when it is the same) and
  a Depth 1 PROPFIND of the ETags, compared with the ones known;
- the changed items themselves by `calendar-multiget` / `addressbook-multiget`.

Every request goes through `relations.integrations.outbound.outbound_request`, so
the address the user gave is checked like any other user-supplied destination
(and loopback is reached in tests only through RAPPORT_ALLOW_PRIVATE_DESTINATIONS).
Redirects are followed here, each one checked again by the guard, and the password
is only sent to the origin the user named: a redirect elsewhere goes without it.

Failures a user must fix come out as `AuthenticationFailed` (401) or
`ServerUnreachable` (refused, not resolving, timing out, a private address);
anything else a server answers unexpectedly is a `SyncError` (retried later).
"""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

from django.utils.translation import gettext as _

from connections.errors import AuthenticationFailed, ServerUnreachable, SyncError
from relations.integrations.outbound import (
    REDIRECT_STATUSES,
    FetchFailed,
    OutboundResponse,
    UnsafeDestination,
    outbound_request,
)

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
CARDDAV = "urn:ietf:params:xml:ns:carddav"
CALSERVER = "http://calendarserver.org/ns/"

# Per network operation; a DAV server answering slower than this is not reachable.
TIMEOUT_SECONDS = 20.0
# One answer at most: a multistatus of a few thousand ETags, or one batch of items.
MAX_BYTES = 32 * 1024 * 1024
# Items fetched per multiget request.
MULTIGET_BATCH = 50
MAX_REDIRECTS = 5
# sync-collection answers may be cut by the server (507 on the collection); we ask
# again with the token it gave, at most this often in one call.
MAX_SYNC_ROUNDS = 50

CALENDAR = "calendar"
ADDRESS_BOOK = "addressbook"


class NoCollection(ServerUnreachable):
    """The URL leads to no calendar or address book the user can read: like a server
    that cannot be reached, the owner must correct the account before it is tried again."""


class SyncUnsupported(SyncError):
    """The collection does not answer `sync-collection`: use the ctag/ETag fallback."""


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


# --- Requests -------------------------------------------------------------------------


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.scheme, (parts.hostname or "").lower(), port


@dataclass
class DavClient:
    """Requests to one DAV server as one user (HTTP Basic authentication)."""

    base_url: str
    username: str
    password: str = field(repr=False)
    timeout: float = TIMEOUT_SECONDS

    def _authorization(self) -> str:
        token = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(token).decode("ascii")

    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        depth: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> OutboundResponse:
        """One request, redirects followed (each checked by the outbound guard); the
        password goes only to the origin of `base_url`. Raises AuthenticationFailed on
        401, ServerUnreachable when the server cannot be reached."""
        trusted = _origin(self.base_url)
        for _hop in range(MAX_REDIRECTS + 1):
            sent = {"User-Agent": "Rapport-Connections/1", **(headers or {})}
            if body is not None:
                sent.setdefault("Content-Type", "application/xml; charset=utf-8")
            if depth is not None:
                sent["Depth"] = depth
            if _origin(url) == trusted:
                sent["Authorization"] = self._authorization()
            try:
                response = outbound_request(
                    url,
                    method=method,
                    body=body,
                    headers=sent,
                    timeout=self.timeout,
                    max_bytes=MAX_BYTES,
                    follow_redirects=False,
                )
            except UnsafeDestination as exc:
                raise ServerUnreachable(str(exc)) from exc
            except FetchFailed as exc:
                if isinstance(exc.__cause__, OSError | ConnectionError) or "resolve" in str(exc):
                    raise ServerUnreachable(_unreachable(url, exc)) from exc
                raise SyncError(str(exc)) from exc
            location = response.headers.get("Location")
            if response.status in REDIRECT_STATUSES and location:
                url = urljoin(url, location)
                continue
            if response.status == 401:
                raise AuthenticationFailed(_("The server refused the user name or password."))
            return response
        message = _("The server redirected more than %(max)d times.") % {"max": MAX_REDIRECTS}
        raise SyncError(message)

    def propfind(self, url: str, props: Iterable[tuple[str, str]], *, depth: str) -> Multistatus:
        body = _propfind_body(props)
        response = self.request("PROPFIND", url, body=body, depth=depth)
        if response.status != 207:
            raise _unexpected("PROPFIND", url, response)
        return parse_multistatus(response.body, base=response.url)


def _unreachable(url: str, exc: Exception) -> str:
    host = urlsplit(url).hostname or url
    return _("The server %(host)s cannot be reached (%(error)s).") % {
        "host": host,
        "error": str(exc)[:200],
    }


def _unexpected(what: str, url: str, response: OutboundResponse) -> SyncError:
    values = {"status": response.status, "what": what, "path": urlsplit(url).path or "/"}
    message = _("The server answered %(status)d to %(what)s %(path)s.") % values
    if response.status in (403, 404, 405):
        return NoCollection(message)
    return SyncError(message)


# --- The XML --------------------------------------------------------------------------


def _propfind_body(props: Iterable[tuple[str, str]]) -> bytes:
    root = ET.Element(_q(DAV, "propfind"))
    prop = ET.SubElement(root, _q(DAV, "prop"))
    for namespace, name in props:
        ET.SubElement(prop, _q(namespace, name))
    return _serialise(root)


def _serialise(root: ET.Element) -> bytes:
    ET.register_namespace("D", DAV)
    ET.register_namespace("C", CALDAV)
    ET.register_namespace("CR", CARDDAV)
    ET.register_namespace("CS", CALSERVER)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


_DOCTYPE = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def parse_xml(body: bytes) -> ET.Element:
    """A server's XML answer. Document types and entities are refused outright: a
    multistatus never needs them, and they are how XML bombs are built."""
    if _DOCTYPE.search(body):
        raise SyncError(_("The server's answer declares a document type; it is not read."))
    try:
        return ET.fromstring(body)
    except ET.ParseError as exc:
        raise SyncError(_("The server's answer is not valid XML.")) from exc


@dataclass
class Resource:
    """One `response` of a multistatus: its href (a path, as the server spells it),
    the status of the response itself (404 for a deleted member of a
    sync-collection), and the properties found (status 200)."""

    href: str
    status: int | None = None
    props: dict[str, ET.Element] = field(default_factory=dict)

    def text(self, namespace: str, name: str) -> str:
        element = self.props.get(_q(namespace, name))
        return (element.text or "").strip() if element is not None else ""

    def hrefs(self, namespace: str, name: str) -> list[str]:
        element = self.props.get(_q(namespace, name))
        if element is None:
            return []
        return [(h.text or "").strip() for h in element.iter(_q(DAV, "href")) if h.text]

    def types(self) -> set[str]:
        element = self.props.get(_q(DAV, "resourcetype"))
        return {child.tag for child in element} if element is not None else set()

    def reports(self) -> set[str]:
        element = self.props.get(_q(DAV, "supported-report-set"))
        if element is None:
            return set()
        return {child.tag for report in element.iter(_q(DAV, "report")) for child in list(report)}


@dataclass
class Multistatus:
    resources: list[Resource]
    url: str = ""  # where the answer came from (after redirects): hrefs resolve on it
    sync_token: str = ""
    truncated: bool = False  # a sync-collection answer cut short (507)

    def by_path(self, path: str) -> Resource | None:
        wanted = _same_path(path)
        return next((r for r in self.resources if _same_path(r.href) == wanted), None)


def _status_code(element: ET.Element | None) -> int | None:
    if element is None or not element.text:
        return None
    match = re.search(r"\s(\d{3})(\s|$)", element.text.strip() + " ")
    return int(match.group(1)) if match else None


# Characters a path keeps unencoded (RFC 3986 pchar and "/"): one spelling per path.
_PATH_SAFE = "/:@!$&'()*+,;=~-._"


def href_path(href: str, *, base: str = "") -> str:
    """An href as the path it names on the server (absolute URLs reduced to their
    path), in one spelling: servers write `@` or `%40` as they please, in one answer
    and the next, and the state compares hrefs across answers."""
    path = urlsplit(urljoin(base or "/", href.strip())).path
    return quote(unquote(path), safe=_PATH_SAFE)


def _same_path(path: str) -> str:
    return unquote(path).rstrip("/")


def parse_multistatus(body: bytes, *, base: str = "") -> Multistatus:
    root = parse_xml(body)
    if root.tag != _q(DAV, "multistatus"):
        raise SyncError(_("The server's answer is not a WebDAV multistatus."))
    result = Multistatus(resources=[], url=base)
    token = root.find(_q(DAV, "sync-token"))
    result.sync_token = (token.text or "").strip() if token is not None else ""
    for response in root.findall(_q(DAV, "response")):
        href = response.find(_q(DAV, "href"))
        if href is None or not (href.text or "").strip():
            continue
        resource = Resource(href=href_path(href.text or "", base=base))
        resource.status = _status_code(response.find(_q(DAV, "status")))
        for propstat in response.findall(_q(DAV, "propstat")):
            if _status_code(propstat.find(_q(DAV, "status"))) != 200:
                continue
            prop = propstat.find(_q(DAV, "prop"))
            for child in prop if prop is not None else []:
                resource.props[child.tag] = child
        if resource.status == 507:
            result.truncated = True
            continue
        result.resources.append(resource)
    return result


# --- Discovery ------------------------------------------------------------------------


def _collection_tag(kind: str) -> str:
    return _q(CALDAV, "calendar") if kind == CALENDAR else _q(CARDDAV, "addressbook")


def _home_set(kind: str) -> tuple[str, str]:
    return (CALDAV, "calendar-home-set") if kind == CALENDAR else (CARDDAV, "addressbook-home-set")


def discover(client: DavClient, url: str, kind: str) -> str:
    """The URL of the calendar (`kind` CALENDAR) or address book (ADDRESS_BOOK) that
    `url` leads to: itself when it is one, else the first one of the user's home.
    Raises NoCollection when there is none."""
    wanted = _collection_tag(kind)
    home_prop = _home_set(kind)
    props = [(DAV, "resourcetype"), (DAV, "current-user-principal"), home_prop]
    principal = ""
    found = _propfind_or_none(client, url, props)
    if found is not None:
        here = found.by_path(urlsplit(found.url).path or "/") or (
            found.resources[0] if found.resources else None
        )
        if here is not None:
            if wanted in here.types():
                return urljoin(found.url, here.href)
            homes = here.hrefs(*home_prop)
            if homes:
                return _first_collection(client, urljoin(found.url, homes[0]), kind)
            principals = here.hrefs(DAV, "current-user-principal")
            principal = urljoin(found.url, principals[0]) if principals else ""
    if not principal:
        well_known = "/.well-known/caldav" if kind == CALENDAR else "/.well-known/carddav"
        well_known = urljoin(url, well_known)
        found = _propfind_or_none(client, well_known, [(DAV, "current-user-principal")])
        for resource in found.resources if found is not None else []:
            principals = resource.hrefs(DAV, "current-user-principal")
            if principals:
                principal = urljoin(found.url, principals[0])
                break
    if not principal:
        raise NoCollection(
            _(
                "No calendar or address book was found at this address; give the "
                "address of the calendar or address book itself."
            )
        )
    found = _propfind_or_none(client, principal, [home_prop])
    homes = [h for r in (found.resources if found else []) for h in r.hrefs(*home_prop)]
    if found is None or not homes:
        raise NoCollection(_("The server names no place for calendars or address books."))
    return _first_collection(client, urljoin(found.url, homes[0]), kind)


def _propfind_or_none(
    client: DavClient, url: str, props: list[tuple[str, str]]
) -> Multistatus | None:
    """A Depth 0 PROPFIND; None when the server has nothing there (404, 403, 405...)."""
    response = client.request("PROPFIND", url, body=_propfind_body(props), depth="0")
    if response.status != 207:
        if response.status >= 500:
            raise _unexpected("PROPFIND", url, response)
        return None
    return parse_multistatus(response.body, base=response.url)


def _first_collection(client: DavClient, home: str, kind: str) -> str:
    wanted = _collection_tag(kind)
    found = client.propfind(home, [(DAV, "resourcetype"), (DAV, "displayname")], depth="1")
    collections = sorted((r for r in found.resources if wanted in r.types()), key=lambda r: r.href)
    if not collections:
        raise NoCollection(
            _("The account has no calendar yet.")
            if kind == CALENDAR
            else _("The account has no address book yet.")
        )
    return urljoin(found.url or home, collections[0].href)


# --- Changes --------------------------------------------------------------------------


@dataclass
class CollectionInfo:
    sync_token: str
    ctag: str
    supports_sync: bool


def collection_info(client: DavClient, url: str) -> CollectionInfo:
    found = client.propfind(
        url,
        [(DAV, "sync-token"), (CALSERVER, "getctag"), (DAV, "supported-report-set")],
        depth="0",
    )
    here = found.by_path(urlsplit(url).path) or (found.resources[0] if found.resources else None)
    if here is None:
        raise NoCollection(_("The server describes no calendar or address book at this address."))
    token = here.text(DAV, "sync-token")
    reports = here.reports()
    supports = bool(token) and (not reports or _q(DAV, "sync-collection") in reports)
    return CollectionInfo(
        sync_token=token, ctag=here.text(CALSERVER, "getctag"), supports_sync=supports
    )


@dataclass
class Changes:
    """What changed in a collection since the state given.

    `changed` maps each new or changed item's href to its ETag; `deleted` lists the
    hrefs gone. `full` says the listing was complete (a first sync, a forgotten
    token, the ETag fallback): every known href not in it is in `deleted`.
    `sync_token` / `ctag` are the server's new ones, to be stored once the changes
    are applied."""

    changed: dict[str, str] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    sync_token: str = ""
    ctag: str = ""
    full: bool = False
    method: str = "sync-token"  # or "etag"


def sync_collection(client: DavClient, url: str, token: str) -> Changes:
    """RFC 6578 `sync-collection` from `token` ("" for everything). A token the server
    no longer knows (403/409 valid-sync-token) gives a full listing instead.
    Raises SyncUnsupported when the collection does not answer the report."""
    changes = Changes(full=not token)
    collection_path = _same_path(urlsplit(url).path)
    for _round in range(MAX_SYNC_ROUNDS):
        response = client.request("REPORT", url, body=_sync_body(token), depth="1")
        if response.status in (403, 409) and token and b"valid-sync-token" in response.body:
            token, changes = "", Changes(full=True)
            continue
        if response.status in (400, 403, 405, 406, 409, 412, 415, 422, 501):
            raise SyncUnsupported(f"The server answered {response.status} to sync-collection.")
        if response.status != 207:
            raise _unexpected("REPORT", url, response)
        answer = parse_multistatus(response.body, base=response.url)
        for resource in answer.resources:
            if _same_path(resource.href) == collection_path:
                continue
            if resource.status == 404:
                changes.changed.pop(resource.href, None)
                changes.deleted.append(resource.href)
                continue
            etag = resource.text(DAV, "getetag")
            if resource.href.endswith("/") and not etag:
                continue  # a sub-collection
            changes.changed[resource.href] = etag
        changes.sync_token = answer.sync_token or token
        if not answer.truncated or answer.sync_token in ("", token):
            return changes
        token = answer.sync_token
    return changes


def _sync_body(token: str) -> bytes:
    root = ET.Element(_q(DAV, "sync-collection"))
    ET.SubElement(root, _q(DAV, "sync-token")).text = token or None
    ET.SubElement(root, _q(DAV, "sync-level")).text = "1"
    prop = ET.SubElement(root, _q(DAV, "prop"))
    ET.SubElement(prop, _q(DAV, "getetag"))
    return _serialise(root)


def list_etags(client: DavClient, url: str) -> dict[str, str]:
    """Every item of the collection with its ETag (PROPFIND Depth 1)."""
    found = client.propfind(url, [(DAV, "getetag"), (DAV, "resourcetype")], depth="1")
    collection_path = _same_path(urlsplit(url).path)
    return {
        r.href: r.text(DAV, "getetag")
        for r in found.resources
        if _same_path(r.href) != collection_path and _q(DAV, "collection") not in r.types()
    }


def changes_since(
    client: DavClient, url: str, state: dict[str, Any], *, use_sync_token: bool = True
) -> Changes:
    """The changes of the collection at `url` since `state` (the account's sync_state:
    `sync_token`, `ctag`, `etags` {href: etag}), by sync-token when the server supports
    it (and `use_sync_token`), else by ctag and ETags. Items whose ETag is the one
    already known are left out, so applying the same changes twice is harmless."""
    known: dict[str, str] = dict(state.get("etags") or {})
    info = collection_info(client, url)
    changes: Changes | None = None
    if use_sync_token and info.supports_sync:
        try:
            changes = sync_collection(client, url, str(state.get("sync_token") or ""))
        except SyncUnsupported:
            changes = None
    if changes is None:
        changes = Changes(full=True, method="etag", ctag=info.ctag)
        if info.ctag and info.ctag == state.get("ctag") and "etags" in state:
            changes.full = False  # nothing changed since the last listing
        else:
            changes.changed = list_etags(client, url)
    changes.ctag = info.ctag
    if changes.full:
        changes.deleted = sorted(set(known) - set(changes.changed))
    changes.changed = {
        href: etag for href, etag in changes.changed.items() if not etag or known.get(href) != etag
    }
    changes.deleted = [href for href in dict.fromkeys(changes.deleted) if href in known]
    return changes


# --- Fetching items -------------------------------------------------------------------


@dataclass
class Item:
    href: str
    etag: str
    data: bytes


def multiget(client: DavClient, url: str, hrefs: list[str], kind: str) -> list[Item]:
    """The items at `hrefs` (calendar-multiget / addressbook-multiget, in batches); an
    href the server no longer has is left out."""
    items: list[Item] = []
    for start in range(0, len(hrefs), MULTIGET_BATCH):
        batch = hrefs[start : start + MULTIGET_BATCH]
        response = client.request("REPORT", url, body=_multiget_body(batch, kind), depth="1")
        if response.status != 207:
            raise _unexpected("REPORT", url, response)
        data_tag = (CALDAV, "calendar-data") if kind == CALENDAR else (CARDDAV, "address-data")
        for resource in parse_multistatus(response.body, base=response.url).resources:
            if resource.status == 404 or _q(*data_tag) not in resource.props:
                continue
            element = resource.props[_q(*data_tag)]
            items.append(
                Item(
                    href=resource.href,
                    etag=resource.text(DAV, "getetag"),
                    data=(element.text or "").encode("utf-8"),
                )
            )
    return items


def _multiget_body(hrefs: list[str], kind: str) -> bytes:
    namespace = CALDAV if kind == CALENDAR else CARDDAV
    report = "calendar-multiget" if kind == CALENDAR else "addressbook-multiget"
    data = "calendar-data" if kind == CALENDAR else "address-data"
    root = ET.Element(_q(namespace, report))
    prop = ET.SubElement(root, _q(DAV, "prop"))
    ET.SubElement(prop, _q(DAV, "getetag"))
    ET.SubElement(prop, _q(namespace, data))
    for href in hrefs:
        ET.SubElement(root, _q(DAV, "href")).text = href
    return _serialise(root)
