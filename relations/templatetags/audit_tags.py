"""The "History" panel of a record page and the rows of an audit event (directors only)."""

from __future__ import annotations

from typing import Any

from django import template
from django.db import models
from django.urls import reverse
from django.utils.http import urlencode

from relations.audit.services import change_rows
from relations.models import AuditEvent
from relations.roles import Action, may

register = template.Library()

# The panel shows the latest changes; the full trail is one click away.
HISTORY_ROWS = 10


@register.inclusion_tag("audit/partials/history.html", takes_context=True)
def audit_history(context: template.Context, obj: models.Model) -> dict[str, Any]:
    user = context["request"].user
    if not may(user, Action.READ_AUDIT_TRAIL):
        return {"visible": False}
    events = list(AuditEvent.objects.for_object(obj).select_related("actor")[: HISTORY_ROWS + 1])
    query = urlencode({"object_type": obj._meta.label_lower, "object_id": obj.pk})
    return {
        "visible": True,
        "events": events[:HISTORY_ROWS],
        "more": len(events) > HISTORY_ROWS,
        "log_url": f"{reverse('audit-log')}?{query}",
    }


@register.filter
def audit_changes(event: AuditEvent) -> list[tuple[str, Any, Any]]:
    return change_rows(event.action, event.changes)


# Record pages an entry links to (not after a delete: the page is gone).
RECORD_PAGES = {
    "relations.stakeholder": "stakeholder-detail",
    "relations.organization": "organization-detail",
    "relations.interaction": "interaction-detail",
    "relations.relationship": "relationship-detail",
    "relations.strategicgoal": "goal-detail",
}


@register.filter
def audit_record_url(event: AuditEvent) -> str:
    name = RECORD_PAGES.get(event.object_type)
    if name is None or event.action == AuditEvent.Action.DELETE or not event.object_id.isdigit():
        return ""
    return reverse(name, args=[int(event.object_id)])


@register.filter
def audit_value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    # A long note stays readable in a table cell; the admin shows the full value.
    return text if len(text) <= 200 else text[:199] + "…"
