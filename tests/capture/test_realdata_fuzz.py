"""Hypothesis over the vCard and calendar readers with mutated real files: other line
ends, refolded or unfolded lines, cut or repeated lines, other encodings. The readers
return records or refuse cleanly (CaptureError, ImportFileError, a card's `_error`);
they never raise anything else, and every skipped item says why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relations.capture.parsing import CaptureError, parse_calendar
from relations.importing.parsing import ImportFileError, read_vcards
from tests.realdata import read_realdata, realdata_files

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
VCARDS = realdata_files("vcard", ".vcf")
CALENDARS = realdata_files("ics", ".ics")
LINE_ENDS = ["\r\n", "\n", "\r", "\r\r\n"]


@st.composite
def mutated(draw, folder: str, names: list[str]) -> bytes:
    if not names:
        pytest.skip("the real-world files are not next to the repository")
    text = read_realdata(folder, draw(st.sampled_from(names))).decode("utf-8")
    lines = text.replace("\r\r\n", "\n").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for _ in range(draw(st.integers(0, 3))):
        if not lines:
            break
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["fold", "unfold", "cut", "repeat", "tab", "blank"]))
        line = lines[index]
        if action == "fold" and len(line) > 2:
            at = draw(st.integers(1, len(line) - 1))
            lines[index : index + 1] = [line[:at], " " + line[at:]]
        elif action == "unfold" and index + 1 < len(lines):
            lines[index : index + 2] = [line + lines[index + 1].lstrip(" \t")]
        elif action == "cut":
            del lines[index]
        elif action == "repeat":
            lines.insert(index, line)
        elif action == "tab":
            lines[index] = "\t" + line
        else:
            lines.insert(index, "")
    if draw(st.booleans()):
        ending = draw(st.sampled_from(LINE_ENDS))
        body = ending.join(lines)
    else:  # mixed line ends
        body = "".join(line + draw(st.sampled_from(LINE_ENDS)) for line in lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    return body.encode(encoding, "replace")


@FUZZ
@given(mutated("vcard", VCARDS))
def test_mutated_real_vcards_are_read_or_refused_cleanly(raw):
    try:
        cards = read_vcards(raw)
    except ImportFileError as refusal:
        assert str(refusal)
        return
    for card in cards:
        assert set(card.values) <= {
            "name",
            "email",
            "phone",
            "organization",
            "title",
            "notes",
            "_error",
        }
        if "_error" in card.values:
            assert card.values["_error"]


@FUZZ
@given(mutated("ics", CALENDARS))
def test_mutated_real_calendars_are_read_or_refused_cleanly(raw):
    try:
        items = parse_calendar(raw, now=NOW)
    except CaptureError as refusal:
        assert str(refusal)
        return
    for item in items:
        assert item["outcome"] in {"new", "skipped"}
        if item["outcome"] == "skipped":
            assert item["reason"], item
        assert "_uid" not in item
