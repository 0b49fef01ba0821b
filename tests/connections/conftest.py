"""A real Dovecot IMAP server per test (RECIPES.md, "Mail, calendar and address-book
servers in tests"): started from its binary in a private folder, Maildirs seeded with
real and generated messages, stopped (and started again) by the test.

CalDAV/CardDAV fixtures live in tests/connections/dav_fixtures.py.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

DOVECOT = "/usr/sbin/dovecot"
NOBODY = 65534
CONFIG = """protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = {ssl}
{ssl_files}disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = {d}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={uid} home={d}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = {tls_port}
  }}
}}
"""


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Dovecot:
    """One Dovecot: users, their Maildirs, start and stop."""

    _names = itertools.count()

    def __init__(self, tls: bool = False):
        self.dir = Path(tempfile.mkdtemp(prefix="dc", dir="/tmp"))
        os.chmod(self.dir, 0o755)
        self.host = "127.0.0.1"
        self.port = free_port()
        self.tls_port = free_port() if tls else 0
        self.users: dict[str, str] = {}
        self.process: subprocess.Popen | None = None
        ssl_files = ""
        if tls:
            self.cert = self.dir / "cert.pem"
            key = self.dir / "key.pem"
            subprocess.run(
                [
                    "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(key), "-out", str(self.cert),
                ],
                check=True,
                capture_output=True,
            )  # fmt: skip
            ssl_files = f"ssl_cert = <{self.cert}\nssl_key = <{key}\n"
        (self.dir / "mail").mkdir()
        (self.dir / "users").write_text("")
        (self.dir / "dovecot.conf").write_text(
            CONFIG.format(
                d=self.dir,
                port=self.port,
                tls_port=self.tls_port,
                uid=NOBODY,
                ssl="yes" if tls else "no",
                ssl_files=ssl_files,
            )
        )

    # --- users and messages -------------------------------------------------------

    def add_user(self, name: str, password: str) -> None:
        self.users[name] = password
        lines = "".join(f"{u}:{{PLAIN}}{p}\n" for u, p in self.users.items())
        (self.dir / "users").write_text(lines)
        for sub in ("cur", "new", "tmp"):
            (self.maildir(name) / sub).mkdir(parents=True, exist_ok=True)
        self._chown()

    def maildir(self, user: str, folder: str = "INBOX") -> Path:
        root = self.dir / "mail" / user / "Maildir"
        return root if folder == "INBOX" else root / f".{folder}"

    def deliver(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        box = self.maildir(user, folder)
        for sub in ("cur", "new", "tmp"):
            (box / sub).mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}.{next(self._names)}.rapport"
        (box / "tmp" / name).write_bytes(raw)
        (box / "tmp" / name).rename(box / "new" / name)
        self._chown()

    def _chown(self) -> None:
        for path in [self.dir / "mail", *(self.dir / "mail").rglob("*")]:
            os.chown(path, NOBODY, NOBODY)

    def forget_uids(self, user: str, folder: str = "INBOX") -> None:
        """Make the server give the folder a new UIDVALIDITY (stop it first): its UID list
        and indexes go, as when a mail server is restored or migrated."""
        box = self.maildir(user, folder)
        for path in box.glob("dovecot*"):
            if path.is_file():
                path.unlink()

    # --- the process ----------------------------------------------------------------

    def start(self) -> None:
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.dir / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("Dovecot did not start: " + self.log())

    def stop(self) -> None:
        if self.process is None:
            return
        # The imap, log and stats children outlive the master (and keep serving an open
        # connection): a stopped server is stopped for every client.
        children = _children(self.process.pid)
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process = None
        # Its login and imap children leave with it; wait until the port is free.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    time.sleep(0.05)
            except OSError:
                return

    def log(self) -> str:
        path = self.dir / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def dovecot_or_skip(tls: bool = False) -> Dovecot:
    if not os.path.exists(DOVECOT):
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    if os.geteuid() != 0:
        pytest.skip("Dovecot's test server runs as root (it switches to nobody for mail)")
    return Dovecot(tls=tls)


@pytest.fixture
def dovecot(settings):
    """A running Dovecot on a free loopback port; the outbound guard lets loopback
    through by its setting only."""
    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = True
    server = dovecot_or_skip()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def dovecot_tls(settings):
    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = True
    server = dovecot_or_skip(tls=True)
    server.start()
    yield server
    server.cleanup()
