"""Template helpers of the scores panel: labelled figures with their explanations."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from metrics.formatting import format_money, localized, risk_reason, ror
from metrics.models import CurrentScore
from metrics.pulse import PulseGap, sparkline_points

register = template.Library()
# The at-risk reasons in the reader's language, as on the dashboards.
register.filter("risk_reason", risk_reason)

# (field on the model, key in the explanation, label, how to show it)
PANEL_ROWS = [
    ("trust", "trust", _("Trust"), "ratio"),
    ("reciprocity", "reciprocity", _("Reciprocity"), "ratio"),
    ("strength", "strength", _("Strength"), "ratio"),
    ("sentiment", "sentiment", _("Sentiment"), "ratio"),
    ("reliability", "reliability", _("Reliability"), "ratio"),
    ("given", "given", _("Given"), "amount"),
    ("received", "received", _("Received"), "amount"),
    ("investment", "investment", _("Investment"), "money"),
    ("return_value", "return", _("Return"), "money"),
    ("ror", "ror", _("Return on relationship"), "percent"),
]


def _shown(value: float | None, how: str) -> str:
    if value is None:
        return "—"
    # Formatted for the active language ("1.234", "0,57"), like the dashboards.
    if how == "money":
        return format_money(value)
    if how == "percent":
        return ror(value)
    return localized(value, 2)


@register.simple_tag
def score_rows(score: CurrentScore) -> list[dict[str, Any]]:
    """The panel's figures: label, shown value and the explanation entry of each."""
    explanation = score.explanation or {}
    return [
        {
            "label": label,
            "value": getattr(score, field),
            "shown": _shown(getattr(score, field), how),
            "entry": explanation.get(key) or {},
        }
        for field, key, label, how in PANEL_ROWS
    ]


@register.filter
def component_value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return number_format(float(f"{value:.3g}"))
    if isinstance(value, dict):
        return ", ".join(
            f"{str(component_label(k)).lower()} {component_value(v)}" for k, v in value.items()
        )
    return str(value)


# Names of the explanation's components and item types (metrics.scoring), as shown.
COMPONENT_LABELS = {
    "broken_weight": _("Broken (weighted)"),
    "commitment": _("Commitment"),
    "counted": _("Counted"),
    "days_since_contact": _("Days since last contact"),
    "engagement": _("Engagement"),
    "given": _("Given"),
    "hourly_rate": _("Hourly rate"),
    "interaction": _("Interaction"),
    "interactions": _("Interactions"),
    "investment": _("Investment"),
    "kept_weight": _("Kept (weighted)"),
    "outcome": _("Outcome"),
    "outcomes": _("Outcomes"),
    "received": _("Received"),
    "reciprocity": _("Reciprocity"),
    "reciprocity_balance": _("Reciprocity balance"),
    "reliability": _("Reliability"),
    "return": _("Return"),
    "ror": _("Return on relationship"),
    "sentiment": _("Sentiment"),
    "strength": _("Strength"),
    "trust": _("Trust"),
    "weight": _("Weight"),
    "weighted_sentiment": _("Weighted sentiment"),
    "weights": _("Weights"),
    "window_days": _("Window (days)"),
}


@register.filter
def component_label(name: Any) -> str:
    """A component's label in the reader's language; unknown names readable as they are."""
    label = COMPONENT_LABELS.get(str(name))
    return str(label) if label is not None else str(name).replace("_", " ").capitalize()


@register.inclusion_tag("metrics/partials/scores_panel.html", takes_context=True)
def stakeholder_scores_panel(context: dict, stakeholder) -> dict[str, Any]:
    """The stakeholder's stored scores, for those who may see them (DESIGN §7)."""
    from metrics.models import StakeholderScore
    from relations.models import Stakeholder

    user = context["request"].user
    score = StakeholderScore.objects.visible_to(user).filter(stakeholder=stakeholder).first()
    visible = score is not None or (
        Stakeholder.objects.scores_visible_to(user).filter(pk=stakeholder.pk).exists()
    )
    return {"score": score, "visible": visible, "request": context["request"]}


@register.inclusion_tag("metrics/partials/scores_panel.html", takes_context=True)
def relationship_scores_panel(context: dict, relationship) -> dict[str, Any]:
    """The relationship's stored scores and, beside trust, the latest pulse the viewer
    may see with the review flag: the rows and the flag of the relationships API
    (`relationships_with_review`), so page and API never disagree."""
    from relations.models import AuthenticityPulse, Relationship
    from relations.registry import relationship_review

    user = context["request"].user
    # One query: the row's scores, its latest pulse and the flag.
    row = relationship_review(
        Relationship.objects.filter(pk=relationship.pk).select_related("score"), user
    ).first()
    visible = row is not None and row.scores_visible
    score = getattr(row, "score", None) if visible else None
    pulse = None
    if row is not None and row.latest_pulse_id is not None:
        pulse = AuthenticityPulse.objects.select_related("assessed_by").get(pk=row.latest_pulse_id)
    return {
        "score": score,
        "visible": visible,
        "request": context["request"],
        "pulse": pulse,
        "pulse_flag": pulse_flag_message(
            review_gap(row), own=pulse.assessed_by_id == user.pk, author=pulse.assessed_by
        )
        if pulse is not None
        else "",
    }


def review_gap(row: Any) -> PulseGap | None:
    """The disagreement of a row annotated by `relationships_with_review`, if flagged."""
    if row is None or not row.flagged_for_review:
        return None
    return PulseGap(
        direction=row.review_direction, pulse=row.latest_pulse_score, trust=row.review_trust
    )


def pulse_flag_message(gap: PulseGap | None, *, own: bool = True, author: Any = None) -> str:
    """The review flag in the reader's language, or "" when pulse and trust agree."""
    if gap is None:
        return ""
    numbers = {"pulse": localized(gap.pulse, 2), "trust": localized(gap.trust, 2)}
    if own:
        if gap.direction == "higher":
            text = _(
                "Your assessment is higher than the computed trust (%(pulse)s vs %(trust)s): "
                "check recent broken commitments or negative interactions."
            )
        else:
            text = _(
                "Your assessment is lower than the computed trust (%(pulse)s vs %(trust)s): "
                "check that what worries you is logged, as interactions with their "
                "sentiment or as broken commitments."
            )
        return str(text) % numbers
    name = (author.get_full_name() or author.username) if author is not None else ""
    if gap.direction == "higher":
        text = _(
            "%(name)s's assessment is higher than the computed trust (%(pulse)s vs %(trust)s): "
            "check recent broken commitments or negative interactions."
        )
    else:
        text = _(
            "%(name)s's assessment is lower than the computed trust (%(pulse)s vs %(trust)s): "
            "check that what worries them is logged, as interactions with their "
            "sentiment or as broken commitments."
        )
    return str(text) % {**numbers, "name": name}


@register.simple_tag
def pulse_sparkline(pulses: list, width: int = 120, height: int = 28) -> str:
    """The trend of pulse scores (given newest first, drawn oldest first) as inline SVG."""
    values = [p.score for p in reversed(list(pulses))]
    if not values:
        return ""
    label = _("Pulse from %(first)s to %(last)s over %(n)d assessments") % {
        "first": localized(values[0], 2),
        "last": localized(values[-1], 2),
        "n": len(values),
    }
    # Presentation attributes, not a style attribute: the strict CSP allows them.
    return format_html(
        '<svg class="sparkline pulse-sparkline" role="img" aria-label="{}" viewBox="0 0 {} {}" '
        'width="{}" height="{}"><title>{}</title><polyline points="{}" fill="none" '
        'stroke="currentColor" stroke-width="1.5" /></svg>',
        label,
        width,
        height,
        width,
        height,
        label,
        sparkline_points(values, width, height),
    )
