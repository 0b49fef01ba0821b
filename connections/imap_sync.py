"""Syncing a mailbox over IMAP (imapclient): new messages of each chosen folder arrive.

- The host is checked by the outbound guard (relations.integrations.outbound: resolved
  once, private and local addresses refused unless RAPPORT_ALLOW_PRIVATE_DESTINATIONS)
  and the connection goes to the checked address; TLS (and STARTTLS) check the
  certificate against the host name. Security NONE sends the password unencrypted: the
  form says so.
- Incremental by UIDVALIDITY and UID per folder (`sync_state["folders"][name]`): only
  UIDs above the last one seen are fetched. A changed UIDVALIDITY (the server rebuilt
  the folder) means every UID is new again: the folder is read from the start, and
  the arrival recognises each message already captured by its Message-ID, so nothing
  is added twice.
- Messages are fetched and recorded in batches (RAPPORT_CONNECTIONS_BATCH, 500): each
  batch's arrivals and the folder's new last UID are saved in one transaction, with the
  progress shown on the connections page. A sync that stops (the worker restarted, the
  connection lost) continues after the last saved batch; a batch cut short is repeated
  and adds nothing twice.
- Only the headers are fetched (BODY.PEEK[HEADER]: the messages stay unread) unless the
  account keeps the full text.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import socket
import ssl
from collections.abc import Iterator, Sequence

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from connections.arrival import Arrival, record_arrivals
from connections.errors import AuthenticationFailed, ServerUnreachable, SyncError, SyncResult
from connections.mail import CaptureError, mail_record
from connections.models import ConnectedAccount
from relations.integrations.outbound import (
    IPAddress,
    UnsafeDestination,
    check_host,
    connect_checked,
)

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {
    ConnectedAccount.Security.TLS: 993,
    ConnectedAccount.Security.STARTTLS: 143,
    ConnectedAccount.Security.NONE: 143,
}
HEADER = b"BODY[HEADER]"
WHOLE = b"BODY[]"
SIZE = b"RFC822.SIZE"


class _CheckedIMAP4(imaplib.IMAP4):
    """imaplib's connection, opened to an address the outbound guard checked; TLS (SNI and
    the certificate) uses the host name."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        addresses: list[IPAddress],
        timeout: float | None,
        ssl_context: ssl.SSLContext | None,
    ):
        self._checked_addresses = addresses
        self._connect_timeout = timeout
        self._tls_context = ssl_context
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        sock = connect_checked(
            self._checked_addresses, self.port, timeout or self._connect_timeout or 30
        )
        if self._tls_context is not None:
            return self._tls_context.wrap_socket(sock, server_hostname=self.host)
        return sock


class CheckedIMAPClient(IMAPClient):
    def __init__(self, host: str, port: int, *, addresses: list[IPAddress], **kwargs):
        self._checked_addresses = addresses
        super().__init__(host, port=port, **kwargs)

    def _create_IMAP4(self) -> imaplib.IMAP4:  # noqa: N802 (imapclient's name)
        return _CheckedIMAP4(
            self.host,
            self.port,
            addresses=self._checked_addresses,
            timeout=getattr(self._timeout, "connect", None),
            ssl_context=self.ssl_context if self.ssl else None,
        )


def tls_context() -> ssl.SSLContext:
    """The certificate check of mail servers (tests add their own authority)."""
    context = ssl.create_default_context()
    extra = getattr(settings, "RAPPORT_CONNECTIONS_CA_FILE", "")
    if extra:
        context.load_verify_locations(cafile=extra)
    return context


def connect(account: ConnectedAccount) -> IMAPClient:
    """A signed-in client; raises ServerUnreachable or AuthenticationFailed with words
    for the owner (never the password)."""
    host = account.host.strip()
    port = account.port or DEFAULT_PORTS[account.security]
    timeout = float(getattr(settings, "RAPPORT_CONNECTIONS_TIMEOUT", 30))
    where = f"{host}:{port}"
    try:
        addresses = check_host(host, port)
    except UnsafeDestination as exc:
        raise ServerUnreachable(
            _("Rapport may not connect to %(where)s: %(why)s") % {"where": where, "why": exc}
        ) from exc
    if not addresses:
        raise ServerUnreachable(_("The server name %(host)s was not found.") % {"host": host})
    context = tls_context()
    try:
        client = CheckedIMAPClient(
            host,
            port,
            addresses=addresses,
            ssl=account.security == ConnectedAccount.Security.TLS,
            ssl_context=context,
            timeout=timeout,
        )
        if account.security == ConnectedAccount.Security.STARTTLS:
            client.starttls(context)
    except ssl.SSLCertVerificationError as exc:
        raise ServerUnreachable(
            _("The certificate of %(where)s is not valid for it (%(why)s).")
            % {"where": where, "why": exc.verify_message or exc.reason}
        ) from exc
    except (ssl.SSLError, IMAPClientError, imaplib.IMAP4.error) as exc:
        raise ServerUnreachable(
            _("%(where)s did not set up an encrypted connection: check the encryption setting.")
            % {"where": where}
        ) from exc
    except OSError as exc:
        raise ServerUnreachable(
            _("Could not reach %(where)s (%(why)s). Check the server name and port.")
            % {"where": where, "why": exc.strerror or exc.__class__.__name__}
        ) from exc
    try:
        client.login(account.username, account.secret)
    except LoginError as exc:
        _close(client)
        raise AuthenticationFailed(
            _(
                "The mail server refused the user name or password. Enter them again "
                "(an app password if your mailbox uses two-step sign-in)."
            )
        ) from exc
    except (OSError, IMAPClientError, imaplib.IMAP4.error) as exc:
        _close(client)
        raise SyncError(_("The connection to %(where)s was lost.") % {"where": where}) from exc
    return client


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:
        with contextlib.suppress(Exception):
            client.shutdown()


def _chunks(values: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def _select(client: IMAPClient, name: str) -> tuple[str, dict] | None:
    """The folder (its real name) selected read-only, or None when it does not exist;
    "Sent" falls back to the server's special-use Sent folder."""
    try:
        return name, client.select_folder(name, readonly=True)
    except IMAPClientError:
        if name.lower() != "sent":
            return None
    from imapclient.imapclient import SENT

    found = client.find_special_folder(SENT)
    if not found:
        return None
    return found, client.select_folder(found, readonly=True)


def _new_uids(client: IMAPClient, last_uid: int) -> list[int]:
    # "N:*" always matches the highest UID, even when below N: keep the new ones only.
    return sorted(u for u in client.search(["UID", f"{last_uid + 1}:*"]) if u > last_uid)


def _records(client: IMAPClient, uids: list[int], full: bool) -> dict[int, dict | None]:
    """Each UID's arrival record (None: unreadable), from its headers or whole text."""
    wanted = [b"BODY.PEEK[HEADER]", SIZE] if full else [b"BODY.PEEK[HEADER]"]
    fetched = client.fetch(uids, wanted)
    whole: dict[int, bytes] = {}
    if full:
        small = [u for u in uids if fetched.get(u, {}).get(SIZE, 0) <= _max_bytes()]
        if small:
            whole = {u: d.get(WHOLE, b"") for u, d in client.fetch(small, [b"BODY.PEEK[]"]).items()}
    records: dict[int, dict | None] = {}
    for uid in uids:
        raw = whole.get(uid) or fetched.get(uid, {}).get(HEADER) or b""
        try:
            records[uid] = mail_record(raw) if raw else None
        except (CaptureError, ValueError, LookupError, TypeError):
            records[uid] = None
    return records


def _max_bytes() -> int:
    return int(getattr(settings, "RAPPORT_CAPTURE_MAX_BYTES", 5 * 1024 * 1024))


def sync_imap(account: ConnectedAccount) -> SyncResult:
    """Fetch and record the new messages of the account's folders (see the module)."""
    client = connect(account)
    result = SyncResult()
    batch_size = max(int(getattr(settings, "RAPPORT_CONNECTIONS_BATCH", 500)), 1)
    full = account.content == ConnectedAccount.Content.FULL
    try:
        state = dict(account.sync_state or {})
        folders_state: dict[str, dict] = dict(state.get("folders") or {})
        plan: list[tuple[str, int, list[int]]] = []
        missing: list[str] = []
        for wanted in account.folders or []:
            selected = _select(client, wanted)
            if selected is None:
                missing.append(wanted)
                continue
            name, info = selected
            uidvalidity = int(info[b"UIDVALIDITY"])
            seen = folders_state.get(name) or {}
            last_uid = int(seen.get("last_uid", 0))
            if int(seen.get("uidvalidity", uidvalidity)) != uidvalidity:
                logger.info("Account %s: folder UIDVALIDITY changed, reading it again", account.pk)
                last_uid = 0
            plan.append((name, uidvalidity, _new_uids(client, last_uid)))
        state["missing"] = missing
        account.progress_total = sum(len(uids) for _n, _v, uids in plan)
        account.progress_done = 0
        account.sync_state = state
        account.save(update_fields=["progress_total", "progress_done", "sync_state"])

        for name, uidvalidity, uids in plan:
            if not uids:
                folders_state.setdefault(name, {"uidvalidity": uidvalidity, "last_uid": 0})
                folders_state[name]["uidvalidity"] = uidvalidity
                continue
            client.select_folder(name, readonly=True)
            for batch in _chunks(uids, batch_size):
                records = _records(client, batch, full)
                arrivals = [
                    Arrival(record, f"{name}/{uidvalidity}/{uid}")
                    for uid, record in records.items()
                    if record is not None
                ]
                with transaction.atomic():
                    recorded = record_arrivals(account, arrivals)
                    folders_state[name] = {"uidvalidity": uidvalidity, "last_uid": batch[-1]}
                    state["folders"] = folders_state
                    account.sync_state = state
                    account.progress_done += len(batch)
                    account.save(update_fields=["sync_state", "progress_done"])
                result.added += recorded.added
                result.updated += recorded.updated
                result.suggested += recorded.suggested
        state["folders"] = folders_state
        account.sync_state = state
        account.save(update_fields=["sync_state"])
    except (OSError, IMAPClientError, imaplib.IMAP4.abort, imaplib.IMAP4.error) as exc:
        raise SyncError(
            _(
                "The connection to the mail server was lost; the next sync continues "
                "where it stopped."
            )
        ) from exc
    finally:
        _close(client)
    return result
