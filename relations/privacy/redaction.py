"""Pure text redaction for erasure (GDPR Art. 17): no ORM here.

A person is erased by replacing every mention of them (their name, e-mail,
phone and any long free-text value of theirs) with `ERASED`, in plain strings
and inside JSON structures alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

# Not translated: it is stored data, the same whatever the language of the page.
ERASED = "[erased]"


def redaction_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern matching any of `terms` as a whole word.

    Longest first, so that "Jane Doe" wins over "Jane". Whole words only, so
    that erasing "Ann" leaves "Annual report" alone.
    """
    unique = sorted({t.strip() for t in terms if t and t.strip()}, key=len, reverse=True)
    if not unique:
        return None
    alternatives = "|".join(re.escape(t) for t in unique)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def redact_text(text: str, pattern: re.Pattern[str] | None) -> str:
    if pattern is None or not text:
        return text
    return pattern.sub(ERASED, text)


def redact_json(
    value: Any,
    pattern: re.Pattern[str] | None,
    *,
    person_id: int | None = None,
    person_pattern: re.Pattern[str] | None = None,
    own_fields: tuple[str, ...] = (),
) -> Any:
    """The same structure with every string (keys included) redacted.

    An object that refers to the person (`"stakeholder": person_id`, or
    `person_id` among `"stakeholders"`: a webhook payload, a stored API answer)
    is about them, so `person_pattern` (which also knows their first name) is
    used inside it. An object that is the person's record (their id and their
    name: a stored answer to the request that created them) also loses the
    values of `own_fields`, their title included.
    """
    if isinstance(value, str):
        return redact_text(value, pattern)
    more = {"person_id": person_id, "person_pattern": person_pattern, "own_fields": own_fields}
    if isinstance(value, list):
        return [redact_json(v, pattern, **more) for v in value]
    if isinstance(value, dict):
        if person_id is not None and person_pattern is not None:
            if _refers_to(value, person_id):
                pattern = person_pattern
            if own_fields and _is_record_of(value, person_id, person_pattern):
                value = mask_keys(value, own_fields)
        return {redact_text(k, pattern): redact_json(v, pattern, **more) for k, v in value.items()}
    return value


def _refers_to(obj: dict, person_id: int) -> bool:
    if obj.get("stakeholder") == person_id:
        return True
    others = obj.get("stakeholders")
    return isinstance(others, list) and person_id in others


def _is_record_of(obj: dict, person_id: int, person_pattern: re.Pattern[str]) -> bool:
    name = obj.get("name")
    return (
        obj.get("id") == person_id and isinstance(name, str) and bool(person_pattern.search(name))
    )


def mask_keys(value: Any, keys: Iterable[str]) -> Any:
    """`value` with the values under `keys` (at any depth) replaced by ERASED.

    For the audit trail of the person's own record: their name, e-mail, notes…
    go whatever the value was (before-and-after pairs included).
    """
    keys = set(keys)
    if isinstance(value, list):
        return [mask_keys(v, keys) for v in value]
    if isinstance(value, dict):
        return {k: (_masked(v) if k in keys else mask_keys(v, keys)) for k, v in value.items()}
    return value


def _masked(value: Any) -> Any:
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if value in (None, ""):
        return value
    return ERASED


def needles_regex(needles: Iterable[str]) -> str:
    """One regular expression for the database (`__iregex`) matching any needle.

    One pattern per column, not one LIKE per needle: PostgreSQL then converts a
    JSON column to text once per row instead of once per needle.
    """
    return "|".join(re.escape(n) for n in sorted(set(needles), key=len, reverse=True))


def search_needles(term: str) -> list[str]:
    """What to look for in the database to find `term`: as typed, and as JSON
    text spells it (SQLite keeps JSON with non-ASCII characters escaped)."""
    escaped = json.dumps(term)[1:-1]
    return sorted({term, escaped})
