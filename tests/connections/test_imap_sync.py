"""Syncing a real Dovecot mailbox: matching, the review queue, nothing twice, privacy,
faults (wrong password, a server stopped mid-sync, a changed UIDVALIDITY)."""

from __future__ import annotations

import pytest

from connections.models import ConnectedAccount, SuggestedStakeholder, SyncedItem
from connections.services import sync_account
from relations.models import Interaction
from tests.connections.mailgen import message
from tests.factories import StakeholderFactory

pytestmark = pytest.mark.django_db


def imap_account(owner, server, user="maria", password="s3cret-app-pw", **fields):
    values = {
        "kind": ConnectedAccount.Kind.IMAP,
        "label": "Work mail",
        "host": server.host,
        "port": server.port,
        "security": ConnectedAccount.Security.NONE,
        "username": user,
        "secret": password,
    }
    values.update(fields)
    return ConnectedAccount.objects.create(owner=owner, **values)


def test_first_sync_matches_and_queues_then_second_adds_nothing(dovecot, manager, stakeholder):
    dovecot.add_user("maria", "s3cret-app-pw")
    dovecot.deliver("maria", message(sender=stakeholder.email, to=[manager.email]))
    dovecot.deliver(
        "maria",
        message(sender="New Person <new@prospect.example>", to=[manager.email], message_id="<2@x>"),
    )
    account = imap_account(manager, dovecot)
    result = sync_account(account)
    assert (result.added, result.suggested) == (1, 1)
    account.refresh_from_db()
    assert account.status == "active" and account.last_synced_at is not None
    assert (account.progress_done, account.progress_total) == (2, 2)
    assert Interaction.objects.get().stakeholders.get() == stakeholder
    assert SuggestedStakeholder.objects.get().email == "new@prospect.example"
    again = sync_account(account)
    assert (again.added, again.updated, again.suggested) == (0, 0, 0)
    assert Interaction.objects.count() == 1 and SyncedItem.objects.count() == 2


def test_real_messages_in_a_real_mailbox(dovecot, manager):
    """Real messages from real mail programs: the one-to-one ones are logged (with
    their known people), the mailing-list ones never (even one naming a known person)."""
    from tests.realdata import read_realdata

    adam = StakeholderFactory(name="Adam Renberg", email="adam@tictail.com", owner=manager)
    daniel = StakeholderFactory(email="daniel@deadlock.et.tudelft.nl", owner=manager)  # lkml
    krzk = StakeholderFactory(email="krzk@kernel.org", owner=manager)  # only in list mail
    dovecot.add_user("maria", "pw-real")
    names = [
        "apple_mail_osx_reply.eml",
        "lkml_dutch_latin1_encoded_word.eml",
        "iphone_mail_qp.eml",
        "evolution_partial_encoded_word_many_cc.eml",
        "gmail_utf8_b_chinese_name.eml",
        "outlook_via_mailing_list_gb2312.eml",
        "exchange_online_folded_message_id.eml",
    ]
    for name in names:
        dovecot.deliver("maria", read_realdata("email", name))
    account = imap_account(manager, dovecot, password="pw-real", username="maria")
    result = sync_account(account)
    assert result.added == 1
    assert Interaction.objects.get().stakeholders.get() == adam
    assert not Interaction.objects.filter(stakeholders__in=[daniel, krzk]).exists()
    assert not SuggestedStakeholder.objects.filter(email__endswith="kernel.org").exists()
    # iphone_mail_qp: xxx@gmail.com to bob@example.com, nobody known: both wait for review.
    assert set(SuggestedStakeholder.objects.values_list("email", flat=True)) >= {
        "bob@example.com",
        "xxx@gmail.com",
    }


def test_staff_only_and_list_mail_in_a_real_mailbox_is_never_logged(
    dovecot, manager, other_manager, stakeholder
):
    dovecot.add_user("maria", "pw")
    dovecot.deliver("maria", message(sender=other_manager.email, to=[manager.email]))
    dovecot.deliver(
        "maria",
        message(
            sender=stakeholder.email,
            to=[manager.email],
            message_id="<list@x>",
            headers={"List-Id": "<partners.lists.example.org>"},
        ),
    )
    account = imap_account(manager, dovecot, password="pw")
    sync_account(account)
    assert not Interaction.objects.exists()
    assert not SyncedItem.objects.exists()
    assert not SuggestedStakeholder.objects.exists()


def test_sent_folder_and_full_text(dovecot, manager, stakeholder):
    dovecot.add_user("maria", "pw")
    dovecot.deliver(
        "maria",
        message(sender=manager.email, to=[stakeholder.email], body="Our offer: 12 k."),
        folder="Sent",
    )
    account = imap_account(manager, dovecot, password="pw", content="full")
    assert sync_account(account).added == 1
    assert "Our offer: 12 k." in Interaction.objects.get().notes
    account.refresh_from_db()
    assert set(account.sync_state["folders"]) == {"INBOX", "Sent"}


def test_wrong_password_needs_attention_without_retries(dovecot, manager):
    from connections.services import sync_due

    dovecot.add_user("maria", "right")
    account = imap_account(manager, dovecot, password="wrong")
    sync_account(account)
    account.refresh_from_db()
    assert account.status == "needs_attention"
    assert "refused the user name or password" in account.status_message
    assert account.next_sync_at is None
    assert account.pk not in sync_due()


def test_unreachable_server_needs_attention(dovecot, manager):
    account = imap_account(manager, dovecot)
    dovecot.stop()
    sync_account(account)
    account.refresh_from_db()
    assert account.status == "needs_attention"
    assert f"Could not reach {dovecot.host}:{dovecot.port}" in account.status_message


def test_private_address_refused_without_the_setting(dovecot, manager, settings):
    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = False
    dovecot.add_user("maria", "pw")
    account = imap_account(manager, dovecot, password="pw")
    sync_account(account)
    account.refresh_from_db()
    assert account.status == "needs_attention"
    assert "private or local address" in account.status_message
    assert "Login" not in dovecot.log()  # never connected


def _seed(dovecot, owner, stakeholder, count, start=0):
    for n in range(start, start + count):
        dovecot.deliver(
            "maria",
            message(
                sender=stakeholder.email,
                to=[owner.email],
                subject=f"Update {n}",
                message_id=f"<update-{n}@firm.example>",
            ),
        )


def test_server_stopped_mid_sync_no_duplicate_no_loss_resumes(
    dovecot, manager, stakeholder, settings, monkeypatch
):
    from connections import imap_sync

    settings.RAPPORT_CONNECTIONS_BATCH = 2
    dovecot.add_user("maria", "pw")
    _seed(dovecot, manager, stakeholder, 7)
    account = imap_account(manager, dovecot, password="pw")
    original = imap_sync.record_arrivals
    calls = []

    def stop_after_second_batch(*args, **kwargs):
        recorded = original(*args, **kwargs)
        calls.append(1)
        if len(calls) == 2:
            dovecot.stop()
        return recorded

    monkeypatch.setattr(imap_sync, "record_arrivals", stop_after_second_batch)
    sync_account(account)
    account.refresh_from_db()
    assert account.status == "failing"  # transient: retried with back-off
    assert account.next_sync_at is not None and account.failure_count == 1
    assert account.sync_state["folders"]["INBOX"]["last_uid"] == 4
    assert (account.progress_done, account.progress_total) == (4, 7)
    assert Interaction.objects.count() == 4

    dovecot.start()
    result = sync_account(account)
    account.refresh_from_db()
    assert result.added == 3 and account.status == "active" and account.failure_count == 0
    subjects = sorted(Interaction.objects.values_list("subject", flat=True))
    assert subjects == sorted(f"Update {n}" for n in range(7))


def test_worker_killed_inside_a_batch_repeats_it_without_duplicates(
    dovecot, manager, stakeholder, settings, monkeypatch
):
    from connections import imap_sync

    settings.RAPPORT_CONNECTIONS_BATCH = 3
    dovecot.add_user("maria", "pw")
    _seed(dovecot, manager, stakeholder, 7)
    account = imap_account(manager, dovecot, password="pw")
    original = imap_sync.record_arrivals
    calls = []

    def die_in_second_batch(*args, **kwargs):
        original(*args, **kwargs)  # written, then the process dies before the commit
        calls.append(1)
        if len(calls) == 2:
            raise SystemExit("worker killed")
        return original(*args, **kwargs)

    monkeypatch.setattr(imap_sync, "record_arrivals", die_in_second_batch)
    with pytest.raises(SystemExit):
        imap_sync.sync_imap(account)
    from django.core.cache import cache

    cache.clear()
    assert Interaction.objects.count() == 3  # the second batch rolled back whole
    account.refresh_from_db()
    assert account.sync_state["folders"]["INBOX"]["last_uid"] == 3
    monkeypatch.setattr(imap_sync, "record_arrivals", original)
    assert sync_account(account).added == 4
    assert Interaction.objects.count() == 7 and SyncedItem.objects.count() == 7


def test_uidvalidity_change_reads_the_folder_again_without_duplicates(
    dovecot, manager, stakeholder
):
    dovecot.add_user("maria", "pw")
    _seed(dovecot, manager, stakeholder, 3)
    account = imap_account(manager, dovecot, password="pw")
    sync_account(account)
    account.refresh_from_db()
    before = account.sync_state["folders"]["INBOX"]["uidvalidity"]
    dovecot.stop()
    import time

    time.sleep(1.1)  # Dovecot's UIDVALIDITY is a time stamp
    dovecot.forget_uids("maria")
    _seed(dovecot, manager, stakeholder, 1, start=3)
    dovecot.start()
    result = sync_account(account)
    account.refresh_from_db()
    assert account.sync_state["folders"]["INBOX"]["uidvalidity"] != before
    assert result.added == 1
    assert Interaction.objects.count() == 4
    assert SyncedItem.objects.count() == 4


def test_tls_certificate_is_checked(dovecot_tls, manager, settings):
    dovecot_tls.add_user("maria", "pw")
    dovecot_tls.deliver("maria", message(sender="a@b.example", to=[manager.email]))
    account = imap_account(
        manager,
        dovecot_tls,
        password="pw",
        host="localhost",
        port=dovecot_tls.tls_port,
        security=ConnectedAccount.Security.TLS,
    )
    sync_account(account)
    account.refresh_from_db()
    assert account.status == "needs_attention"
    assert "certificate" in account.status_message
    # Trusting the server's authority, the same account syncs over TLS, and over STARTTLS.
    settings.RAPPORT_CONNECTIONS_CA_FILE = str(dovecot_tls.cert)
    account.status = "active"
    account.save()
    sync_account(account)
    account.refresh_from_db()
    assert account.status == "active", account.status_message
    assert SuggestedStakeholder.objects.get().message_count == 1
    account.security, account.port = ConnectedAccount.Security.STARTTLS, dovecot_tls.port
    account.save()
    sync_account(account)
    account.refresh_from_db()
    assert account.status == "active", account.status_message


def test_no_secret_in_any_column_log_export_api_or_admin(
    dovecot, director, stakeholder, api_for, client_for, caplog, django_capture_on_commit_callbacks
):
    """The password is stored encrypted and appears nowhere: every text of every table,
    every log line (debug included), the exports, the API answers and the admin."""
    import io
    import logging

    from django.core.management import call_command
    from django.db import connection

    from tests.factories import UserFactory

    caplog.set_level(logging.DEBUG)
    secret, wrong = "Hunter2-very-secret-pw", "Wrong-but-secret-pw"
    dovecot.add_user("dana", secret)
    dovecot.deliver("dana", message(sender=stakeholder.email, to=[director.email]))
    api = api_for(director)
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(
            "/api/v1/connections/",
            {"kind": "imap", "label": "Dana", "host": dovecot.host, "port": dovecot.port,
             "security": "none", "username": "dana", "secret": wrong},
        )  # fmt: skip
    pk = created.json()["id"]
    assert ConnectedAccount.objects.get().status == "needs_attention"
    with django_capture_on_commit_callbacks(execute=True):
        fixed = api.patch(f"/api/v1/connections/{pk}/", {"secret": secret})
    assert fixed.status_code == 200
    account = ConnectedAccount.objects.get()
    assert account.status == "active" and Interaction.objects.count() == 1

    answers = [
        created.content,
        fixed.content,
        api.get("/api/v1/connections/").content,
        api.get(f"/api/v1/connections/{pk}/").content,
        api.post(f"/api/v1/connections/{pk}/sync/").content,
        api.get(f"/api/v1/stakeholders/{stakeholder.pk}/export/").content,
        api.get("/api/v1/interactions/").content,
    ]
    browser = client_for(director)

    def body(response):
        assert response.status_code == 200, response
        if response.streaming:
            return b"".join(response.streaming_content)
        return response.content

    answers += [
        body(browser.get(path))
        for path in (
            "/settings/connections/",
            f"/settings/connections/{pk}/edit/",
            f"/stakeholders/{stakeholder.pk}/export.json",
            "/stakeholders/export.csv",
            "/audit/",
        )
    ]
    admin = client_for(UserFactory(username="root", is_superuser=True, is_staff=True))
    answers += [
        admin.get("/admin/connections/connectedaccount/").content,
        admin.get(f"/admin/connections/connectedaccount/{pk}/change/").content,
    ]
    dump = io.StringIO()
    call_command("dumpdata", "connections", stdout=dump)
    answers.append(dump.getvalue().encode())
    for answer in answers:
        assert secret.encode() not in answer and wrong.encode() not in answer

    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (our own table names)
            text = repr(cursor.fetchall())
            assert secret not in text and wrong not in text, table
    with connection.cursor() as cursor:  # the column holds a Fernet token
        cursor.execute("SELECT secret FROM connections_connectedaccount")
        assert cursor.fetchone()[0].startswith("gAAAAA")
    assert secret not in caplog.text and wrong not in caplog.text


def test_beat_queues_due_accounts_once_and_backs_off(
    dovecot, manager, stakeholder, settings, time_machine
):
    from datetime import timedelta

    from django.utils import timezone

    from connections import tasks
    from connections.services import backoff

    assert settings.CELERY_BEAT_SCHEDULE["connections-sync-due"]["schedule"] == 60.0
    dovecot.add_user("maria", "pw")
    dovecot.deliver("maria", message(sender=stakeholder.email, to=[manager.email]))
    account = imap_account(manager, dovecot, password="pw")
    paused = imap_account(manager, dovecot, password="pw", status="paused", label="Paused")
    assert tasks.sync_due() == 1  # in process without a broker: synced now
    account.refresh_from_db()
    assert account.status == "active" and Interaction.objects.count() == 1
    assert account.next_sync_at - account.last_synced_at == timedelta(minutes=5)
    assert tasks.sync_due() == 0  # not due again for five minutes
    paused.refresh_from_db()
    assert paused.last_synced_at is None
    time_machine.move_to(timezone.now() + timedelta(minutes=6), tick=False)
    assert tasks.sync_due() == 1  # due again: synced, nothing new
    assert Interaction.objects.count() == 1
    # A transient failure (lost connection) backs off exponentially, at most six hours.
    account.failure_count = 3
    assert backoff(account) == timedelta(minutes=40)
    account.failure_count = 30
    assert backoff(account) == timedelta(hours=6)
