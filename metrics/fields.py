"""The stored explanation of a score: packed numbers, rendered when read.

An explanation (DESIGN §3) is derived from a few dozen numbers: the scores,
their components and each score's top items. A full recomputation writes
~200,000 of them; as JSON (3–4 KB each) writing them was most of its time.
The worker stores `scoring.explanations_pack` records instead (~600 bytes,
`PackedExplanation`), and the model attribute renders the JSON-ready dict
(`scoring.explanation_unpack`, exactly `GroupScores.explanation_for`) the
first time it is read, so list pages that never show it never render it.

Any other dict (set by hand, or stored before this field existed) is kept as
JSON text and read back as it was.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models
from django.db.models.query_utils import DeferredAttribute

from . import scoring


class PackedExplanation(bytes):
    """One `scoring.PACKED_DTYPE` record, as stored."""

    def render(self) -> dict[str, Any]:
        return scoring.explanation_unpack(self)


def _from_stored(value: Any) -> Any:
    """The attribute's value for what the database returned."""
    if value is None or isinstance(value, dict):
        return value
    if isinstance(value, str):  # SQLite hands back text written before this field
        return json.loads(value)
    data = bytes(value)
    if data[:1] == bytes([scoring.PACK_VERSION]):
        return PackedExplanation(data)
    return json.loads(data)  # JSON text starts with "{", never a version byte


class _RenderedOnRead(DeferredAttribute):
    """Renders a packed value on first access (a data descriptor, so that reads of a
    value already in the instance's __dict__ come through here too)."""

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value

    def __get__(self, instance, cls=None):
        value = super().__get__(instance, cls)
        if isinstance(value, PackedExplanation):
            value = value.render()
            instance.__dict__[self.field.attname] = value
        return value


class ExplanationField(models.BinaryField):
    """A score's explanation: a dict in Python, packed bytes (or JSON text) in the database."""

    descriptor_class = _RenderedOnRead

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        # The stored form as it is: reading the attribute would render a packed value.
        if self.attname in model_instance.__dict__:
            return model_instance.__dict__[self.attname]
        return super().pre_save(model_instance, add)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return _from_stored(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, PackedExplanation):
            return value.render()
        if isinstance(value, bytes | memoryview | str):
            value = _from_stored(value)
            return value.render() if isinstance(value, PackedExplanation) else value
        return value

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None or isinstance(value, PackedExplanation):
            return super().get_db_prep_value(value, connection, prepared)
        if isinstance(value, bytes | memoryview):
            return super().get_db_prep_value(
                PackedExplanation(_checked(bytes(value))), connection, prepared
            )
        text = json.dumps(value, allow_nan=False)
        return super().get_db_prep_value(text.encode(), connection, prepared)

    def value_to_string(self, obj: models.Model) -> str:
        return json.dumps(self.value_from_object(obj))


def _checked(data: bytes) -> bytes:
    """Raw bytes must be a packed record: anything else would fail when read."""
    scoring.explanation_unpack(data)
    return data
