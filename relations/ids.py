"""Record ids from untrusted text (URLs, query strings, form values)."""

import re

from django.core.exceptions import EmptyResultSet
from django.db.models import IntegerField
from django.db.models.lookups import In

# ASCII digits only ('³'.isdigit() is True, but int('³') fails), and few enough
# of them to fit PostgreSQL's bigint: anything else is simply not an id.
_ID = re.compile(r"[0-9]{1,18}")


def parse_id(value: object) -> int | None:
    text = str(value)
    return int(text) if _ID.fullmatch(text) else None


@IntegerField.register_lookup
class IntegerFieldIn(In):
    """`id__in=[...]` with values beyond the column's range matches nothing for them,
    as Django's own exact and comparison lookups on integers do: a 20-digit id typed
    into a form (a multiple choice: stakeholders, participants) is simply no record,
    not an OverflowError from SQLite or a DataError from PostgreSQL."""

    def process_rhs(self, compiler, connection):  # noqa: ANN001, ANN201 (Django's)
        if self.rhs_is_direct_value():
            internal_type = self.lhs.output_field.get_internal_type()
            low, high = connection.ops.integer_field_range(internal_type)
            kept = [
                value
                for value in self.rhs
                if not isinstance(value, int)
                or ((low is None or value >= low) and (high is None or value <= high))
            ]
            if not kept:
                raise EmptyResultSet
            self.rhs = kept
        return super().process_rhs(compiler, connection)
