"""The API's JSON parser: DRF's, with the limits untrusted input needs.

- Nesting deeper than MAX_JSON_DEPTH is a 400: no request of the API nests more
  than a few levels, and deeper structures make every recursive consumer (the
  parser itself, validation, storage in JSON columns) fail.
- A body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 (Django refuses to read it;
  relations.api.exceptions answers it).
"""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# The deepest request the API documents is four levels (a bulk item's list of ids).
MAX_JSON_DEPTH = 32


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """Whether `value` nests more than `limit` arrays and objects, counted without
    recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> Any:  # noqa: ANN001
        nested = _("The JSON is nested more than %(max)d levels deep.") % {"max": MAX_JSON_DEPTH}
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(nested) from None
        if json_depth_exceeds(data, MAX_JSON_DEPTH):
            raise ParseError(nested)
        return data


def json_loads_bounded(text: str) -> Any:
    """json.loads for JSON carried inside a form field (the import mapping): raises
    ValueError when it is not JSON or nests too deep."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError("nested too deep") from None
    if json_depth_exceeds(data, MAX_JSON_DEPTH):
        raise ValueError("nested too deep")
    return data
