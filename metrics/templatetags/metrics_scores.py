"""Template helpers of the scores panel: labelled figures with their explanations."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from metrics.models import CurrentScore

register = template.Library()

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
    if how == "money":
        return f"{value:,.0f}"
    if how == "percent":
        return f"{value * 100:+.0f}%"
    return f"{value:.2f}"


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
        return f"{value:.3g}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {component_value(v)}" for k, v in value.items())
    return str(value)


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
    from metrics.models import RelationshipScore
    from relations.models import Stakeholder

    user = context["request"].user
    score = RelationshipScore.objects.visible_to(user).filter(relationship=relationship).first()
    visible = score is not None or (
        Stakeholder.objects.scores_visible_to(user).filter(pk=relationship.stakeholder_id).exists()
    )
    return {"score": score, "visible": visible, "request": context["request"]}
