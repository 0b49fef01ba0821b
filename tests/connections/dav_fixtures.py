"""A real Radicale (CalDAV and CardDAV server) for the tests, on a free loopback port.

`radicale` starts one per test in a fresh folder, users `alice:secret` and
`bob:secret` (htpasswd, plain). Its helpers speak plain HTTP to set the server up
the way a user's calendar program would: MKCALENDAR, extended MKCOL for an address
book, PUT and DELETE of items. `stop()` and `start()` simulate a server that goes
away in the middle of a sync and comes back with the same data.

Test modules import it by its function's name, so that test arguments named `radicale`
do not shadow an import: `from tests.connections.dav_fixtures import radicale_server`.
"""

from __future__ import annotations

import base64
import http.client
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

USERS = {"alice": "secret", "bob": "secret"}

MKCOL_ADDRESS_BOOK = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav">'
    b"<D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>"
    b"<D:displayname>Contacts</D:displayname></D:prop></D:set></D:mkcol>"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Radicale:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="radicale-", dir="/tmp"))
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        (self.folder / "users").write_text("".join(f"{u}:{p}\n" for u, p in USERS.items()))
        (self.folder / "config").write_text(
            "[server]\n"
            f"hosts = 127.0.0.1:{self.port}\n"
            "[auth]\n"
            "type = htpasswd\n"
            f"htpasswd_filename = {self.folder}/users\n"
            "htpasswd_encryption = plain\n"
            "[storage]\n"
            f"filesystem_folder = {self.folder}/collections\n"
            "[logging]\n"
            "level = warning\n"
        )
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.folder / "radicale.log", "ab")  # noqa: SIM115 (kept by the process)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(self.folder / "config")],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError(
            "Radicale did not start: " + (self.folder / "radicale.log").read_text()[-2000:]
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    # --- Requests, as a calendar program makes them ----------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        user: str = "alice",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        token = base64.b64encode(f"{user}:{USERS[user]}".encode()).decode()
        sent = {"Authorization": f"Basic {token}", **(headers or {})}
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def _ok(self, method: str, path: str, body: bytes | None = None, **kwargs) -> dict:
        status, headers, answer = self.request(method, path, body, **kwargs)
        assert 200 <= status < 300, f"{method} {path}: {status} {answer[:300]!r}"
        return headers

    def make_calendar(self, path: str, *, user: str = "alice") -> str:
        self._ok("MKCALENDAR", path, user=user)
        return self.base_url + path

    def make_address_book(self, path: str, *, user: str = "alice") -> str:
        self._ok(
            "MKCOL",
            path,
            MKCOL_ADDRESS_BOOK,
            user=user,
            headers={"Content-Type": "application/xml; charset=utf-8"},
        )
        return self.base_url + path

    def put(self, path: str, data: bytes, *, user: str = "alice") -> str:
        """PUT an item; its new ETag."""
        content_type = "text/vcard" if path.endswith(".vcf") else "text/calendar"
        headers = self._ok(
            "PUT", path, data, user=user, headers={"Content-Type": f"{content_type}; charset=utf-8"}
        )
        return headers.get("ETag", "")

    def delete(self, path: str, *, user: str = "alice") -> None:
        self._ok("DELETE", path, user=user)


@pytest.fixture(name="radicale")
def radicale_server():
    server = Radicale()
    server.start()
    try:
        yield server
    finally:
        server.close()


def ics(
    uid: str,
    start: str,
    *,
    summary: str = "Meeting",
    minutes: int = 60,
    attendees: tuple[tuple[str, str], ...] = (),
    organizer: tuple[str, str] | None = None,
    status: str = "",
    extra: str = "",
) -> bytes:
    """A one-event calendar object; `start` as `20261101T100000Z`."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Rapport tests//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20260101T000000Z",
        f"DTSTART:{start}",
        f"DURATION:PT{minutes}M",
        f"SUMMARY:{summary}",
    ]
    if organizer:
        lines.append(f"ORGANIZER;CN={organizer[1]}:mailto:{organizer[0]}")
    for email, name in attendees:
        lines.append(f"ATTENDEE;CN={name};ROLE=REQ-PARTICIPANT:mailto:{email}")
    if status:
        lines.append(f"STATUS:{status}")
    if extra:
        lines.append(extra)
    lines += ["END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines).encode()


def vcf(
    uid: str, name: str, *, email: str = "", org: str = "", title: str = "", tel: str = ""
) -> bytes:
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"UID:{uid}", f"FN:{name}"]
    given, _, family = name.rpartition(" ")
    lines.append(f"N:{family};{given};;;")
    if email:
        lines.append(f"EMAIL;TYPE=WORK:{email}")
    if org:
        lines.append(f"ORG:{org}")
    if title:
        lines.append(f"TITLE:{title}")
    if tel:
        lines.append(f"TEL;TYPE=WORK:{tel}")
    lines += ["END:VCARD", ""]
    return "\r\n".join(lines).encode()
