"""A private Dovecot IMAP server (RECIPES.md, "Mail, calendar and address-book servers in
tests"): its binary run as root in a private folder on a free loopback port, users with
plain passwords, Maildirs written directly; started, stopped and started again.

Used by the tests' fixtures (tests/connections/conftest.py) and `manage.py
bench_mail_sync`. Needs Debian's dovecot-imapd and root (mail is served as nobody).
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
        self.deliver_many(user, [raw], folder)

    def deliver_many(self, user: str, raws: list[bytes], folder: str = "INBOX") -> None:
        """Write messages into the Maildir as a delivery agent does (tmp/, then new/)."""
        box = self.maildir(user, folder)
        for sub in ("cur", "new", "tmp"):
            (box / sub).mkdir(parents=True, exist_ok=True)
        for raw in raws:
            name = f"{time.time_ns()}.{next(self._names)}.rapport"
            (box / "tmp" / name).write_bytes(raw)
            (box / "tmp" / name).rename(box / "new" / name)
            os.chown(box / "new" / name, NOBODY, NOBODY)
        self._chown()

    def _chown(self) -> None:
        """The mail folders (not every message again) belong to the mail user."""
        root = self.dir / "mail"
        paths = [root, *(p for p in root.rglob("*") if p.is_dir())]
        for path in paths:
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
