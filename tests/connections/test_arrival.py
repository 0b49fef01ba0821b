"""The arrival of synced mail: privacy filters, content levels, matching, the review
queue and one interaction per message across mailboxes, uploads and the API."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from connections.arrival import record_arrival
from connections.mail import mail_record
from connections.models import ConnectedAccount, SuggestedStakeholder, SyncedItem
from connections.services import suggestion_accept, suggestion_ignore, suggestion_merge
from relations.models import Interaction, Stakeholder
from tests.connections.mailgen import message
from tests.factories import OrganizationFactory, StakeholderFactory
from tests.realdata import read_realdata, realdata_files

pytestmark = pytest.mark.django_db

LISTS = [
    "evolution_partial_encoded_word_many_cc.eml",
    "exchange_online_folded_message_id.eml",
    "gmail_utf8_b_chinese_name.eml",
    "outlook_via_mailing_list_gb2312.eml",
    "lkml_dutch_latin1_encoded_word.eml",  # 2005: X-Mailing-List, no List-Id
]


def mailbox(owner, **fields) -> ConnectedAccount:
    values = {
        "kind": ConnectedAccount.Kind.IMAP,
        "label": "Work mail",
        "host": "imap.example.org",
        "username": owner.email,
        "secret": "app-password-1",
    }
    values.update(fields)
    return ConnectedAccount.objects.create(owner=owner, **values)


def arrive(account, raw: bytes, remote_id: str = "INBOX/1/1"):
    return record_arrival(account, mail_record(raw), remote_id=remote_id)


def test_real_reply_matches_its_stakeholder_private_metadata_only(manager):
    adam = StakeholderFactory(name="Adam Renberg", email="adam@tictail.com", owner=manager)
    account = mailbox(manager, username="tgwizard@gmail.com")
    interaction = arrive(account, read_realdata("email", "apple_mail_osx_reply.eml"))
    assert interaction is not None
    assert list(interaction.stakeholders.all()) == [adam]
    assert list(interaction.internal_participants.all()) == [manager]
    assert interaction.private and interaction.kind == "email" and interaction.source == "email"
    assert interaction.external_id == "68001B29-8EA4-444C-A894-0537D2CA5208@tictail.com"
    # Metadata by default: who wrote to whom, no word of the body.
    assert "From: Adam Renberg <adam@tictail.com>" in interaction.notes
    body = mail_record(read_realdata("email", "apple_mail_osx_reply.eml"))["notes"]
    assert body and body[:40] not in interaction.notes
    # The owner's own address is no suggestion.
    assert not SuggestedStakeholder.objects.exists()


@pytest.mark.parametrize("name", LISTS)
def test_real_mailing_list_mail_is_never_logged(manager, name):
    raw = read_realdata("email", name)
    record = mail_record(raw)
    assert record["mailing_list"]
    # Even with every person in it a known stakeholder.
    for address in record["addresses"]:
        StakeholderFactory(email=address["email"], owner=manager)
    account = mailbox(manager)
    assert arrive(account, raw) is None
    assert not Interaction.objects.exists()
    assert not SyncedItem.objects.exists()
    assert not SuggestedStakeholder.objects.exists()


@pytest.mark.parametrize("name", realdata_files("email", ".eml"))
def test_every_real_message_reads_without_error(manager, name):
    record = mail_record(read_realdata("email", name))
    assert record["external_id"] and record["occurred_at"]
    assert all(a["role"] in {"from", "to", "cc", ""} for a in record["addresses"])


def test_more_recipients_than_the_limit_is_a_circular(manager, settings, stakeholder):
    settings.RAPPORT_CONNECTIONS_MAX_RECIPIENTS = 15
    account = mailbox(manager)
    others = [f"p{i}@firm.example" for i in range(14)]
    fifteen = message(sender=stakeholder.email, to=[manager.email, *others], message_id="<a@x>")
    sixteen = message(
        sender=stakeholder.email, to=[manager.email, *others, "x@firm.example"], message_id="<b@x>"
    )
    assert arrive(account, fifteen, "INBOX/1/1") is not None
    assert arrive(account, sixteen, "INBOX/1/2") is None
    assert Interaction.objects.count() == 1


def test_mail_among_staff_only_is_never_logged(manager, other_manager, director):
    account = mailbox(manager)
    raw = message(sender=manager.email, to=[other_manager.email], cc=[director.email])
    assert arrive(account, raw) is None
    assert not Interaction.objects.exists() and not SyncedItem.objects.exists()
    assert not SuggestedStakeholder.objects.exists()


def test_excluded_addresses_are_never_logged(manager, stakeholder):
    account = mailbox(manager, exclude_addresses="Doctor@Clinic.example\n\n")
    raw = message(sender="doctor@clinic.example", to=[manager.email], cc=[stakeholder.email])
    assert arrive(account, raw) is None
    assert not Interaction.objects.exists()
    assert not SuggestedStakeholder.objects.filter(email="doctor@clinic.example").exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("metadata", "From: sam@example.org\nTo: maria@rapport.test"),
        ("subject", ""),
        ("full", "Thanks for the meeting; the figures follow next week."),
    ],
)
def test_content_level(manager, content, expected):
    StakeholderFactory(email="sam@example.org", owner=manager)
    account = mailbox(manager, content=content)
    interaction = arrive(account, message(sender="sam@example.org", to=[manager.email]))
    assert interaction.subject == "Next steps"
    assert interaction.notes.strip() == expected
    if content != "full":
        assert "figures" not in interaction.notes


def test_every_address_of_a_stakeholder_matches(manager):
    sam = StakeholderFactory(name="Sam Smit", email="sam@firm.example", owner=manager)
    other = "sam.smit@private.example"
    sam.other_addresses.create(email=other, email_key=other)
    account = mailbox(manager)
    interaction = arrive(account, message(sender="Sam.Smit@Private.example", to=[manager.email]))
    assert list(interaction.stakeholders.all()) == [sam]


def test_unknown_people_wait_in_the_review_queue_then_accepting_logs_their_mail(manager):
    account = mailbox(manager)
    first = message(sender="Ulla Unknown <ulla@newco.example>", to=[manager.email])
    second = message(
        sender="ulla@newco.example", to=[manager.email], message_id="<m2@x>", subject="Again"
    )
    assert arrive(account, first, "INBOX/1/1") is None
    assert arrive(account, second, "INBOX/1/2") is None
    assert arrive(account, second, "INBOX/1/2") is None  # seen before: not counted again
    suggestion = SuggestedStakeholder.objects.get()
    assert (suggestion.email, suggestion.name, suggestion.organisation_name) == (
        "ulla@newco.example",
        "Ulla Unknown",
        "Newco",
    )
    assert (suggestion.message_count, suggestion.meeting_count) == (2, 0)
    assert not Interaction.objects.exists()
    assert not Stakeholder.objects.exists()  # nobody created silently

    ulla = suggestion_accept(suggestion, by=manager)
    assert ulla.email == "ulla@newco.example" and ulla.owner == manager
    logged = Interaction.objects.order_by("subject")
    assert [i.subject for i in logged] == ["Again", "Next steps"]
    assert all(list(i.stakeholders.all()) == [ulla] for i in logged)
    assert SyncedItem.objects.filter(interaction__isnull=True).count() == 0
    # Mail arriving after that is matched at once.
    third = message(sender="ulla@newco.example", to=[manager.email], message_id="<m3@x>")
    assert arrive(account, third, "INBOX/1/3") is not None


def test_ignoring_keeps_the_mail_out(manager):
    account = mailbox(manager)
    arrive(account, message(sender="spam@sales.example", to=[manager.email]))
    suggestion_ignore(SuggestedStakeholder.objects.get(), by=manager)
    again = message(sender="spam@sales.example", to=[manager.email], message_id="<2@x>")
    arrive(account, again, "INBOX/1/2")
    suggestion = SuggestedStakeholder.objects.get()
    assert suggestion.status == "ignored" and suggestion.message_count == 2
    assert not Interaction.objects.exists()


def test_same_name_and_organisation_is_offered_as_a_merge(manager):
    acme = OrganizationFactory(name="Acme")
    anna = StakeholderFactory(
        name="Anna de Vries", email="anna@acme-old.example", organization=acme, owner=manager
    )
    StakeholderFactory(name="Anna de Vries", email="anna@elsewhere.example", owner=manager)
    account = mailbox(manager)
    arrive(account, message(sender="Anna de Vries <anna.devries@acme.com>", to=[manager.email]))
    suggestion = SuggestedStakeholder.objects.get()
    assert suggestion.possible_match == anna
    kept = suggestion_merge(suggestion, by=manager)
    assert kept == anna
    assert Interaction.objects.get().stakeholders.get() == anna
    later = message(sender="anna.devries@acme.com", to=[manager.email], message_id="<9@x>")
    assert list(arrive(account, later, "INBOX/1/9").stakeholders.all()) == [anna]
    assert Stakeholder.objects.count() == 2


def test_same_message_in_two_mailboxes_is_one_interaction_with_both(
    manager, other_manager, stakeholder
):
    raw = message(sender=stakeholder.email, to=[manager.email, other_manager.email])
    mine, theirs = mailbox(manager), mailbox(other_manager)
    first = arrive(mine, raw, "INBOX/7/1")
    second = arrive(theirs, raw, "INBOX/3/44")
    assert first == second and Interaction.objects.count() == 1
    assert set(first.internal_participants.all()) == {manager, other_manager}
    assert SyncedItem.objects.filter(interaction=first).count() == 2


def test_mailbox_after_an_upload_and_the_api_is_one_interaction(
    manager, other_manager, director, stakeholder, client_for, api_for
):
    raw = message(sender=stakeholder.email, to=[manager.email], message_id="<up@x>")
    upload = SimpleUploadedFile("m.eml", raw, content_type="message/rfc822")
    client_for(other_manager).post("/capture/", {"file": upload})
    assert Interaction.objects.count() == 1
    interaction = arrive(mailbox(manager), raw)
    assert Interaction.objects.count() == 1
    assert set(interaction.internal_participants.all()) == {manager, other_manager}
    # The API after both: still one, the caller joins.
    api = api_for(director)
    answer = api.generic("POST", "/api/v1/capture/email/", raw, content_type="message/rfc822")
    assert answer.status_code == 200, answer.content
    assert Interaction.objects.count() == 1
    assert set(Interaction.objects.get().internal_participants.all()) == {
        manager,
        other_manager,
        director,
    }


def test_uidvalidity_change_same_message_new_remote_id_adds_nothing(manager, stakeholder):
    account = mailbox(manager)
    raw = message(sender=stakeholder.email, to=[manager.email])
    arrive(account, raw, "INBOX/1/5")
    arrive(account, raw, "INBOX/2/1")
    assert Interaction.objects.count() == 1
    assert SyncedItem.objects.count() == 1


def test_erasure_scrubs_the_review_queue_and_waiting_mail(manager, director):
    from relations.privacy.services import stakeholder_erase

    account = mailbox(manager)
    raw = message(sender="Ulla Unknown <ulla@newco.example>", to=[manager.email])
    arrive(account, raw)
    ulla = suggestion_accept(SuggestedStakeholder.objects.get(), by=manager)
    other = message(
        sender="ulla@newco.example", to=[manager.email], cc=["x@elsewhere.example"],
        message_id="<w@x>",
    )  # fmt: skip
    arrive(account, other, "INBOX/1/2")
    stakeholder_erase(ulla, by=director, reason="Asked to be forgotten")
    texts = [
        repr(list(model.objects.values()))
        for model in (SuggestedStakeholder, SyncedItem, Interaction)
    ]
    assert not any("ulla@newco.example" in text for text in texts)
