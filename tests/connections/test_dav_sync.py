"""CalDAV and CardDAV sync (connections.dav_sync) against a real Radicale: first sync,
nothing twice, events moved and cancelled, contacts changed and deleted, a wrong
password, a server stopped mid-sync, by sync-token and by the ctag/ETag fallback."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connections import dav, dav_sync
from connections.errors import ServerUnreachable
from connections.models import ConnectedAccount, SuggestedStakeholder, SyncedItem
from connections.services import suggestion_accept, sync_account
from relations.editing.services import stakeholder_update
from relations.importing.parsing import read_vcards
from relations.models import Interaction, Stakeholder
from tests.connections.dav_fixtures import (
    ics,
    radicale_server,  # noqa: F401 (the `radicale` fixture)
    vcf,
)
from tests.factories import OrganizationFactory, StakeholderFactory
from tests.realdata import read_realdata, realdata_files

pytestmark = pytest.mark.django_db

METHODS = pytest.mark.parametrize("etags_only", [False, True], ids=["sync-token", "ctag-etag"])


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = True


def ago(days: float, hour: int = 10) -> str:
    moment = (timezone.now() - timedelta(days=days)).replace(hour=hour, minute=0)
    return moment.strftime("%Y%m%dT%H%M00Z")


def account(owner, server, kind=ConnectedAccount.Kind.CALDAV, *, etags_only=False, **fields):
    values = {
        "kind": kind,
        "label": "Work calendar" if kind == ConnectedAccount.Kind.CALDAV else "Contacts",
        "url": server.base_url + "/",
        "username": "alice",
        "secret": "secret",
        "sync_state": {"etags_only": True} if etags_only else {},
    }
    values.update(fields)
    return ConnectedAccount.objects.create(owner=owner, **values)


def meeting(uid, start, *, summary="Quarterly review", status="", people=()):
    return ics(
        uid,
        start,
        summary=summary,
        organizer=("maria@rapport.test", "Maria Manager"),
        attendees=(("ann@client.example", "Ann Client"), *people),
        status=status,
    )


@pytest.fixture
def ann(manager):
    return StakeholderFactory(name="Ann Client", email="ann@client.example", owner=manager)


# --- Calendars ------------------------------------------------------------------------------


@METHODS
def test_first_sync_logs_past_meetings_matched_and_files_unknown_people(
    radicale, manager, ann, etags_only
):
    radicale.make_calendar("/alice/work/")
    radicale.put(
        "/alice/work/review.ics",
        meeting("review-1", ago(3), people=(("zoe@prospect.example", "Zoe Prospect"),)),
    )
    radicale.put("/alice/work/future.ics", meeting("future-1", ago(-5)))
    radicale.put(
        "/alice/work/staff.ics", ics("staff-1", ago(2), attendees=(("maria@rapport.test", "M"),))
    )
    cal = account(manager, radicale, etags_only=etags_only)

    result = dav_sync.sync_caldav(cal)

    cal.refresh_from_db()
    assert cal.collection_url == radicale.base_url + "/alice/work/"
    assert cal.sync_state["method"] == ("etag" if etags_only else "sync-token")
    assert result.added == 1 and result.suggested == 1
    interaction = Interaction.objects.get()
    assert interaction.subject == "Quarterly review" and interaction.source == "calendar"
    assert interaction.external_id == "review-1" and interaction.private
    assert list(interaction.stakeholders.all()) == [ann]
    assert list(interaction.internal_participants.all()) == [manager]
    zoe = SuggestedStakeholder.objects.get()
    assert (zoe.email, zoe.meeting_count, zoe.status) == ("zoe@prospect.example", 1, "pending")
    assert cal.progress_done == cal.progress_total == 3
    # The meeting that has not happened yet is looked at again when it has.
    assert "/alice/work/future.ics" in cal.sync_state["recheck"]

    again = dav_sync.sync_caldav(cal)
    assert (again.added, again.updated, again.removed, again.suggested) == (0, 0, 0, 0)
    assert Interaction.objects.count() == 1
    assert SuggestedStakeholder.objects.get().meeting_count == 1


@METHODS
def test_an_event_moved_and_one_cancelled_on_the_server(radicale, manager, ann, etags_only):
    radicale.make_calendar("/alice/work/")
    radicale.put("/alice/work/a.ics", meeting("a", ago(4), summary="Kick-off"))
    radicale.put("/alice/work/b.ics", meeting("b", ago(3), summary="Pricing"))
    radicale.put("/alice/work/c.ics", meeting("c", ago(2), summary="Contract"))
    cal = account(manager, radicale, etags_only=etags_only)
    dav_sync.sync_caldav(cal)
    kick_off = Interaction.objects.get(external_id="a")
    assert Interaction.objects.count() == 3

    radicale.put("/alice/work/a.ics", meeting("a", ago(1, hour=14), summary="Kick-off (moved)"))
    radicale.put("/alice/work/b.ics", meeting("b", ago(3), summary="Pricing", status="CANCELLED"))
    radicale.delete("/alice/work/c.ics")
    result = dav_sync.sync_caldav(cal)

    assert (result.updated, result.removed) == (1, 2)
    moved = Interaction.objects.get()
    assert moved.pk == kick_off.pk
    assert moved.subject == "Kick-off (moved)"
    assert moved.occurred_at.strftime("%Y%m%dT%H%M00Z") == ago(1, hour=14)
    assert not SyncedItem.objects.filter(remote_id__contains="b.ics").exists()
    assert not SyncedItem.objects.filter(remote_id__contains="c.ics").exists()


def test_a_meeting_is_logged_once_it_has_happened(radicale, manager, ann, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    radicale.make_calendar("/alice/work/")
    radicale.put("/alice/work/soon.ics", meeting("soon", ago(-2)))
    cal = account(manager, radicale)
    dav_sync.sync_caldav(cal)
    assert not Interaction.objects.exists()

    time_machine.shift(timedelta(days=3))
    result = dav_sync.sync_caldav(cal)
    assert result.added == 1
    assert Interaction.objects.get().external_id == "soon"


def test_a_weekly_meeting_keeps_its_old_occurrences_and_gains_new_ones(
    radicale, manager, ann, settings, time_machine
):
    settings.RAPPORT_CAPTURE_RECURRENCE_DAYS = 30
    time_machine.move_to(timezone.now(), tick=False)
    radicale.make_calendar("/alice/work/")
    radicale.put(
        "/alice/work/weekly.ics",
        ics(
            "weekly-1",
            ago(20),
            summary="Weekly sync",
            attendees=(("ann@client.example", "Ann Client"),),
            extra="RRULE:FREQ=WEEKLY",
        ),
    )
    cal = account(manager, radicale)
    dav_sync.sync_caldav(cal)
    first = set(Interaction.objects.values_list("external_id", flat=True))
    assert len(first) == 3  # 20, 13 and 6 days ago

    # Three weeks on: the first occurrences are outside the parser's window, but they
    # happened; the new ones are logged by the recurring event's daily second look.
    time_machine.shift(timedelta(days=21))
    result = dav_sync.sync_caldav(cal)
    assert result.removed == 0 and result.added == 3
    now = set(Interaction.objects.values_list("external_id", flat=True))
    assert first < now and len(now) == 6


def test_a_moved_occurrence_of_a_weekly_meeting_stays_the_same_interaction(
    radicale, manager, ann, settings, time_machine
):
    settings.RAPPORT_CAPTURE_RECURRENCE_DAYS = 30
    time_machine.move_to(timezone.now(), tick=False)
    radicale.make_calendar("/alice/work/")
    series = ics(
        "weekly-2",
        ago(20),
        summary="Weekly sync",
        attendees=(("ann@client.example", "Ann Client"),),
        extra="RRULE:FREQ=WEEKLY",
    )
    radicale.put("/alice/work/weekly.ics", series)
    cal = account(manager, radicale)
    dav_sync.sync_caldav(cal)
    second = Interaction.objects.order_by("occurred_at")[1]
    second.notes = "Agreed the pilot's scope."  # what the manager added in Rapport
    second.save(update_fields=["notes"])

    # On the server the second meeting moved a day later, to 15:00: an override with
    # the RECURRENCE-ID of the start the series gave it.
    moved = ics(
        "weekly-2",
        ago(12, hour=15),
        summary="Weekly sync (moved)",
        attendees=(("ann@client.example", "Ann Client"),),
        extra=f"RECURRENCE-ID:{ago(13)}",
    ).decode()
    override = moved[moved.index("BEGIN:VEVENT") : moved.index("END:VCALENDAR")]
    text = series.decode()
    radicale.put(
        "/alice/work/weekly.ics", text.replace("END:VCALENDAR", override + "END:VCALENDAR").encode()
    )
    result = dav_sync.sync_caldav(cal)

    assert (result.added, result.removed) == (0, 0)
    assert Interaction.objects.count() == 3
    second.refresh_from_db()
    assert second.subject == "Weekly sync (moved)"
    assert second.occurred_at.strftime("%Y%m%dT%H%M00Z") == ago(12, hour=15)
    assert second.notes == "Agreed the pilot's scope."


def test_a_wrong_password_needs_attention_in_plain_words(radicale, manager):
    radicale.make_calendar("/alice/work/")
    cal = account(manager, radicale, secret="not-the-password")
    sync_account(cal)
    cal.refresh_from_db()
    assert cal.status == ConnectedAccount.Status.NEEDS_ATTENTION
    assert "password" in cal.status_message
    assert "not-the-password" not in cal.status_message
    assert cal.next_sync_at is None


def test_an_address_without_an_address_book_needs_attention(radicale, manager):
    radicale.make_calendar("/alice/work/")
    contacts = book(manager, radicale)
    sync_account(contacts)
    contacts.refresh_from_db()
    assert contacts.status == ConnectedAccount.Status.NEEDS_ATTENTION
    assert contacts.status_message == "The account has no address book yet."

    # Once it has one, "Sync now" puts the account back to work.
    radicale.make_address_book("/alice/contacts/")
    radicale.put("/alice/contacts/nina.vcf", vcf("nina", "Nina New", email="nina@new.example"))
    sync_account(contacts)
    contacts.refresh_from_db()
    assert contacts.status == ConnectedAccount.Status.ACTIVE, contacts.status_message
    assert SuggestedStakeholder.objects.get().email == "nina@new.example"


def test_a_server_that_stops_mid_sync_resumes_without_duplicates(
    radicale, manager, ann, monkeypatch
):
    monkeypatch.setattr(dav_sync, "BATCH", 2)
    radicale.make_calendar("/alice/work/")
    for n in range(5):
        radicale.put(f"/alice/work/m{n}.ics", meeting(f"m{n}", ago(n + 1), summary=f"Meeting {n}"))
    cal = account(manager, radicale)
    real_multiget = dav.multiget
    calls = []

    def multiget_then_stop(*args, **kwargs):
        if calls:
            radicale.stop()  # the server goes away after the first batch
        calls.append(1)
        return real_multiget(*args, **kwargs)

    monkeypatch.setattr(dav, "multiget", multiget_then_stop)
    with pytest.raises(ServerUnreachable):
        dav_sync.sync_caldav(cal)
    assert Interaction.objects.count() == 2
    cal.refresh_from_db()
    assert (cal.progress_done, cal.progress_total) == (2, 5)
    assert "sync_token" not in cal.sync_state  # the new token only once all is applied

    monkeypatch.setattr(dav, "multiget", real_multiget)
    radicale.start()
    result = dav_sync.sync_caldav(cal)
    assert result.added == 3
    assert sorted(Interaction.objects.values_list("external_id", flat=True)) == [
        f"m{n}" for n in range(5)
    ]
    assert dav_sync.sync_caldav(cal).added == 0


def test_the_same_meeting_in_two_colleagues_calendars_is_one_interaction(
    radicale, manager, other_manager, ann
):
    radicale.make_calendar("/alice/work/")
    radicale.make_calendar("/bob/work/", user="bob")
    data = meeting("shared-1", ago(2), people=(("otto@rapport.test", "Otto"),))
    radicale.put("/alice/work/shared.ics", data)
    radicale.put("/bob/work/shared.ics", data, user="bob")
    dav_sync.sync_caldav(account(manager, radicale))
    dav_sync.sync_caldav(account(other_manager, radicale, username="bob"))
    interaction = Interaction.objects.get()
    assert set(interaction.internal_participants.all()) == {manager, other_manager}


REAL_ICS = realdata_files("ics", ".ics")


@pytest.mark.skipif(not REAL_ICS, reason="../shared/realdata is absent")
def test_real_calendars_sync_and_a_second_sync_adds_nothing(radicale, manager):
    radicale.make_calendar("/alice/real/")
    stored = 0
    for name in REAL_ICS:
        status, _h, _b = radicale.request(
            "PUT",
            f"/alice/real/{name}",
            read_realdata("ics", name),
            headers={"Content-Type": "text/calendar"},
        )
        stored += 200 <= status < 300
    assert stored
    cal = account(manager, radicale, url=radicale.base_url + "/alice/real/")
    dav_sync.sync_caldav(cal)
    items = SyncedItem.objects.filter(account=cal).count()
    suggestions = SuggestedStakeholder.objects.count()
    # The real files name people nobody here knows: they wait in the review queue.
    assert items and suggestions
    again = dav_sync.sync_caldav(cal)
    assert (again.added, again.updated, again.removed, again.suggested) == (0, 0, 0, 0)
    assert SyncedItem.objects.filter(account=cal).count() == items


# --- Address books --------------------------------------------------------------------------


def manager_client_get(user, url: str) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def book(owner, server, **fields):
    return account(owner, server, ConnectedAccount.Kind.CARDDAV, **fields)


@METHODS
def test_contacts_are_matched_by_the_import_rules_or_offered_for_review(
    radicale, manager, etags_only
):
    acme = OrganizationFactory(name="Acme")
    by_email = StakeholderFactory(
        name="Ann Client", email="ann@client.example", phone="", owner=manager
    )
    by_name = StakeholderFactory(name="Bert Buyer", email="", organization=acme, owner=manager)
    radicale.make_address_book("/alice/contacts/")
    radicale.put(
        "/alice/contacts/ann.vcf",
        vcf("ann", "Ann Client", email="ANN@client.example", tel="+31 20 555 0101"),
    )
    radicale.put(
        "/alice/contacts/bert.vcf", vcf("bert", "Bert Buyer", email="bert@acme.example", org="Acme")
    )
    radicale.put(
        "/alice/contacts/new.vcf", vcf("new", "Nina New", email="nina@new.example", org="Newco")
    )
    contacts = book(manager, radicale, etags_only=etags_only)

    result = dav_sync.sync_carddav(contacts)

    assert (result.added, result.suggested) == (2, 1)
    assert SyncedItem.objects.get(remote_id="/alice/contacts/ann.vcf").stakeholder == by_email
    assert SyncedItem.objects.get(remote_id="/alice/contacts/bert.vcf").stakeholder == by_name
    by_email.refresh_from_db()
    by_name.refresh_from_db()
    # A first link fills what is empty, and overwrites nothing.
    assert by_email.phone == "+31 20 555 0101" and by_email.email == "ann@client.example"
    assert by_name.email == "bert@acme.example"
    nina = SuggestedStakeholder.objects.get()
    assert (nina.email, nina.name, nina.organisation_name) == (
        "nina@new.example",
        "Nina New",
        "Newco",
    )
    assert Stakeholder.objects.count() == 2  # nobody created silently

    again = dav_sync.sync_carddav(contacts)
    assert (again.added, again.updated, again.removed, again.suggested) == (0, 0, 0, 0)


@METHODS
def test_a_contact_changed_on_the_server_updates_its_stakeholder(radicale, manager, etags_only):
    ann = StakeholderFactory(name="Ann Client", email="ann@client.example", owner=manager)
    radicale.make_address_book("/alice/contacts/")
    radicale.put("/alice/contacts/ann.vcf", vcf("ann", "Ann Client", email="ann@client.example"))
    contacts = book(manager, radicale, etags_only=etags_only)
    dav_sync.sync_carddav(contacts)

    radicale.put(
        "/alice/contacts/ann.vcf",
        vcf(
            "ann",
            "Ann Client",
            email="ann@client.example",
            title="Head of Purchasing",
            tel="+31 6 1",
        ),
    )
    result = dav_sync.sync_carddav(contacts)
    assert result.updated == 1
    ann.refresh_from_db()
    assert (ann.title, ann.phone) == ("Head of Purchasing", "+31 6 1")


def test_a_contact_edited_in_rapport_since_is_not_overwritten_and_the_difference_shown(
    radicale, manager
):
    ann = StakeholderFactory(
        name="Ann Client", email="ann@client.example", title="Buyer", owner=manager
    )
    radicale.make_address_book("/alice/contacts/")
    radicale.put(
        "/alice/contacts/ann.vcf",
        vcf("ann", "Ann Client", email="ann@client.example", title="Buyer"),
    )
    contacts = book(manager, radicale)
    dav_sync.sync_carddav(contacts)

    stakeholder_update(ann, by=manager, title="Chief Buyer")
    radicale.put(
        "/alice/contacts/ann.vcf",
        vcf("ann", "Ann Client", email="ann@client.example", title="Procurement lead"),
    )
    result = dav_sync.sync_carddav(contacts)

    assert result.updated == 0
    ann.refresh_from_db()
    assert ann.title == "Chief Buyer"
    [shown] = dav_sync.contact_differences(manager)
    assert shown["stakeholder"] == ann
    assert shown["fields"] == [
        {"field": "title", "rapport": "Chief Buyer", "server": "Procurement lead"}
    ]
    page = manager_client_get(manager, "/settings/connections/review/")
    assert "Chief Buyer" in page and "Procurement lead" in page

    # A later change on the server, with no edit here since, is applied again.
    radicale.put(
        "/alice/contacts/ann.vcf",
        vcf("ann", "Ann Client", email="ann@client.example", title="Director"),
    )
    dav_sync.sync_carddav(contacts)
    ann.refresh_from_db()
    assert ann.title == "Director"
    assert dav_sync.contact_differences(manager) == []

    # Another difference, settled by hand with the address book's value: no longer shown.
    stakeholder_update(ann, by=manager, title="Managing director")
    radicale.put(
        "/alice/contacts/ann.vcf",
        vcf("ann", "Ann Client", email="ann@client.example", title="Chief executive"),
    )
    dav_sync.sync_carddav(contacts)
    assert len(dav_sync.contact_differences(manager)) == 1
    stakeholder_update(ann, by=manager, title="Chief executive")
    assert dav_sync.contact_differences(manager) == []


def test_a_contact_deleted_on_the_server_is_unlinked_and_its_suggestion_withdrawn(
    radicale, manager
):
    ann = StakeholderFactory(name="Ann Client", email="ann@client.example", owner=manager)
    radicale.make_address_book("/alice/contacts/")
    radicale.put("/alice/contacts/ann.vcf", vcf("ann", "Ann Client", email="ann@client.example"))
    radicale.put("/alice/contacts/nina.vcf", vcf("nina", "Nina New", email="nina@new.example"))
    contacts = book(manager, radicale)
    dav_sync.sync_carddav(contacts)
    assert SuggestedStakeholder.objects.count() == 1

    radicale.delete("/alice/contacts/ann.vcf")
    radicale.delete("/alice/contacts/nina.vcf")
    result = dav_sync.sync_carddav(contacts)

    assert result.removed == 2
    assert not SyncedItem.objects.filter(account=contacts).exists()
    assert Stakeholder.objects.filter(pk=ann.pk, erased_at__isnull=True).exists()
    assert not SuggestedStakeholder.objects.exists()


def test_an_accepted_suggestion_is_linked_to_its_card_at_the_next_sync(radicale, manager):
    radicale.make_address_book("/alice/contacts/")
    radicale.put(
        "/alice/contacts/nina.vcf", vcf("nina", "Nina New", email="nina@new.example", title="CEO")
    )
    contacts = book(manager, radicale)
    dav_sync.sync_carddav(contacts)
    nina = suggestion_accept(SuggestedStakeholder.objects.get(), by=manager)

    dav_sync.sync_carddav(contacts)
    assert SyncedItem.objects.get(account=contacts).stakeholder == nina
    nina.refresh_from_db()
    assert nina.title == "CEO"


REAL_VCF = realdata_files("vcard", ".vcf")


@pytest.mark.parametrize("name", REAL_VCF)
def test_real_address_books_are_offered_for_review(radicale, manager, name):
    data = read_realdata("vcard", name)
    # Uploaded whole to the address book's URL, as a program imports a file (Radicale
    # then gives the cards without a UID one of their own).
    status, _h, _b = radicale.request(
        "PUT", "/alice/real/", data, headers={"Content-Type": "text/vcard"}
    )
    if status == 400:
        pytest.skip(f"Radicale refuses {name}")
    expected = {
        c.values["email"].lower()
        for c in read_vcards(data)
        if "@" in c.values.get("email", "") and c.values.get("name")
    }
    contacts = book(manager, radicale)
    result = dav_sync.sync_carddav(contacts)
    assert result.suggested == len(expected)
    assert set(SuggestedStakeholder.objects.values_list("email", flat=True)) == expected
    assert not Stakeholder.objects.exists()  # nobody created silently
    again = dav_sync.sync_carddav(contacts)
    assert (again.added, again.updated, again.removed, again.suggested) == (0, 0, 0, 0)
