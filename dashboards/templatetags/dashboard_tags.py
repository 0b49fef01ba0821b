"""Template helpers of the dashboards: figure formats, sparklines, and the roll-up and
give/take ledger sections that the stakeholder and organisation pages include."""

from __future__ import annotations

from typing import Any

from django import template
from django.core.exceptions import ObjectDoesNotExist
from django.utils.formats import number_format
from django.utils.html import format_html, json_script
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from dashboards import figures as dashboards
from metrics.formatting import (
    balance_words,
    format_money,
    localized,
    medium_date,
    number,
    risk_reason,
    ror,
    score_points,
    score_words,
)
from metrics.templatetags import metrics_scores
from relations.models import Organization, Stakeholder

register = template.Library()
register.filter("ror", ror)
register.tag("ror_figure", metrics_scores.register.tags["ror_figure"])
register.filter("no_return", metrics_scores.register.filters["no_return"])
register.filter("risk_reason", risk_reason)
# Scores read alike on every page (DESIGN §5b): one home, metrics.formatting.
register.filter("score", metrics_scores.score, is_safe=True)
register.filter("score_in_link", metrics_scores.score_in_link, is_safe=True)
register.filter("score_number", metrics_scores.score_number, is_safe=True)
register.filter("score_words", score_words)
register.filter("medium_date", medium_date)
register.filter("balance_words", balance_words)

# Roll-up trends cover a year of daily snapshots.
ROLLUP_TREND_DAYS = 365


@register.filter
def ratio(value: float | None) -> str:
    """A 0–1 score as its 0–100 number, for plain text (tables use the `score` badge)."""
    points = score_points(value)
    return "—" if points is None else localized(points, 0)


@register.filter
def share(value: float | None) -> str:
    """A 0–1 share as a whole percentage."""
    value = number(value)
    return "—" if value is None else f"{localized(value * 100, 0)}%"


@register.filter
def money(value: float | None) -> str:
    """An amount in RAPPORT_CURRENCY, whole units, formatted for the active language."""
    return format_money(number(value))


@register.filter
def index(value: float | None) -> str:
    value = number(value)
    return "—" if value is None else localized(value, 0)


@register.filter
def trust_class(value: float | None) -> str:
    return dashboards.trust_class(number(value))


@register.filter
def related_or_none(obj: Any, name: str) -> Any:
    """A reverse one-to-one (a stored score) or None when it does not exist yet."""
    try:
        return getattr(obj, name)
    except ObjectDoesNotExist:  # RelatedObjectDoesNotExist subclasses it
        return None


@register.simple_tag(takes_context=True)
def chart_data(context: template.Context, chart: dict, element_id: str) -> SafeString:
    """The chart's JSON as a data block, carrying the CSP nonce like every <script>."""
    block = json_script(chart, element_id)
    # The nonce is lazy and reads as false until first used: test for None only.
    nonce = context.get("csp_nonce")
    if nonce is None:
        return block
    return SafeString(block.replace("<script ", format_html('<script nonce="{}" ', str(nonce)), 1))


@register.simple_tag
def chart_table(chart: dict) -> dict[str, Any]:
    """The figures of a chart as a table: a header and one row per label."""
    datasets = chart["datasets"]
    return {
        "header": [d["label"] for d in datasets],
        "rows": [
            (label, [d["data"][i] for d in datasets]) for i, label in enumerate(chart["labels"])
        ],
    }


@register.filter
def figure(value: Any) -> str:
    """A chart figure in its table: up to three decimals, a dash for none."""
    if value is None:
        return "—"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return localized(value, 0, grouping=True)
        return number_format(float(f"{value:.3g}"))
    return str(value)


@register.simple_tag
def sparkline(values: list[float], width: int = 120, height: int = 28) -> SafeString:
    """An inline SVG polyline of 0–1 values: no script, no style attribute (CSP)."""
    if not values:
        return format_html('<span class="text-body-secondary small">{}</span>', _("no history"))
    if len(values) == 1:
        values = [values[0], values[0]]
    step = width / (len(values) - 1)
    points = " ".join(
        f"{i * step:.1f},{height - 2 - max(0.0, min(1.0, v)) * (height - 4):.1f}"
        for i, v in enumerate(values)
    )
    label = _("Trust from %(first)s to %(last)s over %(n)d snapshots") % {
        "first": score_words(values[0]),
        "last": score_words(values[-1]),
        "n": len(values),
    }
    return format_html(
        '<svg class="sparkline" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}" '
        'height="{}"><title>{}</title><polyline points="{}" fill="none" /></svg>',
        label,
        width,
        height,
        width,
        height,
        label,
        points,
    )


@register.inclusion_tag("dashboards/partials/ledger.html", takes_context=True)
def stakeholder_ledger(context: template.Context, stakeholder: Stakeholder) -> dict[str, Any]:
    """The give/take ledger of one stakeholder, for those who may see its scores."""
    user = context["request"].user
    visible = Stakeholder.objects.scores_visible_to(user).filter(pk=stakeholder.pk).exists()
    rows = dashboards.ledger(dashboards.stakeholder_interactions(stakeholder.pk)) if visible else []
    return {
        "visible": visible,
        "csp_nonce": context.get("csp_nonce"),
        **_ledger_context(rows, f"ledger-stakeholder-{stakeholder.pk}", stakeholder.name),
    }


@register.inclusion_tag("dashboards/partials/organization_rollup.html", takes_context=True)
def organization_rollup(context: template.Context, organization: Organization) -> dict[str, Any]:
    """Scores of the organisation's stakeholders aggregated, their trend, and the ledger,
    over the stakeholders whose scores the user may see (all of them for directors)."""
    user = context["request"].user
    stakeholders = Stakeholder.objects.scores_visible_to(user).filter(organization=organization)
    figures = dashboards.score_rollup(stakeholders)
    trend = dashboards.snapshot_trend(stakeholders, ROLLUP_TREND_DAYS)
    trend_chart = dashboards.line_chart(
        [row["date"].isoformat() for row in trend],
        {
            _("Mean trust"): [row["trust"] for row in trend],
            _("Mean reciprocity"): [row["reciprocity"] for row in trend],
        },
        y_min=0,
        y_max=1,
    )
    rows = dashboards.ledger(dashboards.organization_interactions(organization.pk, stakeholders))
    return {
        "organization": organization,
        "figures": figures,
        "trend": trend,
        "trend_chart": trend_chart,
        "trend_id": f"org-trend-{organization.pk}",
        "ledger": _ledger_context(
            rows, f"ledger-organization-{organization.pk}", organization.name
        ),
        "csp_nonce": context.get("csp_nonce"),
    }


def _ledger_context(rows: list[dict], chart_id: str, subject: str) -> dict[str, Any]:
    balance = rows[-1]["balance"] if rows else None
    return {
        "rows": rows,
        "chart": dashboards.ledger_chart(rows),
        "chart_id": chart_id,
        "balance": balance,
        "owed": abs(balance) if balance else 0,
        "subject": subject,
    }
