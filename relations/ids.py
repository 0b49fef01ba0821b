"""Record ids from untrusted text (URLs, query strings, form values)."""

import re

# ASCII digits only ('³'.isdigit() is True, but int('³') fails), and few enough
# of them to fit PostgreSQL's bigint: anything else is simply not an id.
_ID = re.compile(r"[0-9]{1,18}")


def parse_id(value: object) -> int | None:
    text = str(value)
    return int(text) if _ID.fullmatch(text) else None
