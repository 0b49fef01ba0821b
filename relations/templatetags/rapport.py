"""Template helpers for the browser pages: per-user permission checks and query strings."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.humanize.templatetags.humanize import NaturalTimeFormatter, naturaltime
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince

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


@register.filter
def recency(value: Any) -> str:
    """A past moment where recency matters (DESIGN §5b): its relative age ("3 days ago",
    "3 dagen geleden") in a <time> whose title is the full medium date.

    Django's humanize words it; beyond a day the age keeps its largest unit only
    ("3 days ago", not "3 days, 4 hours ago").
    """
    if not hasattr(value, "hour"):
        return "—"
    now = timezone.now() if timezone.is_aware(value) else timezone.now().replace(tzinfo=None)
    if value < now and (now - value).days:
        words = NaturalTimeFormatter.time_strings["past-day"] % {
            "delta": timesince(
                value, now, time_strings=NaturalTimeFormatter.past_substrings, depth=1
            )
        }
    else:
        words = naturaltime(value)
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        date_format(local, "DATETIME_FORMAT"),
        words,
    )


@register.simple_tag(takes_context=True)
def page_panels(context: template.Context, slot: str, obj: Any) -> SafeString:
    """The panels other apps registered for this slot of a page (`relations.registry`):
    relations' templates name no tag library of the apps above them."""
    return mark_safe("".join(str(render(context, obj)) for render in registry.page_panels(slot)))
