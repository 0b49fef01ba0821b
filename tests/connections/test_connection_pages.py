"""The connections page, its forms, the review queue and the API: own accounts only,
the password never shown again."""

from __future__ import annotations

import pytest

from connections.models import ConnectedAccount, SuggestedStakeholder
from relations.models import Interaction, Stakeholder

pytestmark = pytest.mark.django_db

PASSWORD = "Tr0ub4dor-app-pw"


@pytest.fixture
def loopback(settings):
    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = True


def mailbox(owner, **fields):
    values = {
        "kind": "imap",
        "label": "Work mail",
        "host": "127.0.0.1",
        "port": 1,
        "security": "none",
        "username": "maria",
        "secret": PASSWORD,
    }
    values.update(fields)
    return ConnectedAccount.objects.create(owner=owner, **values)


def test_add_edit_remove_a_mailbox_in_the_browser(
    loopback, client_for, manager, django_capture_on_commit_callbacks
):
    client = client_for(manager)
    page = client.get("/settings/connections/")
    assert page.status_code == 200 and b"Connect a mailbox" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            "/settings/connections/add/imap/",
            {
                "label": "Work mail",
                "host": "127.0.0.1",
                "port": "1",
                "security": "none",
                "username": "maria",
                "secret": PASSWORD,
                "folders": "INBOX\nSent",
                "content": "metadata",
                "exclude_addresses": "",
                "sync_interval_minutes": "5",
            },
        )
    assert answer.status_code == 302, answer.content
    account = ConnectedAccount.objects.get()
    assert account.owner == manager and account.secret == PASSWORD
    assert account.folders == ["INBOX", "Sent"]
    # Its first sync ran (no broker: in process) and failed in plain words.
    listing = client.get("/settings/connections/").content.decode()
    assert "Needs your attention" in listing and "Could not reach 127.0.0.1:1" in listing
    edit = client.get(f"/settings/connections/{account.pk}/edit/").content.decode()
    assert PASSWORD not in edit
    changed = client.post(
        f"/settings/connections/{account.pk}/edit/",
        {
            "label": "Mail",
            "host": "127.0.0.1",
            "port": "1",
            "security": "none",
            "username": "maria",
            "secret": "",
            "folders": "INBOX",
            "content": "subject",
            "exclude_addresses": "",
            "sync_interval_minutes": "10",
        },
    )
    assert changed.status_code == 302, changed.content
    account.refresh_from_db()
    assert account.label == "Mail" and account.secret == PASSWORD  # blank kept it
    remove = client.get(f"/settings/connections/{account.pk}/remove/").content.decode()
    assert "Keep the interactions it captured" in remove
    assert (
        client.post(f"/settings/connections/{account.pk}/remove/", {"captured": "keep"}).status_code
        == 302
    )
    assert not ConnectedAccount.objects.exists()


def test_bad_input_is_a_form_error(client_for, manager):
    answer = client_for(manager).post(
        "/settings/connections/add/imap/",
        {"label": "", "host": "127.0.0.1", "security": "none", "username": "m", "secret": "x",
         "folders": "INBOX", "content": "metadata", "sync_interval_minutes": "0"},
    )  # fmt: skip
    assert answer.status_code == 200
    form = answer.context["form"]
    assert {"label", "host", "sync_interval_minutes"} <= set(form.errors)
    assert "private or local address" in str(form.errors["host"])


def test_others_accounts_are_not_found(client_for, api_for, manager, director):
    account = mailbox(manager)
    for path in ("edit", "remove"):
        assert (
            client_for(director).get(f"/settings/connections/{account.pk}/{path}/").status_code
            == 404
        )
    assert client_for(director).post(f"/settings/connections/{account.pk}/sync/").status_code == 404
    api = api_for(director)
    assert api.get("/api/v1/connections/").json()["count"] == 0
    assert api.get(f"/api/v1/connections/{account.pk}/").status_code == 404
    assert api.post(f"/api/v1/connections/{account.pk}/sync/").status_code == 404


def test_api_crud_secret_write_only(loopback, api_for, manager, django_capture_on_commit_callbacks):
    api = api_for(manager)
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(
        "/api/v1/connections/",
        {"kind": "imap", "label": "Mail", "host": "127.0.0.1", "port": 1, "security": "none",
         "username": "maria", "secret": PASSWORD},
    )  # fmt: skip
    assert created.status_code == 201, created.content
    assert PASSWORD not in created.content.decode() and "secret" not in created.json()
    pk = created.json()["id"]
    assert created.json()["folders"] == ["INBOX", "Sent"]
    assert api.patch(f"/api/v1/connections/{pk}/", {"label": "Mine"}).status_code == 200
    assert ConnectedAccount.objects.get().secret == PASSWORD
    listing = api.get("/api/v1/connections/")
    assert PASSWORD not in listing.content.decode()
    assert listing.json()["results"][0]["status"] == "needs_attention"
    assert api.post(f"/api/v1/connections/{pk}/sync/").status_code == 202
    missing = api.post("/api/v1/connections/", {"kind": "imap", "label": "x", "username": "u"})
    assert missing.status_code == 400 and {"host", "secret"} <= set(missing.json())
    assert api.delete(f"/api/v1/connections/{pk}/?delete_captured=maybe").status_code == 400
    assert api.delete(f"/api/v1/connections/{pk}/").status_code == 204


def test_review_queue_page_and_api(client_for, api_for, manager):
    from connections.arrival import record_arrival
    from connections.mail import mail_record
    from tests.connections.mailgen import message

    account = mailbox(manager)
    record_arrival(
        account, mail_record(message(sender="Ulla <ulla@newco.example>", to=[manager.email])),
        remote_id="INBOX/1/1",
    )  # fmt: skip
    record_arrival(
        account, mail_record(message(sender="v@other.example", to=[manager.email],
                                     message_id="<2@x>")),
        remote_id="INBOX/1/2",
    )  # fmt: skip
    client = client_for(manager)
    assert b"2 people waiting for review" in client.get("/settings/connections/").content
    page = client.get("/settings/connections/review/").content.decode()
    assert "Ulla" in page and "1 message" in page
    ulla = SuggestedStakeholder.objects.get(email="ulla@newco.example")
    answer = client.post(f"/settings/connections/review/{ulla.pk}/accept/")
    assert answer.status_code == 302
    assert Stakeholder.objects.get().email == "ulla@newco.example"
    assert Interaction.objects.count() == 1
    api = api_for(manager)
    listing = api.get("/api/v1/suggested-stakeholders/?status=pending").json()
    assert [s["email"] for s in listing["results"]] == ["v@other.example"]
    other = listing["results"][0]["id"]
    assert api.post(f"/api/v1/suggested-stakeholders/{other}/merge/").status_code == 400
    assert api.post(f"/api/v1/suggested-stakeholders/{other}/ignore/").status_code == 204
    assert SuggestedStakeholder.objects.get(pk=other).status == "ignored"


def test_removing_with_delete_deletes_only_what_it_alone_captured(
    manager, other_manager, stakeholder
):
    from connections.arrival import record_arrival
    from connections.mail import mail_record
    from connections.services import account_remove
    from tests.connections.mailgen import message

    mine, theirs = mailbox(manager), mailbox(other_manager)
    shared = mail_record(message(sender=stakeholder.email, to=[manager.email, other_manager.email]))
    alone = mail_record(message(sender=stakeholder.email, to=[manager.email], message_id="<a@x>"))
    record_arrival(mine, shared, remote_id="INBOX/1/1")
    record_arrival(theirs, shared, remote_id="INBOX/1/1")
    record_arrival(mine, alone, remote_id="INBOX/1/2")
    assert account_remove(mine, by=manager, delete_captured=True) == 1
    assert list(Interaction.objects.values_list("external_id", flat=True)) == [
        "m1@mail.example.org"
    ]


def test_header_links_the_page(client_for, manager):
    assert b'href="/settings/connections/"' in client_for(manager).get("/").content


def test_list_query_count_is_bounded(client_for, manager, django_assert_max_num_queries):
    for n in range(12):
        mailbox(manager, label=f"Box {n}")
    client = client_for(manager)
    client.get("/settings/connections/")
    with django_assert_max_num_queries(15):
        assert client.get("/settings/connections/").status_code == 200
