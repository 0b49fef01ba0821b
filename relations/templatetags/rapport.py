"""Template helpers for the browser pages: per-user permission checks and query strings."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.auth.models import AnonymousUser, User
from django.utils.safestring import SafeString, mark_safe

from relations import registry
from relations.models import Commitment, Interaction

register = template.Library()


@register.simple_tag(takes_context=True)
def query_replace(context: template.Context, **changes: Any) -> str:
    """The current query string with some parameters replaced (pagination keeps the filters)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def notes_visible_to(interaction: Interaction, user: User | AnonymousUser) -> bool:
    return interaction.notes_visible_to(user)


@register.filter
def editable_by(interaction: Interaction, user: User | AnonymousUser) -> bool:
    return interaction.editable_by(user)


@register.filter
def closable_by(commitment: Commitment, user: User | AnonymousUser) -> bool:
    return commitment.can_be_closed_by(user)


@register.filter
def person(user: User | None) -> str:
    """A colleague's display name."""
    if user is None:
        return "—"
    return user.get_full_name() or user.username


@register.filter
def signed(value: int | None) -> str:
    if value is None:
        return "—"
    return f"+{value}" if value > 0 else str(value).replace("-", "−")


@register.simple_tag(takes_context=True)
def page_panels(context: template.Context, slot: str, obj: Any) -> SafeString:
    """The panels other apps registered for this slot of a page (`relations.registry`):
    relations' templates name no tag library of the apps above them."""
    return mark_safe("".join(str(render(context, obj)) for render in registry.page_panels(slot)))
