"""What metrics adds to relations, registered from `MetricsConfig.ready()` (see
`relations.registry`): the scores panels on its pages, the list's risk filter, the
scores in a GDPR export, and its tables for erasure and merges."""

from __future__ import annotations

from relations import registry

from .models import RelationshipScore, StakeholderScore
from .querysets import relationships_with_review
from .templatetags import metrics_scores, score_history
from .timeline import BUILT_IN_SOURCES

# The stored scores a data-subject export includes, stakeholder- and relationship-level.
EXPORTED_SCORE_FIELDS = (
    "given",
    "received",
    "reciprocity",
    "reciprocity_balance",
    "strength",
    "sentiment",
    "reliability",
    "trust",
    "investment",
    "return_value",
    "ror",
    "at_risk",
    "risk_reasons",
    "last_contact",
    "computed_at",
)


def register() -> None:
    # Scores and snapshots mention people (risk reasons, explanations) and are derived.
    registry.personal_data_register("metrics")
    registry.derived_data_register("metrics")
    registry.export_section_register(
        registry.ExportSection("scores", StakeholderScore, "stakeholder_id", EXPORTED_SCORE_FIELDS)
    )
    registry.relationship_export_section_register(
        registry.ExportSection(
            "scores", RelationshipScore, "relationship_id", EXPORTED_SCORE_FIELDS
        )
    )
    registry.stakeholder_filter_register(
        "at_risk", lambda form, stakeholders, value: stakeholders.filter(score__at_risk=True)
    )
    registry.relationship_review_register(relationships_with_review)
    registry.page_panel_register(
        "stakeholder.scores",
        registry.template_panel(
            "metrics/partials/scores_panel.html", metrics_scores.stakeholder_scores_panel
        ),
    )
    registry.page_panel_register(
        "relationship.scores",
        registry.template_panel(
            "metrics/partials/scores_panel.html", metrics_scores.relationship_scores_panel
        ),
    )
    registry.page_panel_register(
        "relationship.pulse_trend",
        lambda context, pulses: metrics_scores.pulse_sparkline(pulses),
    )
    # Trust over time: the snapshots as lines, the events that moved them below.
    for source in BUILT_IN_SOURCES:
        registry.timeline_source_register(source)
    registry.page_panel_register(
        "stakeholder.history",
        registry.template_panel(
            "metrics/partials/score_history.html", score_history.stakeholder_history_panel
        ),
    )
    registry.page_panel_register(
        "relationship.history",
        registry.template_panel(
            "metrics/partials/score_history.html", score_history.relationship_history_panel
        ),
    )
