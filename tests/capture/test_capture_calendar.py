"""Calendar capture: .ics files (nasty ones included) become meeting interactions."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from relations.capture.models import CaptureBatch
from relations.models import AuditEvent, Interaction, Relationship, Stakeholder
from tests.capture.files import AMSTERDAM_TZ, calendar, vevent
from tests.factories import StakeholderFactory, UserFactory

# A frozen clock: occurrence windows and "last week" must not depend on the hour the
# suite runs (an unfrozen run after 10:00 UTC once saw a fifth weekly occurrence).
NOW = datetime(2026, 3, 11, 16, 45, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]


def upload(client: Client, raw: bytes, name: str = "meetings.ics"):
    return client.post("/capture/", {"file": SimpleUploadedFile(name, raw)})


def last_week(hours: int = 10) -> datetime:
    moment = timezone.now() - timedelta(days=7)
    return moment.replace(hour=hours, minute=0, second=0, microsecond=0)


def test_events_become_meetings_with_matched_staff_and_stakeholders(
    manager_client, manager, other_manager, stakeholder
):
    stakeholder.email = "Sam@Example.ORG"  # matching ignores case
    stakeholder.save()
    start = last_week()
    raw = calendar(
        vevent(
            uid="evt-1@example.org",
            start=start,
            summary="Grid connection review",
            minutes=90,
            organizer="maria@rapport.test",
            attendees=[
                ("Sam", "sam@example.org"),
                ("Otto Other", "otto@rapport.test"),
                ("Una Known", "una@newco.example"),
            ],
        )
    )
    response = upload(manager_client, raw)
    assert response.status_code == 302
    batch = CaptureBatch.objects.get()
    assert response["Location"] == f"/capture/{batch.pk}/"

    interaction = Interaction.objects.get()
    assert interaction.subject == "Grid connection review"
    assert interaction.kind == "meeting"
    assert interaction.occurred_at == start
    assert interaction.duration_minutes == 90
    assert (interaction.source, interaction.external_id) == ("calendar", "evt-1@example.org")
    assert set(interaction.internal_participants.all()) == {manager, other_manager}
    assert list(interaction.stakeholders.all()) == [stakeholder]
    assert interaction.created_by == manager
    # Through the service: relationships, audit trail.
    assert Relationship.objects.filter(user=other_manager, stakeholder=stakeholder).exists()
    assert AuditEvent.objects.filter(
        object_type="relations.interaction", object_id=str(interaction.pk), action="create"
    ).exists()
    assert [a["email"] for a in batch.addresses] == ["una@newco.example"]

    page = manager_client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Grid connection review" in html
    assert "una@newco.example" in html
    assert "Create stakeholder" in html


def test_reimporting_the_same_file_creates_nothing_new(manager_client, stakeholder):
    raw = calendar(
        vevent(uid="same@x", start=last_week(), attendees=[("S", stakeholder.email)]),
    )
    upload(manager_client, raw)
    upload(manager_client, raw)
    assert Interaction.objects.count() == 1
    second = CaptureBatch.objects.order_by("-pk").first()
    assert second.count("duplicate") == 1 and second.count("created") == 0
    assert second.items[0]["interaction"] == Interaction.objects.get().pk


def test_bom_folded_lines_timezones_and_all_day_events(manager_client, stakeholder):
    long_summary = "Überlegungen zur Netzstrategie – " + "lange Zeile " * 12
    raw = b"\xef\xbb\xbf" + calendar(
        vevent(
            uid="tz@x",
            start="DTSTART;TZID=Europe/Amsterdam:20260105T090000",
            summary=long_summary.strip(),
            attendees=[("S", stakeholder.email)],
            extra=["DTEND;TZID=Europe/Amsterdam:20260105T103000"],
        ),
        vevent(
            uid="allday@x",
            start="DTSTART;VALUE=DATE:20260106",
            summary="Trade fair",
            attendees=[("S", stakeholder.email)],
            extra=["DTEND;VALUE=DATE:20260107"],
        ),
        extra_header=AMSTERDAM_TZ,
    )
    assert b"\r\n " in raw  # really folded
    response = upload(manager_client, raw)
    assert response.status_code == 302
    timed = Interaction.objects.get(external_id="tz@x")
    assert timed.occurred_at == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # CET = UTC+1
    assert timed.duration_minutes == 90
    assert timed.subject == long_summary.strip()[:200]
    all_day = Interaction.objects.get(external_id="allday@x")
    assert all_day.kind == "event"
    assert all_day.occurred_at == datetime(2026, 1, 6, tzinfo=UTC)
    assert all_day.duration_minutes == 0


def test_recurring_event_imports_past_occurrences_only(manager_client, stakeholder):
    # Four weekly meetings lie in the past; the fifth starts two hours from now.
    first = timezone.now() - timedelta(weeks=4) + timedelta(hours=2)
    raw = calendar(
        vevent(
            uid="weekly@x",
            start=first,
            summary="Weekly sync",
            attendees=[("S", stakeholder.email)],
            extra=["RRULE:FREQ=WEEKLY;COUNT=10"],
        )
    )
    upload(manager_client, raw)
    occurrences = Interaction.objects.filter(subject="Weekly sync").order_by("occurred_at")
    # The six still to come are not interactions.
    assert [o.occurred_at for o in occurrences] == [first + timedelta(weeks=n) for n in range(4)]
    assert len({o.external_id for o in occurrences}) == 4
    batch = CaptureBatch.objects.get()
    assert batch.count("created") == 4
    # Importing again a week later adds only the new occurrence.
    upload(manager_client, raw)
    assert Interaction.objects.filter(subject="Weekly sync").count() == 4


def test_missing_uid_still_deduplicates_and_future_and_cancelled_are_skipped(
    manager_client, stakeholder
):
    raw = calendar(
        vevent(uid=None, start=last_week(), summary="No uid", attendees=[("S", stakeholder.email)]),
        vevent(
            uid="future@x",
            start=timezone.now() + timedelta(days=3),
            summary="Next week",
            attendees=[("S", stakeholder.email)],
        ),
        vevent(
            uid="cancelled@x",
            start=last_week(),
            summary="Called off",
            attendees=[("S", stakeholder.email)],
            extra=["STATUS:CANCELLED"],
        ),
    )
    upload(manager_client, raw)
    upload(manager_client, raw)
    assert list(Interaction.objects.values_list("subject", flat=True)) == ["No uid"]
    batch = CaptureBatch.objects.order_by("pk").first()
    reasons = sorted(i["reason"] for i in batch.items if i["outcome"] == "skipped")
    assert reasons == ["The event has not happened yet.", "The event was cancelled."]


def test_event_without_known_stakeholder_waits_until_one_is_created(manager_client, manager):
    raw = calendar(
        vevent(
            uid="new@x",
            start=last_week(),
            summary="Intro with NewCo",
            attendees=[("Nina New", "nina@newco.example"), ("Maria", "maria@rapport.test")],
        )
    )
    upload(manager_client, raw)
    assert not Interaction.objects.exists()
    batch = CaptureBatch.objects.get()
    assert batch.count("pending") == 1
    assert batch.addresses[0]["email"] == "nina@newco.example"
    assert batch.addresses[0]["name"] == "Nina New"

    response = manager_client.post(
        f"/capture/{batch.pk}/addresses/create/",
        {"email": "nina@newco.example", "name": "Nina Newcomer"},
    )
    assert response.status_code == 302
    nina = Stakeholder.objects.get(email="nina@newco.example")
    assert nina.name == "Nina Newcomer" and nina.owner == manager
    interaction = Interaction.objects.get()
    assert list(interaction.stakeholders.all()) == [nina]
    batch.refresh_from_db()
    assert batch.count("created") == 1
    assert batch.addresses[0]["status"] == "created"
    # Clicking twice (a double submit) creates nothing more.
    manager_client.post(f"/capture/{batch.pk}/addresses/create/", {"email": "nina@newco.example"})
    assert Stakeholder.objects.filter(email="nina@newco.example").count() == 1
    assert Interaction.objects.count() == 1


def test_creating_a_stakeholder_adds_it_to_created_interactions(manager_client, stakeholder):
    raw = calendar(
        vevent(
            uid="two@x",
            start=last_week(),
            attendees=[("S", stakeholder.email), ("Vic", "vic@partner.example")],
        )
    )
    upload(manager_client, raw)
    batch = CaptureBatch.objects.get()
    manager_client.post(f"/capture/{batch.pk}/addresses/create/", {"email": "vic@partner.example"})
    vic = Stakeholder.objects.get(email="vic@partner.example")
    assert vic.name == "Vic"
    assert set(Interaction.objects.get().stakeholders.all()) == {stakeholder, vic}


def test_ignore_marks_the_address_and_creates_nothing(manager_client):
    raw = calendar(vevent(uid="i@x", start=last_week(), attendees=[("Z", "z@z.example")]))
    upload(manager_client, raw)
    batch = CaptureBatch.objects.get()
    manager_client.post(f"/capture/{batch.pk}/addresses/ignore/", {"email": "z@z.example"})
    batch.refresh_from_db()
    assert batch.addresses[0]["status"] == "ignored"
    assert not Stakeholder.objects.filter(email="z@z.example").exists()
    page = manager_client.get(f"/capture/{batch.pk}/").content.decode()
    assert "Ignored" in page


def test_someone_elses_capture_is_not_found(manager_client, other_manager):
    batch = CaptureBatch.objects.create(created_by=other_manager, source="calendar", name="x.ics")
    assert manager_client.get(f"/capture/{batch.pk}/").status_code == 404
    response = manager_client.post(f"/capture/{batch.pk}/addresses/ignore/", {"email": "a@b.c"})
    assert response.status_code == 404


def test_inactive_or_non_staff_addresses_are_not_matched_as_colleagues(manager_client, stakeholder):
    UserFactory(username="gone", is_active=False)
    raw = calendar(
        vevent(
            uid="gone@x",
            start=last_week(),
            attendees=[("S", stakeholder.email), ("Gone", "gone@rapport.test")],
        )
    )
    upload(manager_client, raw)
    interaction = Interaction.objects.get()
    assert [u.username for u in interaction.internal_participants.all()] == ["maria"]
    assert [a["email"] for a in CaptureBatch.objects.get().addresses] == ["gone@rapport.test"]


@pytest.mark.parametrize(
    ("raw", "name", "message"),
    [
        (b"", "empty.ics", "The submitted file is empty"),
        (b"hello world", "text.ics", "not an iCalendar file"),
        (b"\x00\x01garbage\xff\xfe", "garbage.ics", "not UTF-8"),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "empty.ics", "no events"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:nonsense\r\n", "broken.ics", "malformed"),
        ("Just some text".encode("utf-16"), "utf16.ics", "not UTF-8"),
        (b"BEGIN:VCALENDAR\r\n", "pic.png", "Upload an .ics"),
        (
            b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20260101T100000Z\nEND:VCALENDAR\n",
            "unbalanced.ics",
            "malformed",
        ),
    ],
)
def test_malformed_calendars_get_a_clear_message_and_import_nothing(
    manager_client, stakeholder, raw, name, message
):
    response = upload(manager_client, raw, name)
    assert response.status_code == 200  # the form again, with its error
    assert message in response.content.decode()
    assert not Interaction.objects.exists()
    assert not CaptureBatch.objects.exists()


def test_a_bad_event_among_good_ones_is_listed_as_skipped(manager_client, stakeholder):
    raw = calendar(
        vevent(uid="good@x", start=last_week(), attendees=[("S", stakeholder.email)]),
        vevent(uid="nostart@x", start="X-NOTHING:1", attendees=[("S", stakeholder.email)]),
    )
    response = upload(manager_client, raw)
    assert response.status_code == 302
    batch = CaptureBatch.objects.get()
    assert batch.count("created") == 1
    assert [i["reason"] for i in batch.items if i["outcome"] == "skipped"] == [
        "The event has no start date."
    ]


def test_files_over_the_limit_are_refused(manager_client, stakeholder, settings):
    settings.RAPPORT_CAPTURE_MAX_BYTES = 1000
    raw = calendar(
        vevent(
            uid="big@x",
            start=last_week(),
            attendees=[("S", stakeholder.email)],
            extra=["DESCRIPTION:" + "x" * 2000],
        )
    )
    response = upload(manager_client, raw)
    assert response.status_code == 200  # the form again, with its error
    assert "at most 1000" in response.content.decode()
    assert not Interaction.objects.exists()


def test_result_page_query_count_is_bounded(manager_client, manager, django_assert_max_num_queries):
    people = [StakeholderFactory(email=f"p{n}@ex.example") for n in range(15)]
    raw = calendar(
        *[
            vevent(
                uid=f"q{n}@x",
                start=last_week() - timedelta(days=n),
                attendees=[("P", p.email), ("U", f"u{n}@unknown.example")],
            )
            for n, p in enumerate(people)
        ]
    )
    upload(manager_client, raw)
    batch = CaptureBatch.objects.get()
    assert batch.count("created") == 15
    # session, user, groups, batch, visible interactions, stakeholder names, + base page.
    with django_assert_max_num_queries(12):
        response = manager_client.get(f"/capture/{batch.pk}/")
    assert response.status_code == 200


def test_nul_bytes_and_absurd_dates_are_handled(manager_client, stakeholder):
    raw = calendar(
        vevent(
            uid="nul\x00@x",
            start=last_week(),
            summary="Nul\x00 byte",
            attendees=[("S", stakeholder.email), ("Nu\x00ll", "odd\x00@x.example")],
        ),
        vevent(uid="old@x", start="DTSTART:00010101T000000Z", attendees=[("S", stakeholder.email)]),
    )
    response = upload(manager_client, raw)
    assert response.status_code == 302
    interaction = Interaction.objects.get()
    assert interaction.subject == "Nul byte" and interaction.external_id == "nul@x"
    batch = CaptureBatch.objects.get()
    assert [i["reason"] for i in batch.items if i["outcome"] == "skipped"] == [
        "The event's date is out of range."
    ]
    assert manager_client.get(f"/capture/{batch.pk}/").status_code == 200
