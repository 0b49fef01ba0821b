"""Calendars written by real programs (../shared/realdata/ics) import as their users
expect: every event imported or listed with its reason, instants in the right zone,
finished series by their last occurrence, cancelled occurrences skipped, empty and
Windows time zones handled; and importing a file twice creates nothing new."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from relations.capture.models import CaptureBatch
from relations.capture.parsing import parse_calendar
from relations.models import Interaction
from tests.factories import StakeholderFactory
from tests.realdata import read_realdata, realdata_files

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

FILES = realdata_files("ics", ".ics")


def _uids(raw: bytes) -> set[str]:
    text = re.sub(r"\r?\n[ \t]", "", raw.decode("utf-8"))
    return {u.strip() for u in re.findall(r"^UID[^:\r\n]*:(.*?)\r?$", text, re.M)}


def _addresses(raw: bytes) -> set[str]:
    text = re.sub(r"\r?\n[ \t]", "", raw.decode("utf-8"))
    return {a.lower() for a in re.findall(r"mailto:([^\s;:\"]+@[^\s;:\"]+)", text, re.I)}


def _items(name: str, now: datetime = NOW) -> list[dict]:
    return parse_calendar(read_realdata("ics", name), now=now)


def test_there_are_real_calendar_files():
    assert len(FILES) == 12


@pytest.mark.parametrize("name", FILES)
def test_realdata_calendar_imports_every_event_once(manager_client, manager, name):
    raw = read_realdata("ics", name)
    for address in sorted(_addresses(raw)):
        StakeholderFactory(email=address.upper(), owner=manager)  # matched ignoring case

    response = manager_client.post("/capture/", {"file": SimpleUploadedFile(name, raw)})
    assert response.status_code == 302, response.content.decode()[:500]
    assert manager_client.get(response.url).status_code == 200  # the capture report
    batch = CaptureBatch.objects.get()
    # Every event of the file is imported or listed with a reason in plain words.
    listed = {item["external_id"].split("@20")[0] for item in batch.items}
    for uid in _uids(raw):
        assert any(item["external_id"].startswith(uid) for item in batch.items), (uid, listed)
    for item in batch.items:
        assert item["outcome"] in {"created", "pending", "skipped"}, item
        if item["outcome"] == "skipped":
            assert item["reason"].endswith("."), item
    created = Interaction.objects.count()
    assert created == batch.count("created")
    if _addresses(raw):
        assert created > 0

    again = manager_client.post("/capture/", {"file": SimpleUploadedFile(name, raw)})
    assert again.status_code == 302
    assert Interaction.objects.count() == created
    second = CaptureBatch.objects.order_by("-pk").first()
    assert second.count("created") == 0


def test_windows_zone_names_and_vtimezones_give_the_right_instants():
    [cdo] = _items("exchange_cdo_invite_pacific.ics")  # 22:30 Pacific daylight time
    assert cdo["occurred_at"] == "2004-10-12T05:30:00+00:00"
    [live] = _items("windows_live_invite_pst.ics")  # 13:30 "Pacific Standard Time"
    assert live["occurred_at"] == "2014-02-21T21:30:00+00:00"
    standup = _items("outlook11_standup_windows_tz.ics")  # 09:30 Canberra, Melbourne, Sydney
    assert standup[0]["occurred_at"] == "2025-12-07T22:30:00+00:00"  # summer time, +11
    winter = [i for i in standup if i["occurred_at"].startswith("2026-06-")]
    assert winter and all(i["occurred_at"].endswith("T23:30:00+00:00") for i in winter)
    assert all(i["outcome"] == "new" for i in standup)
    reboot = _items("outlook12_weekly_tabfold.ics")  # 09:30 Kuala Lumpur, Singapore
    assert {i["occurred_at"][10:] for i in reboot} == {"T01:30:00+00:00"}
    [rfc] = _items("rfc5545_sec4_2_meeting.ics")
    assert rfc["occurred_at"] == "1998-03-12T13:30:00+00:00"
    assert {a["email"] for a in rfc["addresses"]} == {
        "mrbig@example.com",
        "employee-a@example.com",
    }


def test_an_empty_tzid_falls_back_to_utc_with_a_note():
    [event] = _items("exchange2010_blank_tzid.ics")
    assert event["outcome"] == "new"
    assert event["occurred_at"] == "2015-08-26T09:00:00+00:00"
    assert event["reason"] == "The event names no time zone; its times are read in UTC."
    assert {a["email"] for a in event["addresses"]} == {"roberts@company.com", "sam@company.com"}


def test_an_unknown_tzid_falls_back_to_the_calendars_x_wr_timezone():
    raw = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX-WR-TIMEZONE:Europe/Amsterdam\r\n"
        b"BEGIN:VEVENT\r\nUID:odd\r\nDTSTART;TZID=Mars/Olympus:20260301T100000\r\n"
        b"SUMMARY:Odd zone\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    [event] = parse_calendar(raw, now=NOW)
    assert event["occurred_at"] == "2026-03-01T09:00:00+00:00"
    assert "“Mars/Olympus” is unknown" in event["reason"]
    assert "Europe/Amsterdam" in event["reason"]


def test_all_day_holidays_are_events_at_midnight_utc():
    items = _items("apple_ical_allday_be_holidays.ics")
    assert len(items) == 30
    easter = next(i for i in items if i["subject"] == "Pasen")
    assert (easter["occurred_at"], easter["kind"]) == ("2004-04-11T00:00:00+00:00", "event")
    assert all(i["kind"] == "event" and i["outcome"] == "new" for i in items)


def test_finished_series_contribute_their_last_occurrence():
    korganizer = _items("korganizer_folded.ics")  # folded "NAME\r\n :value" lines
    assert [(i["occurred_at"], i["outcome"]) for i in korganizer] == [
        ("2004-03-11T03:00:00+00:00", "new"),
        ("2004-04-03T20:00:00+00:00", "new"),
    ]
    assert "its last occurrence is imported" in korganizer[0]["reason"]
    assert korganizer[0]["subject"].startswith("San Gabriel Valley Linux User Group")
    # RDATE;VALUE=PERIOD in the custom zone "Eastern": the last period, 09:00 EDT.
    [lotus] = _items("lotus_notes_rdate_period.ics")
    assert lotus["occurred_at"] == "2005-04-22T13:00:00+00:00"
    assert lotus["duration_minutes"] == 60


def test_a_cancelled_occurrence_is_skipped_and_the_series_still_counts():
    items = _items("thunderbird_cancelled_occurrence.ics")
    assert [(i["occurred_at"], i["outcome"], i["reason"][:24]) for i in items] == [
        ("2020-01-29T21:00:00+00:00", "skipped", "The event was cancelled."),
        ("2020-01-30T21:00:00+00:00", "new", "The series has no occurr"),
    ]
    # Inside the window, every occurrence but the cancelled one is imported.
    inside = _items("thunderbird_cancelled_occurrence.ics", datetime(2020, 2, 1, tzinfo=UTC))
    assert [(i["occurred_at"][:10], i["outcome"]) for i in inside] == [
        ("2020-01-28", "new"),
        ("2020-01-29", "skipped"),
        ("2020-01-30", "new"),
    ]


def test_a_moved_occurrence_replaces_the_one_it_moves():
    items = _items("google_moved_occurrence.ics", datetime(2022, 1, 15, tzinfo=UTC))
    days = [i["occurred_at"][:10] for i in items]
    assert "2021-12-17" in days  # moved here (RECURRENCE-ID 2021-12-31)
    assert "2021-12-31" not in days
    assert "2021-11-26" in days  # the series' start, last Friday of November
    # Berlin winter time: 21:30 local is 20:30 UTC.
    assert items[days.index("2021-12-17")]["occurred_at"] == "2021-12-17T20:30:00+00:00"
    # It stays the occurrence of 31 December (its RECURRENCE-ID): moved again, or moved
    # after it was imported, it is the same interaction.
    assert items[days.index("2021-12-17")]["external_id"] == (
        "38m812jicsrer5gorh3mlp7qhc@google.com@2021-12-31T20:30:00+00:00"
    )


def test_google_export_keeps_one_off_daily_count_1_events():
    raw = read_realdata("ics", "google_calendar_export_machbar.ics")
    items = parse_calendar(raw, now=NOW)
    text = re.sub(r"\r?\n[ \t]", "", raw.decode())
    one_offs = [
        block for block in text.split("BEGIN:VEVENT")[1:] if "RRULE:FREQ=DAILY;COUNT=1" in block
    ]
    assert len(one_offs) == 4
    for block in one_offs:
        uid = re.search(r"^UID:(.*?)\r?$", block, re.M).group(1)
        mine = [i for i in items if i["external_id"].startswith(uid)]
        assert [i["outcome"] for i in mine] == ["new"], (uid, mine)
    assert set(_uids(raw)) <= {
        next((u for u in _uids(raw) if i["external_id"].startswith(u)), None) for i in items
    }
    # EXDATE removes an occurrence: none at 2019-03-07 08:30 Berlin.
    inside = parse_calendar(raw, now=datetime(2019, 3, 20, tzinfo=UTC))
    assert not [i for i in inside if i["occurred_at"] == "2019-03-07T07:30:00+00:00"]


@pytest.mark.parametrize(
    ("tzid", "instant"),
    [
        # Outlook's display names, written without their VTIMEZONE: read by their city.
        ("(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", "08:00"),
        ("(GMT-05:00) Eastern Time (US & Canada), Bogota, Lima", "14:00"),  # EDT
        ("(UTC-07:00) Mountain Time (US & Canada)", "16:00"),  # MDT
    ],
)
def test_outlook_zone_display_names_are_read_by_their_city(tzid, instant):
    raw = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:city\r\n"
        f'DTSTART;TZID="{tzid}":20260701T100000\r\nSUMMARY:Summer\r\n'
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()
    [event] = parse_calendar(raw, now=NOW)
    assert event["occurred_at"] == f"2026-07-01T{instant}:00+00:00"
    assert "is unknown" in event["reason"]
