"""The audit trail: queries over AuditEvent and the one sanctioned way to change a row.

Audit events are append-only. Three layers enforce it:

- `AuditEvent.save()` refuses to save an existing row;
- `AuditEventQuerySet.update()` and `.delete()` refuse, except inside `masking()`;
- on PostgreSQL a row trigger (migration `audit_append_only_trigger`) raises on every
  UPDATE and DELETE of `relations_auditevent`, with two exceptions: deleting a user
  sets `actor` to NULL (nothing else may change in that UPDATE), and an UPDATE inside
  `masking()`, which sets the transaction-local setting `rapport.audit_mask` to `on`
  (only `object_repr` and `changes` may change then).

The one sanctioned change goes through `masking()`, for GDPR erasure: the record that
something happened stays, the personal values in it are replaced.
`mask_for_erasure()` (relations.querysets, the erasure service's) finds and redacts
every mention of a person.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import connection, models, transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast

from relations.querysets import AuditEventQuerySet as ErasureQuerySet

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# What replaces a masked personal value in an audit entry.
MASKED = "[erased]"
# What replaces a secret in an audit entry (webhook secrets, token digests).
REDACTED = "[redacted]"
# Never written to the audit trail in clear.
SECRET_FIELD_NAMES = frozenset({"secret", "password", "digest"})

MASK_SETTING = "rapport.audit_mask"

APPEND_ONLY_TRIGGER_SQL = f"""
CREATE OR REPLACE FUNCTION relations_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        -- AuditEvent.objects.mask_for_erasure(): only the repr and the changes.
        IF current_setting('{MASK_SETTING}', true) = 'on'
           AND (NEW.id, NEW.at, NEW.action, NEW.object_type, NEW.object_id, NEW.actor_id)
               IS NOT DISTINCT FROM
               (OLD.id, OLD.at, OLD.action, OLD.object_type, OLD.object_id, OLD.actor_id) THEN
            RETURN NEW;
        END IF;
        -- Deleting a user sets the actor to NULL (on_delete=SET_NULL), nothing else.
        IF OLD.actor_id IS NOT NULL AND NEW.actor_id IS NULL
           AND (NEW.id, NEW.at, NEW.action, NEW.object_type, NEW.object_id,
                NEW.object_repr, NEW.changes)
               IS NOT DISTINCT FROM
               (OLD.id, OLD.at, OLD.action, OLD.object_type, OLD.object_id,
                OLD.object_repr, OLD.changes) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'relations_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS relations_auditevent_append_only ON relations_auditevent;
CREATE TRIGGER relations_auditevent_append_only
    BEFORE UPDATE OR DELETE ON relations_auditevent
    FOR EACH ROW EXECUTE FUNCTION relations_auditevent_append_only();
"""

DROP_APPEND_ONLY_TRIGGER_SQL = """
DROP TRIGGER IF EXISTS relations_auditevent_append_only ON relations_auditevent;
DROP FUNCTION IF EXISTS relations_auditevent_append_only();
"""


_masking_now: ContextVar[bool] = ContextVar("rapport_audit_masking", default=False)


@contextmanager
def masking() -> Iterator[None]:
    """The one door through which existing audit rows may change (erasure only)."""
    postgres = connection.vendor == "postgresql"
    with transaction.atomic():
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, 'on', true)", [MASK_SETTING])
        token = _masking_now.set(True)
        try:
            yield
        finally:
            _masking_now.reset(token)
            if postgres:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config(%s, 'off', true)", [MASK_SETTING])


class AuditEventQuerySet(ErasureQuerySet):
    def update(self, **kwargs: Any) -> int:
        if not _masking_now.get() or set(kwargs) - {"object_repr", "changes"}:
            raise ValueError("Audit events are append-only; erasure masks them (masking()).")
        return super().update(**kwargs)

    def mask_for_erasure(self, **kwargs: Any) -> int:
        with masking():
            return super().mask_for_erasure(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ValueError("Audit events are append-only.")

    def visible_to(self, user: User) -> AuditEventQuerySet:
        """The trail is for directors (and superusers) only."""
        from relations.roles import Action, may

        return self if may(user, Action.READ_AUDIT_TRAIL) else self.none()

    def for_object(self, obj: models.Model) -> AuditEventQuerySet:
        return self.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))

    def search(
        self,
        *,
        text: str = "",
        object_type: str = "",
        object_id: str = "",
        actor: int | None = None,
        action: str = "",
        since: date | None = None,
        until: date | None = None,
    ) -> AuditEventQuerySet:
        """Events matching every given criterion; `text` looks in the record's name,
        its id, the actor's username and the recorded values."""
        qs = self
        if object_type:
            qs = qs.filter(object_type=object_type)
        if object_id:
            qs = qs.filter(object_id=object_id)
        if actor is not None:
            qs = qs.filter(actor_id=actor)
        if action:
            qs = qs.filter(action=action)
        if since:
            qs = qs.filter(at__date__gte=since)
        if until:
            qs = qs.filter(at__date__lte=until)
        if text:
            qs = qs.annotate(_changes_text=Cast("changes", TextField())).filter(
                Q(object_repr__icontains=text)
                | Q(object_id=text)
                | Q(actor__username__icontains=text)
                | Q(_changes_text__icontains=text)
            )
        return qs


def change_rows(action: str, changes: dict) -> list[tuple[str, Any, Any]]:
    """(field, before, after) for display: an update stores [before, after] pairs,
    a create the new values, a delete the last values."""
    rows = []
    for name, value in (changes or {}).items():
        if action == "update" and isinstance(value, list) and len(value) == 2:
            rows.append((name, value[0], value[1]))
        elif action == "delete":
            rows.append((name, value, None))
        else:
            rows.append((name, None, value))
    return rows
