"""What a sync can end with: its counts, or why it failed (in words for the account's owner)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SyncResult:
    added: int = 0
    updated: int = 0
    removed: int = 0
    suggested: int = 0

    def __iadd__(self, other: SyncResult) -> SyncResult:
        self.added += other.added
        self.updated += other.updated
        self.removed += other.removed
        self.suggested += other.suggested
        return self


class SyncError(Exception):
    """A sync failed for a reason that may pass (a timeout, a server error): it is
    retried with back-off. The message is shown to the owner: plain words, no secret."""


class AuthenticationFailed(SyncError):
    """The server refused the user name or password: no retry until the owner edits it."""


class ServerUnreachable(SyncError):
    """The server cannot be reached or refused (no such host, a private address, TLS
    failure, connection refused): no retry until the owner edits the account."""
