"""`manage.py bench_mail_sync`: the first sync of a 10,000-message mailbox, then an
incremental sync of 10 new messages, against a real Dovecot (demo.bench.mailserver,
started as the tests start it: Debian's dovecot-imapd, as root).

The mailbox is real-shaped: a third of the messages with known stakeholders, a third
with people nobody knows yet (the review queue), the rest kept out by the privacy
filters (colleagues only, mailing lists, circulars to many). Everything the benchmark
writes is rolled back at the end: the database is left as it was. Prints the figures
(docs/benchmarks.md is edited by hand).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from connections.models import ConnectedAccount, SuggestedStakeholder, SyncedItem
from connections.services import sync_account
from demo.bench.mailserver import DOVECOT, Dovecot
from relations.models import Interaction, Organization, Stakeholder
from relations.roles import MANAGER


class Rollback(Exception):
    pass


def _message(n: int, sender: str, to: list[str], headers: dict | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = f"Benchmark message {n}"
    msg["Date"] = format_datetime(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n))
    msg["Message-ID"] = f"<bench-{n}@mail.example.org>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(f"Body of message {n}, never stored at the metadata level.\n" * 5)
    return bytes(msg)


class Command(BaseCommand):
    help = "Time the first and an incremental IMAP sync against a real Dovecot."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--messages", type=int, default=10_000)
        parser.add_argument("--new", type=int, default=10)

    def handle(self, *args, messages: int, new: int, **options) -> None:
        import os

        from django.contrib.auth.models import Group, User

        if not os.path.exists(DOVECOT) or os.geteuid() != 0:
            raise CommandError("Needs Dovecot (apt-get install dovecot-imapd) and root.")
        settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = True
        server = Dovecot()
        figures: dict[str, float] = {}
        try:
            server.add_user("bench", "bench-pw")
            try:
                with transaction.atomic():
                    owner = User.objects.create(username="bench-mail", email="bench@ours.example")
                    owner.groups.add(Group.objects.get_or_create(name=MANAGER)[0])
                    colleague = User.objects.create(
                        username="bench-colleague", email="colleague@ours.example"
                    )
                    colleague.groups.add(Group.objects.get_or_create(name=MANAGER)[0])
                    org = Organization.objects.create(name="Bench Partners")
                    known = [
                        Stakeholder.objects.create(
                            name=f"Known {i}",
                            email=f"known{i}@partner.example",
                            organization=org,
                            owner=owner,
                        )
                        for i in range(200)
                    ]
                    raws = []
                    for n in range(messages):
                        kind = n % 10
                        if kind < 4:
                            raws.append(_message(n, known[n % 200].email, [owner.email]))
                        elif kind < 7:
                            raws.append(
                                _message(
                                    n, f"person{n % 1000}@prospect{n % 50}.example", [owner.email]
                                )
                            )
                        elif kind == 7:
                            raws.append(_message(n, colleague.email, [owner.email]))
                        elif kind == 8:
                            raws.append(
                                _message(
                                    n,
                                    known[n % 200].email,
                                    [owner.email],
                                    {"List-Id": "<news.partner.example>"},
                                )
                            )
                        else:
                            many = [f"r{i}@circular.example" for i in range(20)]
                            raws.append(_message(n, known[n % 200].email, [owner.email, *many]))
                    started = time.perf_counter()
                    server.deliver_many("bench", raws)
                    figures["seed_seconds"] = time.perf_counter() - started
                    server.start()
                    account = ConnectedAccount.objects.create(
                        owner=owner,
                        kind="imap",
                        label="Bench",
                        host=server.host,
                        port=server.port,
                        security="none",
                        username="bench",
                        secret="bench-pw",
                        folders=["INBOX"],
                    )
                    started = time.perf_counter()
                    first = sync_account(account)
                    figures["first_sync_seconds"] = time.perf_counter() - started
                    account.refresh_from_db()
                    if account.status != "active":
                        raise CommandError(f"first sync failed: {account.status_message}")
                    figures["first_added"] = first.added
                    figures["interactions"] = Interaction.objects.filter(
                        internal_participants=owner
                    ).count()
                    figures["suggestions"] = SuggestedStakeholder.objects.filter(
                        owner=owner
                    ).count()
                    figures["synced_items"] = SyncedItem.objects.filter(account=account).count()
                    server.deliver_many(
                        "bench",
                        [_message(messages + i, known[i].email, [owner.email]) for i in range(new)],
                    )
                    started = time.perf_counter()
                    second = sync_account(account)
                    figures["incremental_sync_seconds"] = time.perf_counter() - started
                    figures["incremental_added"] = second.added
                    raise Rollback
            except Rollback:
                pass
        finally:
            server.cleanup()
        database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        self.stdout.write(
            f"bench_mail_sync on {database}: {messages:,} messages seeded in "
            f"{figures['seed_seconds']:.1f} s\n"
            f"  first sync: {figures['first_sync_seconds']:.1f} s "
            f"({messages / figures['first_sync_seconds']:.0f} messages/s), "
            f"{figures['first_added']:,} interactions, {figures['suggestions']:,} suggestions, "
            f"{figures['synced_items']:,} items kept\n"
            f"  incremental sync of {new} new messages: "
            f"{figures['incremental_sync_seconds']:.2f} s, {figures['incremental_added']} added"
        )
