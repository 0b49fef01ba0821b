"""Reading calendars (.ics) and e-mail (.eml, .mbox, raw RFC 822) into plain records.

Pure functions over bytes: no database. Each returns a list of `CapturedItem`
dicts, JSON-ready, that `relations.capture.services` matches against staff and
stakeholders and turns into interactions. A file that cannot be read at all
raises `CaptureError` with a message for the user; an item inside a readable
file that cannot be used (an event without a start) comes back with
`outcome = "skipped"` and its reason, so the user sees it and nothing wrong is
imported.

Recurring events: the occurrences that took place within the last
RAPPORT_CAPTURE_RECURRENCE_DAYS (default 365) up to now become one interaction
each (a weekly meeting is met every week), identified by the event's UID and
the occurrence's RECURRENCE-ID (the start the series gave it, kept when the occurrence
is moved); future occurrences, like every future event, are
skipped as "has not happened yet": an interaction records what happened.
"""

from __future__ import annotations

import email
import email.policy
import functools
import hashlib
import mailbox
import os
import re
import tempfile
from datetime import UTC, date, datetime, time, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

# At most this many events or messages per capture: a bigger file is refused,
# rather than half imported.
MAX_ITEMS = 2000
# Occurrences of one recurring event: a daily stand-up over a year is 365.
MAX_OCCURRENCES = 400
# Budgets of the recurrence expansion (security review, item 5): occurrences are
# generated one at a time from the event's start, and generation stops at these
# caps. One event may repeat this often from its start up to now (a daily meeting
# for 27 years)...
MAX_EXPANDED_PER_EVENT = 10_000
# ... and all the recurring events of one file this often together (a few
# milliseconds per thousand).
MAX_EXPANDED_PER_FILE = 100_000
# Rules repeating every minute or second describe no meetings; a year of them is
# half a million occurrences.
REFUSED_FREQUENCIES = {"MINUTELY", "SECONDLY"}
SUBJECT_MAX = 200
NOTES_MAX = 5000
EXTERNAL_ID_MAX = 255
VIDEO_HINTS = re.compile(
    r"zoom\.us|teams\.microsoft|meet\.google|webex|whereby\.com|jitsi", re.IGNORECASE
)


class CaptureError(ValueError):
    """The file or message cannot be read; nothing is imported."""


def external_id(raw: str) -> str:
    """A stable id of at most 255 characters: long ones are replaced by their hash."""
    raw = raw.replace("\x00", "").strip()
    if len(raw) <= EXTERNAL_ID_MAX:
        return raw
    return "sha256:" + hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()


def _clean_text(value: Any, limit: int) -> str:
    text = str(value or "").replace("\x00", "").strip()
    return text[:limit]


def _address(value: Any) -> tuple[str, str] | None:
    """(e-mail, name) of a calendar address (`mailto:` URI with a CN parameter)."""
    raw = str(value or "").replace("\x00", "").strip()
    if raw.lower().startswith("mailto:"):
        raw = raw[7:]
    raw = raw.strip().lower()
    if "@" not in raw or len(raw) > 254 or any(c.isspace() for c in raw):
        return None
    params = getattr(value, "params", {}) or {}
    name = str(params.get("CN", "") or "").replace("\x00", "").strip().strip('"')
    return raw, name[:200]


# --- Calendars ----------------------------------------------------------------------------


def decode_text(raw: bytes, what: str) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CaptureError(
            _("The %(what)s is not UTF-8 text (unreadable byte at position %(pos)d).")
            % {"what": what, "pos": exc.start}
        ) from exc


def _as_utc(value: date | datetime) -> tuple[datetime, bool]:
    """A DTSTART as an aware UTC datetime, and whether it was a whole day.

    A date counts as 00:00 UTC of that day (DESIGN §6); a floating time is read
    in the server's time zone.
    """
    if isinstance(value, datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value.astimezone(UTC), False
    return datetime.combine(value, time.min, tzinfo=UTC), True


def parse_calendar(raw: bytes, *, now: datetime | None = None) -> list[dict]:
    """The events of an iCalendar file, one record per event or past occurrence.

    Every VEVENT ends up in the list: imported, or skipped with its reason. A
    recurring series with no occurrence inside the window contributes its last
    past occurrence (a finished weekly meeting, Google's one-off events written as
    `RRULE:FREQ=DAILY;COUNT=1`); one that has not started yet is listed as such.
    """
    import recurring_ical_events
    from django.conf import settings

    now = now or timezone.now()
    text = decode_text(raw, _("calendar file"))
    if "BEGIN:VCALENDAR" not in text.upper():
        raise CaptureError(_("This is not an iCalendar file (no BEGIN:VCALENDAR)."))
    calendar, zone_notes = _read_calendar(text)
    events = list(calendar.walk("VEVENT"))
    if not events:
        raise CaptureError(_("The calendar file holds no events."))
    if len(events) > MAX_ITEMS:
        raise CaptureError(
            _("The calendar file holds %(count)d events; at most %(max)d can be imported at once.")
            % {"count": len(events), "max": MAX_ITEMS}
        )

    window_start = now - timedelta(days=settings.RAPPORT_CAPTURE_RECURRENCE_DAYS)
    items: list[dict] = []
    series: dict[str, list] = {}
    for event in events:
        uid = str(event.get("UID", "") or "").strip()
        recurring = event.get("RRULE") or event.get("RDATE") or event.get("RECURRENCE-ID")
        if recurring and uid:
            series.setdefault(uid, []).append(event)
            continue
        items.append(_noted(_event_record(event, now=now, occurrence=False), zone_notes))

    budget = [MAX_EXPANDED_PER_FILE]
    timezones = list(calendar.walk("VTIMEZONE"))
    for members in series.values():
        master = next((e for e in members if e.get("RECURRENCE-ID") is None), None)
        if master is None:
            # Changed occurrences of a series the file does not hold: each on its own.
            for member in members:
                record = _event_record(member, now=now, occurrence=True)
                items.append(_noted(record, zone_notes))
            _check_item_count(items)
            continue
        end, refusal, last_past, steps = _expansion_end(
            master, window_start=window_start, now=now, budget=budget
        )
        if refusal:
            record = _noted(_event_record(master, now=now, occurrence=False), {})
            record["outcome"], record["reason"] = "skipped", refusal
            items.append(record)
            continue
        one_series = icalendar_calendar()
        for component in [*timezones, *members]:
            one_series.add_component(component)
        try:
            expander = recurring_ical_events.of(one_series)
            occurrences = expander.between(window_start, end)
            if not occurrences:
                occurrences = _last_past(expander, last_past, steps, now=now, budget=budget)
                kept_last = True
            else:
                kept_last = False
        except CaptureError:
            raise
        except Exception as exc:
            raise CaptureError(
                _("A recurring event cannot be expanded: %(error)s") % {"error": str(exc)[:200]}
            ) from exc
        records = [
            _noted(_event_record(o, now=now, occurrence=True), zone_notes)
            for o in occurrences[:MAX_OCCURRENCES]
        ]
        if kept_last:
            records = _keep_last(records, master, now=now)
        items.extend(records)
        _check_item_count(items)
    _check_item_count(items)
    for item in items:
        item.pop("_uid", None)
    items.sort(key=lambda item: item.get("occurred_at") or "")
    return items


def icalendar_calendar():
    import icalendar

    return icalendar.Calendar()


def _last_past(
    expander: Any, last_past: datetime | None, steps: int, *, now: datetime, budget: list[int]
) -> list:
    """The occurrences around the series' last one up to now (a series with none in the
    window). The library iterates the rule from its start again: charged first."""
    _charged(now, steps, budget)
    if last_past is None:
        # Dates listed (RDATE): bounded by their count, checked before.
        return list(expander.between(datetime(1900, 1, 1, tzinfo=UTC), now))
    moment = last_past.replace(tzinfo=UTC)
    return list(expander.between(moment - timedelta(days=2), min(now, moment + timedelta(days=2))))


def _keep_last(records: list[dict], master: Any, *, now: datetime) -> list[dict]:
    """Of a finished series, its last past occurrence (cancelled ones stay listed)."""
    from django.conf import settings

    past = [r for r in records if r["outcome"] == "new"]
    kept = [r for r in records if r["outcome"] == "skipped" and r["occurred_at"]]
    kept = [r for r in kept if r["occurred_at"] <= now.astimezone(UTC).isoformat()]
    if past:
        last = max(past, key=lambda r: r["occurred_at"])
        last["reason"] = " ".join(
            filter(
                None,
                [
                    _(
                        "The series has no occurrence in the last %(days)d days: "
                        "its last occurrence is imported."
                    )
                    % {"days": settings.RAPPORT_CAPTURE_RECURRENCE_DAYS},
                    last["reason"],
                ],
            )
        )
        kept.append(last)
    if not kept:
        record = _event_record(master, now=now, occurrence=False)
        if record["outcome"] == "new":
            record["reason"] = _("The recurring event has no occurrence up to now.")
        record["outcome"] = "skipped"
        kept.append(record)
    return kept


def _noted(record: dict, zone_notes: dict[str, str]) -> dict:
    """A record with the note of its time-zone fallback, if its event needed one."""
    note = zone_notes.get(record.pop("_uid", ""), "")
    if note and note not in record["reason"]:
        record["reason"] = " ".join(filter(None, [record["reason"], note]))
    return record


# Time-zone parameters: `TZID=` (empty, as Exchange 2010 writes it) and named zones.
_EMPTY_TZID = re.compile(r';TZID=(?:"")?(?=[:;])', re.IGNORECASE)
_EMPTY_TZID_SENTINEL = "X-RAPPORT-NO-ZONE"
_VTIMEZONE = re.compile(r"BEGIN:VTIMEZONE\r\n.*?END:VTIMEZONE\r\n", re.DOTALL | re.IGNORECASE)
_DATED_PROPERTIES = ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE", "DUE")


def _read_calendar(text: str) -> tuple[Any, dict[str, str]]:
    """The parsed calendar, with empty or unknown time zones replaced by the calendar's
    X-WR-TIMEZONE (or UTC); and per event UID the note that says so."""

    # Any line ends (CR CR LF, lone CR, LF) as CR LF; folded lines stay folded.
    text = re.sub(r"\r*\n|\r", "\r\n", text)
    # A VTIMEZONE without a name cannot be referred to: left out (Exchange 2010).
    text = _VTIMEZONE.sub(
        lambda m: "" if re.search(r"^TZID[^:\r\n]*:[ \t]*\r\n", m.group(0), re.M) else m.group(0),
        text,
    )
    text = _EMPTY_TZID.sub(f";TZID={_EMPTY_TZID_SENTINEL}", text)
    fallback = _fallback_zone(text)
    calendar = _parse_ical(text)
    unknown: dict[str, set[str]] = {}
    for event in calendar.walk("VEVENT"):
        for name in _DATED_PROPERTIES:
            for prop in _as_list(event.get(name)):
                tzid = str((getattr(prop, "params", None) or {}).get("TZID", "") or "")
                if tzid and _is_naive(prop):
                    uid = str(event.get("UID", "") or "").strip()
                    unknown.setdefault(tzid, set()).add(uid)
    if not unknown:
        return calendar, {}
    notes: dict[str, str] = {}
    for tzid, uids in unknown.items():
        zone = fallback if tzid == _EMPTY_TZID_SENTINEL else _zone_of_city(tzid) or fallback
        pattern = re.compile(r";TZID=(\"?)" + re.escape(tzid) + r"\1(?=[:;])", re.IGNORECASE)
        text = pattern.sub(f";TZID={zone}", text)
        if tzid == _EMPTY_TZID_SENTINEL:
            note = _("The event names no time zone; its times are read in %(zone)s.")
        else:
            note = _("The time zone “%(tzid)s” is unknown; the event's times are read in %(zone)s.")
        for uid in uids:
            notes[uid] = note % {"tzid": tzid[:60], "zone": zone}
    return _parse_ical(text), notes


def _parse_ical(text: str) -> Any:
    import icalendar

    try:
        calendar = icalendar.Calendar.from_ical(text)
    except Exception as exc:  # icalendar raises ValueError, KeyError, IndexError...
        raise CaptureError(
            _("The calendar file is malformed: %(error)s") % {"error": str(exc)[:200]}
        ) from exc
    if isinstance(calendar, list):
        calendar = calendar[0] if calendar else None
    if calendar is None or calendar.name != "VCALENDAR":
        raise CaptureError(_("This is not an iCalendar file (no VCALENDAR)."))
    return calendar


@functools.cache
def _zones_by_city() -> dict[str, str]:
    from zoneinfo import available_timezones

    skipped = ("Etc/", "SystemV/", "US/", "posix/", "right/", "Brazil/", "Canada/", "Mexico/")
    table: dict[str, str] = {}
    for zone in sorted(available_timezones()):
        if "/" in zone and not zone.startswith(skipped):
            table.setdefault(zone.rsplit("/", 1)[-1].lower(), zone)
    return table


def _zone_of_city(tzid: str) -> str | None:
    """The zone of the first city an Outlook-style zone name lists ("(UTC+01:00)
    Amsterdam, Berlin, Bern…", "Pacific Time (US & Canada), Tijuana"), if any."""
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

    # "(GMT-05:00) Eastern Time (US & Canada), Bogota": the Windows zone "Eastern
    # Standard Time", daylight saving time included; a listed city comes second.
    region = re.sub(r"^\s*\((?:UTC|GMT)[^)]*\)\s*", "", tzid[:200]).split(",")[0]
    region = region.replace("(US & Canada)", "").strip()
    if region.endswith(" Time"):
        windows = region[: -len(" Time")] + " Standard Time"
        if windows in WINDOWS_TO_OLSON:
            return WINDOWS_TO_OLSON[windows]
    table = _zones_by_city()
    for word in re.split(r"[,/;()&]+", tzid[:200]):
        key = "_".join(word.split()).lower()
        if key in table:
            return table[key]
    return None


def _fallback_zone(text: str) -> str:
    """The calendar's X-WR-TIMEZONE when it names a known zone, else UTC."""
    from zoneinfo import ZoneInfo

    found = re.search(r"^X-WR-TIMEZONE[^:\r\n]*:[ \t]*([^\r\n;:\"]+)", text, re.M | re.I)
    if found:
        name = found.group(1).strip()
        try:
            ZoneInfo(name)
            return name
        except Exception:
            pass
    return "UTC"


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _is_naive(prop: Any) -> bool:
    try:
        values = [prop.dt]
    except Exception:
        try:
            values = [getattr(d, "dt", None) for d in (getattr(prop, "dts", None) or [])]
        except Exception:  # a broken value: reported where the event is read
            return False
    for value in values:
        if isinstance(value, tuple):
            value = value[0]
        if isinstance(value, datetime) and value.tzinfo is None:
            return True
    return False


def _check_item_count(items: list[dict]) -> None:
    if len(items) > MAX_ITEMS:
        raise CaptureError(
            _("The calendar holds %(count)d events and occurrences; at most %(max)d at once.")
            % {"count": len(items), "max": MAX_ITEMS}
        )


def _naive_utc(value: date | datetime) -> datetime:
    """A moment as a naive UTC datetime (a date: its midnight), for comparisons."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return datetime.combine(value, time.min)


def _expansion_end(
    master: Any, *, window_start: datetime, now: datetime, budget: list[int]
) -> tuple[datetime, str, datetime | None, int]:
    """Until when a recurring event is expanded, or why it is not imported; and the
    last occurrence up to now (naive UTC, None when unknown) and the steps taken.

    The rule is iterated lazily from the event's start (dateutil), never built whole:
    a start far in the past with COUNT=150000 costs at most MAX_EXPANDED_PER_EVENT
    steps. Expansion then stops at the occurrence after the MAX_OCCURRENCES-th one in
    the window, so the expanding library builds at most that many. `budget` (one
    number, shared by the file's events) refuses the file once spent."""
    from dateutil.rrule import rrulestr

    rule = master.get("RRULE")
    rdates = master.get("RDATE")
    rdate_count = (
        sum(
            len(getattr(r, "dts", []) or [])
            for r in (rdates if isinstance(rdates, list) else [rdates])
        )
        if rdates is not None
        else 0
    )
    if rdate_count > MAX_EXPANDED_PER_EVENT:
        return (
            now,
            _("The event lists more than %(max)d dates; it is not imported.")
            % {"max": MAX_EXPANDED_PER_EVENT},
            None,
            0,
        )
    if rule is None:
        return now, "", None, 0
    rules = rule if isinstance(rule, list) else [rule]
    frequencies = {str(f).upper() for r in rules for f in (r.get("FREQ") or [])}
    if frequencies & REFUSED_FREQUENCIES:
        return (
            now,
            _(
                "The event repeats every minute or second (FREQ=%(freq)s): such a rule "
                "describes no meetings, and is not imported."
            )
            % {"freq": sorted(frequencies & REFUSED_FREQUENCIES)[0]},
            None,
            0,
        )
    start_prop = master.get("DTSTART")
    try:
        start = _naive_utc(start_prop.dt)
    except Exception:
        return now, "", None, 0  # reported by the occurrences themselves ("no start date")
    window, until = _naive_utc(window_start), _naive_utc(now)
    seen = in_window = 0
    last_past: datetime | None = None
    for one in rules:
        text = one.to_ical().decode("ascii", "replace")
        # UTC markers off: the start is naive UTC here (an approximation of a few
        # hours at most, enough to bound the work; the library expands exactly).
        text = re.sub(r"(UNTIL=\d{8}(T\d{6})?)Z", r"\1", text, flags=re.I)
        try:
            occurrences = iter(rrulestr(text, dtstart=start, ignoretz=True))
        except (ValueError, TypeError, OverflowError):
            return now, "", None, 0  # the library reports what it cannot read
        while True:
            try:
                moment = next(occurrences)
            except (StopIteration, ValueError, OverflowError):
                break
            budget[0] -= 1
            if budget[0] < 0:
                raise CaptureError(_budget_message())
            if moment > until:
                break
            seen += 1
            if last_past is None or moment > last_past:
                last_past = moment
            if seen > MAX_EXPANDED_PER_EVENT:
                return (
                    now,
                    _("The event repeats more than %(max)d times up to now; it is not imported.")
                    % {"max": MAX_EXPANDED_PER_EVENT},
                    None,
                    seen,
                )
            if moment >= window:
                in_window += 1
                if in_window > MAX_OCCURRENCES:
                    # A day's margin: the exact count is capped after expansion.
                    end = _charged(
                        min(now, moment.replace(tzinfo=UTC) + timedelta(days=1)), seen, budget
                    )
                    return end, "", last_past, seen
    if rdates is not None:
        last_past = None  # dates listed besides the rule: the library finds the last
    return _charged(now, seen, budget), "", last_past, seen


def _charged(end: datetime, steps: int, budget: list[int]) -> datetime:
    """The expanding library iterates the rule from its start again: its steps are
    charged to the file's budget before it runs."""
    budget[0] -= steps
    if budget[0] < 0:
        raise CaptureError(_budget_message())
    return end


def _budget_message() -> str:
    return _(
        "The calendar's recurring events repeat more than %(max)d times together; "
        "split the file or export a shorter period."
    ) % {"max": MAX_EXPANDED_PER_FILE}


def _recurrence_id(event: Any, start: datetime) -> datetime:
    """Which occurrence of its series `event` is: its RECURRENCE-ID (the start the
    series gave it, which stays when the occurrence is moved), else its own start."""
    prop = event.get("RECURRENCE-ID")
    try:
        return _as_utc(prop.dt)[0] if prop is not None else start
    except (AttributeError, OverflowError, TypeError, ValueError):
        return start


def _event_record(event: Any, *, now: datetime, occurrence: bool) -> dict:
    subject = _clean_text(event.get("SUMMARY"), SUBJECT_MAX) or _("(no subject)")
    record: dict[str, Any] = {
        "subject": subject,
        "kind": "meeting",
        "notes": _clean_text(event.get("DESCRIPTION"), NOTES_MAX),
        "occurred_at": None,
        "duration_minutes": 0,
        "addresses": [],
        "outcome": "skipped",
        "reason": "",
    }
    start_prop = event.get("DTSTART")
    try:
        start_value = start_prop.dt if start_prop is not None else None
    except Exception:
        start_value = None
    if not isinstance(start_value, date):
        record["reason"] = _("The event has no start date.")
        record["external_id"] = ""
        return record
    try:
        start, whole_day = _as_utc(start_value)
    except (OverflowError, ValueError):
        start = None
    if start is None or not 1900 <= start.year <= 2200:
        record["reason"] = _("The event's date is out of range.")
        record["external_id"] = ""
        return record
    record["occurred_at"] = start.isoformat()

    uid = str(event.get("UID", "") or "").strip()
    record["_uid"] = uid
    if not uid:
        # No UID (a hand-made file): the start and subject identify the event, so
        # importing the same file twice still adds it once.
        fingerprint = f"{start.isoformat()}|{subject}"
        uid = "nouid:" + hashlib.sha256(fingerprint.encode()).hexdigest()[:32]
    record["external_id"] = external_id(
        f"{uid}@{_recurrence_id(event, start).isoformat()}" if occurrence else uid
    )

    end_prop = event.get("DTEND")
    try:
        end_value = end_prop.dt if end_prop is not None else None
    except Exception:
        end_value = None
    if isinstance(end_value, date) and not whole_day:
        end, _whole = _as_utc(end_value)
        minutes = int((end - start).total_seconds() // 60)
        record["duration_minutes"] = max(0, min(minutes, 24 * 60))
    elif event.get("DURATION") is not None and not whole_day:
        try:
            minutes = int(event.get("DURATION").dt.total_seconds() // 60)
            record["duration_minutes"] = max(0, min(minutes, 24 * 60))
        except Exception:
            record["duration_minutes"] = 0

    location = str(event.get("LOCATION", "") or "")
    if whole_day:
        record["kind"] = "event"
    elif VIDEO_HINTS.search(location) or VIDEO_HINTS.search(record["notes"]):
        record["kind"] = "video_call"

    addresses: dict[str, str] = {}
    attendees = event.get("ATTENDEE")
    if attendees is not None and not isinstance(attendees, list):
        attendees = [attendees]
    for value in [event.get("ORGANIZER"), *(attendees or [])]:
        parsed = _address(value) if value is not None else None
        if parsed and (parsed[0] not in addresses or not addresses[parsed[0]]):
            addresses[parsed[0]] = parsed[1]
    record["addresses"] = [{"email": e, "name": n} for e, n in addresses.items()]

    status = str(event.get("STATUS", "") or "").upper()
    if status == "CANCELLED":
        record["reason"] = _("The event was cancelled.")
    elif start > now:
        record["reason"] = _("The event has not happened yet.")
    else:
        record["outcome"] = "new"
    return record


# --- E-mail ---------------------------------------------------------------------------------

# Budgets checked on the raw bytes, before the e-mail parser sees them (security
# review, items 6 and 13): parsing addresses costs about a millisecond each with the
# standard library's header registry, and each nested multipart one level of recursion.
# Real messages stay far below: a few dozen headers, a few hundred recipients at
# most, multiparts nested three or four deep.
MAX_HEADER_BYTES = 256 * 1024
MAX_HEADER_FIELDS = 1000
MAX_ADDRESSES = 500
MAX_MULTIPARTS = 50
MAX_MIME_PARTS = 1000
ADDRESS_HEADERS = re.compile(
    rb"^(?:resent-)?(?:from|to|cc|bcc|reply-to|sender):", re.IGNORECASE | re.MULTILINE
)
MULTIPART_TYPE = re.compile(rb"content-type:[ \t]*(?:\r?\n[ \t]+)*multipart/", re.IGNORECASE)


def message_budget_refusal(raw: bytes) -> str:
    """Why a raw message is not parsed at all ("" when it may be): too many headers,
    addresses or nested multiparts. Counted on the bytes, in linear time."""
    end = len(raw)
    for separator in (b"\r\n\r\n", b"\n\n"):
        found = raw.find(separator)
        if found != -1:
            end = min(end, found)
    head = raw[:end]
    lines = head.splitlines()
    fields = sum(1 for line in lines if line and line[:1] not in (b" ", b"\t"))
    if fields > MAX_HEADER_FIELDS:
        return _("The message has %(count)d header fields; at most %(max)d are read.") % {
            "count": fields,
            "max": MAX_HEADER_FIELDS,
        }
    addresses = 0
    in_address_header = False
    for line in lines:
        if line[:1] not in (b" ", b"\t"):
            in_address_header = ADDRESS_HEADERS.match(line) is not None
        if in_address_header:
            addresses += line.count(b"@")
    if addresses > MAX_ADDRESSES:
        return _(
            "The message names %(count)d addresses; at most %(max)d are read. "
            "Capture the message without its long recipient list."
        ) % {"count": addresses, "max": MAX_ADDRESSES}
    if len(head) > MAX_HEADER_BYTES:
        return _("The message's headers are larger than %(max)d KB; it is not read.") % {
            "max": MAX_HEADER_BYTES // 1024
        }
    if len(MULTIPART_TYPE.findall(raw)) > MAX_MULTIPARTS:
        return _("The message holds more than %(max)d nested parts; it is not read.") % {
            "max": MAX_MULTIPARTS
        }
    return ""


def _too_many_parts(message: EmailMessage) -> bool:
    """More than MAX_MIME_PARTS parts, counted without recursion."""
    count, stack = 0, [message]
    while stack:
        part = stack.pop()
        count += 1
        if count > MAX_MIME_PARTS:
            return True
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            stack.extend(payload)
    return False


def parse_budgeted(raw: bytes) -> EmailMessage:
    """The message parsed once its budgets are checked; raises CaptureError."""
    refusal = message_budget_refusal(raw)
    if refusal:
        raise CaptureError(refusal)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if _too_many_parts(message):
        raise CaptureError(
            _("The message holds more than %(max)d parts; it is not read.")
            % {"max": MAX_MIME_PARTS}
        )
    return message


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header the policy cannot parse
        value = message.get_all(name, failobj=[""])[0] if hasattr(message, "get_all") else ""
    return str(value or "").replace("\x00", "").strip()


def _message_addresses(message: EmailMessage) -> list[dict]:
    found: dict[str, str] = {}
    for field in ("From", "To", "Cc", "Reply-To", "Sender"):
        try:
            values = [str(v) for v in message.get_all(field, [])]
        except Exception:
            values = []
        for name, address in getaddresses(values):
            address = address.strip().lower()
            if "@" not in address or len(address) > 254 or any(c.isspace() for c in address):
                continue
            try:
                Address(addr_spec=address)
            except Exception:
                continue
            if address not in found or (name and not found[address]):
                found[address] = name.replace("\x00", "").strip()[:200]
    return [{"email": e, "name": n} for e, n in found.items()]


def _body_text(message: EmailMessage) -> str:
    try:
        part = message.get_body(preferencelist=("plain", "html"))
    except Exception:
        part = None
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, UnicodeError, AssertionError, KeyError, ValueError):
        payload = part.get_payload(decode=True) or b""
        text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(text, str):
        return ""
    if part.get_content_subtype() == "html":
        text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S | re.I)
        text = re.sub(r"<[^>]+>", " ", text)
        text = re.sub(r"[ \t]+", " ", text)
    return _clean_text(text, NOTES_MAX)


def message_record(message: EmailMessage, *, now: datetime | None = None) -> dict:
    """One e-mail as a capture record (kind `email`)."""
    now = now or timezone.now()
    subject = _clean_text(_header(message, "Subject"), SUBJECT_MAX) or _("(no subject)")
    record: dict[str, Any] = {
        "subject": subject,
        "kind": "email",
        "notes": _body_text(message),
        "occurred_at": None,
        "duration_minutes": 0,
        "addresses": _message_addresses(message),
        "outcome": "new",
        "reason": "",
    }
    sent: datetime | None = None
    date_header = _header(message, "Date")
    if date_header:
        try:
            sent = parsedate_to_datetime(date_header)
        except (TypeError, ValueError, IndexError):
            sent = None
    if sent is not None and timezone.is_naive(sent):
        sent = sent.replace(tzinfo=UTC)
    if sent is None or sent > now + timedelta(days=1) or sent.year < 1970:
        # No usable date: the moment it reached us is the best we know.
        sent = now
    record["occurred_at"] = sent.astimezone(UTC).isoformat()
    message_id = _header(message, "Message-ID").strip("<> ")
    if not message_id:
        fingerprint = f"{date_header}|{subject}|{','.join(a['email'] for a in record['addresses'])}"
        message_id = "nomsgid:" + hashlib.sha256(fingerprint.encode()).hexdigest()[:32]
    record["external_id"] = external_id(message_id)
    if not record["addresses"]:
        record["outcome"] = "skipped"
        record["reason"] = _("The message names no sender or recipient.")
    return record


def _unread_record(reason: str) -> dict:
    """A message of a mailbox that was not read (over a budget), listed with the reason."""
    return {
        "subject": _("(message not read)"),
        "kind": "email",
        "notes": "",
        "occurred_at": None,
        "duration_minutes": 0,
        "addresses": [],
        "outcome": "skipped",
        "reason": reason,
        "external_id": "",
    }


def _looks_like_message(message: EmailMessage) -> bool:
    return any(message.get(h) for h in ("From", "To", "Subject", "Message-ID", "Date"))


def parse_email(raw: bytes, *, now: datetime | None = None) -> list[dict]:
    """A single RFC 822 message (.eml or a raw body) as one capture record."""
    if not raw.strip():
        raise CaptureError(_("The message is empty."))
    message = parse_budgeted(raw)
    if message.defects and not _looks_like_message(message):
        raise CaptureError(_("This is not an e-mail message (no readable headers)."))
    if not _looks_like_message(message) or not _message_addresses(message):
        raise CaptureError(_("This is not an e-mail message: it has no From, To or Cc address."))
    return [message_record(message, now=now)]


def parse_mbox(raw: bytes, *, now: datetime | None = None) -> list[dict]:
    """Every message of an mbox file."""
    if not raw.startswith(b"From "):
        raise CaptureError(_("This is not an mbox file (it must start with a “From ” line)."))
    # mailbox reads from a path: a private temporary file, removed at once.
    handle, path = tempfile.mkstemp(suffix=".mbox")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(raw)
        box = mailbox.mbox(path, factory=None, create=False)
        records = []
        try:
            for key in box.iterkeys():
                if len(records) >= MAX_ITEMS:
                    raise CaptureError(
                        _("The mailbox holds more than %(max)d messages.") % {"max": MAX_ITEMS}
                    )
                try:
                    message = parse_budgeted(box.get_bytes(key))
                except CaptureError as refusal:
                    records.append(_unread_record(str(refusal)))
                    continue
                if not _looks_like_message(message):
                    continue
                records.append(message_record(message, now=now))
        finally:
            box.close()
    finally:
        os.unlink(path)
    if not records:
        raise CaptureError(_("The mailbox holds no messages."))
    return records


def parse_upload(raw: bytes, filename: str, *, now: datetime | None = None) -> tuple[str, list]:
    """(source, records) of an uploaded file, chosen by its extension and checked by content."""
    lowered = filename.lower()
    if lowered.endswith((".ics", ".ical", ".ifb", ".icalendar")):
        return "calendar", parse_calendar(raw, now=now)
    if lowered.endswith(".eml"):
        return "email", parse_email(raw, now=now)
    if lowered.endswith((".mbox", ".mbx")):
        return "email", parse_mbox(raw, now=now)
    raise CaptureError(_("Upload an .ics calendar, an .eml message or an .mbox mailbox."))
