"""Formatting of scorecard changes."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from metrics.formatting import localized, number

register = template.Library()


@register.simple_tag
def change_points(value: float | None, *, higher_is_better: bool = True) -> SafeString:
    """A change of a share in percentage points, with an arrow and its meaning in words."""
    value = number(value)
    if value is None:
        return format_html('<span class="text-body-secondary small">{}</span>', _("no trend"))
    points = round(value * 100)
    if points == 0:
        return format_html('<span class="small text-body-secondary">{}</span>', _("unchanged"))
    better = (points > 0) == higher_is_better
    css = "trend-up" if better else "trend-down"
    icon = "bi-arrow-up" if points > 0 else "bi-arrow-down"
    text = _("%(sign)s%(points)s points") % {
        "sign": "+" if points > 0 else "−",
        "points": localized(abs(points), 0),
    }
    return format_html(
        '<span class="small {}"><i class="bi {}" aria-hidden="true"></i> {}</span>',
        css,
        icon,
        text,
    )


@register.filter
def signed_ratio(value: float | None) -> str:
    value = number(value)
    if value is None:
        return "—"
    sign = "+" if value >= 0.005 else ("−" if value <= -0.005 else "")
    return f"{sign}{localized(abs(value), 2)}"
